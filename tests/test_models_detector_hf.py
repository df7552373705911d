"""transformers Grounding DINO backend: a tiny real-architecture model saved with save_pretrained,
loaded through the registry (local folder and hub cache, offline), checked against transformers'
own post-processing."""

from __future__ import annotations

import dataclasses
import re

import models_tiny
import numpy as np
import pytest
import torch
from models_tiny import put_in_hub_cache, random_image, save_tiny_hf_gdino

from vidagent.models import registry
from vidagent.models.detector_hf import HFGroundingDino
from vidagent.models.weights import CheckpointError
from vidagent.profiles import PROFILES

no_network = models_tiny.no_network  # the fixture, shared by the model tests


@pytest.fixture(scope="module")
def gdino_dir(tmp_path_factory):
    return save_tiny_hf_gdino(tmp_path_factory.mktemp("gdino"))


def _profile(model: str, **det):
    cpu = PROFILES["cpu"]
    spec = dataclasses.replace(cpu.detector, model=model, short_side=128, max_side=200, **det)
    return dataclasses.replace(cpu, detector=spec)


def test_parity_with_transformers_post_processing(gdino_dir):
    registry.clear_cache()
    det = registry.load_detector(
        _profile(str(gdino_dir), nms_iou=None, max_boxes=None), offline=True
    )
    assert isinstance(det, HFGroundingDino)
    image = random_image()
    phrases = ["dog", "red ball"]
    ours = det.detect(image, phrases, box_threshold=0.3, text_threshold=0.0)
    assert len(ours) > 3  # the thresholds keep a real mix of boxes

    proc, model = det.processor, det.model
    inputs = proc(
        images=image,
        text="dog. red ball.",
        size={"shortest_edge": 128, "longest_edge": 200},
        return_tensors="pt",
    )
    with torch.no_grad():
        out = model(**inputs)
    ref = proc.post_process_grounded_object_detection(
        out, inputs["input_ids"], threshold=0.3, text_threshold=0.0, target_sizes=[image.shape[:2]]
    )[0]
    order = torch.argsort(ref["scores"], descending=True, stable=True)
    ref_boxes = ref["boxes"][order].numpy().clip(0, [160, 120, 160, 120])
    np.testing.assert_allclose(ours.scores, ref["scores"][order].numpy(), atol=1e-4)
    np.testing.assert_allclose(ours.boxes, ref_boxes, atol=1e-4)

    # labels: the reference lists every token above text_threshold; ours is the phrase holding
    # the best of them, so it is always one of the phrases and is among the reference's words
    hi = det.detect(image, phrases, box_threshold=0.3, text_threshold=0.3)
    ref_hi = proc.post_process_grounded_object_detection(
        out, inputs["input_ids"], threshold=0.3, text_threshold=0.3, target_sizes=[image.shape[:2]]
    )[0]
    ref_scores = ref_hi["scores"].numpy()
    assert len(hi) > 0
    for s, lab in zip(hi.scores, hi.labels):
        assert lab in phrases
        k = int(np.abs(ref_scores - s).argmin())  # the profile's runtime agrees within 1e-4
        assert abs(ref_scores[k] - s) < 1e-4
        assert set(lab.split()) & set(re.findall(r"[a-z]+", ref_hi["text_labels"][k]))


def test_detect_respects_cap_thresholds_and_returns_original_pixels(gdino_dir):
    det = HFGroundingDino.from_pretrained(gdino_dir, short_side=96, max_side=160)
    image = random_image(90, 300)
    d = det.detect(image, "dog . cat", box_threshold=0.2, text_threshold=0.1, max_boxes=3)
    assert len(d) <= 3 and d.masks is None
    assert set(d.labels) <= {"dog", "cat"}
    assert (d.boxes[:, [0, 2]] <= 300).all() and (d.boxes[:, [1, 3]] <= 90).all()
    assert np.all(np.diff(d.scores) <= 0)
    assert len(det.detect(image, ["dog"], box_threshold=1.0)) == 0
    with pytest.raises(ValueError, match="uint8 RGB"):
        det.detect(image[..., 0], ["dog"])


def test_offline_load_from_the_hub_cache(gdino_dir, tmp_path, monkeypatch, no_network):
    cache = tmp_path / "hub"
    put_in_hub_cache(gdino_dir, cache, "someorg/tiny-gdino")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    registry.clear_cache()
    det = registry.load_detector(_profile("someorg/tiny-gdino"), offline=True)
    assert len(det.detect(random_image(), ["dog"], box_threshold=0.0)) > 0
    assert registry.load_detector(_profile("someorg/tiny-gdino"), offline=True) is det  # cached
    assert no_network == []


def test_strict_loading_lists_missing_and_unexpected_keys(gdino_dir, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    bad = tmp_path / "bad"
    shutil.copytree(gdino_dir, bad)
    sd = load_file(bad / "model.safetensors")
    dropped = "model.text_projection.weight"
    sd.pop(dropped)
    sd["model.bogus.weight"] = torch.zeros(2)
    save_file(sd, bad / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(CheckpointError) as e:
        HFGroundingDino.from_pretrained(bad)
    assert dropped in str(e.value) and "model.bogus.weight" in str(e.value)


def test_mm_grounding_dino_loads_the_same_way(tmp_path):
    from models_tiny import bert_tokenizer, tiny_bert_config
    from transformers import (
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
        MMGroundingDinoConfig,
        MMGroundingDinoForObjectDetection,
        SwinConfig,
    )

    backbone = SwinConfig(
        embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], window_size=7,
        out_features=["stage2", "stage3", "stage4"],
    )  # fmt: skip
    cfg = MMGroundingDinoConfig(
        backbone_config=backbone, text_config=tiny_bert_config(16), d_model=32, encoder_layers=1,
        decoder_layers=2, encoder_ffn_dim=16, decoder_ffn_dim=16, encoder_attention_heads=2,
        decoder_attention_heads=2, num_queries=30, encoder_n_points=1, decoder_n_points=1,
    )  # fmt: skip
    torch.manual_seed(0)
    MMGroundingDinoForObjectDetection(cfg).save_pretrained(tmp_path)
    GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(), tokenizer=bert_tokenizer()
    ).save_pretrained(tmp_path)
    det = registry.load_detector(_profile(str(tmp_path)), offline=True)
    assert type(det.model).__name__ == "MMGroundingDinoForObjectDetection"
    d = det.detect(random_image(), ["dog", "red ball"], box_threshold=0.0, text_threshold=0.0)
    assert len(d) > 0 and set(d.labels) <= {"dog", "red ball"}
