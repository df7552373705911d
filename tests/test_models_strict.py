"""Strict loading of every profile's checkpoints, on tiny checkpoints that carry the real key names.

Where the real names come from (transformers sources read for this):
- Grounding DINO (``IDEA-Research/grounding-dino-tiny`` / ``-base``): the conversion script
  ``convert_grounding_dino_to_hf.py`` renames every ``bert.*`` key of the original checkpoint to
  ``model.text_backbone.*`` (so the original ``bert.pooler.dense.*`` becomes
  ``model.text_backbone.pooler.dense.*``, while the model builds its BERT with
  ``add_pooling_layer=False``), and ``save_pretrained`` of transformers 5 writes the Swin
  backbone under the hub names (``...encoder.layers.N.blocks.M.attention.self.query.weight``).
  Swin's ``relative_position_index`` buffers were saved by older versions; the class declares
  ``.*attention\\.self\\.relative_position_index`` ignorable.
- SAM 2.1 / EdgeTAM video (``convert_sam2_video_to_hf.py``, ``convert_edgetam_video_to_hf.py``):
  the converted state dict is loaded with ``strict=True`` into the video model and saved with
  ``save_pretrained``: the checkpoint holds exactly the model's own keys.
- SAM (``segment_anything``): ``build_sam`` loads the released ``.pth`` with a strict
  ``load_state_dict``: exactly the ``Sam`` module's keys.
"""

from __future__ import annotations

import logging
import shutil

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from models_tiny import random_image, save_tiny_hf_gdino, save_tiny_hf_sam, save_tiny_sam  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

from vidagent.models.weights import CheckpointError  # noqa: E402


def _rewrite(folder, edit):
    sd = load_file(folder / "model.safetensors")
    edit(sd)
    save_file(sd, folder / "model.safetensors", metadata={"format": "pt"})


@pytest.fixture(scope="module")
def gdino_dir(tmp_path_factory):
    return save_tiny_hf_gdino(tmp_path_factory.mktemp("gdino"))


def _swin_blocks(sd):
    """(layer, block) of every Swin block in a saved Grounding DINO state dict."""
    out = set()
    for k in sd:
        if ".encoder.layers." in k and ".blocks." in k and k.startswith("model.backbone."):
            parts = k.split(".")
            i = parts.index("layers")
            out.add((int(parts[i + 1]), int(parts[i + 3])))
    return sorted(out)


def _as_released(sd, hidden: int = 16, window: int = 7) -> list[str]:
    """Add the keys the released Grounding DINO checkpoints carry beyond the model's own: the
    BERT pooler and the Swin relative position index buffers. Returns the names added."""
    added = {
        "model.text_backbone.pooler.dense.weight": torch.zeros(hidden, hidden),
        "model.text_backbone.pooler.dense.bias": torch.zeros(hidden),
    }
    n = (2 * window - 1) ** 2
    for layer, block in _swin_blocks(sd):
        name = (
            f"model.backbone.conv_encoder.model.encoder.layers.{layer}.blocks.{block}"
            ".attention.self.relative_position_index"
        )
        added[name] = torch.zeros(window * window, window * window, dtype=torch.long) % n
    sd.update(added)
    return sorted(added)


def test_grounding_dino_with_the_released_extra_keys_loads_and_says_what_it_ignored(
    gdino_dir, tmp_path, caplog
):
    from vidagent.models.detector_hf import HFGroundingDino

    folder = tmp_path / "released"
    shutil.copytree(gdino_dir, folder)
    added: list[str] = []
    _rewrite(folder, lambda sd: added.extend(_as_released(sd)))
    assert any("relative_position_index" in k for k in added)
    with caplog.at_level(logging.INFO, logger="vidagent.models.weights"):
        det = HFGroundingDino.from_pretrained(folder)
    assert det.model.vidagent_ignored_keys == added
    assert "text_backbone.pooler.dense.weight" in caplog.text
    assert len(det.detect(random_image(), ["dog"], box_threshold=0.0)) > 0


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda sd: sd.pop("model.text_projection.weight"), "missing keys"),
        (lambda sd: sd.update({"model.encoder.bogus.weight": torch.zeros(2)}), "unexpected keys"),
        (
            lambda sd: sd.update({"model.text_projection.weight": torch.zeros(3, 3)}),
            "mis-shaped keys",
        ),
        # a key under a module the model does have is not "declared absent"
        (
            lambda sd: sd.update({"model.text_backbone.encoder.extra.weight": torch.zeros(2)}),
            "unexpected keys",
        ),
    ],
    ids=["missing", "unexpected", "mis-shaped", "unexpected-under-a-real-module"],
)
def test_grounding_dino_refuses_silent_random_weights(gdino_dir, tmp_path, edit, needle):
    from vidagent.models.detector_hf import HFGroundingDino

    folder = tmp_path / "bad"
    shutil.copytree(gdino_dir, folder)
    _rewrite(folder, lambda sd: (_as_released(sd), edit(sd)))
    with pytest.raises(CheckpointError) as e:
        HFGroundingDino.from_pretrained(folder)
    assert needle in str(e.value)


def test_hf_sam_loads_strictly(tmp_path):
    from vidagent.models.segmenter_hf import HFSamSegmenter

    folder = save_tiny_hf_sam(tmp_path / "sam")
    assert HFSamSegmenter.from_pretrained(folder).model.vidagent_ignored_keys == []
    _rewrite(folder, lambda sd: sd.update({"mask_decoder.extra": torch.zeros(1)}))
    with pytest.raises(CheckpointError, match="mask_decoder.extra"):
        HFSamSegmenter.from_pretrained(folder)


def test_segment_anything_checkpoint_loads_strictly(tmp_path):
    from models_tiny import tiny_sam_arch

    from vidagent.models.segmenter_sam import SamSegmenter

    ckpt = save_tiny_sam(tmp_path / "sam.pth")
    assert SamSegmenter.from_checkpoint(ckpt, tiny_sam_arch(), 256).is_image_set is False
    sd = torch.load(ckpt, weights_only=True)
    sd.pop("mask_decoder.iou_token.weight")
    torch.save(sd, ckpt)
    with pytest.raises(CheckpointError, match="iou_token"):
        SamSegmenter.from_checkpoint(ckpt, tiny_sam_arch(), 256)


@pytest.fixture(scope="module")
def sam2_dir(tmp_path_factory):
    from test_tracking_sam2 import _tiny_sam2

    return _tiny_sam2(tmp_path_factory.mktemp("sam2"))


def test_sam2_video_propagator_loads_strictly(sam2_dir, tmp_path):
    from vidagent.tracking.sam2_video import Sam2VideoPropagator

    prop = Sam2VideoPropagator.from_pretrained(sam2_dir)
    assert prop.model.vidagent_ignored_keys == []
    for edit, needle in [
        (lambda sd: sd.update({"mask_decoder.bogus": torch.zeros(1)}), "unexpected keys"),
        (lambda sd: sd.pop("no_memory_embedding"), "missing keys"),
    ]:
        folder = tmp_path / needle.replace(" ", "_")
        shutil.copytree(sam2_dir, folder)
        _rewrite(folder, edit)
        with pytest.raises(CheckpointError, match=needle):
            Sam2VideoPropagator.from_pretrained(folder)


def test_edgetam_video_checkpoint_loads_strictly(tmp_path):
    """The gpu-small profile's video model: the released EdgeTAM architecture (13.9 M parameters,
    a timm RepViT image encoder; about 10 s to build with random weights), saved and loaded back
    strictly. Needs timm, a core dependency."""
    from models_tiny import edgetam_video_config
    from transformers import EdgeTamVideoModel

    from vidagent.tracking.sam2_video import Sam2VideoPropagator

    torch.manual_seed(0)
    EdgeTamVideoModel(edgetam_video_config()).save_pretrained(tmp_path)
    from transformers import Sam2ImageProcessor, Sam2VideoProcessor, Sam2VideoVideoProcessor

    Sam2VideoProcessor(
        image_processor=Sam2ImageProcessor(), video_processor=Sam2VideoVideoProcessor()
    ).save_pretrained(tmp_path)
    prop = Sam2VideoPropagator.from_pretrained(tmp_path)
    assert type(prop.model).__name__ == "EdgeTamVideoModel"
    assert type(prop.model.vision_encoder.backbone).__name__ == "TimmWrapperModel"
    _rewrite(tmp_path, lambda sd: sd.pop(sorted(sd)[0]))
    with pytest.raises(CheckpointError, match="missing keys"):
        Sam2VideoPropagator.from_pretrained(tmp_path)
