"""Which frames get the detector and which get a fresh SAM mask.

The tracker asks its schedule once per frame, after optical flow has moved the masks
(``plan``), and tells it afterwards what the frame ended up with (``observe``).

- :class:`FixedSchedule`: the detector on every ``detect_every``-th frame, the segmenter on every
  ``stride``-th frame and the last one (the historical behaviour).
- :class:`AdaptiveSchedule`: the detector runs when it can change the answer --
  a track losing confidence (its flow-carried mask shrank or grew away from the mask it had at its
  last fresh mask, or no longer looks like the object), image regions changing where no track is
  (something may have come in), a track whose mask touches the frame's border (coming in or
  leaving: ``edge_gap``), a new track waiting for the detection that confirms it, or
  ``max_gap`` frames without one -- and never sooner than ``min_gap`` frames after the last.
  Between detections, SAM refreshes the masks when a track has drifted by ``refresh_drift``
  (cheaper than a detection; not sooner than ``min_refresh_gap`` frames after the track's last
  fresh mask).

The schedule is chosen by the tracker settings' ``schedule`` table (in the profile):
``{"kind": "adaptive", "min_gap": 5, ...}`` (see :class:`ScheduleConfig`); absent or ``"fixed"``
keeps the fixed strides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import cv2
import numpy as np

from vidagent.tracking.labels import appearance, similarity


@dataclass(frozen=True)
class ScheduleConfig:
    """Thresholds of the adaptive schedule (frame counts are video frames)."""

    kind: str = "fixed"  # "fixed" (detect_every / stride) or "adaptive"
    # defaults: on the bench's synthetic scene at 30 fps (scripts/quality.py --table schedule)
    # as many detector calls as a fixed stride of 30 and a mean J 0.03 higher
    min_gap: int = 10  # fewest frames between two detector runs
    max_gap: int = 90  # most frames between two detector runs
    confirm_gap: int = 20  # a new (tentative) track gets its confirming detection this soon
    drift: float = 0.4  # relative area change of a track since its last fresh mask: detect
    refresh_drift: float = 0.25  # ... this much (less): a fresh SAM mask, no detector
    min_refresh_gap: int = 15  # fewest frames between two fresh masks of a track
    min_similarity: float = 0.5  # appearance of a track vs at its last detection: below, detect
    change_level: int = 24  # grey levels a pixel must change by to count as changed
    change_share: float = 0.01  # share of the untracked image changed since the last detection
    change_size: int = 160  # width of the grey thumbnail the change is measured on
    # a track whose mask touches the frame's border (coming in or leaving) gets a detection this
    # many frames after the last (0: off). 300 frames at 30 fps, seeds 20-27, against 0 (and
    # the fixed stride of 30: 80 calls, mean J 0.8865 / 0.8718): default_scene 67 -> 76 calls,
    # mean J 0.8722 -> 0.8796; alt_scene 83 -> 97 calls, 0.8170 -> 0.8423
    edge_gap: int = 15

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "adaptive"):
            raise ValueError(f"schedule kind must be 'fixed' or 'adaptive', got {self.kind!r}")
        if not 1 <= self.min_gap <= self.max_gap:
            raise ValueError("schedule: need 1 <= min_gap <= max_gap")

    @classmethod
    def from_dict(cls, table: dict[str, Any] | None) -> ScheduleConfig:
        """From a profile's ``schedule`` table; unknown keys raise ValueError naming them."""
        table = dict(table or {})
        unknown = sorted(set(table) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown schedule settings: {', '.join(unknown)}")
        return cls(**table)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FramePlan:
    """What one frame gets: the detector, and/or the segmenter refining the tracked masks."""

    detect: bool
    refresh: bool
    reason: str = ""


class Schedule:
    """Base: counts what was run. ``plan`` before the frame's models, ``observe`` after."""

    decision_gap = 1  # frames between the detections that confirm or delete a new track

    def __init__(self) -> None:
        self.detections: list[int] = []  # frames the detector ran on
        self.refreshes: list[int] = []  # frames the segmenter refined tracked masks on
        self.reasons: dict[str, int] = {}

    def plan(self, index: int, num_frames: int, frame: np.ndarray, labels: np.ndarray,
             tracks: dict[int, str]) -> FramePlan:  # fmt: skip
        """``labels``: the flow-moved label map (internal ids); ``tracks``: live id -> state."""
        raise NotImplementedError

    def detects_at(self, index: int) -> bool | None:
        """Whether the detector runs on frame ``index``, where that is known before the frames up
        to it are tracked (the keyframe models can then be computed ahead); None: ``plan``
        decides it from what tracking found."""
        return None

    def observe(self, index: int, frame: np.ndarray, labels: np.ndarray, detected: bool,
                refreshed: bool, hists: dict[int, np.ndarray | None]) -> None:  # fmt: skip
        """The frame's final label map; whether it was a detection / refresh frame; the
        tracks' appearance at their last detection (id -> histogram)."""
        if detected:
            self.detections.append(index)
        if refreshed:
            self.refreshes.append(index)

    def _count(self, plan: FramePlan) -> FramePlan:
        if plan.reason:
            self.reasons[plan.reason] = self.reasons.get(plan.reason, 0) + 1
        return plan

    def summary(self) -> dict:
        return {
            "detector_frames": len(self.detections),
            "refresh_frames": len(self.refreshes),
            "reasons": dict(self.reasons),
        }


class FixedSchedule(Schedule):
    """The detector every ``detect_every`` frames, the segmenter every ``stride`` frames and
    (``refresh_last``) on the last frame."""

    def __init__(self, detect_every: int, stride: int, refresh_last: bool = True) -> None:
        super().__init__()
        self.detect_every, self.stride = int(detect_every), int(stride)
        self.refresh_last = bool(refresh_last)
        self.decision_gap = self.detect_every

    def detects_at(self, index: int) -> bool:
        return index % self.detect_every == 0

    def plan(self, index, num_frames, frame, labels, tracks):
        detect = self.detects_at(index)
        refresh = index % self.stride == 0 or (self.refresh_last and index == num_frames - 1)
        return self._count(FramePlan(detect, refresh, "stride" if detect else ""))


def _area(labels: np.ndarray) -> dict[int, int]:
    ids, counts = np.unique(labels, return_counts=True)
    return {int(i): int(c) for i, c in zip(ids, counts) if i}


def _at_border(labels: np.ndarray, tracks: dict[int, str]) -> bool:
    """True when a live track's mask touches the frame's border."""
    if not tracks:
        return False
    rim = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    return bool(np.isin(rim, list(tracks)).any())


class AdaptiveSchedule(Schedule):
    """See the module docstring."""

    def __init__(self, config: ScheduleConfig, min_area: int = 16) -> None:
        super().__init__()
        self.cfg = config
        self.min_area = int(min_area)
        self.decision_gap = max(config.confirm_gap, config.min_gap)
        self._last_detection: int | None = None
        self._fresh: dict[int, tuple[int, int]] = {}  # id -> (frame, area) of its last fresh mask
        self._hists: dict[int, np.ndarray | None] = {}
        self._ref_grey: np.ndarray | None = None  # thumbnail at the last detection
        self._ref_cover: np.ndarray | None = None  # tracked area (thumbnail) at the last detection

    def _thumb(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        tw = min(w, self.cfg.change_size)
        th = max(1, round(h * tw / w))
        grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
        return cv2.resize(grey, (tw, th), interpolation=cv2.INTER_AREA)

    def _cover(self, labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        small = cv2.resize((labels > 0).astype(np.float32), shape[::-1],
                           interpolation=cv2.INTER_AREA) > 0  # fmt: skip
        return cv2.dilate(small.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0

    def _changed(self, frame: np.ndarray, labels: np.ndarray) -> bool:
        """True when the untracked part of the image changed since the last detection."""
        if self._ref_grey is None:
            return False
        grey = self._thumb(frame)
        if grey.shape != self._ref_grey.shape:
            return True
        free = ~(self._cover(labels, grey.shape) | self._ref_cover)
        if not free.any():
            return False
        diff = cv2.absdiff(grey, self._ref_grey) > self.cfg.change_level
        return float(np.count_nonzero(diff & free)) / free.size > self.cfg.change_share

    def plan(self, index, num_frames, frame, labels, tracks):
        cfg = self.cfg
        if self._last_detection is None:
            return self._count(FramePlan(True, True, "first frame"))
        gap = index - self._last_detection
        if gap >= cfg.max_gap:
            return self._count(FramePlan(True, True, "max gap"))
        areas = _area(labels)
        drifted, refresh = False, False
        for tid, state in tracks.items():
            f, a0 = self._fresh.get(tid, (index, 0))
            a = areas.get(tid, 0)
            if a0 <= 0:
                continue
            change = abs(a / a0 - 1.0)
            if a < self.min_area or change >= cfg.drift:
                drifted = True
            elif change >= cfg.refresh_drift and index - f >= cfg.min_refresh_gap:
                refresh = True
        if gap < cfg.min_gap:
            return self._count(FramePlan(False, refresh, "refresh" if refresh else ""))
        if drifted:
            return self._count(FramePlan(True, True, "track drift"))
        if gap >= cfg.confirm_gap and any(s == "tentative" for s in tracks.values()):
            return self._count(FramePlan(True, True, "confirm new track"))
        if self._looks_lost(frame, labels, tracks):
            return self._count(FramePlan(True, True, "track appearance"))
        if cfg.edge_gap and gap >= cfg.edge_gap and _at_border(labels, tracks):
            return self._count(FramePlan(True, True, "track at the border"))
        if self._changed(frame, labels):
            return self._count(FramePlan(True, True, "untracked change"))
        return self._count(FramePlan(False, refresh, "refresh" if refresh else ""))

    def _looks_lost(self, frame, labels, tracks) -> bool:
        hists = [(t, self._hists.get(t)) for t in tracks]
        hists = [(t, h) for t, h in hists if h is not None]
        if not hists:
            return False
        hsv = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2HSV)
        for tid, h in hists:
            now = appearance(frame, labels == tid, hsv)
            if now is not None and similarity(h, now) < self.cfg.min_similarity:
                return True
        return False

    def observe(self, index, frame, labels, detected, refreshed, hists):
        super().observe(index, frame, labels, detected, refreshed, hists)
        areas = _area(labels)
        for tid in list(self._fresh):
            if tid not in areas:
                del self._fresh[tid]
        if detected or refreshed:
            for tid, a in areas.items():
                self._fresh[tid] = (index, a)
        else:
            for tid, a in areas.items():
                self._fresh.setdefault(tid, (index, a))
        self._hists = dict(hists)
        if detected:
            self._last_detection = index
            self._ref_grey = self._thumb(frame)
            self._ref_cover = self._cover(labels, self._ref_grey.shape)


def make_schedule(table: dict | None, detect_every: int, stride: int, min_area: int,
                  refresh_last: bool = True) -> Schedule:  # fmt: skip
    """The schedule a tracker config asks for (``schedule`` table; see :class:`ScheduleConfig`)."""
    cfg = ScheduleConfig.from_dict(table)
    if cfg.kind == "adaptive":
        return AdaptiveSchedule(cfg, min_area)
    return FixedSchedule(detect_every, stride, refresh_last)
