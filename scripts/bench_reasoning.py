"""Synthetic benchmark of scene memory + reasoning from ground-truth tracks.

Generates random scenes (``vidagent.testing.scenes``) with known ground truth, asks every CONTRACT
task as plans with expected values, resolves referring expressions, and prints accuracy per task
and the mean J of referring segmentation (union mask of the selected ids vs the intended ones).

Run from the repository root:
    .venv/bin/python -m scripts.bench_reasoning [--scenes 40] [--seed 0] [--jpeg 60] [--noise 6]
    [--no-frames]   (tracks only: colours unknown, so colour questions expect null)
    [--parse]        (plans from the question texts by the rule parser, QueryParser(None),
                      instead of the generated plans: parser + reasoning end to end)
    [--scale]        (also time a 50,000-frame x 20-object memory from small label maps)
    [--degrade 0.05] (imperfect tracks: masks eroded/dilated by 1 px, each object missed on
                      this share of its frames; truths stay those of the clean scene)
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np

from vidagent.reasoning import answer, refer
from vidagent.testing.questions import j_score, make_expressions, make_questions
from vidagent.testing.scenes import LABELS, degrade_tracks, random_scene


def _has_color(plan) -> bool:
    return any(a.color for a in plan.attributes.values())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jpeg", type=int, default=60, help="JPEG quality of the frames (0 = none)")
    ap.add_argument("--noise", type=float, default=6.0, help="pixel noise sigma")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--no-frames", action="store_true", help="memory from masks only")
    ap.add_argument("--degrade", type=float, default=0.0,
                    help="share of frames on which each object's mask is missed (imperfect tracks)")
    ap.add_argument("--parse", action="store_true",
                    help="parse the question texts with the rule parser instead of using the plans")
    ap.add_argument("--scale", action="store_true",
                    help="also build a 50,000-frame x 20-object memory and time it")
    ap.add_argument("--verbose", action="store_true", help="print every wrong answer")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    parser = None
    if args.parse:
        from vidagent.query.parser import QueryParser

        parser = QueryParser(None)
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    js: list[float] = []
    t_build = t_reason = 0.0
    for k in range(args.scenes):
        seed = args.seed * 100_000 + k
        # every other scene draws from 3 labels so that several objects share a label
        pool = LABELS if k % 2 == 0 else tuple(rng.choice(LABELS, 3, replace=False))
        scene = random_scene(seed, num_frames=args.frames, jpeg=args.jpeg or None,
                             noise=args.noise, labels_pool=pool, max_objects=5 if k % 2 else 4)
        t0 = time.perf_counter()
        maps = None
        if args.degrade:
            maps = degrade_tracks(scene, np.random.default_rng(seed), drop=args.degrade)
        memory = scene.memory(with_frames=not args.no_frames, label_maps=maps)
        t1 = time.perf_counter()
        t_build += t1 - t0
        for q in make_questions(scene, rng):
            if args.no_frames and (q.task == "color" or _has_color(q.plan)):
                q.expected, q.check = None, None  # unknown without frames
            plan = parser.parse(q.text, expression=False) if parser else q.plan
            a = answer(plan, memory, q.text)
            ok = q.correct(a.value)
            right[q.task] += ok
            total[q.task] += 1
            if not ok and args.verbose:
                print(f"  scene {seed} WRONG {q.task}: {q.text!r} expected {q.expected!r} "
                      f"got {a.value!r} | {a.answer}")
        for e in make_expressions(scene, rng):
            if args.no_frames and _has_color(e.plan):
                e.ids = []  # cannot be resolved without colours: nothing is selected
            plan = parser.parse(e.text, expression=True) if parser else e.plan
            ids = refer(plan, memory, e.text)
            j = j_score(scene, ids, e.ids, pred_maps=maps)
            js.append(j)
            total["segment"] += 1
            right["segment"] += ids == e.ids
            if ids != e.ids and args.verbose:
                print(f"  scene {seed} WRONG segment: {e.text!r} expected {e.ids} got {ids} "
                      f"(J={j:.3f})")
        t_reason += time.perf_counter() - t1

    print(f"scenes: {args.scenes} ({args.frames} frames, jpeg={args.jpeg or 'none'}, "
          f"noise={args.noise}, frames={'no' if args.no_frames else 'yes'}, "
          f"degrade={args.degrade}, plans={'rule parser' if parser else 'given'})")
    print(f"{'task':10s} {'correct':>8s} {'total':>6s} {'accuracy':>9s}")
    qa_right = qa_total = 0
    for task in ("count", "exists", "when", "duration", "where", "color", "motion", "relation",
                 "compare", "describe", "segment"):
        if total[task]:
            print(f"{task:10s} {right[task]:8d} {total[task]:6d} {right[task] / total[task]:9.3f}")
        if task != "segment":
            qa_right += right[task]
            qa_total += total[task]
    print(f"QA overall: {qa_right}/{qa_total} = {qa_right / max(qa_total, 1):.3f}")
    print(f"referring: {len(js)} expressions, mean J = {np.mean(js):.4f}")
    print(f"time: memory build {t_build:.2f} s, reasoning {t_reason:.2f} s")
    if args.scale:
        scale()
    return 0


def scale(num_frames: int = 50_000, num_objects: int = 20, height: int = 72,
          width: int = 128) -> None:
    """Stream a long video of moving boxes through the builder; print time and memory."""
    import resource

    from vidagent.memory import SceneMemoryBuilder
    from vidagent.query.plan import Plan

    labels = {i + 1: ("dog", "cat", "person", "car")[i % 4] for i in range(num_objects)}
    base = np.zeros((height, width), np.uint8)
    for i in range(num_objects):
        r, c = divmod(i, 5)
        base[r * 18 + 2: r * 18 + 14, c * 25 + 2: c * 25 + 20] = i + 1
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    b = SceneMemoryBuilder(25.0, width, height, num_frames, labels)
    for t in range(num_frames):
        b.add_frame(t, np.roll(base, (t // 500) % 5, axis=1))
    memory = b.build()
    t1 = time.perf_counter()
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024  # KiB -> MiB
    a = answer(Plan(task="count", targets=["dogs"]), memory)
    t2 = time.perf_counter()
    print(f"scale: {num_frames} frames x {num_objects} objects ({width}x{height} masks): "
          f"build {t1 - t0:.1f} s ({(t1 - t0) / num_frames * 1e6:.0f} us/frame), "
          f"peak RSS grew {grown:.0f} MiB, one answer {t2 - t1:.3f} s "
          f"({a.answer})")


if __name__ == "__main__":
    raise SystemExit(main())
