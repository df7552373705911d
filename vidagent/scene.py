"""A perceived scene: the explicit handle ``Agent.perceive`` returns.

A ``Scene`` holds the video's identity, the tracked objects, the scene memory (per object and
frame: box, area, centroid, visibility, colour) and where its masks live (a tracks folder). Ask
it questions, resolve referring expressions and write its masks as often as needed: none of
that runs a model again or decodes the video, except ``write(overlay=True)``, which decodes it
once to draw the overlay.

```python
scene = agent.perceive("street.mp4", ["car", "person"])
scene.ask("how many cars are there?").value       # 3
scene.refer("the red car").ids                      # [2]
scene.write("out/red_car", ids=[2])                 # tracks folder + overlay.mp4
```
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from vidagent.io.tracks import TracksReader
from vidagent.memory import SceneMemory
from vidagent.results import Answer
from vidagent.types import ObjectInfo
from vidagent.video import VideoReader

if TYPE_CHECKING:
    from vidagent.query.plan import Plan
    from vidagent.reasoning.select import Selection

class Interpreter(Protocol):
    """What a scene needs of the agent that perceived it (``vidagent.pipeline.Agent``, which
    sits above this module): parsing questions, and the language model for ``describe``."""

    def parse(self, question: str, expression: bool = False) -> Plan: ...

    @property
    def llm(self) -> Any: ...


SourceKind = Literal["detector", "detections", "tracks"]


def video_identity(video: VideoReader) -> str:
    """A short hash of the video file's resolved path, size and modification time."""
    p = Path(video.info.path)
    try:
        st = p.stat()
        ident = f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        ident = str(p)
    return hashlib.sha1(ident.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SceneSource:
    """Where a scene's objects came from: the profile's detector, the user's detections file
    (``path``), or the user's tracks folder (``path``; the objects are given, no targets)."""

    kind: SourceKind
    path: str | None = None


@dataclass(frozen=True)
class SceneKey:
    """What a perceived scene is of: the video (``video_identity``), the phrases looked for,
    and the source of the objects."""

    video: str
    targets: tuple[str, ...]
    source: SceneSource

    def covers(self, want: SceneKey) -> bool:
        """A scene with this key can answer for ``want``: same video and source, and every
        phrase of ``want`` was looked for (a tracks folder covers any phrase)."""
        if self.video != want.video or self.source != want.source:
            return False
        return self.source.kind == "tracks" or set(want.targets) <= set(self.targets)


@dataclass(eq=False)
class Scene:
    """What was perceived in a video.

    Attributes:
        key: video identity, targets and source (the agent's cache key).
        video: the checked video.
        objects: the tracked objects (id 1..255, label), by id.
        memory: the scene memory reasoning works on (``vidagent.memory.SceneMemory``).
        masks: the tracks folder holding the (H, W) uint8 label map of every frame.
        timings: seconds spent per stage to make this scene (load, detect, segment, track,
            memory).
        agent: the agent whose language model parses questions and phrases descriptions.
    """

    key: SceneKey
    video: VideoReader
    objects: list[ObjectInfo]
    memory: SceneMemory
    masks: TracksReader
    timings: dict[str, float] = field(default_factory=dict)
    agent: Interpreter | None = field(default=None, repr=False)
    reported: bool = False  # its perception seconds were returned once already

    @property
    def targets(self) -> tuple[str, ...]:
        return self.key.targets

    @property
    def labels(self) -> dict[int, str]:
        """Object id -> label."""
        return {o.id: o.label for o in self.objects}

    def stage_times(self) -> dict[str, float]:
        """Perception seconds, reported once: a re-used scene costs nothing again."""
        if self.reported:
            return {}
        self.reported = True
        t = self.timings
        out = {k: t[k] for k in ("load", "detect", "segment", "ahead", "track", "memory") if k in t}
        if "track" not in out and "track_total" in t:
            # model seconds computed ahead, while tracking went on, were no part of its time
            out["track"] = (t["track_total"] - t.get("detect", 0.0) - t.get("segment", 0.0)
                            + t.get("ahead", 0.0))
        return out

    # ------------------------------------------------------------------ questions
    def _parse(self, text: str, expression: bool) -> Plan:
        if self.agent is None:
            from vidagent.query.parser import QueryParser, check_question

            return QueryParser(None).parse(check_question(text), expression=expression)
        return self.agent.parse(text, expression=expression)

    def ask(self, question: str | Plan, plan: Plan | None = None) -> Answer:
        """Answer a question from the scene memory (no model runs but the language model for
        parsing and for ``describe``; nothing is decoded).

        Args:
            question: the question, or a ready ``Plan``.
            plan: the question's plan when the caller parsed it already.
        """
        from vidagent.query.plan import Plan as PlanType
        from vidagent.reasoning.executor import answer

        timings: dict[str, float] = {}
        if isinstance(question, PlanType):
            text, plan = "", question
        else:
            from vidagent.query.parser import check_question

            text = check_question(question)
            if plan is None:
                t0 = time.perf_counter()
                plan = self._parse(text, expression=False)
                timings["parse"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        llm = self.agent.llm if plan.task == "describe" and self.agent is not None else None
        result = answer(plan, self.memory, question=text, llm=llm)
        timings["reason"] = time.perf_counter() - t0
        return Answer(text, result.answer, result.value, plan.to_json(), result.evidence, timings,
                      scene=self)

    def refer(self, expression: str | Plan) -> Selection:
        """The object(s) a referring expression means (``Selection.ids``; empty when none)."""
        from vidagent.query.plan import Plan as PlanType
        from vidagent.reasoning.referring import refer_selection

        if isinstance(expression, PlanType):
            return refer_selection(expression, self.memory, "")
        from vidagent.query.parser import check_question

        text = check_question(expression, "expression")
        return refer_selection(self._parse(text, expression=True), self.memory, text)

    # ------------------------------------------------------------------ output
    def write(self, out: str | Path, ids: list[int] | None = None, overlay: bool = True,
              progress=None) -> Path:
        """Write the masks of every object (or only ``ids``) to ``out`` in the tracks format,
        with ``rle.json`` and, when ``overlay``, ``overlay.mp4`` (decodes the video once).

        Returns the folder written. Ids the scene does not hold raise ``KeyError``.
        """
        from vidagent.perception import write_scene

        if ids is not None:
            unknown = sorted(set(int(i) for i in ids) - set(self.labels))
            if unknown:
                raise KeyError(f"the scene holds no object with id {unknown}")
        return write_scene(self.video, self.masks, self.objects, out, ids, overlay, progress)
