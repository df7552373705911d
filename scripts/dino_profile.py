"""Where one Grounding DINO call of the cpu profile spends its time, and what a new export gains:
the full-size DINO-T (random weights) at 360x640 on OpenVINO fp32, as the pipeline runs it.

Prints (1) the Python side of a call: the processor's resize/normalise/pad and tokenising, the
text features (BERT once per caption, then a cache hit); (2) the OpenVINO-compiled graph's
per-op times (``PERF_COUNT``) summed by stage: Swin backbone, feature enhancer (deformable
self-attention, its FFN, the text-image fusion, the text layers), query selection, decoder,
heads; (3) parity with PyTorch of each graph (``bench.side_by_side.dino_parity``: raw outputs and
detections); (4) seconds per call of the current export and, with ``--against FILE``, of another
ONNX export of the same model (an older graph), interleaved in one process, with the load, and
the two graphs' outputs query by query.

    python scripts/dino_profile.py [--rounds 6] [--against OLD.onnx] [--json]
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections import Counter

import numpy as np

from vidagent.bench.side_by_side import (dino_parity, dino_reference, frame, interleaved,
                                         report)  # fmt: skip

CAPTION, PHRASES = "ball. box.", ["ball", "box"]
STAGES = (  # (stage, pattern of the ONNX node names); the first that matches
    ("swin backbone", r"/backbone/"),
    ("input projection", r"/input_proj"),
    ("enhancer: deformable attention", r"/encoder/layers\.\d+/deformable_layer/self_attn/"),
    ("enhancer: deformable FFN + norms", r"/encoder/layers\.\d+/deformable_layer/"),
    ("enhancer: text-image fusion", r"/encoder/layers\.\d+/fusion_layer/"),
    ("enhancer: text layers", r"/encoder/layers\.\d+/text_enhancer_layer/"),
    ("enhancer: other", r"/encoder/"),
    ("decoder: deformable cross-attention", r"/decoder/layers\.\d+/encoder_attn/"),
    ("decoder: other", r"/decoder/"),
    ("query selection + heads", r"enc_output|encoder_output|bbox_embed|class_embed|TopK"),
)


def stage_of(name: str) -> str:
    for stage, pattern in STAGES:
        if re.search(pattern, name):
            return stage
    return "other (masks, positions, fused nodes)"


def op_profile(path, threads: int, feed: dict, calls: int = 2) -> dict:
    """Seconds per call of each stage and of each op type (OpenVINO's per-node real time) of the
    file at ``path`` compiled as the engine compiles it."""
    from vidagent.models.ort_session import OpenVinoSession

    sess = OpenVinoSession(path, threads, "fp32", extra={"PERF_COUNT": True}, cache=False)
    stages: Counter = Counter()
    ops: Counter = Counter()
    for _ in range(calls):
        sess.run(None, {i.name: feed[i.name] for i in sess.get_inputs()})
        for p in sess.request.get_profiling_info():
            t = p.real_time.total_seconds() / calls
            stages[stage_of(p.node_name)] += t
            ops[f"{p.node_type} ({p.exec_type})"] += t
    total = sum(stages.values())
    return {
        "total_s": round(total, 3),
        "stages": {k: [round(v, 3), f"{100 * v / total:.1f}%"] for k, v in stages.most_common()},
        "op_types": {k: [round(v, 3), f"{100 * v / total:.1f}%"] for k, v in ops.most_common(12)},
    }


def runner(path, threads: int):
    """The engine's OpenVINO session of ``path`` as ``run(feed) -> (logits, pred_boxes)``
    (compiled here, not loaded from OpenVINO's cache: compile seconds compare)."""
    from vidagent.models.ort_session import OpenVinoSession

    sess = OpenVinoSession(path, threads, "fp32", cache=False)
    names = {i.name for i in sess.get_inputs()}
    return lambda feed: sess.run(None, {k: v for k, v in feed.items() if k in names})


def python_side(det, image) -> dict:
    """Seconds of the Python work around a call: the processor (means of 5), the text features
    of a new caption (BERT) and of the same caption again (the per-caption cache)."""
    import torch

    from vidagent.models.accel_gdino import cache_text_features, pad_tokens, text_inputs

    t = time.perf_counter()
    for _ in range(5):
        inputs = det.preprocess(image, CAPTION)
    res = {"preprocess_s": round((time.perf_counter() - t) / 5, 4)}
    cache_text_features(det.model)
    ids, am, tt = pad_tokens(inputs["input_ids"], inputs["attention_mask"],
                             inputs["token_type_ids"], 32, 256)  # fmt: skip
    for k in ("text_features_first_s", "text_features_cached_s"):
        with torch.inference_mode():
            t = time.perf_counter()
            text_inputs(det.model, ids, am, tt)
            res[k] = round(time.perf_counter() - t, 4)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--against", help="another ONNX export of the same model, timed beside it")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import torch

    from vidagent.bench import full_size_models
    from vidagent.models.accel_gdino import OrtGroundingDino
    from vidagent.models.export_cache import module_digest

    threads = torch.get_num_threads()
    det = full_size_models().detector(384, 640)
    image = frame()
    t = time.perf_counter()
    feed_t, ref_logits, ref_boxes = dino_reference(det, image, CAPTION)  # BERT runs here, once
    res = {"threads": threads, "load_before": [round(x, 2) for x in os.getloadavg()],
           "reference_with_text_features_s": round(time.perf_counter() - t, 3)}
    res.update(python_side(det, image))
    engine = OrtGroundingDino(det.model, module_digest(det.model), runtime="openvino")
    engine(**det.preprocess(image, CAPTION))  # exports on first use
    graphs = {"current": next(iter(engine.paths.values()))}
    if args.against:
        graphs["against"] = args.against
    feed = {k: np.ascontiguousarray(v.numpy()) for k, v in feed_t.items()}
    runs = {}
    for k, path in graphs.items():
        res[f"{k}_file"] = str(path)
        t = time.perf_counter()
        runs[k] = runner(path, threads)
        res[f"{k}_compile_s"] = round(time.perf_counter() - t, 2)
        res[f"{k}_parity"] = dino_parity(det, image, PHRASES, runs[k], feed_t, ref_logits,
                                         ref_boxes, 0.5)  # fmt: skip
        res[f"{k}_profile"] = op_profile(path, threads, feed)
    outs = {k: run(feed) for k, run in runs.items()}  # (also the warm-up call)
    if "against" in outs:  # the two graphs query by query (no PyTorch top-k tie in between)
        (la, ba), (lb, bb) = outs["current"], outs["against"]
        h, w = image.shape[:2]
        fin = np.isfinite(la) & np.isfinite(lb)
        res["current_vs_against"] = {
            "box_max_px_diff": float((np.abs(ba - bb) * np.array([w, h, w, h])).max()),
            "logits_max_abs_diff": float(np.abs(la[fin] - lb[fin]).max()),
            "same_masked_logits": bool((np.isfinite(la) == np.isfinite(lb)).all()),
        }
    res["speed"] = interleaved({k: (lambda r=r: r(feed)) for k, r in runs.items()}, args.rounds)
    res["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report(res, args.json)


if __name__ == "__main__":
    main()
