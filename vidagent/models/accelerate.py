"""Choosing the runtime of the image models: eager PyTorch or ONNX Runtime.

``accelerate_detector(detector, runtime, weights)`` and ``accelerate_segmenter(...)`` take a model
built by the registry and, for ``runtime="onnxruntime"``, give it an ONNX Runtime engine exported
from the same weights (Grounding DINO's image and fusion network; SAM's image encoder). Whatever
fails -- onnxruntime not installed, an export the exporter refuses, a session that will not load,
a run that raises -- leaves the model on PyTorch with one warning; results never depend on which
runtime ran beyond float tolerance (see the parity tests). ``precision="int8"`` (ONNX Runtime
only) runs the export with its matrix products' weights in int8 (``vidagent.models.quantize``):
results then differ from PyTorch within the int8 parity tolerances of the tests, not float ones.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from vidagent.models.base import Detector, Segmenter

log = logging.getLogger(__name__)

Runtime = Literal["torch", "onnxruntime"]
RUNTIMES: tuple[str, ...] = ("torch", "onnxruntime")


def onnxruntime_available() -> bool:
    try:
        import onnx  # noqa: F401  (the exporter writes through it)
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def _check(runtime: str) -> bool:
    """True when ``runtime`` asks for ONNX Runtime and it can be used."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; one of {', '.join(RUNTIMES)}")
    if runtime == "torch":
        return False
    if not onnxruntime_available():
        log.warning("onnxruntime is not installed; the image models run on PyTorch")
        return False
    return True


def accelerate_detector(
    detector: Detector, runtime: str, weights: list[Path] | str, device: str = "cpu"
) -> Detector:
    """``detector`` with its text features cached per caption and, for ``onnxruntime`` on CPU, an
    ONNX Runtime engine (transformers Grounding DINO only; other detectors are returned as
    they are)."""
    from vidagent.models.accel_gdino import OrtGroundingDino, cache_text_features
    from vidagent.models.detector_hf import HFGroundingDino

    if not isinstance(detector, HFGroundingDino):
        return detector
    cache_text_features(detector.model)
    if not _check(runtime) or device != "cpu":
        return detector
    try:
        detector.engine = OrtGroundingDino(detector.model, weights)
    except Exception as e:  # any export or session failure: stay on PyTorch
        log.warning("Grounding DINO stays on PyTorch: ONNX Runtime set-up failed (%s: %s)",
                    type(e).__name__, e)
    return detector


def accelerate_segmenter(
    segmenter: Segmenter,
    runtime: str,
    weights: list[Path] | str,
    device: str = "cpu",
    precision: str = "fp32",
) -> Segmenter:
    """``segmenter`` with, for ``onnxruntime`` on CPU, its image encoder run by ONNX Runtime in
    ``precision`` ("fp32" or "int8"; segment_anything SAM only; other segmenters are returned as
    they are). "int8" with ``runtime="torch"`` is ignored (PyTorch runs fp32) with a warning."""
    from vidagent.models.accel_sam import OrtSamImageEncoder
    from vidagent.models.quantize import check_precision
    from vidagent.models.segmenter_sam import SamSegmenter

    check_precision(precision)
    if precision != "fp32" and runtime == "torch":
        log.warning("segmenter precision %s needs runtime onnxruntime; PyTorch runs fp32",
                    precision)
    if not isinstance(segmenter, SamSegmenter) or not _check(runtime) or device != "cpu":
        return segmenter
    try:
        segmenter.model.image_encoder = OrtSamImageEncoder(
            segmenter.model.image_encoder, weights, precision
        )
    except Exception as e:
        log.warning("SAM image encoder stays on PyTorch: ONNX Runtime set-up failed (%s: %s)",
                    type(e).__name__, e)
    return segmenter
