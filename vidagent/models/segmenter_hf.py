"""transformers' SAM family (``SamModel``, ``SamHQModel``, the image side of ``Sam2Model``) as a
:class:`Segmenter`, loaded by hub id or local folder.

The image runs at the model's own input size (1024 for the released checkpoints); the
reduced-resolution option of the ``cpu`` profile is offered by the ``segment_anything`` backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidagent.models.base import Segmenter, check_rgb_image
from vidagent.models.weights import from_pretrained_strict


class HFSamSegmenter(Segmenter):
    """Promptable segmenter on transformers' SAM models.

    Args:
        model: ``SamModel`` / ``SamHQModel`` / ``Sam2Model`` in eval mode.
        processor: its processor (``SamProcessor`` / ``SamHQProcessor`` / ``Sam2Processor``).
        device: torch device string.
        max_batch: prompts decoded per mask-decoder call (bounds memory; results identical).
    """

    def __init__(
        self, model, processor, device: str = "cpu", max_batch: int = 32,
        box_multimask: bool = False,
    ) -> None:
        self.box_multimask = bool(box_multimask)
        self.model = model.eval().to(device)
        self.processor = processor
        self.device = device
        self.max_batch = max_batch
        self.kind = getattr(model.config, "model_type", "sam")  # "sam" | "sam_hq" | "sam2"
        self._image: np.ndarray | None = None
        self._embedding = None
        self._sizes: dict = {}

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str = "cpu", box_multimask: bool = False
    ) -> HFSamSegmenter:
        """Load model and processor from a local folder (hub snapshot or ``save_pretrained``)."""
        from transformers import AutoConfig, AutoProcessor, SamHQModel, SamModel

        mtype = AutoConfig.from_pretrained(str(path)).model_type
        if mtype == "sam":
            cls_ = SamModel
        elif mtype == "sam_hq":
            cls_ = SamHQModel
        elif mtype == "sam2":
            from transformers import Sam2Model as cls_
        else:
            raise ValueError(f"{path} holds a {mtype!r} model, not SAM / SAM-HQ / SAM 2")
        model = from_pretrained_strict(cls_, path, what=f"{mtype} {path}")
        return cls(
            model, AutoProcessor.from_pretrained(str(path)), device=device,
            box_multimask=box_multimask,
        )

    @property
    def is_image_set(self) -> bool:
        return self._embedding is not None

    can_embed = True

    def set_image(self, image: np.ndarray) -> None:
        """Embed ``image`` (HWC uint8 RGB) once; later :meth:`predict` calls reuse it."""
        self.set_embedding(self.embed(image))

    def embed(self, image: np.ndarray) -> tuple:
        """See :meth:`Segmenter.embed`: (image, embedding, sizes)."""
        import torch

        image = check_rgb_image(image)
        enc = self.processor(images=image, return_tensors="pt")
        with torch.inference_mode():
            embedding = self.model.get_image_embeddings(enc["pixel_values"].to(self.device))
        sizes = {k: enc[k] for k in ("original_sizes", "reshaped_input_sizes") if k in enc}
        return image, embedding, sizes

    def set_embedding(self, embedding: tuple) -> None:
        self._image, self._embedding, self._sizes = embedding

    def reset_image(self) -> None:
        self._image, self._embedding, self._sizes = None, None, {}

    def _embedding_kwargs(self) -> dict:
        if self.kind == "sam_hq":
            emb, inter = self._embedding
            return {"image_embeddings": emb, "intermediate_embeddings": inter}
        return {"image_embeddings": self._embedding}

    def predict(
        self,
        boxes: np.ndarray | None = None,
        points: np.ndarray | None = None,
        point_labels: np.ndarray | None = None,
        multimask: bool | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Masks for N prompts in batches; best of three by predicted IoU when ``multimask``
        (None: ``box_multimask`` for box prompts, three masks for point prompts)."""
        import torch

        multimask = self.resolve_multimask(multimask, points)
        from vidagent.models.segmenter_sam import _num_prompts

        if self._embedding is None:
            raise RuntimeError("An image must be set with set_image(...) before predict(...)")
        n = _num_prompts(boxes, points, point_labels)
        h, w = self._image.shape[:2]
        if n == 0:
            return np.zeros((0, h, w), dtype=bool), np.zeros(0, dtype=np.float32)
        masks_out, scores_out = [], []
        for s in range(0, n, self.max_batch):
            sl = slice(s, min(n, s + self.max_batch))
            kw = {}
            if boxes is not None:
                kw["input_boxes"] = [np.asarray(boxes, dtype=np.float32)[sl].tolist()]
            if points is not None:
                kw["input_points"] = [np.asarray(points, dtype=np.float32)[sl].tolist()]
                kw["input_labels"] = [np.asarray(point_labels)[sl].astype(int).tolist()]
            enc = self.processor(images=self._image, return_tensors="pt", **kw)
            inputs = {
                k: enc[k].to(self.device)
                for k in ("input_boxes", "input_points", "input_labels")
                if k in enc
            }
            with torch.inference_mode():
                out = self.model(**inputs, **self._embedding_kwargs(), multimask_output=multimask)
            low, iou = out.pred_masks[0], out.iou_scores[0]  # (k, M, h, w), (k, M)
            best = iou.argmax(dim=1)
            rows = torch.arange(len(best), device=best.device)
            low, q = low[rows, best][:, None], iou[rows, best]
            sizes = [
                self._sizes[k]
                for k in ("original_sizes", "reshaped_input_sizes")
                if k in self._sizes
            ]
            m = self.processor.post_process_masks(low[None].cpu(), *sizes)[0]  # (k, 1, H, W) bool
            masks_out.append(np.asarray(m[:, 0], dtype=bool))
            scores_out.append(q.float().cpu().numpy())
        return np.concatenate(masks_out), np.concatenate(scores_out).astype(np.float32)
