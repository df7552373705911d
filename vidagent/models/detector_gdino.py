"""Grounding DINO through the original code (``groundingdino-py``, the ``groundingdino`` extra)
with the original checkpoints (``groundingdino_swint_ogc.pth`` + its ``.py`` config).

The model is built by the package itself (see :mod:`vidagent.models.gdino_compat` for the
transformers-5 fixes) and its weights are loaded strictly from the ``.pth`` (read with
``weights_only=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vidagent.errors import InputError
from vidagent.models.base import Detector
from vidagent.models.phrases import Caption, clean_phrases, group_phrases, nms_and_cap, select_boxes
from vidagent.models.weights import load_strict, read_state_dict
from vidagent.types import Detections

# keys the released checkpoints carry that the inference model does not have: the label
# embedding of denoising training (built only when dn_number > 0) and a BERT buffer that
# transformers stopped saving; the original loader drops them too (it loads with strict=False)
GDINO_IGNORED_KEYS = ("label_enc.weight", "bert.embeddings.position_ids")


def require_groundingdino() -> None:
    """Raise InputError with the install command when groundingdino-py is missing."""
    try:
        import groundingdino  # noqa: F401
    except ImportError as e:
        raise InputError(
            "the 'groundingdino' detector backend needs groundingdino-py; "
            "install it with: pip install 'vidagent[groundingdino]'"
        ) from e


def default_config(name: str = "GroundingDINO_SwinT_OGC.py") -> Path:
    """Path of a model config shipped inside the groundingdino package."""
    require_groundingdino()
    import groundingdino

    return Path(groundingdino.__file__).parent / "config" / name


def load_groundingdino(
    checkpoint: str | Path,
    config: str | Path | None,
    text_encoder_dir: str | Path,
    **overrides,
):
    """The original ``GroundingDINO`` with ``checkpoint``'s weights, strictly.

    Args:
        checkpoint: ``.pth`` (a dict with ``"model"``) or ``.safetensors`` state dict.
        config: the model's ``.py`` config; None = SwinT-OGC from the package.
        text_encoder_dir: folder with the BERT tokenizer files and ``config.json``.
        overrides: config entries to replace (tests build tiny models this way).

    Raises:
        CheckpointError: listing every missing / unexpected / mis-shaped key.
    """
    require_groundingdino()
    from vidagent.models.gdino_compat import build_groundingdino

    model = build_groundingdino(config or default_config(), text_encoder_dir, **overrides)
    sd = read_state_dict(checkpoint, key="model")
    sd = {k.removeprefix("module."): v for k, v in sd.items()}
    load_strict(
        model, sd, what=f"Grounding DINO ({checkpoint})", ignore_unexpected=GDINO_IGNORED_KEYS
    )
    return model.eval()


class OriginalGroundingDino(Detector):
    """Open-vocabulary detector on the original GroundingDINO code.

    Args:
        model: a loaded ``groundingdino`` model (see :func:`load_groundingdino`).
        short_side, max_side: resize before the model (the package's ``RandomResize``).
        box_threshold, text_threshold, max_boxes, nms_iou: defaults of :meth:`detect`.
        device: torch device string.
    """

    MAX_TEXT_TOKENS = 256

    def __init__(
        self,
        model,
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
        self.short_side = int(short_side)
        self.max_side = int(max_side)
        self.box_threshold = box_threshold
        self.text_threshold = text_threshold
        self.max_boxes = max_boxes
        self.nms_iou = nms_iou
        self.device = device

    def preprocess(self, image: np.ndarray):
        """(3, h, w) float tensor: resized (short side, long side capped), ImageNet-normalised,
        exactly as ``groundingdino.util.inference.load_image`` prepares an image."""
        import groundingdino.datasets.transforms as T
        from PIL import Image

        transform = T.Compose(
            [
                T.RandomResize([self.short_side], max_size=self.max_side),
                T.ToTensor(),
                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            ]
        )
        tensor, _ = transform(Image.fromarray(image), None)
        return tensor

    def detect(
        self,
        image: np.ndarray,
        phrases: Sequence[str],
        box_threshold: float | None = None,
        text_threshold: float | None = None,
        max_boxes: int | None = None,
    ) -> Detections:
        """Boxes of ``phrases`` in ``image`` (HWC uint8 RGB); see :class:`Detector`."""
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
        tensor = self.preprocess(image).to(self.device)
        tok = self.model.tokenizer
        parts = []
        for group in group_phrases(tok, phrases, self.MAX_TEXT_TOKENS):
            caption = Caption.build(group, " . ")
            enc = tok(caption.text, return_offsets_mapping=True)
            token_phrase = caption.token_phrase(enc["offset_mapping"])
            with torch.inference_mode():
                out = self.model(tensor[None], captions=[caption.text])
            probs = out["pred_logits"][0].sigmoid().float().cpu().numpy()
            boxes = out["pred_boxes"][0].float().cpu().numpy()
            parts.append(
                select_boxes(probs, boxes, token_phrase, group, image.shape[:2], bt, tt, None, None)
            )
        return nms_and_cap(Detections.merge(parts), phrases, nms_iou=self.nms_iou, max_boxes=cap)
