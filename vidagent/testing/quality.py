"""Tracking quality on synthetic scenes: run a tracker over a scene and score it against the
exact ground truth, including how the output compares with the detection masks it was given
on the detection frames. Used by ``scripts/quality.py`` and the tracking tests."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from vidagent.evaluation import j_measure, tracking_scores
from vidagent.testing.scenes import Scene


def track_scene(scene: Scene, tracker, detections: dict | None = None,
                phrases: list[str] | None = None) -> np.ndarray:
    """Run ``tracker`` over every frame of ``scene``; returns its label maps (T, H, W)."""
    pred = np.zeros_like(scene.label_maps)

    def on_frame(i: int, m: np.ndarray) -> None:
        pred[i] = m

    tracker.run(
        ((i, f) for i, f in enumerate(scene.frames)),
        scene.num_frames,
        phrases if phrases is not None else sorted(set(scene.labels.values())),
        on_frame,
        detections=detections,
    )
    return pred


def given_mask_owner(mask: np.ndarray, label_map: np.ndarray) -> int:
    """The ground-truth id a detection mask was made from (most of its pixels), 0 if none."""
    under = label_map[mask]
    under = under[under > 0]
    return int(np.bincount(under).argmax()) if len(under) else 0


@dataclass
class DetectionFrameScore:
    """One object's J on the detection frames that carry a mask for it: the given masks' mean
    J and the output's mean J on the same frames (output = the predicted id matched to it)."""

    gt_id: int
    frames: list[int]
    given_j: float
    output_j: float

    @property
    def not_worse(self) -> bool:
        return self.output_j >= self.given_j - 1e-9


def detection_frame_scores(pred: np.ndarray, scene: Scene, detections: dict,
                           match: dict[int, int | None]) -> list[DetectionFrameScore]:
    """Per object, the given masks' J against the output's J on the frames where a detection
    mask of it was given (objects never given a mask are left out). ``match`` maps ground-truth
    ids to predicted ids (``tracking_scores``' matching)."""
    given: dict[int, list[tuple[int, float]]] = {}
    for t, d in sorted(detections.items()):
        if d.masks is None:
            continue
        gt = scene.label_maps[t]
        for m in d.masks:
            owner = given_mask_owner(m, gt)
            if owner:
                given.setdefault(owner, []).append((t, j_measure(m, gt == owner)))
    out = []
    for g, items in sorted(given.items()):
        p = match.get(g)
        frames = [t for t, _ in items]
        outs = [j_measure(pred[t] == p, scene.label_maps[t] == g) if p else 0.0 for t in frames]
        out.append(DetectionFrameScore(g, frames, float(np.mean([j for _, j in items])),
                                       float(np.mean(outs))))
    return out


@dataclass
class SceneQuality:
    """Scores of one tracker run on one scene."""

    j: float
    id_consistency: float
    objects: list[dict]
    detection_frames: list[DetectionFrameScore] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def not_worse_share(self) -> float:
        d = self.detection_frames
        return float(np.mean([s.not_worse for s in d])) if d else 1.0


def score_scene(scene: Scene, tracker, detections: dict | None = None) -> SceneQuality:
    """Track ``scene`` with ``tracker`` (from ``detections`` when given) and score it."""
    t0 = time.perf_counter()
    pred = track_scene(scene, tracker, detections)
    secs = time.perf_counter() - t0
    sc = tracking_scores(pred, scene.label_maps)
    match = {o["gt_id"]: o["pred_id"] for o in sc["objects"]}
    det = detection_frame_scores(pred, scene, detections, match) if detections else []
    return SceneQuality(sc["J"], sc["id_consistency"], sc["objects"], det, secs)


def run_simulated(scene: Scene, tracker_table: dict, seed: int = 0, radius: int = 1):
    """The tracker with ``tracker_table`` settings over ``scene`` with the simulated detector and
    SAM (``vidagent.testing.doubles``): (quality, frames the detector saw, SAM embeddings,
    tracker)."""
    from vidagent.testing.doubles import SyntheticDetector, SyntheticSegmenter
    from vidagent.tracking.config import TrackerConfig
    from vidagent.tracking.tracker import Tracker

    det = SyntheticDetector(scene, seed=seed)
    seg = SyntheticSegmenter(scene, radius=radius, seed=seed)
    tracker = Tracker(TrackerConfig.from_dict(tracker_table), det, seg)
    return score_scene(scene, tracker), det.frames_seen, seg.embeddings, tracker


def still_ball(id_: int = 1, x: float = 60.0, y: float = 60.0, appear: int = 0,
               leave: int = 10_000, end=None, size: float = 14.0, label: str = "ball"):
    """A red ball (moving to ``end`` when given) for the schedule and mask-lever tests."""
    from vidagent.testing.scenes import SceneObject

    return SceneObject(id_, label, "red", (220, 30, 30), "circle", size, (x, y), end or (x, y),
                       appear, leave)  # fmt: skip
