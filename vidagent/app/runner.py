"""What the app's Run button does: check the inputs, take the session's copies of the uploads,
ask the session's Agent (a question, or a referring expression to find objects) and shape the
answer, evidence, overlay, timeline, plan and downloads for the page."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vidagent.app.sessions import AgentFactory, Session, Sessions
from vidagent.app.timeline import Visibility, draw_timeline, visibility
from vidagent.app.uploads import session_video, side_input, zip_tracks
from vidagent.errors import InputError
from vidagent.results import Answer, SegmentResult

MODE_ASK = "Ask a question"
MODE_FIND = "Find objects (referring expression)"
EVIDENCE_COLUMNS = ["id", "label", "first_frame", "last_frame", "first_time", "last_time"]

Progress = Callable[[float, str], None]  # (fraction 0..1, stage) from the Agent


@dataclass
class Shown:
    """What one run shows: the API's result and the pictures and files made from it."""

    result: Answer | SegmentResult
    answer: str
    evidence: list[dict]
    highlight: set[int]
    out: Path  # the tracks folder holding overlay.mp4
    zip_path: Path
    vis: Visibility
    reused: bool


class Runner:
    """What the Run button does, one session at a time; holds the sessions and settings."""

    def __init__(self, sessions: Sessions, factory: AgentFactory) -> None:
        self.sessions = sessions
        self.factory = factory

    def __call__(self, video, tracks_zip, mode, question, profile, request, progress) -> tuple:
        session_id = getattr(request, "session_hash", None) or "default"
        session = self.sessions.get(session_id)
        if not session.lock.acquire(blocking=False):
            raise InputError("this session is already running a question; wait for it to finish")
        try:
            session.last_used = time.monotonic()
            return self._run(session, video, tracks_zip, mode, question, profile, progress)
        finally:
            session.last_used = time.monotonic()
            session.lock.release()

    def _run(self, session: Session, video, tracks_zip, mode, question, profile, progress) -> tuple:
        from vidagent.profiles import get_profile

        _check_text(video, mode, question)
        video = session_video(session, str(video))
        profile = get_profile(profile or None).name
        progress(0.0, desc="loading")
        tracks_dir, detections = side_input(session, tracks_zip) if tracks_zip else (None, None)
        given = {"tracks": tracks_dir, "detections": detections}
        agent = session.agent_for(profile, self.factory)
        session.prune_runs()
        session.runs += 1
        run_dir = session.dir / f"run-{session.runs:03d}"
        run_dir.mkdir()

        def on_progress(fraction: float, stage: str) -> None:
            progress(0.05 + 0.85 * float(fraction), desc=stage)

        if mode == MODE_FIND:
            progress(0.02, desc="parsing the expression")
            shown = _find(session, agent, video, question, given, run_dir, on_progress, progress)
        else:
            progress(0.02, desc="parsing the question")
            shown = _ask(session, agent, video, question, given, run_dir, on_progress, progress)
        progress(0.98, desc="done")
        result = shown.result.to_json()
        json_path = run_dir / "result.json"
        json_path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        source = "tracks" if tracks_dir else "detections" if detections else "perceived"
        details = _timings_text(result.get("timings", {}), shown.reused, source)
        overlay = shown.out / "overlay.mp4"
        return (
            shown.answer,
            details,
            _evidence_frame(shown.evidence),
            str(overlay) if overlay.is_file() else None,
            draw_timeline(shown.vis, shown.highlight),
            json.dumps(result.get("plan", {}), indent=2),
            [str(shown.zip_path), str(json_path)],
        )


def _check_text(video, mode: str, question) -> None:
    if not video:
        raise InputError("no video: upload one (or pick an example below)")
    if not question or not str(question).strip():
        what = (
            'referring expression such as "the ball on the left"'
            if mode == MODE_FIND
            else 'question such as "how many balls are there?"'
        )
        raise InputError(f"empty text: type a {what}")


def _find(
    session: Session,
    agent,
    video: str,
    question,
    given: dict,
    run_dir: Path,
    on_progress: Progress,
    progress,
) -> Shown:
    """Find the objects a referring expression names: their tracks and overlay only."""
    result = agent.segment(
        video,
        question,
        run_dir / "tracks",
        overlay=True,
        on_progress=on_progress,
        **given,
    )
    out = result.out
    reused = id(result.scene) in session.scenes
    session.scenes[id(result.scene)] = result.scene
    progress(0.95, desc="timeline")
    vis = visibility(result.scene.memory, result.ids)
    zip_path = zip_tracks(
        out,
        run_dir / f"{Path(video).stem}_referred_tracks.zip",
        f"{Path(video).stem}_referred_tracks",
    )
    n = len(result.ids)
    found = ", ".join(f"#{i} {result.labels[i]}" for i in result.ids)
    answer = (
        f"Found {n} object{'s' if n != 1 else ''}: {found}."
        if n
        else "Found no object matching the expression."
    )
    return Shown(result, answer, vis.evidence(), set(result.ids), out, zip_path, vis, reused)


def _ask(
    session: Session,
    agent,
    video: str,
    question,
    given: dict,
    run_dir: Path,
    on_progress: Progress,
    progress,
) -> Shown:
    """Answer a question; the overlay and timeline of a scene are made once per session."""
    result = agent.ask(video, question, on_progress=on_progress, **given)
    scene = result.scene
    reused = id(scene) in session.scenes
    session.scenes[id(scene)] = scene
    if id(scene) in session.outputs:  # same scene as an earlier question: same pictures
        out, zip_path, vis = session.outputs[id(scene)]
    else:
        progress(0.9, desc="writing the overlay video")
        out = scene.write(run_dir / "tracks", overlay=True)
        vis = visibility(scene.memory)
        zip_path = zip_tracks(
            out, run_dir / f"{Path(video).stem}_tracks.zip", f"{Path(video).stem}_tracks"
        )
        session.outputs[id(scene)] = (out, zip_path, vis)
    return Shown(result, result.answer, result.evidence, set(result.ids), Path(out), zip_path,
                 vis, reused)


def _evidence_frame(rows: list[dict]):
    import pandas as pd

    columns = list(EVIDENCE_COLUMNS)
    for r in rows:
        columns += [k for k in r if k not in columns]
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)


_SOURCES = {
    "perceived": "perceived the video",
    "tracks": "read the uploaded tracks",
    "detections": "tracked the uploaded detections",
}


def _timings_text(timings: dict, reused: bool, source: str) -> str:
    parts = [f"{k} {v:.2f} s" for k, v in timings.items() if isinstance(v, (int, float))]
    note = (
        "re-used the scene already perceived in this session (no model re-run)"
        if reused
        else _SOURCES[source]
    )
    return f"{note} · " + " · ".join(parts) if parts else note
