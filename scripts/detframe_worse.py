"""Objects of the low-frame-rate regime whose output on the detection frames is worse than the
detection masks they were given (``scripts/quality.py``'s "not worse" column), frame by frame,
with a cause for each frame where the output J is below the given mask's J.

Causes (first that applies):
- ``id``: the output id matched to the object (``tracking_scores``; none when the object shares
  an id with another one) is not the one holding most of the object's pixels on that frame (a
  swap, a second track, or a re-identification as another object: the association's business);
- ``lost``: nothing holds the object's pixels there;
- ``neighbour``: another id holds pixels of the object that the given mask covers (two masks
  touch or overlap, a stale mask of another track);
- ``fusion``: the fused mask itself (the blend with the track's shape model) is worse.

    python scripts/detframe_worse.py --seeds 400-479 [--kinds crossing,reversal] [--jobs 2]
    python scripts/detframe_worse.py --seeds 400-479 --summary   # counts only

Fresh development seeds only: never run it on the held-out seeds.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from vidagent.evaluation import j_measure, tracking_scores
from vidagent.testing.quality import given_mask_owner, track_scene
from vidagent.testing.scenes import HELD_OUT_SEEDS, SMALL_FAST_KINDS, public_detections, small_fast_scene
from vidagent.tracking import Tracker, TrackerConfig


def frame_cause(pred_t: np.ndarray, gt: np.ndarray, g: int, p: int | None, given: np.ndarray) -> str:
    obj = gt == g
    under = pred_t[obj]
    under = under[under > 0]
    if len(under) and int(np.bincount(under).argmax()) != p:
        return "id"
    if p is None or not (pred_t == p).any():
        return "lost"
    other = obj & given & (pred_t > 0) & (pred_t != p)
    if np.count_nonzero(other) > 0:
        return "neighbour"
    return "fusion"


def scene_rows(kind: str, seed: int) -> list[dict]:
    scene = small_fast_scene(seed, kind)
    dets = public_detections(scene, seed)
    pred = track_scene(scene, Tracker(TrackerConfig()), dets)
    sc = tracking_scores(pred, scene.label_maps)
    match = {o["gt_id"]: o["pred_id"] for o in sc["objects"]}
    per: dict[int, list] = {}
    for t, d in sorted(dets.items()):
        if d.masks is None:
            continue
        gt = scene.label_maps[t]
        for m in d.masks:
            g = given_mask_owner(m, gt)
            if not g:
                continue
            p = match.get(g)
            gj = j_measure(m, gt == g)
            oj = j_measure(pred[t] == p, gt == g) if p else 0.0
            touch = sum(1 for m2 in d.masks if np.count_nonzero(m2 & m) > 0) - 1
            per.setdefault(g, []).append(
                dict(t=t, given=gj, out=oj, area=int((gt == g).sum()), touch=touch,
                     given_area=int(m.sum()), out_area=int((pred[t] == p).sum()) if p else 0,
                     cause=frame_cause(pred[t], gt, g, p, m) if oj < gj - 1e-9 else "")
            )
    rows = []
    for g, frames in per.items():
        gm = float(np.mean([f["given"] for f in frames]))
        om = float(np.mean([f["out"] for f in frames]))
        o = next(o for o in sc["objects"] if o["gt_id"] == g)
        rows.append(dict(kind=kind, seed=seed, gt=g, given=gm, out=om, worse=om < gm - 1e-9,
                         frames=frames, J=o["J"], id=o["id_consistency"]))
    return rows


def _parse_seeds(s: str) -> list[int]:
    out = []
    for part in s.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="400-449")
    ap.add_argument("--kinds", default=",".join(SMALL_FAST_KINDS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args()
    seeds = _parse_seeds(args.seeds)
    if set(seeds) & set(HELD_OUT_SEEDS):
        raise SystemExit("held-out seeds are for reporting only (scripts/quality.py)")
    kinds = args.kinds.split(",")
    jobs = [(k, s) for k in kinds for s in seeds]
    with ProcessPoolExecutor(args.jobs) as ex:
        results = list(ex.map(scene_rows, *zip(*jobs), chunksize=4))
    by_kind: dict[str, list] = {k: [] for k in kinds}
    for (k, _s), rows in zip(jobs, results):
        by_kind[k].extend(rows)
    print("| kind | objects | given J | output J | not worse | worse frames by cause |")
    print("|---|---|---|---|---|---|")
    total = []
    for k in kinds + ["all"]:
        rows = by_kind[k] if k != "all" else total
        if k != "all":
            total.extend(rows)
        causes: dict[str, int] = {}
        for r in rows:
            if r["worse"]:
                for f in r["frames"]:
                    if f["cause"]:
                        causes[f["cause"]] = causes.get(f["cause"], 0) + 1
        print(f"| {k} | {len(rows)} | {np.mean([r['given'] for r in rows]):.3f} | "
              f"{np.mean([r['out'] for r in rows]):.3f} | "
              f"{np.mean([not r['worse'] for r in rows]):.3f} | "
              f"{' '.join(f'{c}:{n}' for c, n in sorted(causes.items()))} |")
    if args.summary:
        return
    print()
    for r in total:
        if not r["worse"]:
            continue
        print(f"{r['kind']} seed {r['seed']} object {r['gt']}: given {r['given']:.3f} "
              f"output {r['out']:.3f}")
        for f in r["frames"]:
            mark = f" <- {f['cause']}" if f["cause"] else ""
            print(f"    t={f['t']:2d} area {f['area']:4d} (given {f['given_area']:4d}, output "
                  f"{f['out_area']:4d}) touch {f['touch']} given J {f['given']:.3f} "
                  f"output J {f['out']:.3f}{mark}")


if __name__ == "__main__":
    main()
