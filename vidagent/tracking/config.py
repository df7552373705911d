"""Tracker settings, built from a profile's ``tracker`` table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class TrackerConfig:
    """Every number the tracker uses, in one place (frame counts are video frames)."""

    detect_every: int = 5  # run the detector on every k-th frame (objects that appear later)
    # run the segmenter / video propagator on every s-th frame (and on every detection frame);
    # flow fills the rest. stride = detect_every: the segmenter runs on detection frames only
    stride: int = 1
    match_iou: float = 0.3  # least mask IoU for a detection to continue a live track
    # weight of a matched detection's mask vs the tracked one: 1/n for the n-th detection that
    # agrees with the track (a running mean), at most det_weight, at least det_weight_min
    det_weight: float = 0.5
    det_weight_min: float = 0.2
    fuse_min_iou: float = 0.65  # below this IoU a matched detection replaces the mask instead,
    fuse_band: int = 3  # unless the two differ only within this many px of the boundary (mask
    # noise, which costs a small object much IoU), where they are blended all the same
    # with flow alone between detections, a detection is blended with the track's shape (the
    # mean of its earlier detections) and the result kept within this many px of the detection
    fuse_clamp: int = 1
    dup_overlap: float = 0.6  # an unmatched detection this much covered by matched ones is a duplicate
    confirm_hits: int = 2  # detections a new track needs before it becomes an object (DEVA-style)
    tentative_max_misses: int = 2  # detection rounds a new track may miss before it is deleted
    max_misses: int = 3  # detection rounds an object may miss before it is set aside as lost
    # least appearance similarity for a detection to continue an overlapping track; below it
    # the two are different objects of one label (half the re-identification threshold)
    match_min_similarity: float = 0.3
    # second association stage: a detection no track overlaps continues a track of its label
    # that looks like it (at least this similar) and can have moved there since its last
    # detection at up to max_speed (a share of the frame's longer side per frame)
    motion_similarity: float = 0.5
    max_speed: float = 0.15
    reid_similarity: float = 0.6  # least appearance similarity (1 - Bhattacharyya) to revive an id
    reid_max_gap: int | None = None  # frames a lost track stays re-identifiable (None: always)
    sam_accept_iou: float = 0.3  # least IoU between a segmenter mask and the flow mask to accept
    # between two anchors, a track whose flow-carried mask missed the second one by more than
    # this share of its size (square root of its area) is interpolated from the two anchors'
    # masks instead (flow barely moves a small textureless object)
    interpolate_drift: float = 0.6
    # and on each frame between two anchors, a track's mask moves to where nearby (at most
    # snap_reach x its size) the frame has the object's mean colour, when that looks more like
    # it by snap_margin (colour similarity) than where interpolation put it; 0: off
    snap_reach: float = 2.0
    snap_margin: float = 0.1
    fill_back: bool = True  # interpolate between anchor frames, carry new objects back in time
    max_delay: int = 90  # most frames held back before emission (bounds memory; new tracks
    # not yet confirmed after this many frames are missing from the frames already emitted)
    min_area: int = 16  # masks smaller than this (pixels) count as empty
    flow_size: int = 320  # longer side (pixels) of the frames optical flow runs on
    flow_finest_scale: int = 0  # DIS pyramid level it stops at (0: full flow_size, 1: half)
    # frames read and their optical flow computed this many frames ahead in a worker thread
    # (on the core the tracking's single thread leaves idle; same results); 0: in the caller's
    prefetch: int = 8
    # with prefetch on, where the schedule knows its keyframes in advance (the fixed one, the
    # user's detection frames): their models (detector, segmenter image embedding) run in a
    # worker thread as soon as the frame reader reaches them, while the tracker works on the
    # frames before (same results; tracking/ahead.py), and frames are read up to this many
    # frames ahead for it (memory: that many frames and their flow); 0: on the keyframe, in line
    lookahead: int = 30
    max_objects: int = 255  # ids are 1..255 (8-bit label maps)
    box_threshold: float | None = None  # detector thresholds; None: the detector's own defaults
    text_threshold: float | None = None
    max_boxes: int | None = None
    # which frames get the detector / the segmenter: None or {"kind": "fixed"} = detect_every
    # and stride; {"kind": "adaptive", ...} = tracking/schedule.py's ScheduleConfig
    schedule: dict | None = None
    # the fixed schedule refreshes the masks with the segmenter on the last frame too (an anchor
    # to interpolate the frames after the last detection to); False: they are carried by flow
    refresh_last: bool = True
    # mask reuse on key frames (None: off): a detection whose box has at least this IoU with
    # the box of a live track's flow-carried mask (same label) takes that mask instead of a
    # segmenter mask, and a key frame where every detection is reused and no track is stale
    # runs no segmenter at all (no image embedding). A track is stale when its last segmenter
    # mask is more than reuse_max_age frames old or its flow-carried mask's area changed by
    # more than reuse_max_drift (relative) since then; whenever the segmenter does run on a
    # key frame, every track gets a fresh mask
    reuse_box_iou: float | None = None
    reuse_max_age: int = 60
    reuse_max_drift: float = 0.1

    def __post_init__(self) -> None:
        if self.detect_every < 1 or self.stride < 1:
            raise ValueError("TrackerConfig: detect_every and stride must be >= 1")
        if not 1 <= self.max_objects <= 255:
            raise ValueError("TrackerConfig: max_objects must be in 1..255")
        if self.lookahead < 0 or self.prefetch < 0:
            raise ValueError("TrackerConfig: lookahead and prefetch must be >= 0")
        if self.confirm_hits < 1:
            raise ValueError("TrackerConfig: confirm_hits must be >= 1")
        if self.reuse_box_iou is not None and not 0.0 < self.reuse_box_iou <= 1.0:
            raise ValueError("TrackerConfig: reuse_box_iou must be in (0, 1] or None")
        if self.reuse_max_age < 0 or self.reuse_max_drift < 0:
            raise ValueError("TrackerConfig: reuse_max_age and reuse_max_drift must be >= 0")
        from vidagent.tracking.schedule import ScheduleConfig

        ScheduleConfig.from_dict(self.schedule)  # unknown or inconsistent settings fail here

    @classmethod
    def from_dict(cls, table: dict[str, Any] | None) -> TrackerConfig:
        """Build from a profile's ``tracker`` dict; unknown keys raise ValueError naming them."""
        table = dict(table or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ValueError(f"unknown tracker settings: {', '.join(unknown)}")
        return cls(**table)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
