"""SAM's ViT image encoder on ONNX Runtime, exported from the loaded PyTorch encoder.

:class:`OrtSamImageEncoder` stands in for ``sam.image_encoder``: same input (1, 3, S, S) float,
same output (1, C, S/16, S/16), same ``img_size``; it keeps the PyTorch encoder and falls back to
it for good if a run raises. The prompt encoder and mask decoder stay on PyTorch (milliseconds).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from vidagent.models.export_cache import cached_export, digest_of, runtime_tag

log = logging.getLogger(__name__)


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
    """``sam.image_encoder`` run by ONNX Runtime.

    Args:
        encoder: the loaded ``ImageEncoderViT`` (exported once, kept for the fallback).
        weights: the checkpoint file(s) it was loaded from (their hash keys the export cache), or
            a digest (``export_cache.module_digest``) of a model built in memory.
    """

    def __init__(self, encoder: torch.nn.Module, weights: list[Path] | str) -> None:
        from vidagent.models.ort_session import make_session

        super().__init__()
        self.img_size = int(encoder.img_size)
        self.torch_encoder = encoder
        dims = f"{self.img_size}-w{encoder.patch_embed.proj.out_channels}"
        name = f"sam-encoder-{digest_of(weights)}-{dims}-{runtime_tag()}"
        path = cached_export(name, lambda p: export_encoder(encoder, self.img_size, p))
        self.session = make_session(path, torch.get_num_threads())
        self.ort_calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.session is not None:
            try:
                arr = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
                out = self.session.run(None, {"image": arr})[0]
                self.ort_calls += 1
                return torch.from_numpy(out).to(x.device)
            except Exception as e:
                log.warning("SAM image encoder: ONNX Runtime failed (%s: %s); back to PyTorch",
                            type(e).__name__, e)
                self.session = None
        return self.torch_encoder(x)
