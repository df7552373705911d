"""The speed levers one by one, each timed against its "off" setting in the same run.

Full-size architectures with random weights (cost does not depend on weights) on an 854x480
frame of the bench clip. Each row prints wall and CPU seconds (CPU = all threads together,
steadier on a shared machine) of the lever off and on, and the speed-up. Quality of the
schedule and resolution levers is measured separately (``scripts/quality.py --table levers``); for bf16
this prints the agreement (IoU) of the bf16 masks with the fp32 ones of the same weights.

    python scripts/bench_levers.py                    # every lever (~6 min on 2 quiet cores)
    python scripts/bench_levers.py --only sam         # SAM levers only
    python scripts/bench_levers.py --only video       # SAM 2.1-tiny vs EdgeTAM per frame

The schedule levers (detection only on keyframes, processing stride with optical-flow fill)
and the per-(video, targets) cache are measured end to end by ``vidagent bench --set ...``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore")


def timed(fn, runs: int = 1) -> tuple[float, float]:
    """(wall, CPU) seconds: median of ``runs`` calls after one warm-up call."""
    fn()
    rows = []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        rows.append((time.perf_counter() - t, time.process_time() - c))
    rows.sort()
    return rows[len(rows) // 2]


def row(lever: str, off: str, on: str, a: tuple[float, float], b: tuple[float, float],
        note: str = "") -> None:
    print(f"| {lever} | {off} | {on} | {a[0]:.2f} / {a[1]:.2f} | {b[0]:.2f} / {b[1]:.2f} | "
          f"{a[0] / max(b[0], 1e-9):.2f}x / {a[1] / max(b[1], 1e-9):.2f}x | {note} |", flush=True)


def frame() -> np.ndarray:
    from vidagent.testing.scenes import default_scene

    return default_scene(num_frames=1, height=480, width=854, seed=0).frames[0]


BOXES = np.array([[100, 120, 260, 300], [400, 200, 520, 330], [600, 40, 760, 160]], np.float32)


def sam_levers(image: np.ndarray, runs: int) -> None:
    from vidagent.models.segmenter_sam import SamSegmenter, build_sam

    torch.manual_seed(0)
    segs = {s: SamSegmenter(build_sam("vit_b", s)) for s in (1024, 512, 384)}
    # SAM at reduced resolution (the encoder is most of SAM's cost)
    base = timed(lambda: segs[1024].set_image(image), runs)
    for s in (512, 384):
        row("SAM ViT-B input size", "1024 px", f"{s} px", base,
            timed(lambda s=s: segs[s].set_image(image), runs), "image embedding")
    seg = segs[512]
    seg.set_image(image)
    # one embedding per frame, all boxes decoded in one batch vs one SAM call per box
    per_box = timed(lambda: [seg.set_image(image) or seg.predict(boxes=b[None]) for b in BOXES],
                    runs)
    batched = timed(lambda: (seg.set_image(image), seg.predict(boxes=BOXES)), runs)
    row("one embedding, boxes batched", "embed + decode per box (3)", "1 embed + 1 batched decode",
        per_box, batched, "3 boxes, SAM 512")
    # inference_mode vs autograd on
    enc = seg.model.image_encoder
    x = torch.randn(1, 3, 512, 512)

    def plain():
        enc(x)

    def inference():
        with torch.inference_mode():
            enc(x)

    row("torch.inference_mode", "autograd on", "inference_mode", timed(plain, runs),
        timed(inference, runs), "SAM 512 encoder")
    # bf16 autocast on CPU
    def bf16():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            enc(x)

    row("bf16 autocast", "fp32", "bf16", timed(inference, runs), timed(bf16, runs),
        f"SAM 512 encoder; masks IoU vs fp32 {bf16_agreement(seg, image):.3f}")
    # threads
    n = torch.get_num_threads()
    if n > 1:
        torch.set_num_threads(1)
        one = timed(inference, runs)
        torch.set_num_threads(n)
        row("torch threads", "1 thread", f"{n} threads", one, timed(inference, runs),
            "SAM 512 encoder")


def bf16_agreement(seg, image: np.ndarray) -> float:
    """Mean IoU of the masks decoded from bf16 and fp32 embeddings (same random weights)."""
    seg.set_image(image)
    a, _ = seg.predict(boxes=BOXES)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        seg.set_image(image)
    seg._state.features = seg._state.features.float()
    seg.predictor.features = seg._state.features
    b, _ = seg.predict(boxes=BOXES)
    ious = [np.logical_and(p, q).sum() / max(np.logical_or(p, q).sum(), 1) for p, q in zip(a, b)]
    return float(np.mean(ious))


def detector_levers(image: np.ndarray, runs: int) -> None:
    from transformers import (
        BertTokenizerFast,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
    )

    from vidagent.bench import WORDS
    from vidagent.models.detector_hf import HFGroundingDino

    torch.manual_seed(0)
    model = GroundingDinoForObjectDetection(GroundingDinoConfig()).eval()
    proc = GroundingDinoProcessor(image_processor=GroundingDinoImageProcessor(),
                                  tokenizer=BertTokenizerFast(vocab={w: i for i, w in enumerate(WORDS)}))

    def det(s):
        return HFGroundingDino(model, proc, short_side=s, max_side=round(s * 1333 / 800))

    base = timed(lambda: det(800).detect(image, ["ball"]), runs)
    for s in (480, 384):
        row("Grounding DINO-T input", "800 px (its default)", f"{s} px", base,
            timed(lambda s=s: det(s).detect(image, ["ball"]), runs), "one phrase")


def video_levers(image: np.ndarray, runs: int, frames: int = 10) -> None:
    from transformers import (
        EdgeTamVideoConfig,
        EdgeTamVideoModel,
        Sam2ImageProcessor,
        Sam2VideoConfig,
        Sam2VideoModel,
        Sam2VideoProcessor,
        Sam2VideoVideoProcessor,
    )

    from vidagent.bench import time_grounded_sam2
    from vidagent.types import Detections

    proc = Sam2VideoProcessor(image_processor=Sam2ImageProcessor(),
                              video_processor=Sam2VideoVideoProcessor())
    boxes = Detections(BOXES, np.ones(3), ["ball"] * 3)
    clip = [image] * frames
    out = {}
    for name, cls, cfg in (("sam2.1-tiny", Sam2VideoModel, Sam2VideoConfig),
                           ("edgetam", EdgeTamVideoModel, EdgeTamVideoConfig)):
        torch.manual_seed(0)
        model = cls(cfg()).eval()
        c0 = time.process_time()
        r = time_grounded_sam2(clip, frames, 0.0, (model, proc), boxes, sample=3)
        out[name] = (r["per_frame"]["sam2_video"], (time.process_time() - c0) / frames)
        del model
    row("video propagator", "SAM 2.1-tiny", "EdgeTAM", out["sam2.1-tiny"], out["edgetam"],
        f"per frame, 3 objects, {frames} frames (CPU column: mean over all frames)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["sam", "detector", "video"], action="append")
    ap.add_argument("--runs", type=int, default=1, help="timed runs per cell after a warm-up")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    image = frame()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, 854x480 frame, "
          "random weights (full-size architectures)")
    print("| lever | off | on | off: wall / CPU s | on: wall / CPU s | speed-up wall / CPU | note |")
    print("|---|---|---|---|---|---|---|")
    for name, fn in (("sam", sam_levers), ("detector", detector_levers), ("video", video_levers)):
        if not args.only or name in args.only:
            fn(image, args.runs)


if __name__ == "__main__":
    main()
