"""ONNX Runtime sessions for the exported image models (the engines of ``accel_gdino`` and
``accel_sam``)."""

from __future__ import annotations

from pathlib import Path


def make_session(path: Path, threads: int | None = None):
    """An ONNX Runtime CPU session of ``path`` with every graph optimisation on."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3  # errors only
    if threads:
        so.intra_op_num_threads = int(threads)
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
