"""Answering a plan from the scene memory.

``answer(plan, memory, question, llm)`` returns an ``Answer`` whose ``value`` has the type that
CONTRACT.md gives for ``plan.task``:

=========  ==================================================================================
count      int, distinct objects (0 when none)
exists     bool
when       float seconds (first visible frame / fps for "appear", last for "leave");
           None when the target never appears
duration   float seconds visible (frames where any selected object is visible / fps); 0.0 when
           it never appears
where      position name; None when the target never appears or the reference is ambiguous
           and the candidates disagree
color      colour name; None when unknown (no frames), absent or ambiguous
motion     left / right / up / down / none; None when absent or ambiguous
relation   bool; None when either side never appears, they are never visible together, or
           an ambiguous reference gives different answers
compare    the winner's label (the matching target phrase when labels collide); None when fewer
           than two objects can be compared
describe   str
segment    list of object ids (empty when nothing matches)
=========  ==================================================================================

Each task of ``vidagent.query.tasks.TASK_SPECS`` has one executor here, registered with
``@executes("<task>")``; ``answer`` looks it up in ``EXECUTORS``. A time window
(``plan.window``) narrows every task: objects are clipped to it when they are selected.

When ``value`` is None (JSON null) the ``answer`` sentence says why, honestly ("no dog appears
in the video", "there are 2 dogs: one on the left, one on the right").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidagent.memory import ObjectMemory, SceneMemory
from vidagent.query.plan import Plan
from vidagent.query.tasks import TASKS
from vidagent.reasoning.constraints import appear_frame, last_frame
from vidagent.reasoning.describe import describe
from vidagent.reasoning.relations import relation_holds
from vidagent.vocab import display_name, parse_phrase
from vidagent.reasoning.select import (
    Selection,
    frame_window,
    is_indefinite,
    position_matches,
    select_phrase,
    window_text,
)


@dataclass
class Answer:
    """What reasoning returns for one question.

    Attributes:
        answer: one natural-language sentence (or a short paragraph for describe).
        value: the typed value (see the module docstring).
        evidence: one dict per object used: id, label, first_frame, last_frame, first_time,
            last_time (seconds), plus task-specific keys (position, color, ...).
        ids: the object ids the answer is about (the referred objects for segment).
    """

    answer: str
    value: Any
    evidence: list[dict] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"answer": self.answer, "value": self.value, "evidence": self.evidence}


Executor = Callable[[Plan, SceneMemory, str, Any], Answer]
EXECUTORS: dict[str, Executor] = {}  # task name -> executor, filled by @executes


def executes(task: str) -> Callable[[Callable], Executor]:
    """Register the decorated function as the executor of ``task`` (a name of
    ``vidagent.query.tasks.TASK_SPECS``). It is called as ``fn(plan, memory, question, llm)``."""
    if task not in TASKS:
        raise ValueError(f"{task!r} is not a task of vidagent.query.tasks")

    def register(fn: Callable) -> Executor:
        EXECUTORS[task] = fn
        return fn

    return register


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _t(seconds: float | None) -> str:
    return "unknown" if seconds is None else f"{seconds:.2f} s"


def _ev(objects: list[ObjectMemory], **extra_fn) -> list[dict]:
    return [o.evidence(**{k: f(o) for k, f in extra_fn.items()}) for o in objects]


def _empty(sel: Selection, value: Any) -> Answer:
    return Answer(_cap(sel.reason or f"no {sel.phrase} appears in the video") + ".", value)


def _noun(sel: Selection, n: int = 1) -> str:
    """The phrase in number n with the applied constraints: "dogs moving right"."""
    p = parse_phrase(sel.phrase)
    name = display_name(p.text or sel.phrase, n)
    return f"{name} {sel.qualifier}" if sel.qualifier else name


def _notes(sel: Selection) -> str:
    return "".join(f" (Note: {n}.)" for n in sel.notes)


def _single_attr(task: str, sel: Selection, getter, fmt) -> Answer:
    """where / color / motion: one value if every selected object agrees, else None."""
    if not sel.objects:
        return _empty(sel, None)
    vals = [getter(o) for o in sel.objects]
    ev = _ev(sel.objects, **{task: getter})
    ids = [o.id for o in sel.objects]
    if len(set(vals)) == 1:
        v = vals[0]
        if v is None:
            return Answer(f"The {task} of the {_noun(sel)} is unknown: no video frames were "
                          "available, only masks.", None, ev, ids)
        n = len(sel.objects)
        subj = f"The {_noun(sel, n)}" if n == 1 else f"All {n} {_noun(sel, n)}"
        return Answer(_cap(fmt(subj, v, n)) + _notes(sel), v, ev, ids)
    parts = ", ".join(f"id {o.id}: {v}" for o, v in zip(sel.objects, vals))
    n = len(sel.objects)
    return Answer(
        f"There are {n} {_noun(sel, n)} and they differ ({parts}); say which one you mean.",
        None, ev, ids,
    )


def _fmt_where(subj: str, v: str, n: int) -> str:
    place = "in the center" if v == "center" else f"at the {v}"
    return f"{subj} {'is' if n == 1 else 'are'} mostly {place} of the frame."


def _fmt_color(subj: str, v: str, n: int) -> str:
    return f"{subj} {'is' if n == 1 else 'are'} {v}."


def _fmt_motion(subj: str, v: str, n: int) -> str:
    if v == "none":
        return f"{subj} {'does' if n == 1 else 'do'} not move much."
    return f"{subj} {'moves' if n == 1 else 'move'} {v}."


@executes("count")
def _count(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    sel = select_phrase(plan, memory, plan.targets[0], subject=True, single=False,
                        question=question)
    n = len(sel.objects)
    when = window_text(plan, memory)
    if n == 0:
        return Answer(_cap(sel.reason or "none appear") + ".", None if sel.unknown else 0)
    noun = _noun(sel, n)
    verb = "is" if n == 1 else "are"
    together = int(np.sum([o.visible for o in sel.objects], axis=0).max())
    extra = f" (at most {together} at the same time)" if together < n else ""
    return Answer(f"There {verb} {n} {noun}{when}{extra}.{_notes(sel)}", n, _ev(sel.objects),
                  sel.ids)


@executes("exists")
def _exists(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    sel = select_phrase(plan, memory, plan.targets[0], subject=True, single=False,
                        question=question)
    if sel.unknown:
        return Answer(_cap(sel.reason) + ".", None)
    if not sel.objects:
        return Answer(f"No. {_cap(sel.reason or '')}.".replace(" .", "."), False)
    n = len(sel.objects)
    when = window_text(plan, memory)
    return Answer(f"Yes, {n} {_noun(sel, n)} {'appears' if n == 1 else 'appear'}{when}."
                  + _notes(sel), True, _ev(sel.objects), sel.ids)


_LEAVE_WORDS = re.compile(r"\b(leave|leaves|left the|disappear\w*|exit\w*|last seen|vanish\w*|"
                          r"go(?:es)? away|out of (?:the )?(?:frame|view|picture))\b")


def _event_from(question: str) -> str:
    """"appear" unless the question asks when something leaves / disappears."""
    return "leave" if _LEAVE_WORDS.search(question.lower()) else "appear"


def _absences(o: ObjectMemory, limit: int = 3) -> str:
    """" It is out of view from 1.20 s to 2.00 s." for the gaps inside an object's time on
    screen (gaps shorter than the memory's gap filling are not counted), or ""."""
    on = o.on_screen
    first, last = o.first_frame, o.last_frame
    off = ~on[first: last + 1]
    if not off.any():
        return ""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], off.astype(np.int8), [0]])))
    spans = [(first + a, first + b - 1) for a, b in zip(edges[::2], edges[1::2])]
    words = [f"from {a / o.fps:.2f} s to {b / o.fps:.2f} s" for a, b in spans[:limit]]
    more = f" and {len(spans) - limit} more times" if len(spans) > limit else ""
    return f" It is out of view {', '.join(words)}{more}."


@executes("when")
def _when(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    sel = select_phrase(plan, memory, plan.targets[0], subject=True, question=question,
                        single=False)
    if not sel.objects:
        return _empty(sel, None)
    noun = _noun(sel)
    event = plan.event or _event_from(question)
    # times ignore stray one-frame sightings before an object shows up or after it has left
    if event == "leave":
        last = max(sel.objects, key=last_frame)
        frame = last_frame(last)
        value = frame / memory.fps
        if frame >= memory.num_frames - 1:
            text = (f"The {noun} is still visible when the video ends (last frame "
                    f"{frame}, {_t(value)}).")
        else:
            text = f"The {noun} is last seen at {_t(value)} (frame {frame})."
        chosen = last
    else:
        chosen = min(sel.objects, key=appear_frame)
        frame = appear_frame(chosen)
        value = frame / memory.fps
        text = f"The {noun} first appears at {_t(value)} (frame {frame})."
    text += _absences(chosen)
    if len(sel.objects) > 1:
        text += f" ({len(sel.objects)} {_noun(sel, 2)} match; this is id {chosen.id}.)"
    ev = [chosen.evidence()] + [o.evidence() for o in sel.objects if o is not chosen]
    return Answer(text + _notes(sel), round(float(value), 4), ev, [chosen.id])


@executes("duration")
def _duration(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    sel = select_phrase(plan, memory, plan.targets[0], subject=True, question=question,
                        single=False)
    if not sel.objects:
        return _empty(sel, None if sel.unknown else 0.0)
    vis = np.zeros(memory.num_frames, bool)
    for o in sel.objects:
        vis |= o.on_screen
    secs = float(vis.sum() / memory.fps)
    n = len(sel.objects)
    subj = f"the {_noun(sel)} is" if n == 1 else f"at least one of the {n} {_noun(sel, n)} is"
    ev = _ev(sel.objects, visible_duration=lambda o: round(o.visible_duration, 3))
    return Answer(f"{_cap(subj)} visible for {secs:.2f} s ({int(vis.sum())} frames)."
                  + _notes(sel), round(secs, 4), ev, sel.ids)


@executes("relation")
def _relation(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    rel = plan.relation
    subj = select_phrase(plan, memory, rel.subject, subject=True, question=question,
                         use_relation=False, single=False)
    obj = select_phrase(plan, memory, rel.object, subject=False, single=False)
    for s in (subj, obj):
        if not s.objects:
            return _empty(s, None)
    pred = rel.predicate.replace("_", " ")
    results = {}
    for a in subj.objects:
        for b in obj.objects:
            if a.id != b.id:
                results[(a.id, b.id)] = relation_holds(memory, a, b, rel.predicate)
    known = {k: v for k, v in results.items() if v is not None}
    ev = _ev(subj.objects) + [e for e in _ev(obj.objects)
                              if e["id"] not in {o.id for o in subj.objects}]
    ids = [e["id"] for e in ev]
    a_name, b_name = display_name(rel.subject, 1), display_name(rel.object, 1)
    if not known:
        return Answer(f"The {a_name} and the {b_name} are never visible at the same time.",
                      None, ev, ids)
    vals = set(known.values())
    if len(vals) > 1 and (is_indefinite(rel.subject, question)
                          or is_indefinite(rel.object, question)):
        # "is a dog near the car", "is the ball near a dog": true when any pair is
        pair = next(k for k, v in known.items() if v)
        return Answer(f"Yes, a {a_name} (id {pair[0]}) is {pred} the {b_name} (id {pair[1]}).",
                      True, ev, ids)
    if len(vals) > 1:
        yes = [f"{a}->{b}" for (a, b), v in known.items() if v]
        return Answer(
            f"It depends on which {a_name} or {b_name} you mean: the relation holds only for "
            f"ids {', '.join(yes)}.", None, ev, ids)
    v = vals.pop()
    verb = "is" if v else "is not"
    return Answer(f"{'Yes' if v else 'No'}, the {a_name} {verb} {pred} the {b_name}.", v, ev, ids)


_COMPARE = {
    "size": (lambda o: o.size, max, "bigger"),
    "speed": (lambda o: o.path_speed, max, "faster"),
    "left": (lambda o: o.mean_centroid[0], min, "further left"),
    "right": (lambda o: o.mean_centroid[0], max, "further right"),
    "top": (lambda o: o.mean_centroid[1], min, "higher up"),
    "bottom": (lambda o: o.mean_centroid[1], max, "lower down"),
    "earliest": (lambda o: o.first_frame, min, "appears first"),
    "latest": (lambda o: o.first_frame, max, "appears last"),
    "duration": (lambda o: o.visible_duration, max, "visible longer"),
}


_LEAST_WORDS = {
    "size": "smaller", "speed": "slower", "left": "further right", "right": "further left",
    "top": "lower down", "bottom": "higher up", "earliest": "appears last",
    "latest": "appears first", "duration": "visible for a shorter time",
}


def _task_targets(plan: Plan) -> list[str]:
    """The targets the task is about: all but a phrase named only by the time window's anchor
    ("which is bigger, the dog or the cat, before the bus comes": not the bus)."""
    anchor = plan.window.anchor.target if plan.window and plan.window.anchor else None
    out = [t for t in plan.targets if t != anchor]
    return out or list(plan.targets)


@executes("compare")
def _compare(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    key, pick, word = _COMPARE[plan.compare.by]
    if getattr(plan.compare, "order", "most") == "least":  # "which is smaller" etc.
        pick = min if pick is max else max
        word = _LEAST_WORDS.get(plan.compare.by, f"least ({word})")
    pool: list[tuple[ObjectMemory, str]] = []
    missing = []
    for i, phrase in enumerate(_task_targets(plan)):
        sel = select_phrase(plan, memory, phrase, subject=i == 0, single=False,
                            question=question)
        if not sel.objects:
            missing.append(sel.reason or f"no {phrase} appears in the video")
        for o in sel.objects:
            if all(o is not p for p, _ in pool):
                pool.append((o, phrase))
    if len(pool) < 2:
        why = "; ".join(missing) or "only one object matches"
        ev = [o.evidence() for o, _ in pool]
        return Answer(f"Nothing to compare: {why}.", None, ev, [o.id for o, _ in pool])
    winner, phrase = pick(pool, key=lambda p: key(p[0]))
    value = winner.label
    others_same = [o for o, ph in pool if o.label == winner.label and ph != phrase]
    if len(plan.targets) > 1 and others_same:
        value = phrase  # labels do not tell the targets apart ("red ball" vs "blue ball")
    ev = [winner.evidence(**{plan.compare.by: key(winner)})] + [
        o.evidence(**{plan.compare.by: key(o)}) for o, _ in pool if o is not winner]
    for e in ev:
        v = e[plan.compare.by]
        e[plan.compare.by] = round(float(v), 3) if v is not None else None
    text = f"The {value} (id {winner.id}) {'is ' if word[0] in 'bfhlv' else ''}{word}."
    if missing:
        text += f" ({'; '.join(missing)}.)"
    return Answer(text, value, ev, [winner.id])


@executes("segment")
def _segment(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    from vidagent.reasoning.referring import refer_selection

    sel = refer_selection(plan, memory, question)
    if not sel.objects:
        return Answer(_cap(sel.reason or "nothing matches") + ".", [])
    n = len(sel.objects)
    names = ", ".join(f"{o.label} (id {o.id})" for o in sel.objects)
    text = f"Selected {n} object{'s' if n > 1 else ''}: {names}."
    if n > 1 and not sel.plural:
        text += " The expression fits more than one object, so all are returned."
    return Answer(text + _notes(sel), sel.ids, _ev(sel.objects), sel.ids)


def _attribute(task: str, plan: Plan, memory: SceneMemory, question: str) -> Answer:
    """where / color / motion, and their yes/no forms (``plan.expect``: the value is a bool)."""
    sel = select_phrase(plan, memory, plan.targets[0], subject=True, question=question,
                        use_motion=task != "motion")
    if task == "where":
        getter = lambda o: o.mean_position  # noqa: E731
        a = _single_attr("position", sel, getter, _fmt_where)
    elif task == "color":
        getter = lambda o: o.color  # noqa: E731
        a = _single_attr("color", sel, getter, _fmt_color)
    else:
        getter = lambda o: o.motion.direction  # noqa: E731
        a = _single_attr("motion", sel, getter, _fmt_motion)
    asked = plan.expect or (plan.motion if task == "motion" else None)

    def holds(v) -> bool:
        return position_matches(v, asked) if task == "where" else v == asked

    if asked and a.value is not None:  # "is the car red?", "is the car moving left?"
        yes = holds(a.value)
        a.answer = ("Yes. " if yes else "No. ") + a.answer
        if plan.expect:
            a.value = bool(yes)
    elif plan.expect and not sel.objects:  # "is the car red?" and no car: no
        a.answer = "No. " + a.answer
        a.value = False
    elif plan.expect and len(sel.objects) > 1:  # objects that differ: yes when one of them does
        vals = [getter(o) for o in sel.objects]
        if all(v is not None for v in vals):
            match = [o.id for o, v in zip(sel.objects, vals) if holds(v)]
            n = len(sel.objects)
            parts = ", ".join(f"id {o.id}: {v}" for o, v in zip(sel.objects, vals))
            head = (f"Yes for {len(match)} of the {n} {_noun(sel, n)} "
                    f"(id {', '.join(map(str, match))})" if match
                    else f"No, none of the {n} {_noun(sel, n)}")
            a.answer = f"{head}; they differ ({parts})."
            a.value = bool(match)
    return a


@executes("where")
def _where(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    return _attribute("where", plan, memory, question)


@executes("color")
def _color(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    return _attribute("color", plan, memory, question)


@executes("motion")
def _motion(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    return _attribute("motion", plan, memory, question)


@executes("describe")
def _describe(plan: Plan, memory: SceneMemory, question: str, llm=None) -> Answer:
    window = frame_window(plan, memory)
    seen = memory.clip(*window) if window is not None else memory
    text, objects = describe(plan, seen, llm=llm)
    return Answer(text, text, _ev(objects), [o.id for o in objects])


def answer(plan: Plan, memory: SceneMemory, question: str = "", llm=None) -> Answer:
    """Answer ``plan`` from ``memory``; see the module docstring for the value of each task.

    Args:
        plan: a validated ``vidagent.query.plan.Plan``.
        memory: the scene (``vidagent.memory.SceneMemory``).
        question: the original text (helps tell "the dogs" from "the dog"); optional.
        llm: optional language model with ``generate(prompt, max_new_tokens) -> str``, used only
            by ``describe`` to phrase the summary.
    """
    run = EXECUTORS.get(plan.task)
    if run is None:
        raise ValueError(f"no executor for task {plan.task!r}")
    return run(plan, memory, question, llm)
