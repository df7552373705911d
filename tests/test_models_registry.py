"""The backend registries: a new detector or segmenter backend is one registry entry; profiles,
`vidagent models` and the pipeline pick it up unchanged."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from vidagent.models import registry
from vidagent.models.base import Detector, Segmenter
from vidagent.profiles import PROFILES
from vidagent.types import Detections


def test_every_profile_backend_is_registered():
    for p in PROFILES.values():
        assert p.detector.backend in registry.DETECTORS
        assert p.segmenter.backend in registry.SEGMENTERS


class _OneBox(Detector):
    def __init__(self, device):
        self.device = device

    def detect(self, image, phrases, box_threshold=None, text_threshold=None, max_boxes=None):
        return Detections(np.array([[0, 0, 4, 4]], np.float32), np.ones(1), [phrases[0]])


class _Filled(Segmenter):
    def __init__(self):
        self._shape = None

    @property
    def is_image_set(self):
        return self._shape is not None

    def set_image(self, image):
        self._shape = image.shape[:2]

    def predict(self, boxes=None, points=None, point_labels=None, multimask=None):
        return np.ones((len(boxes), *self._shape), bool), np.ones(len(boxes), np.float32)


@pytest.fixture
def extra_backends(monkeypatch):
    monkeypatch.setattr(registry, "DETECTORS", dict(registry.DETECTORS))
    monkeypatch.setattr(registry, "SEGMENTERS", dict(registry.SEGMENTERS))
    registry.register_detector(
        "onebox",
        lambda spec, name, offline, device: _OneBox(device),
        lambda spec: [registry.WeightRef(f"onebox table ({spec.model})", "local", spec.model)],
    )
    registry.register_segmenter("filled", lambda spec, name, offline, device: _Filled(), lambda spec: [])
    registry.clear_cache()
    yield
    registry.clear_cache()


def test_a_registered_backend_is_built_and_listed(extra_backends, tmp_path):
    cpu = PROFILES["cpu"]
    profile = dataclasses.replace(
        cpu,
        name="custom",
        detector=dataclasses.replace(cpu.detector, backend="onebox", model=str(tmp_path)),
        segmenter=dataclasses.replace(cpu.segmenter, backend="filled"),
    )
    det = registry.load_detector(profile, offline=True)
    seg = registry.load_segmenter(profile, offline=True)
    assert isinstance(det, _OneBox) and isinstance(seg, _Filled)
    assert registry.load_detector(profile, offline=True) is det  # cached like the others
    assert len(det.detect(np.zeros((8, 8, 3), np.uint8), ["dog"])) == 1
    refs = registry.profile_weights(profile)
    assert refs[0].what == f"onebox table ({tmp_path})" and refs[0].kind == "local"


def test_an_unknown_backend_names_the_known_ones():
    cpu = PROFILES["cpu"]
    profile = dataclasses.replace(cpu, detector=dataclasses.replace(cpu.detector, backend="nope"))
    registry.clear_cache()
    with pytest.raises(ValueError, match="unknown detector backend 'nope'; one of: groundingdino, hf"):
        registry.load_detector(profile, offline=True)
    with pytest.raises(ValueError, match="unknown detector backend"):
        registry.profile_weights(profile)
