"""Referring by time and motion on synthetic tracks with exact truth: mean J by kind, questions.

For every constraint kind (vidagent/testing/motion.py: appears later / earlier / first / last,
leaves first / last, disappears, comes back, fastest, slowest, moving, still, direction,
follows, passes, towards, away from, touches, count) and every seed, a scene is built with
tracker-like faults (jitter, missed frames, stray blips), written as a tracks folder (the
``--tracks`` format), read back through the tracks reader into the scene memory, and its
referring expressions and questions are parsed by the rule parser (``QueryParser(None)``) and
answered. Prints mean J per kind (union mask of the returned ids vs the true ones, DAVIS J) and
question accuracy, for the development seeds and the held-out seeds side by side.

Run from the repository root:
    .venv/bin/python -m scripts.bench_referring [--seeds 30] [--jitter 0.7] [--drop 0.05]
        [--blip 0.3] [--kinds moving,still] [--verbose] [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from vidagent.testing.motion import DEV_SEEDS, FPS, HELD_OUT_SEEDS, KINDS, j_score, make_case
from vidagent.io.tracks import TracksWriter, open_tracks
from vidagent.memory import SceneMemoryBuilder
from vidagent.query.parser import QueryParser
from vidagent.reasoning import answer, refer
from vidagent.types import ObjectInfo


def memory_from_tracks(folder: Path):
    """The scene memory of a tracks folder (no video: masks only), as ``--tracks`` reads it."""
    reader = open_tracks(folder)
    builder = SceneMemoryBuilder.from_meta(reader.meta)
    for i, label_map in reader.label_maps():
        builder.add_frame(i, label_map)
    return builder.build()


def write_tracks(folder: Path, case) -> None:
    maps = case.label_maps
    with TracksWriter(folder, FPS, maps.shape[2], maps.shape[1], len(maps), rle=False) as w:
        for i, lm in enumerate(maps):
            w.write(i, lm)
        w.close([ObjectInfo(m.id, m.label) for m in case.movers])


def run(seeds, kinds, args, root: Path, parser, split: str):
    js: dict[str, list[float]] = defaultdict(list)
    qa: dict[str, list[bool]] = defaultdict(list)
    for kind in kinds:
        for seed in seeds:
            case = make_case(kind, seed, jitter=args.jitter, drop=args.drop, blip=args.blip)
            folder = root / split / f"{kind}_{seed}"
            write_tracks(folder, case)
            memory = memory_from_tracks(folder)
            for text, ids in case.expressions:
                got = refer(parser.parse(text, expression=True), memory, text)
                j = j_score(case.label_maps, got, ids)
                js[kind].append(j)
                if args.verbose and j < 0.999:
                    print(f"  {split} {kind} seed {seed}: {text!r} wants {ids}, got {got} "
                          f"(J={j:.2f})")
            for q in case.questions:
                a = answer(parser.parse(q.text), memory, q.text)
                ok = q.correct(a.value)
                qa[q.task].append(ok)
                qa[f"kind:{kind}"].append(ok)
                if args.verbose and not ok:
                    print(f"  {split} {kind} seed {seed}: {q.text!r} expects {q.expected!r}, "
                          f"got {a.value!r} ({a.answer})")
    return js, qa


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30, help="seeds per split and kind")
    ap.add_argument("--jitter", type=float, default=0.7, help="centre jitter sigma, px")
    ap.add_argument("--drop", type=float, default=0.05, help="share of missed frames")
    ap.add_argument("--blip", type=float, default=0.3, help="chance of a stray blip per object")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--keep", type=Path, help="keep the tracks folders here")
    ap.add_argument("--verbose", action="store_true", help="print every miss")
    args = ap.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        ap.error(f"unknown kinds {bad}; choose from {', '.join(KINDS)}")
    parser = QueryParser(None)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        results = {}
        for split, seeds in (("dev", DEV_SEEDS), ("held-out", HELD_OUT_SEEDS)):
            results[split] = run(list(seeds)[: args.seeds], kinds, args, root, parser, split)
    secs = time.perf_counter() - t0
    print(f"referring by time and motion: {args.seeds} scenes per kind and split, tracks "
          f"folders read back (jitter {args.jitter} px, missed frames {args.drop}, "
          f"blips {args.blip}); plans by the rule parser")
    print(f"{'kind':16s} {'J dev':>7s} {'J held-out':>11s} {'expressions':>12s}")
    for kind in kinds:
        d, h = results["dev"][0][kind], results["held-out"][0][kind]
        print(f"{kind:16s} {np.mean(d):7.3f} {np.mean(h):11.3f} {len(d) + len(h):12d}")
    all_d = [j for v in results["dev"][0].values() for j in v]
    all_h = [j for v in results["held-out"][0].values() for j in v]
    worst_h = min(np.mean(v) for v in results["held-out"][0].values())
    print(f"{'all':16s} {np.mean(all_d):7.3f} {np.mean(all_h):11.3f} "
          f"{len(all_d) + len(all_h):12d}   (worst kind held-out {worst_h:.3f})")
    print(f"{'question task':16s} {'dev':>7s} {'held-out':>11s} {'questions':>12s}")
    tasks = sorted(k for k in results["dev"][1] if not k.startswith("kind:"))
    for task in tasks:
        d, h = results["dev"][1][task], results["held-out"][1].get(task, [])
        print(f"{task:16s} {np.mean(d):7.3f} {np.mean(h):11.3f} {len(d) + len(h):12d}")
    qd = [x for k, v in results["dev"][1].items() if not k.startswith("kind:") for x in v]
    qh = [x for k, v in results["held-out"][1].items() if not k.startswith("kind:") for x in v]
    print(f"{'all questions':16s} {np.mean(qd):7.3f} {np.mean(qh):11.3f} {len(qd) + len(qh):12d}")
    print(f"time: {secs:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
