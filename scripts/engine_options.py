"""Session options of the cpu profile's image-model engines, measured side by side: per-call wall
and CPU seconds (the process's, including runtime threads that spin after a call returns) of the
full-size random-weight Grounding DINO-T graph (OpenVINO fp32) and SAM ViT-B 512 encoder (ONNX
Runtime int8, OpenVINO fp32/bf16) under each setting, interleaved, with each setting's outputs
against the first setting's on the same inputs (ONNX Runtime sessions built here with their own
options, not ``make_session``'s).

    python scripts/engine_options.py [--only dino|sam] [--rounds 4] [--settle 0.3] [--json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from vidagent.bench.side_by_side import report


def timed(fns: dict, rounds: int, settle: float) -> dict:
    """Interleaved calls of ``fns``; each call's CPU seconds are counted until ``settle`` s after
    it returns (runtime threads spinning on after a call are charged to it)."""
    wall: dict = {k: [] for k in fns}
    cpu: dict = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            c, t = time.process_time(), time.perf_counter()
            f()
            wall[k].append(time.perf_counter() - t)
            time.sleep(settle)
            cpu[k].append(time.process_time() - c)
    return {k: {"wall_med": round(statistics.median(wall[k]), 3),
                "cpu_med": round(statistics.median(cpu[k]), 3),
                "wall": [round(x, 2) for x in wall[k]], "cpu": [round(x, 2) for x in cpu[k]]}
            for k in fns}  # fmt: skip


def ov(path, threads, precision="fp32", **extra):
    from vidagent.models.ort_session import OpenVinoSession

    s = OpenVinoSession(path, threads, precision, extra=extra or None, cache=False)
    names = {i.name for i in s.get_inputs()}
    return lambda feed: s.run(None, {k: v for k, v in feed.items() if k in names})


def ort(path, threads, **config):
    import onnxruntime as ort_

    so = ort_.SessionOptions()
    so.graph_optimization_level = ort_.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    so.intra_op_num_threads = threads
    for k, v in config.items():
        so.add_session_config_entry(k, v)
    s = ort_.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    names = {i.name for i in s.get_inputs()}
    return lambda feed: s.run(None, {k: v for k, v in feed.items() if k in names})


def export_of(prefix: str):
    from vidagent.models.export_cache import export_root

    (p,) = [p / "model.onnx" for p in export_root().iterdir()
            if p.is_dir() and p.name.startswith(prefix)]  # fmt: skip
    return p


def dino_feed():
    from vidagent.bench import full_size_models
    from vidagent.bench.side_by_side import dino_reference, frame
    from vidagent.models.export_cache import module_digest

    det = full_size_models().detector(384, 640)
    feed_t, _, _ = dino_reference(det, frame(), "ball. box.")
    feed = {k: np.ascontiguousarray(v.numpy()) for k, v in feed_t.items()}
    h, w = feed["pixel_values"].shape[-2:]
    return feed, export_of(f"gdino-{module_digest(det.model)}-{h}x{w}-t32-g2-")


SPIN = "session.intra_op.allow_spinning"  # ONNX Runtime's default: "1"
SETTINGS = {
    "dino": {
        "ov_current": lambda p, t: ov(p, t),
        "ov_1thread": lambda p, t: ov(p, 1),
        "ov_nopin": lambda p, t: ov(p, t, ENABLE_CPU_PINNING=False),
        "ov_pin": lambda p, t: ov(p, t, ENABLE_CPU_PINNING=True),
        "ov_throughput1": lambda p, t: ov(p, t, PERFORMANCE_HINT="THROUGHPUT", NUM_STREAMS=1),
        "ov_denormals": lambda p, t: ov(p, t, CPU_DENORMALS_OPTIMIZATION=True),
    },
    "sam": {
        "ort_int8_spin": lambda p, t: ort(p[1], t, **{SPIN: "1"}),
        "ort_int8_nospin": lambda p, t: ort(p[1], t, **{SPIN: "0"}),
        "ort_int8_1thread": lambda p, t: ort(p[1], 1),
        "ov_fp32": lambda p, t: ov(p[0], t),
        "ov_bf16": lambda p, t: ov(p[0], t, "bf16"),
    },
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["dino", "sam"])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--settle", type=float, default=0.3)
    ap.add_argument("--settings", help="comma-separated names (default: all)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import torch

    threads = torch.get_num_threads()
    res: dict = {"threads": threads, "load_before": [round(x, 2) for x in os.getloadavg()]}
    for model in ("dino", "sam"):
        if args.only not in (None, model):
            continue
        if model == "dino":
            feed, path = dino_feed()
        else:
            from vidagent.bench import full_size_models
            from vidagent.models.export_cache import module_digest

            enc = full_size_models().segmenter("vit_b", 512).model.image_encoder
            d = module_digest(enc)
            path = (export_of(f"sam-encoder-{d}-512-w768-torch"),
                    export_of(f"sam-encoder-{d}-512-w768-int8"))
            rng = np.random.default_rng(0)
            feed = {"image": rng.normal(size=(1, 3, 512, 512)).astype(np.float32)}
        names = [n for n in SETTINGS[model]
                 if not args.settings or n in args.settings.split(",")]  # fmt: skip
        runners = {n: SETTINGS[model][n](path, threads) for n in names}
        outs = {n: r(feed) for n, r in runners.items()}  # warm-up, and outputs
        base = outs[names[0]]
        res[f"{model}_vs_{names[0]}"] = {
            n: [float(np.abs(a - b)[np.isfinite(a - b)].max()) for a, b in zip(o, base)]
            for n, o in outs.items()}  # fmt: skip
        res[model] = timed({n: (lambda r=r: r(feed)) for n, r in runners.items()},
                           args.rounds, args.settle)
    res["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report(res, args.json)


if __name__ == "__main__":
    main()
