"""Latency of each perception backend at full size on this machine, printed as a table.

Models are the real architectures with random weights (same cost as trained ones; no download),
run through vidagent's own backend classes on a 854x480 frame at the input sizes of the profiles
(and a few others, to show the trade-off). "per frame" is one detector call with one phrase, or
one SAM image embedding; "per extra prompt" is the added cost of each further phrase (detector)
or box (segmenter, all boxes decoded in one batched call).

    python scripts/latency.py              # cpu-profile models + size sweeps (~5 min on 2 cores)
    python scripts/latency.py --gpu-models # also Grounding DINO-B @800 and SAM ViT-H @1024
    python scripts/latency.py --threads 1  # pin torch threads (default: torch's own default)
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

warnings.filterwarnings("ignore")

WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    ".",
    "dog",
    "red",
    "ball",
    "person",
    "car",
    "cat",
    "bicycle",
    "tree",
]
PHRASES = ["dog", "red ball", "person", "car", "cat"]


CPU_SECONDS: list[float] = []  # CPU time of the last timed() cell, all threads together


def timed(fn, runs: int) -> float:
    """Median wall seconds of ``runs`` calls after one warm-up call (CPU seconds of the median
    run go to CPU_SECONDS: on a machine shared with other jobs they are the steadier number)."""
    fn()
    times = []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t, time.process_time() - c))
    times.sort()
    wall, cpu = times[len(times) // 2]
    CPU_SECONDS[:] = [cpu]
    return wall


def tokenizer():
    from transformers import BertTokenizerFast

    return BertTokenizerFast(vocab={w: i for i, w in enumerate(WORDS)})


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
        image_processor=GroundingDinoImageProcessor(), tokenizer=tokenizer()
    )
    return model, proc


def row(backend, model, size, frame_s, frame_cpu, extra_s, note=""):
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
            one = timed(lambda det=det: det.detect(image, PHRASES[:1]), runs)
            cpu = CPU_SECONDS[0]
            timed(lambda det=det: det.detect(image, PHRASES), runs)
            extra = (CPU_SECONDS[0] - cpu) / (len(PHRASES) - 1)
            row("hf", f"grounding-dino-{kind}", s, one, cpu, extra)
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
        tokenizer().save_pretrained(d)
        BertConfig().save_pretrained(d)
        model = build_groundingdino(default_config(), Path(d))
    det = OriginalGroundingDino(model, short_side=480, max_side=800)
    one = timed(lambda: det.detect(image, PHRASES[:1]), args.runs)
    cpu = CPU_SECONDS[0]
    timed(lambda: det.detect(image, PHRASES), args.runs)
    row("groundingdino", "swint_ogc", 480, one, cpu, (CPU_SECONDS[0] - cpu) / (len(PHRASES) - 1))


def sam_rows(args, image):
    from vidagent.models.segmenter_sam import SamSegmenter, build_sam

    boxes = np.array([[50 + 40 * i, 60, 200 + 40 * i, 300] for i in range(8)], np.float32)
    plan = [("vit_b", [384, 512, 640, 1024])] + ([("vit_h", [1024])] if args.gpu_models else [])
    for arch, sizes in plan:
        for s in sizes:
            seg = SamSegmenter(build_sam(arch, s))
            runs = 1 if s >= 1024 else args.runs
            enc = timed(lambda seg=seg: seg.set_image(image), runs)
            cpu = CPU_SECONDS[0]
            timed(lambda seg=seg: seg.predict(boxes=boxes[:1]), 3)
            one = CPU_SECONDS[0]
            timed(lambda seg=seg: seg.predict(boxes=boxes), 3)
            eight = CPU_SECONDS[0]
            row(
                "segment_anything",
                f"sam {arch}",
                s,
                enc,
                cpu,
                (eight - one) / 7,
                f"decoder, 1 box: {one:.3f} CPU s",
            )


def hf_sam_rows(args, image):
    from transformers import SamConfig, SamImageProcessor, SamModel, SamProcessor

    from vidagent.models.segmenter_hf import HFSamSegmenter

    seg = HFSamSegmenter(
        SamModel(SamConfig()).eval(), SamProcessor(image_processor=SamImageProcessor())
    )
    boxes = np.array([[50 + 40 * i, 60, 200 + 40 * i, 300] for i in range(8)], np.float32)
    enc = timed(lambda: seg.set_image(image), 1)
    cpu = CPU_SECONDS[0]
    timed(lambda: seg.predict(boxes=boxes[:1]), 3)
    one = CPU_SECONDS[0]
    timed(lambda: seg.predict(boxes=boxes), 3)
    eight = CPU_SECONDS[0]
    row("hf", "sam-vit-base", 1024, enc, cpu, (eight - one) / 7, f"decoder, 1 box: {one:.3f} CPU s")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--gpu-models", action="store_true", help="also time the gpu profile's large models"
    )
    ap.add_argument(
        "--runs", type=int, default=2, help="timed runs per cell after one warm-up (default 2)"
    )
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument(
        "--only", choices=["detector", "groundingdino", "sam", "hf_sam"], action="append"
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
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


if __name__ == "__main__":
    main()
