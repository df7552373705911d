"""Memory of the pipeline against video length: is it flat? Measurement code behind
``scripts/memory.py`` and the soak test.

- ``soak``: ``vidagent track --detections`` in a subprocess on a bouncing-ball video of N frames
  (one object the whole time; its box and COCO RLE mask every ``every`` frames, so no model
  weights), sampling the child's RSS with psutil: frames/s, peak RSS, and the peak of each half
  of the run (a leak shows as growth).
- ``ask_memory``: ``Agent.ask`` (cpu profile, rule parser, ground-truth detections of the
  synthetic scene looped to the length) in a fresh process: peak RSS before and after.
- ``pipeline_memory``: ``Agent.ask`` through the whole pipeline (detector and SAM simulated from
  the synthetic scene's ground truth, kept compactly so the setup adds little) on a looped clip
  in a fresh process: peak RSS before and after.
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
    from pycocotools import mask as mask_utils

    from vidagent.testing.scenes import default_scene
    from vidagent.types import boxes_from_label_map

    scene = default_scene(num_frames=int(SCENE_SECONDS * fps), height=height, width=width,
                          seed=0, fps=fps)
    n = round(seconds * fps)
    video = write_looped_clip(scene, folder / f"clip_{seconds:g}s.mp4", n, fps)
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


def write_looped_clip(scene, path: Path, n: int, fps: float) -> Path:
    """``scene``'s frames looped to ``n`` frames, as H.264 (crf 18)."""
    import av

    h, w = scene.frames.shape[1:3]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "18"}
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(scene.frames[i % scene.num_frames], format="rgb24")
            for pkt in stream.encode(frame):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    return path


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


# ----------------------------------------------------------------------------- pipeline
THUMB = 4  # CompactScene finds a decoded frame by its thumbnail, this many times smaller


class CompactScene:
    """A synthetic scene kept small for memory checks on long clips: the frames' thumbnails
    (to find which scene frame a decoded, compressed frame is; the clip loops the scene) and the
    label maps PNG-encoded (decoded when asked for). What ``SyntheticDetector`` and
    ``SyntheticSegmenter`` read: ``labels``, ``label_maps[t]``, ``frame_of(image)``."""

    def __init__(self, thumbs: np.ndarray, pngs: list[bytes], labels: dict[int, str]) -> None:
        self.thumbs = thumbs.astype(np.int16)
        self._pngs = pngs
        self.labels = dict(labels)
        self.num_frames = len(pngs)
        self.label_maps = _PngMaps(pngs)

    @staticmethod
    def thumb(image: np.ndarray) -> np.ndarray:
        import cv2

        h, w = image.shape[:2]
        return cv2.resize(np.ascontiguousarray(image), (max(1, w // THUMB), max(1, h // THUMB)),
                          interpolation=cv2.INTER_AREA)  # fmt: skip

    def frame_of(self, image: np.ndarray) -> int:
        """The scene frame ``image`` is (the nearest thumbnail)."""
        t = self.thumb(image).astype(np.int16)
        return int(np.abs(self.thumbs - t[None]).reshape(self.num_frames, -1).sum(1).argmin())

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "thumbs.npy", self.thumbs.astype(np.uint8))
        for t, b in enumerate(self._pngs):
            (folder / f"{t:05d}.png").write_bytes(b)
        (folder / "labels.json").write_text(json.dumps({str(k): v for k, v in self.labels.items()}))
        return folder

    @classmethod
    def load(cls, folder: Path) -> CompactScene:
        folder = Path(folder)
        labels = {int(k): v for k, v in json.loads((folder / "labels.json").read_text()).items()}
        pngs = [p.read_bytes() for p in sorted(folder.glob("[0-9]*.png"))]
        return cls(np.load(folder / "thumbs.npy"), pngs, labels)

    @classmethod
    def of(cls, scene) -> CompactScene:
        import cv2

        pngs = [cv2.imencode(".png", m)[1].tobytes() for m in scene.label_maps]
        thumbs = np.stack([cls.thumb(f) for f in scene.frames])
        return cls(thumbs, pngs, scene.labels)


class _PngMaps:
    def __init__(self, pngs: list[bytes]) -> None:
        self._pngs = pngs

    def __len__(self) -> int:
        return len(self._pngs)

    def __getitem__(self, t: int) -> np.ndarray:
        import cv2

        return cv2.imdecode(np.frombuffer(self._pngs[t], np.uint8), cv2.IMREAD_UNCHANGED)


def make_pipeline_inputs(folder: Path, seconds: float, fps: float = 30.0, width: int = 854,
                         height: int = 480) -> tuple[Path, Path]:  # fmt: skip
    """The synthetic scene (``SCENE_SECONDS`` long) looped to a ``seconds`` clip, and the scene
    kept compactly beside it (``folder/scene_WxH/``, shared by clips of every length)."""
    from vidagent.testing.scenes import default_scene

    store = folder / f"scene_{width}x{height}_{fps:g}"
    scene = None
    if not (store / "labels.json").exists():
        scene = default_scene(num_frames=int(SCENE_SECONDS * fps), height=height, width=width,
                              seed=0, fps=fps)  # fmt: skip
        CompactScene.of(scene).save(store)
    video = folder / f"pipeline_{width}x{height}_{seconds:g}s.mp4"
    if not video.exists():
        if scene is None:
            scene = default_scene(num_frames=int(SCENE_SECONDS * fps), height=height,
                                  width=width, seed=0, fps=fps)  # fmt: skip
        write_looped_clip(scene, video, round(seconds * fps), fps)
    return video, store


def pipeline_peak(video: str, store: str) -> dict:
    """``Agent.ask`` on ``video`` through the whole pipeline (cpu profile: keyframe schedule,
    detector, segmenter, optical flow, tracker, tracks writer, scene memory, reasoning) with the
    simulated detector and SAM of ``vidagent.testing.doubles`` answering from the compact
    scene's ground truth, and the rule parser: peak RSS before and after the question. Run it
    in a fresh process (``pipeline_memory``): the peak of a process only grows."""
    import tempfile

    from vidagent.pipeline import Agent
    from vidagent.query.parser import QueryParser
    from vidagent.testing.doubles import SyntheticDetector, SyntheticSegmenter

    scene = CompactScene.load(Path(store))
    det = SyntheticDetector(scene, jitter=2.0, seed=0)
    seg = SyntheticSegmenter(scene, radius=2, seed=0)
    before = peak_rss_mb()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vidagent-mem-") as work, \
            Agent(profile="cpu", device="cpu", offline=True, progress=False, workdir=work) as agent:
        agent.use_models(detector=det, segmenter=seg, parser=QueryParser(None))
        r = agent.ask(video, QUESTION)
    return {"peak_rss_mb_before": round(before, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "seconds": round(time.perf_counter() - t0, 1), "answer": r.answer,
            "detector_calls": len(det.frames_seen), "sam_calls": seg.embeddings}


def pipeline_memory(seconds: float, folder: Path, fps: float = 30.0, width: int = 854,
                    height: int = 480, timeout: float | None = None) -> dict:  # fmt: skip
    """Peak memory of the pipeline (``pipeline_peak``) on a ``seconds`` long clip of the
    synthetic scene, measured in a fresh child process."""
    video, store = make_pipeline_inputs(folder, seconds, fps, width, height)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-m", "vidagent.bench.memory", "pipeline", str(video),
                          str(store)], capture_output=True, text=True, env=env, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"pipeline memory child failed: {out.stderr.strip()[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r.update(clip_seconds=seconds, clip_frames=round(seconds * fps), width=width, height=height)
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


if __name__ == "__main__":  # the child of ask_memory / pipeline_memory
    if len(sys.argv) != 4 or sys.argv[1] not in ("ask", "pipeline"):
        raise SystemExit("usage: python -m vidagent.bench.memory ask VIDEO DETECTIONS\n"
                         "       python -m vidagent.bench.memory pipeline VIDEO SCENE_FOLDER")
    child = ask_peak if sys.argv[1] == "ask" else pipeline_peak
    print(json.dumps(child(sys.argv[2], sys.argv[3])))
