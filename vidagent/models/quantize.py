"""int8 versions of the exported image models: ONNX Runtime dynamic quantisation of the weights of
MatMul/Gemm nodes (activations quantised per call, at run time), derived from the fp32 export.

Only matrix products with a constant weight are quantised (convolutions, attention's
activation-by-activation products, normalisations and everything else stay fp32); the nodes that
``exclude`` matches by name stay fp32 too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

# of the exported image models (models/accelerate.py): "bf16" is OpenVINO's, "int8" this module's
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "int8")
INT8_TAG = "int8q2"  # names cached int8 exports; bump when what they hold changes


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; one of {', '.join(PRECISIONS)}")
    return precision


def matmul_nodes(path: Path) -> list[str]:
    """Names of the MatMul/Gemm nodes of the ONNX file at ``path``, in graph order."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return [n.name for n in model.graph.node if n.op_type in ("MatMul", "Gemm")]


def quantize_int8(
    src: Path,
    dst: Path,
    exclude: Iterable[str] = (),
    per_channel: bool = False,
    reduce_range: bool = False,
) -> list[str]:
    """Write to ``dst`` the ONNX file ``src`` with the weights of its MatMul/Gemm nodes in int8
    (signed, symmetric), except the nodes whose name matches one of the ``exclude`` regular
    expressions. Returns the names of the nodes kept in fp32 by ``exclude``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    patterns = [re.compile(p) for p in exclude]
    kept = [n for n in matmul_nodes(src) if any(p.search(n) for p in patterns)]
    quantize_dynamic(
        str(src),
        str(dst),
        op_types_to_quantize=["MatMul", "Gemm"],
        per_channel=per_channel,
        reduce_range=reduce_range,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=kept,
        extra_options={"MatMulConstBOnly": True},
    )
    return kept
