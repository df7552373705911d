"""SAM's ViT image encoder on ONNX Runtime or OpenVINO, exported from the loaded PyTorch encoder.

:class:`OrtSamImageEncoder` stands in for ``sam.image_encoder``: same input (1, 3, S, S) float,
same output (1, C, S/16, S/16), same ``img_size``; it keeps the PyTorch encoder and falls back to
it for good if a run raises. The prompt encoder and mask decoder stay on PyTorch (milliseconds).

``precision="int8"`` runs a copy of the fp32 export with the weights of its matrix products in int8
(``vidagent.models.quantize``; activations quantised per call), cached beside it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from vidagent.models.export_cache import cached_export, digest_of, runtime_tag
from vidagent.models.quantize import INT8_TAG, check_precision, quantize_int8

log = logging.getLogger(__name__)

# int8 weights per output channel, in 7 bits: x86 CPUs without VNNI multiply u8 activations by s8
# weights in pairs summed into int16 (vpmaddubsw), which saturates with 8-bit weights; 7 bits
# cannot, so int8 results are the same on every x86 CPU (per-channel scales win back the bit).
# ViT-B 512 px, random weights (scripts/int8_speed.py): mask IoU against fp32 mean 0.981, min
# 0.972 (per-tensor 8-bit: 0.985, 0.980), same speed on this avx512_vnni CPU
SAM_INT8 = {"per_channel": True, "reduce_range": True}


def export_encoder(encoder: torch.nn.Module, size: int, path: Path) -> None:
    """Write ``encoder`` as ONNX for a fixed (1, 3, size, size) input."""
    with torch.inference_mode(False), torch.no_grad():
        x = torch.zeros(1, 3, size, size)
        torch.onnx.export(
            encoder,
            (x,),
            str(path),
            input_names=["image"],
            output_names=["embedding"],
            opset_version=17,
            dynamo=False,
        )


class OrtSamImageEncoder(torch.nn.Module):
    """``sam.image_encoder`` run by ONNX Runtime or OpenVINO.

    Args:
        encoder: the loaded ``ImageEncoderViT`` (exported once, kept for the fallback).
        weights: the checkpoint file(s) it was loaded from (their hash keys the export cache), or
            a digest (``export_cache.module_digest``) of a model built in memory.
        runtime: "onnxruntime" or "openvino" (which falls back to ONNX Runtime when it cannot
            compile the graph; see ``ort_session.open_session``).
        precision: "fp32", "bf16" (OpenVINO on a CPU with bf16 only) or "int8" (ONNX Runtime;
            its MatMul/Gemm weights in int8).
    """

    def __init__(self, encoder: torch.nn.Module, weights: list[Path] | str,
                 runtime: str = "onnxruntime", precision: str = "fp32") -> None:  # fmt: skip
        from vidagent.models.ort_session import open_session, session_runtime

        super().__init__()
        self.precision = check_precision(precision)
        self.img_size = int(encoder.img_size)
        self.torch_encoder = encoder
        dims = f"{self.img_size}-w{encoder.patch_embed.proj.out_channels}"
        stem = f"sam-encoder-{digest_of(weights)}-{dims}"
        path = cached_export(f"{stem}-{runtime_tag()}",
                             lambda p: export_encoder(encoder, self.img_size, p))
        if precision == "int8":
            fp32 = path
            path = cached_export(
                f"{stem}-{INT8_TAG}-{runtime_tag()}", lambda p: quantize_int8(fp32, p, **SAM_INT8)
            )
            runtime = "onnxruntime"  # the int8 file's operators are ONNX Runtime's
        self.path = path
        self.session = open_session(path, runtime, torch.get_num_threads(), precision)
        self.runtime = session_runtime(self.session)
        self.ort_calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.session is not None:
            try:
                arr = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
                out = self.session.run(None, {"image": arr})[0]
                self.ort_calls += 1
                return torch.from_numpy(out).to(x.device)
            except Exception as e:
                log.warning("SAM image encoder: %s failed (%s: %s); back to PyTorch",
                            self.runtime, type(e).__name__, e)  # fmt: skip
                self.session = None
        return self.torch_encoder(x)
