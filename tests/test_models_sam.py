"""segment_anything backend: a tiny real-architecture Sam saved as a .pth state dict, loaded
strictly through the registry, checked against SamPredictor; reduced input sizes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from models_tiny import random_image, save_tiny_sam, tiny_sam_arch

from vidagent.models import registry
from vidagent.models.segmenter_sam import SAM_ARCHS, SamSegmenter, build_sam, load_sam
from vidagent.models.weights import CheckpointError
from vidagent.profiles import PROFILES

BOXES = np.array([[10, 10, 60, 50], [30, 20, 110, 80], [0, 0, 120, 90]], np.float32)
POINTS = np.array([[[30, 30], [50, 40]], [[70, 50], [10, 10]], [[60, 45], [100, 80]]], np.float32)
LABELS = np.array([[1, 0], [1, 1], [1, 0]])


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return save_tiny_sam(tmp_path_factory.mktemp("sam") / "sam_tiny.pth", input_size=256)


@pytest.fixture
def seg(ckpt, monkeypatch):
    monkeypatch.setitem(SAM_ARCHS, "tiny", tiny_sam_arch())
    cpu = PROFILES["cpu"]
    # fp32: compared with SamPredictor at float tolerance (int8: tests/test_models_accelerate.py)
    spec = dataclasses.replace(cpu.segmenter, model="tiny", checkpoint=str(ckpt), input_size=256,
                               precision="fp32")
    registry.clear_cache()
    s = registry.load_segmenter(dataclasses.replace(cpu, segmenter=spec), offline=True)
    yield s
    registry.clear_cache()


@pytest.mark.parametrize("multimask", [True, False])
def test_parity_with_sam_predictor(seg, ckpt, multimask):
    from segment_anything import SamPredictor

    assert isinstance(seg, SamSegmenter) and not seg.is_image_set
    image = random_image(90, 120)
    seg.set_image(image)
    masks, quality = seg.predict(
        boxes=BOXES, points=POINTS, point_labels=LABELS, multimask=multimask
    )
    assert masks.shape == (3, 90, 120) and masks.dtype == bool and quality.dtype == np.float32

    ref_model = build_sam(tiny_sam_arch(), 256)
    ref_model.load_state_dict(torch.load(ckpt, weights_only=True))
    ref = SamPredictor(ref_model)
    ref.set_image(image)
    for i in range(3):
        m, q, _ = ref.predict(
            point_coords=POINTS[i], point_labels=LABELS[i], box=BOXES[i], multimask_output=multimask
        )
        j = int(q.argmax())
        np.testing.assert_allclose(quality[i], q[j], atol=1e-4)
        assert (masks[i] == m[j]).mean() > 0.999  # equal but for pixels on the threshold
        assert masks[i].any()


def test_boxes_only_points_only_and_empty(seg):
    seg.set_image(random_image(90, 120))
    m1, q1 = seg.predict(boxes=BOXES)
    m2, q2 = seg.predict(points=POINTS, point_labels=LABELS)
    assert m1.shape == m2.shape == (3, 90, 120) and q1.shape == q2.shape == (3,)
    assert not np.array_equal(m1, m2)
    m0, q0 = seg.predict(boxes=np.zeros((0, 4)))
    assert m0.shape == (0, 90, 120) and q0.shape == (0,)
    # batching in chunks gives the same answer as one call
    seg.max_batch = 2
    m3, q3 = seg.predict(boxes=BOXES)
    np.testing.assert_array_equal(m1, m3)
    np.testing.assert_allclose(q1, q3, atol=1e-6)


def test_best_of_multimask_is_the_highest_predicted_quality(seg):
    seg.set_image(random_image(90, 120))
    _, q_multi = seg.predict(boxes=BOXES, multimask=True)
    # the selected quality is the maximum of the three candidates the decoder scored
    st = seg._state
    with torch.no_grad():
        b = seg.predictor.transform.apply_boxes_torch(torch.as_tensor(BOXES), st.original_size)
        sp, de = seg.model.prompt_encoder(points=None, boxes=b, masks=None)
        _, iou = seg.model.mask_decoder(
            st.features, seg.model.prompt_encoder.get_dense_pe(), sp, de, True
        )
    np.testing.assert_allclose(q_multi, iou.max(1).values.numpy(), atol=1e-6)


def test_predict_before_set_image_names_the_method(seg):
    with pytest.raises(RuntimeError, match="set_image"):
        seg.predict(boxes=BOXES)
    seg.set_image(random_image(40, 40))
    with pytest.raises(ValueError, match="point_labels"):
        seg.predict(points=POINTS)


def test_reduced_input_size_interpolates_positional_embeddings(ckpt):
    small = load_sam(ckpt, tiny_sam_arch(), input_size=128)
    assert small.image_encoder.pos_embed.shape[1:3] == (8, 8)
    s = SamSegmenter(small)
    s.set_image(random_image(90, 120))
    masks, q = s.predict(boxes=BOXES)
    assert masks.shape == (3, 90, 120) and np.isfinite(q).all()
    # a wrong architecture still fails: only resolution-dependent tensors are adapted
    with pytest.raises(CheckpointError):
        load_sam(ckpt, dataclasses.replace(tiny_sam_arch(), depth=3), input_size=128)


def test_strict_loading_lists_every_missing_and_unexpected_key(ckpt, tmp_path):
    sd = torch.load(ckpt, weights_only=True)
    sd.pop("mask_decoder.iou_token.weight")
    sd.pop("image_encoder.neck.0.weight")
    sd["image_encoder.extra.weight"] = torch.zeros(1)
    bad = tmp_path / "bad.pth"
    torch.save(sd, bad)
    with pytest.raises(CheckpointError) as e:
        load_sam(bad, tiny_sam_arch(), 256)
    msg = str(e.value)
    for k in (
        "mask_decoder.iou_token.weight",
        "image_encoder.neck.0.weight",
        "image_encoder.extra.weight",
    ):
        assert k in msg
    assert "missing keys (2)" in msg and "unexpected keys (1)" in msg


def test_checkpoints_are_read_with_weights_only(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("code ran",))

    p = tmp_path / "evil.pth"
    with open(p, "wb") as f:
        pickle.dump({"x": Evil()}, f)
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_sam(p, tiny_sam_arch(), 256)


def test_safetensors_checkpoints_load_too(ckpt, tmp_path):
    from safetensors.torch import save_file

    sd = torch.load(ckpt, weights_only=True)
    st = tmp_path / "sam.safetensors"
    save_file({k: v.contiguous() for k, v in sd.items()}, st)
    a, b = (
        SamSegmenter(load_sam(st, tiny_sam_arch(), 256)),
        SamSegmenter(load_sam(ckpt, tiny_sam_arch(), 256)),
    )
    img = random_image(64, 64)
    a.set_image(img)
    b.set_image(img)
    np.testing.assert_array_equal(a.predict(boxes=BOXES[:1])[0], b.predict(boxes=BOXES[:1])[0])


def test_box_prompts_use_the_single_mask_output_by_default(seg, ckpt):
    """A box is an unambiguous prompt: by default (every profile) the segmenter returns SAM's
    single-mask output for it, as SamPredictor does with ``multimask_output=False``; the profile's
    ``box_multimask`` switches to the best of three. Point prompts keep three masks."""
    from segment_anything import SamPredictor

    assert all(p.segmenter.box_multimask is False for p in PROFILES.values())
    assert seg.box_multimask is False
    image = random_image(90, 120)
    seg.set_image(image)
    default, q_default = seg.predict(boxes=BOXES)
    single, q_single = seg.predict(boxes=BOXES, multimask=False)
    multi, q_multi = seg.predict(boxes=BOXES, multimask=True)
    np.testing.assert_array_equal(default, single)
    np.testing.assert_allclose(q_default, q_single)
    assert not np.allclose(q_single, q_multi)  # the two outputs differ on this random model
    ref_model = build_sam(tiny_sam_arch(), 256)
    ref_model.load_state_dict(torch.load(ckpt, weights_only=True))
    ref = SamPredictor(ref_model)
    ref.set_image(image)
    m, q, _ = ref.predict(box=BOXES[0], multimask_output=False)
    assert (default[0] == m[0]).mean() > 0.999
    _, q_points = seg.predict(points=POINTS, point_labels=LABELS)
    _, q_points3 = seg.predict(points=POINTS, point_labels=LABELS, multimask=True)
    np.testing.assert_allclose(q_points, q_points3)


def test_box_multimask_is_a_profile_setting(ckpt, monkeypatch):
    monkeypatch.setitem(SAM_ARCHS, "tiny", tiny_sam_arch())
    cpu = PROFILES["cpu"]
    spec = dataclasses.replace(
        cpu.segmenter, model="tiny", checkpoint=str(ckpt), input_size=256, box_multimask=True
    )
    registry.clear_cache()
    try:
        s = registry.load_segmenter(dataclasses.replace(cpu, segmenter=spec), offline=True)
        assert s.box_multimask is True
        s.set_image(random_image(90, 120))
        _, q = s.predict(boxes=BOXES)
        _, q3 = s.predict(boxes=BOXES, multimask=True)
        np.testing.assert_allclose(q, q3)
    finally:
        registry.clear_cache()


def test_the_tracker_leaves_the_box_choice_to_the_segmenter():
    """The tracker and the SAM-from-flow propagator prompt with boxes without forcing
    ``multimask``, so the profile's setting decides."""
    from vidagent.testing.doubles import SyntheticDetector, SyntheticSegmenter
    from vidagent.testing.scenes import default_scene
    from vidagent.tracking import Tracker, TrackerConfig

    seen = []

    class Spy(SyntheticSegmenter):
        def predict(self, boxes=None, points=None, point_labels=None, multimask=None):
            seen.append(multimask)
            return super().predict(boxes, points, point_labels, multimask)

    video = default_scene(num_frames=8, height=64, width=96, seed=0)
    tracker = Tracker(TrackerConfig(detect_every=2, stride=1), SyntheticDetector(video), Spy(video))
    phrases = sorted(set(video.labels.values()))
    tracker.run(enumerate(video.frames), video.num_frames, phrases, lambda i, m: None)
    assert seen and all(m is None for m in seen)
