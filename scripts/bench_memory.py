"""Peak memory (RSS) of the pipeline against video length: is it flat?

Generates 854x480 30 fps synthetic clips of each length (a 10 s scene, looped), writes the
ground-truth boxes and masks of every 15th frame as a ``--detections`` file (COCO RLE), and
runs ``Agent.ask`` on each clip in a fresh child process (the rule parser, no language model,
no detector/SAM weights: the detections carry their masks). The child reports its peak RSS
before and after the question; the difference is what perceiving the video costs.

    python scripts/bench_memory.py                 # 10 s and 60 s clips (~5 min on 2 cores)
    python scripts/bench_memory.py --seconds 10 30 60
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

QUESTION = "how many balls are there?"
SCENE_SECONDS = 10.0  # the synthetic scene is rendered once at this length and looped


def _peak_mb() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it is not inherited from the
    parent across fork/exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_inputs(folder: Path, seconds: float, fps: float, width: int, height: int,
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


def child(video: str, detections: str) -> None:
    from vidagent.pipeline import Agent
    from vidagent.query.parser import QueryParser

    before = _peak_mb()
    t0 = time.perf_counter()
    with Agent(profile="cpu", device="cpu", offline=True, progress=False) as agent:
        agent.use_models(parser=QueryParser(None))
        r = agent.ask(video, QUESTION, detections=detections)
    print(json.dumps({"peak_rss_mb_before": round(before, 1), "peak_rss_mb": round(_peak_mb(), 1),
                      "seconds": round(time.perf_counter() - t0, 1), "answer": r.answer}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0])
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--width", type=int, default=854)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--every", type=int, default=15, help="detections every k frames")
    ap.add_argument("--child", nargs=2, metavar=("VIDEO", "DETECTIONS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"{args.width}x{args.height} {args.fps:g} fps synthetic clips, --detections every "
          f"{args.every} frames (ground-truth masks as RLE), cpu profile tracker, rule parser; "
          "peak RSS of a fresh process per clip")
    print("| clip | frames | peak RSS after imports, MB | peak RSS after ask, MB | increase, MB | ask, s | answer |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="vidagent-mem-") as d:
        for s in args.seconds:
            video, dets = make_inputs(Path(d), s, args.fps, args.width, args.height, args.every)
            out = subprocess.run([sys.executable, __file__, "--child", str(video), str(dets)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            n = round(s * args.fps)
            print(f"| {s:g} s | {n} | {r['peak_rss_mb_before']:.0f} | {r['peak_rss_mb']:.0f} | "
                  f"{r['peak_rss_mb'] - r['peak_rss_mb_before']:.0f} | {r['seconds']:.1f} | "
                  f"{r['answer']} |", flush=True)


if __name__ == "__main__":
    main()
