"""PyTorch vs ONNX Runtime on the cpu profile's full-size image models (random weights; the cost
is that of trained ones): parity and speed, measured side by side.

For Grounding DINO-T (transformers, 384 px short side, 640 max) and SAM ViT-B (segment_anything,
512 px): exports once into VIDAGENT_HOME/exported (minutes and a few GiB the first time), then
alternates PyTorch and ONNX Runtime runs on the same frame ``--rounds`` times and prints per-run
seconds, the median ratio, and the parity figures: max abs difference of logits and of boxes, the
detections' box difference in pixels, SAM's embedding difference and mask IoU.

    python scripts/runtime_speed.py [--rounds 3] [--only dino|sam] [--json]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np

from vidagent.bench.side_by_side import frame, report


def _finite(x: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(x), x, -1e4)


def _interleave(a, b, rounds: int) -> dict:
    ta, tb = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        a()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        b()
        tb.append(time.perf_counter() - t)
    return {
        "torch_s": [round(x, 3) for x in ta],
        "ort_s": [round(x, 3) for x in tb],
        "ratio": round(statistics.median(ta) / statistics.median(tb), 2),
    }


def dino(rounds: int) -> dict:
    import torch

    from vidagent.bench import full_size_models
    from vidagent.models.accel_gdino import OrtGroundingDino
    from vidagent.models.export_cache import module_digest

    det = full_size_models().detector(384, 640)
    image = frame()
    t = time.perf_counter()
    engine = OrtGroundingDino(det.model, module_digest(det.model))
    inputs = det.preprocess(image, "ball. box.")
    with torch.inference_mode():
        ort = engine(**inputs)  # exports on first use
    setup = time.perf_counter() - t
    with torch.inference_mode():
        ref = det.model(**inputs)
    out = {
        "input": list(inputs["pixel_values"].shape[-2:]),
        "export_and_load_s": round(setup, 1),
        "logits_max_abs_diff": float(np.abs(_finite(ort.logits.numpy()) - _finite(ref.logits.numpy())).max()),
        "boxes_max_abs_diff": float(np.abs(ort.pred_boxes.numpy() - ref.pred_boxes.numpy()).max()),
    }
    phrases = ["ball", "box"]
    d_torch = det.detect(image, phrases, box_threshold=0.0, text_threshold=0.0)
    det.engine = engine
    d_ort = det.detect(image, phrases, box_threshold=0.0, text_threshold=0.0)
    n = min(len(d_torch), len(d_ort))
    out["detections"] = [len(d_torch), len(d_ort)]
    out["detection_box_max_px_diff"] = float(np.abs(d_torch.boxes[:n] - d_ort.boxes[:n]).max()) if n else None

    def run_torch():
        det.engine = None
        det.detect(image, phrases)

    def run_ort():
        det.engine = engine
        det.detect(image, phrases)

    out["speed"] = _interleave(run_torch, run_ort, rounds)
    return out


def sam(rounds: int) -> dict:
    import torch

    from vidagent.bench import full_size_models
    from vidagent.models.accel_sam import OrtSamImageEncoder
    from vidagent.models.export_cache import module_digest

    seg = full_size_models().segmenter("vit_b", 512)
    image = frame()
    torch_enc = seg.model.image_encoder
    t = time.perf_counter()
    ort_enc = OrtSamImageEncoder(torch_enc, module_digest(torch_enc))
    setup = time.perf_counter() - t
    boxes = np.array([[100, 80, 400, 400], [420, 100, 800, 460], [0, 0, 853, 479]], np.float32)

    def embed(enc):
        seg.model.image_encoder = enc
        seg.set_image(image)
        return seg.predictor.features.clone()

    e_ref = embed(torch_enc)
    m_ref, q_ref = seg.predict(boxes=boxes)
    e_ort = embed(ort_enc)
    m_ort, q_ort = seg.predict(boxes=boxes)
    ious = [
        float(np.logical_and(a, b).sum() / max(1, np.logical_or(a, b).sum()))
        for a, b in zip(m_ref, m_ort)
    ]
    out = {
        "input": 512,
        "export_and_load_s": round(setup, 1),
        "embedding_max_abs_diff": float((e_ref - e_ort).abs().max()),
        "embedding_max_abs": float(e_ref.abs().max()),
        "quality_max_abs_diff": float(np.abs(q_ref - q_ort).max()),
        "mask_iou_min": round(min(ious), 5),
        "speed": _interleave(lambda: embed(torch_enc), lambda: embed(ort_enc), rounds),
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=["dino", "sam"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import torch

    res = {"threads": torch.get_num_threads()}
    if args.only in (None, "dino"):
        res["grounding_dino_t"] = dino(args.rounds)
        gc.collect()
    if args.only in (None, "sam"):
        res["sam_vit_b"] = sam(args.rounds)
    report(res, args.json)


if __name__ == "__main__":
    main()
