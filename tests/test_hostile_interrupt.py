"""No partial outputs: a run that fails or is stopped half way (Ctrl-C, SIGTERM, an error inside
the tracker) leaves no output folder, no ``.partial`` folder beside it and no temporary folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_hostile_videos import detections_for, no_partials, run_inproc, square_frames

from vidagent.video import write_video

pytestmark = pytest.mark.hostile

ROOT = Path(__file__).resolve().parent.parent
N = 1500  # long enough that the run is still tracking when the signal comes


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("long")

    video = Path(write_video(d / "long.mp4", square_frames(N, 96, 64), 25.0))
    return video, detections_for(d / "d.json", N, 96, 64, every=10)


def _scene_started(tmpdir: Path) -> bool:
    """True once the run writes masks of its scene into its temporary folder."""
    for d in tmpdir.glob("vidagent-*"):
        if any(True for _ in d.glob("*/masks/*.png")):
            return True
    return False


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stopped_run_leaves_nothing(long_clip, tmp_path, sig, code):
    video, dets = long_clip
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "o"
    env = dict(os.environ, TMPDIR=str(tmpdir), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vidagent",
            "track",
            str(video),
            "square",
            "--detections",
            str(dets),
            "--out",
            str(out),
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not _scene_started(tmpdir):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run did not start tracking"
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == code, err
    assert "Traceback" not in err and len([ln for ln in err.splitlines() if ln.strip()]) == 1, err
    assert not out.exists()
    no_partials(tmp_path)
    assert list(tmpdir.iterdir()) == []  # the scene's temporary folder is removed too


def test_error_inside_the_tracker_leaves_nothing(tmp_path, monkeypatch):
    """An unexpected failure half way through tracking: exit 1, one line, nothing left."""
    import tempfile

    from vidagent.tracking import Tracker

    short = Path(write_video(tmp_path / "s.mp4", square_frames(40, 96, 64), 10.0))
    dets = detections_for(tmp_path / "d.json", 40, 96, 64)
    original = Tracker.stream

    def failing_stream(self, *a, **kw):
        for index, frame, label_map in original(self, *a, **kw):
            if index == 25:
                raise RuntimeError("disk on fire")
            yield index, frame, label_map

    monkeypatch.setattr(Tracker, "stream", failing_stream)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    out = tmp_path / "o"
    r = run_inproc(
        ["track", str(short), "square", "--detections", str(dets), "--out", str(out), "--quiet"]
    )
    assert r.returncode == 1 and "disk on fire" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    no_partials(tmp_path)
    assert list(tmpdir.iterdir()) == []


def test_error_while_writing_the_output_keeps_the_old_output(tmp_path, monkeypatch):
    from vidagent.overlay import OverlayWriter

    short = Path(write_video(tmp_path / "s.mp4", square_frames(20, 96, 64), 10.0))
    dets = detections_for(tmp_path / "d.json", 20, 96, 64)
    out = tmp_path / "o"
    r = run_inproc(
        ["track", str(short), "square", "--detections", str(dets), "--out", str(out), "--quiet"]
    )
    assert r.returncode == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    calls = {"n": 0}
    original = OverlayWriter.write

    def failing_write(self, frame, label_map):
        calls["n"] += 1
        if calls["n"] == 10:
            raise OSError(28, "No space left on device")
        return original(self, frame, label_map)

    monkeypatch.setattr(OverlayWriter, "write", failing_write)
    r = run_inproc(
        ["track", str(short), "square", "--detections", str(dets), "--out", str(out), "--quiet"]
    )
    assert r.returncode != 0 and "Traceback" not in r.stderr
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    no_partials(tmp_path)
