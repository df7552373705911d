"""Speed of the parts, measured side by side on this machine (the pipeline end to end against the
naive baselines is ``vidagent bench``).

Full-size architectures with random weights (the cost of a forward pass does not depend on the
weights; no download) on an 854x480 frame. Wall seconds are printed with CPU seconds (all threads
together: the steadier number on a machine shared with other jobs).

``models``: latency of each perception backend through vidagent's own backend classes, at the
input sizes of the profiles and a few others (the trade-off). "frame" is one detector call with
one phrase, or one SAM image embedding; "+prompt" is the added CPU cost of each further phrase
(detector) or box (segmenter, all boxes decoded in one batched call).

``levers``: each speed lever timed against its "off" setting in the same run (SAM input size,
batched boxes, inference_mode, bf16, threads, detector input size, SAM 2.1-tiny vs EdgeTAM);
for bf16 it prints the agreement (IoU) of the bf16 masks with the fp32 ones. The quality of the
schedule and resolution levers is ``scripts/quality.py --table levers``; the schedule levers
themselves (keyframe detection, stride with optical-flow fill) and the per-(video, targets)
cache are measured end to end by ``vidagent bench --set ...``.

    python scripts/speed.py models                # cpu-profile models + size sweeps (~5 min on 2 cores)
    python scripts/speed.py models --gpu-models   # also Grounding DINO-B @800 and SAM ViT-H @1024
    python scripts/speed.py levers                # every lever (~6 min on 2 quiet cores)
    python scripts/speed.py levers --only video   # SAM 2.1-tiny vs EdgeTAM per frame
    python scripts/speed.py models --threads 1    # pin torch threads (default: torch's own)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from vidagent.bench.models import WORDS, tokenizer

warnings.filterwarnings("ignore")

# vocabulary of the random-weight tokenizer for the model latency table
MODEL_WORDS = [*WORDS, "dog", "red", "person", "car", "cat", "bicycle", "tree"]
PHRASES = ["dog", "red ball", "person", "car", "cat"]
BOXES = np.array([[100, 120, 260, 300], [400, 200, 520, 330], [600, 40, 760, 160]], np.float32)


def timed(fn, runs: int = 1) -> tuple[float, float]:
    """(wall, CPU) seconds of the median of ``runs`` calls, after one warm-up call."""
    fn()
    rows = []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        rows.append((time.perf_counter() - t, time.process_time() - c))
    rows.sort()
    return rows[len(rows) // 2]


def frame() -> np.ndarray:
    """An 854x480 frame of the bench clip's synthetic scene."""
    from vidagent.testing.scenes import default_scene

    return default_scene(num_frames=1, height=480, width=854, seed=0).frames[0]


# ----------------------------------------------------------------------------- models
def hf_gdino(kind: str):
    """Random-weight transformers Grounding DINO of the released tiny (Swin-T) or base (Swin-B)."""
    from transformers import (
        BertConfig,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
        SwinConfig,
    )

    if kind == "tiny":
        backbone = SwinConfig(
            embed_dim=96,
            depths=[2, 2, 6, 2],
            num_heads=[3, 6, 12, 24],
            window_size=7,
            out_features=["stage2", "stage3", "stage4"],
        )
    else:
        backbone = SwinConfig(
            image_size=384,
            embed_dim=128,
            depths=[2, 2, 18, 2],
            num_heads=[4, 8, 16, 32],
            window_size=12,
            out_features=["stage2", "stage3", "stage4"],
        )
    cfg = GroundingDinoConfig(backbone_config=backbone, text_config=BertConfig())
    model = GroundingDinoForObjectDetection(cfg).eval()
    proc = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(), tokenizer=tokenizer(MODEL_WORDS)
    )
    return model, proc


def model_row(backend, model, size, frame_s, frame_cpu, extra_s, note=""):
    print(
        f"| {backend:<16} | {model:<22} | {size:>6} | {frame_s:>8.2f} | {frame_cpu:>8.2f} "
        f"| {extra_s:>10.3f} | {note}",
        flush=True,
    )


def detector_rows(args, image):
    from vidagent.models.detector_hf import HFGroundingDino

    sizes = {"tiny": [384, 480, 800], "base": [800]}
    for kind in ["tiny"] + (["base"] if args.gpu_models else []):
        model, proc = hf_gdino(kind)
        for s in sizes[kind]:
            det = HFGroundingDino(model, proc, short_side=s, max_side=int(s * 1333 / 800))
            runs = 1 if s >= 800 else args.runs
            one, cpu = timed(lambda det=det: det.detect(image, PHRASES[:1]), runs)
            _, cpu_all = timed(lambda det=det: det.detect(image, PHRASES), runs)
            extra = (cpu_all - cpu) / (len(PHRASES) - 1)
            model_row("hf", f"grounding-dino-{kind}", s, one, cpu, extra)
        del model


def gdino_py_rows(args, image):
    try:
        import groundingdino  # noqa: F401
    except ImportError:
        print("| groundingdino    | (not installed: pip install 'vidagent[groundingdino]')")
        return
    from transformers import BertConfig

    from vidagent.models.detector_gdino import OriginalGroundingDino, default_config
    from vidagent.models.gdino_compat import build_groundingdino

    with tempfile.TemporaryDirectory() as d:
        tokenizer(MODEL_WORDS).save_pretrained(d)
        BertConfig().save_pretrained(d)
        model = build_groundingdino(default_config(), Path(d))
    det = OriginalGroundingDino(model, short_side=480, max_side=800)
    one, cpu = timed(lambda: det.detect(image, PHRASES[:1]), args.runs)
    _, cpu_all = timed(lambda: det.detect(image, PHRASES), args.runs)
    model_row("groundingdino", "swint_ogc", 480, one, cpu, (cpu_all - cpu) / (len(PHRASES) - 1))


def _decoder_cpu(seg, boxes) -> tuple[float, float]:
    """CPU seconds of decoding one box and of all ``boxes`` in one batched call."""
    _, one = timed(lambda: seg.predict(boxes=boxes[:1]), 3)
    _, all_ = timed(lambda: seg.predict(boxes=boxes), 3)
    return one, all_


def sam_rows(args, image):
    from vidagent.models.segmenter_sam import SamSegmenter, build_sam

    boxes = np.array([[50 + 40 * i, 60, 200 + 40 * i, 300] for i in range(8)], np.float32)
    plan = [("vit_b", [384, 512, 640, 1024])] + ([("vit_h", [1024])] if args.gpu_models else [])
    for arch, sizes in plan:
        for s in sizes:
            seg = SamSegmenter(build_sam(arch, s))
            runs = 1 if s >= 1024 else args.runs
            enc, cpu = timed(lambda seg=seg: seg.set_image(image), runs)
            one, eight = _decoder_cpu(seg, boxes)
            note = f"decoder, 1 box: {one:.3f} CPU s"
            model_row("segment_anything", f"sam {arch}", s, enc, cpu, (eight - one) / 7, note)


def hf_sam_rows(args, image):
    from transformers import SamConfig, SamImageProcessor, SamModel, SamProcessor

    from vidagent.models.segmenter_hf import HFSamSegmenter

    seg = HFSamSegmenter(
        SamModel(SamConfig()).eval(), SamProcessor(image_processor=SamImageProcessor())
    )
    boxes = np.array([[50 + 40 * i, 60, 200 + 40 * i, 300] for i in range(8)], np.float32)
    enc, cpu = timed(lambda: seg.set_image(image), 1)
    one, eight = _decoder_cpu(seg, boxes)
    note = f"decoder, 1 box: {one:.3f} CPU s"
    model_row("hf", "sam-vit-base", 1024, enc, cpu, (eight - one) / 7, note)


def models_table(args) -> None:
    # random initialisations can shrink activations into denormal floats, which x86 CPUs compute
    # 10x slower (transformers' SamModel: 212 s instead of ~18 s); trained weights do not do this
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    image = np.random.default_rng(0).integers(0, 256, (480, 854, 3), dtype=np.uint8)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, 854x480, random weights")
    print(
        f"load average before: {os.getloadavg()[0]:.1f} (other jobs slow wall times, CPU s less so)"
    )
    print("input = detector short side / SAM long side; frame = 1 phrase (detector) or the image")
    print("embedding (SAM); +prompt = CPU s of each further phrase / box in the same call")
    print(
        "| backend          | model                  |  input | frame, s |   CPU, s "
        "| +prompt, s | note"
    )
    print(
        "|------------------|------------------------|--------|----------|----------|------------|-----"
    )
    steps = {
        "detector": detector_rows,
        "groundingdino": gdino_py_rows,
        "sam": sam_rows,
        "hf_sam": hf_sam_rows,
    }
    with torch.inference_mode():
        for name, fn in steps.items():
            if not args.only or name in args.only:
                fn(args, image)


# ----------------------------------------------------------------------------- levers
def lever_row(lever: str, off: str, on: str, a: tuple[float, float], b: tuple[float, float],
              note: str = "") -> None:
    print(f"| {lever} | {off} | {on} | {a[0]:.2f} / {a[1]:.2f} | {b[0]:.2f} / {b[1]:.2f} | "
          f"{a[0] / max(b[0], 1e-9):.2f}x / {a[1] / max(b[1], 1e-9):.2f}x | {note} |", flush=True)


def sam_levers(image: np.ndarray, runs: int) -> None:
    from vidagent.models.segmenter_sam import SamSegmenter, build_sam

    torch.manual_seed(0)
    segs = {s: SamSegmenter(build_sam("vit_b", s)) for s in (1024, 512, 384)}
    # SAM at reduced resolution (the encoder is most of SAM's cost)
    base = timed(lambda: segs[1024].set_image(image), runs)
    for s in (512, 384):
        lever_row("SAM ViT-B input size", "1024 px", f"{s} px", base,
            timed(lambda s=s: segs[s].set_image(image), runs), "image embedding")
    seg = segs[512]
    seg.set_image(image)
    # one embedding per frame, all boxes decoded in one batch vs one SAM call per box
    per_box = timed(lambda: [seg.set_image(image) or seg.predict(boxes=b[None]) for b in BOXES],
                    runs)
    batched = timed(lambda: (seg.set_image(image), seg.predict(boxes=BOXES)), runs)
    lever_row("one embedding, boxes batched", "embed + decode per box (3)", "1 embed + 1 batched decode",
        per_box, batched, "3 boxes, SAM 512")
    # inference_mode vs autograd on
    enc = seg.model.image_encoder
    x = torch.randn(1, 3, 512, 512)

    def plain():
        enc(x)

    def inference():
        with torch.inference_mode():
            enc(x)

    lever_row("torch.inference_mode", "autograd on", "inference_mode", timed(plain, runs),
        timed(inference, runs), "SAM 512 encoder")
    # bf16 autocast on CPU
    def bf16():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            enc(x)

    lever_row("bf16 autocast", "fp32", "bf16", timed(inference, runs), timed(bf16, runs),
        f"SAM 512 encoder; masks IoU vs fp32 {bf16_agreement(seg, image):.3f}")
    # threads
    n = torch.get_num_threads()
    if n > 1:
        torch.set_num_threads(1)
        one = timed(inference, runs)
        torch.set_num_threads(n)
        lever_row("torch threads", "1 thread", f"{n} threads", one, timed(inference, runs),
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
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
    )

    from vidagent.models.detector_hf import HFGroundingDino

    torch.manual_seed(0)
    model = GroundingDinoForObjectDetection(GroundingDinoConfig()).eval()
    proc = GroundingDinoProcessor(image_processor=GroundingDinoImageProcessor(),
                                  tokenizer=tokenizer())

    def det(s):
        return HFGroundingDino(model, proc, short_side=s, max_side=round(s * 1333 / 800))

    base = timed(lambda: det(800).detect(image, ["ball"]), runs)
    for s in (480, 384):
        lever_row("Grounding DINO-T input", "800 px (its default)", f"{s} px", base,
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

    from vidagent.bench.measure import time_grounded_sam2
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
    lever_row("video propagator", "SAM 2.1-tiny", "EdgeTAM", out["sam2.1-tiny"], out["edgetam"],
        f"per frame, 3 objects, {frames} frames (CPU column: mean over all frames)")


def levers_table(args) -> None:
    image = frame()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, 854x480 frame, "
          "random weights (full-size architectures)")
    print("| lever | off | on | off: wall / CPU s | on: wall / CPU s | speed-up wall / CPU | note |")
    print("|---|---|---|---|---|---|---|")
    for name, fn in (("sam", sam_levers), ("detector", detector_levers), ("video", video_levers)):
        if not args.only or name in args.only:
            fn(image, args.runs)


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="table", required=True)
    m = sub.add_parser("models", help="latency of each perception backend and input size")
    m.add_argument(
        "--gpu-models", action="store_true", help="also time the gpu profile's large models"
    )
    m.add_argument("--runs", type=int, default=2, help="timed runs per cell after one warm-up")
    m.add_argument("--only", choices=["detector", "groundingdino", "sam", "hf_sam"], action="append")
    lv = sub.add_parser("levers", help="each speed lever against its off setting")
    lv.add_argument("--runs", type=int, default=1, help="timed runs per cell after one warm-up")
    lv.add_argument("--only", choices=["sam", "detector", "video"], action="append")
    for p in (m, lv):
        p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    {"models": models_table, "levers": levers_table}[args.table](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
