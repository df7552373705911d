"""Memory of the pipeline against video length: is it flat? Measurement code behind
``scripts/memory.py`` and the soak test.

- ``soak``: ``vidagent track --detections`` in a subprocess on a bouncing-ball video of N frames
  (one object the whole time; its box and COCO RLE mask every ``every`` frames, so no model
  weights), sampling the child's RSS with psutil: frames/s, peak RSS, and the peak of each half
  of the run (a leak shows as growth).
- ``ask_memory``: ``Agent.ask`` (cpu profile, rule parser, ground-truth detections of the
  synthetic scene looped to the length) in a fresh process: peak RSS before and after.
- ``decode_memory``: decoding alone, RSS along the way.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

W, H, FPS, R = 160, 120, 25.0, 12  # soak video: frame size, rate, ball radius
QUESTION = "how many balls are there?"  # the question of ``ask_memory``
SCENE_SECONDS = 10.0  # the synthetic scene is rendered once at this length and looped


def peak_rss_mb() -> float:
    """Peak resident set of this process in MB (VmHWM on Linux: unlike ru_maxrss it is not
    inherited from the parent across fork/exec; else ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


# ----------------------------------------------------------------------------- soak
def ball_x(i: int) -> int:
    """Ball centre column on frame ``i``: a triangle wave between R+4 and W-R-4 (period 220)."""
    lo, hi = R + 4, W - R - 4
    span = hi - lo
    p = i % (2 * span)
    return lo + (p if p <= span else 2 * span - p)


def ball_mask(i: int) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return (xx - ball_x(i)) ** 2 + (yy - H // 2) ** 2 <= R * R


def make_soak_inputs(folder: Path, n: int, every: int = 10) -> tuple[Path, Path]:
    """Write ``folder/soak_N.mp4`` and ``folder/soak_N.json`` (detections every ``every`` frames)."""
    from vidagent.io.masks import encode_rle
    from vidagent.video import write_video

    rng = np.random.default_rng(0)
    background = rng.integers(60, 140, (H, W, 3), dtype=np.uint8)

    def frames():
        for i in range(n):
            f = background.copy()
            f[ball_mask(i)] = (220, 30, 30)
            yield f

    video = folder / f"soak_{n}.mp4"
    if not video.exists():
        write_video(video, frames(), FPS)
    dets = folder / f"soak_{n}.json"
    if not dets.exists():
        out = {}
        for i in range(0, n, every):
            m = ball_mask(i)
            ys, xs = np.nonzero(m)
            box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
            out[str(i)] = [{"box": box, "label": "ball", "score": 0.9, "rle": encode_rle(m)}]
        dets.write_text(json.dumps({"frames": out}))
    return video, dets


def run_track(
    video: Path,
    dets: Path,
    out: Path,
    overlay: bool = True,
    interval: float = 0.1,
    timeout: float | None = None,
) -> dict:
    """Run ``vidagent track`` in a subprocess, sampling its RSS every ``interval`` s.

    Returns {"returncode", "seconds", "peak_rss_mb", "rss_samples_mb" (list), "stdout", "stderr"}.
    """
    cmd = [
        sys.executable,
        "-m",
        "vidagent",
        "track",
        str(video),
        "ball",
        "--detections",
        str(dets),
        "--out",
        str(out),
        "--json",
        "--quiet",
    ]
    if not overlay:
        cmd.append("--no-overlay")
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    samples: list[float] = []
    box: dict = {}
    th = threading.Thread(
        target=lambda: box.update(zip(("stdout", "stderr"), proc.communicate())), daemon=True
    )
    th.start()
    while th.is_alive():
        try:
            samples.append(ps.memory_info().rss / 2**20)
        except psutil.Error:
            pass
        if timeout is not None and time.monotonic() - t0 > timeout:
            proc.kill()
            th.join(10)
            raise TimeoutError(f"track ran past {timeout} s")
        th.join(interval)
    seconds = time.monotonic() - t0
    return {
        "returncode": proc.returncode,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(max(samples, default=0.0), 1),
        "rss_samples_mb": samples,
        "stdout": box.get("stdout", ""),
        "stderr": box.get("stderr", ""),
    }


def soak(
    n: int, folder: Path, overlay: bool = True, every: int = 10, timeout: float | None = None
) -> dict:
    """Make the inputs for ``n`` frames and track them; returns the numbers of the run."""
    t0 = time.monotonic()
    video, dets = make_soak_inputs(folder, n, every)
    make_s = time.monotonic() - t0
    out = folder / f"out_{n}"
    r = run_track(video, dets, out, overlay=overlay, timeout=timeout)
    masks = len(list((out / "masks").glob("*.png"))) if out.is_dir() else 0
    samples = r.pop("rss_samples_mb")
    # memory in the second half of the run against the first: a leak shows as growth
    half = len(samples) // 2
    r.update(
        frames=n,
        make_inputs_s=round(make_s, 2),
        frames_per_s=round(n / r["seconds"], 1) if r["seconds"] else None,
        masks_written=masks,
        rss_first_half_max_mb=round(max(samples[:half], default=0.0), 1),
        rss_second_half_max_mb=round(max(samples[half:], default=0.0), 1),
    )
    try:
        r["result"] = json.loads(r["stdout"]) if r["returncode"] == 0 else None
    except ValueError:
        r["result"] = None
    return r


# ----------------------------------------------------------------------------- ask
def make_scene_inputs(folder: Path, seconds: float, fps: float, width: int, height: int,
                      every: int) -> tuple[Path, Path]:
    """The looped clip and its detections file (ground truth of every ``every``-th frame)."""
    import av
    from pycocotools import mask as mask_utils

    from vidagent.testing.scenes import default_scene
    from vidagent.types import boxes_from_label_map

    scene = default_scene(num_frames=int(SCENE_SECONDS * fps), height=height, width=width,
                          seed=0, fps=fps)
    n = round(seconds * fps)
    video = folder / f"clip_{seconds:g}s.mp4"
    with av.open(str(video), "w") as out:
        stream = out.add_stream("libx264", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18"}
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(scene.frames[i % scene.num_frames], format="rgb24")
            for pkt in stream.encode(frame):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    frames = {}
    for i in range(0, n, every):
        gt = scene.label_maps[i % scene.num_frames]
        ids = [int(k) for k in np.unique(gt) if k]
        boxes = boxes_from_label_map(gt, ids).reshape(-1, 4)
        items = []
        for k, box in zip(ids, boxes):
            rle = mask_utils.encode(np.asfortranarray((gt == k).astype(np.uint8)))
            items.append({"box": [float(v) for v in box], "label": scene.labels[k], "score": 1.0,
                          "rle": {"size": list(rle["size"]), "counts": rle["counts"].decode()}})
        frames[str(i)] = items
    dets = folder / f"detections_{seconds:g}s.json"
    dets.write_text(json.dumps({"frames": frames}))
    return video, dets


def ask_peak(video: str, detections: str) -> dict:
    """``Agent.ask`` on ``video`` with ``detections`` (cpu profile, rule parser) in this process:
    peak RSS before and after the question, seconds and the answer. Run it in a fresh process
    (``ask_memory``): the peak of a process only grows."""
    from vidagent.pipeline import Agent
    from vidagent.query.parser import QueryParser

    before = peak_rss_mb()
    t0 = time.perf_counter()
    with Agent(profile="cpu", device="cpu", offline=True, progress=False) as agent:
        agent.use_models(parser=QueryParser(None))
        r = agent.ask(video, QUESTION, detections=detections)
    return {"peak_rss_mb_before": round(before, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "seconds": round(time.perf_counter() - t0, 1), "answer": r.answer}


def ask_memory(seconds: float, folder: Path, fps: float = 30.0, width: int = 854,
               height: int = 480, every: int = 15) -> dict:
    """Peak memory of ``Agent.ask`` on a ``seconds`` long clip of the synthetic scene, with its
    ground-truth detections every ``every`` frames, measured in a fresh child process."""
    video, dets = make_scene_inputs(folder, seconds, fps, width, height, every)
    out = subprocess.run([sys.executable, "-m", "vidagent.bench.memory", "ask", str(video),
                          str(dets)], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["frames"] = round(seconds * fps)
    return r


# ----------------------------------------------------------------------------- decode
def decode_memory(frames: int, width: int, height: int, folder: Path) -> dict:
    """Write a ``frames`` long generated video (a square moving over black), then decode it,
    reading this process's RSS before decoding, after 10% of the frames and after all of them."""
    from vidagent.video import VideoWriter, open_video

    def rss_mb() -> float:
        return psutil.Process().memory_info().rss / 2**20

    path = folder / "long.mp4"
    t0 = time.perf_counter()
    base = np.zeros((height, width, 3), np.uint8)
    with VideoWriter(path, 30, width, height) as wr:
        for i in range(frames):
            f = base.copy()
            x = (i * 3) % (width - 20)
            f[height // 3 : height // 3 + 20, x : x + 20] = (200, 40, 40)
            wr.write(f)
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    video = open_video(path)
    probe_s = time.perf_counter() - t0
    start = rss_mb()
    marks = {}
    t0 = time.perf_counter()
    n = 0
    for _i, _frame in video.frames():
        n += 1
        if n in (frames // 10, frames):
            marks[n] = round(rss_mb(), 1)
    return {
        "frames": n,
        "counted_frames": video.info.num_frames,
        "write_s": round(write_s, 2),
        "probe_s": round(probe_s, 3),
        "decode_s": round(time.perf_counter() - t0, 2),
        "rss_before_mb": round(start, 1),
        "rss_after_mb": marks,
        "peak_rss_mb": peak_rss_mb(),
    }


if __name__ == "__main__":  # the child of ask_memory: python -m vidagent.bench.memory ask VIDEO DETS
    if len(sys.argv) != 4 or sys.argv[1] != "ask":
        raise SystemExit("usage: python -m vidagent.bench.memory ask VIDEO DETECTIONS")
    print(json.dumps(ask_peak(sys.argv[2], sys.argv[3])))
