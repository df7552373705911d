"""annotate on local Ray with two workers: a worker process SIGKILLed mid-video loses and
duplicates nothing. The video goes to a fresh worker (or, when it kills every worker it meets, is
recorded failed after ``MAX_ATTEMPTS``), each video appears in the index exactly once and no
half-written output stays in DIR."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the 'ray' extra is not installed")

from test_annotate import _clip_with_detections  # noqa: E402

from vidagent import annotate  # noqa: E402

KILL_AT_FRAME = 5  # the worker dies after writing this many masks of the video (mid-video)


class DyingWorker(annotate.Worker):
    """A real worker that SIGKILLs its own process halfway through writing some videos' masks:
    video ``once`` on its first attempt, video ``always`` on every attempt. Attempts are counted
    with marker files (one per attempt) in the folder beside DIR."""

    def run(self, job: dict, prompt: str, out: str, questions: list[str]) -> dict:
        marks = Path(out).parent / "attempts"
        marks.mkdir(exist_ok=True)
        n = len(list(marks.glob(f"{job['id']}.*")))
        (marks / f"{job['id']}.{n}").touch()
        if job["id"] == "always" or (job["id"] == "once" and n == 0):
            from vidagent.io import tracks

            write = tracks.TracksWriter.write

            def write_then_die(writer, index, label_map):
                write(writer, index, label_map)
                if index + 1 == KILL_AT_FRAME:
                    os.kill(os.getpid(), signal.SIGKILL)

            tracks.TracksWriter.write = write_then_die
        return super().run(job, prompt, out, questions)


def test_a_worker_killed_mid_video_loses_and_duplicates_nothing(tmp_path, monkeypatch):
    clips = tmp_path / "clips"
    clips.mkdir()
    monkeypatch.setattr(annotate, "MAX_ATTEMPTS", 2)  # each worker death costs a worker start
    names = ["once", "always", "fine"]
    lines = []
    for name in names:
        v, d = _clip_with_detections(clips, name)
        lines.append(json.dumps({"video": str(v), "detections": str(d), "id": name}))
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        recs = list(
            annotate.run(
                manifest, "ball", out, workers=2,
                agent_kwargs={"device": "cpu", "offline": True, "progress": False},
                worker_cls=DyingWorker,
            )
        )
    finally:
        ray.shutdown()
    index = [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in index) == sorted(names)  # each exactly once
    assert index == recs
    status = {r["id"]: r for r in index}
    for name in ("once", "fine"):
        assert status[name]["status"] == "done", status[name]
        assert len(list((out / name / "masks").glob("*.png"))) == 12
    assert status["always"]["status"] == "failed"
    assert f"died {annotate.MAX_ATTEMPTS} times" in status["always"]["error"]
    attempts = sorted(p.name for p in (tmp_path / "attempts").iterdir())
    assert [a for a in attempts if a.startswith("once.")] == ["once.0", "once.1"]
    assert len([a for a in attempts if a.startswith("always.")]) == annotate.MAX_ATTEMPTS
    # nothing half-written: only the finished videos' folders and the index
    assert sorted(p.name for p in out.iterdir()) == ["fine", "index.jsonl", "once"]
