"""How good a keyframe schedule is: the tracker with simulated detector and SAM
(``vidagent.testing.doubles``) on synthetic scenes, scored against the exact ground truth,
beside the reference of detector + SAM on every frame. Used by ``vidagent bench`` and
``scripts/quality.py``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidagent.testing.doubles import SyntheticDetector, SyntheticSegmenter
from vidagent.testing.quality import score_scene
from vidagent.testing.scenes import default_scene


@dataclass
class ScheduleScore:
    """One schedule on a set of scenes: mean J and what it ran (totals over the scenes)."""

    name: str
    j: float
    detector_calls: int
    sam_embeddings: int
    frames: int
    reasons: dict | None = None

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "mean_j": round(self.j, 4),
            "detector_calls": self.detector_calls,
            "sam_embeddings": self.sam_embeddings,
            "frames": self.frames,
            "reasons": self.reasons or {},
        }


def score_schedule(name: str, tracker_table: dict, seeds=(0, 1), num_frames: int = 150,
                   height: int = 240, width: int = 320, fps: float = 30.0) -> ScheduleScore:  # fmt: skip
    """Mean J of the tracker with ``tracker_table`` settings over ``default_scene`` seeds, with a
    simulated detector (boxes jittered 2 px) and SAM (masks +-1..2 px)."""
    from vidagent.tracking.config import TrackerConfig
    from vidagent.tracking.tracker import Tracker

    js, det_calls, emb, frames, reasons = [], 0, 0, 0, {}
    for seed in seeds:
        scene = default_scene(num_frames=num_frames, height=height, width=width, seed=seed,
                              fps=fps)  # fmt: skip
        det = SyntheticDetector(scene, jitter=2.0, seed=seed)
        seg = SyntheticSegmenter(scene, radius=2, seed=seed)
        tracker = Tracker(TrackerConfig.from_dict(tracker_table), det, seg)
        q = score_scene(scene, tracker)
        js.append(q.j)
        det_calls += len(det.frames_seen)
        emb += seg.embeddings
        frames += scene.num_frames
        for k, v in tracker.schedule.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    return ScheduleScore(name, float(np.mean(js)), det_calls, emb, frames, reasons)


def compare_schedules(tracker_table: dict, seeds=(0, 1), num_frames: int = 150,
                      **kw) -> list[ScheduleScore]:  # fmt: skip
    """The profile's tracker settings with the fixed schedule, with the adaptive one (its
    ``schedule`` table, or the defaults), and the per-frame reference."""
    base = {k: v for k, v in tracker_table.items() if k != "schedule"}
    adaptive = dict(tracker_table.get("schedule") or {}, kind="adaptive")
    rows = [
        ("detector + SAM on every frame", {**base, "detect_every": 1, "stride": 1}),
        (f"fixed: detect every {base.get('detect_every', 5)}, SAM every {base.get('stride', 1)}",
         {**base, "schedule": {"kind": "fixed"}}),
        ("adaptive", {**base, "schedule": adaptive}),
    ]  # fmt: skip
    return [score_schedule(n, t, seeds, num_frames, **kw) for n, t in rows]
