"""Quality cost of the speed levers: mean J on synthetic video with exact ground truth.

The heavy models are simulated from the ground truth (``vidagent.synth.SyntheticDetector``:
boxes jittered by 2 px; ``SyntheticSegmenter``: masks dilated/eroded 1-2 px), so the numbers
measure what the *schedule* (detect every k frames, segment every s-th frame, optical flow in
between) and the *mask resolution* cost, not what a particular set of weights would do.
SAM at a reduced input size is simulated by passing each simulated mask through SAM's output
path: the mask is area-averaged down to the low-resolution logit grid SAM decodes at
(input_size / 4 cells across the long side) and bilinearly upsampled back (threshold 0.5).

The reference is the per-frame pipeline (detector and SAM at 1024 on every frame). A lever
setting passes when it loses less than 3 points of J against that reference.

    python scripts/bench_quality.py                  # 10 s clips at 30 fps, 2 seeds (~5 min)
    python scripts/bench_quality.py --frames 90 --seeds 1   # quick look
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vidagent.evaluation import tracking_scores
from vidagent.synth import SyntheticDetector, SyntheticSegmenter, make_synthetic_video
from vidagent.tracking import Tracker, TrackerConfig

# (name, detect_every, stride, SAM input size)
SETTINGS = [
    ("per-frame reference (detector + SAM every frame)", 1, 1, 1024),
    ("SAM at 512 px, every frame", 1, 1, 512),
    ("SAM at 384 px, every frame", 1, 1, 384),
    ("detect every 15, SAM every frame", 15, 1, 1024),
    ("detect every 15, stride 3, SAM 512 (the first cpu profile)", 15, 3, 512),
    ("detect every 30, stride 10, SAM 512", 30, 10, 512),
    ("detect every 30, stride 15, SAM 512", 30, 15, 512),
    ("detect every 45, stride 15, SAM 512", 45, 15, 512),
    ("detect every 60, stride 15, SAM 512", 60, 15, 512),
    ("detect every 60, stride 20, SAM 384", 60, 20, 384),
    ("detect every 30, stride 30, SAM 512 (cpu profile)", 30, 30, 512),
    ("detect every 60, flow only between detections", 60, 60, 512),
    ("detect every 30, stride 30, SAM 384", 30, 30, 384),
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

    @property
    def embeddings(self) -> int:
        return self.inner.embeddings

    def set_image(self, image):
        self.inner.set_image(image)

    def predict(self, boxes=None, points=None, point_labels=None, multimask=True):
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


def run_one(video, detect_every: int, stride: int, size: int, seed: int) -> tuple[dict, int, float]:
    seg = SyntheticSegmenter(video, radius=2, seed=seed)
    det = SyntheticDetector(video, drop=0.0, jitter=2.0, seed=seed)
    wrapped = ReducedResolution(seg, size) if size < 1024 else ReducedResolution(seg, 1024)
    tracker = Tracker(TrackerConfig(detect_every=detect_every, stride=stride),
                      detector=det, segmenter=wrapped)
    pred = np.zeros_like(video.masks)

    def on_frame(i, m):
        pred[i] = m

    t0 = time.perf_counter()
    tracker.run(((i, f) for i, f in enumerate(video.frames)), video.num_frames,
                sorted(set(video.labels.values())), on_frame)
    secs = time.perf_counter() - t0
    return tracking_scores(pred, video.masks), seg.embeddings, secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--frames", type=int, default=300, help="frames per clip (300 = 10 s at 30 fps)")
    ap.add_argument("--width", type=int, default=428)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--only", type=int, action="append", help="row numbers to run (0 = reference)")
    args = ap.parse_args()
    videos = [make_synthetic_video(num_frames=args.frames, height=args.height, width=args.width,
                                   seed=s, fps=30.0) for s in range(args.seeds)]
    print(f"synthetic clips: {args.frames} frames {args.width}x{args.height}, 4 objects, "
          f"{args.seeds} seeds; simulated detector (2 px jitter) and SAM (1-2 px dilate/erode), "
          "SAM input size simulated on its output grid; J = mean region IoU over objects & frames")
    print("| # | setting | detector frames | SAM embeddings | mean J | dJ (points) | id consistency | tracker s/clip |")
    print("|---|---|---|---|---|---|---|---|")
    ref = None
    rows = [r for k, r in enumerate(SETTINGS) if not args.only or k in args.only or k == 0]
    for k, (name, every, stride, size) in enumerate(rows):
        js, ids, emb, secs = [], [], [], []
        for s, v in enumerate(videos):
            sc, e, t = run_one(v, every, stride, size, s)
            js.append(sc["J"])
            ids.append(sc["id_consistency"])
            emb.append(e)
            secs.append(t)
        j = float(np.mean(js))
        if ref is None:
            ref = j
        det_frames = -(-args.frames // every)
        print(f"| {SETTINGS.index((name, every, stride, size))} | {name} | {det_frames} | "
              f"{np.mean(emb):.0f} | {j:.3f} | {100 * (j - ref):+.1f} | {np.mean(ids):.3f} | "
              f"{np.mean(secs):.1f} |", flush=True)


if __name__ == "__main__":
    main()
