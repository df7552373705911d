"""Tracking quality on synthetic scenes with exact ground truth (``vidagent.testing.scenes``).

Five tables, one per question (``--table``, several allowed):

- ``regime`` (default): the low-frame-rate regime, 320x240 at 10 fps, 40 frames, 2-5 objects of
  200-2000 px, from public detections every 5 frames (masks dilated or eroded by 1 px, 10%
  dropped, order shuffled; ``public_detections``), no segmenter. Per scene kind and seed set
  (dev seeds to develop on, held-out seeds to report): mean J, the detection frames' J of the
  output against the given masks' J (and the share of objects where the output is not worse),
  id consistency.
- ``scenes``: the default and alt textured scenes (25 fps, 60 frames) from noisy detections
  every 5 frames (masks +-1..2 px, 10% dropped, a false 15x15 blob on 10% of detection
  frames), dev seeds 0-3 and held-out seeds 10-17.
- ``stride``: SAM+flow engine with a simulated detector and SAM (``vidagent.testing.doubles``)
  against the segmenter stride.
- ``levers``: the speed levers' cost in J (detect every k, stride s, SAM input size simulated
  on its low-resolution output grid) on 10 s clips at 30 fps.
- ``schedule``: the cpu profile's tracker with the fixed keyframe stride, the adaptive schedule
  and detector + SAM on every frame (simulated models, 10 s at 30 fps), on the schedule's dev
  seeds 0-3 and held-out seeds 10-17 apart: detector and SAM calls, mean J (ids held over the
  clip) and mask J (masks alone, matched per frame).

    python scripts/quality.py                                 # the regime table
    python scripts/quality.py --sets dev --kinds reversal     # while iterating
    python scripts/quality.py --table scenes --table stride
    python scripts/quality.py --table schedule --sets held     # ~10 min on 2 cores
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vidagent.profiles import PROFILES
from vidagent.testing.doubles import SyntheticDetector, SyntheticSegmenter
from vidagent.testing.quality import score_scene
from vidagent.testing.scenes import (
    DEV_SEEDS,
    HELD_OUT_SEEDS,
    SMALL_FAST_KINDS,
    alt_scene,
    default_scene,
    noisy_detections,
    public_detections,
    small_fast_scene,
)
from vidagent.tracking import Tracker, TrackerConfig

SEED_SETS = {"dev": DEV_SEEDS, "held": HELD_OUT_SEEDS}


def regime_table(kinds: list[str], sets: list[str], seeds: int | None) -> None:
    print("low-frame-rate regime: 320x240, 10 fps, 40 frames, 2-5 objects of 200-2000 px; public "
          "detections every 5 frames (+-1 px, 10% dropped, shuffled), no segmenter")
    print("given J / output J: mean over objects of their J on the detection frames that carry a "
          "mask of them; not worse: share of objects whose output J >= given J there")
    print("| kind | seeds | objects | mean J | given J | output J (det. frames) | not worse | "
          "id consistency | worst object (seed:id J/id) | s/scene |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    total: dict[str, list] = {s: [] for s in sets}
    for kind in kinds:
        for name in sets:
            rows = []
            for seed in SEED_SETS[name][:seeds]:
                scene = small_fast_scene(seed, kind)
                q = score_scene(scene, Tracker(TrackerConfig()), public_detections(scene, seed))
                rows.append((seed, q))
            total[name].extend(rows)
            _print_rows(kind, name, rows)
    for name in sets:
        _print_rows("all", name, total[name])


def _print_rows(kind: str, name: str, rows) -> None:
    objs = [o for _, q in rows for o in q.objects]
    dets = [d for _, q in rows for d in q.detection_frames]
    worst_seed, worst = min(((s, o) for s, q in rows for o in q.objects),
                            key=lambda so: so[1]["J"] + so[1]["id_consistency"])
    print(f"| {kind} | {name} | {len(objs)} | {np.mean([o['J'] for o in objs]):.3f} | "
          f"{np.mean([d.given_j for d in dets]):.3f} | {np.mean([d.output_j for d in dets]):.3f} | "
          f"{np.mean([d.not_worse for d in dets]):.2f} | "
          f"{np.mean([o['id_consistency'] for o in objs]):.3f} | "
          f"{worst_seed}:{worst['gt_id']} {worst['J']:.2f}/{worst['id_consistency']:.2f} | "
          f"{np.mean([q.seconds for _, q in rows]):.1f} |", flush=True)


def scenes_table(sets: list[str], frames: int) -> None:
    held = {"dev": (0, 1, 2, 3), "held": tuple(range(10, 18))}
    print(f"\ndefault and alt scenes, {frames} frames at 25 fps; noisy detections every 5 frames "
          "(+-1..2 px, 10% dropped, 10% false blobs, shuffled), no segmenter")
    print("| scene | seeds | mean J | id consistency | not worse on det. frames |")
    print("|---|---|---|---|---|")
    for scene_name, make in (("default", default_scene), ("alt", alt_scene)):
        for name in sets:
            js, ids, nw = [], [], []
            for seed in held[name]:
                scene = make(num_frames=frames, seed=seed)
                q = score_scene(scene, Tracker(TrackerConfig()),
                                noisy_detections(scene, every=5, seed=seed))
                js.append(q.j)
                ids.append(q.id_consistency)
                nw.append(q.not_worse_share)
            print(f"| {scene_name} | {name} | {np.mean(js):.3f} | {np.mean(ids):.3f} | "
                  f"{np.mean(nw):.2f} |", flush=True)


def stride_table(seeds: int, frames: int, detect_every: int) -> None:
    print(f"\nSAM+flow engine on the default scene ({frames} frames, {seeds} seeds): simulated "
          f"detector every {detect_every} frames (boxes jittered 2 px), simulated SAM (masks "
          "+-1..2 px) every stride-th frame, flow between")
    print("| stride | segmenter frames | mean J | id consistency | s/video |")
    print("|---|---|---|---|---|")
    scenes = [default_scene(num_frames=frames, seed=s) for s in range(seeds)]
    for stride in (1, 2, 3, 5, 8):
        js, ids, secs, emb = [], [], [], []
        for s, scene in enumerate(scenes):
            seg = SyntheticSegmenter(scene, radius=2, seed=s)
            det = SyntheticDetector(scene, drop=0.0, jitter=2.0, seed=s)
            cfg = TrackerConfig(detect_every=detect_every, stride=stride)
            q = score_scene(scene, Tracker(cfg, detector=det, segmenter=seg))
            js.append(q.j)
            ids.append(q.id_consistency)
            secs.append(q.seconds)
            emb.append(seg.embeddings)
        print(f"| {stride} | {np.mean(emb):.0f} / {frames} | {np.mean(js):.3f} | "
              f"{np.mean(ids):.3f} | {np.mean(secs):.2f} |", flush=True)


# mask reuse on key frames (TrackerConfig.reuse_*; off in the cpu profile)
REUSE = {"reuse_box_iou": 0.85, "reuse_max_age": 60, "reuse_max_drift": 0.1}

# (name, detect_every, stride, SAM input size[, extra tracker settings or "cpu": the profile's])
LEVERS = [
    ("per-frame reference (detector + SAM every frame)", 1, 1, 1024),
    ("SAM at 512 px, every frame", 1, 1, 512),
    ("SAM at 384 px, every frame", 1, 1, 384),
    ("detect every 15, SAM every frame", 15, 1, 1024),
    ("detect every 15, stride 3, SAM 512", 15, 3, 512),
    ("detect every 30, stride 10, SAM 512", 30, 10, 512),
    ("detect every 30, stride 15, SAM 512", 30, 15, 512),
    ("detect every 45, stride 15, SAM 512", 45, 15, 512),
    ("detect every 60, stride 15, SAM 512", 60, 15, 512),
    ("detect every 60, stride 20, SAM 384", 60, 20, 384),
    ("detect every 30, stride 30, SAM 512 (cpu profile)", 30, 30, 512),
    ("detect every 60, flow only between detections", 60, 60, 512),
    ("detect every 30, stride 30, SAM 384", 30, 30, 384),
    # the cpu profile's mask levers, one at a time and together (``extra`` tracker settings)
    ("detect every 30, stride 30, SAM 512, no last-frame refresh", 30, 30, 512,
     {"refresh_last": False}),
    ("detect every 30, stride 30, SAM 512, mask reuse", 30, 30, 512, REUSE),
    ("cpu profile as shipped (tracker settings of vidagent/profiles.py)", 30, 30, 512, "cpu"),
]


class ReducedResolution:
    """Wraps a segmenter: its masks go through SAM's low-resolution output grid of
    ``input_size`` (``input_size // 4`` logit cells across the frame's long side)."""

    def __init__(self, inner, input_size: int) -> None:
        self.inner = inner
        self.grid = max(1, input_size // 4)

    @property
    def is_image_set(self) -> bool:
        return self.inner.is_image_set

    def set_image(self, image):
        self.inner.set_image(image)

    def predict(self, boxes=None, points=None, point_labels=None, multimask=None):
        import cv2

        masks, scores = self.inner.predict(boxes, points, point_labels, multimask)
        if not len(masks):
            return masks, scores
        h, w = masks.shape[1:]
        scale = self.grid / max(h, w)
        gh, gw = max(1, round(h * scale)), max(1, round(w * scale))
        out = []
        for m in masks:
            low = cv2.resize(m.astype(np.float32), (gw, gh), interpolation=cv2.INTER_AREA)
            out.append(cv2.resize(low, (w, h), interpolation=cv2.INTER_LINEAR) > 0.5)
        return np.array(out, bool).reshape(masks.shape), scores


def levers_table(seeds: int, frames: int, only: list[int] | None,
                 seed_list: list[int] | None = None) -> None:  # fmt: skip
    seed_list = list(seed_list or range(seeds))
    scenes = [default_scene(num_frames=frames, height=240, width=428, seed=s, fps=30.0)
              for s in seed_list]
    print(f"\nspeed levers: {frames} frames 428x240 at 30 fps, seeds {seed_list}; simulated "
          "detector (2 px jitter) and SAM (+-1..2 px), SAM input size simulated on its output grid")
    print("| # | setting | detector frames | SAM embeddings | mean J | dJ (points) | "
          "id consistency | s/clip |")
    print("|---|---|---|---|---|---|---|---|")
    ref = None
    for k, (name, every, stride, size, *extra) in enumerate(LEVERS):
        extra = extra[0] if extra else {}
        table = dict(PROFILES["cpu"].tracker) if extra == "cpu" else {
            **extra, "detect_every": every, "stride": stride}
        if only and k not in only and k != 0:
            continue
        js, ids, emb, secs = [], [], [], []
        for s, scene in zip(seed_list, scenes):
            seg = SyntheticSegmenter(scene, radius=2, seed=s)
            det = SyntheticDetector(scene, drop=0.0, jitter=2.0, seed=s)
            cfg = TrackerConfig.from_dict(table)
            t0 = time.perf_counter()
            q = score_scene(scene, Tracker(cfg, detector=det,
                                           segmenter=ReducedResolution(seg, size)))
            secs.append(time.perf_counter() - t0)
            js.append(q.j)
            ids.append(q.id_consistency)
            emb.append(seg.embeddings)
        j = float(np.mean(js))
        ref = j if ref is None else ref
        print(f"| {k} | {name} | {-(-frames // every)} | {np.mean(emb):.0f} | {j:.3f} | "
              f"{100 * (j - ref):+.1f} | {np.mean(ids):.3f} | {np.mean(secs):.1f} |", flush=True)


def schedule_table(sets: list[str], seeds: int | None, frames: int) -> None:
    """The cpu profile's tracker settings with the fixed and the adaptive keyframe schedule,
    beside detector + SAM on every frame (simulated models, default scene at 30 fps), on the
    schedule's dev seeds (tune on these) and held-out seeds (report only), each set apart."""
    from vidagent.profiles import PROFILES
    from vidagent.testing.schedule_quality import DEV_SEEDS, HELD_OUT_SEEDS, compare_schedules

    chosen = {"dev": DEV_SEEDS, "held": HELD_OUT_SEEDS}
    print(f"\nkeyframe schedules, default scene 320x240 at 30 fps, {frames} frames; simulated "
          "detector (boxes +-2 px) and SAM (masks +-1..2 px); mean J with ids held over the clip "
          "(DAVIS), mask J with objects matched anew on every frame")
    print("| seeds | schedule | detector calls | SAM embeddings | mean J | mask J |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in sets:
        picked = chosen[name][:seeds]
        for r in compare_schedules(PROFILES["cpu"].tracker, picked, frames):
            print(f"| {name} {','.join(map(str, picked))} | {r.name} | {r.detector_calls} | "
                  f"{r.sam_embeddings} | {r.j:.3f} | {r.mask_j:.3f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", action="append", choices=("regime", "scenes", "stride", "levers", "schedule"))
    ap.add_argument("--kinds", default=",".join(SMALL_FAST_KINDS))
    ap.add_argument("--sets", default="dev,held")
    ap.add_argument("--seeds", type=int, default=None,
                    help="regime, schedule: first N seeds of each set; stride/levers: number of seeds")
    ap.add_argument("--frames", type=int, default=None, help="scenes/stride/levers clip length")
    ap.add_argument("--detect-every", type=int, default=10, help="stride table")
    ap.add_argument("--only", type=int, action="append", help="levers rows (0 = reference)")
    ap.add_argument("--seed-list", default=None,
                    help="levers: these seeds (e.g. the held-out 100,101,102,103,104) instead of "
                    "0..N-1")
    args = ap.parse_args(argv)
    sets = args.sets.split(",")
    for table in args.table or ["regime"]:
        if table == "regime":
            regime_table(args.kinds.split(","), sets, args.seeds)
        elif table == "scenes":
            scenes_table(sets, args.frames or 60)
        elif table == "stride":
            stride_table(args.seeds or 4, args.frames or 60, args.detect_every)
        elif table == "schedule":
            schedule_table(sets, args.seeds, args.frames or 300)
        else:
            seed_list = [int(x) for x in args.seed_list.split(",")] if args.seed_list else None
            levers_table(args.seeds or 2, args.frames or 300, args.only, seed_list)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
