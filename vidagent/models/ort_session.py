"""Sessions of the exported image models (the engines of ``accel_gdino`` and ``accel_sam``): ONNX
Runtime, or OpenVINO reading the same ONNX file behind ONNX Runtime's session interface."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np

log = logging.getLogger(__name__)

OPENVINO_CACHE = "openvino-cache"  # folder of OpenVINO's compiled models, beside the ONNX file
# ONNX Runtime's intra-op threads sleep between a graph's parallel sections instead of spinning:
# the engines run in the keyframe worker beside the tracker's threads on 2 cores, and a spinning
# thread burns the CPU they need (full-size SAM ViT-B 512 int8 encoder, 2 threads, interleaved,
# load ~12: 1.70 -> 1.27 CPU s per call, the same outputs bit for bit; scripts/engine_options.py)
SPIN = False


def make_session(path: Path, threads: int | None = None):
    """An ONNX Runtime CPU session of ``path`` with every graph optimisation on (intra-op threads
    spinning only where ``SPIN``)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3  # errors only
    if threads:
        so.intra_op_num_threads = int(threads)
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if SPIN else "0")
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def openvino_bf16_supported() -> bool:
    """Whether OpenVINO's CPU plugin computes in bf16 on this machine (AVX512-BF16 or AMX)."""
    try:
        import openvino as ov

        return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:
        return False


class OpenVinoSession:
    """The ONNX file at ``path`` compiled by OpenVINO for the CPU, with the ``run`` and
    ``get_inputs`` of an ONNX Runtime session (what the engines call).

    Args:
        precision: "fp32", or "bf16" (``INFERENCE_PRECISION_HINT``; fp32 where the CPU has no
            bf16, see :func:`openvino_bf16_supported`).
        threads: inference threads (None: OpenVINO's choice).
        extra: more properties of the compiled model (e.g. ``{"PERF_COUNT": True}``).
        cache: keep the compiled model in ``OPENVINO_CACHE`` beside ``path`` (OpenVINO's
            ``CACHE_DIR``), and load it from there when it is already compiled.
    """

    def __init__(self, path: Path, threads: int | None = None, precision: str = "fp32",
                 extra: dict | None = None, cache: bool = True) -> None:  # fmt: skip
        import openvino as ov

        if precision == "bf16" and not openvino_bf16_supported():
            log.info("this CPU has no bf16: OpenVINO runs %s in fp32", Path(path).parent.name)
            precision = "fp32"
        if precision != "bf16":
            precision = "fp32"
        self.precision = precision
        config = {
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        if cache:
            # the compiled model kept beside the export: a later process loads it instead of
            # compiling again (keyed by OpenVINO on the model, its properties and the CPU)
            config["CACHE_DIR"] = str(Path(path).parent / OPENVINO_CACHE)
        config.update(extra or {})
        core = ov.Core()
        model = core.read_model(str(path))
        # an input tensor can carry several names (OpenVINO merges a graph input with the output
        # of a no-op on it): the ONNX input name is the one that is also in the file's inputs
        onnx_names = {i.get_any_name(): set(i.get_names()) for i in model.inputs}
        try:
            self.compiled = core.compile_model(model, "CPU", config)
        except RuntimeError as e:
            if "CACHE_DIR" not in config:
                raise
            # a cache folder that cannot be made (read-only home, full disk): compile without it
            # rather than leave the model to the slower ONNX Runtime
            log.warning("OpenVINO cannot keep its compiled model in %s (%s); compiling without "
                        "the cache", config["CACHE_DIR"], str(e).strip().splitlines()[-1])
            del config["CACHE_DIR"]
            self.compiled = core.compile_model(model, "CPU", config)
        self.request = self.compiled.create_infer_request()
        self._names = []
        for port in self.compiled.inputs:
            names = port.get_names()
            match = [n for n, alias in onnx_names.items() if n in names or alias & names]
            self._names.append(match[0] if match else port.get_any_name())
        self._inputs = [SimpleNamespace(name=n) for n in self._names]
        self._lock = threading.Lock()  # one infer request: one call at a time

    def get_inputs(self) -> list:
        return self._inputs

    def run(self, output_names, feed: dict) -> list[np.ndarray]:
        missing = [n for n in self._names if n not in feed]
        if missing:
            raise ValueError(f"inputs missing: {missing}")
        with self._lock:
            res = self.request.infer({i: feed[n] for i, n in enumerate(self._names)})
            # copies: the request's output buffers are overwritten by its next call
            return [np.array(res[o], copy=True) for o in self.compiled.outputs]


def open_session(path: Path, runtime: str, threads: int | None = None, precision: str = "fp32"):
    """A session of ``path`` for ``runtime`` ("onnxruntime" or "openvino"). OpenVINO that fails to
    compile the file leaves it to ONNX Runtime, with a warning; ONNX Runtime's errors propagate
    (the caller stays on PyTorch)."""
    if runtime == "openvino":
        try:
            return OpenVinoSession(path, threads, precision)
        except Exception as e:
            log.warning("OpenVINO could not compile %s (%s: %s); ONNX Runtime runs it",
                        Path(path).parent.name, type(e).__name__, e)
    return make_session(path, threads)


def session_runtime(session) -> str:
    """"openvino" or "onnxruntime": which runtime ``session`` is (for messages and tests)."""
    return "openvino" if isinstance(session, OpenVinoSession) else "onnxruntime"
