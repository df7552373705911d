"""Detection-driven multi-object video tracker with stable ids.

Per frame, in order:

1. the previous label map is moved to this frame by optical flow (``flow.propagate_labels``);
2. on a detection frame (every ``detect_every``-th frame with a detector, or the frames of the
   user's detections) the detections get masks (given, or from the segmenter prompted with
   their boxes, or -- with neither -- the filled box) and are matched one to one to the live
   tracks by Hungarian assignment on mask IoU (same label only, and not when their colours
   clearly differ). A second stage matches the rest by motion and colour: a track of the
   detection's label that can have moved there since its last detection and looks like it (a
   small fast object outruns its flow mask). A matched detection corrects its track: a
   signed-distance blend with what the track knows of the shape (the model-refined mask, or,
   with flow alone, the mean of its earlier detections kept within ``fuse_clamp`` px of the
   detection), a running mean over the detections that agree with it, so the noise of
   successive detections averages out. An unmatched detection that is mostly covered by the
   matched detections' masks is a duplicate; any other is compared by appearance with the lost and fading tracks
   of its label that can be back there (one that left the view comes back over the side it
   left by, no faster than it moved) (re-identification, same id), else starts a tentative
   track. A confirmed
   track left unmatched whose flow mask shrank away or no longer has its colours is set aside
   as lost at once (no stale mask that could take another object's detection);
3. on a key frame (every ``stride``-th frame and every detection frame) the propagator refines
   the masks (SAM from flow-carried boxes, or a SAM 2 video session);
4. track life follows DEVA: a tentative track becomes an object after ``confirm_hits``
   detections and is deleted when it misses ``tentative_max_misses`` detection rounds (one
   that goes out of view right after it was found is set aside instead, so that its return
   confirms it); an object that misses ``max_misses`` rounds, or whose mask vanishes, is set
   aside as lost and keeps its id for re-identification;
5. objects crossing the frame's edge between detections (small fast ones outrun their flow
   masks): a new track's first mask is carried back along its velocity to where it came in
   (over frames that look like it), and a track whose velocity took it out of the frame is
   shown leaving along it (one set aside whose velocity kept it in view is followed by its
   colour over the frames since its last detection: it may have sped up and left); a new track seen once that the frames after show moving out of the
   frame becomes an object; a track re-identified after being set aside is interpolated
   between its two detections; after the last detection frame, a flow mask that no longer
   looks like its object is replaced by the object's mask at its velocity or where its colours
   are nearby.

``stream`` yields ``(index, frame, label_map)`` after a delay of about ``detect_every *
confirm_hits`` frames, so that label maps carry final ids only: tentative and deleted tracks
never appear. Memory is bounded by that window, not by the video length.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from vidagent.arrays import nonzero, occupied_box
from vidagent.models.base import Detector, Segmenter
from vidagent.tracking.ahead import KeyframeAhead
from vidagent.tracking.config import TrackerConfig
from vidagent.tracking.flow import (
    FlowPair,
    FlowWarper,
    object_slices,
    prefetch_flows,
    propagate_labels,
)
from vidagent.tracking.labels import (
    appearance,
    blend_labels,
    box_iou_matrix,
    boundaries_agree,
    box_mask,
    color_shift,
    color_similarity,
    fuse_masks,
    fuse_shape,
    interpolate_crops,
    interpolate_masks,
    mask_box,
    mask_iou_matrix,
    match_scores,
    mean_color,
    paint_by_depth,
    similarity,
)
from vidagent.tracking.propagators import Propagator, SamFlowPropagator, flow_propagator
from vidagent.tracking.schedule import make_schedule
from vidagent.types import Detections, ObjectInfo
from vidagent.vocab import phrase_matches

log = logging.getLogger(__name__)

TENTATIVE, CONFIRMED, LOST, DELETED = "tentative", "confirmed", "lost", "deleted"
_MAX_INTERNAL = 65535  # internal ids live in uint16 label maps


class _Memo(dict):
    """A dict that makes a missing value with ``make(key)`` on its first look-up."""

    def __init__(self, make) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key):
        value = self[key] = self._make(key)
        return value


@dataclass
class _Pending:
    """A processed frame waiting to be emitted: the frame, its label map (internal ids) and the
    flow from the frame before it (None for the first frame)."""

    index: int
    labels: np.ndarray
    flows: FlowPair | None = field(default=None, repr=False)
    frame: np.ndarray | None = field(default=None, repr=False)


@dataclass
class Track:
    """One track's bookkeeping; ``tid`` is internal, ``object_id`` the emitted id (0 until
    confirmed)."""

    tid: int
    label: str
    state: str = TENTATIVE
    hits: int = 1
    misses: int = 0
    object_id: int = 0
    last_seen: int = 0
    hist: np.ndarray | None = field(default=None, repr=False)
    color: np.ndarray | None = field(default=None, repr=False)  # mean Lab colour
    area: float = 0.0  # typical mask area (running mean at matched detections)
    whole: float = 0.0  # the same over its masks clear of the frame's edge (0: none yet)
    fused: int = 1  # detections averaged into the mask since it was last replaced
    # motion model from the detection frames: (frame, x, y) centroid at the last one, and the
    # velocity (px/frame) between the last two (None until two are known)
    anchor: tuple[int, float, float] | None = None
    velocity: np.ndarray | None = field(default=None, repr=False)
    # shape model: the mask output at the last detection frame (a crop, its top-left (x, y),
    # and whether it touched the frame edge, i.e. may be cut off)
    shape: np.ndarray | None = field(default=None, repr=False)
    shape_origin: tuple[int, int] = (0, 0)
    shape_cut: bool = True
    box: np.ndarray | None = field(default=None, repr=False)  # box at the last detection frame
    # the mask at the first detection frame (frame, crop, its top-left (x, y)) until the track's
    # second detection gives a velocity to carry it back along (an object entering the frame)
    birth: tuple[int, np.ndarray, tuple[int, int]] | None = field(default=None, repr=False)
    # the detection frame after which the object was seen leaving the view (None: never);
    # its return is no motion from there (``_bridge`` does not interpolate across it)
    left: int | None = None


# a placement along the motion model at least this alike in colour is taken as it is; below,
# a better one nearby is looked for (``Tracker._closer_look``)
TAIL_ALIKE = 0.8
# of the tracks whose flow masks overlap one detection about equally, one more alike in mean
# colour than another by at least this much takes it (``Tracker._prefer_alike``)
ALIKE_MARGIN = 0.15
# a pixel another track holds is searched by ``Tracker._snap`` for an object whose mean colour
# it is nearer than its holder's by at least this much (Lab distance)
HELD_MARGIN = 10.0


def _touches_edge(mask: np.ndarray) -> bool:
    """True when a (H, W) bool mask reaches the frame's edge (the object may be cut off)."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _edge_aware_velocity(
    prev: np.ndarray | None,
    cur: np.ndarray,
    shift: np.ndarray,
    dt: int,
    shape: tuple[int, int],
) -> np.ndarray:
    """Velocity (px/frame) between two detection frames ``dt`` apart from the centroid
    ``shift``, except along an axis where either box touches the frame edge: there the mask is
    cut off and its centroid lags the object (an object entering the frame seems to crawl), so
    the box sides clear of the edge in both give it."""
    v = np.asarray(shift, float).copy()
    if prev is not None:
        h, w = shape
        for ax, size in ((0, w), (1, h)):
            lo = prev[ax] > 0 and cur[ax] > 0
            hi = prev[ax + 2] < size and cur[ax + 2] < size
            if lo and hi:
                continue
            sides = ([cur[ax] - prev[ax]] if lo else []) + (
                [cur[ax + 2] - prev[ax + 2]] if hi else []
            )
            if sides:
                v[ax] = float(np.mean(sides))
    return v / float(dt)


def _paint_shifted(
    labels: np.ndarray,
    tid: int,
    crop: np.ndarray,
    origin: tuple[int, int],
    dx: float,
    dy: float,
) -> np.ndarray:
    """``labels`` with track ``tid``'s pixels replaced by the mask ``crop`` (top-left at
    ``origin``) moved by (dx, dy), cut to the frame, on pixels no other track holds."""
    out = labels.copy()
    out[out == tid] = 0
    win = _shifted_window(crop, origin, dx, dy, out.shape)
    if win is None:
        return out
    sub, (x0, y0, x1, y1) = win
    region = out[y0:y1, x0:x1]
    region[sub & (region == 0)] = tid
    return out


def _placed(crop: np.ndarray, origin: tuple[int, int], dx: float, dy: float,
            shape: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """Full-frame bool mask (``shape``) of the mask ``crop`` (top-left at ``origin``) moved by
    (dx, dy), cut to the frame."""
    out = np.zeros(shape, bool)
    win = _shifted_window(crop, origin, dx, dy, shape)
    if win is not None:
        sub, (x0, y0, x1, y1) = win
        out[y0:y1, x0:x1] = sub
    return out


def _repaint(labels: np.ndarray, tid: int, mask: np.ndarray) -> np.ndarray:
    """``labels`` with track ``tid``'s pixels replaced by the full-frame bool ``mask``, on
    pixels no other track holds (``_paint_shifted`` for a mask already in place)."""
    out = labels.copy()
    out[out == tid] = 0
    out[mask & (out == 0)] = tid
    return out


def _between(
    shape: np.ndarray, origin: tuple[int, int], end: np.ndarray, w: float
) -> tuple[np.ndarray, tuple[int, int]]:
    """The mask between the crop ``shape`` (top-left at ``origin``, cut to the frame) and the
    full-frame mask ``end``, at weight ``w`` towards ``end`` (``interpolate_crops``), as a bool
    crop and its top-left (x, y): no whole-frame arrays but ``end``'s occupied-box scan."""
    box = occupied_box(end)
    if box is None:
        return np.zeros((0, 0), bool), (0, 0)
    y0, y1, x0, x1 = box
    win = _shifted_window(shape, origin, 0.0, 0.0, end.shape)
    if win is None:
        return end[y0:y1, x0:x1], (x0, y0)
    crop, (sx0, sy0, _, _) = win
    return interpolate_crops(crop, (sx0, sy0), end[y0:y1, x0:x1], (x0, y0), end.shape, w)


def _shifted_window(
    crop: np.ndarray, origin: tuple[int, int], dx: float, dy: float, shape: tuple[int, int]
) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The part of mask ``crop`` (top-left at ``origin``) moved by (dx, dy) that lies in a
    frame of ``shape``, and where (x0, y0, x1, y1); None when none does."""
    h, w = shape
    ch, cw = crop.shape
    ix, iy = int(round(origin[0] + dx)), int(round(origin[1] + dy))
    x0, y0, x1, y1 = max(ix, 0), max(iy, 0), min(ix + cw, w), min(iy + ch, h)
    if x1 <= x0 or y1 <= y0:
        return None
    return crop[y0 - iy : y1 - iy, x0 - ix : x1 - ix], (x0, y0, x1, y1)


def _shifted_area(
    crop: np.ndarray, origin: tuple[int, int], dx: float, dy: float, shape: tuple[int, int]
) -> int:
    """Pixels of mask ``crop`` (top-left at ``origin``) moved by (dx, dy) in a frame of
    ``shape``: what ``_paint_shifted`` paints on an empty label map, without one."""
    win = _shifted_window(crop, origin, dx, dy, shape)
    if win is None:
        return 0
    sub = win[0]
    region = np.zeros(sub.shape, np.uint8)
    region[sub & (region == 0)] = 1
    return int(np.count_nonzero(region))


def _crop_box(crop: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """XYXY box (float32) of a mask crop with its top-left at ``origin`` (x, y)."""
    return np.array([origin[0], origin[1], origin[0] + crop.shape[1],
                     origin[1] + crop.shape[0]], np.float32)  # fmt: skip


def _out_of_frame(
    box: np.ndarray, dx: float, dy: float, shape: tuple[int, int], share: float = 0.0
) -> bool:
    """True when at most ``share`` of XYXY ``box`` moved by (dx, dy) lies inside a frame of
    ``shape`` (0: wholly outside)."""
    h, w = shape
    x0, y0, x1, y1 = box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy
    inside = max(min(x1, w) - max(x0, 0), 0) * max(min(y1, h) - max(y0, 0), 0)
    return bool(inside <= share * max((x1 - x0) * (y1 - y0), 1e-6))


def _in_view(box: np.ndarray, dx: float, dy: float, shape: tuple[int, int]) -> float:
    """The share of XYXY ``box`` moved by (dx, dy) that lies inside a frame of ``shape``."""
    h, w = shape
    x0, y0, x1, y1 = box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy
    inside = max(min(x1, w) - max(x0, 0), 0) * max(min(y1, h) - max(y0, 0), 0)
    return float(inside / max((x1 - x0) * (y1 - y0), 1e-6))


def _moved_out(t: Track, index: int, shape: tuple[int, int]) -> bool:
    """True when track ``t``'s velocity took its last detection's box (mostly: at most a
    quarter left) out of a frame of ``shape`` by frame ``index``; False without a motion."""
    if t.velocity is None or t.box is None or t.anchor is None:
        return False
    return _out_of_frame(t.box, *(t.velocity * (index - t.anchor[0])), shape, 0.25)


def _edge_sides(box: np.ndarray, shape: tuple[int, int]) -> set[str]:
    """The frame sides (left, top, right, bottom) XYXY ``box`` reaches in a frame of
    ``shape``."""
    h, w = shape
    return {s for s, out in zip(("left", "top", "right", "bottom"),
                                (box[0] <= 0, box[1] <= 0, box[2] >= w, box[3] >= h)) if out}


def _exit_sides(
    t: Track, v: np.ndarray | None, index: int, shape: tuple[int, int]
) -> set[str]:
    """The frame sides track ``t`` left the view over: those velocity ``v`` took its last
    detection's box out over by frame ``index`` (as ``_moved_out``); none for a track whose
    motion kept it in view (lost behind something, or turned back at the edge)."""
    if t.box is None or t.anchor is None or v is None:
        return set()
    shift = v * (index - t.anchor[0])
    if not _out_of_frame(t.box, *shift, shape, 0.25):
        return set()
    return _edge_sides(t.box + np.tile(shift, 2), shape)


def _expected_at(t: Track, index: int) -> np.ndarray:
    """Where track ``t``'s velocity puts its centre on frame ``index`` (x, y), from its anchor."""
    return np.array(t.anchor[1:]) + t.velocity * (index - t.anchor[0])


def _turned_back(t: Track, index: int, c: np.ndarray, shape: tuple[int, int]) -> bool:
    """True when centroid ``c`` at frame ``index`` lies on track ``t``'s line of motion where
    the object, had it turned back while in view (its box where it turned mostly inside the
    frame), can be by then: within its size of the line, no farther along it either way than
    its speed takes it since its last detection (an object going back and forth, hidden or
    missed while it turned)."""
    if t.velocity is None or t.anchor is None or t.box is None:
        return False
    speed = float(np.hypot(*t.velocity))
    dt = index - t.anchor[0]
    if speed <= 0 or dt <= 0:
        return False
    u = np.asarray(t.velocity, float) / speed
    d = np.asarray(c, float) - np.array(t.anchor[1:])
    along = float(d @ u)
    size = np.sqrt(max(t.area, 1.0))
    if abs(d[0] * u[1] - d[1] * u[0]) > size or abs(along) > speed * dt + size:
        return False
    turn = min(max((along / speed + dt) / 2.0, 0.0), float(dt))  # frames until it turned
    return not _out_of_frame(t.box, *(t.velocity * turn), shape, 0.5)


def _entry_path(
    box: np.ndarray, v: np.ndarray, b: int, most: int, shape: tuple[int, int]
) -> list[tuple[int, np.ndarray]]:
    """(frame, offset) for the frames before ``b`` along which XYXY ``box`` (at frame ``b``)
    came at velocity ``v``: back to the video's first frame or ``most`` frames (in view all
    along: missed or hidden on the detection frames before; ``_paint_entry`` goes back only as
    far as the frames look like it, and stops where the box, corrected by where the frames
    showed it, is wholly outside)."""
    return [(k, -v * (b - k)) for k in range(b - 1, max(b - most, 0) - 1, -1)]


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


class Tracker:
    """Tracks every object matching the phrases through a video with stable ids.

    Args:
        config: tracker settings (``TrackerConfig.from_dict(profile["tracker"])``).
        detector: finds boxes on detection frames; may be None when ``run`` gets detections.
        segmenter: turns boxes into masks and, without ``propagator``, refines masks on key
            frames (``SamFlowPropagator``); None: box-filled masks and flow only.
        propagator: a ``Propagator`` (e.g. ``Sam2VideoPropagator``) that overrides the default.
    """

    def __init__(
        self,
        config: TrackerConfig | None = None,
        detector: Detector | None = None,
        segmenter: Segmenter | None = None,
        propagator: Propagator | None = None,
    ) -> None:
        self.config = config or TrackerConfig()
        self.detector = detector
        self.segmenter = segmenter
        self.propagator = propagator or flow_propagator(segmenter, self.config)
        self._tracks: dict[int, Track] = {}
        self.objects: list[ObjectInfo] = []
        self._ahead: KeyframeAhead | None = None

    # ------------------------------------------------------------------ public

    def run(
        self,
        frames: Iterable[tuple[int, np.ndarray]],
        num_frames: int,
        phrases: list[str],
        on_frame: Callable[[int, np.ndarray], None],
        detections: dict[int, Detections] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[ObjectInfo]:
        """``stream`` with a callback: ``on_frame(index, label_map)`` once per frame, in order;
        returns the confirmed objects (``self.objects``)."""
        for index, _frame, label_map in self.stream(frames, num_frames, phrases, detections, progress):
            on_frame(index, label_map)
        return self.objects

    @property
    def labels(self) -> dict[int, str]:
        """Object id -> label of the objects confirmed so far (every id a label map yielded so
        far holds is here)."""
        return {
            t.object_id: t.label
            for t in self._tracks.values()
            if t.object_id > 0 and t.state != DELETED
        }

    def stream(
        self,
        frames: Iterable[tuple[int, np.ndarray]],
        num_frames: int,
        phrases: list[str],
        detections: dict[int, Detections] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Track through ``frames``, yielding ``(index, frame, label_map)`` once per frame, in
        order, a bounded number of frames behind the input.

        Args:
            frames: (index, HxWx3 uint8 RGB) at original size, every frame, in order.
            num_frames: number of frames (for progress and the last key frame).
            phrases: detector phrases; an object's label is the phrase it was detected as.
            detections: the user's detections by frame index, any Mapping int -> Detections
                (boxes in original pixels, masks optional). When given, the detector is not run:
                frames absent from it are not detection frames. Only detections whose label
                names one of ``phrases`` are used (``phrase_matches``; all when ``phrases`` is
                empty), and an object keeps the user's label. Detections without masks get them
                from the segmenter, or -- without one -- are filled boxes.
            progress: called as progress(frames_done, num_frames).

        Yields:
            (index, the frame as given, (H, W) uint8 label map of final object ids, 0 =
            background); ``self.labels`` names every id yielded so far.

        When the stream is exhausted ``self.objects`` holds the confirmed objects (ids 1..255,
        label = phrase, sorted by id) and ``self.timings`` the seconds spent in detect, segment,
        propagate (the video engine) and flow (optical flow, mask moving, interpolation); with
        keyframe models computed ahead (``lookahead``), ``ahead`` the part of detect and segment
        that ran while the tracker worked on earlier frames (off its path).
        """
        cfg = self.config
        if detections is None and self.detector is None:
            raise ValueError("Tracker.run needs a detector or per-frame detections")
        self._tracks = {}
        self.objects = []
        self._next_tid = 1
        self._next_object_id = 1
        self._warned_full = False
        self._motion: dict[int, np.ndarray] = {}  # last per-object transform (forward in time)
        self._singles: set[int] = set()  # new tracks set aside after one detection
        # objects whose mask vanished between detection frames as their motion took them out
        # of the frame: shown leaving at the next anchor (``_extrapolate_edges``)
        self._vanished: set[int] = set()
        # objects not detected at an anchor whose flow mask slid off them there while their
        # motion kept them in view (flow lost a small fast one): shown leaving at a later anchor
        # by which that motion took them out of the frame, while the frames since their last
        # detection are still buffered
        self._outrun: set[int] = set()
        # objects set aside whose last motion kept them in view: followed by their colour over
        # the frames since their last detection at each later anchor (they may have sped up
        # and left: ``_follow_out``), while those frames are still buffered; the offsets of the
        # ones found leaving, by frame
        self._lagging: set[int] = set()
        self._paths: dict[int, dict[int, np.ndarray]] = {}
        self.timings = {"detect": 0.0, "segment": 0.0, "propagate": 0.0, "flow": 0.0}
        warper = FlowWarper(cfg.flow_size, cfg.flow_finest_scale)
        self.schedule = make_schedule(cfg.schedule, cfg.detect_every, cfg.stride, cfg.min_area,
                                      cfg.refresh_last)
        # mask reuse (``reuse_box_iou``): id -> (frame, area) of each track's last segmenter mask;
        # frames where a key frame ran no segmenter; frames where the segmenter ran
        self._fresh: dict[int, tuple[int, int]] = {}
        self.reused_frames: list[int] = []
        self.segmenter_frames: list[int] = []
        reuse = cfg.reuse_box_iou is not None and isinstance(self.propagator, SamFlowPropagator)
        # a new track is decided (confirmed or deleted) within this many detection rounds
        rounds = cfg.confirm_hits + cfg.tentative_max_misses
        gap = self.schedule.decision_gap
        if detections:
            keys = sorted(detections)
            gap = int(max(np.diff(keys).max(), 1)) if len(keys) > 1 else 1
        window = min(max(gap * rounds, cfg.stride) + 1, max(cfg.max_delay, 1))
        # id(label map) -> (label map, its object_slices), of the maps propagate_labels made and
        # _bookkeeping returned lately (those of the buffered frames): label maps are not
        # written in place once made (each change makes a copy), so those slices hold while a
        # frame keeps that array
        self._known_slices: OrderedDict[int, tuple[np.ndarray, dict]] = OrderedDict()
        self._known_cap = window + 4
        buffer: deque[_Pending] = deque()
        self._buffer = buffer  # the frames before the current one (``_prefer_on_course``)
        labels: np.ndarray | None = None
        started = False
        last_anchor: int | None = None
        last_detection: int | None = None
        model_keys = self.propagator.uses_model
        self._model_keys = model_keys
        # a velocity is measured between detections at most this many frames apart
        self._motion_gap = gap * (cfg.max_misses + 1)
        embed_ahead = self.segmenter is not None and self.segmenter.can_embed and not reuse
        for index, frame, flows in self._read(frames, warper, phrases, detections, embed_ahead):
            if not started:
                self.propagator.reset(frame.shape[0], frame.shape[1])
                started = True
            t0 = time.perf_counter()
            if labels is None or flows is None:
                labels = np.zeros(frame.shape[:2], np.uint16)
            else:
                made: dict[int, tuple[slice, slice]] = {}
                labels = propagate_labels(labels, flows, self._motion,
                                          slices=self._slices_of(labels), out_slices=made)
                self._remember_slices(labels, made)
                flows.compact()
            self.timings["flow"] += time.perf_counter() - t0
            self._born: set[int] = set()
            self._drift: dict[int, tuple[float, float]] = {}
            self._prev_anchor: dict[int, tuple[int, np.ndarray, tuple[int, int]]] = {}
            self._keep_shape: set[int] = set()
            self._exits: set[int] = set()
            self._gone: set[int] = set()
            self._revived: set[int] = set()
            self._rematched: set[int] = set()
            self._uncrossed: set[int] = set()
            # tracks seen once confirmed on this frame as carried away (``_carried_away``):
            # their first mask is carried back to where they came in (``_extrapolate_edges``)
            self._carried_off: set[int] = set()
            # tracks matched on this frame to a user-given mask under ``min_area`` (``_associate``)
            self._slivers: set[int] = set()
            self._given_masks = False
            live_now = {
                t.tid: t.state for t in self._tracks.values() if t.state in (TENTATIVE, CONFIRMED)
            }
            plan = self.schedule.plan(index, num_frames, frame, labels, live_now)
            self._reused = False
            dets = self._detections_for(
                index, frame, phrases, detections, plan.detect, labels if reuse else None
            )
            is_key = plan.refresh or dets is not None
            # (``_reuse_masks`` reuses only when no track is stale: not tested twice)
            if reuse and is_key and (self._reused or (
                    (dets is None or not len(dets)) and not self._stale(index, labels))):  # fmt: skip
                # every detection took its track's flow-carried mask (or there is none) and no
                # track needs a fresh one: no segmenter on this key frame
                is_key = False
                if not self._reused:
                    self.reused_frames.append(index)
            seeds: dict[int, np.ndarray] = {}
            if dets is not None:
                labels, seeds = self._associate(index, frame, labels, dets)
            refreshed = False
            if is_key:
                live = [t for t in self._tracks.values() if t.state in (TENTATIVE, CONFIRMED)]
                if live or seeds:
                    t0 = time.perf_counter()
                    labels = self.propagator.step(index, frame, labels, seeds)
                    self.timings["propagate"] += time.perf_counter() - t0
                    refreshed = True
            labels = self._bookkeeping(index, frame, labels, dets is not None)
            if reuse and is_key and (refreshed or (dets is not None and not self._reused)):
                self.segmenter_frames.append(index)
                ids, counts = np.unique(labels, return_counts=True)
                self._fresh = {int(i): (index, int(c)) for i, c in zip(ids, counts) if i}
            self.schedule.observe(
                index, frame, labels, dets is not None, is_key,
                {t.tid: t.hist for t in self._tracks.values() if t.state in (TENTATIVE, CONFIRMED)},
            )  # fmt: skip
            buffer.append(_Pending(index, labels, flows, frame))
            # an anchor is a frame where new evidence came in: detections, or a model key frame
            if dets is not None or (is_key and model_keys):
                self._exits_at_anchor(index, buffer)
                if cfg.fill_back:
                    t0 = time.perf_counter()
                    self._fill_back(buffer, last_anchor, last_detection)
                    self._resolve_singles(buffer, gap)
                    self._extrapolate_edges(buffer, gap)
                    self.timings["flow"] += time.perf_counter() - t0
                last_anchor = index
            if dets is not None:
                last_detection = index
            while len(buffer) > window:
                p = buffer.popleft()
                yield p.index, p.frame, self._final_ids(p.labels)
            if progress is not None:
                progress(index + 1, num_frames)
        # the video ended before the last new tracks could see another detection round: a
        # tentative track that never missed one had no chance to be confirmed, so it counts
        # (a one-frame video, or an object found only on the last detection frame)
        for t in list(self._tracks.values()):
            if t.state == TENTATIVE and t.misses == 0 and t.hits >= 1:
                self._confirm(t)
        self._finish_tails(buffer)
        self._finish_lost_tails(buffer)
        while buffer:
            p = buffer.popleft()
            yield p.index, p.frame, self._final_ids(p.labels)
        self.objects = [
            ObjectInfo(t.object_id, t.label)
            for t in sorted(self._tracks.values(), key=lambda t: t.object_id)
            if t.object_id > 0
        ]

    def _exits_at_anchor(self, index: int, buffer: deque[_Pending]) -> None:
        """On anchor ``index`` (the last frame in ``buffer``): the tracks shown leaving
        (``self._exits``) -- those whose mask vanished as their motion took them out of the
        frame, those set aside in view whose motion has taken them out by now (``_outrun``), and
        those set aside in view that their colour shows leaving faster (``_follow_out``) -- while
        the frames since their last detection are still buffered."""
        shape = buffer[-1].labels.shape
        self._exits |= {tid for tid in self._vanished if self._tracks[tid].state == LOST}
        self._vanished.clear()
        for tid in sorted(self._outrun):
            t = self._tracks[tid]
            if t.state != LOST or t.anchor[0] < buffer[0].index:
                self._outrun.discard(tid)  # re-identified, or its frames were emitted
            elif _moved_out(t, index, shape):
                self._outrun.discard(tid)
                self._exits.add(tid)
        for tid in sorted(self._lagging):
            t = self._tracks[tid]
            if t.state != LOST or t.anchor[0] < buffer[0].index or tid in self._exits:
                self._lagging.discard(tid)
                continue
            path = self._follow_out(t, buffer)
            if path is not None:
                self._lagging.discard(tid)
                self._outrun.discard(tid)
                self._paths[tid] = path
                self._exits.add(tid)
                t.left = t.anchor[0]

    # ------------------------------------------------------------------ detection

    def _read(
        self,
        frames: Iterable[tuple[int, np.ndarray]],
        warper: FlowWarper,
        phrases: list[str],
        given: dict[int, Detections] | None,
        embed: bool,
    ) -> Iterator[tuple[int, np.ndarray, FlowPair | None]]:
        """``prefetch_flows`` of ``frames``; with ``lookahead`` (and ``prefetch``) on and keyframes
        known in advance, their models computed ahead as the reader reaches them
        (``self._ahead``, which ``_detections_for`` takes them from)."""
        cfg = self.config
        if given is not None:
            # the user's detections cost nothing to compute: ahead only for their embeddings
            wanted = given.__contains__ if embed else None
        elif self.schedule.detects_at(0) is not None:
            wanted = self.schedule.detects_at
        else:
            wanted = None  # the schedule decides from what tracking finds
        self._ahead = None
        if wanted is None or cfg.lookahead <= 0 or cfg.prefetch <= 0:
            yield from prefetch_flows(frames, warper, cfg.prefetch)
            return
        self._ahead = KeyframeAhead(
            lambda index, frame: self._keyframe_models(index, frame, phrases, given, embed), wanted
        )
        try:
            yield from prefetch_flows(frames, warper, max(cfg.prefetch, cfg.lookahead),
                                      self._ahead.offer)  # fmt: skip
        finally:
            self._ahead.close()
            # model seconds that ran while the tracker worked on earlier frames (in ``detect``
            # and ``segment``, but not on the tracker's path)
            self.timings["ahead"] = max(self._ahead.worked - self._ahead.waited, 0.0)

    def _keyframe_models(
        self,
        index: int,
        frame: np.ndarray,
        phrases: list[str],
        given: dict[int, Detections] | None,
        embed: bool,
    ) -> tuple[Detections, object, float, float]:
        """Detection frame ``index``'s detections (the user's, of ``phrases``; else the
        detector's) and, with ``embed``, when they need masks, the segmenter's embedding of the
        frame; and the seconds of the detector and of the embedding."""
        cfg = self.config
        t0 = time.perf_counter()
        if given is not None:
            dets = given[index]
            if phrases and len(dets):
                keep = [k for k, lab in enumerate(dets.labels) if phrase_matches(lab, phrases)]
                dets = dets[np.array(keep, dtype=int)]
        else:
            dets = self.detector.detect(
                frame, phrases, cfg.box_threshold, cfg.text_threshold, cfg.max_boxes
            )
        t1 = time.perf_counter()
        embedding = None
        if embed and len(dets) and dets.masks is None:
            embedding = self.segmenter.embed(frame)
        return dets, embedding, (t1 - t0 if given is None else 0.0), time.perf_counter() - t1

    def _detections_for(
        self,
        index: int,
        frame: np.ndarray,
        phrases: list[str],
        given: dict[int, Detections] | None,
        run_detector: bool = True,
        carried: np.ndarray | None = None,
    ) -> Detections | None:
        """This frame's detections with masks, or None when it is not a detection frame (not in
        ``given``; without ``given``, when the schedule did not ask for the detector).

        ``carried`` (the flow-carried label map; mask reuse on): detections that all match
        live tracks by box take their masks (``_reuse_masks``) and the segmenter does not run.
        """
        if (index not in given) if given is not None else not run_detector:
            return None
        ahead, models = (False, None) if self._ahead is None else self._ahead.take(index)
        if not ahead:
            models = self._keyframe_models(index, frame, phrases, given, False)
        dets, embedding, detect_s, embed_s = models
        self.timings["detect"] += detect_s
        self.timings["segment"] += embed_s
        h, w = frame.shape[:2]
        if len(dets) == 0:
            return Detections.empty((h, w))
        if dets.masks is not None:
            if dets.masks.shape[1:] != (h, w):
                raise ValueError(
                    f"detections of frame {index} have masks of size {dets.masks.shape[1:]},"
                    f" the video is {(h, w)}"
                )
            self._given_masks = given is not None
            return dets
        reused = None if carried is None else self._reuse_masks(index, carried, dets)
        if reused is not None:
            self._reused = True
            self.reused_frames.append(index)
            masks = reused
        elif self.segmenter is not None:
            t0 = time.perf_counter()
            self.propagator.segmenter_image(self.segmenter, index, frame, embedding)
            masks, _ = self.segmenter.predict(boxes=dets.boxes)  # the profile's box setting
            self.timings["segment"] += time.perf_counter() - t0
        else:
            masks = np.stack([box_mask(b, (h, w)) for b in dets.boxes])
        return Detections(dets.boxes, dets.scores, dets.labels, masks=masks)

    # ------------------------------------------------------------------ mask reuse

    def _stale(self, index: int, labels: np.ndarray) -> bool:
        """True when a live track's flow-carried mask needs a fresh segmenter mask: none since
        it was born, more than ``reuse_max_age`` frames old, or its area changed by more than
        ``reuse_max_drift`` since then. Tracks whose mask has (almost) vanished do not count
        (the segmenter would not refine them)."""
        cfg = self.config
        ids, counts = np.unique(labels, return_counts=True)
        area = {int(i): int(c) for i, c in zip(ids, counts) if i}
        for t in self._tracks.values():
            if t.state not in (TENTATIVE, CONFIRMED) or area.get(t.tid, 0) < cfg.min_area:
                continue
            fresh = self._fresh.get(t.tid)
            if fresh is None or index - fresh[0] > cfg.reuse_max_age:
                return True
            if fresh[1] <= 0 or abs(area[t.tid] / fresh[1] - 1.0) > cfg.reuse_max_drift:
                return True
        return False

    def _reuse_masks(self, index: int, labels: np.ndarray, dets: Detections) -> np.ndarray | None:
        """The flow-carried masks of the live tracks that this frame's detections match one to
        one (same label, box IoU at least ``reuse_box_iou``), in detection order; None when a
        detection matches none or any track is stale (``_stale``): then the segmenter runs."""
        cfg = self.config
        live = [t for t in self._tracks.values() if t.state in (TENTATIVE, CONFIRMED)]
        if not live or len(dets) > len(live) or self._stale(index, labels):
            return None
        masks, boxes, owners = [], [], []
        for t in live:
            m = labels == t.tid
            if np.count_nonzero(m) < cfg.min_area:
                continue
            masks.append(m)
            boxes.append(mask_box(m))
            owners.append(t)
        if len(owners) < len(dets):
            return None
        iou = box_iou_matrix(np.asarray(dets.boxes, np.float32).reshape(-1, 4), np.stack(boxes))
        for a, lab in enumerate(dets.labels):
            for b, t in enumerate(owners):
                if t.label != lab:
                    iou[a, b] = 0.0
        rows, cols = linear_sum_assignment(-iou)
        if len(rows) < len(dets) or (iou[rows, cols] < cfg.reuse_box_iou).any():
            return None
        out = np.zeros((len(dets), *labels.shape), bool)
        for r, c in zip(rows, cols):
            out[r] = masks[c]
        return out

    # ------------------------------------------------------------------ association

    def _associate(
        self, index: int, frame: np.ndarray, labels: np.ndarray, dets: Detections
    ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Match detections to live tracks; returns the updated label map and the seeds."""
        cfg = self.config
        live = [t for t in self._tracks.values() if t.state in (TENTATIVE, CONFIRMED)]
        det_masks = [m for m in dets.masks]
        # masks under ``min_area`` are the segmenter's noise, except the user's own: an object
        # mostly hidden or mostly out of the frame, which may continue a live track (only:
        # too little to start one or re-identify one by)
        least = 1 if self._given_masks else cfg.min_area
        keep = [k for k, m in enumerate(det_masks) if m.sum() >= least]
        sliver = {k for k in keep if det_masks[k].sum() < cfg.min_area}
        track_masks = [labels == t.tid for t in live]
        kept = [det_masks[k] for k in keep]
        iou = match_scores(track_masks, kept)
        plain_iou = mask_iou_matrix(track_masks, kept)
        hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
        det_hists = {k: appearance(frame, det_masks[k], hsv) for k in keep}
        lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB)
        det_colors = {k: mean_color(frame, det_masks[k], lab) for k in keep}
        for a, t in enumerate(live):
            for b, k in enumerate(keep):
                if dets.labels[k] != t.label:
                    iou[a, b] = 0.0
                elif (
                    iou[a, b] > 0
                    and t.hist is not None
                    and det_hists[k] is not None
                    and similarity(t.hist, det_hists[k]) < cfg.match_min_similarity
                ):
                    # overlapping but clearly another object (one of the same label coming
                    # out from behind an occluder where this one's stale mask lingers)
                    iou[a, b] = 0.0
        self._prefer_on_course(live, kept, iou)
        self._prefer_alike(live, keep, iou, det_colors)
        seeds: dict[int, np.ndarray] = {}
        matched_tracks: set[int] = set()
        matched_dets: set[int] = set()
        pairs: list[tuple[Track, int, np.ndarray | None]] = []
        if iou.size:
            rows, cols = linear_sum_assignment(-iou)
            for r, c in zip(rows, cols):
                if iou[r, c] >= cfg.match_iou:
                    flow_mask = track_masks[r] if plain_iou[r, c] > 0 else None
                    pairs.append((live[r], keep[c], flow_mask))
                    matched_tracks.add(live[r].tid)
                    matched_dets.add(keep[c])
        # second stage: a detection no live track overlapped, and a track of its label that
        # could have moved there since its last detection (a small fast object outruns its flow
        # mask between detection rounds) and looks like it; a track that flow holds where its
        # motion puts it (``_held``: missed there) only to a detection over its flow mask
        # (not where a quarter of its flow mask lies under a detection another track took by
        # overlap: two look-alikes crossed, the other's track is on its object, ``_uncross``)
        taken = np.zeros(frame.shape[:2], bool)
        for k in matched_dets:
            taken |= dets.masks[k]
        held = {
            t.tid: track_masks[a] for a, t in enumerate(live)
            if t.tid not in matched_tracks and self._held(t, index, track_masks[a], frame, hsv)
            and np.count_nonzero(track_masks[a] & taken) < 0.25 * np.count_nonzero(track_masks[a])
        }  # fmt: skip
        for t, k in self._match_by_motion(
            index, frame.shape[:2], live, matched_tracks, keep, matched_dets, dets, det_hists,
            det_colors, held,
        ):
            pairs.append((t, k, None))
            matched_tracks.add(t.tid)
            matched_dets.add(k)
            log.debug("frame %d: track %d matched by its motion", index, t.tid)
        pairs = self._uncross(index, pairs, dets, det_colors)
        self._drift = {}
        for t, k, flow_mask in pairs:
            if t.misses > 0 and np.count_nonzero(det_masks[k]) >= 0.5 * t.area:
                # missed on the rounds since its last detection: the frames since show it on
                # its way where flow left it behind (``_bridge``), as for one set aside; not
                # towards a detection of a part of it (half hidden or out of the frame there,
                # it was not shrinking on its way)
                self._revived.add(t.tid)
                self._rematched.add(t.tid)
            t.hits += 1
            t.misses = 0
            t.last_seen = index
            if k in sliver:
                # shown there and kept alive; too little of it for its shape, motion and
                # colour models or to anchor the frames between on
                seeds[t.tid] = det_masks[k]
                self._slivers.add(t.tid)
            else:
                seeds[t.tid] = self._fuse(t, flow_mask, det_masks[k])
                carried = track_masks[live.index(t)]
                if carried.any():
                    # how far the flow-carried mask missed the object: interpolation back to
                    # the last anchor corrects the carried masks by a growing share of it
                    self._drift[t.tid] = tuple(_centroid(seeds[t.tid]) - _centroid(carried))
                t.area = 0.5 * t.area + 0.5 * float(seeds[t.tid].sum())
                self._update_hist(t, det_hists[k], det_colors[k])
                self._remember(t, index, seeds[t.tid])
            if t.state == TENTATIVE and t.hits >= cfg.confirm_hits:
                self._confirm(t)
        fading = set()
        for a, t in enumerate(live):
            if t.tid not in matched_tracks:
                t.misses += 1
                # an object going out of sight: its flow mask shrinks away; a returning
                # detection may re-identify it before it is formally lost
                if t.state != CONFIRMED:
                    if t.misses == 1 and t.hist is not None and track_masks[a].any():
                        # a new track missed at its first round since it was found: when its
                        # flow mask no longer has its colours, the object moved off it (a false
                        # detection on a still background keeps its look); set aside like one
                        # whose mask left the view, so that the object's return confirms it
                        h = appearance(frame, track_masks[a], hsv)
                        if h is not None and similarity(t.hist, h) < cfg.match_min_similarity:
                            self._gone.add(t.tid)
                    away = None
                    if t.state == TENTATIVE and t.tid not in self._gone:
                        away = self._carried_away(t, frame, track_masks[a], hsv, labels)
                    if away is not None:
                        # missed, but flow carried its mask well away from where it was found
                        # and it still has its colours there: a moving object (a false
                        # detection's mask stays on the still background), not a false one;
                        # seen once, its motion is where the frames after its detection show
                        # it (``_search_velocity``), else from there to here: it is carried back
                        # along it to where it came in, and followed out by it when set aside
                        self._confirm(t)
                        if t.velocity is None:
                            v = self._search_velocity(t.tid, {p.index: p for p in self._buffer})
                            if v is None:
                                v = (away - np.array(t.anchor[1:])) / (index - t.anchor[0])
                            t.velocity = v
                            self._carried_off.add(t.tid)
                    continue
                if track_masks[a].sum() < 0.5 * t.area:
                    fading.add(t.tid)
                elif t.hist is not None:
                    # appearance check of the flow-carried mask: when its colours are no longer
                    # the object's, it slid off (onto background, or onto the occluder the
                    # object went behind) and only covers the wrong pixels
                    h = appearance(frame, track_masks[a], hsv)
                    if h is not None and similarity(t.hist, h) < cfg.match_min_similarity:
                        fading.add(t.tid)
                if t.tid in fading and _moved_out(t, index, frame.shape[:2]):
                    # gone, and its motion took it (mostly) out of the frame since its last
                    # detection: it left (the frames since show it leaving,
                    # ``_extrapolate_edges``)
                    self._exits.add(t.tid)
                    t.left = t.anchor[0]
                elif (
                    t.tid in fading
                    and t.velocity is not None
                    and t.box is not None
                    and np.hypot(*t.velocity) >= 0.5 * np.sqrt(max(t.area, 1.0))
                ):
                    # fast for its size: flow lost it, it did not stop (``_outrun``)
                    self._outrun.add(t.tid)
        # a duplicate is a second detection of an object detected on this frame: covered by
        # the matched detections' masks. A flow-carried mask alone does not make one (it may be
        # stale: left behind by a small fast object, and then on another object's detection)
        occupied = np.zeros(labels.shape, bool)
        for t in live:
            if t.tid in seeds:
                occupied |= seeds[t.tid]
        for k in keep:
            if k in matched_dets or k in sliver:
                continue
            m = det_masks[k]
            area = m.sum()
            if np.logical_and(m, occupied).sum() >= cfg.dup_overlap * area:
                continue  # a second detection of something already tracked
            label = str(dets.labels[k])
            hist = det_hists[k]
            t = self._reidentify(index, label, hist, det_colors[k], fading, m)
            born = t is None
            if born:
                t = self._new_track(index, label)
                if t is None:
                    continue
            self._update_hist(t, hist, det_colors[k])
            t.area = float(area) if t.area == 0 else 0.5 * t.area + 0.5 * float(area)
            seeds[t.tid] = m
            t.fused = 1
            self._remember(t, index, m)
            if born and t.shape is not None:
                t.birth = (index, t.shape, t.shape_origin)
            occupied |= m
            if not _touches_edge(m):
                # carried back to the frames before (an object entering at the edge was not
                # there yet, or only partly)
                self._born.add(t.tid)
        for tid in fading:
            # going out of sight (its flow mask shrank) and not detected: set it aside now
            # rather than let a stale sliver linger for max_misses rounds, where it could take
            # another object's detection; it keeps its id for re-identification, and a
            # returning detection paints it back to the previous detection frame
            self._tracks[tid].misses = cfg.max_misses + 1
        # the given masks as they are, overlaps to the mask a pixel lies deeper inside
        return paint_by_depth(labels, seeds), seeds

    def _uncross(
        self,
        index: int,
        pairs: list[tuple[Track, int, np.ndarray | None]],
        dets: Detections,
        det_colors: dict[int, np.ndarray | None],
    ) -> list[tuple[Track, int, np.ndarray | None]]:
        """Of two tracks of one label matched (by overlap or motion), where each one's motion puts it on
        the other's detection and far from its own, the two detections are swapped: two
        look-alikes crossed between detection rounds and flow carried each mask onto the
        other object (flow on small textureless shapes follows whatever passes under them).
        Only where both motions are recent (measured within ``_motion_gap``), each lands
        within its size of the other's detection, at least three sizes from its own, and the
        swapped detections are as alike in colour (``motion_similarity``). The swapped tracks'
        frames since their previous detections are interpolated anew (``_extrapolate_edges``)."""
        cfg = self.config

        def ahead(t: Track) -> np.ndarray | None:
            if t.velocity is None or t.anchor is None:
                return None
            if not 0 < index - t.anchor[0] <= self._motion_gap:
                return None
            return _expected_at(t, index)

        centers = {k: _centroid(dets.masks[k]) for _, k, _ in pairs}
        pairs = list(pairs)
        for i in range(len(pairs)):
            for j in range(i + 1, len(pairs)):
                (ta, ka, _), (tb, kb, _) = pairs[i], pairs[j]
                if ta.label != tb.label:
                    continue
                pa, pb = ahead(ta), ahead(tb)
                if pa is None or pb is None:
                    continue
                sa, sb = np.sqrt(max(ta.area, 1.0)), np.sqrt(max(tb.area, 1.0))
                if (
                    np.hypot(*(pa - centers[kb])) > sa
                    or np.hypot(*(pb - centers[ka])) > sb
                    or np.hypot(*(pa - centers[ka])) < 3 * sa
                    or np.hypot(*(pb - centers[kb])) < 3 * sb
                ):
                    continue
                if min(color_similarity(ta.color, det_colors[kb]),
                       color_similarity(tb.color, det_colors[ka])) < cfg.motion_similarity:
                    continue
                pairs[i], pairs[j] = (ta, kb, None), (tb, ka, None)
                self._uncrossed |= {ta.tid, tb.tid}
                log.debug("frame %d: tracks %d and %d crossed", index, ta.tid, tb.tid)
        return pairs

    def _carried_away(
        self, t: Track, frame: np.ndarray, carried: np.ndarray, hsv: np.ndarray,
        labels: np.ndarray,
    ) -> np.ndarray | None:
        """Where (centroid x, y) a track's flow-carried mask lies, when at least half its size
        (square root of its area) from where it was last detected and still looking like it
        (re-identification alike, by colour histogram or mean colour), else None: flow on a
        still background moves a mask by a pixel or two, and flow on a slow textureless object
        lags it (it carried a ball moving 20 px over two rounds 15 px). A quarter of its area
        will do (not ``_mostly_there``'s usual half): flow wears a small fast object's mask
        down as it carries it (a bird of 190 px moving 22 px a frame kept 92 px of it)."""
        if t.anchor is None or not self._mostly_there(t, carried, share=0.25):
            return None
        c = _centroid(carried)
        if np.hypot(c[0] - t.anchor[1], c[1] - t.anchor[2]) < 0.5 * np.sqrt(max(t.area, 1.0)):
            return None
        if self._looks_like(t, frame, carried, hsv):
            return c
        # flow lags a small fast object: its mask half on it, half on the background behind it
        # (its colour within its size of the mask, on pixels no other track holds, is it)
        x0, y0, x1, y1 = (int(v) for v in mask_box(carried))
        crop = carried[y0:y1, x0:x1]
        found = self._find_shift(_Pending(-1, labels, None, frame), t.tid, crop, (x0, y0),
                                 np.zeros(2), np.sqrt(max(t.area, 1.0)))
        if found is None:
            return None
        moved = _placed(crop, (x0, y0), *found, labels.shape)
        return c + found if self._looks_like(t, frame, moved, hsv) else None

    def _mostly_there(self, t: Track, carried: np.ndarray, share: float = 0.5) -> bool:
        """Whether a flow-carried mask holds most of track ``t``'s size (``share`` of its
        ``area``, at least ``min_area``)."""
        return np.count_nonzero(carried) >= max(self.config.min_area, share * t.area)

    def _looks_like(self, t: Track, frame: np.ndarray, mask: np.ndarray,
                    hsv: np.ndarray) -> bool:  # fmt: skip
        """Whether ``mask`` on ``frame`` looks like track ``t``: re-identification alike, by colour
        histogram or mean colour."""
        sim = max(similarity(t.hist, appearance(frame, mask, hsv)),
                  color_similarity(t.color, mean_color(frame, mask)))
        return sim >= self.config.reid_similarity

    def _held(
        self, t: Track, index: int, carried: np.ndarray, frame: np.ndarray, hsv: np.ndarray
    ) -> bool:
        """True when track ``t``'s flow-carried mask on detection frame ``index`` still holds its
        object: most of its size (half its ``area``), alike (re-identification alike, by colour
        histogram or mean colour), and within its size (square root of its area) of where its
        velocity puts it. A detection frame that missed it there (a dropped detection) does not
        make a detection elsewhere its own: a large slow occluder missed once took a look-alike
        coming out from behind it, whose track then took the occluder."""
        if t.anchor is None or t.velocity is None:
            return False
        if not self._mostly_there(t, carried):
            return False
        if np.hypot(*(_centroid(carried) - _expected_at(t, index))) > np.sqrt(max(t.area, 1.0)):
            return False
        return self._looks_like(t, frame, carried, hsv)

    def _prefer_on_course(
        self, live: list[Track], kept: list[np.ndarray], iou: np.ndarray
    ) -> None:
        """Where a track's flow-carried mask overlaps two or more detections about equally (two
        look-alike objects crossing: flow smears the mask over both), keep the score of the one
        nearest where the mask's own motion over the two frames before puts it, and halve the
        others'. Overlap alone would follow the larger, in-front object."""
        buf = getattr(self, "_buffer", None)
        if not iou.size or buf is None or len(buf) < 2:
            return
        prev, prev2 = buf[-1].labels, buf[-2].labels
        for a, t in enumerate(live):
            row = iou[a]
            best = float(row.max())
            floor = max(self.config.match_iou, 0.7 * best)
            cand = [b for b in range(len(kept)) if row[b] >= floor]
            if len(cand) < 2:
                continue
            m1, m2 = prev == t.tid, prev2 == t.tid
            if not m1.any() or not m2.any():
                continue
            c1 = _centroid(m1)
            ahead = c1 + (c1 - _centroid(m2))
            near = min(cand, key=lambda b: np.hypot(*(_centroid(kept[b]) - ahead)))
            for b in cand:
                if b != near:
                    row[b] *= 0.5

    def _prefer_alike(
        self,
        live: list[Track],
        keep: list[int],
        iou: np.ndarray,
        det_colors: dict[int, np.ndarray | None],
    ) -> None:
        """Where two or more tracks' flow-carried masks overlap a detection about equally (a
        look-alike passing behind another: flow carries both masks onto the one in front),
        only the track clearly the most alike in mean colour (by ``ALIKE_MARGIN``) keeps its
        score; the others' drop to 0, to be matched by motion and colour instead. Overlap
        alone would give the one in front to the track of the one behind, and the one behind
        (a sliver of it showing) to the other."""
        if not iou.size:
            return
        cfg = self.config
        for b, k in enumerate(keep):
            col = iou[:, b]
            floor = max(cfg.match_iou, 0.7 * float(col.max()))
            cand = [a for a in range(len(live)) if col[a] >= floor]
            if len(cand) < 2:
                continue
            alike = {a: color_similarity(live[a].color, det_colors[k]) for a in cand}
            best = max(cand, key=alike.__getitem__)
            for a in cand:
                if a != best and alike[a] < alike[best] - ALIKE_MARGIN:
                    col[a] = 0.0

    def _fuse(self, t: Track, flow_mask: np.ndarray | None, det: np.ndarray) -> np.ndarray:
        """The mask of track ``t`` on a detection frame where detection mask ``det`` matched it.

        The detection is blended with what the track already knows of the object's shape when
        the two agree (boundaries within ``fuse_band`` px: mask noise; the running mean over
        the detections since the mask was last replaced, floored at ``det_weight_min`` so that
        it still follows slow changes of shape); otherwise the object changed (came out from
        behind something, entered the frame) and the detection is the better mask. What it
        knows is the shape output at its last detection frame, moved onto the detection, when
        no model refines masks between detections (flow alone distorts the shape of a small
        textureless object), else the model-refined mask carried here."""
        cfg = self.config
        if not self._model_keys:
            if t.shape is None or t.shape_cut or _touches_edge(det):
                t.fused = 1
                return det
            w = max(min(cfg.det_weight, 1.0 / (t.fused + 1)), cfg.det_weight_min)
            # the shape is a mean of detections: one that differs from it by more than twice
            # the clamp (plus a pixel) shows a change (partly hidden, turned)
            out = fuse_shape(t.shape, det, w, 2 * cfg.fuse_clamp + 1, cfg.fuse_clamp)
            if out is None:
                t.fused = 1
                if det.sum() < 0.8 * np.count_nonzero(t.shape):
                    # most likely partly hidden: the shape model stays the whole object's
                    self._keep_shape.add(t.tid)
                return det
            t.fused += 1
            return out
        prior = flow_mask
        if prior is None or not prior.any():
            t.fused = 1
            return det
        agree = mask_iou_matrix([prior], [det])[0, 0] >= cfg.fuse_min_iou or boundaries_agree(
            prior, det, cfg.fuse_band
        )
        if not agree:
            t.fused = 1
            return det
        t.fused += 1
        w = max(min(cfg.det_weight, 1.0 / t.fused), cfg.det_weight_min)
        return fuse_masks(prior, det, w)

    def _remember(self, t: Track, index: int, mask: np.ndarray) -> None:
        """Update the track's motion and shape models from its mask on detection frame
        ``index`` (the previous anchor is kept for interpolation back to it)."""
        box = mask_box(mask)
        if box is None:
            return
        if t.anchor is not None and t.shape is not None and t.anchor[0] < index:
            self._prev_anchor[t.tid] = (t.anchor[0], t.shape, t.shape_origin)
        x0, y0, x1, y1 = (int(v) for v in box)
        crop = mask[y0:y1, x0:x1]
        ys, xs = np.nonzero(crop)
        c = np.array([xs.mean() + x0, ys.mean() + y0])
        if t.anchor is not None and 0 < index - t.anchor[0] <= self._motion_gap:
            t.velocity = _edge_aware_velocity(
                t.box, box, c - np.array(t.anchor[1:]), index - t.anchor[0], mask.shape
            )
        elif t.anchor is None or index != t.anchor[0]:
            t.velocity = None
        t.anchor = (index, float(c[0]), float(c[1]))
        t.box = box
        if not _touches_edge(mask):
            n = float(np.count_nonzero(crop))
            t.whole = n if t.whole == 0 else 0.5 * t.whole + 0.5 * n
        if t.tid in self._keep_shape:
            # the model keeps its shape; it moves to the new centroid
            sy, sx = np.nonzero(t.shape)
            t.shape_origin = (int(round(c[0] - sx.mean())), int(round(c[1] - sy.mean())))
            return
        t.shape = crop.copy()
        t.shape_origin = (x0, y0)
        t.shape_cut = _touches_edge(mask)

    def _match_by_motion(
        self,
        index: int,
        shape: tuple[int, int],
        live: list[Track],
        matched_tracks: set[int],
        keep: list[int],
        matched_dets: set[int],
        dets: Detections,
        det_hists: dict[int, np.ndarray | None],
        det_colors: dict[int, np.ndarray | None],
        held: dict[int, np.ndarray] | None = None,
    ) -> list[tuple[Track, int]]:
        """Second association stage (Hungarian): unmatched live tracks against unmatched
        detections of their label that look like them (colour histogram or, steadier for small
        objects, mean colour at least ``motion_similarity`` alike) and lie where they can have
        moved since their last detection: within ``max_speed`` (a share of the frame's longer
        side per frame) of where constant velocity or standing still puts them. Closer and more
        alike scores higher. A track in ``held`` (its flow-carried mask by id: ``_held``) only
        to a detection a tenth of which lies on that mask: a detection elsewhere is another
        object."""
        cfg = self.config
        tracks = [
            t
            for t in live
            if t.tid not in matched_tracks
            and t.anchor is not None
            and (t.hist is not None or t.color is not None)
        ]
        cand = [
            k
            for k in keep
            if k not in matched_dets and (det_hists[k] is not None or det_colors[k] is not None)
        ]
        if not tracks or not cand:
            return []
        centers = {}
        for k in cand:
            ys, xs = np.nonzero(dets.masks[k])
            centers[k] = np.array([xs.mean(), ys.mean()])
        speed = cfg.max_speed * max(shape)
        score = np.zeros((len(tracks), len(cand)))
        for a, t in enumerate(tracks):
            dt = max(index - t.anchor[0], 1)
            last = np.array(t.anchor[1:])
            ahead = last + t.velocity * dt if t.velocity is not None else last
            reach = 2.0 * np.sqrt(max(t.area, 1.0)) + speed * dt
            for b, k in enumerate(cand):
                if dets.labels[k] != t.label:
                    continue
                if held and t.tid in held and np.count_nonzero(
                    held[t.tid] & dets.masks[k]
                ) < 0.1 * np.count_nonzero(dets.masks[k]):
                    continue
                d = min(np.hypot(*(centers[k] - ahead)), np.hypot(*(centers[k] - last)))
                if d > reach:
                    continue
                sim = max(
                    similarity(t.hist, det_hists[k]), color_similarity(t.color, det_colors[k])
                )
                if sim < cfg.motion_similarity:
                    continue
                score[a, b] = sim * (1.0 - 0.5 * d / reach)
        out = []
        rows, cols = linear_sum_assignment(-score)
        for r, c in zip(rows, cols):
            if score[r, c] > 0:
                out.append((tracks[r], cand[c]))
        return out

    def _reidentify(
        self,
        index: int,
        label: str,
        hist: np.ndarray | None,
        color: np.ndarray | None,
        fading: set[int],
        mask: np.ndarray | None = None,
    ) -> Track | None:
        """The lost (or fading) track of ``label`` that looks most like a detection (colour
        histogram or mean colour at least ``reid_similarity`` alike) and, when it left the
        view, can have come back to the detection's ``mask`` by now (``_can_return``),
        revived."""
        cfg = self.config
        best, best_sim = None, cfg.reid_similarity
        for t in self._tracks.values():
            if t.label != label or not (t.state == LOST or t.tid in fading):
                continue
            if cfg.reid_max_gap is not None and index - t.last_seen > cfg.reid_max_gap:
                continue
            if mask is not None and not self._can_return(t, index, mask):
                continue
            s = max(similarity(t.hist, hist), color_similarity(t.color, color))
            if s >= best_sim:
                best, best_sim = t, s
        if best is not None:
            fading.discard(best.tid)
            best.misses = 0
            best.hits += 1
            best.last_seen = index
            self._revived.add(best.tid)
            if best.object_id > 0:
                best.state = CONFIRMED
            else:
                # a new track that went out of view before its confirming detection: the
                # object is back, and this is that detection
                best.state = TENTATIVE
                if best.hits >= cfg.confirm_hits:
                    self._confirm(best)
            log.debug("frame %d: re-identified object %d (%s)", index, best.object_id, label)
        return best

    def _can_return(self, t: Track, index: int, mask: np.ndarray) -> bool:
        """Whether track ``t``, if its motion took it out of the view (over the sides of
        ``_exit_sides``), can be back at the detection ``mask`` by frame ``index``: not one
        that comes in over another side (a look-alike entering elsewhere), not one further
        in from the side it left by than its speed takes it out and back in by then (give or
        take twice its size), and not one more than twice its size in view (``whole``), or
        wholly in view and half or less; of its size, not one further in unless it was not seen
        leaving and the detection lies back along its path (``_turned_back``: it turned while
        hidden or missed). A track lost
        in view (behind something), or with no motion known, can be anywhere its appearance
        says."""
        box = mask_box(mask)
        if box is None or t.velocity is None or (t.birth is not None and t.left is None):
            return True  # no motion, or only a guess at one (``_resolve_singles``)
        v = t.velocity
        shape = mask.shape
        sides = _exit_sides(t, v, index, shape)
        if not sides:
            return True
        came_in = _edge_sides(box, shape)
        if came_in and not came_in & sides:
            return False
        if t.whole > 0:
            # back from out of the view at twice its size or more (or, wholly in view, half or
            # less): another object
            n = float(np.count_nonzero(mask))
            if n > 2.0 * t.whole or (not came_in and n < 0.5 * t.whole):
                return False
        h, w = shape
        c = _centroid(mask)
        if t.left is None and _turned_back(t, index, c, shape):
            return True  # not seen leaving, and back along its path: it turned in view
        to_edge = {"left": lambda x, y: x, "right": lambda x, y: w - x,
                   "top": lambda x, y: y, "bottom": lambda x, y: h - y}
        way = min(to_edge[s](*t.anchor[1:]) + to_edge[s](*c) for s in sides)
        return way <= 2.0 * np.sqrt(max(t.area, 1.0)) + np.hypot(*v) * (index - t.anchor[0])

    def _new_track(self, index: int, label: str) -> Track | None:
        if self._next_tid > _MAX_INTERNAL:
            return None
        t = Track(self._next_tid, label, last_seen=index)
        self._next_tid += 1
        self._tracks[t.tid] = t
        if self.config.confirm_hits <= 1:
            self._confirm(t)
        return t

    def _confirm(self, t: Track) -> None:
        if self._next_object_id > self.config.max_objects:
            if not self._warned_full:
                log.warning(
                    "more than %d objects: later ones are not tracked", self.config.max_objects
                )
                self._warned_full = True
            t.state = DELETED
            return
        t.state = CONFIRMED
        t.object_id = self._next_object_id
        self._next_object_id += 1

    @staticmethod
    def _update_hist(t: Track, h: np.ndarray | None, color: np.ndarray | None = None) -> None:
        if color is not None:
            t.color = color if t.color is None else (0.7 * t.color + 0.3 * color)
        if h is None:
            return
        t.hist = h if t.hist is None else (0.7 * t.hist + 0.3 * h).astype(np.float32)

    # ------------------------------------------------------------------ track life

    def _bookkeeping(
        self, index: int, frame: np.ndarray, labels: np.ndarray, detection_frame: bool
    ) -> np.ndarray:
        cfg = self.config
        slices = self._slices_of(labels)
        if slices is None:
            slices = object_slices(labels)
        removed = []
        for t in self._tracks.values():
            if t.state not in (TENTATIVE, CONFIRMED):
                continue
            sl = slices.get(t.tid)
            area = 0 if sl is None else int(np.count_nonzero(labels[sl] == t.tid))
            if t.tid in self._slivers and area:
                continue  # the user's own small mask of it, here on this detection frame
            if t.state == TENTATIVE and (
                (t.misses <= 1 and (area < cfg.min_area or t.tid in self._gone))
                # seen once, then its mask (which flow kept on it) left the view: it did not
                # come back for its confirming detection, and a false detection's mask stays
                or (t.hits == 1 and area < cfg.min_area and t.misses <= cfg.tentative_max_misses)
            ):
                # out of view (left the frame, went behind something) right after it was
                # found: set aside without an id, so that the object's return confirms it
                # instead of starting another track; a false detection's mask does not vanish
                t.state = LOST
                removed.append(t.tid)
                if t.hits == 1 and t.birth is not None:
                    self._singles.add(t.tid)
            elif t.state == TENTATIVE and (
                t.misses > cfg.tentative_max_misses or area < cfg.min_area
            ):
                t.state = DELETED
                removed.append(t.tid)
            elif t.state == CONFIRMED and (t.misses > cfg.max_misses or area < cfg.min_area):
                t.state = LOST
                removed.append(t.tid)
                if not detection_frame and _moved_out(t, index, labels.shape):
                    self._vanished.add(t.tid)
                elif t.tid not in self._exits and t.anchor is not None and t.shape is not None:
                    self._lagging.add(t.tid)
            elif area >= cfg.min_area:
                t.last_seen = index
        if removed:
            labels = labels.copy()
            labels[np.isin(labels, removed)] = 0
            self.propagator.remove(removed)
            for tid in removed:
                self._motion.pop(tid, None)
            gone = set(removed)  # their pixels went, the others' stayed
            slices = {i: sl for i, sl in slices.items() if i not in gone}
        self._remember_slices(labels, slices)
        return labels

    def _remember_slices(self, labels: np.ndarray, slices: dict[int, tuple[slice, slice]]) -> None:
        known = self._known_slices
        known[id(labels)] = (labels, slices)  # holds the array: its id is not reused
        known.move_to_end(id(labels))
        while len(known) > self._known_cap:
            known.popitem(last=False)

    def _slices_of(self, labels: np.ndarray) -> dict[int, tuple[slice, slice]] | None:
        """``object_slices(labels)`` when ``labels`` is a label map made lately
        (``propagate_labels`` in ``stream``, ``_bookkeeping``) and kept, else None."""
        known = self._known_slices.get(id(labels))
        return known[1] if known is not None and known[0] is labels else None

    def _fill_back(
        self, buffer: deque[_Pending], last_anchor: int | None, last_detection: int | None
    ) -> None:
        """Carry the anchor frame's label map (the last in ``buffer``) back in time.

        Frames after the previous anchor blend the forward-carried mask of each object with the
        backward-carried one by signed distance, weighted by temporal closeness (interpolation
        between two anchors instead of extrapolation from one), at the forward-carried position
        corrected by a growing share of how far it missed the object at this anchor. Objects
        first found at this anchor (not at the frame's edge, where they were entering) are
        painted onto the background of earlier buffered frames too, as long as they remain in
        view, back to the previous detection frame (where they were not found), so an object
        does not appear only at the detection frame that found it.
        """
        if len(buffer) < 2:
            return
        anchor = buffer[-1]
        t = anchor.index
        back = anchor.labels
        # tracks seen at the previous anchor too: the frames between are interpolated, not
        # painted back as new
        between = {
            tid: prev
            for tid, prev in self._prev_anchor.items()
            if last_anchor is not None and prev[0] == last_anchor
        }
        born = np.array(sorted(self._born - set(between)), dtype=back.dtype)
        drift = self._drift
        ends = {tid: back == tid for tid in between}
        interpolating = last_anchor is not None
        motion: dict[int, np.ndarray] = {}
        # object_slices(back), for the next step back (propagate_labels makes them)
        back_slices: dict[int, tuple[slice, slice]] | None = None
        for k in range(len(buffer) - 2, -1, -1):
            pair = buffer[k + 1].flows
            if pair is None:
                break
            cur = buffer[k]
            if last_detection is not None and cur.index < last_detection:
                break  # new objects reach back to the previous detection frame at most
            if interpolating and cur.index <= last_anchor:
                interpolating = False
                if not len(born):
                    break
                back = np.where(np.isin(back, born), back, 0).astype(back.dtype)
                if back_slices is not None:  # the other ids' pixels went, theirs stayed
                    kept = set(born.tolist())
                    back_slices = {i: sl for i, sl in back_slices.items() if i in kept}
            made: dict[int, tuple[slice, slice]] = {}
            back = propagate_labels(back, pair.reversed(), motion, slices=back_slices,
                                    out_slices=made)
            back_slices = made
            pair.compact()
            if interpolating:
                w = (cur.index - last_anchor) / float(t - last_anchor)
                cur.labels = blend_labels(cur.labels, back, w, self.config.min_area, drift,
                                          forward_slices=self._slices_of(cur.labels),
                                          backward_slices=back_slices)
                # the anchors' interpolated masks of this frame, each made once for both steps
                inter = _Memo(lambda tid, w=w: _between(*between[tid][1:], ends[tid], w))
                self._interpolate_lost(cur, between, ends, inter)
                self._snap(cur, between, min(cur.index - last_anchor, t - cur.index))
                self._claim_by_colour(cur, between, ends, inter)
            else:
                if not back_slices:  # nothing left of the map carried back
                    break
                free = (cur.labels == 0) & (back > 0)
                cur.labels = cur.labels.copy()
                cur.labels[free] = back[free]

    def _extrapolate_edges(self, buffer: deque[_Pending], gap: int) -> None:
        """Constant-velocity paths for objects crossing the frame's edge between detections
        (flow on a small textureless object barely moves its mask; nothing covered it).

        Entering: a track that got its second detection at this frame (the last in ``buffer``)
        and whose motion, carried back from its first, leaves the frame within ``3 * gap``
        frames came in along that path: its first mask, moved
        back along it and cut to the frame, is painted on the frames before its first detection
        (where flow painted it back to the previous detection frame, only when that position
        looks more like it: the object emerging from behind something stays there). Leaving: a track whose motion took it out of the frame by this detection
        frame (``_associate`` set it aside) is shown leaving along it, from its last mask, on
        the frames since its last detection, this one included (what is left of it in view, cut
        to the frame). Only pixels no other track holds are painted."""
        index = buffer[-1].index
        shape = buffer[-1].labels.shape
        by_index = {p.index: p for p in buffer}
        for t in self._tracks.values():
            if t.birth is None or t.velocity is None or t.anchor is None:
                continue
            if (t.anchor[0] != index and t.tid not in self._carried_off) or t.birth[0] >= index:
                continue
            b, crop, origin = t.birth
            t.birth = None
            box = _crop_box(crop, origin)
            path = _entry_path(box, t.velocity, b, 3 * gap, shape)
            self._paint_entry(t, crop, origin, path, by_index)
        for tid in self._revived:
            self._bridge(tid, buffer)
        self._recross(buffer)
        for tid in self._exits:
            t = self._tracks[tid]
            if t.state != LOST or t.shape is None or t.velocity is None or t.anchor is None:
                continue  # re-identified meanwhile
            a = t.anchor[0]
            reach = float(np.hypot(*t.velocity))
            d = np.zeros(2)
            path = self._paths.pop(tid, None)
            for p in buffer:
                # this frame too: not detected here, the part its path leaves in view is shown
                if not a < p.index <= index:
                    continue
                if path is not None:
                    d = path[p.index]
                    p.labels = _paint_shifted(p.labels, tid, t.shape, t.shape_origin, d[0], d[1])
                    continue
                d = d + t.velocity
                cand = _paint_shifted(p.labels, tid, t.shape, t.shape_origin, d[0], d[1])
                if p.frame is not None and t.color is not None:
                    d, cand = self._closer_look(p, t, d, cand, reach)
                p.labels = cand

    def _follow_out(self, t: Track, buffer: deque[_Pending]) -> dict[int, np.ndarray] | None:
        """Track ``t``, set aside while its motion kept it in view, followed frame by frame
        since its last detection by where each frame has its colour in its shape
        (``_find_shift``, within ``max_speed`` of where its motion over the frame before puts
        it):
        the offsets from its last mask by frame when that takes it (more than half) out of the
        frame by this anchor (the last in ``buffer``), as an object speeding up as it leaves
        (its velocity from the detections before lags, and flow on a small textureless shape
        stays behind); None when it is not found on a frame where its motion keeps it wholly in
        view, or is still in view. Where the frame has its colour (``TAIL_ALIKE``) on all the
        pixels its motion puts it on, more so than where the search found it, it is there:
        those pixels may be another track's (a look-alike crossing it took its flow mask
        along), and the search (on the pixels no other track holds) took that look-alike for
        it nearby."""
        if t.velocity is None or t.color is None:
            return None
        a = t.anchor[0]
        frames = [p for p in buffer if p.index > a]
        if not frames or frames[0].index != a + 1 or any(p.frame is None for p in frames):
            return None
        shape = frames[0].labels.shape
        box = _crop_box(t.shape, t.shape_origin)
        reach = self.config.max_speed * max(shape)
        v, d = np.asarray(t.velocity, float), np.zeros(2)
        path: dict[int, np.ndarray] = {}
        left = False
        # a placement the frame's edge cuts is as alike wherever its part in view lies on the
        # object, farther out too: searched only while no more of it is cut than of its last mask
        whole = _in_view(box, 0.0, 0.0, shape)
        for p in frames:
            guess = d + v
            if left or _out_of_frame(box, guess[0], guess[1], shape, 0.5):
                left = True  # on its way out: it goes on as it went
                d = path[p.index] = guess
                continue
            if _in_view(box, guess[0], guess[1], shape) < whole:
                d = path[p.index] = guess  # reaching the edge: it goes on as it went
                continue
            found = self._find_shift(p, t.tid, t.shape, t.shape_origin, guess, reach)
            sim = self._likeness_at(t, p, guess)
            if sim is not None and sim >= TAIL_ALIKE and (
                found is None or (self._likeness_at(t, p, found) or 0.0) < sim
            ):
                found = guess  # where its motion puts it, the frame has its colour: there
            if found is None:
                if not _out_of_frame(box, guess[0], guess[1], shape, 0.99):
                    return None
                left = True  # not there, and its motion cuts it at the frame's edge
                d = path[p.index] = guess
                continue
            v, d = found - d, found
            path[p.index] = d
        return path if left else None

    def _closer_look(
        self, p: _Pending, t: Track, d: np.ndarray, cand: np.ndarray, reach: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Track ``t``'s shape placed at offset ``d`` on frame ``p`` (``cand``, its labels):
        where the frame there is not quite its colour (it sped up or turned), the placement
        within ``reach`` px that looks more like it (``_find_shift``), else as it was."""
        sim = self._likeness(t, p.frame, cand == t.tid)
        if sim is None or sim >= TAIL_ALIKE:
            return d, cand
        found = self._find_shift(p, t.tid, t.shape, t.shape_origin, d, reach)
        if found is None:
            return d, cand
        moved = _paint_shifted(p.labels, t.tid, t.shape, t.shape_origin, found[0], found[1])
        there = self._likeness(t, p.frame, moved == t.tid)
        if there is not None and there > sim:
            return found, moved
        return d, cand

    def _resolve_singles(self, buffer: deque[_Pending], gap: int) -> None:
        """New tracks set aside after a single detection (out of sight by the next round): the
        frames after that detection are searched for the object's colour in its shape, where
        it can have moved (``max_speed``); a consistent motion over two frames that takes it
        out of the frame by this detection frame (the last in ``buffer``) shows an object that
        left, not a false detection: it becomes an object along that path (``_exits``, and
        carried back to where it came in). Otherwise it waits, set aside, for its return."""
        index = buffer[-1].index
        by_index = {p.index: p for p in buffer}
        for tid in sorted(self._singles):
            t = self._tracks[tid]
            if t.state != LOST or t.object_id > 0 or t.birth is None or t.color is None:
                self._singles.discard(tid)
                continue
            b, crop, origin = t.birth
            if b + 2 >= index:
                continue  # wait for the frames after it
            if t.velocity is None:
                t.velocity = self._search_velocity(tid, by_index)
            v = t.velocity
            if v is None or np.hypot(*v) < 0.5 or b not in by_index:
                self._singles.discard(tid)
                continue
            box = _crop_box(crop, origin)
            shape = by_index[b].labels.shape
            if not _out_of_frame(box, *(v * (index - b)), shape, 0.25):
                # still in view and not detected: hidden, dropped, or a false detection; the
                # next rounds may still see it leave
                if index - b >= 3 * gap:
                    self._singles.discard(tid)
                continue
            self._singles.discard(tid)
            self._confirm(t)
            if t.state == DELETED:
                continue
            t.state = LOST
            ys, xs = np.nonzero(crop)
            t.anchor = (b, float(xs.mean() + origin[0]), float(ys.mean() + origin[1]))
            t.velocity, t.box = v, box
            t.shape, t.shape_origin = crop, origin
            self._exits.add(tid)
            t.left = b
            t.birth = None
            self._paint_entry(t, crop, origin, _entry_path(box, v, b, 3 * gap, shape), by_index)
            log.debug("frame %d: object %d seen once, left the frame", index, t.object_id)

    def _search_velocity(self, tid: int, by_index: dict[int, _Pending]) -> np.ndarray | None:
        """Velocity (px/frame) of a track seen once (``birth``), from where the two frames after
        that detection have its colour in its shape (``_find_shift``), when the two agree on a
        constant motion, or from the first alone when that motion takes it (mostly) out of the
        frame by the second; None when they are not at hand or do not agree."""
        t = self._tracks[tid]
        if t.birth is None or t.color is None:
            return None
        b, crop, origin = t.birth
        if not all(k in by_index and by_index[k].frame is not None for k in (b, b + 1, b + 2)):
            return None
        reach = self.config.max_speed * max(by_index[b].labels.shape)
        s1 = self._find_shift(by_index[b + 1], tid, crop, origin, np.zeros(2), reach)
        if s1 is None:
            return self._flow_velocity(tid, b, by_index)
        s2 = self._find_shift(by_index[b + 2], tid, crop, origin, 2 * s1, reach / 2)
        box = _crop_box(crop, origin)
        if s2 is None and _out_of_frame(box, *(2 * s1), by_index[b].labels.shape, 0.5):
            # the motion of the frame after takes it (mostly) out of the frame by the second:
            # nothing there to confirm it, the one step is the motion
            return s1
        if s2 is None or np.hypot(*(s2 - 2 * s1)) > max(3.0, 0.3 * np.hypot(*(2 * s1))):
            return None
        return (s1 + 2 * s2) / 5.0  # least squares through the detection's position

    def _flow_velocity(
        self, tid: int, b: int, by_index: dict[int, _Pending]
    ) -> np.ndarray | None:
        """Velocity (px/frame) of track ``tid`` seen once (on frame ``b``) from its flow masks on
        the two frames after, when its colour is not found there (``_search_velocity``): an
        object cut by the frame's edge as it leaves fast (more than half of its placement out
        of the frame). Box sides clear of the edge give it (``_edge_aware_velocity``) when the
        two frames agree on it, or the first alone when the second holds (almost) nothing of
        it; None otherwise."""
        shape = by_index[b].labels.shape
        masks = [by_index[k].labels == tid for k in (b, b + 1, b + 2)]
        if min(np.count_nonzero(masks[0]), np.count_nonzero(masks[1])) < self.config.min_area:
            return None
        c0, box0 = _centroid(masks[0]), mask_box(masks[0])
        v1 = _edge_aware_velocity(box0, mask_box(masks[1]), _centroid(masks[1]) - c0, 1, shape)
        if np.count_nonzero(masks[2]) < self.config.min_area:
            return v1
        v2 = _edge_aware_velocity(box0, mask_box(masks[2]), _centroid(masks[2]) - c0, 2, shape)
        if np.hypot(*(2 * v2 - 2 * v1)) > max(3.0, 0.3 * np.hypot(*(2 * v1))):
            return None
        return (v1 + 4 * v2) / 5.0  # least squares through the detection's position

    def _find_shift(
        self,
        p: _Pending,
        tid: int,
        crop: np.ndarray,
        origin: tuple[int, int],
        guess: np.ndarray,
        reach: float,
    ) -> np.ndarray | None:
        """Where, within ``reach`` px of ``origin`` + ``guess``, frame ``p`` has track
        ``tid``'s mean colour over the mask ``crop`` (``color_similarity`` of the mean over the
        placement's pixels in the frame that no other track holds, at least half of it): the
        shift from ``origin``, or None when nothing there is at least ``motion_similarity``
        alike."""
        t = self._tracks[tid]
        lab = cv2.cvtColor(p.frame, cv2.COLOR_RGB2LAB).astype(np.float32)
        h, w = p.labels.shape
        ch, cw = crop.shape
        free = ~((p.labels > 0) & (p.labels != tid))
        # the mask's interior, as ``mean_color`` measures the track's colour (a mask's rim is
        # partly background)
        inner = cv2.erode(crop.astype(np.uint8), np.ones((3, 3), np.uint8),
                          borderType=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
        if 4 * int(inner.sum()) < int(crop.sum()):
            inner = crop.astype(np.uint8)
        kernel = inner.astype(np.float32) / max(float(inner.sum()), 1.0)

        def mean_over(img: np.ndarray) -> np.ndarray:
            # mean of ``img`` over the mask with its top-left at (x, y); outside the frame is 0
            pad = np.pad(img, ((0, ch), (0, cw)))
            out = cv2.filter2D(pad, -1, kernel, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
            return out[:h, :w]

        share = mean_over(free.astype(np.float32))
        d2 = np.zeros((h, w), np.float32)
        for c, weight in ((0, 0.25), (1, 1.0), (2, 1.0)):
            m = mean_over(lab[..., c] * free) / np.maximum(share, 1e-6)
            d2 += weight * (m - float(t.color[c])) ** 2
        sim = 1.0 - np.sqrt(d2) / 30.0  # color_similarity's scale
        sim[share < 0.5] = -1.0
        gx, gy = origin[0] + guess[0], origin[1] + guess[1]
        r = int(np.ceil(reach))
        x0, x1 = max(int(gx) - r, 0), min(int(gx) + r + 1, w)
        y0, y1 = max(int(gy) - r, 0), min(int(gy) + r + 1, h)
        if x1 <= x0 or y1 <= y0:
            return None
        yy, xx = np.mgrid[y0:y1, x0:x1]
        win = np.where(np.hypot(xx - gx, yy - gy) <= reach, sim[y0:y1, x0:x1], -1.0)
        k = int(np.argmax(win))
        if float(win.flat[k]) < self.config.motion_similarity:
            return None
        return np.array([xx.flat[k] - origin[0], yy.flat[k] - origin[1]], float)

    def _bridge(self, tid: int, buffer: deque[_Pending]) -> None:
        """A track re-identified at this detection frame (the last in ``buffer``) after it was
        set aside: the frames since its previous detection show it on its way from that mask
        to this one (interpolated), where they hold less like it (flow left it behind), or
        nothing of it and the frame there looks like the object by colour (where it does not,
        it was hidden or elsewhere). Not across a gap longer than the motion model's, nor
        one in which it was seen leaving the view: it was out of the frame meanwhile, and
        came back by some other way. A track matched again after rounds that missed it
        (``_rematched``: kept live) keeps its flow mask where that overlaps the path by half.
        Where it is shown on its way, it also takes the pixels of its interpolated mask that
        another track holds and that are clearly nearer its colour than their holder's
        (``_held_alike``): it passed in front of that one."""
        prev = self._prev_anchor.get(tid)
        index = buffer[-1].index
        if prev is None or index - prev[0] > self._motion_gap:
            return
        a, crop, (x0, y0) = prev
        t = self._tracks[tid]
        if t.left is not None and t.left >= a:
            return
        end = buffer[-1].labels == tid
        if not end.any():
            return
        start = np.zeros_like(end)
        ch, cw = crop.shape
        h, w = end.shape
        start[y0 : y0 + ch, x0 : x0 + cw] = crop[: max(min(ch, h - y0), 0), : max(min(cw, w - x0), 0)]
        if not start.any():
            return
        min_area = self.config.min_area
        for p in buffer:
            if not a < p.index < index:
                continue
            m = interpolate_masks(start, end, (p.index - a) / float(index - a))
            moved = _repaint(p.labels, tid, m)
            # what it would be shown on: not the pixels another object holds (it may be coming
            # out from behind that one)
            shown = moved == tid
            if np.count_nonzero(p.labels == tid) >= min_area:
                if p.frame is None or self._looks_less_like(t, p.frame, moved, p.labels):
                    continue  # flow holds it there, and that looks more like it
                if tid in self._rematched:
                    # kept live on the rounds that missed it: its flow mask may stay
                    if self._keeps_flow_mask(t, p.frame, p.labels == tid, moved == tid):
                        continue
            elif p.frame is not None and t.color is not None and (
                np.count_nonzero(shown) < min_area
                or color_similarity(t.color, mean_color(p.frame, shown))
                < self.config.motion_similarity
            ):
                continue  # nothing of it here, and not there either: hidden, or elsewhere
            if p.frame is not None and t.color is not None:
                # another object's pixels on its way clearly nearer its colour than their
                # holder's: it passed in front of that one, whose mask covered it
                theirs = m & (moved > 0) & (moved != tid)
                if theirs.any():
                    lab = cv2.cvtColor(p.frame, cv2.COLOR_RGB2LAB)
                    moved[self._held_alike(moved, lab, theirs, t.color)] = tid
            p.labels = moved

    def _recross(self, buffer: deque[_Pending]) -> None:
        """The tracks ``_uncross`` swapped at this detection frame (the last in ``buffer``):
        on the frames since each one's previous detection, their flow masks (which followed
        the other object) are cleared, and each is shown interpolated between its two
        detections' masks."""
        if not self._uncrossed:
            return
        index = buffer[-1].index
        tids = sorted(self._uncrossed)
        ends = {tid: buffer[-1].labels == tid for tid in tids}
        starts = {}
        for tid in tids:
            prev = self._prev_anchor.get(tid)
            if prev is None or not ends[tid].any():
                continue
            a, crop, origin = prev
            start = _placed(crop, origin, 0.0, 0.0, ends[tid].shape)
            if start.any():
                starts[tid] = (a, start)
        if not starts:
            return
        first = min(a for a, _ in starts.values())
        for p in buffer:
            if not first < p.index < index:
                continue
            here = [tid for tid, (a, _) in starts.items() if a < p.index]
            out = p.labels.copy()
            out[np.isin(out, here)] = 0
            for tid in here:
                a, start = starts[tid]
                m = interpolate_masks(start, ends[tid], (p.index - a) / float(index - a))
                out[m & (out == 0)] = tid
            p.labels = out

    def _finish_tails(self, buffer: deque[_Pending]) -> None:
        """The frames after the last detection frame, which no later anchor corrects: where a
        track's flow mask no longer looks like it (flow lost a small fast object), its last
        detection frame's mask takes its place, moved on at its velocity when the frame there
        looks like it, else to where the frame has its colours nearby (``_find_shift``: it
        turned); one whose motion takes it out of the frame leaves along it."""
        min_area = self.config.min_area
        alike = self.config.motion_similarity
        for t in self._tracks.values():
            if t.state not in (TENTATIVE, CONFIRMED) or t.velocity is None or t.color is None:
                continue
            if t.shape is None or t.anchor is None:
                continue
            a = t.anchor[0]
            ys, xs = np.nonzero(t.shape)
            c0 = np.array([xs.mean() + t.shape_origin[0], ys.mean() + t.shape_origin[1]])
            offset = np.zeros(2)  # where the object is, relative to the anchor's mask
            reach = self.config.max_speed * max(buffer[-1].labels.shape)
            for p in buffer:
                if p.index <= a or p.frame is None:
                    continue
                mf = p.labels == t.tid
                sim = self._likeness(t, p.frame, mf)
                if sim is not None and sim >= alike:
                    offset = _centroid(mf) - c0  # flow holds it
                    continue
                d = offset + t.velocity
                cand = _paint_shifted(p.labels, t.tid, t.shape, t.shape_origin, d[0], d[1])
                mc = cand == t.tid
                if np.count_nonzero(mc) < min_area:
                    alone = _shifted_area(t.shape, t.shape_origin, d[0], d[1], p.labels.shape)
                    if alone < min_area:
                        p.labels, offset = cand, d  # gone out of the frame
                    continue
                if color_similarity(t.color, mean_color(p.frame, mc)) < alike:
                    found = self._find_shift(p, t.tid, t.shape, t.shape_origin, d, reach)
                    if found is None:
                        continue
                    d = found
                    cand = _paint_shifted(p.labels, t.tid, t.shape, t.shape_origin, d[0], d[1])
                p.labels, offset = cand, d

    def _finish_lost_tails(self, buffer: deque[_Pending]) -> None:
        """Objects set aside in view whose frames since their last detection are still
        buffered at the end of the video, and that no later detection found (one dropped, or
        the object half behind another there): no later anchor re-identifies them, and the
        video's last frames showed nothing of them. Each is followed frame by frame from its
        last detection's mask: where flow holds it and that looks like it, or where the frame
        has its colour in its shape nearby (``_find_shift``, within ``max_speed`` of where its
        motion over the frame before puts it); it stops at the first frame where neither
        does (hidden, or gone). Not one seen leaving, or whose motion took it out of the
        frame."""
        if not buffer:
            return
        min_area = self.config.min_area
        alike = self.config.motion_similarity
        last = buffer[-1].index
        shape = buffer[-1].labels.shape
        reach = self.config.max_speed * max(shape)
        for t in self._tracks.values():
            if t.state != LOST or t.object_id == 0 or t.left is not None:
                continue
            if t.velocity is None or t.color is None or t.shape is None or t.anchor is None:
                continue
            a = t.anchor[0]
            if a < buffer[0].index or _moved_out(t, last, shape):
                continue
            ys, xs = np.nonzero(t.shape)
            c0 = np.array([xs.mean() + t.shape_origin[0], ys.mean() + t.shape_origin[1]])
            offset, v = np.zeros(2), np.asarray(t.velocity, float)
            for p in buffer:
                if p.index <= a:
                    continue
                if p.frame is None:
                    break
                mf = p.labels == t.tid
                sim = self._likeness(t, p.frame, mf)
                if sim is not None and sim >= alike:
                    d = _centroid(mf) - c0  # flow holds it
                    v, offset = d - offset, d
                    continue
                found = self._find_shift(p, t.tid, t.shape, t.shape_origin, offset + v, reach)
                if found is None:
                    break
                cand = _paint_shifted(p.labels, t.tid, t.shape, t.shape_origin, *found)
                if np.count_nonzero(cand == t.tid) < min_area:
                    break
                p.labels = cand
                v, offset = found - offset, found

    def _paint_entry(
        self,
        t: Track,
        crop: np.ndarray,
        origin: tuple[int, int],
        path: list,
        by_index: dict[int, _Pending],
    ) -> None:
        """Paint track ``t``'s first mask (``crop`` at ``origin``) on the buffered frames of
        ``path``
        ((frame, offset), going back in time) as long as the frame there looks like the
        object (before it came in, that is the background), past frames where it is (partly)
        behind another object (not painted there); where flow painted it back
        already, only when the new position looks more like it (an object emerging from
        behind something stays there). Where the path's place does not look like it but the
        frame has its colour within its size (``_find_shift``: the object sped up or slowed
        down, and its motion between its first detections is not the one it came in with;
        not found there, within twice its size: one that came in fast and stopped before its
        first detections was 24 px off such a path on the frame before it stopped), it is
        painted there, and the path's later frames are corrected by that offset and by how it
        changed since the frame before. A placement that shows only part of the mask
        (cut by the frame's edge, or partly behind another object) is compared with that part's
        colour on the first detection frame too: a shaded object's part is lighter or darker
        than its mean."""
        min_area = self.config.min_area
        reach = float(np.sqrt(max(np.count_nonzero(crop), 1)))
        whole = int(np.count_nonzero(crop))
        first = by_index.get(path[0][0] + 1) if path else None  # the first detection frame
        corr = np.zeros(2)  # where the frames showed it off the path
        bend = np.zeros(2)  # and how much farther off per frame
        for k, d0 in path:
            p = by_index.get(k)
            if p is None:
                break
            d = d0 + corr + bend
            alone = _shifted_area(crop, origin, d[0], d[1], p.labels.shape)
            if alone == 0:
                break  # wholly outside: it came in from there
            moved = _paint_shifted(p.labels, t.tid, crop, origin, d[0], d[1])
            m = moved == t.tid
            area = np.count_nonzero(m)
            if area < 0.5 * alone:
                corr = corr + bend
                continue  # mostly behind another object there: hidden, on its way
            if p.frame is not None and area >= min_area and self._part_likeness(
                t, p.frame, m, first, origin, d, area < whole
            ) < self.config.motion_similarity:
                if area < 0.9 * alone:
                    corr = corr + bend
                    continue  # partly behind another object, and the rest not alike
                found = self._find_shift(p, t.tid, crop, origin, d, reach)
                if found is None:
                    # farther off: it came in fast and slowed down before its first
                    # detections (their motion is slower than the one it came in with)
                    found = self._find_shift(p, t.tid, crop, origin, d, 2.0 * reach)
                if found is None:
                    break  # not there (yet)
                d = found
                moved = _paint_shifted(p.labels, t.tid, crop, origin, d[0], d[1])
                m = moved == t.tid
                if np.count_nonzero(m) < 0.9 * _shifted_area(crop, origin, d[0], d[1],
                                                             p.labels.shape):
                    break
                bend = (d - d0) - corr
            corr = d - d0
            if np.count_nonzero(p.labels == t.tid) >= min_area and (
                p.frame is None or self._looks_less_like(t, p.frame, moved, p.labels)
            ):
                continue  # flow painted it back there, and that looks more like it
            p.labels = moved

    @staticmethod
    def _part_likeness(
        t: Track,
        frame: np.ndarray,
        m: np.ndarray,
        first: _Pending | None,
        origin: tuple[int, int],
        d: np.ndarray,
        part: bool,
    ) -> float:
        """``color_similarity`` of ``frame`` under ``m`` (track ``t``'s first mask, top-left at
        ``origin``, moved by ``d``: ``_paint_shifted``) and ``t``'s mean colour; with ``part``
        (``m`` is only part of the mask), the better of that and the similarity to the same
        part of the object on the first detection frame ``first``."""
        here = mean_color(frame, m)
        sim = color_similarity(t.color, here)
        if not part or first is None or first.frame is None:
            return sim
        sx = int(round(origin[0] + d[0])) - origin[0]
        sy = int(round(origin[1] + d[1])) - origin[1]
        ys, xs = np.nonzero(m)
        ref = np.zeros(m.shape, bool)
        ref[ys - sy, xs - sx] = True
        return max(sim, color_similarity(mean_color(first.frame, ref), here))

    def _looks_less_like(
        self, t: Track, frame: np.ndarray, a: np.ndarray, b: np.ndarray
    ) -> bool:
        """True when the pixels label map ``a`` gives track ``t`` in ``frame`` are less like its
        mean colour than those ``b`` gives it (or ``a`` gives it none)."""
        sim = self._likeness(t, frame, a == t.tid)
        if sim is None:
            return True
        return sim < color_similarity(t.color, mean_color(frame, b == t.tid))

    def _likeness_at(self, t: Track, p: _Pending, d: np.ndarray) -> float | None:
        """``_likeness`` of track ``t`` and frame ``p`` under its shape moved by ``d`` from its
        last mask, on all of that placement's pixels in the frame (another track's too)."""
        there = _placed(t.shape, t.shape_origin, d[0], d[1], p.labels.shape)
        return self._likeness(t, p.frame, there)

    def _keeps_flow_mask(self, t: Track, frame: np.ndarray, held: np.ndarray,
                         path: np.ndarray) -> bool:  # fmt: skip
        """Whether a track matched again after missed rounds keeps its flow mask ``held`` on a
        frame between rather than its interpolated ``path`` (bool masks): where they overlap by
        half (IoU: flow followed it; the interpolated masks are only its detections' shapes), or
        where the path looks no more like it by mean colour (neither does: it did not move at an
        even pace), or shows too little of it to tell (under ``min_area``)."""
        if np.count_nonzero(held & path) >= 0.5 * np.count_nonzero(held | path):
            return True
        on_path, on_held = self._likeness(t, frame, path), self._likeness(t, frame, held)
        return on_path is None or (on_held is not None and on_path <= on_held)

    def _likeness(self, t: Track, frame: np.ndarray, mask: np.ndarray) -> float | None:
        """``color_similarity`` of track ``t``'s mean colour and ``frame``'s under the bool
        ``mask``; None when the mask has fewer than ``min_area`` pixels."""
        if np.count_nonzero(mask) < self.config.min_area:
            return None
        return color_similarity(t.color, mean_color(frame, mask))

    def _snap(self, cur: _Pending, tids, dt: int) -> None:
        """Each of ``tids``' masks on a frame between two anchors moved to where, nearby, the
        frame has the object's mean colour, when that looks clearly more like it (by
        ``snap_margin``) than where interpolation put it: an object that sped up, stopped or
        turned between the anchors leaves the straight path, and flow on a small textureless
        shape does not follow it. The search reaches ``snap_reach`` x the object's size (square
        root of its area), and no farther than it can move in the ``dt`` frames to the nearer
        anchor; other objects' pixels never match."""
        cfg = self.config
        if cur.frame is None or cfg.snap_reach <= 0:
            return
        lab = None
        for tid in tids:
            t = self._tracks.get(tid)
            if t is None or t.color is None:
                continue
            m = cur.labels == tid
            if np.count_nonzero(m) < cfg.min_area:
                continue
            x0, y0, x1, y1 = (int(v) for v in mask_box(m))
            reach = min(cfg.max_speed * max(m.shape) * dt, cfg.snap_reach * np.sqrt(max(t.area, 1.0)))
            if reach < 1.0:
                continue
            if lab is None:
                lab = cv2.cvtColor(cur.frame, cv2.COLOR_RGB2LAB)
            crop = m[y0:y1, x0:x1]
            blocked = (cur.labels > 0) & ~m
            # another object's pixels clearly nearer this one's colour than their holder's: a
            # small object in front of a larger one, whose mask (carried or interpolated)
            # covers it
            mine = self._held_alike(cur.labels, lab, blocked, t.color)
            blocked &= ~mine
            shift, sim, here = color_shift(lab, t.color, crop, (x0, y0), reach, blocked)
            if np.hypot(*shift) < 1.0 or sim < cfg.motion_similarity or sim < here + cfg.snap_margin:
                continue
            out = _paint_shifted(cur.labels, tid, crop, (x0, y0), shift[0], shift[1])
            if mine.any():
                win = _shifted_window(crop, (x0, y0), shift[0], shift[1], out.shape)
                if win is not None:
                    sub, (wx0, wy0, wx1, wy1) = win
                    out[wy0:wy1, wx0:wx1][sub & mine[wy0:wy1, wx0:wx1]] = tid
            cur.labels = out

    def _held_alike(
        self, labels: np.ndarray, lab: np.ndarray, held: np.ndarray, color: np.ndarray
    ) -> np.ndarray:
        """Of the ``held`` pixels (other tracks'), those whose colour in the CIELAB frame
        ``lab`` is nearer ``color`` than their holder's mean colour by ``HELD_MARGIN`` (Lab
        distance, lightness at half weight, as ``color_similarity``)."""
        out = np.zeros(labels.shape, bool)
        ys, xs = np.nonzero(held)
        if not len(ys):
            return out
        lut = np.full((int(labels.max()) + 1, 3), np.nan, np.float32)
        for o in np.unique(labels[ys, xs]):
            other = self._tracks.get(int(o))
            if other is not None and other.color is not None:
                lut[int(o)] = other.color
        px = lab[ys, xs].astype(np.float32)
        w = np.array([0.5, 1.0, 1.0], np.float32)
        own = np.linalg.norm((px - np.asarray(color, np.float32)) * w, axis=-1)
        theirs = np.linalg.norm((px - lut[labels[ys, xs]]) * w, axis=-1)
        near = own + HELD_MARGIN < theirs  # nan (holder without a colour): never
        out[ys[near], xs[near]] = True
        return out

    def _claim_by_colour(self, cur: _Pending, between: dict, ends: dict, inter: _Memo) -> None:
        """Between two anchors, a track that has far less of its mask than the two anchors'
        masks interpolated give it, where another track holds those pixels (a small object
        passing in front of a larger one: the larger one's mask, carried or interpolated, was
        painted first and covers it), takes back the contested pixels that are nearer its mean
        colour than the holder's (an object passing behind the other keeps the other's).
        ``inter``: the interpolated mask crop and its top-left (x, y) by track id."""
        if cur.frame is None:
            return
        lab = None
        for tid in between:
            t = self._tracks.get(tid)
            if t is None or t.color is None or not ends[tid].any():
                continue
            m, (x0, y0) = inter[tid]
            want = np.count_nonzero(m)
            if want < self.config.min_area or np.count_nonzero(cur.labels == tid) >= 0.6 * want:
                continue
            win = (slice(y0, y0 + m.shape[0]), slice(x0, x0 + m.shape[1]))
            held = cur.labels[win][m]
            others = [int(o) for o in np.unique(held) if o and o != tid]
            if not others:
                continue
            if lab is None:
                lab = cv2.cvtColor(cur.frame, cv2.COLOR_RGB2LAB).astype(np.float32)
            # colour distances on the interpolated mask's pixels only (the rest are not claimed)
            px = lab[win][m]
            own = np.linalg.norm(px - t.color.astype(np.float32), axis=-1)
            claimed = held.copy()
            for o in others:
                other = self._tracks.get(o)
                if other is None or other.color is None:
                    continue
                theirs = np.linalg.norm(px - other.color.astype(np.float32), axis=-1)
                claimed[(held == o) & (own < theirs)] = tid
            out = cur.labels.copy()
            out[win][m] = claimed
            cur.labels = out

    def _interpolate_lost(self, cur: _Pending, between: dict, ends: dict, inter: _Memo) -> None:
        """Where flow lost a track between two anchors that both have it (a small fast object
        outran its flow mask, or flow on the small textureless shape barely moved it: the
        mask carried forward missed the next anchor by more than ``interpolate_drift`` x the
        object's size), its mask is interpolated from the two anchors' masks, at the linearly
        interpolated position, onto pixels no other object holds. A track whose flow mask
        arrived (a turn between the anchors, which flow followed) keeps the flow blend."""
        cfg = self.config
        for tid in between:
            if not ends[tid].any():
                continue
            if np.count_nonzero(cur.labels == tid) >= cfg.min_area:
                d = self._drift.get(tid)
                size = np.sqrt(max(self._tracks[tid].area, 1.0))
                if d is None or np.hypot(*d) < cfg.interpolate_drift * size:
                    continue
            m, origin = inter[tid]
            cur.labels = _paint_shifted(cur.labels, tid, m, origin, 0.0, 0.0)

    def _final_ids(self, labels: np.ndarray) -> np.ndarray:
        """Internal track ids -> (H, W) uint8 object ids (0 for tracks that are no object)."""
        out = np.zeros(labels.shape, np.uint8)
        box = occupied_box(labels)
        if box is None:
            return out
        y0, y1, x0, x1 = box
        lut = np.zeros(max(self._next_tid, int(labels[y0:y1, x0:x1].max()) + 1), np.uint8)
        for t in self._tracks.values():
            if t.object_id > 0 and t.state != DELETED:
                lut[t.tid] = t.object_id
        out[y0:y1, x0:x1] = lut.take(labels[y0:y1, x0:x1])
        return out
