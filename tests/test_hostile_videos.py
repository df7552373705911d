"""Hostile videos through the real command line (``track --detections``, no weights needed):
mislabelled, truncated, corrupted, huge, one-frame, odd-sized, variable-frame-rate. Each run ends
in a complete, valid output (exit 0) or in one line on stderr with exit 2 and no output folder,
within a time and memory bound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from vidagent.io.masks import encode_rle
from vidagent.io.tracks import open_tracks, validate_all
from vidagent.video import open_video, write_video

pytestmark = pytest.mark.hostile

ROOT = Path(__file__).resolve().parent.parent
TIME_BOUND_S = 90.0  # wall clock of one command on a loaded 2-core machine
RSS_BOUND = 1536 << 20  # peak resident memory of one command (bytes)


def run_bounded(
    args: list[str],
    timeout: float = TIME_BOUND_S,
    env: dict | None = None,
    stdin: str | None = None,
    rss_bound: int = RSS_BOUND,
) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run ``python -m vidagent ARGS``; returns (result, seconds, peak RSS bytes sampled by psutil).

    Killed (and the test failed) when it runs past ``timeout``; fails when its peak RSS reaches
    ``rss_bound`` bytes.
    """
    import psutil

    e = dict(os.environ, HF_HUB_OFFLINE="1", VIDAGENT_NO_PROGRESS="1")
    e.update(env or {})
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidagent", *args],
        cwd=ROOT,
        env=e,
        text=True,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = 0
    ps = psutil.Process(proc.pid)
    import threading

    out: dict = {}

    def talk():
        out["stdout"], out["stderr"] = proc.communicate(stdin)

    th = threading.Thread(target=talk, daemon=True)
    th.start()
    while th.is_alive():
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.Error:
            pass
        if time.monotonic() - t0 > timeout:
            proc.kill()
            th.join(10)
            pytest.fail(f"vidagent {' '.join(args)[:120]} ran past {timeout} s")
        th.join(0.05)
    seconds = time.monotonic() - t0
    res = subprocess.CompletedProcess(proc.args, proc.returncode, out["stdout"], out["stderr"])
    assert peak < rss_bound, f"peak RSS {peak >> 20} MiB"
    return res, seconds, peak


def run_inproc(args: list[str]) -> subprocess.CompletedProcess:
    """``vidagent ARGS`` in this process (no interpreter start-up: fast), stdout/stderr captured."""
    import contextlib
    import io

    from vidagent.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.__stdout__
    sys.__stdout__ = out  # the CLI writes results to the real stdout
    try:
        with contextlib.redirect_stderr(err):
            try:
                rc = main(args)
            except SystemExit as exc:  # argparse
                rc = exc.code
    finally:
        sys.__stdout__ = saved
    return subprocess.CompletedProcess(["vidagent", *args], rc, out.getvalue(), err.getvalue())


def one_line(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    return lines[0]


def no_partials(folder: Path) -> None:
    left = [p.name for p in folder.iterdir() if ".partial" in p.name or ".old." in p.name]
    assert not left, left


def square_frames(n: int, w: int, h: int):
    for i in range(n):
        f = np.full((h, w, 3), 100, np.uint8)
        x = min(w - 12, 2 + 2 * i)
        f[h // 4 : h // 4 + 12, x : x + 12] = (220, 30, 30)
        yield f


def detections_for(path: Path, n: int, w: int, h: int, every: int = 2) -> Path:
    """Boxes + RLE masks of the red square every ``every`` frames (within ``n`` frames)."""
    frames = {}
    for i in range(0, n, every):
        x, y = min(w - 12, 2 + 2 * i), h // 4
        m = np.zeros((h, w), bool)
        m[y : y + 12, x : x + 12] = True
        frames[str(i)] = [
            {"box": [x, y, x + 12, y + 12], "label": "square", "score": 0.9, "rle": encode_rle(m)}
        ]
    path.write_text(json.dumps({"frames": frames}))
    return path


def track(video: Path, dets: Path, out: Path, prompt: str = "square", bounded: bool = False):
    """Run ``track --detections``: in a subprocess with time/memory bounds, or in-process (fast)."""
    args = [
        "track",
        str(video),
        prompt,
        "--detections",
        str(dets),
        "--out",
        str(out),
        "--json",
        "--quiet",
    ]
    if not bounded:
        return run_inproc(args), 0.0, 0
    return run_bounded(args)


def assert_ok_or_exit_2(r, video: Path, out: Path) -> str:
    """Either a complete, valid tracks folder for the video (exit 0) or one line, exit 2, no output."""
    if r.returncode == 0:
        res = json.loads(r.stdout)
        reader = open_tracks(out, open_video(video))
        validate_all(reader)
        assert sorted(int(i) for i in res["ids"]) == sorted(o.id for o in reader.meta.objects)
        assert (out / "overlay.mp4").is_file() and (out / "rle.json").is_file()
        return "ok"
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    one_line(r)
    assert r.stdout == "" and not out.exists()
    return "refused"


@pytest.fixture
def good(tmp_path) -> Path:
    return Path(write_video(tmp_path / "good.mp4", square_frames(30, 96, 64), 10.0))


@pytest.mark.parametrize(
    "name", ["clip.avi", "clip.mkv", "clip.mov", "clip", "clip.png", "clip.txt"]
)
def test_mislabelled_but_real_video_is_tracked(good, tmp_path, name):
    video = tmp_path / name
    video.write_bytes(good.read_bytes())
    dets = detections_for(tmp_path / "d.json", 30, 96, 64)
    r, _, _ = track(video, dets, tmp_path / "o", bounded=name == "clip.png")
    assert r.returncode == 0, r.stderr
    assert assert_ok_or_exit_2(r, video, tmp_path / "o") == "ok"
    assert len(list((tmp_path / "o" / "masks").glob("*.png"))) == 30


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((np.sin(np.arange(8000) / 5) * 3000).astype("<i2").tobytes())
    return path


def _png(path: Path) -> Path:
    from PIL import Image

    Image.fromarray(np.zeros((64, 96, 3), np.uint8)).save(path, format="PNG")
    return path


def _jpeg(path: Path) -> Path:
    from PIL import Image

    Image.fromarray(np.zeros((64, 96, 3), np.uint8)).save(path, format="JPEG")
    return path


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda d: _wav(d / "audio.mp4"), "no video stream"),
        (lambda d: _png(d / "still.mp4"), "still image"),
        (lambda d: _jpeg(d / "still.mov"), "still image"),
        (lambda d: _bytes(d / "zip.mp4", b"PK\x03\x04" + os.urandom(4000)), "not a readable"),
        (lambda d: _bytes(d / "nul.mp4", b"\x00" * 100_000), "not a readable"),
    ],
)
def test_mislabelled_non_videos_exit_2(tmp_path, make, match):
    video = make(tmp_path)
    dets = detections_for(tmp_path / "d.json", 1, 96, 64)
    r, _, _ = track(video, dets, tmp_path / "o")
    assert r.returncode == 2 and match in one_line(r)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.6, 0.97])
@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_truncated_videos(tmp_path, fraction, container):
    full = Path(write_video(tmp_path / f"full.{container}", square_frames(40, 96, 64), 10.0))
    data = full.read_bytes()
    video = tmp_path / f"cut.{container}"
    video.write_bytes(data[: max(1, int(len(data) * fraction))])
    dets = detections_for(tmp_path / "d.json", 1, 96, 64)  # frame 0 exists in any readable cut
    r, _, _ = track(video, dets, tmp_path / "o")
    assert_ok_or_exit_2(r, video, tmp_path / "o")
    no_partials(tmp_path)


@pytest.mark.parametrize("seed", range(6))
def test_corrupted_bytes_in_the_middle(tmp_path, seed):
    full = Path(write_video(tmp_path / "full.mkv", square_frames(40, 96, 64), 10.0))
    data = bytearray(full.read_bytes())
    rng = np.random.default_rng(seed)
    start = len(data) // 5
    for pos in rng.integers(start, len(data), size=40):
        data[pos] = int(rng.integers(0, 256))
    video = tmp_path / "bad.mkv"
    video.write_bytes(bytes(data))
    dets = detections_for(tmp_path / "d.json", 1, 96, 64)
    r, _, _ = track(video, dets, tmp_path / "o")
    assert_ok_or_exit_2(r, video, tmp_path / "o")
    no_partials(tmp_path)


def test_huge_resolution_is_refused_before_decoding_everything(tmp_path):
    video = Path(
        write_video(tmp_path / "wide.mp4", (np.zeros((16, 8200, 3), np.uint8) for _ in range(2)), 5)
    )
    dets = detections_for(tmp_path / "d.json", 1, 96, 64)
    r, _, _ = track(video, dets, tmp_path / "o", bounded=True)
    assert r.returncode == 2 and "exceed" in one_line(r) and not (tmp_path / "o").exists()


def test_large_but_allowed_resolution_runs_in_bounded_memory(tmp_path):
    # 2560x1440, 2 frames: about 11 MB a frame; memory must not scale with a whole-video buffer
    w, h = 2560, 1440
    video = Path(write_video(tmp_path / "uhd.mp4", square_frames(2, w, h), 5))
    dets = detections_for(tmp_path / "d.json", 2, w, h, every=1)
    r, _, _ = track(video, dets, tmp_path / "o", bounded=True)
    assert r.returncode == 0, r.stderr
    assert assert_ok_or_exit_2(r, video, tmp_path / "o") == "ok"


def test_one_frame_video(tmp_path):
    video = Path(write_video(tmp_path / "one.mp4", square_frames(1, 96, 64), 10.0))
    assert open_video(video).info.num_frames == 1
    dets = detections_for(tmp_path / "d.json", 1, 96, 64)
    r, _, _ = track(video, dets, tmp_path / "o")
    assert assert_ok_or_exit_2(r, video, tmp_path / "o") == "ok"
    assert [p.name for p in (tmp_path / "o" / "masks").iterdir()] == ["00000.png"]
    # a detection on a frame the one-frame video does not have is refused
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"frames": {"1": []}}))
    r, _, _ = track(video, bad, tmp_path / "o2")
    assert r.returncode == 2 and "outside the video" in one_line(r)


@pytest.mark.parametrize("size", [(97, 63), (17, 16), (2, 2), (1, 1), (31, 4)])
def test_odd_and_tiny_sizes(tmp_path, size):
    """Odd sizes (the encoder wants even ones) and tiny frames: tracked, or refused in one line."""
    import av

    w, h = size
    video = tmp_path / "odd.mkv"
    with av.open(str(video), "w") as c:  # ffv1 keeps odd sizes exactly
        s = c.add_stream("ffv1", rate=10)
        s.width, s.height, s.pix_fmt = w, h, "yuv444p"
        for i in range(8):
            f = np.full((h, w, 3), 30 * i % 255, np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    if min(w, h) >= 16:
        info = open_video(video).info
        assert (info.width, info.height, info.num_frames) == (w, h, 8)
    m = np.zeros((h, w), bool)
    m[: max(1, h // 2), : max(1, w // 2)] = True
    dets = tmp_path / "d.json"
    dets.write_text(
        json.dumps(
            {
                "frames": {
                    "0": [
                        {
                            "box": [0, 0, max(1, w // 2), max(1, h // 2)],
                            "label": "patch",
                            "rle": encode_rle(m),
                        }
                    ]
                }
            }
        )
    )
    r, _, _ = track(video, dets, tmp_path / "o")
    expect = "ok" if min(w, h) >= 16 else "refused"  # optical flow needs some pixels each way
    assert assert_ok_or_exit_2(r, video, tmp_path / "o") == expect, r.stderr


def test_one_frame_video_keeps_its_detected_object(tmp_path):
    video = Path(write_video(tmp_path / "one.mp4", square_frames(1, 96, 64), 10.0))
    dets = detections_for(tmp_path / "d.json", 1, 96, 64)
    r, _, _ = track(video, dets, tmp_path / "o")
    assert r.returncode == 0 and json.loads(r.stdout)["ids"] == [1]


def write_vfr(path: Path, n: int, w: int = 96, h: int = 64) -> list[int]:
    """A variable-frame-rate video: gaps between timestamps of 10 ms to 400 ms. Returns the pts."""
    import av

    rng = np.random.default_rng(1)
    pts, t = [], 0
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.time_base = Fraction(1, 1000)
        s.codec_context.time_base = Fraction(1, 1000)
        for i, f in enumerate(square_frames(n, w, h)):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts, vf.time_base = t, Fraction(1, 1000)
            pts.append(t)
            t += int(rng.choice([10, 40, 40, 100, 400]))
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return pts


def test_variable_frame_rate_video(tmp_path):
    video = tmp_path / "vfr.mp4"
    write_vfr(video, 30)
    reader = open_video(video)
    decoded = sum(1 for _ in reader.frames())
    assert decoded == reader.info.num_frames == 30
    dets = detections_for(tmp_path / "d.json", 30, 96, 64, every=3)
    r, _, _ = track(video, dets, tmp_path / "o", bounded=True)
    assert assert_ok_or_exit_2(r, video, tmp_path / "o") == "ok"
    assert len(list((tmp_path / "o" / "masks").glob("*.png"))) == 30
    # the square is where the detections put it on the frames they name (frame i of the masks is
    # frame i of the video as decoded, whatever the timestamps)
    reader = open_tracks(tmp_path / "o")
    for i in (0, 3, 27):
        _, xs = np.nonzero(reader.label_map(i))
        assert xs.min() == pytest.approx(min(96 - 12, 2 + 2 * i), abs=1)


def test_folder_of_frames_with_a_bad_image(tmp_path):
    from PIL import Image

    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(square_frames(6, 96, 64)):
        Image.fromarray(f).save(folder / f"{i:05d}.jpg")
    dets = detections_for(tmp_path / "d.json", 6, 96, 64)
    r, _, _ = track(folder, dets, tmp_path / "o")
    assert assert_ok_or_exit_2(r, folder, tmp_path / "o") == "ok"
    (folder / "00003.jpg").write_bytes(b"\xff\xd8\xff garbage")
    r, _, _ = track(folder, dets, tmp_path / "o2")
    assert r.returncode == 2 and "00003.jpg" in one_line(r) and not (tmp_path / "o2").exists()
    Image.fromarray(np.zeros((32, 48, 3), np.uint8)).save(folder / "00003.jpg")
    r, _, _ = track(folder, dets, tmp_path / "o3")
    assert r.returncode == 2 and "same size" in one_line(r) and not (tmp_path / "o3").exists()
    no_partials(tmp_path)


def test_failed_run_keeps_the_previous_output_as_it_was(tmp_path, good):
    dets = detections_for(tmp_path / "d.json", 30, 96, 64)
    out = tmp_path / "o"
    r, _, _ = track(good, dets, out)
    assert r.returncode == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {"frames": {"0": [{"box": [1, 1, 5, 5], "rle": {"size": [64, 96], "counts": "x"}}]}}
        )
    )
    r, _, _ = track(good, bad, out)
    assert r.returncode == 2
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    no_partials(tmp_path)
