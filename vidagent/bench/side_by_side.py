"""Helpers of the engine speed scripts (scripts/runtime_speed.py, int8_speed.py,
openvino_speed.py): a test frame, calls timed in turn, and the report they print."""

from __future__ import annotations

import json
import statistics
import time

import numpy as np


def frame(h: int = 480, w: int = 854, seed: int = 0) -> np.ndarray:
    """The first frame of the synthetic ``default_scene`` at (h, w): (H, W, 3) uint8 RGB."""
    from vidagent.testing.scenes import default_scene

    return default_scene(num_frames=1, height=h, width=w, seed=seed).frames[0]


def interleaved(fns: dict, rounds: int) -> dict:
    """Seconds per call of each of ``fns``, run in turn (A B C A B C ...) ``rounds`` times:
    {name: {"median_s", "runs_s"}}."""
    times: dict = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: {"median_s": round(statistics.median(v), 3), "runs_s": [round(x, 3) for x in v]}
            for k, v in times.items()}  # fmt: skip


def report(res: dict, as_json: bool) -> None:
    """Print a script's results: one JSON object, or one line per entry (dicts indented)."""
    if as_json:
        print(json.dumps(res))
        return
    for k, v in res.items():
        print(k, json.dumps(v, indent=1) if isinstance(v, dict) else v)
