"""Optical-flow warping of label maps (OpenCV DIS optical flow at reduced resolution).

Flow is computed between consecutive frames on grey copies downscaled so the longer side is
``flow_size`` pixels. ``propagate_labels`` moves each object's mask by a similarity transform
fitted (RANSAC) to the flow inside the object (its eroded interior, where flow is reliable):
plain per-pixel backward warping erodes the leading edge of a moving object by the flow's
smoothing error every frame and drifts badly within ten frames. Where moved masks overlap, the
object that the per-pixel backward warp of the previous label map puts there wins, so an object
passing behind another shrinks and vanishes as it does in the video. The same function moves
a label map backward in time with ``FlowPair.reversed()``.
"""

from __future__ import annotations

import cv2
import numpy as np


class FlowPair:
    """Flow between two consecutive frames A (earlier) and B (later).

    ``forward`` (H, W, 2) float32: pixel (x, y) of A moves to (x + fx, y + fy) in B.
    ``backward``: pixel (x, y) of B came from (x + bx, y + by) of A. Both full-resolution
    pixels, computed on first use from the small grey frames and cached; ``compact()`` drops the
    full-resolution copies (what a buffered pair keeps is a few hundred kB).
    """

    def __init__(self, a_small: np.ndarray, b_small: np.ndarray, shape: tuple[int, int],
                 dis, _shared: dict | None = None, _swap: bool = False) -> None:
        self._a, self._b = a_small, b_small
        self.shape = shape
        self._dis = dis
        self._cache = _shared if _shared is not None else {}
        self._swap = _swap

    def _get(self, key: str) -> np.ndarray:
        full = self._cache.get(key + "_full")
        if full is not None:
            return full
        small = self._cache.get(key)
        if small is None:
            a, b = (self._a, self._b) if key == "fwd" else (self._b, self._a)
            small = self._dis.calc(a, b, None)
            self._cache[key] = small
        h, w = self.shape
        sh, sw = small.shape[:2]
        full = small
        if (sh, sw) != (h, w):
            full = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
            full[..., 0] *= w / sw
            full[..., 1] *= h / sh
        self._cache[key + "_full"] = full
        return full

    @property
    def forward(self) -> np.ndarray:
        return self._get("bwd" if self._swap else "fwd")

    @property
    def backward(self) -> np.ndarray:
        return self._get("fwd" if self._swap else "bwd")

    def reversed(self) -> "FlowPair":
        """The same pair seen from B to A (to move label maps back in time)."""
        return FlowPair(self._a, self._b, self.shape, self._dis, self._cache, not self._swap)

    def compact(self) -> None:
        self._cache.pop("fwd_full", None)
        self._cache.pop("bwd_full", None)


class FlowWarper:
    """Optical flow between consecutive frames of a stream.

    ``push(frame)`` takes the next frame (HWC uint8 RGB, all of one size) and returns the
    ``FlowPair`` between the frame pushed before and it (None for the first).
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

    def push(self, frame: np.ndarray) -> FlowPair | None:
        cur = self._small_grey(frame)
        prev, self._prev = self._prev, cur
        if prev is None or prev.shape != cur.shape:
            return None
        return FlowPair(prev, cur, frame.shape[:2], self._dis)

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


def _object_transform(mask: np.ndarray, forward: np.ndarray, rng: np.random.Generator,
                      prior: np.ndarray | None = None) -> np.ndarray:
    """2x3 similarity transform that moves ``mask`` (H, W bool) along ``forward`` flow.

    A mask too thin to have an interior (a sliver entering at the frame edge or coming out
    from behind something, where flow is unreliable) reuses ``prior``, its last transform
    (constant velocity), when there is one."""
    interior = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    if interior.sum() < 30 and prior is not None:
        return prior
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


def propagate_labels(labels: np.ndarray, flows: FlowPair, motion: dict | None = None,
                     seed: int = 0) -> np.ndarray:
    """Label map (H, W) of the current frame from ``labels`` of the previous one; same dtype.

    Each object moves by its own similarity transform (see the module docstring); overlaps go
    to the object the backward per-pixel warp puts there, else to the smaller object (an
    object seen through or in front of a larger one is usually the smaller). ``motion``
    (id -> 2x3 transform), when given, supplies each object's last transform for masks too
    thin to measure and is updated with the transforms used.
    """
    h, w = labels.shape
    ids = [int(i) for i in np.unique(labels) if i != 0]
    out = np.zeros_like(labels)
    if not ids:
        return out
    rng = np.random.default_rng(seed)
    moved = []
    for i in ids:
        m = labels == i
        a = _object_transform(m, flows.forward, rng, None if motion is None else motion.get(i))
        if motion is not None:
            motion[i] = a
        mm = cv2.warpAffine(m.astype(np.uint8), a, (w, h), flags=cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
        moved.append((i, mm))
    count = np.zeros((h, w), np.uint8)
    for i, mm in sorted(moved, key=lambda x: -int(x[1].sum())):  # larger first, smaller on top
        out[mm] = i
        count += mm
    overlap = count > 1
    if overlap.any():
        back = warp_labels(labels, flows.backward)
        claim = np.zeros((h, w), bool)
        for i, mm in moved:
            claim |= mm & overlap & (back == i)
        out[claim] = back[claim]
    return out
