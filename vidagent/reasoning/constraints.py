"""Time and motion constraints (``Plan.constraints``) evaluated over the scene memory's tracks.

Every measure here is made robust to a frame of tracker jitter:

* **presence**: a frame counts as a sighting when the mask has at least ``MIN_AREA_PX`` pixels
  and ``MIN_AREA_SHARE`` of the object's typical size; absences shorter than ``GONE_SECONDS``
  are filled, and sightings shorter than ``MIN_RUN_SECONDS`` (a stray blip) are dropped. The
  resulting runs give the appearance frame (first run's start), the leave frame (last run's
  end; an object still there within ``GONE_SECONDS`` of the end of the video never leaves),
  disappearing (gone for at least ``GONE_SECONDS`` before the end, for good or for a while) and
  coming back (a run after such an absence).
* **order**: two appearance or leave times closer than ``ORDER_SECONDS`` are a tie, so
  "appears later" holds only for clearly later objects.
* **position**: the mask centroid, gaps interpolated and smoothed over ``SMOOTH_SECONDS`` (a
  running median, then a running mean), per run.
* **speed**: path length of the smoothed centroid per second on screen, sampled five times a
  second.
* **moving / still**: the extent of the smoothed centroid's path (5th to 95th percentile, on
  frames that show the whole object when there are enough of them) relative to the object's
  length (square root of its typical area): moving from ``MOVING_REL``, still below
  ``STILL_REL``; in between neither, so a drifting or half-occluded object cannot flip.
* **pairs**: follows, passes, towards and away from compare the two smoothed paths on the
  frames where both are on screen (see ``follows``, ``passes``, ``approach``).

``apply_filters`` keeps the objects that satisfy every filter kind; ``apply_ranks`` then
applies superlatives (fastest, slowest, leaves first / last, appears first / last) and counts
("the two dogs running"). Both return an ``Outcome`` whose ``reason`` says why nothing is left.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vidagent.memory import ObjectMemory, SceneMemory
from vidagent.query.plan import Constraint, Plan
from vidagent.reasoning.relations import relation_holds

MIN_AREA_PX = 6  # a mask smaller than this many pixels is not a sighting
MIN_AREA_SHARE = 0.15  # ... nor one below this share of the object's typical size
MIN_RUN_SECONDS = 0.15  # sightings shorter than this (at least 2 frames) are blips
GONE_SECONDS = 0.3  # absences shorter than this (at least 3 frames) do not count
ORDER_SECONDS = 0.25  # appearance / leave times closer than this (at least 2 frames) tie
SMOOTH_SECONDS = 0.2  # centroid smoothing window for paths (at least 3 frames)
EXTENT_SMOOTH_SECONDS = 0.5  # ... and for moving / still (at least 5 frames)
FULL_SHARE = 0.6  # frames with this share of the typical area show the whole object
MOVING_REL = 0.5  # path extent from this many object lengths: moving
STILL_REL = 0.25  # path extent below this many object lengths: still
MOVING_MIN_FRACTION = 0.02  # a moving path also spans this share of the frame diagonal
SPEED_TIE = 0.1  # superlative speeds within this share of each other are about equal
PAIR_MIN_SECONDS = 0.5  # pair kinds need both objects on screen together this long
STEP_SECONDS = 0.2  # velocity and approach are measured over steps of this length
MOVE_SPEED_REL = 0.5  # a step is "moving" at this many object lengths per second or more
FOLLOW_SHARE = 0.6  # share of moving frames on which the follower must be behind, same way
FOLLOW_COS = 0.5  # cosine between the two velocities for "the same way"
FOLLOW_AHEAD_REL = 0.25  # the leader is ahead by at least this many lengths
FOLLOW_DIST_REL = 8.0  # ... and at most this many lengths away
FOLLOW_LATERAL_REL = 1.5  # ... on its path: at most this many lengths to the side of it
PASS_MARGIN_REL = 0.5  # passing: from this many lengths behind to as many ahead
PASS_LATERAL_REL = 4.0  # ... within this many lengths to the side when level
APPROACH_REL = 0.75  # towards / away: the subject closes / opens the gap by this many lengths
APPROACH_SHARE = 0.5  # ... and that is at least this share of its path
CAMERA_GROWTH = 1.4  # towards / away from the camera: the mask grows / shrinks by this factor
CAMERA = "camera"  # the ``other`` of towards / away from that means the viewer

FILTER_KINDS = ("moving", "still", "direction", "disappears", "comes_back", "appears_later",
                "appears_earlier", "follows", "passes", "towards", "away_from", "touches")
RANK_KINDS = ("fastest", "slowest", "leaves_first", "leaves_last", "appears_first",
              "appears_last")


def _frames(fps: float, seconds: float, least: int) -> int:
    return max(least, int(round(seconds * fps)))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive (start, end) of each run of True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends)]


def _smooth(values: np.ndarray, w: int) -> np.ndarray:
    """Running median then running mean over ``w`` (odd) samples, edges padded."""
    n = len(values)
    w = min(w, n if n % 2 else n - 1)
    if w < 3:
        return values.astype(np.float64)
    h = w // 2
    pad = np.pad(values.astype(np.float64), (h, h), mode="edge")
    med = np.median(np.lib.stride_tricks.sliding_window_view(pad, w), axis=1)
    pad = np.pad(med, (h, h), mode="edge")
    return np.lib.stride_tricks.sliding_window_view(pad, w).mean(axis=1)


@dataclass(eq=False)
class Profile:
    """Robust per-object measures (see the module docstring).

    Attributes:
        obj: the object (possibly clipped to a time window).
        runs: inclusive frame runs of robust presence, in order.
        smooth: (T, 2) smoothed centroid (x, y) px on the runs' frames, NaN elsewhere.
        length: the object's typical length in px (square root of its typical area).
    """

    obj: ObjectMemory
    runs: list[tuple[int, int]]
    smooth: np.ndarray
    length: float
    end_frame: int
    interp: np.ndarray  # (T, 2) centroids on the runs' frames, gaps interpolated; NaN elsewhere

    @property
    def appear(self) -> int | None:
        return self.runs[0][0] if self.runs else None

    @property
    def last(self) -> int | None:
        return self.runs[-1][1] if self.runs else None

    @property
    def gone_frames(self) -> int:
        return _frames(self.obj.fps, GONE_SECONDS, 3)

    @property
    def leave(self) -> int | None:
        """The frame it leaves on (last seen), None when it is still there at the end."""
        if not self.runs or self.last > self.end_frame - self.gone_frames:
            return None
        return self.last

    @property
    def returns(self) -> int:
        """How many times it comes back after an absence."""
        return max(len(self.runs) - 1, 0)

    @property
    def disappears(self) -> bool:
        return bool(self.runs) and (self.leave is not None or len(self.runs) > 1)

    @property
    def on(self) -> np.ndarray:
        """(T,) bool: the frames of the runs."""
        out = np.zeros(len(self.obj.visible), bool)
        for s, e in self.runs:
            out[s: e + 1] = True
        return out

    @property
    def speed(self) -> float:
        """Path length of the smoothed centroid per second on screen (px/s)."""
        step = max(1, int(round(self.obj.fps * STEP_SECONDS)))
        dist = secs = 0.0
        for s, e in self.runs:
            idx = np.arange(s, e + 1, step)
            if idx[-1] != e:
                idx = np.append(idx, e)
            if len(idx) < 2:
                continue
            p = self.smooth[idx]
            dist += float(np.hypot(*np.diff(p, axis=0).T).sum())
            secs += (e - s) / self.obj.fps
        return dist / secs if secs > 0 else 0.0

    @property
    def extent(self) -> float:
        """Extent of the smoothed path in object lengths (5th..95th percentile box diagonal)."""
        on = self.on
        full = on & (self.obj.areas >= FULL_SHARE * self.obj.size)
        use = full if full.sum() >= max(0.5 * on.sum(), 2) else on
        w = _frames(self.obj.fps, EXTENT_SMOOTH_SECONDS, 5) | 1
        slow = np.full_like(self.interp, np.nan)
        for s, e in self.runs:
            for k in range(2):
                slow[s: e + 1, k] = _smooth(self.interp[s: e + 1, k], w)
        p = slow[use & ~np.isnan(slow[:, 0])]
        if len(p) < 2:
            return 0.0
        lo, hi = np.percentile(p, 5, axis=0), np.percentile(p, 95, axis=0)
        return float(np.hypot(*(hi - lo)))

    def moving(self, diag: float) -> bool:
        e = self.extent
        return e >= MOVING_REL * self.length and e >= MOVING_MIN_FRACTION * diag

    def still(self) -> bool:
        return self.extent < STILL_REL * self.length


def profile(o: ObjectMemory, end_frame: int | None = None) -> Profile:
    """The robust measures of one object; ``end_frame`` is the last frame of the video (or of
    the time window) for deciding whether it leaves."""
    T = len(o.visible)
    end = T - 1 if end_frame is None else min(int(end_frame), T - 1)
    sighted = o.visible & (o.areas >= max(MIN_AREA_PX, MIN_AREA_SHARE * o.size))
    raw = _runs(sighted)
    gone = _frames(o.fps, GONE_SECONDS, 3)
    merged: list[tuple[int, int]] = []
    for s, e in raw:
        if merged and s - merged[-1][1] - 1 < gone:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    min_run = _frames(o.fps, MIN_RUN_SECONDS, 2)
    runs = [r for r in merged if r[1] - r[0] + 1 >= min_run] or merged
    smooth = np.full((T, 2), np.nan)
    interp = np.full((T, 2), np.nan)
    w = _frames(o.fps, SMOOTH_SECONDS, 3) | 1
    for s, e in runs:
        idx = np.arange(s, e + 1)
        seen = idx[sighted[s: e + 1]]
        if len(seen) == 0:
            seen = idx[o.visible[s: e + 1]]
        for k in range(2):
            interp[s: e + 1, k] = np.interp(idx, seen, o.centroids[seen, k])
            smooth[s: e + 1, k] = _smooth(interp[s: e + 1, k], w)
    length = math.sqrt(max(o.size, 1.0))
    return Profile(o, runs, smooth, length, end, interp)


def appear_frame(o: ObjectMemory) -> int | None:
    """The frame an object appears on, ignoring stray blips before it really shows up."""
    a = profile(o).appear
    return o.first_frame if a is None else a


def last_frame(o: ObjectMemory) -> int | None:
    """The last frame an object is seen on, ignoring stray blips after it has left."""
    e = profile(o).last
    return o.last_frame if e is None else e


# ------------------------------------------------------------------------------- pair kinds
def _both(a: Profile, b: Profile) -> np.ndarray:
    both = a.on & b.on & ~np.isnan(a.smooth[:, 0]) & ~np.isnan(b.smooth[:, 0])
    return np.flatnonzero(both)


def _steps(a: Profile, frames: np.ndarray) -> np.ndarray:
    """Consecutive sample frames (t, t + step) inside ``frames``: (N, 2) int."""
    step = max(1, int(round(a.obj.fps * STEP_SECONDS)))
    if len(frames) < 2:
        return np.zeros((0, 2), np.int64)
    have = np.zeros(frames[-1] + step + 1, bool)
    have[frames] = True
    t = frames[frames + step <= frames[-1]]
    t = t[have[t + step]]
    return np.stack([t, t + step], axis=1)


def _enough_together(a: Profile, frames: np.ndarray) -> bool:
    return len(frames) >= _frames(a.obj.fps, PAIR_MIN_SECONDS, 3)


def follows(a: Profile, b: Profile) -> float:
    """Share of the frames where both move on which ``a`` moves the same way as ``b`` and is
    behind it (0 when they are not on screen together long enough or hardly move)."""
    frames = _both(a, b)
    if not _enough_together(a, frames):
        return 0.0
    st = _steps(a, frames)
    if len(st) == 0:
        return 0.0
    dt = (st[:, 1] - st[:, 0]) / a.obj.fps
    va = (a.smooth[st[:, 1]] - a.smooth[st[:, 0]]) / dt[:, None]
    vb = (b.smooth[st[:, 1]] - b.smooth[st[:, 0]]) / dt[:, None]
    sa, sb = np.hypot(*va.T), np.hypot(*vb.T)
    moving = (sa >= MOVE_SPEED_REL * a.length) & (sb >= MOVE_SPEED_REL * b.length)
    if moving.sum() < max(2, 0.3 * len(st)):
        return 0.0
    cos = (va * vb).sum(axis=1) / np.maximum(sa * sb, 1e-9)
    ub = vb / np.maximum(sb, 1e-9)[:, None]
    gap = b.smooth[st[:, 0]] - a.smooth[st[:, 0]]
    ahead = (gap * ub).sum(axis=1)
    scale = max(a.length, b.length)
    dist = np.hypot(*gap.T)
    side = np.abs(gap[:, 0] * ub[:, 1] - gap[:, 1] * ub[:, 0])
    ok = (cos >= FOLLOW_COS) & (ahead >= FOLLOW_AHEAD_REL * scale) & \
        (dist <= FOLLOW_DIST_REL * scale) & (side <= FOLLOW_LATERAL_REL * scale)
    return float(ok[moving].mean())


def passes(a: Profile, b: Profile) -> float:
    """How far ``a`` goes from behind ``b`` to ahead of it along its own way of moving, in
    object lengths (0 when it does not pass: never clearly behind then clearly ahead, or too
    far to the side when level)."""
    frames = _both(a, b)
    if not _enough_together(a, frames):
        return 0.0
    pa, pb = a.smooth[frames], b.smooth[frames]
    move = pa[-1] - pa[0]
    scale = max(a.length, b.length)
    if np.hypot(*move) < PASS_MARGIN_REL * scale:
        return 0.0
    u = move / np.hypot(*move)
    rel = pa - pb
    along = rel @ u
    side = np.abs(rel @ np.array([-u[1], u[0]]))
    m = PASS_MARGIN_REL * scale
    behind = np.flatnonzero(along <= -m)
    if len(behind) == 0:
        return 0.0
    after = np.flatnonzero(along[behind[0]:] >= m)
    if len(after) == 0:
        return 0.0
    i, j = behind[0], behind[0] + after[0]
    level = i + int(np.argmin(np.abs(along[i: j + 1])))
    if side[level] > PASS_LATERAL_REL * scale:
        return 0.0
    return float((along[j:].max() - along[: j + 1].min()) / scale)


def approach(a: Profile, b: Profile) -> float:
    """Net distance ``a`` itself moves towards ``b`` (negative: away), in object lengths, when
    that is at least ``APPROACH_SHARE`` of its path; else 0."""
    frames = _both(a, b)
    if not _enough_together(a, frames):
        return 0.0
    st = _steps(a, frames)
    if len(st) == 0:
        return 0.0
    da = a.smooth[st[:, 1]] - a.smooth[st[:, 0]]
    gap = b.smooth[st[:, 0]] - a.smooth[st[:, 0]]
    unit = gap / np.maximum(np.hypot(*gap.T), 1e-9)[:, None]
    closing = float((da * unit).sum())
    path = float(np.hypot(*da.T).sum())
    if path <= 0 or abs(closing) < APPROACH_SHARE * path:
        return 0.0
    return closing / a.length


def camera_approach(p: Profile) -> float:
    """Log of how much the mask grows from the first to the last quarter of its time on
    screen (median areas): positive when it comes towards the camera, negative going away."""
    frames = np.flatnonzero(p.on & p.obj.visible)
    if len(frames) < 4:
        return 0.0
    k = max(2, len(frames) // 4)
    a0 = float(np.median(p.obj.areas[frames[:k]]))
    a1 = float(np.median(p.obj.areas[frames[-k:]]))
    return math.log(max(a1, 1.0) / max(a0, 1.0))


# ------------------------------------------------------------------------------- applying
@dataclass
class Outcome:
    """Objects left after constraints, why none are left, and caveats."""

    objects: list[ObjectMemory]
    reason: str | None = None
    notes: list[str] = field(default_factory=list)


_VERB = {
    "moving": "moves", "still": "stays still", "disappears": "disappears",
    "comes_back": "comes back after leaving", "appears_later": "appears later than the others",
    "appears_earlier": "appears earlier than the others", "follows": "follows",
    "passes": "passes", "towards": "moves towards", "away_from": "moves away from",
    "touches": "touches",
}
_PASSIVE = {"follows": "is followed by", "passes": "is passed by",
            "towards": "is approached by", "away_from": "is left behind by",
            "touches": "is touched by"}


def describe_constraint(c: Constraint) -> str:
    """The constraint in words, as a qualifier after the noun ("that moves", "(the fastest)")."""
    k = c.kind
    nth = {1: "", 2: "second ", 3: "third "}.get(c.rank, f"{c.rank}th ")
    if k in ("fastest", "slowest"):
        return f"(the {nth}{k})"
    if k in ("leaves_first", "leaves_last", "appears_first", "appears_last"):
        verb, which = k.split("_")
        if c.rank > 1:
            which = "leave" if verb == "leaves" else "appear"
            return f"({nth}to {which})" if k.endswith("first") else f"({nth}last to {which})"
        return f"(the {which} to {'leave' if verb == 'leaves' else 'appear'})"
    if k == "count":
        return ""
    if k == "direction":
        return f"moving {c.direction}"
    if c.other is not None:
        if c.passive:
            return f"that {_PASSIVE[k]} the {c.other}"
        return f"that {_VERB[k]} the {c.other}"
    return f"that {_VERB[k]}"


def _score_filter(c: Constraint, p: Profile, others: list[Profile], diag: float,
                  memory: SceneMemory, pool: list[Profile]) -> float | None:
    """A positive score when ``p`` satisfies filter ``c`` (larger = clearer), else None."""
    k = c.kind
    o = p.obj
    if not p.runs:
        return None
    if k == "moving":
        return p.speed if p.moving(diag) else None
    if k == "still":
        return 1.0 / (1.0 + p.extent) if p.still() else None
    if k == "direction":
        m = o.motion
        return abs(m.dx) + abs(m.dy) if m.direction == c.direction else None
    if k == "disappears":
        return float(p.end_frame - (p.leave if p.leave is not None else p.last) + p.returns) \
            if p.disappears else None
    if k == "comes_back":
        return float(p.returns) if p.returns else None
    if k in ("appears_later", "appears_earlier"):
        tie = _frames(o.fps, ORDER_SECONDS, 2)
        times = [q.appear for q in pool if q.appear is not None]
        if k == "appears_later":
            gap = p.appear - min(times)
        else:
            gap = max(times) - p.appear
        return float(gap) if gap >= tie else None
    if c.other == CAMERA and k in ("towards", "away_from"):
        v = camera_approach(p) * (1 if k == "towards" else -1)
        return v if v >= math.log(CAMERA_GROWTH) else None
    best = None
    for q in others:
        if q.obj.id == o.id:
            continue
        a, b = (q, p) if c.passive else (p, q)
        if k == "follows":
            v = follows(a, b)
            v = v if v >= FOLLOW_SHARE else None
        elif k == "passes":
            v = passes(a, b) or None
        elif k == "towards":
            v = approach(a, b)
            v = v if v >= APPROACH_REL else None
        elif k == "away_from":
            v = -approach(a, b)
            v = v if v >= APPROACH_REL else None
        else:  # touches
            v = 1.0 if relation_holds(memory, a.obj, b.obj, "touching") else None
        if v is not None and (best is None or v > best):
            best = v
    return best


def apply_filters(plan: Plan, memory: SceneMemory, objects: list[ObjectMemory], name: str,
                  others: Callable[[str], list[ObjectMemory]], end_frame: int | None = None,
                  use_motion: bool = True) -> tuple[Outcome, dict[int, float]]:
    """Keep the objects that satisfy every filter kind of ``plan.constraints``.

    Args:
        name: the subject's noun for reasons ("ball").
        others: objects a pair kind's other phrase refers to (already windowed).
        end_frame: last frame of the time window (None: the video's last frame).
        use_motion: apply moving / still / direction (off when motion is what is asked).

    Returns the outcome and, per kept object id, the score of the last filter (used to pick
    among too many for a count).
    """
    diag = float(math.hypot(memory.width, memory.height))
    scores: dict[int, float] = {}
    kept = list(objects)
    for c in plan.constraints:
        if c.kind not in FILTER_KINDS:
            continue
        if not use_motion and c.kind in ("moving", "still", "direction"):
            continue
        pool = [profile(o, end_frame) for o in kept]
        camera = c.other == CAMERA and c.kind in ("towards", "away_from")
        other_profiles = [profile(o, end_frame) for o in others(c.other)] \
            if c.other and not camera else []
        if c.other and not camera and not other_profiles:
            return Outcome([], f"no {c.other} appears in the video"), {}
        new, new_scores = [], {}
        for p in pool:
            s = _score_filter(c, p, other_profiles, diag, memory, pool)
            if s is not None:
                new.append(p.obj)
                new_scores[p.obj.id] = s
        if not new:
            words = describe_constraint(c).removeprefix("that ")
            return Outcome([], f"no {name} {words}"), {}
        kept, scores = new, new_scores
    return Outcome(kept), scores


def _rank_value(kind: str, p: Profile) -> float | None:
    """Sort value for a superlative (smaller first), None when the object does not qualify."""
    if kind == "fastest":
        return -p.speed
    if kind == "slowest":
        return p.speed
    if kind == "leaves_first":
        return None if p.leave is None else float(p.leave)
    if kind == "leaves_last":
        return None if p.leave is None else -float(p.leave)
    if kind == "appears_first":
        return None if p.appear is None else float(p.appear)
    if kind == "appears_last":
        return None if p.appear is None else -float(p.appear)
    raise ValueError(f"not a superlative: {kind!r}")


def apply_ranks(plan: Plan, objects: list[ObjectMemory], name: str, plural_name: str,
                scores: dict[int, float], end_frame: int | None = None) -> Outcome:
    """Superlatives (fastest, slowest, leaves first / last, appears first / last) and counts.

    A superlative keeps the ``rank``-th object (the first n with a count of n); objects tied
    with it (leave or appearance times within ``ORDER_SECONDS``) are kept too, with a note. A
    count of n keeps the n objects with the best score of the last filter when more are left,
    and says so when fewer.
    """
    out = Outcome(list(objects))
    counts = [c.n for c in plan.constraints if c.kind == "count"]
    for c in plan.constraints:
        if c.kind not in RANK_KINDS:
            continue
        if not out.objects:
            break
        profs = [profile(o, end_frame) for o in out.objects]
        vals = [(_rank_value(c.kind, p), p) for p in profs]
        vals = [(v, p) for v, p in vals if v is not None]
        if not vals:
            verb = "leaves before the video ends" if c.kind.startswith("leaves") \
                else "appears"
            return Outcome([], f"no {name} {verb}")
        vals.sort(key=lambda vp: (vp[0], vp[1].obj.id))
        if c.rank > len(vals):
            n = len(vals)
            what = " that leave" if c.kind.startswith("leaves") else ""
            return Outcome([], f"there {'is' if n == 1 else 'are'} only {n} "
                               f"{name if n == 1 else plural_name}{what}")
        v0, chosen = vals[c.rank - 1]
        if counts and c.rank == 1:  # "the two fastest dogs": the first n
            out.objects = [p.obj for _, p in vals[: counts[0]]]
            continue
        if c.kind in ("fastest", "slowest"):
            tie = [p for v, p in vals if p is not chosen
                   and abs(v - v0) <= SPEED_TIE * max(abs(v0), 1e-9)]
            if tie:
                out.notes.append(f"{len(tie) + 1} {plural_name} move about equally fast")
            out.objects = [chosen.obj]
        else:
            tol = _frames(chosen.obj.fps, ORDER_SECONDS, 2)
            tied = [p for v, p in vals if abs(v - v0) < tol]
            if len(tied) > 1:
                out.notes.append(f"{len(tied)} {plural_name} are too close in time to order")
            out.objects = [p.obj for p in tied]
    for c in plan.constraints:
        if c.kind != "count" or not out.objects:
            continue
        n, have = c.n, len(out.objects)
        if have > n:
            if scores and all(o.id in scores for o in out.objects):
                best = sorted(out.objects, key=lambda o: (-scores[o.id], o.id))[:n]
                out.objects = sorted(best, key=lambda o: o.id)
                out.notes.append(f"{have} {plural_name} match; the {n} clearest are kept")
            else:
                out.notes.append(f"{have} {plural_name} match, not {n}")
        elif have < n:
            out.notes.append(f"only {have} {name if have == 1 else plural_name} match, not {n}")
    return out
