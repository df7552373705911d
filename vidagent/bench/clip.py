"""The bench's clip: a generated synthetic scene written as mp4, and frames read back from it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def make_clip(path: str | Path, seconds: float, fps: float = 30.0, width: int = 854,
              height: int = 480, seed: int = 0) -> Path:
    """Write the synthetic benchmark clip (``vidagent.testing.scenes.default_scene``: 2 balls,
    2 boxes) as mp4."""
    from vidagent.testing.scenes import default_scene
    from vidagent.video import write_video

    n = max(2, round(seconds * fps))
    video = default_scene(num_frames=n, height=height, width=width, seed=seed, fps=fps)
    return Path(write_video(path, video.frames, fps, crf=12))


def read_frames(path: Path, indices: Sequence[int]) -> dict[int, np.ndarray]:
    from vidagent.video import open_video

    want = {int(i) for i in indices}
    out = {}
    for i, frame in open_video(path).frames():
        if i in want:
            out[i] = np.ascontiguousarray(frame)
        if len(out) == len(want):
            break
    return out


def sample_indices(num_frames: int, sample: int) -> list[int]:
    """``sample`` frame indices spread evenly over ``num_frames`` (first and last included)."""
    k = max(1, min(int(sample), num_frames))
    return sorted({round(x) for x in np.linspace(0, num_frames - 1, k)})
