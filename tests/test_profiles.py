"""Model profiles: names, defaults by device, every field filled."""

from __future__ import annotations

import dataclasses

import pytest

from vidagent.errors import InputError
from vidagent.profiles import PROFILES, DetectorSpec, Profile, SegmenterSpec, get_profile
from vidagent.tracking.engines import get_engine


def test_cpu_and_gpu_profiles_exist_and_no_test_profile_is_public():
    assert {"cpu", "gpu"} <= set(PROFILES)
    assert not any("tiny" in name or "test" in name for name in PROFILES)
    for name, p in PROFILES.items():
        assert p.name == name
        assert isinstance(p.detector, DetectorSpec) and isinstance(p.segmenter, SegmenterSpec)
        assert p.detector.backend in ("hf", "groundingdino")
        assert p.segmenter.backend in ("segment_anything", "hf")
        assert get_engine(p.propagator).name == p.propagator
        assert not get_engine(p.propagator).own_model or p.video_model
        assert 0 < p.detector.box_threshold < 1 and 0 < p.detector.text_threshold < 1
        assert p.detector.short_side <= p.detector.max_side
        assert p.segmenter.input_size % 16 == 0
        assert p.tracker["detect_every"] >= 1 and p.tracker["stride"] >= 1
        assert p.llm


def test_cpu_profile_is_small_and_gpu_profile_is_strong():
    cpu, gpu = PROFILES["cpu"], PROFILES["gpu"]
    assert cpu.detector.short_side < gpu.detector.short_side
    assert cpu.segmenter.input_size < gpu.segmenter.input_size
    assert cpu.llm == "smollm2-135m" and "Qwen2.5" in gpu.llm
    assert "base" in gpu.detector.model and gpu.segmenter.model == "vit_h"


def test_default_profile_follows_the_device(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_profile(None).name == "cpu"
    assert get_profile(None, "cuda").name == "gpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_profile(None).name == "gpu"
    assert get_profile(None, "cpu").name == "cpu"
    assert get_profile("cpu", "cuda").name == "cpu"


def test_unknown_profile_is_an_input_error_naming_the_choices():
    with pytest.raises(InputError, match="unknown profile 'huge'.*cpu.*gpu"):
        get_profile("huge")


def test_profiles_are_plain_data():
    d = PROFILES["cpu"].to_json()
    assert d["detector"]["model"] == "IDEA-Research/grounding-dino-tiny"
    assert d["tracker"]["detect_every"] == 30 and d["tracker"]["stride"] == 30
    assert isinstance(
        Profile(
            **{
                **d,
                "detector": DetectorSpec(**d["detector"]),
                "segmenter": SegmenterSpec(**d["segmenter"]),
            }
        ),
        Profile,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["cpu"].name = "x"


def _core_dependencies() -> set[str]:
    import re
    import tomllib
    from pathlib import Path

    data = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    return {re.split(r"[<>=!~\[ ;]", d, 1)[0].lower() for d in data["project"]["dependencies"]}


def test_a_plain_install_has_what_every_video_model_needs():
    """EdgeTAM's image encoder is a timm model (transformers' ``timm_wrapper``): a plain install
    (core dependencies only) must be able to build the gpu-small profile's video model."""
    from models_tiny import edgetam_video_config

    from vidagent.profiles import PROFILES

    edgetam = [p for p in PROFILES.values() if "edgetam" in (p.video_model or "").lower()]
    assert edgetam, "a profile uses EdgeTAM"
    assert edgetam_video_config().vision_config.backbone_config.model_type == "timm_wrapper"
    assert "timm" in _core_dependencies()


def test_cpu_profile_says_the_detector_input_size_it_runs_at():
    """The processor Grounding DINO runs with (transformers' own resize rule) turns a 16:9 frame
    into what the profile's description says."""
    import numpy as np
    from transformers import GroundingDinoImageProcessor

    from vidagent.profiles import PROFILES

    spec = PROFILES["cpu"].detector
    proc = GroundingDinoImageProcessor()
    size = {"shortest_edge": spec.short_side, "longest_edge": spec.max_side}
    frame = np.zeros((480, 854, 3), np.uint8)
    h, w = proc(images=frame, size=size, return_tensors="pt")["pixel_values"].shape[-2:]
    assert f"{h}x{w}" in PROFILES["cpu"].description or f"{w}x{h}" in PROFILES["cpu"].description
    assert (h, w) == (360, 640)


def test_cpu_profile_drops_the_last_frame_refresh_and_keeps_mask_reuse_off():
    from vidagent.tracking import TrackerConfig

    cfg = TrackerConfig.from_dict(PROFILES["cpu"].tracker)
    assert cfg.refresh_last is False
    assert cfg.reuse_box_iou is None  # costs J on held-out scenes (see the profile's comment)
    assert cfg.snap_reach == 0.0  # no J on its scenes, twice the tracker's time
