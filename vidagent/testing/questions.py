"""Questions and referring expressions about synthetic scenes, with ground truth from the
object specs (not from the masks); ambiguous ones are skipped. For the reasoning tests and the
reasoning benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidagent.testing.scenes import LABELS, PALETTE, Scene, SceneObject, shape_mask

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


def _co_frames(a: SceneObject, b: SceneObject) -> list[int]:
    return [t for t in a.frames if b.appear <= t <= b.leave]


def _gap_scale(a: SceneObject, b: SceneObject, t: int) -> tuple[float, float]:
    ba, bb = a.box(t), b.box(t)
    gx = max(0.0, max(ba[0], bb[0]) - min(ba[2], bb[2]))
    gy = max(0.0, max(ba[1], bb[1]) - min(ba[3], bb[3]))
    return float(np.hypot(gx, gy)), float(np.sqrt(max(a.area(), b.area())))


def near_truth(a: SceneObject, b: SceneObject) -> bool | None:
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


def touching_truth(a: SceneObject, b: SceneObject, h: int, w: int) -> bool | None:
    frames = _co_frames(a, b)
    if not frames:
        return None
    k1 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    k4 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))
    touch, close = 0, 0
    for t in frames:
        ma = shape_mask(a, t, h, w).astype(np.uint8)
        mb = shape_mask(b, t, h, w)
        if (cv2.dilate(ma, k1).astype(bool) & mb).any():
            touch += 1
        if (cv2.dilate(ma, k4).astype(bool) & mb).any():
            close += 1
    if touch >= 2:
        return True
    if close == 0:
        return False
    return None


def side_truth(a: SceneObject, b: SceneObject, predicate: str, w: int, h: int) -> bool | None:
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
    by_label: dict[str, list[SceneObject]] = {}
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
    by_label: dict[str, list[SceneObject]] = {}
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


def j_score(scene: Scene, pred_ids, true_ids, pred_maps: np.ndarray | None = None) -> float:
    """Mean over frames of the IoU between the union masks of pred_ids and true_ids (a frame
    where both are empty scores 1), the DAVIS region measure J. ``pred_maps`` are the label
    maps the predicted ids index (default: the scene's own)."""
    if pred_maps is None:
        p = scene.union_mask(pred_ids) if len(pred_ids) else np.zeros_like(scene.label_maps, bool)
    else:
        p = np.isin(pred_maps, np.asarray(list(pred_ids), dtype=np.uint8))
    g = scene.union_mask(true_ids) if len(true_ids) else np.zeros_like(scene.label_maps, bool)
    inter = (p & g).reshape(len(p), -1).sum(1)
    union = (p | g).reshape(len(p), -1).sum(1)
    return float(np.where(union == 0, 1.0, inter / np.maximum(union, 1)).mean())
