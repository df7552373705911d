"""Selecting the objects a plan's phrase refers to, and the spatial predicates between objects.

Order of constraints for the subject phrase (``plan.targets[0]``): label (head noun, synonyms),
time window, colour, time and motion filters (``plan.constraints``: moving, still, disappears,
comes back, appears later, follows, passes, towards, ...; see ``vidagent.reasoning.constraints``),
size, position, motion, relation, superlatives (fastest, slowest, leaves first / last), ordinal,
count. Other target phrases get their label, time window, colour and size constraints.

Singular references ("the dog on the left") that remain ambiguous after an absolute position
filter are resolved relatively (the leftmost dog); plural ones ("the dogs on the left", counts)
keep every object that satisfies the constraint in absolute terms (frame in thirds).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from vidagent.memory import ObjectMemory, SceneMemory
from vidagent.query.plan import Plan
from vidagent.reasoning.constraints import (
    appear_frame,
    apply_filters,
    apply_ranks,
    describe_constraint,
)
from vidagent.reasoning.relations import relation_holds
from vidagent.vocab import display_name, parse_phrase

SIZE_RATIO_DISTINCT = 1.4  # largest / smallest size below which "big"/"small" tell nothing

_POSITION_PARTS = {
    "left": ("left",), "right": ("right",), "top": ("top",), "bottom": ("bottom",),
    "center": ("center",), "top-left": ("top", "left"), "top-right": ("top", "right"),
    "bottom-left": ("bottom", "left"), "bottom-right": ("bottom", "right"),
}


@dataclass
class Selection:
    """Result of selecting one phrase.

    Attributes:
        phrase: the target phrase.
        objects: the selected objects (clipped to the plan's time window when there is one).
        matched: how many objects carried a matching label (before constraints).
        plural: the phrase (or the question) is plural.
        reason: when ``objects`` is empty, a sentence saying why ("no dog appears in the video").
        notes: caveats worth telling the user (sizes too similar, ...).
        unknown: the memory cannot decide (a colour constraint but no video frames were seen);
            ``objects`` is then empty and answers should be null rather than a guess.
    """

    phrase: str
    objects: list[ObjectMemory]
    matched: int
    plural: bool
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    unknown: bool = False
    qualifier: str = ""  # the applied subject constraints in words ("on the left", ...)

    @property
    def ids(self) -> list[int]:
        return [o.id for o in self.objects]


def _anchor_frame(plan: Plan, memory: SceneMemory) -> int | None:
    """The frame of the window's anchor event ("after the dog leaves": the dog's last visible
    frame over every matching object); None when the anchor's target never appears."""
    anchor = plan.window.anchor
    found = memory.find(anchor.target)
    if not found:
        return None
    if anchor.event == "leave":
        return max(o.last_frame for o in found)
    return min(o.first_frame for o in found)


def frame_window(plan: Plan, memory: SceneMemory) -> tuple[int | None, int | None] | None:
    """The plan's time window as inclusive frame indices, or None when the plan has none.

    Frame f (at time f / fps) is inside when start <= f / fps <= end; fractions are of the
    video's duration (num_frames / fps); "the last N seconds" are the frames after
    duration - N; an anchor ("after the dog leaves") starts after (or ends before) the event's
    frame. An anchor whose target never appears gives an empty window.
    """
    span = plan.window
    if span is None:
        return None
    if span.anchor is not None:
        f = _anchor_frame(plan, memory)
        if f is None:
            return memory.num_frames, memory.num_frames - 1  # empty
        return (f + 1, None) if span.anchor.side == "after" else (None, f - 1)
    if span.last is not None:
        start = memory.duration - span.last
        return max(0, int(math.ceil(start * memory.fps - 1e-6))), None
    if span.start is None and span.end is None:
        return None
    scale = memory.duration if span.unit == "fraction" else 1.0  # fractions -> seconds
    start = None if span.start is None else int(math.ceil(span.start * scale * memory.fps - 1e-6))
    end = None if span.end is None else int(math.floor(span.end * scale * memory.fps + 1e-6))
    return start, end


def window_text(plan: Plan, memory: SceneMemory) -> str:
    """" between 1.0 s and 3.0 s" (with a leading space) or "" without a time window."""
    w = frame_window(plan, memory)
    if w is None:
        return ""
    span = plan.window
    if span.anchor is not None:
        a = span.anchor
        verb = {"appear": "appears", "leave": "leaves"}[a.event]
        gone = "" if _anchor_frame(plan, memory) is not None else \
            f" (no {display_name(a.target, 1)} appears, so that moment never comes)"
        return f" {a.side} the {display_name(a.target, 1)} {verb}{gone}"
    s, e = w
    if s is not None and e is not None:
        return f" between {s / memory.fps:.1f} s and {e / memory.fps:.1f} s"
    if s is not None:
        return f" after {s / memory.fps:.1f} s"
    return f" before {e / memory.fps:.1f} s"


def is_plural(phrase: str, question: str = "") -> bool:
    """The phrase is plural ("dogs", "people"), or the question uses the plural of its head."""
    p = parse_phrase(phrase)
    if p.plural:
        return True
    if question and p.head:
        words = set(re.split(r"[^a-z]+", question.lower()))
        plural_head = display_name(p.head, 2).split()[-1]
        return plural_head != p.head and plural_head in words
    return False


def is_indefinite(phrase: str, question: str) -> bool:
    """The question names the phrase's head with "a", "an", "any" or "some" ("is a dog near")."""
    head = parse_phrase(phrase).head
    if not head or not question:
        return False
    words = f"(?:{re.escape(head)}|{re.escape(display_name(head, 2).split()[-1])})"
    return re.search(rf"\b(?:a|an|any|some)\s+(?:[a-z]+\s+){{0,2}}{words}\b",
                     question.lower()) is not None


def _extreme(objects: list[ObjectMemory], key) -> ObjectMemory:
    return min(objects, key=key)


def _position_key(position: str, memory: SceneMemory):
    w, h = memory.width, memory.height

    def key(o: ObjectMemory) -> float:
        x, y = o.mean_centroid
        x, y = x / w, y / h
        score = 0.0
        parts = _POSITION_PARTS[position]
        if "center" in parts:
            return (x - 0.5) ** 2 + (y - 0.5) ** 2
        if "left" in parts:
            score += x
        if "right" in parts:
            score -= x
        if "top" in parts:
            score += y
        if "bottom" in parts:
            score -= y
        return score

    return key


def position_matches(actual: str | None, wanted: str) -> bool:
    """"left" accepts left, top-left and bottom-left; "top-left" only top-left; etc."""
    if actual is None:
        return False
    if wanted == "center":
        return actual == "center"
    got = set(_POSITION_PARTS[actual])
    return set(_POSITION_PARTS[wanted]) <= got


def ordinal_key(by: str):
    """Sort key for ordinals: rank 1 comes first."""
    return {
        "left": lambda o: o.mean_centroid[0],
        "right": lambda o: -o.mean_centroid[0],
        "top": lambda o: o.mean_centroid[1],
        "bottom": lambda o: -o.mean_centroid[1],
        "largest": lambda o: -o.size,
        "smallest": lambda o: o.size,
        "earliest": lambda o: (appear_frame(o), o.mean_centroid[0]),
        "latest": lambda o: (-appear_frame(o), o.mean_centroid[0]),
    }[by]


def _nth(rank: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(rank, f"{rank}th")


def qualifier_text(plan: Plan, use_motion: bool = True, use_relation: bool = True) -> str:
    """The subject constraints of a plan in words: "on the left moving right (2nd from the
    left)"; empty without constraints."""
    parts = []
    if plan.position:
        parts.append("in the center" if plan.position == "center" else f"on the {plan.position}")
    if use_motion and plan.motion:
        parts.append("that stays still" if plan.motion == "none" else f"moving {plan.motion}")
    if use_relation and plan.relation:
        pred = plan.relation.predicate.replace("_", " ")
        parts.append(f"{pred} the {plan.relation.object}")
    for c in plan.constraints:
        words = describe_constraint(c)
        if words and (use_motion or c.kind not in ("moving", "still", "direction")):
            parts.append(words)
    if plan.ordinal:
        r, by = plan.ordinal.rank, plan.ordinal.by
        if by in ("left", "right", "top", "bottom"):
            parts.append(f"({_nth(r)} from the {by})")
        elif by in ("largest", "smallest"):
            parts.append(f"(the {by})" if r == 1 else f"({_nth(r)} {by})")
        else:
            which = "first" if by == "earliest" else "last"
            parts.append(f"(the {which} to appear)" if r == 1 else f"({_nth(r)} {by} to appear)")
    return " ".join(parts)


def _name(phrase: str, n: int = 1) -> str:
    return display_name(phrase, n) if phrase else "object"


def select_phrase(
    plan: Plan,
    memory: SceneMemory,
    phrase: str,
    *,
    subject: bool,
    single: bool | None = None,
    question: str = "",
    use_motion: bool = True,
    use_relation: bool = True,
) -> Selection:
    """Select the objects ``phrase`` refers to under the plan's constraints.

    Args:
        subject: apply the subject-only constraints (position, motion, relation, ordinal).
        single: the task needs one object (where, color, ...); None = singular unless plural.
        use_motion / use_relation: apply ``plan.motion`` / ``plan.relation`` as constraints
            (off when they are what the task asks about).
    """
    parsed = parse_phrase(phrase)
    plural = is_plural(phrase, question)
    if single is None:
        single = not plural
    window = frame_window(plan, memory)
    found = memory.find(phrase)
    matched = len(found)
    when = window_text(plan, memory)
    if window is not None:
        found = [o.clip(*window) for o in found]
        found = [o for o in found if o.present]
    if not found:
        reason = f"no {_name(phrase)} appears in the video{when}" if matched == 0 or not when \
            else f"no {_name(phrase)} is visible{when}"
        return Selection(phrase, [], matched, plural, reason)
    sel = Selection(phrase, found, matched, plural)
    if subject:
        sel.qualifier = qualifier_text(
            plan, use_motion, use_relation and plan.relation is not None
            and plan.relation.subject == phrase and plan.relation.object != phrase)
    attrs = plan.attributes.get(phrase)
    color = (attrs.color if attrs else None) or parsed.color
    size = (attrs.size if attrs else None) or parsed.size

    def fail(why: str) -> Selection:
        sel.objects = []
        sel.reason = why
        return sel

    base = parsed.head or phrase
    end_frame = None if window is None else window[1]
    scores: dict[int, float] = {}
    if color:
        if any(o.color is None for o in sel.objects):
            sel.unknown = True
            n = len(sel.objects)
            return fail(f"cannot tell which {_name(base, 2)} {'is' if n == 1 else 'are'} {color}: "
                        "colours are unknown because only masks were given, no video frames")
        sel.objects = [o for o in sel.objects if o.color == color]
        if not sel.objects:
            return fail(f"no {color} {_name(base)} appears in the video{when}")
    if subject and plan.constraints:
        def others(p: str) -> list[ObjectMemory]:
            return select_phrase(plan, memory, p, subject=False, single=False).objects

        kept, scores = apply_filters(plan, memory, sel.objects, _name(base), others, end_frame,
                                     use_motion=use_motion)
        sel.objects = kept.objects
        if not sel.objects:
            return fail(f"{kept.reason}{when}")
        if any(c.kind == "count" for c in plan.constraints):
            sel.plural = True
            single = False
    if size and len(sel.objects) >= 2:
        areas = np.array([o.size for o in sel.objects])
        if areas.max() / max(areas.min(), 1e-6) < SIZE_RATIO_DISTINCT:
            sel.notes.append(f"the {_name(base, 2)} are of similar size")
        elif single:
            pick = max if size == "large" else min
            sel.objects = [pick(sel.objects, key=lambda o: o.size)]
        else:
            cut = math.sqrt(areas.max() * areas.min())
            keep = areas >= cut if size == "large" else areas < cut
            sel.objects = [o for o, k in zip(sel.objects, keep) if k]
    if subject and plan.position:
        inside = [o for o in sel.objects if position_matches(o.mean_position, plan.position)]
        if single and len(sel.objects) > 1 and len(inside) != 1:
            pool = inside or sel.objects
            sel.objects = [_extreme(pool, _position_key(plan.position, memory))]
        elif single and len(sel.objects) == 1 and not inside:
            return fail(f"the {_name(base)} is not on the {plan.position} of the frame")
        else:
            sel.objects = inside
        if not sel.objects:
            return fail(f"no {_name(base)} is on the {plan.position} of the frame{when}")
    if subject and use_motion and plan.motion:
        sel.objects = [o for o in sel.objects if o.motion.direction == plan.motion]
        if not sel.objects:
            verb = "stands still" if plan.motion == "none" else f"moves {plan.motion}"
            return fail(f"no {_name(base)} {verb}{when}")
    if (subject and use_relation and plan.relation and plan.relation.subject == phrase
            and plan.relation.object != phrase):
        rel = plan.relation
        others = select_phrase(plan, memory, rel.object, subject=False, single=False)
        keep = []
        for o in sel.objects:
            if any(relation_holds(memory, o, b, rel.predicate) for b in others.objects
                   if b.id != o.id):
                keep.append(o)
        sel.objects = keep
        if not sel.objects:
            if not others.objects:
                return fail(others.reason or f"no {_name(rel.object)} appears in the video")
            pred = rel.predicate.replace("_", " ")
            return fail(f"no {_name(base)} is {pred} the {_name(rel.object)}{when}")
    if subject and plan.constraints:
        ranked = apply_ranks(plan, sel.objects, _name(base), _name(base, 2), scores, end_frame)
        sel.notes.extend(ranked.notes)
        sel.objects = ranked.objects
        if not sel.objects:
            return fail(f"{ranked.reason}{when}")
    if subject and plan.ordinal:
        ranked = sorted(sel.objects, key=ordinal_key(plan.ordinal.by))
        r = plan.ordinal.rank
        if r > len(ranked):
            n = len(ranked)
            return fail(f"there {'is' if n == 1 else 'are'} only {n} {_name(base, n)}")
        sel.objects = [ranked[r - 1]]
    return sel
