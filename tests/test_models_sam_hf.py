"""transformers SAM backend: a tiny SamModel saved with save_pretrained, loaded through the
registry, checked against the model's own forward + the processor's post-processing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from models_tiny import random_image, save_tiny_hf_sam

from vidagent.models import registry
from vidagent.models.segmenter_hf import HFSamSegmenter
from vidagent.profiles import PROFILES

BOXES = np.array([[10, 10, 60, 50], [30, 20, 110, 80]], np.float32)
POINTS = np.array([[[30, 30]], [[70, 50]]], np.float32)
LABELS = np.array([[1], [1]])


@pytest.fixture(scope="module")
def sam_dir(tmp_path_factory):
    return save_tiny_hf_sam(tmp_path_factory.mktemp("hfsam"))


@pytest.fixture
def seg(sam_dir):
    cpu = PROFILES["cpu"]
    spec = dataclasses.replace(cpu.segmenter, backend="hf", model=str(sam_dir), input_size=256)
    registry.clear_cache()
    s = registry.load_segmenter(dataclasses.replace(cpu, segmenter=spec), offline=True)
    yield s
    registry.clear_cache()


@pytest.mark.parametrize("multimask", [True, False])
def test_matches_the_model_called_directly(seg, multimask):
    assert isinstance(seg, HFSamSegmenter)
    image = random_image(90, 120)
    seg.set_image(image)
    masks, quality = seg.predict(boxes=BOXES, multimask=multimask)
    assert masks.shape == (2, 90, 120) and masks.dtype == bool

    proc, model = seg.processor, seg.model
    inputs = proc(images=image, input_boxes=[BOXES.tolist()], return_tensors="pt")
    with torch.no_grad():
        out = model(**inputs, multimask_output=multimask)
    ref = proc.post_process_masks(
        out.pred_masks, inputs["original_sizes"], inputs["reshaped_input_sizes"]
    )[0]
    best = out.iou_scores[0].argmax(1)
    for i in range(2):
        np.testing.assert_allclose(quality[i], out.iou_scores[0, i, best[i]].item(), atol=1e-4)
        assert (masks[i] == ref[i, best[i]].numpy()).mean() > 0.999


def test_points_boxes_and_errors(seg):
    with pytest.raises(RuntimeError, match="set_image"):
        seg.predict(boxes=BOXES)
    seg.set_image(random_image(90, 120))
    m, q = seg.predict(points=POINTS, point_labels=LABELS)
    assert m.shape == (2, 90, 120) and q.shape == (2,)
    m2, _ = seg.predict(boxes=BOXES, points=POINTS, point_labels=LABELS)
    assert m2.shape == (2, 90, 120)
    assert seg.predict(boxes=np.zeros((0, 4)))[0].shape == (0, 90, 120)


@pytest.mark.slow
def test_sam2_image_side_through_the_same_backend(tmp_path):
    """SAM 2 (default Hiera config, random weights; ~30 s on 2 busy cores)."""
    from transformers import Sam2Config, Sam2ImageProcessor, Sam2Model, Sam2Processor

    torch.manual_seed(0)
    Sam2Model(Sam2Config()).eval().save_pretrained(tmp_path)
    Sam2Processor(image_processor=Sam2ImageProcessor()).save_pretrained(tmp_path)
    seg = HFSamSegmenter.from_pretrained(tmp_path)
    assert seg.kind == "sam2"
    seg.set_image(random_image(90, 120))
    masks, q = seg.predict(boxes=BOXES)
    assert masks.shape == (2, 90, 120) and q.shape == (2,) and np.isfinite(q).all()
    masks, q = seg.predict(points=POINTS, point_labels=LABELS, multimask=False)
    assert masks.shape == (2, 90, 120)
