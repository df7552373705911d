"""Synthetic tracks with exact truth for referring by time and motion.

Each case is a short scene (label maps only: the tracks format, no RGB) built for one
constraint kind, with the referring expressions that use it, the object ids they mean, and
questions that use it with their exact answers. The truth comes from how the scene is built
(which object appears later, which one follows which), never from the masks.

The masks carry the faults of a real tracker: the centre jitters (``jitter`` px, Gaussian) and
the size breathes a little on every frame, an object is missed on a ``drop`` share of its
frames (never on the first or last frame of an on-screen span, so times stay exact), and a
stray fragment of an object (a tenth of its area, one frame) is seen shortly before it appears
with probability ``blip``.

``make_case(kind, seed)`` builds one case; ``KINDS`` lists the kinds; ``DEV_SEEDS`` are for
development, ``HELD_OUT_SEEDS`` for reporting only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidagent.testing.questions import plural

KINDS = ("appears_later", "appears_earlier", "appears_first", "appears_last", "leaves_first",
         "leaves_last", "disappears", "comes_back", "fastest", "slowest", "moving", "still",
         "direction", "follows", "passes", "towards", "away_from", "touches", "count")
LABELS = ("dog", "cat", "person", "car", "ball", "bird", "horse", "box", "bike", "boat")
DEV_SEEDS = range(0, 30)
HELD_OUT_SEEDS = range(1000, 1030)
WIDTH, HEIGHT, FPS, FRAMES = 192, 144, 10.0, 40


@dataclass
class Mover:
    """An object: a disc or box of half-size ``half`` px following ``path`` ((frame, x, y)
    keypoints, linear between, held before the first and after the last) while on screen
    (``spans``: inclusive frame ranges); higher ``z`` is drawn in front."""

    id: int
    label: str
    half: float
    path: list[tuple[int, float, float]]
    spans: list[tuple[int, int]]
    shape: str = "circle"
    z: int = 0
    scale: tuple[float, float] = (1.0, 1.0)  # size factor at the first / last on-screen frame

    def center(self, t: float) -> tuple[float, float]:
        fs = [p[0] for p in self.path]
        return (float(np.interp(t, fs, [p[1] for p in self.path])),
                float(np.interp(t, fs, [p[2] for p in self.path])))

    def half_at(self, t: float) -> float:
        a = (t - self.first) / max(self.last - self.first, 1)
        return self.half * (self.scale[0] + min(max(a, 0.0), 1.0) * (self.scale[1] - self.scale[0]))

    def on(self, t: int) -> bool:
        return any(a <= t <= b for a, b in self.spans)

    @property
    def first(self) -> int:
        return self.spans[0][0]

    @property
    def last(self) -> int:
        return self.spans[-1][1]


@dataclass
class Question:
    """A question using the case's constraint, its exact answer and the tolerance on it."""

    text: str
    task: str
    expected: object
    tolerance: float = 0.0

    def correct(self, value) -> bool:
        if isinstance(self.expected, float):
            return isinstance(value, (int, float)) and not isinstance(value, bool) and \
                abs(value - self.expected) <= self.tolerance + 1e-6
        return value == self.expected and type(value) is type(self.expected)


@dataclass
class Case:
    """One scene for one kind: expressions (text -> true ids) and questions."""

    kind: str
    seed: int
    movers: list[Mover]
    expressions: list[tuple[str, list[int]]]
    questions: list[Question] = field(default_factory=list)
    label_maps: np.ndarray | None = None

    def labels(self) -> dict[int, str]:
        return {m.id: m.label for m in self.movers}

    def mover(self, object_id: int) -> Mover:
        return next(m for m in self.movers if m.id == object_id)


# ----------------------------------------------------------------------------- rendering
def render(movers: list[Mover], rng: np.random.Generator, jitter: float = 0.7,
           drop: float = 0.05, blip: float = 0.3, num_frames: int = FRAMES) -> np.ndarray:
    """(T, H, W) uint8 label maps with tracker-like faults (see the module docstring)."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    maps = np.zeros((num_frames, HEIGHT, WIDTH), np.uint8)
    ends = {m.id: {t for a, b in m.spans for t in (a, b)} for m in movers}
    blips = {}
    for m in movers:
        a = m.first
        if a >= 3 and rng.random() < blip:
            blips[a - int(rng.integers(2, 4))] = m
    for t in range(num_frames):
        lm = maps[t]
        for m in sorted(movers, key=lambda m: m.z):
            if not m.on(t):
                continue
            if t not in ends[m.id] and rng.random() < drop:
                continue
            cx, cy = m.center(t)
            cx += rng.normal(0, jitter)
            cy += rng.normal(0, jitter)
            h = m.half_at(t) * (1 + rng.normal(0, 0.03))
            if m.shape == "circle":
                mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= h * h
            else:
                mask = (np.abs(xx - cx) <= h) & (np.abs(yy - cy) <= h)
            lm[mask] = m.id
        if t in blips:
            m = blips[t]
            cx, cy = m.center(m.first)
            r = max(1.0, m.half * 0.3)
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
            lm[mask & (lm == 0)] = m.id
    return maps


# ----------------------------------------------------------------------------- building blocks
class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.movers: list[Mover] = []
        lanes = HEIGHT / 5
        self.lanes = [float(lanes * (i + 0.5)) for i in self.rng.permutation(5)]

    def labels(self, n: int, exclude: tuple[str, ...] = ()) -> list[str]:
        pool = [x for x in LABELS if x not in exclude]
        return [str(x) for x in self.rng.choice(pool, n, replace=False)]

    def half(self) -> float:
        return float(self.rng.uniform(6.0, 9.5))

    def add(self, label: str, path, spans, half: float | None = None, z: int = 0) -> Mover:
        m = Mover(len(self.movers) + 1, label, half or self.half(), list(path), list(spans),
                  str(self.rng.choice(["circle", "box"])), z)
        self.movers.append(m)
        return m

    def lane(self) -> float:
        return self.lanes.pop()

    def still_at(self, label: str, y: float | None = None, spans=None, x: float | None = None):
        x = float(self.rng.uniform(20, WIDTH - 20)) if x is None else x
        y = self.lane() if y is None else y
        return self.add(label, [(0, x, y)], spans or [(0, FRAMES - 1)])

    def across(self, label: str, dist: float, spans=None, y: float | None = None,
               sign: int | None = None):
        """Moves horizontally by ``dist`` px over its spans, in its own lane."""
        spans = spans or [(0, FRAMES - 1)]
        y = self.lane() if y is None else y
        sign = sign if sign is not None else (1 if self.rng.random() < 0.5 else -1)
        x0 = WIDTH / 2 - sign * dist / 2 + float(self.rng.uniform(-8, 8))
        return self.add(label, [(spans[0][0], x0, y), (spans[-1][1], x0 + sign * dist, y)],
                        spans)

    def any_motion(self, label: str, spans):
        if self.rng.random() < 0.5:
            return self.still_at(label, spans=spans)
        return self.across(label, float(self.rng.uniform(40, 120)), spans)

    def case(self, kind: str, seed: int, exprs, questions=()) -> Case:
        return Case(kind, seed, self.movers, list(exprs), list(questions))


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _sec(frame: int) -> float:
    return round(frame / FPS, 4)


# ----------------------------------------------------------------------------- cases
def _appear_order(b: _Builder, kind: str, seed: int) -> Case:
    L, D = b.labels(2)
    r = b.rng
    comparative = kind in ("appears_later", "appears_earlier")
    n = 2 if comparative else int(r.integers(2, 4))
    starts = sorted(int(x) for x in r.choice(np.arange(0, 27, 7), n, replace=False))
    starts = [s + int(r.integers(0, 2)) for s in starts]
    objs = []
    for s in r.permutation(starts):
        end = FRAMES - 1 if r.random() < 0.6 else int(r.integers(max(s + 8, 30), FRAMES))
        objs.append(b.any_motion(L, [(int(s), end)]))
    b.any_motion(D, [(int(r.integers(0, 30)), FRAMES - 1)])
    early = min(objs, key=lambda m: m.first)
    late = max(objs, key=lambda m: m.first)
    target = late if kind in ("appears_later", "appears_last") else early
    word = {"appears_later": "later", "appears_earlier": "earlier",
            "appears_first": "first", "appears_last": "last"}[kind]
    verbs = ["appears", "shows up", "enters", "comes in"]
    texts = [f"the {L} that {_pick(r, verbs)} {word}", f"the {L} which {_pick(r, verbs)} {word}"]
    if not comparative:
        texts.append(f"the {word} {L} to appear")
    qs = [Question(f"when does the {L} that {_pick(r, verbs)} {word} appear?", "when",
                   _sec(target.first), 1 / FPS),
          Question(f"when does the {L} that {_pick(r, verbs)} {word} leave?", "when",
                   _sec(target.last), 1 / FPS)]
    return b.case(kind, seed, [(t, [target.id]) for t in texts], qs)


def _leave_order(b: _Builder, kind: str, seed: int) -> Case:
    L, D = b.labels(2)
    r = b.rng
    leavers = int(r.integers(2, 4))
    ends = sorted(int(x) for x in r.choice(np.arange(12, 33, 7), leavers, replace=False))
    objs = []
    for e in ends:
        objs.append(b.any_motion(L, [(int(r.integers(0, 6)), e + int(r.integers(0, 2)))]))
    if leavers < 3 and r.random() < 0.6:
        b.any_motion(L, [(int(r.integers(0, 6)), FRAMES - 1)])  # stays: never leaves
    b.any_motion(D, [(0, int(r.integers(5, 20)))])
    first = min(objs, key=lambda m: m.last)
    last = max(objs, key=lambda m: m.last)
    target = first if kind == "leaves_first" else last
    word = "first" if kind == "leaves_first" else "last"
    verbs = ["leaves", "disappears", "exits", "leaves the frame"]
    texts = [f"the {L} that {_pick(r, verbs)} {word}", f"the {word} {L} to leave",
             f"the {L} which {_pick(r, verbs)} {word}"]
    qs = [Question(f"when does the {L} that leaves {word} appear?", "when",
                   _sec(target.first), 1 / FPS),
          Question(f"when does the {word} {L} to leave disappear?", "when",
                   _sec(target.last), 1 / FPS)]
    return b.case(kind, seed, [(t, [target.id]) for t in texts], qs)


def _disappears(b: _Builder, kind: str, seed: int) -> Case:
    L, D = b.labels(2)
    r = b.rng
    n_gone = int(r.integers(1, 3))
    gone = []
    for _ in range(n_gone):
        a = int(r.integers(0, 6))
        e = int(r.integers(12, 28))
        if r.random() < 0.5:
            spans = [(a, e)]
        else:
            back = e + int(r.integers(6, 9))
            spans = [(a, e), (back, FRAMES - 1)]
        gone.append(b.any_motion(L, spans))
    for _ in range(int(r.integers(1, 3))):
        b.any_motion(L, [(int(r.integers(0, 15)), FRAMES - 1)])
    b.any_motion(D, [(0, int(r.integers(8, 25)))])
    ids = sorted(m.id for m in gone)
    if n_gone == 1:
        verbs = ["disappears", "vanishes", "leaves the frame", "goes out of view",
                 "leaves the scene"]
        texts = [f"the {L} that {_pick(r, verbs)}", f"the {L} which {_pick(r, verbs)}"]
    else:
        verbs = ["disappear", "vanish", "leave the frame", "go out of view"]
        texts = [f"the {plural(L)} that {_pick(r, verbs)}",
                 f"the {plural(L)} which {_pick(r, verbs)}"]
    qs = [Question(f"how many {plural(L)} disappear?", "count", n_gone),
          Question(f"how many {plural(L)} leave the frame?", "count", n_gone)]
    return b.case(kind, seed, [(t, ids) for t in texts], qs)


def _comes_back(b: _Builder, kind: str, seed: int) -> Case:
    L, D = b.labels(2)
    r = b.rng
    e = int(r.integers(8, 20))
    back = e + int(r.integers(6, 10))
    end = FRAMES - 1 if r.random() < 0.6 else int(r.integers(back + 5, FRAMES - 4))
    ret = b.any_motion(L, [(int(r.integers(0, 4)), e), (back, end)])
    b.any_motion(L, [(0, int(r.integers(10, 30)))])  # leaves for good
    if r.random() < 0.5:
        b.any_motion(L, [(int(r.integers(0, 20)), FRAMES - 1)])
    b.any_motion(D, [(0, 10), (20, FRAMES - 1)])  # another label comes back too
    verbs = ["comes back", "returns", "reappears", "comes back into view"]
    texts = [f"the {L} that {_pick(r, verbs)}", f"the {L} which {_pick(r, verbs)}"]
    qs = [Question(f"how many {plural(L)} come back?", "count", 1),
          Question(f"when does the {L} that comes back leave?", "when", _sec(ret.last),
                   1 / FPS)]
    return b.case(kind, seed, [(t, [ret.id]) for t in texts], qs)


def _speed(b: _Builder, kind: str, seed: int) -> Case:
    L, D = b.labels(2)
    r = b.rng
    n = int(r.integers(2, 4))
    base = float(r.uniform(25, 40))
    dists = [base * 1.7 ** k for k in range(n)]  # px over the whole video
    objs = []
    for d in r.permutation(dists):
        if r.random() < 0.5:
            objs.append(b.across(L, float(d)))
        else:  # vertical
            x = float(r.uniform(30, WIDTH - 30))
            y0 = HEIGHT / 2 - float(d) * 0.4
            sign = 1 if r.random() < 0.5 else -1
            if sign < 0:
                y0 = HEIGHT - y0
            d = min(float(d), HEIGHT - 24)
            objs.append(b.add(L, [(0, x, y0), (FRAMES - 1, x, y0 + sign * d * 0.8)],
                              [(0, FRAMES - 1)]))
    b.across(D, float(r.uniform(150, 170)))  # a faster object of another label
    speeds = {m.id: abs(m.path[-1][1] - m.path[0][1]) + abs(m.path[-1][2] - m.path[0][2])
              for m in objs}
    fast = max(objs, key=lambda m: speeds[m.id])
    slow = min(objs, key=lambda m: speeds[m.id])
    target = fast if kind == "fastest" else slow
    if kind == "fastest":
        texts = [f"the fastest {L}", f"the {L} moving fastest", f"the quickest {L}",
                 f"the {L} that moves the fastest"]
    else:
        texts = [f"the slowest {L}", f"the {L} that is the slowest", f"the slowest of the "
                 f"{plural(L)}"]
    texts = [texts[i] for i in r.choice(len(texts), 2, replace=False)]
    m = target
    dx, dy = m.path[-1][1] - m.path[0][1], m.path[-1][2] - m.path[0][2]
    direction = ("right" if dx > 0 else "left") if abs(dx) >= abs(dy) else \
        ("down" if dy > 0 else "up")
    qs = [Question(f"which way does the {kind} {L} move?", "motion", direction)]
    return b.case(kind, seed, [(t, [target.id]) for t in texts], qs)


def _moving_still(b: _Builder, kind: str, seed: int) -> Case:
    L, D = b.labels(2)
    r = b.rng
    n_move = int(r.integers(1, 3))
    n_still = int(r.integers(1, 3))
    movers, stills = [], []
    for _ in range(n_move):
        style = r.random()
        if style < 0.5:
            movers.append(b.across(L, float(r.uniform(35, 120))))
        elif style < 0.75:  # moves, then stops
            y = b.lane()
            x0 = float(r.uniform(30, 80))
            stop = int(r.integers(12, 25))
            movers.append(b.add(L, [(0, x0, y), (stop, x0 + float(r.uniform(40, 80)), y)],
                                [(0, FRAMES - 1)]))
        else:  # back and forth: no net displacement
            y = b.lane()
            x0 = float(r.uniform(40, 90))
            d = float(r.uniform(35, 60))
            movers.append(b.add(L, [(0, x0, y), (20, x0 + d, y), (FRAMES - 1, x0, y)],
                                [(0, FRAMES - 1)]))
    for _ in range(n_still):
        stills.append(b.still_at(L))
    b.any_motion(D, [(0, FRAMES - 1)])
    if kind == "moving":
        ids, n = sorted(m.id for m in movers), n_move
        if n == 1:
            texts = [f"the {L} that moves", f"the moving {L}", f"the {L} that is moving",
                     f"the {L} in motion"]
        else:
            texts = [f"the {plural(L)} that move", f"the moving {plural(L)}",
                     f"the {plural(L)} that are moving"]
    else:
        ids, n = sorted(m.id for m in stills), n_still
        if n == 1:
            texts = [f"the {L} standing still", f"the {L} that does not move",
                     f"the stationary {L}", f"the motionless {L}", f"the {L} that stays still"]
        else:
            texts = [f"the {plural(L)} standing still", f"the stationary {plural(L)}",
                     f"the {plural(L)} that do not move", f"the motionless {plural(L)}"]
    texts = [texts[i] for i in r.choice(len(texts), 2, replace=False)]
    qs = [Question(f"how many {plural(L)} are moving?", "count", n_move),
          Question(f"how many {plural(L)} are standing still?", "count", n_still)]
    return b.case(kind, seed, [(t, ids) for t in texts], qs)


def _direction(b: _Builder, kind: str, seed: int) -> Case:
    L, D = b.labels(2)
    r = b.rng
    n = int(r.integers(2, 4))
    objs = []
    for _ in range(n):
        sign = 1 if r.random() < 0.5 else -1
        objs.append(b.across(L, float(r.uniform(50, 110)), sign=sign))
    if all(m.path[-1][1] > m.path[0][1] for m in objs) or \
            all(m.path[-1][1] < m.path[0][1] for m in objs):
        objs.append(b.still_at(L))
    b.across(D, 80.0)
    d = _pick(r, ["left", "right"])
    ids = sorted(m.id for m in objs if len(m.path) > 1
                 and (m.path[-1][1] - m.path[0][1] > 0) == (d == "right"))
    if not ids:
        d = "left" if d == "right" else "right"
        ids = sorted(m.id for m in objs if len(m.path) > 1
                     and (m.path[-1][1] - m.path[0][1] > 0) == (d == "right"))
    name = L if len(ids) == 1 else plural(L)
    texts = [f"the {name} moving {d}", f"the {name} going to the {d}",
             f"the {name} heading {d}"]
    texts = [texts[i] for i in r.choice(len(texts), 2, replace=False)]
    qs = [Question(f"how many {plural(L)} move {d}?", "count", len(ids))]
    return b.case(kind, seed, [(t, ids) for t in texts], qs)


def _follows(b: _Builder, kind: str, seed: int) -> Case:
    L1, L2, D = b.labels(3)
    r = b.rng
    same = r.random() < 0.3
    if same:
        L2 = L1
    y = b.lane()
    sign = 1 if r.random() < 0.5 else -1
    hl, hf = b.half(), b.half()
    gap = float(r.uniform(2.2, 3.5)) * max(hl, hf) * 2
    dist = float(r.uniform(70, 100))
    x_lead0 = WIDTH / 2 - sign * dist / 2 + sign * gap / 2
    lead = b.add(L2, [(0, x_lead0, y), (FRAMES - 1, x_lead0 + sign * dist, y)],
                 [(0, FRAMES - 1)], half=hl)
    x_f0 = x_lead0 - sign * gap
    follower = b.add(L1, [(0, x_f0, y + float(r.uniform(-2, 2))),
                          (FRAMES - 1, x_f0 + sign * dist, y + float(r.uniform(-2, 2)))],
                     [(0, FRAMES - 1)], half=hf)
    # distractors of the follower's label: one moving the other way, one standing still
    b.across(L1, float(r.uniform(60, 100)), sign=-sign)
    if r.random() < 0.5:
        b.still_at(L1)
    b.any_motion(D, [(0, FRAMES - 1)])
    if same:
        texts = [f"the {L1} following the other {L1}", f"the {L1} that follows another {L1}"]
        return b.case(kind, seed, [(t, [follower.id]) for t in texts])
    texts = [f"the {L1} following the {L2}", f"the {L1} that follows the {L2}",
             f"the {L1} chasing the {L2}", f"the {L1} walking behind the {L2}"]
    texts = [texts[i] for i in r.choice(len(texts), 2, replace=False)]
    exprs = [(t, [follower.id]) for t in texts]
    exprs.append((f"the {L2} followed by the {L1}", [lead.id]))
    qs = [Question(f"is there a {L1} following the {L2}?", "exists", True),
          Question(f"is there a {D} following the {L2}?", "exists", False)]
    return b.case(kind, seed, exprs, qs)


def _passes(b: _Builder, kind: str, seed: int) -> Case:
    # no ball here: "passing the ball" is passing it to someone, not going past it
    L1, L2, D = b.labels(3, exclude=("ball",))
    r = b.rng
    sign = 1 if r.random() < 0.5 else -1
    h1, h2 = b.half(), b.half()
    y2 = b.lane()
    y1 = y2 + (h1 + h2 + float(r.uniform(2, 6))) * (1 if y2 < HEIGHT / 2 else -1)
    b.lanes = [y for y in b.lanes if abs(y - y1) > 25]  # keep the passer's way clear
    slow = r.random() < 0.5
    x2 = WIDTH / 2 + float(r.uniform(-15, 15))
    d2 = float(r.uniform(10, 25)) if slow else 0.0
    other = b.add(L2, [(0, x2 - sign * d2 / 2, y2), (FRAMES - 1, x2 + sign * d2 / 2, y2)],
                  [(0, FRAMES - 1)], half=h2)
    x1 = x2 - sign * float(r.uniform(50, 70))
    passer = b.add(L1, [(0, x1, y1), (FRAMES - 1, x2 + sign * float(r.uniform(50, 70)), y1)],
                   [(0, FRAMES - 1)], half=h1)
    # distractor of the passer's label: moves the same way but stays behind
    y3 = b.lane()
    b.add(L1, [(0, x1 - sign * 20, y3), (FRAMES - 1, x2 - sign * 45, y3)], [(0, FRAMES - 1)])
    b.any_motion(D, [(0, FRAMES - 1)])
    texts = [f"the {L1} passing the {L2}", f"the {L1} that passes the {L2}",
             f"the {L1} overtaking the {L2}", f"the {L1} going past the {L2}"]
    texts = [texts[i] for i in r.choice(len(texts), 2, replace=False)]
    exprs = [(t, [passer.id]) for t in texts]
    exprs.append((f"the {L2} passed by the {L1}", [other.id]))
    qs = [Question(f"is there a {L1} passing the {L2}?", "exists", True),
          Question(f"how many {plural(L1)} pass the {L2}?", "count", 1)]
    return b.case(kind, seed, exprs, qs)


def _approach(b: _Builder, kind: str, seed: int) -> Case:
    L1, L2, D = b.labels(3)
    r = b.rng
    h2 = b.half()
    tx, ty = float(r.uniform(70, 120)), float(r.uniform(50, 94))
    target = b.add(L2, [(0, tx, ty)], [(0, FRAMES - 1)], half=h2)
    objs = {}
    for role in ("towards", "away_from"):
        h = b.half()
        ang = float(r.uniform(0, 2 * np.pi))
        near, far = h + h2 + float(r.uniform(6, 12)), h + h2 + float(r.uniform(50, 65))
        a, z = (far, near) if role == "towards" else (near, far)
        p0 = (tx + a * np.cos(ang), ty + a * np.sin(ang))
        p1 = (tx + z * np.cos(ang), ty + z * np.sin(ang))
        if role == "away_from":
            ang2 = ang + np.pi * float(r.uniform(0.6, 1.4))  # start on another side
            p0 = (tx + a * np.cos(ang2), ty + a * np.sin(ang2))
            p1 = (tx + z * np.cos(ang2), ty + z * np.sin(ang2))
        p0 = (float(np.clip(p0[0], h, WIDTH - h)), float(np.clip(p0[1], h, HEIGHT - h)))
        p1 = (float(np.clip(p1[0], h, WIDTH - h)), float(np.clip(p1[1], h, HEIGHT - h)))
        objs[role] = b.add(L1, [(0, *p0), (FRAMES - 1, *p1)], [(0, FRAMES - 1)], half=h)
    b.any_motion(D, [(0, FRAMES - 1)])
    chosen = objs[kind]
    if kind == "towards":
        texts = [f"the {L1} moving towards the {L2}", f"the {L1} approaching the {L2}",
                 f"the {L1} running to the {L2}", f"the {L1} heading toward the {L2}"]
    else:
        texts = [f"the {L1} moving away from the {L2}", f"the {L1} running away from the "
                 f"{L2}", f"the {L1} walking away from the {L2}", f"the {L1} fleeing from the "
                 f"{L2}"]
    texts = [texts[i] for i in r.choice(len(texts), 2, replace=False)]
    word = "towards" if kind == "towards" else "away from"
    qs = [Question(f"how many {plural(L1)} move {word} the {L2}?", "count", 1)]
    return b.case(kind, seed, [(t, [chosen.id]) for t in texts], qs)


def _camera(b: _Builder, kind: str, seed: int) -> Case:
    """Towards / away from the camera: the object grows / shrinks (others keep their size)."""
    L, D = b.labels(2)
    r = b.rng
    grow = float(r.uniform(1.6, 2.2))
    near = kind == "towards"
    chosen = b.any_motion(L, [(0, FRAMES - 1)])
    chosen.half = float(r.uniform(5.0, 6.5))
    chosen.scale = (1.0, grow) if near else (grow, 1.0)
    other = b.any_motion(L, [(0, FRAMES - 1)])
    other.half = float(r.uniform(5.0, 6.5))
    other.scale = (grow, 1.0) if near else (1.0, grow)  # the opposite way
    for _ in range(int(r.integers(0, 2))):
        b.any_motion(L, [(0, FRAMES - 1)])  # keeps its size
    b.any_motion(D, [(0, FRAMES - 1)])
    if near:
        texts = [f"the {L} coming towards the camera", f"the {L} walking toward the camera",
                 f"the {L} approaching the camera"]
    else:
        texts = [f"the {L} walking away", f"the {L} moving away from the camera",
                 f"the {L} going away from the camera"]
    texts = [texts[i] for i in r.choice(len(texts), 2, replace=False)]
    return b.case(kind, seed, [(t, [chosen.id]) for t in texts])


def _touches(b: _Builder, kind: str, seed: int) -> Case:
    L1, L2, D = b.labels(3)
    r = b.rng
    h1, h2 = b.half(), b.half()
    y = b.lane()
    x2 = float(r.uniform(80, 120))
    other = b.add(L2, [(0, x2, y)], [(0, FRAMES - 1)], half=h2)
    sign = 1 if r.random() < 0.5 else -1
    contact = x2 - sign * (h1 + h2 - 1)
    toucher = b.add(L1, [(0, contact - sign * 50, y), (25, contact, y), (FRAMES - 1, contact, y)],
                    [(0, FRAMES - 1)], half=h1, z=1)
    b.across(L1, float(r.uniform(40, 80)))  # moves elsewhere, never touches
    b.any_motion(D, [(0, FRAMES - 1)])
    texts = [f"the {L1} touching the {L2}", f"the {L1} that touches the {L2}",
             f"the {L1} in contact with the {L2}"]
    texts = [texts[i] for i in r.choice(len(texts), 2, replace=False)]
    qs = [Question(f"how many {plural(L1)} touch the {L2}?", "count", 1)]
    return b.case(kind, seed, [(t, [toucher.id]) for t in texts], qs)


def _count(b: _Builder, kind: str, seed: int) -> Case:
    L, D = b.labels(2)
    r = b.rng
    n = int(r.integers(2, 4))
    style = _pick(r, ["moving", "still", "fastest"])
    movers, stills = [], []
    if style == "fastest":
        dists = [30.0 * 1.6 ** k for k in range(n + 1)]
        for d in r.permutation(dists):
            movers.append(b.across(L, float(d)))
        ranked = sorted(movers, key=lambda m: -abs(m.path[-1][1] - m.path[0][1]))
        ids = sorted(m.id for m in ranked[:n])
    else:
        k_other = int(r.integers(1, 3)) if n < 3 else 1
        n_move, n_still = (n, k_other) if style == "moving" else (k_other, n)
        for _ in range(n_move):
            movers.append(b.across(L, float(r.uniform(45, 110))))
        for _ in range(n_still):
            stills.append(b.still_at(L))
        ids = sorted(m.id for m in (movers if style == "moving" else stills))
    b.any_motion(D, [(0, FRAMES - 1)])
    word = {2: "two", 3: "three"}[n]
    if style == "moving":
        texts = [f"the {word} {plural(L)} moving", f"the {word} {plural(L)} that are moving",
                 f"the {word} moving {plural(L)}"]
    elif style == "still":
        texts = [f"the {word} {plural(L)} standing still", f"the {word} stationary "
                 f"{plural(L)}", f"the {word} {plural(L)} that do not move"]
    else:
        texts = [f"the {word} fastest {plural(L)}", f"the {word} {plural(L)} moving fastest"]
    texts = [texts[i] for i in r.choice(len(texts), 2, replace=False)]
    return b.case(kind, seed, [(t, ids) for t in texts])


_MAKERS = {
    "appears_later": _appear_order, "appears_earlier": _appear_order,
    "appears_first": _appear_order, "appears_last": _appear_order,
    "leaves_first": _leave_order, "leaves_last": _leave_order, "disappears": _disappears,
    "comes_back": _comes_back, "fastest": _speed, "slowest": _speed, "moving": _moving_still,
    "still": _moving_still, "direction": _direction, "follows": _follows, "passes": _passes,
    "towards": _approach, "away_from": _approach, "touches": _touches, "count": _count,
}


def make_case(kind: str, seed: int, jitter: float = 0.7, drop: float = 0.05,
              blip: float = 0.3) -> Case:
    """One case of ``kind`` (see ``KINDS``), rendered with tracker-like faults. Every fourth
    seed of towards / away from is about the camera (the object grows / shrinks)."""
    b = _Builder(seed * 31 + KINDS.index(kind))
    if kind in ("towards", "away_from") and seed % 4 == 3:
        case = _camera(b, kind, seed)
    else:
        case = _MAKERS[kind](b, kind, seed)
    case.label_maps = render(case.movers, np.random.default_rng(seed * 7919 + 17), jitter, drop,
                             blip)
    return case


def j_score(label_maps: np.ndarray, pred_ids, true_ids) -> float:
    """DAVIS region J of the union masks of ``pred_ids`` vs ``true_ids``: IoU per frame (a
    frame where both are empty scores 1), averaged over frames."""
    p = np.isin(label_maps, np.asarray(list(pred_ids), dtype=np.uint8)) if len(pred_ids) \
        else np.zeros(label_maps.shape, bool)
    g = np.isin(label_maps, np.asarray(list(true_ids), dtype=np.uint8)) if len(true_ids) \
        else np.zeros(label_maps.shape, bool)
    inter = (p & g).reshape(len(p), -1).sum(1)
    union = (p | g).reshape(len(p), -1).sum(1)
    return float(np.where(union == 0, 1.0, inter / np.maximum(union, 1)).mean())
