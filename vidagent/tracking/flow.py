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

from collections.abc import Callable, Iterable, Iterator

import cv2
import numpy as np

from vidagent.arrays import occupied_box


class FlowPair:
    """Flow between two consecutive frames A (earlier) and B (later).

    ``forward`` (H, W, 2) float32: pixel (x, y) of A moves to (x + fx, y + fy) in B.
    ``backward``: pixel (x, y) of B came from (x + bx, y + by) of A. Both full-resolution
    pixels, computed on first use from the small grey frames and cached; ``compact()`` drops the
    full-resolution copies (what a buffered pair keeps is a few hundred kB).
    """

    exact_backward = False  # True: a second DIS run for the backward flow, not the inverse

    def __init__(
        self,
        a_small: np.ndarray,
        b_small: np.ndarray,
        shape: tuple[int, int],
        dis,
        _shared: dict | None = None,
        _swap: bool = False,
    ) -> None:
        self._a, self._b = a_small, b_small
        self.shape = shape
        self._dis = dis
        self._cache = _shared if _shared is not None else {}
        self._swap = _swap

    def _get(self, key: str) -> np.ndarray:
        full = self._cache.get(key + "_full")
        if full is not None:
            return full
        small = self._small(key)
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

    def _small(self, key: str) -> np.ndarray:
        small = self._cache.get(key)
        if small is None:
            a, b = (self._a, self._b) if key == "fwd" else (self._b, self._a)
            small = self._dis.calc(a, b, None)
            self._cache[key] = small
        return small

    def _sample(self, key: str, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        small = self._small(key)
        h, w = self.shape
        sh, sw = small.shape[:2]
        sx, sy = sw / w, sh / h
        mx = ((np.asarray(xs) + 0.5) * sx - 0.5).astype(np.float32).reshape(1, -1)
        my = ((np.asarray(ys) + 0.5) * sy - 0.5).astype(np.float32).reshape(1, -1)
        v = cv2.remap(
            small, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ).reshape(-1, 2)
        return v / np.array([sx, sy], np.float32)

    def _inverse_of_fwd(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Backward flow at (xs, ys) of B from the forward flow alone: the fixed point of
        b = -F(x + b), two iterations (exact for locally constant motion). Saves the second
        DIS run per frame."""
        xs = np.asarray(xs, np.float32)
        ys = np.asarray(ys, np.float32)
        b = -self._sample("fwd", xs, ys)
        for _ in range(2):
            b = -self._sample("fwd", xs + b[:, 0], ys + b[:, 1])
        return b

    def _backward_at(self, xs, ys) -> np.ndarray:
        if self.exact_backward or "bwd" in self._cache:
            return self._sample("bwd", xs, ys)
        return self._inverse_of_fwd(xs, ys)

    def sample_forward(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """(N, 2) forward flow at full-resolution pixels (xs, ys), bilinear from the small flow."""
        return self._backward_at(xs, ys) if self._swap else self._sample("fwd", xs, ys)

    def sample_backward(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """(N, 2) backward flow at full-resolution pixels (xs, ys)."""
        return self._sample("fwd", xs, ys) if self._swap else self._backward_at(xs, ys)

    def reversed(self) -> FlowPair:
        """The same pair seen from B to A (to move label maps back in time)."""
        return FlowPair(self._a, self._b, self.shape, self._dis, self._cache, not self._swap)

    def compact(self) -> None:
        self._cache.pop("fwd_full", None)
        self._cache.pop("bwd_full", None)


def make_dis(finest_scale: int = 0):
    """OpenCV's DIS optical flow, ultrafast preset, down to pyramid level ``finest_scale``."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    # the presets stop two pyramid levels above full size, which underestimates motion of
    # small textured objects by ~30%; the frames are already downscaled, so go to the end
    dis.setFinestScale(int(finest_scale))
    return dis


class FlowWarper:
    """Optical flow between consecutive frames of a stream.

    ``push(frame)`` takes the next frame (HWC uint8 RGB, all of one size) and returns the
    ``FlowPair`` between the frame pushed before and it (None for the first).
    """

    def __init__(self, flow_size: int = 320, finest_scale: int = 0) -> None:
        self.flow_size = int(flow_size)
        self.finest_scale = int(finest_scale)
        self._dis = make_dis(finest_scale)
        self._prev: np.ndarray | None = None

    def _small_grey(self, frame: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        h, w = grey.shape
        scale = min(1.0, self.flow_size / max(h, w))
        if scale < 1.0:
            size = (max(round(w * scale), 8), max(round(h * scale), 8))
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


def prefetch_flows(
    frames: Iterable[tuple[int, np.ndarray]],
    warper: FlowWarper,
    depth: int = 8,
    tap: Callable[[int, np.ndarray], None] | None = None,
) -> Iterator[tuple[int, np.ndarray, FlowPair | None]]:
    """``(index, frame, warper.push(frame))`` for each frame, in order, with the forward flow
    already computed.

    With ``depth`` > 0 a worker thread reads the frames (video decoding) and computes the flow
    up to ``depth`` frames ahead of the caller, on the core the caller's single-threaded
    tracking leaves idle (OpenCV and the decoder release the GIL); results are the same as
    without it. Later flow computations of the pairs (the exact backward flow) run in the
    caller's thread on a DIS object of its own. An error of the worker is raised here; closing
    this generator stops the worker. ``tap(index, frame)`` is called as each frame is read, up
    to ``depth`` frames ahead (in the worker thread; without one, in the caller's).
    """
    if depth <= 0:
        for index, frame in frames:
            frame = np.asarray(frame)
            if tap is not None:
                tap(index, frame)
            yield index, frame, warper.push(frame)
        return
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=int(depth))
    stop = threading.Event()
    done = object()
    caller_dis = make_dis(warper.finest_scale)

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for index, frame in frames:
                frame = np.asarray(frame)
                if tap is not None:
                    tap(index, frame)
                pair = warper.push(frame)
                if pair is not None:
                    pair._small("fwd")
                    pair._dis = caller_dis
                if not put((index, frame, pair)):
                    return
            put(done)
        except BaseException as exc:  # handed to the caller's thread
            put(("error", exc))

    worker = threading.Thread(target=work, name="vidagent-flow", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if len(item) == 2 and item[0] == "error":
                raise item[1]
            yield item
    finally:
        stop.set()
        worker.join(timeout=5.0)


def _object_transform(
    mask: np.ndarray,
    origin: tuple[int, int],
    flows: FlowPair,
    rng: np.random.Generator,
    prior: np.ndarray | None = None,
    touches_border: bool = False,
) -> np.ndarray:
    """2x3 similarity transform (full-frame pixels) that moves ``mask`` along the forward flow.

    ``mask`` is a bool crop whose top-left pixel is ``origin`` (x, y) of the frame. A mask too
    thin to have an interior (a sliver entering at the frame edge or coming out from behind
    something, where flow is unreliable) reuses ``prior``, its last transform (constant
    velocity), when there is one; so does a mask touching the frame edge, where flow is
    unreliable too (the content comes from, or goes to, outside): an object half out of view
    keeps moving and leaves instead of sticking to the edge."""
    interior = cv2.erode(
        mask.astype(np.uint8), np.ones((5, 5), np.uint8), borderType=cv2.BORDER_REPLICATE
    ).astype(bool)
    n_in = int(np.count_nonzero(interior))
    if prior is not None and (n_in < 30 or touches_border):
        return prior
    ys, xs = np.nonzero(interior if n_in >= 30 else mask)
    if len(xs) > 400:
        pick = rng.choice(len(xs), 400, replace=False)
        ys, xs = ys[pick], xs[pick]
    xs = xs + origin[0]
    ys = ys + origin[1]
    fl = flows.sample_forward(xs, ys)
    src = np.stack([xs, ys], 1).astype(np.float32)
    dst = src + fl
    if len(xs) >= 12:
        m, inliers = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.0, maxIters=200
        )
        if m is not None and inliers is not None and inliers.sum() >= 6:
            scale = float(np.hypot(m[0, 0], m[1, 0]))
            if 0.8 < scale < 1.25:
                return m.astype(np.float32)
    t = np.median(fl, axis=0) if len(fl) else np.zeros(2, np.float32)
    return np.array([[1, 0, t[0]], [0, 1, t[1]]], np.float32)


def _translation_of(a: np.ndarray, crop: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """The pure translation (2x3 float32) that moves the centroid of ``crop`` as ``a`` does.

    What is kept as an object's motion prior: re-applying a measured similarity transform
    frame after frame would compound its scale (a mask entering at the frame edge grew
    exponentially) and rotate about the frame origin, not the object; constant velocity of
    the centroid is the safe extrapolation."""
    ys, xs = np.nonzero(crop)
    if not len(xs):
        return a
    c = np.array([xs.mean() + origin[0], ys.mean() + origin[1]], np.float32)
    d = a[:, :2] @ c + a[:, 2] - c
    return np.array([[1, 0, d[0]], [0, 1, d[1]]], np.float32)


def object_slices(labels: np.ndarray) -> dict[int, tuple[slice, slice]]:
    """id -> (row slice, column slice) bounding each object of an (H, W) label map."""
    from vidagent.arrays import find_objects

    return {i + 1: sl for i, sl in enumerate(find_objects(labels)) if sl is not None}


def _move(mask: np.ndarray, origin: tuple[int, int], a: np.ndarray, shape: tuple[int, int]):
    """Apply the 2x3 transform ``a`` to a mask crop; returns (moved crop, its origin) or None
    when it lands outside the frame."""
    h, w = shape
    ch, cw = mask.shape
    x0, y0 = origin
    corners = (
        np.array(
            [[x0, y0, 1], [x0 + cw, y0, 1], [x0, y0 + ch, 1], [x0 + cw, y0 + ch, 1]], np.float32
        )
        @ a.T
    )
    nx0 = max(int(np.floor(corners[:, 0].min())) - 1, 0)
    ny0 = max(int(np.floor(corners[:, 1].min())) - 1, 0)
    nx1 = min(int(np.ceil(corners[:, 0].max())) + 2, w)
    ny1 = min(int(np.ceil(corners[:, 1].max())) + 2, h)
    if nx1 <= nx0 or ny1 <= ny0:
        return None
    # crop coordinates: dst = a @ (src + origin) - new_origin
    local = a.copy()
    local[:, 2] = a[:, :2] @ np.array([x0, y0], np.float32) + a[:, 2] - np.array([nx0, ny0])
    moved = cv2.warpAffine(
        mask.astype(np.uint8),
        local,
        (nx1 - nx0, ny1 - ny0),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    ).astype(bool)
    return moved, (nx0, ny0)


def propagate_labels(
    labels: np.ndarray,
    flows: FlowPair,
    motion: dict | None = None,
    seed: int = 0,
    slices: dict[int, tuple[slice, slice]] | None = None,
    out_slices: dict[int, tuple[slice, slice]] | None = None,
) -> np.ndarray:
    """Label map (H, W) of the current frame from ``labels`` of the previous one; same dtype.

    Each object moves by its own similarity transform (see the module docstring); overlaps go
    to the object the backward per-pixel warp puts there, else to the smaller object (an
    object seen through or in front of a larger one is usually the smaller). ``motion``
    (id -> 2x3 transform), when given, supplies each object's last transform for masks too
    thin to measure and is updated with the transforms used. Work is done on each object's
    bounding box; flow is sampled at the small resolution it was computed at. ``slices``:
    ``object_slices(labels)``, when the caller has them (a whole-frame pass saved).
    ``out_slices``, a dict, is filled with ``object_slices`` of the map returned, found in each
    object's moved box (all its pixels are there) instead of the whole frame.
    """
    h, w = labels.shape
    out = np.zeros_like(labels)
    if slices is None:
        slices = object_slices(labels)
    if not slices:
        return out
    rng = np.random.default_rng(seed)
    moved = []
    for i, sl in slices.items():
        crop = labels[sl] == i
        origin = (sl[1].start, sl[0].start)
        border = sl[0].start == 0 or sl[1].start == 0 or sl[0].stop == h or sl[1].stop == w
        prior = None if motion is None else motion.get(i)
        a = _object_transform(crop, origin, flows, rng, prior, border)
        if motion is not None:
            motion[i] = _translation_of(a, crop, origin)
        res = _move(crop, origin, a, (h, w))
        if res is not None and res[0].any():
            moved.append((i, res[0], res[1], int(np.count_nonzero(res[0]))))
    count = np.zeros((h, w), np.uint8)
    for i, mm, (x0, y0), _ in sorted(moved, key=lambda x: -x[3]):  # larger first, smaller on top
        region = (slice(y0, y0 + mm.shape[0]), slice(x0, x0 + mm.shape[1]))
        out[region][mm] = i
        count[region] += mm
    if len(moved) > 1 and count.max() > 1:
        ys, xs = np.nonzero(count > 1)
        back = flows.sample_backward(xs, ys)
        sx = np.clip(np.round(xs + back[:, 0]).astype(int), 0, w - 1)
        sy = np.clip(np.round(ys + back[:, 1]).astype(int), 0, h - 1)
        src = labels[sy, sx]
        for i, mm, (x0, y0), _ in moved:
            # overlap pixels inside this object's moved mask whose backward source is this object
            inside = (xs >= x0) & (xs < x0 + mm.shape[1]) & (ys >= y0) & (ys < y0 + mm.shape[0])
            idx = np.nonzero(inside & (src == i))[0]
            if len(idx):
                keep = mm[ys[idx] - y0, xs[idx] - x0]
                out[ys[idx][keep], xs[idx][keep]] = i
    if out_slices is not None:
        for i, mm, (x0, y0), _ in sorted(moved, key=lambda x: x[0]):
            box = occupied_box(out[y0 : y0 + mm.shape[0], x0 : x0 + mm.shape[1]] == i)
            if box is not None:
                out_slices[i] = (slice(y0 + box[0], y0 + box[1]), slice(x0 + box[2], x0 + box[3]))
    return out
