"""``vidagent annotate``: a collection tracked from the user's detections, resumable index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from vidagent.io.masks import encode_rle
from vidagent.video import write_video

ROOT = Path(__file__).resolve().parent.parent


def _clip_with_detections(folder: Path, name: str, n: int = 12) -> tuple[Path, Path]:
    frames, dets = [], {}
    for i in range(n):
        f = np.full((64, 96, 3), 90, np.uint8)
        x = 4 + 3 * i
        f[20:36, x : x + 16] = (200, 40, 40)
        frames.append(f)
        if i % 4 == 0:
            m = np.zeros((64, 96), bool)
            m[20:36, x : x + 16] = True
            dets[str(i)] = [{"box": [x, 20, x + 16, 36], "label": "ball", "score": 0.9, "rle": encode_rle(m)}]
    video = Path(write_video(folder / f"{name}.mp4", frames, 10))
    det = folder / f"{name}.json"
    det.write_text(json.dumps({"frames": dets}))
    return video, det


def _run(*args: str):
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "vidagent", "annotate", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=env)


def test_annotate_from_detections_with_questions_and_resume(tmp_path):
    a, da = _clip_with_detections(tmp_path, "a")
    b, db = _clip_with_detections(tmp_path, "b")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        json.dumps({"video": a.name, "detections": da.name, "id": "first"}) + "\n"
        + json.dumps({"video": b.name, "detections": db.name}) + "\n"
    )
    questions = tmp_path / "q.txt"
    questions.write_text("how many balls are there?\n")
    out = tmp_path / "out"
    r = _run(str(manifest), "--prompt", "ball", "--out", str(out), "--questions", str(questions), "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["processed"] == 2 and summary["failed"] == 0
    index = [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]
    assert sorted(rec["id"] for rec in index) == ["b", "first"]
    for rec in index:
        assert rec["status"] == "done" and rec["objects"] == [{"id": 1, "label": "ball"}]
        assert rec["answers"][0]["value"] == 1
        assert len(list((out / rec["id"] / "masks").glob("*.png"))) == 12
    # running again redoes nothing
    r = _run(str(manifest), "--prompt", "ball", "--out", str(out), "--json", "--quiet")
    assert r.returncode == 0 and json.loads(r.stdout)["processed"] == 0
    assert len((out / "index.jsonl").read_text().splitlines()) == 2


def test_annotate_bad_manifest_is_exit_2(tmp_path):
    m = tmp_path / "m.txt"
    m.write_text("")
    r = _run(str(m), "--prompt", "ball", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "lists no videos" in r.stderr
    r = _run(str(tmp_path / "missing"), "--prompt", "ball", "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "no such manifest" in r.stderr


def test_a_failing_video_is_recorded_and_the_rest_go_on(tmp_path):
    a, da = _clip_with_detections(tmp_path, "good")
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(
        json.dumps({"video": bad.name, "detections": da.name}) + "\n"
        + json.dumps({"video": a.name, "detections": da.name}) + "\n"
    )
    out = tmp_path / "out"
    r = _run(str(manifest), "--prompt", "ball", "--out", str(out), "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    index = {rec["id"]: rec for rec in map(json.loads, (out / "index.jsonl").read_text().splitlines())}
    assert index["bad"]["status"] == "failed" and "not a readable video" in index["bad"]["error"]
    assert index["good"]["status"] == "done"
    assert not (out / "bad").exists()


def test_annotate_on_ray_workers(tmp_path):
    import pytest

    pytest.importorskip("ray", reason="the 'ray' extra is not installed")
    videos = [_clip_with_detections(tmp_path, f"v{k}") for k in range(3)]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({"video": v.name, "detections": d.name}) + "\n" for v, d in videos))
    out = tmp_path / "out"
    r = _run(str(manifest), "--prompt", "ball", "--out", str(out), "--workers", "2", "--json", "--quiet")
    assert r.returncode == 0, r.stderr[-2000:]
    index = [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]
    assert sorted(rec["id"] for rec in index) == ["v0", "v1", "v2"]
    assert all(rec["status"] == "done" for rec in index)
