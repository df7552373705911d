"""Interfaces every model backend implements. The tracker and pipeline code against these only.

Images are HWC uint8 RGB numpy arrays at their original size; boxes are XYXY float pixels of
that size; masks are (N, H, W) bool at that size. Backends resize internally and map back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np

from vidagent.types import Detections


def check_rgb_image(image: np.ndarray) -> np.ndarray:
    """``image`` as a contiguous HxWx3 uint8 RGB array; ValueError naming the shape otherwise."""
    image = np.ascontiguousarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"set_image expects an HxWx3 uint8 RGB image, got {image.shape} {image.dtype}")
    return image


class Detector(ABC):
    """Open-vocabulary detector: an image and noun phrases in, boxes per phrase out."""

    @abstractmethod
    def detect(
        self,
        image: np.ndarray,
        phrases: Sequence[str],
        box_threshold: float | None = None,
        text_threshold: float | None = None,
        max_boxes: int | None = None,
    ) -> Detections:
        """Detect ``phrases`` in ``image`` (HWC uint8 RGB).

        Returns Detections with XYXY boxes in original pixels, scores, and ``labels`` set to the
        phrase (one of ``phrases``, verbatim) each box belongs to; no masks. Thresholds and the
        cap default to the backend's configuration.
        """


class Segmenter(ABC):
    """Promptable segmenter (SAM family): set an image once, then prompt it many times."""

    box_multimask: bool = False  # what ``multimask=None`` means for box-only prompts

    def resolve_multimask(self, multimask: bool | None, points) -> bool:
        """``multimask`` itself, or the default for these prompts when it is None."""
        if multimask is not None:
            return bool(multimask)
        return True if points is not None else bool(self.box_multimask)

    @abstractmethod
    def set_image(self, image: np.ndarray) -> None:
        """Compute and cache the embedding of ``image`` (HWC uint8 RGB)."""

    # True where ``embed`` and ``set_embedding`` are implemented
    can_embed: bool = False

    def embed(self, image: np.ndarray) -> object:
        """The embedding ``set_image(image)`` would cache, computed without setting it (so in
        another thread while ``predict`` runs on the image set); ``set_embedding`` sets it.

        Raises:
            NotImplementedError: the segmenter has only ``set_image`` (``can_embed`` False).
        """
        raise NotImplementedError(f"{type(self).__name__} has no embed()")

    def set_embedding(self, embedding: object) -> None:
        """Make an ``embed`` result the image set, as ``set_image`` of its image does."""
        raise NotImplementedError(f"{type(self).__name__} has no set_embedding()")

    @abstractmethod
    def predict(
        self,
        boxes: np.ndarray | None = None,
        points: np.ndarray | None = None,
        point_labels: np.ndarray | None = None,
        multimask: bool | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Masks for N prompts decoded in one batch.

        Args:
            boxes: (N, 4) XYXY pixels of the image given to ``set_image``.
            points: (N, P, 2) XY pixels; point_labels: (N, P) 1 = foreground, 0 = background.
            multimask: decode three masks per prompt and keep the best by predicted quality
                (True) or the single-mask output (False); None: the segmenter's setting for box
                prompts (``box_multimask``, a profile setting) and three masks for point prompts
                (a single point is ambiguous).

        Returns:
            masks (N, H, W) bool and quality scores (N,) float32.

        Raises:
            RuntimeError naming ``set_image`` when called before it.
        """

    @property
    @abstractmethod
    def is_image_set(self) -> bool:
        """True once ``set_image`` has been called."""
