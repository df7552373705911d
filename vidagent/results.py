"""What ``Agent.ask``, ``Agent.segment`` and ``Agent.track`` return: typed results whose
``to_json()`` is exactly the JSON of CONTRACT.md (``ask --json``, ``segment --json``,
``track --json``).

Each result keeps the ``Scene`` it came from (not part of the JSON), so that a caller can draw
pictures, write tracks or ask again without perceiving anything a second time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class SceneHandle(Protocol):
    """What a result keeps of the scene it came from (``vidagent.scene.Scene``, which sits
    above this module): the objects, and asking, referring and writing again without
    perceiving anything a second time."""

    @property
    def labels(self) -> dict[int, str]: ...

    def ask(self, question: Any, plan: Any = None) -> Answer: ...

    def refer(self, expression: Any) -> Any: ...

    def write(self, out: str | Path, ids: list[int] | None = None, overlay: bool = True,
              progress: Any = None) -> Path: ...


def jsonable(obj: Any) -> Any:
    """A JSON-safe copy: numpy scalars to Python, tuples to lists, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def rounded(timings: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), 3) for k, v in timings.items()}


@dataclass
class Answer:
    """The answer to one question (CONTRACT ``ask --json``).

    Attributes:
        question: the question as asked (checked, stripped).
        answer: one sentence (a short paragraph for ``describe``).
        value: typed by ``plan["task"]`` (CONTRACT's table).
        plan: the plan as JSON (``Plan.to_json()``).
        evidence: one entry per object used: id, label, first/last frame and time, and
            task-specific keys.
        timings: seconds per stage of this call (parse, perception stages when the scene was
            perceived for it, reason).
        scene: the scene it was answered from.
    """

    question: str
    answer: str
    value: Any
    plan: dict
    evidence: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    scene: SceneHandle | None = field(default=None, repr=False, compare=False)

    @property
    def ids(self) -> list[int]:
        """Ids of the objects in the evidence."""
        return [int(e["id"]) for e in self.evidence if isinstance(e, dict) and "id" in e]

    def to_json(self) -> dict:
        return jsonable(
            {
                "question": self.question,
                "answer": self.answer,
                "value": self.value,
                "plan": self.plan,
                "evidence": self.evidence,
                "timings": rounded(self.timings),
            }
        )


@dataclass
class SegmentResult:
    """Masks of the referred objects, written to ``out`` (CONTRACT ``segment --json``).

    Attributes:
        expression: the referring expression (for ``track``, the prompt).
        ids: the object ids written, ascending.
        labels: id -> label of those objects.
        plan: the plan as JSON.
        out: the tracks folder written (with ``overlay.mp4`` when asked).
        timings: seconds per stage of this call.
        scene: the scene the objects come from.
    """

    expression: str
    ids: list[int]
    labels: dict[int, str]
    plan: dict
    out: Path
    timings: dict[str, float] = field(default_factory=dict)
    scene: SceneHandle | None = field(default=None, repr=False, compare=False)

    @property
    def overlay(self) -> Path | None:
        """``out/overlay.mp4`` when it was written."""
        p = Path(self.out) / "overlay.mp4"
        return p if p.is_file() else None

    def to_json(self) -> dict:
        return jsonable(
            {
                "expression": self.expression,
                "ids": [int(i) for i in self.ids],
                "labels": {str(i): self.labels[i] for i in self.ids},
                "plan": self.plan,
                "out": str(self.out),
                "timings": rounded(self.timings),
            }
        )


@dataclass
class TrackResult(SegmentResult):
    """Every object matching a prompt, tracked and written to ``out`` (CONTRACT
    ``track --json``: the same shape as ``segment``, plan ``{"task": "segment", "targets":
    phrases}``)."""
