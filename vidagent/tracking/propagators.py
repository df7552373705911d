"""Propagation engines: they refine the tracked masks on the tracker's key frames.

The tracker moves masks from frame to frame with optical flow (``flow.py``) and, on every key
frame (each ``stride``-th frame and every detection frame), hands the flow-moved label map to a
propagator, which returns the label map it believes in:

- ``SamFlowPropagator``: the frame is segmented by a ``Segmenter`` (SAM) prompted with the box
  of each flow-carried mask; a SAM mask that disagrees with the flow mask is not trusted.
- ``Sam2VideoPropagator`` (``sam2_video.py``): SAM 2.1 / EdgeTAM video models through
  transformers, in a streaming session with windowed memory.

Label maps are (H, W) uint16 holding the tracker's internal track ids (0 = background).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from vidagent.models.base import Segmenter
from vidagent.tracking.labels import fuse_masks, mask_box, paint


def set_frame(segmenter: Segmenter, frame: np.ndarray, embedding: object = None) -> None:
    """``segmenter.set_image(frame)``, or ``set_embedding`` of its ``embedding`` computed ahead."""
    if embedding is None:
        segmenter.set_image(frame)
    else:
        segmenter.set_embedding(embedding)


class Propagator(ABC):
    """Per-video engine state; ``reset`` before a video, then ``step`` on each key frame."""

    uses_model = True  # its key frames bring new evidence (the tracker interpolates to them)

    def reset(self, height: int, width: int) -> None:
        """Forget every object; the next video has frames of (height, width)."""

    @abstractmethod
    def step(
        self,
        index: int,
        frame: np.ndarray,
        labels: np.ndarray,
        seeds: dict[int, np.ndarray],
    ) -> np.ndarray:
        """Label map of key frame ``index``.

        Args:
            frame: HWC uint8 RGB at original size.
            labels: (H, W) uint16, the flow-carried label map, with ``seeds`` already painted.
            seeds: id -> (H, W) bool masks given on this frame (new objects, detections that
                corrected a track); engines condition on them and keep them.

        Returns:
            (H, W) uint16 label map.
        """

    def remove(self, ids: list[int]) -> None:
        """Stop tracking ``ids`` (deleted or lost tracks)."""

    def segmenter_image(self, segmenter: Segmenter, index: int, frame: np.ndarray,
                        embedding: object = None) -> None:  # fmt: skip
        """Set frame ``index`` on the tracker's ``segmenter`` (to segment its detections);
        ``embedding``: ``segmenter.embed(frame)``, computed ahead (None: embed it now)."""
        set_frame(segmenter, frame, embedding)


class FlowOnlyPropagator(Propagator):
    """No model: the flow-carried masks are final (used when no segmenter is available)."""

    uses_model = False

    def step(self, index, frame, labels, seeds):
        return labels


class SamFlowPropagator(Propagator):
    """SAM prompted from the previous masks carried forward by optical flow.

    On a key frame: ``segmenter.set_image(frame)`` once, then one batched ``predict`` with the
    box of every flow-carried mask that is not a seed. Where SAM and flow agree (IoU at least
    ``fuse_iou``) the two are blended by signed distance (``weight`` on SAM), so per-frame
    segmentation noise averages out; where they differ more but still overlap (IoU at least
    ``accept_iou``) SAM's mask is taken (the object changed); otherwise the flow mask is kept
    (a box prompt that landed on something else, an object going out of sight).
    """

    def __init__(
        self,
        segmenter: Segmenter,
        accept_iou: float = 0.3,
        min_area: int = 16,
        fuse_iou: float = 0.65,
        weight: float = 0.5,
    ) -> None:
        self.segmenter = segmenter
        self.accept_iou = float(accept_iou)
        self.fuse_iou = float(fuse_iou)
        self.weight = float(weight)
        self.min_area = int(min_area)
        self.image_index: int | None = None  # frame whose embedding the segmenter holds

    def reset(self, height: int, width: int) -> None:
        self.image_index = None

    def set_image(self, index: int, frame: np.ndarray, embedding: object = None) -> None:
        """Embed ``frame`` unless it is the one already set (detection and refinement share it);
        ``embedding``: its embedding computed ahead."""
        if self.image_index != index or not self.segmenter.is_image_set:
            set_frame(self.segmenter, frame, embedding)
            self.image_index = index

    def segmenter_image(self, segmenter, index, frame, embedding=None):
        if segmenter is self.segmenter:
            self.set_image(index, frame, embedding)  # the key frame's refinement re-uses it
        else:
            set_frame(segmenter, frame, embedding)

    def step(self, index, frame, labels, seeds):
        ids, boxes, flow_masks = [], [], []
        for i in np.unique(labels):
            i = int(i)
            if i == 0 or i in seeds:
                continue
            m = labels == i
            if m.sum() < self.min_area:
                continue
            ids.append(i)
            boxes.append(mask_box(m))
            flow_masks.append(m)
        if not ids:
            return labels
        self.set_image(index, frame)
        masks, _ = self.segmenter.predict(boxes=np.stack(boxes))  # the profile's box setting
        accepted = {}
        for i, fm, sm in zip(ids, flow_masks, masks):
            inter = np.logical_and(fm, sm).sum()
            union = np.logical_or(fm, sm).sum()
            iou = inter / union if union else 0.0
            if iou >= self.fuse_iou:
                accepted[i] = fuse_masks(fm, sm, self.weight)
            else:
                accepted[i] = sm if iou >= self.accept_iou else fm
        out = paint(labels, accepted)
        # seeds are kept as given: repaint them on top
        return paint(out, seeds) if seeds else out


def flow_propagator(segmenter: Segmenter | None, config) -> Propagator:
    """The flow engine's propagator: SAM from flow-carried boxes with a segmenter, else flow
    only. ``config`` is the tracker's ``TrackerConfig``."""
    if segmenter is None:
        return FlowOnlyPropagator()
    return SamFlowPropagator(
        segmenter, config.sam_accept_iou, config.min_area, config.fuse_min_iou, config.det_weight
    )
