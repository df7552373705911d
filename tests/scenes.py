"""Synthetic scenes with known ground truth for the memory and reasoning tests and benchmark.

A scene is a short video of coloured, shaded shapes (circles, ellipses, boxes) over a textured
background. Objects move along straight lines, appear and leave at known frames and may pass in
front of each other (a depth order decides who hides whom). Rendering gives the label maps
((T, H, W) uint8 ids, the tracks format) and the RGB frames ((T, H, W, 3) uint8), optionally with
noise and JPEG compression. Ground truth comes from the object specs, not from the masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

# representative shades of every CONTRACT colour (RGB); scenes pick one at random
PALETTE: dict[str, list[tuple[int, int, int]]] = {
    "red": [(220, 30, 30), (200, 20, 40), (235, 45, 35)],
    "orange": [(255, 140, 0), (245, 125, 20), (255, 155, 40)],
    "yellow": [(250, 220, 30), (240, 210, 0), (255, 230, 60)],
    "green": [(40, 170, 60), (20, 140, 40), (90, 200, 70)],
    "blue": [(30, 80, 220), (20, 60, 180), (60, 120, 230)],
    "purple": [(130, 40, 170), (110, 30, 140), (150, 60, 190)],
    "pink": [(255, 120, 180), (250, 150, 200), (240, 100, 170)],
    "brown": [(130, 80, 40), (110, 70, 35), (150, 95, 50)],
    "black": [(25, 25, 25), (40, 40, 45), (30, 28, 25)],
    "white": [(240, 240, 240), (250, 250, 245), (235, 238, 240)],
    "gray": [(128, 128, 128), (110, 110, 115), (145, 145, 145)],
}
LABELS = ("dog", "cat", "person", "car", "ball", "bird", "horse", "cup", "bike", "boat")


@dataclass
class ObjSpec:
    """One object: a shape of half-size ``size`` px moving from ``start`` to ``end`` (x, y px)
    while visible on frames ``appear``..``leave`` (inclusive); higher ``z`` is in front."""

    id: int
    label: str
    color: str
    rgb: tuple[int, int, int]
    shape: str
    size: float
    start: tuple[float, float]
    end: tuple[float, float]
    appear: int
    leave: int
    z: int = 0
    aspect: float = 1.0  # height / width of ellipses and boxes

    def center(self, t: int) -> tuple[float, float]:
        """Centre (x, y) at frame t (linear between appear and leave)."""
        span = max(self.leave - self.appear, 1)
        a = min(max((t - self.appear) / span, 0.0), 1.0)
        return (
            self.start[0] + a * (self.end[0] - self.start[0]),
            self.start[1] + a * (self.end[1] - self.start[1]),
        )

    def half_extent(self) -> tuple[float, float]:
        return (self.size, self.size * (self.aspect if self.shape != "circle" else 1.0))

    def box(self, t: int) -> tuple[float, float, float, float]:
        cx, cy = self.center(t)
        hw, hh = self.half_extent()
        return (cx - hw, cy - hh, cx + hw, cy + hh)

    def area(self) -> float:
        hw, hh = self.half_extent()
        return float(np.pi * hw * hh) if self.shape != "rect" else float(4 * hw * hh)

    @property
    def frames(self) -> range:
        return range(self.appear, self.leave + 1)

    @property
    def direction(self) -> str:
        dx, dy = self.end[0] - self.start[0], self.end[1] - self.start[1]
        if np.hypot(dx, dy) < 1e-6:
            return "none"
        if abs(dx) >= abs(dy):
            return "right" if dx > 0 else "left"
        return "down" if dy > 0 else "up"

    def speed(self, fps: float) -> float:
        """Speed along the path in px/s."""
        dist = float(np.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1]))
        return dist / max(self.leave - self.appear, 1) * fps

    def mean_center(self) -> tuple[float, float]:
        c = np.array([self.center(t) for t in self.frames])
        return float(c[:, 0].mean()), float(c[:, 1].mean())


@dataclass
class Scene:
    fps: float
    width: int
    height: int
    num_frames: int
    objects: list[ObjSpec]
    label_maps: np.ndarray  # (T, H, W) uint8
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def labels(self) -> dict[int, str]:
        return {o.id: o.label for o in self.objects}

    def obj(self, object_id: int) -> ObjSpec:
        return next(o for o in self.objects if o.id == object_id)

    def masks(self, ids) -> np.ndarray:
        """(T, H, W) bool union of the masks of ``ids``."""
        return np.isin(self.label_maps, np.asarray(list(ids), dtype=np.uint8))

    def memory(self, with_frames: bool = True, label_maps: np.ndarray | None = None):
        """The scene memory of these tracks (or of other ``label_maps`` of the same video)."""
        from vidagent.memory import SceneMemoryBuilder

        maps = self.label_maps if label_maps is None else label_maps
        b = SceneMemoryBuilder(self.fps, self.width, self.height, self.num_frames, self.labels())
        for t in range(self.num_frames):
            b.add_frame(t, maps[t], self.frames[t] if with_frames else None)
        return b.build()


def _shape_mask(spec: ObjSpec, t: int, h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cx, cy = spec.center(t)
    hw, hh = spec.half_extent()
    if spec.shape == "circle":
        cv2.circle(m, (int(round(cx)), int(round(cy))), int(round(hw)), 1, -1)
    elif spec.shape == "ellipse":
        cv2.ellipse(m, (int(round(cx)), int(round(cy))), (int(round(hw)), int(round(hh))), 0, 0,
                    360, 1, -1)
    else:
        cv2.rectangle(m, (int(round(cx - hw)), int(round(cy - hh))),
                      (int(round(cx + hw)) - 1, int(round(cy + hh)) - 1), 1, -1)
    return m.astype(bool)


def shade_patch(rgb, h: int, w: int, rng: np.random.Generator, strength: float = 0.4) -> np.ndarray:
    """(h, w, 3) float32 patch of colour ``rgb`` lit from a random direction (darkest side
    ``1 - strength`` times the colour, lit side slightly brighter)."""
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (np.cos(ang) * (xx / max(w - 1, 1) - 0.5) + np.sin(ang) * (yy / max(h - 1, 1) - 0.5))
    u = (u - u.min()) / max(float(u.max() - u.min()), 1e-6)
    factor = 1.05 - strength * u
    return np.asarray(rgb, np.float32)[None, None] * factor[..., None]


def render(
    objects: list[ObjSpec],
    width: int,
    height: int,
    num_frames: int,
    fps: float = 10.0,
    seed: int = 0,
    noise: float = 4.0,
    shading: float = 0.4,
    jpeg: int | None = None,
) -> Scene:
    """Draw the objects back to front on every frame; see the module docstring."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    tint = rng.uniform(90, 170, size=3).astype(np.float32)
    tint = tint * 0.3 + tint.mean() * 0.7  # low-saturation background
    bg = tint[None, None] * (0.85 + 0.3 * (xx / width))[..., None]
    bg += rng.normal(0, 6, size=(height, width, 1)).astype(np.float32)
    label_maps = np.zeros((num_frames, height, width), np.uint8)
    frames = np.zeros((num_frames, height, width, 3), np.uint8)
    patches = {o.id: shade_patch(o.rgb, height, width, np.random.default_rng(seed * 97 + o.id),
                                 shading) for o in objects}
    order = sorted(objects, key=lambda o: o.z)
    for t in range(num_frames):
        img = bg.copy()
        lm = label_maps[t]
        for o in order:
            if not (o.appear <= t <= o.leave):
                continue
            m = _shape_mask(o, t, height, width)
            x0, y0, x1, y1 = o.box(t)
            # shading follows the object: sample the lighting field relative to its box
            sx = np.clip(((xx - x0) / max(x1 - x0, 1) * (width - 1)).astype(np.int64), 0, width - 1)
            sy = np.clip(((yy - y0) / max(y1 - y0, 1) * (height - 1)).astype(np.int64), 0,
                         height - 1)
            img[m] = patches[o.id][sy[m], sx[m]]
            lm[m] = o.id
        if noise:
            img += rng.normal(0, noise, size=img.shape).astype(np.float32)
        out = np.clip(img, 0, 255).astype(np.uint8)
        if jpeg:
            ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg)])
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
        frames[t] = out
    return Scene(fps, width, height, num_frames, list(objects), label_maps, frames, seed)


def random_scene(
    seed: int,
    width: int = 192,
    height: int = 144,
    num_frames: int = 40,
    fps: float = 10.0,
    max_objects: int = 5,
    min_visible: float = 0.35,
    jpeg: int | None = None,
    noise: float = 4.0,
    labels_pool: tuple[str, ...] = LABELS,
    shading: float = 0.4,
) -> Scene:
    """A random scene whose every object keeps at least ``min_visible`` of its area visible on
    every frame it is on screen (so spec-based truths hold); rejection-sampled from ``seed``."""
    rng = np.random.default_rng(seed)
    for _attempt in range(200):
        n = int(rng.integers(2, max_objects + 1))
        labels = list(rng.choice(labels_pool, size=n, replace=True))
        objects = []
        for i, label in enumerate(labels):
            color = str(rng.choice(list(PALETTE)))
            rgb = PALETTE[color][int(rng.integers(len(PALETTE[color])))]
            shape = str(rng.choice(["circle", "ellipse", "rect"]))
            size = float(rng.uniform(0.07, 0.16) * min(width, height))
            aspect = float(rng.uniform(0.7, 1.3))
            hw, hh = size, size * (aspect if shape != "circle" else 1.0)
            lo_x, hi_x = hw + 2, width - hw - 3
            lo_y, hi_y = hh + 2, height - hh - 3
            start = (float(rng.uniform(lo_x, hi_x)), float(rng.uniform(lo_y, hi_y)))
            if rng.random() < 0.35:
                end = start
            else:
                axis = int(rng.integers(2))
                sign = 1 if rng.random() < 0.5 else -1
                extent = (width, height)[axis]
                dist = float(rng.uniform(0.3, 0.55) * extent)
                end = list(start)
                end[axis] = start[axis] + sign * dist
                end[1 - axis] = start[1 - axis] + float(rng.uniform(-0.05, 0.05)) * extent
                end[0] = float(np.clip(end[0], lo_x, hi_x))
                end[1] = float(np.clip(end[1], lo_y, hi_y))
                end = tuple(end)
                if np.hypot(end[0] - start[0], end[1] - start[1]) < 0.25 * extent:
                    end = start
            if rng.random() < 0.5:
                appear, leave = 0, num_frames - 1
            else:
                appear = int(rng.integers(0, num_frames // 2))
                leave = int(rng.integers(appear + num_frames // 4, num_frames))
            objects.append(ObjSpec(i + 1, str(label), color, rgb, shape, size, start, end,
                                   appear, leave, z=i, aspect=aspect))
        scene = render(objects, width, height, num_frames, fps, seed, noise=noise, jpeg=jpeg,
                       shading=shading)
        if _visible_enough(scene, min_visible):
            return scene
    raise RuntimeError(f"could not sample a valid scene for seed {seed}")


def _visible_enough(scene: Scene, min_visible: float) -> bool:
    """Check visibility; records each object's median visible share in
    ``scene.extra["visible_share"]``."""
    shares = scene.extra.setdefault("visible_share", {})
    for o in scene.objects:
        full = np.array([_shape_mask(o, t, scene.height, scene.width).sum() for t in o.frames])
        seen = np.array([(scene.label_maps[t] == o.id).sum() for t in o.frames])
        shares[o.id] = float(np.median(seen / np.maximum(full, 1)))
        if (seen < min_visible * np.maximum(full, 1)).any():
            return False
        hidden = [t for t in range(scene.num_frames) if t not in o.frames]
        if any((scene.label_maps[t] == o.id).any() for t in hidden):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# questions and referring expressions with ground truth (for tests and scripts/bench_reasoning)
# ---------------------------------------------------------------------------------------------

PLURALS = {"person": "people", "bus": "buses", "box": "boxes", "puppy": "puppies",
           "pony": "ponies"}
# other words a question may use for a label (the matcher must accept them)
SYNONYMS = {"dog": ["puppy", "doggy"], "bike": ["bicycle"], "car": ["automobile"],
            "cat": ["kitten"], "boat": ["ship"], "cup": ["mug"], "horse": ["pony"],
            "person": ["pedestrian", "human"]}
HYPERNYMS = {"vehicle": {"car", "bike", "boat"}, "animal": {"dog", "cat", "bird", "horse"}}
_THIRDS = (("top-left", "top", "top-right"), ("left", "center", "right"),
           ("bottom-left", "bottom", "bottom-right"))


def plural(label: str) -> str:
    return PLURALS.get(label, label + "s")


@dataclass
class Question:
    """A plan with its expected value; ``check`` overrides equality (describe)."""

    task: str
    plan: object  # vidagent.query.plan.Plan
    text: str
    expected: object
    check: object = None  # callable(value) -> bool

    def correct(self, value) -> bool:
        if self.check is not None:
            return bool(self.check(value))
        if isinstance(self.expected, float) and isinstance(value, (int, float)):
            return abs(value - self.expected) < 1e-6
        return value == self.expected


@dataclass
class Expression:
    """A referring expression (as a plan) and the ids it means."""

    plan: object
    text: str
    ids: list[int]


def _pos_name(x: float, y: float, w: int, h: int) -> str | None:
    """Thirds position, or None when within 5% of a dividing line (ambiguous)."""
    for v, size in ((x, w), (y, h)):
        for line in (size / 3, 2 * size / 3):
            if abs(v - line) < 0.05 * size:
                return None
    return _THIRDS[min(int(3 * y / h), 2)][min(int(3 * x / w), 2)]


def _co_frames(a: ObjSpec, b: ObjSpec) -> list[int]:
    return [t for t in a.frames if b.appear <= t <= b.leave]


def _gap_scale(a: ObjSpec, b: ObjSpec, t: int) -> tuple[float, float]:
    ba, bb = a.box(t), b.box(t)
    gx = max(0.0, max(ba[0], bb[0]) - min(ba[2], bb[2]))
    gy = max(0.0, max(ba[1], bb[1]) - min(ba[3], bb[3]))
    return float(np.hypot(gx, gy)), float(np.sqrt(max(a.area(), b.area())))


def near_truth(a: ObjSpec, b: ObjSpec) -> bool | None:
    frames = _co_frames(a, b)
    if not frames:
        return None
    gs = [_gap_scale(a, b, t) for t in frames]
    clear_near = np.mean([g <= 0.3 * s for g, s in gs])
    clear_far = np.mean([g >= 0.8 * s for g, s in gs])
    if clear_near >= 0.7:
        return True
    if clear_far >= 0.7:
        return False
    return None


def touching_truth(a: ObjSpec, b: ObjSpec, h: int, w: int) -> bool | None:
    frames = _co_frames(a, b)
    if not frames:
        return None
    k1 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    k4 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))
    touch, close = 0, 0
    for t in frames:
        ma = _shape_mask(a, t, h, w).astype(np.uint8)
        mb = _shape_mask(b, t, h, w)
        if (cv2.dilate(ma, k1).astype(bool) & mb).any():
            touch += 1
        if (cv2.dilate(ma, k4).astype(bool) & mb).any():
            close += 1
    if touch >= 2:
        return True
    if close == 0:
        return False
    return None


def side_truth(a: ObjSpec, b: ObjSpec, predicate: str, w: int, h: int) -> bool | None:
    frames = _co_frames(a, b)
    if not frames:
        return None
    ca = np.array([a.center(t) for t in frames])
    cb = np.array([b.center(t) for t in frames])
    axis, size = (0, w) if predicate in ("left_of", "right_of") else (1, h)
    d = ca[:, axis] - cb[:, axis]
    if (np.abs(d) < 0.08 * size).any():
        return None
    less = float((d < 0).mean())
    if 0.2 < less < 0.8:
        return None
    return (less > 0.5) if predicate in ("left_of", "above") else (less < 0.5)


def make_questions(scene: Scene, rng: np.random.Generator) -> list[Question]:
    """Questions over every task with spec-based expected values (ambiguous ones skipped)."""
    from vidagent.query.plan import Plan

    qs: list[Question] = []
    w, h, fps, T = scene.width, scene.height, scene.fps, scene.num_frames
    by_label: dict[str, list[ObjSpec]] = {}
    for o in scene.objects:
        by_label.setdefault(o.label, []).append(o)
    absent = [lab for lab in LABELS if lab not in by_label]
    uniques = [objs[0] for objs in by_label.values() if len(objs) == 1]

    def add(task, text, expected, check=None, **plan):
        qs.append(Question(task, Plan(task=task, **plan), text, expected, check))

    for label, objs in by_label.items():
        add("count", f"how many {plural(label)} are there?", len(objs), targets=[plural(label)])
        add("exists", f"is there a {label}?", True, targets=[label])
        for syn in SYNONYMS.get(label, [])[:1]:
            add("count", f"how many {plural(syn)} are there?", len(objs), targets=[plural(syn)])
        c = objs[int(rng.integers(len(objs)))].color
        n_c = sum(o.color == c for o in objs)
        add("count", f"how many {c} {plural(label)} are there?", n_c,
            targets=[f"{c} {plural(label)}"], attributes={f"{c} {plural(label)}": {"color": c}})
        missing = [col for col in PALETTE if col not in {o.color for o in objs}]
        c2 = missing[int(rng.integers(len(missing)))]
        add("exists", f"is there a {c2} {label}?", False, targets=[f"{c2} {label}"],
            attributes={f"{c2} {label}": {"color": c2}})
        # a time window in seconds, kept off frame boundaries
        f0 = int(rng.integers(0, T // 2))
        f1 = int(rng.integers(f0 + 2, T))
        n_w = sum(o.appear <= f1 and o.leave >= f0 for o in objs)
        add("count", f"how many {plural(label)} are there between {(f0 - 0.4) / fps:.2f} s and "
            f"{(f1 + 0.4) / fps:.2f} s?", n_w, targets=[plural(label)],
            window={"start": max((f0 - 0.4) / fps, 0.0), "end": (f1 + 0.4) / fps})
        if len(objs) >= 2:
            # ambiguous singular references: honest None when the candidates differ
            if len({o.color for o in objs}) > 1:
                add("color", f"what color is the {label}?", None, targets=[label])
            left = sorted(objs, key=lambda o: o.mean_center()[0])
            if left[1].mean_center()[0] - left[0].mean_center()[0] > 0.1 * w:
                add("color", f"what color is the {label} on the left?", left[0].color,
                    targets=[label], position="left")
                add("color", f"what color is the leftmost {label}?", left[0].color,
                    targets=[label], ordinal={"rank": 1, "by": "left"})
    for hyper, members in HYPERNYMS.items():
        n_h = sum(len(by_label.get(m, [])) for m in members)
        add("count", f"how many {hyper}s are there?", n_h, targets=[f"{hyper}s"])
    for lab in absent[:2]:
        add("count", f"how many {plural(lab)} are there?", 0, targets=[plural(lab)])
        add("exists", f"is there a {lab}?", False, targets=[lab])
        add("when", f"when does the {lab} appear?", None, targets=[lab], event="appear")
        add("where", f"where is the {lab}?", None, targets=[lab])
        add("color", f"what color is the {lab}?", None, targets=[lab])
    for o in uniques:
        add("when", f"when does the {o.label} appear?", o.appear / fps, targets=[o.label],
            event="appear")
        add("when", f"when does the {o.label} leave?", o.leave / fps, targets=[o.label],
            event="leave")
        add("duration", f"how long is the {o.label} visible?", (o.leave - o.appear + 1) / fps,
            targets=[o.label])
        pos = _pos_name(*o.mean_center(), w, h)
        if pos is not None:
            add("where", f"where is the {o.label}?", pos, targets=[o.label])
        add("color", f"what color is the {o.label}?", o.color, targets=[o.label])
        add("motion", f"which way does the {o.label} move?", o.direction, targets=[o.label])
    for i, a in enumerate(uniques):
        for b in uniques[i + 1:]:
            pred = str(rng.choice(["left_of", "right_of", "above", "below"]))
            v = side_truth(a, b, pred, w, h)
            rel = {"subject": a.label, "predicate": pred, "object": b.label}
            if v is not None:
                add("relation", f"is the {a.label} {pred.replace('_', ' ')} the {b.label}?", v,
                    targets=[a.label, b.label], relation=rel)
            for pred, v in (("near", near_truth(a, b)),
                            ("touching", touching_truth(a, b, h, w))):
                if v is not None:
                    add("relation", f"is the {a.label} {pred} the {b.label}?", v,
                        targets=[a.label, b.label],
                        relation={"subject": a.label, "predicate": pred, "object": b.label})
            ax, ay = a.mean_center()
            bx, by = b.mean_center()
            ratio = a.area() / b.area()
            shares = scene.extra.get("visible_share", {})
            hidden = min(shares.get(a.id, 1.0), shares.get(b.id, 1.0)) < 0.9
            if not hidden and (ratio >= 1.3 or ratio <= 1 / 1.3):
                add("compare", f"which is bigger, the {a.label} or the {b.label}?",
                    a.label if ratio > 1 else b.label, targets=[a.label, b.label],
                    compare={"by": "size"})
                add("compare", f"which is smaller, the {a.label} or the {b.label}?",
                    b.label if ratio > 1 else a.label, targets=[a.label, b.label],
                    compare={"by": "size", "order": "least"})
            sa, sb = a.speed(fps), b.speed(fps)
            if max(sa, sb) > 8 and (sa >= 1.6 * sb or sb >= 1.6 * sa):
                add("compare", f"which is faster, the {a.label} or the {b.label}?",
                    a.label if sa > sb else b.label, targets=[a.label, b.label],
                    compare={"by": "speed"})
            if abs(ax - bx) > 0.12 * w:
                by_ = str(rng.choice(["left", "right"]))
                win = (a if ax < bx else b) if by_ == "left" else (a if ax > bx else b)
                add("compare", f"which is further {by_}, the {a.label} or the {b.label}?",
                    win.label, targets=[a.label, b.label], compare={"by": by_})
            if abs(a.appear - b.appear) >= 3:
                add("compare", f"which appears first, the {a.label} or the {b.label}?",
                    a.label if a.appear < b.appear else b.label, targets=[a.label, b.label],
                    compare={"by": "earliest"})
            da, db = a.leave - a.appear, b.leave - b.appear
            if abs(da - db) >= 3:
                add("compare", f"which is visible longer, the {a.label} or the {b.label}?",
                    a.label if da > db else b.label, targets=[a.label, b.label],
                    compare={"by": "duration"})
    present = sorted(by_label)

    def describe_ok(text) -> bool:
        low = str(text).lower()
        return all(lab in low for lab in present) and not any(lab in low for lab in absent)

    add("describe", "describe the video", "(mentions every object)", describe_ok)
    return qs


def make_expressions(scene: Scene, rng: np.random.Generator) -> list[Expression]:
    """Referring expressions (as plans) that pick out objects unambiguously, plus plural and
    absent ones."""
    from vidagent.query.plan import Plan

    out: list[Expression] = []
    w = scene.width
    by_label: dict[str, list[ObjSpec]] = {}
    for o in scene.objects:
        by_label.setdefault(o.label, []).append(o)

    def add(text, ids, **plan):
        out.append(Expression(Plan(task="segment", **plan), text, sorted(ids)))

    for label, objs in by_label.items():
        if len(objs) == 1:
            add(f"the {label}", [objs[0].id], targets=[label])
            continue
        add(f"the {plural(label)}", [o.id for o in objs], targets=[plural(label)])
        for o in objs:
            same_color = [p for p in objs if p.color == o.color]
            if len(same_color) == 1:
                add(f"the {o.color} {label}", [o.id], targets=[f"{o.color} {label}"],
                    attributes={f"{o.color} {label}": {"color": o.color}})
        xs = sorted(objs, key=lambda o: o.mean_center()[0])
        gaps = np.diff([o.mean_center()[0] for o in xs])
        if (gaps > 0.08 * w).all():
            r = int(rng.integers(len(xs)))
            nth = ("first", "second", "third", "fourth", "fifth")[r]
            add(f"the {nth} {label} from the left", [xs[r].id], targets=[label],
                ordinal={"rank": r + 1, "by": "left"})
            add(f"the {label} on the right", [xs[-1].id], targets=[label], position="right")
            if len(xs) < 3:
                add(f"the third {label} from the left", [], targets=[label],
                    ordinal={"rank": 3, "by": "left"})
        areas = sorted(objs, key=lambda o: o.area())
        if areas[-1].area() >= 1.6 * areas[-2].area():
            add(f"the big {label}", [areas[-1].id], targets=[label],
                attributes={label: {"size": "large"}})
        if areas[1].area() >= 1.6 * areas[0].area():
            add(f"the small {label}", [areas[0].id], targets=[label],
                attributes={label: {"size": "small"}})
        dirs = [o.direction for o in objs]
        for o in objs:
            if o.direction != "none" and dirs.count(o.direction) == 1:
                add(f"the {label} moving {o.direction}", [o.id], targets=[label],
                    motion=o.direction)
        appear = sorted(objs, key=lambda o: o.appear)
        if appear[1].appear - appear[0].appear >= 3:
            add(f"the {label} that appears first", [appear[0].id], targets=[label],
                ordinal={"rank": 1, "by": "earliest"})
        # relations to a unique other object
        for other_label, others in by_label.items():
            if other_label == label or len(others) != 1:
                continue
            near = [near_truth(o, others[0]) for o in objs]
            if None not in near and near.count(True) == 1:
                o = objs[near.index(True)]
                add(f"the {label} near the {other_label}", [o.id],
                    targets=[label, other_label],
                    relation={"subject": label, "predicate": "near", "object": other_label})
    absent = [lab for lab in LABELS if lab not in by_label]
    if absent:
        lab = absent[int(rng.integers(len(absent)))]
        add(f"the {lab}", [], targets=[lab])
    return out


def degrade_tracks(scene: Scene, rng: np.random.Generator, drop: float = 0.05,
                   morph: int = 1) -> np.ndarray:
    """Label maps as an imperfect tracker might give them: each object's mask eroded or
    dilated (into background only) by up to ``morph`` px on each frame, and dropped (missed)
    on a ``drop`` share of its frames. Returns (T, H, W) uint8; the scene is unchanged."""
    out = scene.label_maps.copy()
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * morph + 1, 2 * morph + 1))
    for t in range(scene.num_frames):
        lm = out[t]
        for o in scene.objects:
            m = lm == o.id
            if not m.any():
                continue
            if rng.random() < drop:
                lm[m] = 0
                continue
            r = rng.random()
            if r < 1 / 3:
                er = cv2.erode(m.astype(np.uint8), kernel).astype(bool)
                lm[m & ~er] = 0
            elif r < 2 / 3:
                di = cv2.dilate(m.astype(np.uint8), kernel).astype(bool)
                lm[di & (lm == 0)] = o.id
    return out


def j_score(scene: Scene, pred_ids, true_ids, pred_maps: np.ndarray | None = None) -> float:
    """Mean over frames of the IoU between the union masks of pred_ids and true_ids (a frame
    where both are empty scores 1), the DAVIS region measure J. ``pred_maps`` are the label
    maps the predicted ids index (default: the scene's own)."""
    if pred_maps is None:
        p = scene.masks(pred_ids) if len(pred_ids) else np.zeros_like(scene.label_maps, bool)
    else:
        p = np.isin(pred_maps, np.asarray(list(pred_ids), dtype=np.uint8))
    g = scene.masks(true_ids) if len(true_ids) else np.zeros_like(scene.label_maps, bool)
    inter = (p & g).reshape(len(p), -1).sum(1)
    union = (p | g).reshape(len(p), -1).sum(1)
    return float(np.where(union == 0, 1.0, inter / np.maximum(union, 1)).mean())
