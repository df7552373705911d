"""Scene memory: what each tracked object did, frame by frame, built by streaming over the video.

``SceneMemoryBuilder`` takes one (H, W) uint8 label map per frame (pixel value = object id,
0 = background, the tracks format) and optionally the (H, W, 3) uint8 RGB frame, and keeps only
per-frame numbers per object (box, area, centroid, visibility) plus a bounded colour sample
(at most ``color_bins`` views per object, evenly spread over its visible frames, each at most
``pixels_per_sample`` pixels). Memory
therefore grows with frames x objects, never with the frame size: 50,000 frames x 20 objects
take about 30 MB.

``SceneMemory`` holds the result: ``objects`` (one ``ObjectMemory`` each, with per-frame numpy
arrays and summary properties) and, per pair of objects, the frames on which their masks touch.
Coordinates are pixels; boxes are XYXY with exclusive x2/y2; centroids are (x, y).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Iterable

import numpy as np

from vidagent.arrays import nonzero
from vidagent.errors import InputError
from vidagent.colors import color_vote, object_pixels
from vidagent.vocab import label_matches
from vidagent.types import TracksMeta

MOTION_MIN_FRACTION = 0.06  # net centroid travel (share of frame diagonal) that is motion
MOTION_END_FRACTION = 0.1  # share of the visible frames averaged at each end of a motion
GAP_FILL_SECONDS = 0.2  # gaps in visibility up to this long (>= 2 frames) count as on screen
TOUCH_TOLERANCE = 0.003  # masks closer than this fraction of the diagonal (>= 1 px) touch
_POSITION_NAMES = (
    ("top-left", "top", "top-right"),
    ("left", "center", "right"),
    ("bottom-left", "bottom", "bottom-right"),
)


def position_name(x: float, y: float, width: int, height: int) -> str:
    """One of the nine CONTRACT positions for a point (x, y) in pixels, the frame cut in thirds."""
    col = min(max(int(3 * x / max(width, 1)), 0), 2)
    row = min(max(int(3 * y / max(height, 1)), 0), 2)
    return _POSITION_NAMES[row][col]


@dataclass(frozen=True)
class Motion:
    """Net motion of an object's centroid from its first to its last visible frames.

    ``direction`` is left/right/up/down (the dominant axis) or none; ``speed`` is the net
    displacement divided by the time between them, in pixels per second; dx, dy in pixels.
    """

    direction: str
    speed: float
    dx: float
    dy: float


@dataclass(eq=False)
class ObjectMemory:
    """One object over the whole video.

    Attributes:
        id: track id (1..255).
        label: the detector phrase / tracks label.
        fps, width, height: of the video.
        visible: (T,) bool, the object has at least one mask pixel on frame t.
        boxes: (T, 4) float32 XYXY pixels (x2, y2 exclusive); NaN where not visible.
        areas: (T,) float32 mask area in pixels; 0 where not visible.
        centroids: (T, 2) float32 mask centroid (x, y) in pixels; NaN where not visible.
        color: dominant colour name (``vidagent.vocab.COLORS``), None when unknown.
        color_share: share of the lit pixels that voted for ``color`` (0..1).
    """

    id: int
    label: str
    fps: float
    width: int
    height: int
    visible: np.ndarray
    boxes: np.ndarray
    areas: np.ndarray
    centroids: np.ndarray
    color: str | None = None
    color_share: float = 0.0

    # ---- time -------------------------------------------------------------------------------
    @cached_property
    def visible_frames(self) -> np.ndarray:
        """(N,) int64 indices of the frames where the object is visible."""
        return np.flatnonzero(self.visible)

    @property
    def present(self) -> bool:
        return len(self.visible_frames) > 0

    @property
    def first_frame(self) -> int | None:
        return int(self.visible_frames[0]) if self.present else None

    @property
    def last_frame(self) -> int | None:
        return int(self.visible_frames[-1]) if self.present else None

    @property
    def first_time(self) -> float | None:
        return None if self.first_frame is None else self.first_frame / self.fps

    @property
    def last_time(self) -> float | None:
        return None if self.last_frame is None else self.last_frame / self.fps

    @property
    def num_visible(self) -> int:
        return int(len(self.visible_frames))

    @cached_property
    def on_screen(self) -> np.ndarray:
        """(T,) bool: ``visible`` with short gaps filled (at most ``GAP_FILL_SECONDS``, at least
        2 frames), so that a tracker missing an object for a frame or two does not cut its
        time on screen."""
        out = self.visible.copy()
        f = self.visible_frames
        if len(f) < 2:
            return out
        max_gap = max(2, int(round(GAP_FILL_SECONDS * self.fps)))
        d = np.diff(f)
        short = (d > 1) & (d <= max_gap + 1)
        for start, gap in zip(f[:-1][short], d[short]):
            out[start + 1 : start + gap] = True
        return out

    @property
    def visible_duration(self) -> float:
        """Seconds on screen: frames of ``on_screen`` / fps."""
        return float(self.on_screen.sum()) / self.fps

    # ---- space ------------------------------------------------------------------------------
    @cached_property
    def mean_centroid(self) -> tuple[float, float] | None:
        """Mean mask centroid (x, y) over the visible frames, None when never visible."""
        if not self.present:
            return None
        c = self.centroids[self.visible_frames]
        return float(c[:, 0].mean()), float(c[:, 1].mean())

    @property
    def mean_position(self) -> str | None:
        """Where the object mostly is: one of the nine CONTRACT positions (frame in thirds)."""
        c = self.mean_centroid
        return None if c is None else position_name(c[0], c[1], self.width, self.height)

    @cached_property
    def mean_size(self) -> float:
        """Mean mask area in pixels over the visible frames (0 when never visible)."""
        return float(self.areas[self.visible_frames].mean()) if self.present else 0.0

    @cached_property
    def size(self) -> float:
        """Typical unoccluded mask area in pixels: the 90th percentile over the visible frames
        (partial occlusion on some frames does not shrink it). Used to compare sizes."""
        return float(np.percentile(self.areas[self.visible_frames], 90)) if self.present else 0.0

    @property
    def size_fraction(self) -> float:
        """Typical mask area (``size``) as a fraction of the frame area."""
        return self.size / float(self.width * self.height)

    @cached_property
    def motion(self) -> Motion:
        """Net motion: mean centroid of the last visible frames minus that of the first ones."""
        f = self.visible_frames
        if len(f) < 2:
            return Motion("none", 0.0, 0.0, 0.0)
        k = max(1, int(round(len(f) * MOTION_END_FRACTION)))
        c = self.centroids
        start, end = c[f[:k]].mean(axis=0), c[f[-k:]].mean(axis=0)
        t = (f[-k:].mean() - f[:k].mean()) / self.fps
        dx, dy = float(end[0] - start[0]), float(end[1] - start[1])
        dist = float(np.hypot(dx, dy))
        speed = dist / t if t > 0 else 0.0
        diag = float(np.hypot(self.width, self.height))
        if dist < MOTION_MIN_FRACTION * diag:
            return Motion("none", speed, dx, dy)
        if abs(dx) >= abs(dy):
            direction = "right" if dx > 0 else "left"
        else:
            direction = "down" if dy > 0 else "up"
        return Motion(direction, speed, dx, dy)

    @cached_property
    def path_speed(self) -> float:
        """Mean centroid speed in px/s along the path (centroids sampled about 5 times a second)."""
        f = self.visible_frames
        if len(f) < 2:
            return 0.0
        step = max(1, int(round(self.fps / 5)))
        f = f[::step] if len(f) > 2 * step else f[[0, -1]]
        c = self.centroids[f]
        gaps = np.diff(f)
        ok = gaps <= 3 * step  # do not bridge long absences
        if not ok.any():
            return 0.0
        dist = np.hypot(*np.diff(c, axis=0).T)[ok].sum()
        return float(dist / (gaps[ok].sum() / self.fps))

    # ---- views ------------------------------------------------------------------------------
    def clip(self, start_frame: int | None, end_frame: int | None) -> "ObjectMemory":
        """The same object seen only on frames start_frame..end_frame (inclusive; None = open)."""
        vis = self.visible & self._window_mask(start_frame, end_frame)
        clipped = replace(self, visible=vis)
        # gaps are filled on the whole track, then cut to the window
        on = self.on_screen.copy()
        on[~self._window_mask(start_frame, end_frame)] = False
        clipped.__dict__["on_screen"] = on
        return clipped

    def _window_mask(self, start_frame: int | None, end_frame: int | None) -> np.ndarray:
        keep = np.ones(len(self.visible), bool)
        if start_frame is not None:
            keep[: max(int(start_frame), 0)] = False
        if end_frame is not None:
            keep[int(end_frame) + 1 :] = False
        return keep

    def evidence(self, **extra) -> dict:
        """The evidence entry of CONTRACT's ``ask --json`` for this object."""
        out = {
            "id": int(self.id),
            "label": self.label,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "first_time": None if self.first_time is None else round(self.first_time, 3),
            "last_time": None if self.last_time is None else round(self.last_time, 3),
        }
        out.update(extra)
        return out

    def facts(self) -> dict:
        """A JSON-ready summary (used by ``describe`` and for debugging)."""
        m = self.motion
        return {
            "id": int(self.id),
            "label": self.label,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "visible_duration": round(self.visible_duration, 3),
            "position": self.mean_position,
            "motion": m.direction,
            "speed": round(float(m.speed), 1),
            "size_fraction": round(self.size_fraction, 4),
            "color": self.color,
        }


@dataclass
class SceneMemory:
    """Everything reasoning needs about one video.

    Attributes:
        fps, width, height, num_frames: of the video.
        objects: one ``ObjectMemory`` per track id, sorted by id.
        touching: (id_a, id_b) with id_a < id_b -> (T,) bool, the two masks touch on frame t.
        has_frames: whether RGB frames were seen (colours are known).
    """

    fps: float
    width: int
    height: int
    num_frames: int
    objects: list[ObjectMemory] = field(default_factory=list)
    touching: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    has_frames: bool = False

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    @property
    def present(self) -> list[ObjectMemory]:
        """Objects visible on at least one frame."""
        return [o for o in self.objects if o.present]

    def get(self, object_id: int) -> ObjectMemory:
        for o in self.objects:
            if o.id == object_id:
                return o
        raise KeyError(f"no object with id {object_id}")

    def find(self, phrase: str) -> list[ObjectMemory]:
        """Objects (visible at least once) whose label the noun phrase can refer to.

        Head noun, singular/plural and synonyms are matched ("people" -> "person", "red ball"
        -> "ball"); see ``vidagent.vocab``.
        """
        return [o for o in self.present if label_matches(phrase, o.label)]

    def touch_frames(self, a: int, b: int) -> np.ndarray:
        """(T,) bool: the masks of objects a and b touch (adjacent within the tolerance)."""
        key = (min(a, b), max(a, b))
        t = self.touching.get(key)
        return np.zeros(self.num_frames, bool) if t is None else t

    def clip(self, start_frame: int | None, end_frame: int | None) -> "SceneMemory":
        """The scene seen only on frames start_frame..end_frame (inclusive); times stay absolute."""
        return replace(self, objects=[o.clip(start_frame, end_frame) for o in self.objects])

    def time_to_frame(self, seconds: float) -> int:
        return int(round(seconds * self.fps))


class _ColorSlots:
    """Colour samples of one object, evenly spread over its visible frames, at most
    ``capacity`` of them, whatever the video's length.

    Visible frame number n (counting only frames with RGB) falls in slot n // step; when the
    slots are full, neighbouring pairs merge (keeping the view where the object is largest,
    i.e. least hidden) and ``step`` doubles. Inside a slot a later view replaces the kept one
    only when the object is clearly larger in it.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(int(capacity), 2)
        self.step = 1
        self.seen = 0
        self.areas: list[float] = []
        self.pixels: list[np.ndarray | None] = []

    def next_slot(self) -> int:
        slot = self.seen // self.step
        if slot >= self.capacity:
            self.areas, self.pixels = self._halve()
            self.step *= 2
            slot = self.seen // self.step
        self.seen += 1
        while len(self.areas) <= slot:
            self.areas.append(0.0)
            self.pixels.append(None)
        return slot

    def _halve(self):
        areas, pixels = [], []
        for i in range(0, len(self.areas), 2):
            j = i + 1 if i + 1 < len(self.areas) and self.areas[i + 1] > self.areas[i] else i
            areas.append(self.areas[j])
            pixels.append(self.pixels[j])
        return areas, pixels

    def wants(self, slot: int, area: float) -> bool:
        return self.pixels[slot] is None or area > 1.1 * self.areas[slot]

    def put(self, slot: int, area: float, pixels: np.ndarray) -> None:
        self.areas[slot] = float(area)
        self.pixels[slot] = pixels


class SceneMemoryBuilder:
    """Builds a ``SceneMemory`` from label maps streamed frame by frame.

    Usage::

        b = SceneMemoryBuilder(fps, width, height, num_frames, {1: "dog", 2: "ball"})
        for i, frame in reader.frames():
            b.add_frame(i, label_map_i, frame)   # frame may be None (tracks only)
        memory = b.build()

    ``num_frames`` may be an estimate: storage grows when later frames arrive. Frames never
    added count as frames where no object is visible.
    """

    def __init__(
        self,
        fps: float,
        width: int,
        height: int,
        num_frames: int,
        labels: dict[int, str],
        color_bins: int = 24,
        pixels_per_sample: int = 256,
    ) -> None:
        if not fps or fps <= 0:
            raise InputError(f"fps must be positive, got {fps!r}")
        if width <= 0 or height <= 0:
            raise InputError(f"frame size must be positive, got {width}x{height}")
        self.fps = float(fps)
        self.width, self.height = int(width), int(height)
        self.num_frames = max(int(num_frames), 0)
        self.ids = sorted(int(i) for i in labels)
        for i in self.ids:
            if not 1 <= i <= 255:
                raise InputError(f"object ids must be 1..255, got {i}")
        self.labels = {int(k): str(v) for k, v in labels.items()}
        self._lut = np.full(256, -1, dtype=np.int64)
        self._lut[self.ids] = np.arange(len(self.ids))
        self.color_bins = int(color_bins)
        self.pixels_per_sample = int(pixels_per_sample)
        k = len(self.ids)
        cap = max(self.num_frames, 1)
        self._visible = np.zeros((cap, k), bool)
        self._boxes = np.full((cap, k, 4), np.nan, np.float32)
        self._areas = np.zeros((cap, k), np.float32)
        self._cents = np.full((cap, k, 2), np.nan, np.float32)
        self._slots = [_ColorSlots(self.color_bins) for _ in range(k)]
        self._touch: dict[tuple[int, int], list[int]] = {}
        diag = float(np.hypot(self.width, self.height))
        self._touch_px = max(1, int(round(TOUCH_TOLERANCE * diag)))
        self._last_index = -1
        self._has_frames = False

    def add_objects(self, labels: dict[int, str]) -> None:
        """List more objects while frames stream in (a tracker confirms objects as it goes);
        ids already listed keep their label."""
        new = sorted(int(i) for i in labels if self._lut[int(i)] < 0) if labels else []
        for i in new:
            if not 1 <= i <= 255:
                raise InputError(f"object ids must be 1..255, got {i}")
        if not new:
            return
        k0, k = len(self.ids), len(self.ids) + len(new)
        self._lut[new] = np.arange(k0, k)
        self.ids = sorted(self.ids + new)
        self.labels.update({i: str(labels[i]) for i in new})
        cap = len(self._visible)
        self._visible = np.concatenate([self._visible, np.zeros((cap, k - k0), bool)], axis=1)
        self._boxes = np.concatenate(
            [self._boxes, np.full((cap, k - k0, 4), np.nan, np.float32)], axis=1
        )
        self._areas = np.concatenate([self._areas, np.zeros((cap, k - k0), np.float32)], axis=1)
        self._cents = np.concatenate(
            [self._cents, np.full((cap, k - k0, 2), np.nan, np.float32)], axis=1
        )
        self._slots += [_ColorSlots(self.color_bins) for _ in new]

    @classmethod
    def from_meta(cls, meta: TracksMeta, **kwargs) -> "SceneMemoryBuilder":
        """A builder for a tracks folder's ``objects.json`` (``vidagent.types.TracksMeta``)."""
        return cls(meta.fps, meta.width, meta.height, meta.num_frames, meta.labels(), **kwargs)

    def _grow(self, index: int) -> None:
        cap = len(self._visible)
        if index < cap:
            return
        new = max(index + 1, 2 * cap)
        k = len(self.ids)
        self._visible = np.concatenate([self._visible, np.zeros((new - cap, k), bool)])
        self._boxes = np.concatenate(
            [self._boxes, np.full((new - cap, k, 4), np.nan, np.float32)]
        )
        self._areas = np.concatenate([self._areas, np.zeros((new - cap, k), np.float32)])
        self._cents = np.concatenate([self._cents, np.full((new - cap, k, 2), np.nan, np.float32)])

    def add_frame(self, index: int, label_map: np.ndarray, frame: np.ndarray | None = None) -> None:
        """Record frame ``index`` (strictly increasing over calls).

        Args:
            label_map: (H, W) uint8 object ids, 0 = background.
            frame: optional (H, W, 3) uint8 RGB of the same frame (for colours).
        """
        index = int(index)
        if index <= self._last_index:
            raise ValueError(f"frames must be added in order: got {index} after {self._last_index}")
        lm = np.asarray(label_map)
        if lm.shape != (self.height, self.width):
            raise InputError(
                f"mask of frame {index} is {lm.shape[1::-1]}, expected {self.width}x{self.height}"
            )
        if lm.dtype != np.uint8:
            lm = lm.astype(np.uint8)
        self._last_index = index
        self._grow(index)
        ys, xs = nonzero(lm)
        if len(xs) == 0:
            return
        vals = lm[ys, xs]
        counts = np.bincount(vals, minlength=256)
        present = np.flatnonzero(counts)
        unknown = [int(i) for i in present if self._lut[i] < 0]
        if unknown:
            raise InputError(
                f"mask of frame {index} holds ids {unknown} that are not among the listed objects"
            )
        area = counts[present]
        sx = np.bincount(vals, weights=xs, minlength=256)[present]
        sy = np.bincount(vals, weights=ys, minlength=256)[present]
        rows = np.zeros((256, self.height), bool)
        cols = np.zeros((256, self.width), bool)
        rows[vals, ys] = True
        cols[vals, xs] = True
        rows, cols = rows[present], cols[present]
        y0 = rows.argmax(axis=1)
        y1 = self.height - rows[:, ::-1].argmax(axis=1)
        x0 = cols.argmax(axis=1)
        x1 = self.width - cols[:, ::-1].argmax(axis=1)
        ks = self._lut[present]
        boxes = np.stack([x0, y0, x1, y1], axis=1).astype(np.float32)
        self._visible[index, ks] = True
        self._boxes[index, ks] = boxes
        self._areas[index, ks] = area
        self._cents[index, ks] = np.stack([sx / area, sy / area], axis=1)
        if frame is not None:
            for j, i in enumerate(present):
                self._sample_color(index, int(i), int(ks[j]), boxes[j], lm, frame, int(area[j]))
        if frame is not None:
            self._has_frames = True
        if len(present) >= 2:
            self._record_touching(index, lm, present, boxes)

    def _sample_color(
        self, index: int, oid: int, k: int, box, lm: np.ndarray, frame: np.ndarray, area: int
    ) -> None:
        """Offer this frame's view of object ``oid`` to its colour slots."""
        slots = self._slots[k]
        slot = slots.next_slot()
        if not slots.wants(slot, area):
            return
        x0, y0, x1, y1 = (int(v) for v in box)
        frame = np.asarray(frame)
        if frame.shape[:2] != lm.shape or frame.ndim != 3:
            raise InputError(
                f"frame {index} is {frame.shape}, expected ({self.height}, {self.width}, 3)"
            )
        mask = lm[y0:y1, x0:x1] == oid
        slots.put(slot, area, object_pixels(
            frame[y0:y1, x0:x1], mask, self.pixels_per_sample, rng_seed=index
        ))

    def _record_touching(
        self, index: int, lm: np.ndarray, present: np.ndarray, boxes: np.ndarray
    ) -> None:
        """Record pairs whose masks come within ``_touch_px`` pixels (checked only where their
        boxes, grown by that tolerance, overlap)."""
        tol = self._touch_px
        g = boxes + np.array([-tol, -tol, tol, tol], np.float32)
        x0 = np.maximum(np.maximum(g[:, None, 0], g[None, :, 0]), 0)
        y0 = np.maximum(np.maximum(g[:, None, 1], g[None, :, 1]), 0)
        x1 = np.minimum(np.minimum(g[:, None, 2], g[None, :, 2]), self.width)
        y1 = np.minimum(np.minimum(g[:, None, 3], g[None, :, 3]), self.height)
        overlap = np.triu((x1 > x0) & (y1 > y0), k=1)
        for i, j in zip(*np.nonzero(overlap)):
            a_id, b_id = int(present[i]), int(present[j])
            crop = lm[int(y0[i, j]) : int(y1[i, j]), int(x0[i, j]) : int(x1[i, j])]
            if self._adjacent(crop == a_id, crop == b_id, tol):
                self._touch.setdefault((a_id, b_id), []).append(index)

    @staticmethod
    def _adjacent(ma: np.ndarray, mb: np.ndarray, tol: int) -> bool:
        """Some pixel of ``ma`` lies within ``tol`` pixels (along a row or column) of ``mb``."""
        if not ma.any() or not mb.any():
            return False
        for d in range(1, tol + 1):
            if d < ma.shape[1]:
                if (ma[:, :-d] & mb[:, d:]).any() or (mb[:, :-d] & ma[:, d:]).any():
                    return True
            if d < ma.shape[0]:
                if (ma[:-d] & mb[d:]).any() or (mb[:-d] & ma[d:]).any():
                    return True
        return False

    def build(self) -> SceneMemory:
        """The finished memory (the builder may be discarded afterwards)."""
        t = max(self.num_frames, self._last_index + 1)
        self._grow(max(t - 1, 0))
        objects = []
        for oid in self.ids:
            k = int(self._lut[oid])
            pix = [p for p in self._slots[k].pixels if p is not None]
            vote = color_vote(np.concatenate(pix)) if pix else None
            objects.append(
                ObjectMemory(
                    id=oid,
                    label=self.labels[oid],
                    fps=self.fps,
                    width=self.width,
                    height=self.height,
                    visible=self._visible[:t, k].copy(),
                    boxes=self._boxes[:t, k].copy(),
                    areas=self._areas[:t, k].copy(),
                    centroids=self._cents[:t, k].copy(),
                    color=None if vote is None else vote.name,
                    color_share=0.0 if vote is None else vote.share,
                )
            )
        touching = {}
        for key, frames in self._touch.items():
            arr = np.zeros(t, bool)
            arr[frames] = True
            touching[key] = arr
        return SceneMemory(
            fps=self.fps,
            width=self.width,
            height=self.height,
            num_frames=t,
            objects=objects,
            touching=touching,
            has_frames=self._has_frames,
        )


def build_memory(
    label_maps: Iterable[np.ndarray],
    fps: float,
    labels: dict[int, str],
    frames: Iterable[np.ndarray | None] | None = None,
    num_frames: int = 0,
) -> SceneMemory:
    """Convenience: a memory from in-order label maps (and optionally the matching RGB frames)."""
    builder = None
    frame_iter = iter(frames) if frames is not None else None
    for i, lm in enumerate(label_maps):
        lm = np.asarray(lm)
        if builder is None:
            builder = SceneMemoryBuilder(fps, lm.shape[1], lm.shape[0], num_frames, labels)
        frame = next(frame_iter, None) if frame_iter is not None else None
        builder.add_frame(i, lm, frame)
    if builder is None:
        raise InputError("no masks: a scene memory needs at least one frame")
    return builder.build()
