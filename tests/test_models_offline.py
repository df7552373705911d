"""Offline means offline: missing weights raise WeightsMissingError (exit 3) naming the download
command, and nothing ever opens a socket."""

from __future__ import annotations

import dataclasses

import models_tiny
import pytest

from vidagent.errors import WeightsMissingError
from vidagent.models import registry
from vidagent.profiles import PROFILES

no_network = models_tiny.no_network  # the fixture, shared by the model tests


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("VIDAGENT_HOME", str(tmp_path / "home"))
    registry.clear_cache()
    yield
    registry.clear_cache()


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_missing_detector_weights_offline(name, empty_caches, no_network):
    if PROFILES[name].detector.backend == "groundingdino":
        pytest.importorskip("groundingdino")
    with pytest.raises(WeightsMissingError) as e:
        registry.load_detector(name, offline=True)
    assert e.value.exit_code == 3
    assert f"vidagent models download --profile {name}" in str(e.value)
    assert no_network == []


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_missing_segmenter_weights_offline(name, empty_caches, no_network):
    with pytest.raises(WeightsMissingError) as e:
        registry.load_segmenter(name, offline=True)
    assert f"vidagent models download --profile {name}" in str(e.value)
    assert no_network == []


def test_hf_segmenter_missing_offline(empty_caches, no_network):
    cpu = PROFILES["cpu"]
    p = dataclasses.replace(
        cpu,
        segmenter=dataclasses.replace(cpu.segmenter, backend="hf", model="facebook/sam-vit-base"),
    )
    with pytest.raises(WeightsMissingError, match="facebook/sam-vit-base"):
        registry.load_segmenter(p, offline=True)
    assert no_network == []


def test_no_network_fixture_catches_a_connection(no_network):
    import socket

    with pytest.raises(OSError):
        socket.create_connection(("huggingface.co", 443), timeout=1)
    assert no_network


@pytest.mark.parametrize("name", ["gpu", "gpu-small"])
def test_llm_and_video_model_name_the_profile_in_use(name, empty_caches, no_network):
    """Offline without weights, the language model and the video propagator name the
    ``models download`` command of the profile the agent runs (not the default one)."""
    from vidagent.models import llm as llm_mod
    from vidagent.pipeline import Agent

    from vidagent.tracking.config import TrackerConfig
    from vidagent.tracking.engines import EngineContext, engine_for

    llm_mod.clear_cache()
    agent = Agent(profile=name, device="cpu", offline=True, progress=False)
    profile = PROFILES[name]
    engine = engine_for(profile)
    ctx = EngineContext(profile, None, TrackerConfig(), offline=True, device="cpu")
    for load in (lambda: agent.llm, lambda: engine.build(ctx)):
        with pytest.raises(WeightsMissingError) as e:
            load()
        assert f"vidagent models download --profile {name}" in str(e.value)
    assert no_network == []
