"""Choosing the runtime of the image models: eager PyTorch, ONNX Runtime or OpenVINO.

``accelerate_detector(detector, runtime, weights)`` and ``accelerate_segmenter(...)`` take a model
built by the registry and, for ``runtime="onnxruntime"`` or ``"openvino"``, give it an engine
exported from the same weights (Grounding DINO's image and fusion network; SAM's image encoder)
as one ONNX file, which either runtime reads. Whatever fails -- the package not installed, an
export the exporter refuses, a session that will not load, a run that raises -- leaves the model
on PyTorch with one warning (OpenVINO missing or failing to compile: ONNX Runtime, when it is
there). In fp32 results never depend on which runtime ran beyond float tolerance (see the parity
tests). Other precisions trade that for speed, within the parity tolerances of their tests:
``precision="bf16"`` (OpenVINO only, on CPUs with bf16 instructions; fp32 elsewhere) computes in
bfloat16 (``scripts/openvino_speed.py``); ``precision="int8"`` (ONNX Runtime, SAM only) runs the
export with its matrix products' weights in int8 (``vidagent.models.quantize``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from vidagent.models.base import Detector, Segmenter

log = logging.getLogger(__name__)

Runtime = Literal["torch", "onnxruntime", "openvino"]
RUNTIMES: tuple[str, ...] = ("torch", "onnxruntime", "openvino")


def onnxruntime_available() -> bool:
    try:
        import onnx  # noqa: F401  (the exporter writes through it)
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def openvino_available() -> bool:
    try:
        import onnx  # noqa: F401  (the exporter writes through it)
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def _check(runtime: str, precision: str = "fp32") -> str | None:
    """The runtime that will run the engine for ``runtime`` ("onnxruntime" or "openvino"), or
    None: PyTorch (asked for, or nothing else installed)."""
    from vidagent.models.quantize import check_precision

    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; one of {', '.join(RUNTIMES)}")
    check_precision(precision)
    if precision == "bf16" and runtime != "openvino":
        log.warning("precision bf16 needs runtime openvino; %s runs fp32", runtime)
    if precision == "int8" and runtime == "torch":
        log.warning("segmenter precision int8 needs runtime onnxruntime; PyTorch runs fp32")
    if runtime == "torch":
        return None
    if runtime == "openvino":
        if openvino_available():
            return runtime
        log.warning("openvino is not installed; ONNX Runtime runs the image models")
    if not onnxruntime_available():
        log.warning("onnxruntime is not installed; the image models run on PyTorch")
        return None
    return "onnxruntime"


def accelerate_detector(
    detector: Detector,
    runtime: str,
    weights: list[Path] | str,
    device: str = "cpu",
    precision: str = "fp32",
) -> Detector:
    """``detector`` with its text features cached per caption and, for ``onnxruntime`` or
    ``openvino`` on CPU, an engine of that runtime in ``precision`` (transformers Grounding DINO
    only; other detectors are returned as they are)."""
    from vidagent.models.accel_gdino import OrtGroundingDino, cache_text_features
    from vidagent.models.detector_hf import HFGroundingDino

    if not isinstance(detector, HFGroundingDino):
        return detector
    cache_text_features(detector.model)
    use = _check(runtime, precision)
    if precision == "int8":
        log.warning("precision int8 is the segmenter's only; Grounding DINO runs fp32")
        precision = "fp32"
    if use is None or device != "cpu":
        return detector
    try:
        detector.engine = OrtGroundingDino(detector.model, weights, runtime=use,
                                           precision=precision)  # fmt: skip
    except Exception as e:  # any export or session failure: stay on PyTorch
        log.warning("Grounding DINO stays on PyTorch: %s set-up failed (%s: %s)",
                    use, type(e).__name__, e)  # fmt: skip
    return detector


def accelerate_segmenter(
    segmenter: Segmenter,
    runtime: str,
    weights: list[Path] | str,
    device: str = "cpu",
    precision: str = "fp32",
) -> Segmenter:
    """``segmenter`` with, for ``onnxruntime`` or ``openvino`` on CPU, its image encoder run by
    that runtime in ``precision`` ("fp32", "bf16" or "int8"; segment_anything SAM only; other
    segmenters are returned as they are).

    "bf16" where OpenVINO cannot compute in bf16 (no bf16 instructions, or no OpenVINO) is "int8"
    on ONNX Runtime: the encoder's other precision within tolerance (fp32 would be ~2x slower)."""
    from vidagent.models.accel_sam import OrtSamImageEncoder
    from vidagent.models.ort_session import openvino_bf16_supported
    from vidagent.models.segmenter_sam import SamSegmenter

    use = _check(runtime, precision)
    if not isinstance(segmenter, SamSegmenter) or use is None or device != "cpu":
        return segmenter
    if precision == "bf16" and not (use == "openvino" and openvino_bf16_supported()):
        log.info("no bf16 for OpenVINO here: SAM's image encoder runs int8 on ONNX Runtime")
        use, precision = "onnxruntime", "int8"
    try:
        segmenter.model.image_encoder = OrtSamImageEncoder(
            segmenter.model.image_encoder, weights, runtime=use, precision=precision
        )
    except Exception as e:
        log.warning("SAM image encoder stays on PyTorch: %s set-up failed (%s: %s)",
                    use, type(e).__name__, e)  # fmt: skip
    return segmenter
