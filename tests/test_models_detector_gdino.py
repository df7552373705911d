"""groundingdino-py backend (the 'groundingdino' extra): the original code built tiny through the
transformers-5 compatibility layer, saved as {"model": state_dict} like the released .pth,
loaded strictly through the registry, checked against groundingdino.util.inference.predict."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

pytest.importorskip("groundingdino")
warnings.filterwarnings("ignore", category=FutureWarning)  # timm's old import paths

import models_tiny
from models_tiny import (
    random_image,
    save_tiny_gdino,
    save_tiny_text_encoder,
    write_tiny_gdino_config,
)

from vidagent.models import registry
from vidagent.models.detector_gdino import OriginalGroundingDino, load_groundingdino
from vidagent.models.weights import CheckpointError
from vidagent.profiles import PROFILES

no_network = models_tiny.no_network  # the fixture, shared by the model tests


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("gdino")
    text = save_tiny_text_encoder(d / "bert")
    config = write_tiny_gdino_config(d / "tiny_cfg.py")
    ckpt = save_tiny_gdino(d / "gdino_tiny.pth", config, text)
    return ckpt, config, text


@pytest.fixture
def det(files, no_network):
    ckpt, config, text = files
    orig = PROFILES["original"]
    spec = dataclasses.replace(
        orig.detector,
        model=str(ckpt),
        config=str(config),
        text_encoder=str(text),
        short_side=128,
        max_side=200,
        nms_iou=None,
        max_boxes=None,
    )
    registry.clear_cache()
    d = registry.load_detector(dataclasses.replace(orig, detector=spec), offline=True)
    yield d
    registry.clear_cache()
    assert no_network == []


def test_parity_with_groundingdino_predict(det):
    from groundingdino.util.inference import predict

    assert isinstance(det, OriginalGroundingDino)
    image = random_image()
    ours = det.detect(image, ["dog", "red ball"], box_threshold=0.3, text_threshold=0.0)
    boxes, logits, _ = predict(
        det.model, det.preprocess(image), "dog . red ball .", 0.3, 0.0, device="cpu"
    )
    assert 0 < len(ours) == len(boxes)
    order = torch.argsort(logits, descending=True, stable=True)
    b = boxes[order].numpy()
    xyxy = np.stack(
        [
            b[:, 0] - b[:, 2] / 2,
            b[:, 1] - b[:, 3] / 2,
            b[:, 0] + b[:, 2] / 2,
            b[:, 1] + b[:, 3] / 2,
        ],
        1,
    ) * [160, 120, 160, 120]
    np.testing.assert_allclose(ours.scores, logits[order].numpy(), atol=1e-4)
    np.testing.assert_allclose(ours.boxes, xyxy.clip(0, [160, 120, 160, 120]), atol=1e-3)

    # labels: predict lists every word above text_threshold; ours is one phrase among them
    hi = det.detect(image, ["dog", "red ball"], box_threshold=0.3, text_threshold=0.3)
    _, lg, ph = predict(
        det.model, det.preprocess(image), "dog . red ball .", 0.3, 0.3, device="cpu"
    )
    by_score = {round(float(s), 5): p for s, p in zip(lg, ph)}
    assert len(hi) > 0
    for s, lab in zip(hi.scores, hi.labels):
        assert lab in ("dog", "red ball")
        assert set(lab.split()) & set(by_score[round(float(s), 5)].split())


def test_both_phrases_can_win_boxes(det):
    d = det.detect(
        random_image(seed=3), ["dog", "red ball", "cat"], box_threshold=0.0, text_threshold=0.0
    )
    assert set(d.labels) <= {"dog", "red ball", "cat"}
    assert len(set(d.labels)) >= 2


def test_compat_bert_matches_transformers_bert(files):
    from transformers import BertModel

    from vidagent.models.gdino_compat import CompatBertWarper, build_text_encoder

    _, _, text = files
    torch.manual_seed(0)
    bert = build_text_encoder(text).eval()
    wrapped = CompatBertWarper(bert)
    ids = torch.tensor([[2, 7, 5, 8, 9, 5, 3, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 0]])
    with torch.no_grad():
        ref = BertModel.forward(bert, input_ids=ids, attention_mask=mask).last_hidden_state
        ours = wrapped(input_ids=ids, attention_mask=mask)["last_hidden_state"]
        # a (B, L, L) mask equal to the 2-D one broadcast gives the same answer
        ours3 = wrapped(input_ids=ids, attention_mask=mask[:, None, :].expand(1, 8, 8))[
            "last_hidden_state"
        ]
    np.testing.assert_allclose(ours[0, :7], ref[0, :7], atol=1e-5)
    np.testing.assert_allclose(ours3, ours, atol=1e-6)


def test_strict_loading_lists_keys_and_ignores_only_the_known_extras(files, tmp_path):
    ckpt, config, text = files
    sd = torch.load(ckpt, weights_only=True)["model"]
    ok = {f"module.{k}": v for k, v in sd.items()}  # DataParallel prefix, as some releases have
    ok["label_enc.weight"] = torch.zeros(2001, 256)  # training-only extra of the released files
    good = tmp_path / "good.pth"
    torch.save({"model": ok}, good)
    assert load_groundingdino(good, config, text) is not None

    bad = dict(sd)
    bad.pop("feat_map.weight")
    bad["transformer.extra.bias"] = torch.zeros(3)
    p = tmp_path / "bad.pth"
    torch.save({"model": bad}, p)
    with pytest.raises(CheckpointError) as e:
        load_groundingdino(p, config, text)
    assert "feat_map.weight" in str(e.value) and "transformer.extra.bias" in str(e.value)
