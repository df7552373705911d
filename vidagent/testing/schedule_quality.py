"""How good a keyframe schedule is: the tracker with simulated detector and SAM
(``vidagent.testing.doubles``) on synthetic scenes, scored against the exact ground truth,
beside the reference of detector + SAM on every frame. Used by ``vidagent bench`` and
``scripts/quality.py``.

Two scores per schedule: ``j``, the DAVIS mean J with one predicted id per object over the whole
clip (an id switch costs the frames after it), and ``mask_j``, the masks alone (objects matched
anew on every frame), which separates mask quality from identity. Seeds: ``DEV_SEEDS`` to tune
the schedule's thresholds on, ``HELD_OUT_SEEDS`` to report only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidagent.testing.doubles import SyntheticDetector, SyntheticSegmenter
from vidagent.evaluation import tracking_scores
from vidagent.testing.quality import track_scene
from vidagent.testing.scenes import default_scene

DEV_SEEDS = (0, 1, 2, 3)  # tune the schedule's thresholds on these
HELD_OUT_SEEDS = tuple(range(10, 18))  # report only (also what ``vidagent bench`` scores on)


@dataclass
class ScheduleScore:
    """One schedule on a set of scenes: mean J and what it ran (totals over the scenes)."""

    name: str
    j: float
    detector_calls: int
    sam_embeddings: int
    frames: int
    reasons: dict | None = None
    mask_j: float = float("nan")

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "mean_j": round(self.j, 4),
            "mask_j": round(self.mask_j, 4),
            "detector_calls": self.detector_calls,
            "sam_embeddings": self.sam_embeddings,
            "frames": self.frames,
            "reasons": self.reasons or {},
        }


def score_schedule(name: str, tracker_table: dict, seeds=(0, 1), num_frames: int = 150,
                   height: int = 240, width: int = 320, fps: float = 30.0,
                   scene=default_scene) -> ScheduleScore:  # fmt: skip
    """Mean J of the tracker with ``tracker_table`` settings over ``scene`` seeds (a scene
    family of ``vidagent.testing.scenes``: ``default_scene``, ``alt_scene``), with a simulated
    detector (boxes jittered 2 px) and SAM (masks +-1..2 px)."""
    from vidagent.tracking.config import TrackerConfig
    from vidagent.tracking.tracker import Tracker

    js, mjs, det_calls, emb, frames, reasons = [], [], 0, 0, 0, {}
    for seed in seeds:
        sc = scene(num_frames=num_frames, height=height, width=width, seed=seed, fps=fps)
        det = SyntheticDetector(sc, jitter=2.0, seed=seed)
        seg = SyntheticSegmenter(sc, radius=2, seed=seed)
        tracker = Tracker(TrackerConfig.from_dict(tracker_table), det, seg)
        pred = track_scene(sc, tracker)
        js.append(tracking_scores(pred, sc.label_maps)["J"])
        mjs.append(mask_j(pred, sc.label_maps))
        det_calls += len(det.frames_seen)
        emb += seg.embeddings
        frames += sc.num_frames
        for k, v in tracker.schedule.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    return ScheduleScore(name, float(np.mean(js)), det_calls, emb, frames, reasons,
                         float(np.mean(mjs)))


def mask_j(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean J of the masks without identity: on every frame the predicted ids are matched one
    to one to the reference objects visible there, anew (Hungarian on IoU); a frame where the
    object is absent counts 1 (as in DAVIS; stray predicted masks are charged by ``j`` only);
    per object the mean over all frames, then the mean over objects."""
    from scipy.optimize import linear_sum_assignment

    g_ids = [int(i) for i in np.unique(gt) if i]
    if not g_ids:
        return 1.0
    per = np.zeros(len(g_ids))
    for t in range(len(gt)):
        here = [a for a, g in enumerate(g_ids) if (gt[t] == g).any()]
        per += [0.0 if a in here else 1.0 for a in range(len(g_ids))]
        p_ids = [int(i) for i in np.unique(pred[t]) if i]
        if not here or not p_ids:
            continue
        iou = np.zeros((len(here), len(p_ids)))
        for r, a in enumerate(here):
            g = gt[t] == g_ids[a]
            ga = int(np.count_nonzero(g))
            for c, pid in enumerate(p_ids):
                p = pred[t] == pid
                inter = int(np.count_nonzero(g & p))
                iou[r, c] = inter / (ga + int(np.count_nonzero(p)) - inter)
        rows, cols = linear_sum_assignment(-iou)
        for r, c in zip(rows, cols):
            per[here[r]] += iou[r, c]
    return float(np.mean(per / max(len(gt), 1)))


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

def schedule_quality(tracker_table: dict, seeds=HELD_OUT_SEEDS[:2], num_frames: int = 300,
                     height: int = 240, width: int = 320, fps: float = 30.0) -> dict:  # fmt: skip
    """The ``bench --json`` ``schedule_quality`` object: mean J (and identity-free ``mask_j``),
    detector and SAM calls of the profile's schedule (``tracker_table``), of the fixed stride,
    of the adaptive schedule and of detector + SAM on every frame, on ``default_scene`` seeds."""
    import time

    t0 = time.perf_counter()
    every, fixed, adaptive = compare_schedules(tracker_table, tuple(seeds), num_frames,
                                               height=height, width=width, fps=fps)  # fmt: skip
    kind = (tracker_table.get("schedule") or {}).get("kind", "fixed")

    def row(r: ScheduleScore) -> dict:
        return {"name": r.name, "mean_j": round(r.j, 4), "mask_j": round(r.mask_j, 4),
                "detector_calls": r.detector_calls, "sam_calls": r.sam_embeddings}

    mine = adaptive if kind == "adaptive" else fixed
    return {
        "profile": dict(row(mine), kind=kind),
        "fixed": row(fixed),
        "adaptive": row(adaptive),
        "every_frame": row(every),
        "profile_j_minus_every_frame": round(mine.j - every.j, 4),
        "scenes": {"scene": "default_scene", "seeds": [int(s) for s in seeds],
                   "frames": int(num_frames), "width": int(width), "height": int(height),
                   "fps": float(fps),
                   "models": "simulated: ground-truth boxes +-2 px, masks +-1..2 px"},
        "seconds": round(time.perf_counter() - t0, 2),
    }
