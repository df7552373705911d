"""Referring segmentation: which tracked objects an expression means.

``refer(plan, memory)`` returns the ids whose masks the caller writes on every frame (the
tracks format). The subject phrase (``plan.targets[0]``) is matched by label and narrowed by
the plan's constraints (colour, size, position, ordinal, motion, relation, time window; see
``vidagent.reasoning.select``). Plural expressions ("the dogs") return every match; a singular
one that still fits several objects returns all of them (the caller can tell from the count);
nothing matching returns ``[]``.
"""

from __future__ import annotations

from vidagent.memory import SceneMemory
from vidagent.query.plan import Plan
from vidagent.reasoning.select import Selection, select_phrase


def refer_selection(plan: Plan, memory: SceneMemory, question: str = "") -> Selection:
    """The full selection (objects, plurality, reason when empty) for the plan's subject."""
    if not plan.targets:
        return Selection("", [], 0, False, "the expression names no object")
    sel = select_phrase(plan, memory, plan.targets[0], subject=True, question=question)
    # report the objects unclipped: the masks are written on every frame
    if sel.objects:
        sel.objects = [memory.get(o.id) for o in sel.objects]
    return sel


def refer(plan: Plan, memory: SceneMemory, question: str = "") -> list[int]:
    """Ids of the object(s) the expression refers to, in id order; empty when none match."""
    return sorted(refer_selection(plan, memory, question).ids)
