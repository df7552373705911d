"""Optical-flow warping of label maps (OpenCV DIS flow at reduced resolution).

The flow is computed backward (current frame -> previous frame) on grey frames downscaled so
the longer side is ``flow_size`` pixels, upscaled, and the previous label map is sampled at
``x + flow(x)`` with nearest-neighbour interpolation. Backward warping gives every pixel of the
current frame exactly one label, so an object moving behind another shrinks and vanishes as it
does in the video.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np


class FlowPair:
    """Flow between two consecutive frames, (H, W, 2) float32 each, full-resolution pixels.

    ``forward``: pixel (x, y) of the previous frame moves to (x + fx, y + fy) in the current one.
    ``backward``: pixel (x, y) of the current frame came from (x + bx, y + by) of the previous;
    computed on first use (only overlapping objects need it).
    """

    def __init__(self, forward: np.ndarray, backward_fn: Callable[[], np.ndarray]) -> None:
        self.forward = forward
        self._backward_fn = backward_fn
        self._backward: np.ndarray | None = None

    @property
    def backward(self) -> np.ndarray:
        if self._backward is None:
            self._backward = self._backward_fn()
        return self._backward


class FlowWarper:
    """Backward optical flow between consecutive frames of a stream.

    ``push(frame)`` takes the next frame (HWC uint8 RGB, all of one size) and returns the
    ``FlowPair`` between it and the frame pushed before (None for the first). Only the previous
    frame's small grey copy is kept.
    """

    def __init__(self, flow_size: int = 320, finest_scale: int = 0) -> None:
        self.flow_size = int(flow_size)
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        # the presets stop two pyramid levels above full size, which underestimates motion of
        # small textured objects by ~30%; the frames are already downscaled, so go to the end
        self._dis.setFinestScale(int(finest_scale))
        self._prev: np.ndarray | None = None

    def _small_grey(self, frame: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        h, w = grey.shape
        scale = min(1.0, self.flow_size / max(h, w))
        if scale < 1.0:
            size = (max(int(round(w * scale)), 8), max(int(round(h * scale)), 8))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        return grey

    def _calc(self, a: np.ndarray, b: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        f = self._dis.calc(a, b, None)
        h, w = shape
        sh, sw = a.shape
        if (sh, sw) != (h, w):
            f = cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR)
            f[..., 0] *= w / sw
            f[..., 1] *= h / sh
        return f

    def push(self, frame: np.ndarray) -> FlowPair | None:
        """Forward (previous -> ``frame``) and backward flow, full-resolution pixels."""
        cur = self._small_grey(frame)
        prev, self._prev = self._prev, cur
        if prev is None or prev.shape != cur.shape:
            return None
        shape = frame.shape[:2]
        return FlowPair(self._calc(prev, cur, shape), lambda: self._calc(cur, prev, shape))

    def reset(self) -> None:
        self._prev = None


def warp_labels(labels: np.ndarray, backward_flow: np.ndarray) -> np.ndarray:
    """Sample ``labels`` (H, W) int at x + flow (nearest); pixels mapped outside become 0."""
    h, w = labels.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx = gx + backward_flow[..., 0]
    my = gy + backward_flow[..., 1]
    src = labels if labels.dtype in (np.uint8, np.uint16) else labels.astype(np.float32)
    out = cv2.remap(src, mx, my, interpolation=cv2.INTER_NEAREST,
                    borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out.astype(labels.dtype, copy=False)


def _object_transform(mask: np.ndarray, forward: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """2x3 similarity transform that moves ``mask`` (H, W bool) along ``forward`` flow."""
    interior = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    ys, xs = np.nonzero(interior if interior.sum() >= 30 else mask)
    if len(xs) > 400:
        pick = rng.choice(len(xs), 400, replace=False)
        ys, xs = ys[pick], xs[pick]
    fl = forward[ys, xs]
    src = np.stack([xs, ys], 1).astype(np.float32)
    dst = src + fl
    if len(xs) >= 12:
        m, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                 ransacReprojThreshold=1.0, maxIters=200)
        if m is not None and inliers is not None and inliers.sum() >= 6:
            scale = float(np.hypot(m[0, 0], m[1, 0]))
            if 0.8 < scale < 1.25:
                return m.astype(np.float32)
    t = np.median(fl, axis=0) if len(fl) else np.zeros(2, np.float32)
    return np.array([[1, 0, t[0]], [0, 1, t[1]]], np.float32)


def propagate_labels(labels: np.ndarray, flows: FlowPair, seed: int = 0) -> np.ndarray:
    """Label map (H, W) of the current frame from ``labels`` of the previous one; same dtype.

    Each object moves by its own similarity transform (see the module docstring); overlaps go
    to the object the backward per-pixel warp puts there, else to the smaller object (an
    object seen through or in front of a larger one is usually the smaller).
    """
    h, w = labels.shape
    ids = [int(i) for i in np.unique(labels) if i != 0]
    out = np.zeros_like(labels)
    if not ids:
        return out
    rng = np.random.default_rng(seed)
    back = warp_labels(labels, flows.backward)
    moved = []
    for i in ids:
        m = labels == i
        a = _object_transform(m, flows.forward, rng)
        mm = cv2.warpAffine(m.astype(np.uint8), a, (w, h), flags=cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
        moved.append((i, mm))
    count = np.zeros((h, w), np.uint8)
    for i, mm in sorted(moved, key=lambda x: -int(x[1].sum())):  # larger first, smaller on top
        out[mm] = i
        count += mm
    overlap = count > 1
    if overlap.any():
        claim = np.zeros((h, w), bool)
        for i, mm in moved:
            claim |= mm & overlap & (back == i)
        out[claim] = back[claim]
    return out
