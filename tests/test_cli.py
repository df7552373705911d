"""The command line as users and scripts drive it: exit codes, one-line errors, clean stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, stdin: str | None = None, timeout: float = 120, env: dict | None = None):
    e = dict(os.environ)
    e.update(env or {})
    e.setdefault("HF_HUB_OFFLINE", "1")
    return subprocess.run(
        [sys.executable, "-m", "vidagent", *args],
        input=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=e,
    )


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def one_line_error(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


def test_help_and_version():
    r = run_cli("--help")
    assert r.returncode == 0 and "ask" in r.stdout and "segment" in r.stdout
    r = run_cli("--version")
    assert r.returncode == 0 and "vidagent" in r.stdout


def test_bad_option_is_one_line_exit_2():
    r = run_cli("ask", "--frobnicate")
    assert r.returncode == 2
    assert "unrecognized" in one_line_error(r) or "required" in one_line_error(r)


@pytest.mark.hostile
@pytest.mark.parametrize(
    "make,match",
    [
        (lambda d: d / "missing.mp4", "no such"),
        (lambda d: d, "no frames"),
        (lambda d: _file(d / "zero.mp4", b""), "empty"),
        (lambda d: _file(d / "t.mp4", b"just text\n" * 50), "not a readable video"),
        (lambda d: _file(d / "r.mp4", os.urandom(20000)), "not a readable video"),
    ],
)
def test_bad_videos_exit_2_before_models(tmp_path, make, match):
    video = make(tmp_path)
    for cmd in (["ask", str(video), "how many dogs?"],
                ["segment", str(video), "the dog", "--out", str(tmp_path / "o")],
                ["track", str(video), "dog", "--out", str(tmp_path / "o")]):
        r = run_cli(*cmd)
        assert r.returncode == 2, (cmd, r.stderr)
        assert match in one_line_error(r)
        assert r.stdout == ""
        assert not (tmp_path / "o").exists()


@pytest.mark.hostile
@pytest.mark.parametrize("question,match", [("", "empty"), ("   \t ", "empty"), ("x" * 100_000, "characters")])
def test_bad_questions_exit_2(make_video, question, match):
    video = make_video()
    r = run_cli("ask", str(video), question, "--json")
    assert r.returncode == 2
    assert match in one_line_error(r)
    assert r.stdout == ""


@pytest.mark.hostile
def test_huge_question_on_stdin(make_video):
    # a 300 KB question cannot be an argument (the OS limit is 128 KB) but can come on stdin
    video = make_video()
    r = run_cli("ask", str(video), "-", stdin="y" * 300_000 + "\n")
    assert r.returncode == 2
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(out) == 1 and "characters" in out[0]["error"]


@pytest.mark.hostile
def test_bad_tracks_folder_exit_2(make_video, tmp_path):
    video = make_video()
    (tmp_path / "tr").mkdir()
    r = run_cli("ask", str(video), "how many dogs?", "--tracks", str(tmp_path / "tr"))
    assert r.returncode == 2 and "objects.json" in one_line_error(r)
    (tmp_path / "tr" / "objects.json").write_text(json.dumps(
        {"fps": 10, "width": 96, "height": 64, "num_frames": 12, "objects": [{"id": 1, "label": "dog"}]}))
    r = run_cli("ask", str(video), "how many dogs?", "--tracks", str(tmp_path / "tr"))
    assert r.returncode == 2 and "masks" in one_line_error(r)


@pytest.mark.hostile
@pytest.mark.parametrize(
    "content,match",
    [
        ("not json", "not valid JSON"),
        ('{"x": 1}', "frames"),
        ('{"frames": {"99": []}}', "outside the video"),
        ('{"frames": {"0": [{"box": [1, 2, 3, NaN]}]}}', "finite"),
        ('{"frames": {"0": [{"box": [1, 2, 30, 40], "score": NaN}]}}', "score"),
        ('{"frames": {"0": [{"box": [1, 2, 30, 40], "rle": {"size": [5, 5], "counts": "0"}}]}}', "RLE"),
    ],
)
def test_bad_detections_exit_2(make_video, tmp_path, content, match):
    video = make_video()
    f = tmp_path / "d.json"
    f.write_text(content)
    r = run_cli("track", str(video), "dog", "--detections", str(f), "--out", str(tmp_path / "o"))
    assert r.returncode == 2, r.stderr
    assert match in one_line_error(r)
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_is_refused(make_video, tmp_path):
    video = make_video()
    f = tmp_path / "file"
    f.write_text("x")
    r = run_cli("segment", str(video), "the dog", "--out", str(f))
    assert r.returncode == 2 and "not a folder" in one_line_error(r)


def test_tracks_and_detections_together_refused(make_video, tmp_path):
    video = make_video()
    r = run_cli("ask", str(video), "how many?", "--tracks", "a", "--detections", "b")
    assert r.returncode == 2 and "not both" in one_line_error(r)
