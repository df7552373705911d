"""Long-video soak: ``vidagent track --detections`` on a short and a long synthetic video; prints
frames/s and the peak resident memory of each run (sampled with psutil), which must not grow with
the video's length.

    python scripts/soak.py                       # 2,000 vs 20,000 frames, 160x120
    python scripts/soak.py --frames 2000 50000 --no-overlay --json

The video is a red ball bouncing left and right over a textured background (one object the whole
time); the detections file gives its box and COCO RLE mask every ``--every`` frames, so no model
weights are needed and the run exercises decoding, tracking, the tracks writer and the overlay.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

W, H, FPS, R = 160, 120, 25.0, 12  # frame size, rate, ball radius


def ball_x(i: int) -> int:
    """Ball centre column on frame ``i``: a triangle wave between R+4 and W-R-4 (period 220)."""
    lo, hi = R + 4, W - R - 4
    span = hi - lo
    p = i % (2 * span)
    return lo + (p if p <= span else 2 * span - p)


def ball_mask(i: int) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return (xx - ball_x(i)) ** 2 + (yy - H // 2) ** 2 <= R * R


def make_inputs(folder: Path, n: int, every: int = 10) -> tuple[Path, Path]:
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
    import psutil

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
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
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
    video, dets = make_inputs(folder, n, every)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--every", type=int, default=10, help="detections every N frames")
    ap.add_argument("--no-overlay", action="store_true", help="skip overlay.mp4 (faster)")
    ap.add_argument(
        "--workdir", default=None, help="keep inputs/outputs here (default: a temp folder)"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    ctx = tempfile.TemporaryDirectory(prefix="vidagent-soak-") if args.workdir is None else None
    folder = Path(args.workdir or ctx.name)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.frames:
        r = soak(n, folder, overlay=not args.no_overlay, every=args.every)
        r.pop("stdout")
        rows.append(r)
        if not args.json:
            print(
                f"{n:>7} frames: exit {r['returncode']}, {r['seconds']:.1f} s, "
                f"{r['frames_per_s']} frames/s, peak RSS {r['peak_rss_mb']:.0f} MiB "
                f"(1st half {r['rss_first_half_max_mb']:.0f}, 2nd half {r['rss_second_half_max_mb']:.0f}), "
                f"{r['masks_written']} masks, ids {r['result']['ids'] if r['result'] else None}",
                flush=True,
            )
            if r["returncode"] != 0:
                print(
                    "   " + r["stderr"].strip().splitlines()[-1] if r["stderr"].strip() else "",
                    flush=True,
                )
    if len(rows) > 1 and not args.json:
        a, b = rows[0], rows[-1]
        print(
            f"peak RSS {b['frames']} vs {a['frames']} frames: {b['peak_rss_mb'] - a['peak_rss_mb']:+.0f} MiB "
            f"({b['peak_rss_mb'] / max(a['peak_rss_mb'], 1):.2f}x)"
        )
    if args.json:
        for r in rows:
            r["stderr"] = r["stderr"][-500:]
        print(json.dumps(rows, indent=1))
    if ctx is not None:
        ctx.cleanup()
    return 0 if all(r["returncode"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
