"""Memory against video length, measured side by side: does the peak grow with the video?

``soak``: ``vidagent track --detections`` on a short and a long synthetic video (a red ball
bouncing over a textured background; its box and COCO RLE mask every ``--every`` frames, so no
model weights); frames/s and the peak resident memory of each run (sampled with psutil), which
must not grow with the length. Exercises decoding, tracking, the tracks writer and the overlay.

``ask``: ``Agent.ask`` on 854x480 30 fps clips of each length (the 10 s synthetic scene, looped)
with the ground truth of every 15th frame as ``--detections``, each in a fresh process (cpu
profile, rule parser: no weights); peak RSS after imports and after the question.

``pipeline``: ``Agent.ask`` through the whole pipeline (cpu profile: keyframe schedule, detector
and SAM, optical flow, tracker, tracks writer, scene memory) at the bench's 854x480 30 fps, the
detector and SAM simulated from the synthetic scene's ground truth (no weights), on a 10 s and a
60 s clip (the 10 s scene, looped), each in a fresh process; both peaks and their ratio.

``decode``: decoding alone, RSS after 10% of a long generated video and after all of it.

    python scripts/memory.py soak                    # 2,000 vs 20,000 frames, 160x120
    python scripts/memory.py soak --frames 2000 50000 --no-overlay --json
    python scripts/memory.py ask                     # 10 s and 60 s clips (~5 min on 2 cores)
    python scripts/memory.py ask --seconds 10 30 60
    python scripts/memory.py pipeline                # 10 s vs 60 s at 854x480 (~3 min on 2 cores)
    python scripts/memory.py pipeline --seconds 10 30 60 --json
    python scripts/memory.py decode --frames 20000 --size 320x240
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from vidagent.bench import memory


def soak_table(args) -> int:
    ctx = tempfile.TemporaryDirectory(prefix="vidagent-soak-") if args.workdir is None else None
    folder = Path(args.workdir or ctx.name)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.frames:
        r = memory.soak(n, folder, overlay=not args.no_overlay, every=args.every)
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


def ask_table(args) -> int:
    print(f"{args.width}x{args.height} {args.fps:g} fps synthetic clips, --detections every "
          f"{args.every} frames (ground-truth masks as RLE), cpu profile tracker, rule parser; "
          "peak RSS of a fresh process per clip")
    print("| clip | frames | peak RSS after imports, MB | peak RSS after ask, MB | increase, MB | ask, s | answer |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="vidagent-mem-") as d:
        for s in args.seconds:
            r = memory.ask_memory(s, Path(d), args.fps, args.width, args.height, args.every)
            print(f"| {s:g} s | {r['frames']} | {r['peak_rss_mb_before']:.0f} | {r['peak_rss_mb']:.0f} | "
                  f"{r['peak_rss_mb'] - r['peak_rss_mb_before']:.0f} | {r['seconds']:.1f} | "
                  f"{r['answer']} |", flush=True)
    return 0


def pipeline_table(args) -> int:
    rows = []
    with tempfile.TemporaryDirectory(prefix="vidagent-mem-") as d:
        for s in args.seconds:
            rows.append(memory.pipeline_memory(s, Path(d), args.fps, args.width, args.height))
    first = rows[0]["peak_rss_mb"]
    for r in rows:
        r["ratio_to_first"] = round(r["peak_rss_mb"] / max(first, 1e-9), 3)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{args.width}x{args.height} {args.fps:g} fps synthetic clips (the {memory.SCENE_SECONDS:g} s "
          "scene looped), Agent.ask with the cpu profile, simulated detector and SAM, rule parser; "
          "a fresh process per clip")
    print("| clip | frames | peak RSS after imports, MB | peak RSS after ask, MB | ratio to the "
          f"{args.seconds[0]:g} s clip | ask, s | detector calls | SAM calls | answer |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['clip_seconds']:g} s | {r['clip_frames']} | {r['peak_rss_mb_before']:.0f} | "
              f"{r['peak_rss_mb']:.0f} | {r['ratio_to_first']:.3f} | {r['seconds']:.1f} | "
              f"{r['detector_calls']} | {r['sam_calls']} | {r['answer']} |", flush=True)
    return 0


def decode_table(args) -> int:
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="vidagent-decode-") as d:
        r = memory.decode_memory(args.frames, w, h, Path(d))
    print(f"wrote {args.frames} frames {w}x{h} in {r['write_s']:.1f} s")
    print(f"probe: {r['counted_frames']} frames counted in {r['probe_s']:.2f} s")
    print(f"decoded {r['frames']} frames in {r['decode_s']:.1f} s "
          f"({r['frames'] / max(r['decode_s'], 1e-9):.0f} fps)")
    print(f"RSS before decoding: {r['rss_before_mb']:.0f} MB")
    for k, v in r["rss_after_mb"].items():
        print(f"RSS after {k:6d} frames: {v:.0f} MB")
    print(f"peak RSS of the process: {r['peak_rss_mb']:.0f} MB")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="table", required=True)
    s = sub.add_parser("soak", help="vidagent track on a short and a long video: peak RSS")
    s.add_argument("--frames", type=int, nargs="+", default=[2000, 20000])
    s.add_argument("--every", type=int, default=10, help="detections every N frames")
    s.add_argument("--no-overlay", action="store_true", help="skip overlay.mp4 (faster)")
    s.add_argument("--workdir", default=None, help="keep inputs/outputs here (default: a temp folder)")
    s.add_argument("--json", action="store_true")
    a = sub.add_parser("ask", help="Agent.ask on clips of each length: peak RSS")
    a.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0])
    a.add_argument("--fps", type=float, default=30.0)
    a.add_argument("--width", type=int, default=854)
    a.add_argument("--height", type=int, default=480)
    a.add_argument("--every", type=int, default=15, help="detections every k frames")
    p = sub.add_parser("pipeline", help="the whole pipeline, simulated models: peak RSS by length")
    p.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0])
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--width", type=int, default=854)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--json", action="store_true")
    d = sub.add_parser("decode", help="decoding a long video: RSS along the way")
    d.add_argument("--frames", type=int, default=20000)
    d.add_argument("--size", default="320x240")
    args = ap.parse_args(argv)
    tables = {"soak": soak_table, "ask": ask_table, "pipeline": pipeline_table,
              "decode": decode_table}
    return tables[args.table](args)


if __name__ == "__main__":
    raise SystemExit(main())
