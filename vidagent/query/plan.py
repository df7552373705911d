"""The plan schema: what to look for (``targets``) and what to do with it (``task`` + constraints).

A plan is data only. It is produced by the language model or by the deterministic parser,
validated here, and executed by ``vidagent.reasoning``.

Conventions:
    * ``targets`` are detector noun phrases copied from the question, lower case, most important
      first (the subject first). Adjectives stay in the phrase ("red ball"); the same adjective
      is also stored as a constraint in ``attributes`` so reasoning can filter on it.
    * Directions are in image coordinates as the viewer sees them: "left" is smaller x,
      "up"/"top" is smaller y.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vidagent.query.tasks import TASKS
from vidagent.vocab import COLORS

Task = Literal[TASKS]  # the task names of vidagent.query.tasks.TASK_SPECS
Color = Literal[COLORS]
POSITIONS = (
    "left", "right", "top", "bottom", "center",
    "top-left", "top-right", "bottom-left", "bottom-right",
)
Position = Literal[POSITIONS]
Direction = Literal["left", "right", "up", "down", "none"]
Predicate = Literal["left_of", "right_of", "above", "below", "near", "touching"]
# what a comparison ranks by; the winner has the most of it ("left" = furthest left)
CompareBy = Literal[
    "size", "speed", "left", "right", "top", "bottom", "earliest", "latest", "duration"
]
# what an ordinal counts along: "second from the left" = rank 2 by "left"
OrdinalBy = Literal[
    "left", "right", "top", "bottom", "largest", "smallest", "earliest", "latest"
]

# kinds of time and motion constraints on the subject ("the ball that appears later", "the
# fastest dog", "the dog following the man"); see ``Constraint``
ConstraintKind = Literal[
    "appears_later", "appears_earlier", "appears_first", "appears_last", "leaves_first",
    "leaves_last", "disappears", "comes_back", "fastest", "slowest", "moving", "still",
    "direction", "follows", "passes", "towards", "away_from", "touches", "count",
]
# kinds that relate the subject to another target phrase (``Constraint.other``)
PAIR_KINDS = ("follows", "passes", "towards", "away_from", "touches")

MAX_TARGETS = 8
MAX_PHRASE_CHARS = 80
_PHRASE_OK = re.compile(r"[^a-z0-9 '\-]")


def clean_phrase(text: str) -> str:
    """Lower-case a noun phrase, keep letters, digits, spaces, hyphens and apostrophes."""
    text = _PHRASE_OK.sub(" ", str(text).lower())
    return " ".join(text.split())[:MAX_PHRASE_CHARS].strip()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Attributes(_Strict):
    """Attribute constraints on one target phrase."""

    color: Color | None = None
    size: Literal["large", "small"] | None = None


class Ordinal(_Strict):
    """"second from the left" -> rank=2, by="left"; "the largest" -> rank=1, by="largest"."""

    rank: int = Field(ge=1, le=100)
    by: OrdinalBy


class Anchor(_Strict):
    """A moment given by an event of a target: "after the dog leaves" -> target "dog", event
    "leave", side "after"; ``target`` is an entry of the plan's targets."""

    target: str
    event: Literal["appear", "leave"]
    side: Literal["after", "before"]

    @field_validator("target")
    @classmethod
    def _phrase(cls, v: str) -> str:
        v = clean_phrase(v)
        if not v:
            raise ValueError("an anchor names a target phrase")
        return v


class TimeSpan(_Strict):
    """The part of the video a question is about (``Plan.window``).

    ``unit="seconds"``: absolute times; ``unit="fraction"``: fractions of the duration in [0, 1]
    ("the first half" -> 0..0.5, "at the end" -> 0.8..1); ``last``: the final N seconds ("in the
    last second" -> last=1); ``anchor``: from or until an event of a target ("after the dog
    leaves"). ``None`` means open-ended. Every task is answered from the frames inside.
    """

    start: float | None = Field(default=None, ge=0)
    end: float | None = Field(default=None, ge=0)
    unit: Literal["seconds", "fraction"] = "seconds"
    last: float | None = Field(default=None, gt=0)
    anchor: Anchor | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TimeSpan:
        if self.unit == "fraction":
            for v in (self.start, self.end):
                if v is not None and v > 1:
                    raise ValueError("fraction time spans lie in [0, 1]")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("time span ends before it starts")
        if self.last is not None and (self.start is not None or self.end is not None):
            raise ValueError("a time span is either the last N seconds or start/end")
        return self


class Relation(_Strict):
    """subject <predicate> object, e.g. ("dog", "near", "car"); both are entries of targets."""

    subject: str
    predicate: Predicate
    object: str

    @field_validator("subject", "object")
    @classmethod
    def _phrase(cls, v: str) -> str:
        v = clean_phrase(v)
        if not v:
            raise ValueError("relation phrases must not be empty")
        return v


class Compare(_Strict):
    """"which is bigger, the dog or the cat" -> by="size" over targets [dog, cat].

    ``order="least"`` turns the ranking round: "which is smaller" -> by="size", order="least".
    """

    by: CompareBy
    order: Literal["most", "least"] = "most"


class Constraint(_Strict):
    """A time or motion constraint on the subject phrase (``targets[0]``).

    ``kind`` says what must hold (``ConstraintKind``); ``other`` is the target phrase a pair kind
    relates to ("the dog following the man" -> kind="follows", other="man"; "camera", which
    need not be a target, is the viewer: "walking towards the camera"); ``passive`` turns a
    pair kind round ("the man followed by the dog": the other follows the subject); ``rank`` is
    the place for superlatives ("the second fastest" -> rank=2); ``n`` is the number of objects
    a count names ("the two dogs running" -> kind="count", n=2); ``direction`` is for kind
    "direction". Appearance order, direction and touching are also expressible with
    ``ordinal``, ``motion`` and ``relation``; the parser writes those there.
    """

    kind: ConstraintKind
    other: str | None = None
    passive: bool = False
    rank: int = Field(default=1, ge=1, le=100)
    n: int | None = Field(default=None, ge=1, le=100)
    direction: Direction | None = None

    @field_validator("other")
    @classmethod
    def _other(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = clean_phrase(v)
        if not v:
            raise ValueError("constraint phrases must not be empty")
        return v

    @model_validator(mode="after")
    def _complete(self) -> Constraint:
        if self.kind in PAIR_KINDS and self.other is None:
            raise ValueError(f"constraint {self.kind!r} needs the other phrase")
        if self.kind not in PAIR_KINDS and self.other is not None:
            raise ValueError(f"constraint {self.kind!r} takes no other phrase")
        if self.kind == "count" and self.n is None:
            raise ValueError("constraint 'count' needs n")
        if self.kind == "direction" and self.direction in (None, "none"):
            raise ValueError("constraint 'direction' needs left, right, up or down")
        return self


class Plan(_Strict):
    """A validated plan. See the module docstring for conventions."""

    task: Task
    targets: list[str] = Field(default_factory=list, max_length=MAX_TARGETS)
    attributes: dict[str, Attributes] = Field(default_factory=dict)
    position: Position | None = None  # "the dog on the left": where the subject is
    ordinal: Ordinal | None = None
    motion: Direction | None = None  # "the car moving left": how the subject moves
    window: TimeSpan | None = None  # "in the first 2 seconds": every task looks only there
    # the asked value of a yes/no where/color/motion question ("is the car red?" -> "red");
    # the answer's value is then a bool
    expect: Position | Color | Direction | None = None
    event: Literal["appear", "leave"] | None = None  # for task "when"
    relation: Relation | None = None
    compare: Compare | None = None
    # time and motion constraints on the subject, all of which must hold (see ``Constraint``)
    constraints: list[Constraint] = Field(default_factory=list, max_length=8)
    # how the plan was made: by the language model, by the rule parser, or repaired
    source: Literal["llm", "rules", "repaired"] = "rules"

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for phrase in v:
            p = clean_phrase(phrase)
            if p and p not in out:
                out.append(p)
        return out

    @field_validator("attributes")
    @classmethod
    def _attr_keys(cls, v: dict[str, Attributes]) -> dict[str, Attributes]:
        return {clean_phrase(k): a for k, a in v.items() if clean_phrase(k)}

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        if self.task != "describe" and not self.targets:
            raise ValueError(f"task {self.task!r} needs at least one target")
        for key in self.attributes:
            if key not in self.targets:
                raise ValueError(f"attributes name {key!r}, which is not a target")
        if self.relation is not None:
            for p in (self.relation.subject, self.relation.object):
                if p not in self.targets:
                    raise ValueError(f"relation names {p!r}, which is not a target")
        for c in self.constraints:
            if c.other is not None and c.other != "camera" and c.other not in self.targets:
                raise ValueError(f"constraint {c.kind!r} names {c.other!r}, which is not a target")
        if self.task == "relation" and self.relation is None:
            raise ValueError("task 'relation' needs a relation")
        if self.task == "compare" and self.compare is None:
            raise ValueError("task 'compare' needs compare.by")
        if self.window is not None and self.window.anchor is not None \
                and self.window.anchor.target not in self.targets:
            raise ValueError(f"the time window names {self.window.anchor.target!r}, which is "
                             "not a target")
        if self.expect is not None:
            allowed = {"where": POSITIONS, "color": COLORS,
                       "motion": ("left", "right", "up", "down", "none")}.get(self.task, ())
            if self.expect not in allowed:
                raise ValueError(f"expect {self.expect!r} does not fit task {self.task!r}")
        return self

    @property
    def subject(self) -> str | None:
        """The main target phrase (targets[0]), or None for an open description."""
        return self.targets[0] if self.targets else None

    def to_json(self) -> dict:
        """JSON-ready dict without empty optional keys (``task`` and ``targets`` always present)."""
        data = self.model_dump(mode="json", exclude_none=True)
        if not data.get("attributes"):
            data.pop("attributes", None)
        if self.constraints:
            data["constraints"] = [c.model_dump(mode="json", exclude_defaults=True)
                                   for c in self.constraints]
        else:
            data.pop("constraints", None)
        data["targets"] = list(self.targets)
        return data
