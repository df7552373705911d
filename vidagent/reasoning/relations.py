"""Pairwise spatial relations between two tracked objects over the frames where both are seen
(left of, right of, above, below, near, touching): used by questions, referring and the
motion constraints alike."""

from __future__ import annotations

import numpy as np

from vidagent.memory import ObjectMemory, SceneMemory

NEAR_GAP = 0.5  # boxes closer than this times the larger object's size (sqrt area) are near
NEAR_SHARE = 0.5  # share of co-visible frames on which "near" must hold
SIDE_SHARE = 0.5  # share of co-visible frames for left_of / right_of / above / below
TOUCH_SHARE = 0.02  # share of co-visible frames (at least one) on which masks must touch


def relation_holds(memory: SceneMemory, a: ObjectMemory, b: ObjectMemory, predicate: str):
    """Whether ``a <predicate> b`` holds over the frames where both are visible.

    left_of / right_of / above / below: the centroids are so ordered on at least half of those
    frames; near: the boxes are within ``NEAR_GAP`` x the larger object's size on at least half;
    touching: the masks touch on some of them. None when the two are never visible together.
    """
    both = np.flatnonzero(a.visible & b.visible)
    if len(both) == 0:
        return None
    ca, cb = a.centroids[both], b.centroids[both]
    if predicate == "left_of":
        return bool((ca[:, 0] < cb[:, 0]).mean() > SIDE_SHARE)
    if predicate == "right_of":
        return bool((ca[:, 0] > cb[:, 0]).mean() > SIDE_SHARE)
    if predicate == "above":
        return bool((ca[:, 1] < cb[:, 1]).mean() > SIDE_SHARE)
    if predicate == "below":
        return bool((ca[:, 1] > cb[:, 1]).mean() > SIDE_SHARE)
    touch = memory.touch_frames(a.id, b.id)[both]
    if predicate == "touching":
        return bool(touch.sum() >= max(1, round(TOUCH_SHARE * len(both))))
    if predicate == "near":
        ba, bb = a.boxes[both], b.boxes[both]
        gx = np.maximum(0, np.maximum(ba[:, 0], bb[:, 0]) - np.minimum(ba[:, 2], bb[:, 2]))
        gy = np.maximum(0, np.maximum(ba[:, 1], bb[:, 1]) - np.minimum(ba[:, 3], bb[:, 3]))
        gap = np.hypot(gx, gy)
        scale = np.sqrt(np.maximum(a.areas[both], b.areas[both]))
        near = (gap <= NEAR_GAP * scale) | touch
        return bool(near.mean() >= NEAR_SHARE)
    raise ValueError(f"unknown predicate {predicate!r}")
