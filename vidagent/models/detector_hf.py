"""Grounding DINO through transformers (``GroundingDinoForObjectDetection`` and MM-Grounding-DINO).

``HFGroundingDino.from_pretrained(path)`` loads a model folder (a hub snapshot or a
``save_pretrained`` folder) strictly; ``detect`` runs one RGB frame against a list of phrases.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vidagent.models.base import Detector
from vidagent.models.phrases import Caption, clean_phrases, group_phrases, nms_and_cap, select_boxes
from vidagent.models.weights import from_pretrained_strict
from vidagent.types import Detections

MAX_TEXT_TOKENS = 256  # Grounding DINO's text length (max_text_len in its config)


class HFGroundingDino(Detector):
    """Open-vocabulary detector on transformers' Grounding DINO.

    Args:
        model: a loaded ``GroundingDinoForObjectDetection`` (or MM-Grounding-DINO) in eval mode.
        processor: its ``GroundingDinoProcessor`` (image processor + BERT tokenizer).
        short_side, max_side: the frame is resized to this short side (long side capped) before
            the model; boxes come back in original pixels.
        box_threshold, text_threshold, max_boxes, nms_iou: defaults of :meth:`detect`.
        device: torch device string.
    """

    def __init__(
        self,
        model,
        processor,
        *,
        short_side: int = 800,
        max_side: int = 1333,
        box_threshold: float = 0.35,
        text_threshold: float = 0.25,
        max_boxes: int | None = 20,
        nms_iou: float | None = 0.7,
        device: str = "cpu",
    ) -> None:
        self.model = model.eval().to(device)
        self.processor = processor
        self.short_side = int(short_side)
        self.max_side = int(max_side)
        self.box_threshold = box_threshold
        self.text_threshold = text_threshold
        self.max_boxes = max_boxes
        self.nms_iou = nms_iou
        self.device = device
        self.engine = None  # a faster runner of the model (see models.accelerate); None: PyTorch

    @classmethod
    def from_pretrained(cls, path: str | Path, **kwargs) -> HFGroundingDino:
        """Load model and processor from a local folder (hub snapshot or ``save_pretrained``)."""
        from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

        model = from_pretrained_strict(
            AutoModelForZeroShotObjectDetection, path, what=f"Grounding DINO {path}"
        )
        processor = AutoProcessor.from_pretrained(str(path))
        return cls(model, processor, **kwargs)

    def preprocess(self, image: np.ndarray, caption: str) -> dict:
        """Model inputs (pixel_values, pixel_mask, input_ids, ...) for one image and caption."""
        size = {"shortest_edge": self.short_side, "longest_edge": self.max_side}
        return self.processor(images=image, text=caption, size=size, return_tensors="pt")

    def detect(
        self,
        image: np.ndarray,
        phrases: Sequence[str],
        box_threshold: float | None = None,
        text_threshold: float | None = None,
        max_boxes: int | None = None,
    ) -> Detections:
        """Boxes of ``phrases`` in ``image`` (HWC uint8 RGB); see :class:`Detector`.

        Phrases that do not fit one caption of 256 tokens are run in several passes.
        """
        import torch

        image = np.ascontiguousarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"detect expects an HxWx3 uint8 RGB image, got {image.shape} {image.dtype}"
            )
        phrases = clean_phrases(phrases)
        bt = self.box_threshold if box_threshold is None else box_threshold
        tt = self.text_threshold if text_threshold is None else text_threshold
        cap = self.max_boxes if max_boxes is None else max_boxes
        parts = []
        for group in group_phrases(self.processor.tokenizer, phrases, MAX_TEXT_TOKENS):
            caption = Caption.build(group, ". ")
            enc = self.processor.tokenizer(caption.text, return_offsets_mapping=True)
            token_phrase = caption.token_phrase(enc["offset_mapping"])
            inputs = self.preprocess(image, caption.text)
            if inputs["input_ids"][0].tolist() != list(enc["input_ids"]):
                raise RuntimeError("tokenizer and processor disagree on the caption's tokens")
            with torch.inference_mode():
                run = self.engine or self.model
                out = run(**{k: v.to(self.device) for k, v in inputs.items()})
            probs = out.logits[0].sigmoid().float().cpu().numpy()
            boxes = out.pred_boxes[0].float().cpu().numpy()
            parts.append(
                select_boxes(probs, boxes, token_phrase, group, image.shape[:2], bt, tt, None, None)
            )
        dets = Detections.merge(parts)
        return nms_and_cap(dets, phrases, nms_iou=self.nms_iou, max_boxes=cap)
