"""Decode a long generated video and print resident memory along the way.

Usage: python scripts/long_video_memory.py [--frames 20000] [--size 320x240]

Shows that memory does not grow with video length: RSS after 10% of the frames and after all of
them are printed side by side, with the peak (ru_maxrss) at the end.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from vidagent.video import VideoWriter, open_video


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--size", default="320x240")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.mp4"
        t0 = time.perf_counter()
        base = np.zeros((h, w, 3), np.uint8)
        with VideoWriter(path, 30, w, h) as wr:
            for i in range(args.frames):
                f = base.copy()
                x = (i * 3) % (w - 20)
                f[h // 3 : h // 3 + 20, x : x + 20] = (200, 40, 40)
                wr.write(f)
        print(f"wrote {args.frames} frames {w}x{h} in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        video = open_video(path)
        print(f"probe: {video.info.num_frames} frames counted in {time.perf_counter() - t0:.2f} s")
        start = rss_mb()
        marks = {}
        t0 = time.perf_counter()
        n = 0
        for i, frame in video.frames():
            n += 1
            if n in (args.frames // 10, args.frames):
                marks[n] = rss_mb()
        dt = time.perf_counter() - t0
        print(f"decoded {n} frames in {dt:.1f} s ({n / dt:.0f} fps)")
        print(f"RSS before decoding: {start:.0f} MB")
        for k, v in marks.items():
            print(f"RSS after {k:6d} frames: {v:.0f} MB")
        print(f"peak RSS of the process (ru_maxrss): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
