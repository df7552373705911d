"""Result types shared by every stage of the pipeline.

``Detections`` is the one type that detectors, segmenters, the detections-file reader and the
tracker take and return (boxes, scores, labels, optional masks and ids of one frame).
``ObjectInfo`` and ``TracksMeta`` describe a tracks folder (see ``vidagent.io.tracks``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np


@dataclass
class Detections:
    """Objects found in one frame.

    Attributes:
        boxes: (N, 4) float32, XYXY in pixels of the original frame.
        scores: (N,) float32 confidences in [0, 1].
        labels: (N,) object array of str: the phrase each object belongs to.
        masks: optional (N, H, W) bool, H and W of the original frame.
        ids: optional (N,) int32 track ids (1..255); 0 means not assigned yet.
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    masks: np.ndarray | None = None
    ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        n = len(self.boxes)
        self.scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        labels = np.empty(len(self.labels), dtype=object)
        labels[:] = [str(x) for x in self.labels]
        self.labels = labels
        if len(self.scores) != n or len(self.labels) != n:
            raise ValueError(
                f"Detections: {n} boxes but {len(self.scores)} scores and {len(self.labels)} labels"
            )
        if not np.isfinite(self.boxes).all():
            raise ValueError("Detections: boxes must be finite numbers")
        if self.masks is not None:
            self.masks = np.asarray(self.masks, dtype=bool)
            if self.masks.ndim != 3 or len(self.masks) != n:
                raise ValueError(
                    f"Detections: masks must be (N, H, W) with N={n}, got {self.masks.shape}"
                )
        if self.ids is not None:
            self.ids = np.asarray(self.ids, dtype=np.int32).reshape(-1)
            if len(self.ids) != n:
                raise ValueError(f"Detections: {n} boxes but {len(self.ids)} ids")

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index: int | slice | Sequence[int] | np.ndarray) -> "Detections":
        """Index by an int, a slice, an index array or a boolean mask; always returns Detections."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(
            boxes=self.boxes[index],
            scores=self.scores[index],
            labels=self.labels[index],
            masks=None if self.masks is None else self.masks[index],
            ids=None if self.ids is None else self.ids[index],
        )

    @classmethod
    def empty(cls, shape: tuple[int, int] | None = None) -> "Detections":
        """No objects; with ``shape`` (H, W) the masks array is (0, H, W)."""
        masks = None if shape is None else np.zeros((0, *shape), dtype=bool)
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), [], masks=masks)

    @classmethod
    def merge(cls, parts: Iterable["Detections"]) -> "Detections":
        """Concatenate; masks and ids are kept only when every part has them."""
        parts = list(parts)
        if not parts:
            return cls.empty()
        with_masks = all(p.masks is not None for p in parts)
        with_ids = all(p.ids is not None for p in parts)
        return cls(
            boxes=np.concatenate([p.boxes for p in parts]),
            scores=np.concatenate([p.scores for p in parts]),
            labels=np.concatenate([p.labels for p in parts]),
            masks=np.concatenate([p.masks for p in parts]) if with_masks else None,
            ids=np.concatenate([p.ids for p in parts]) if with_ids else None,
        )

    @property
    def areas(self) -> np.ndarray:
        """(N,) mask areas in pixels when masks exist, else box areas."""
        if self.masks is not None:
            return self.masks.reshape(len(self), -1).sum(axis=1).astype(np.float32)
        wh = np.clip(self.boxes[:, 2:] - self.boxes[:, :2], 0, None)
        return (wh[:, 0] * wh[:, 1]).astype(np.float32)


@dataclass(frozen=True)
class ObjectInfo:
    """One tracked object: its id (1..255, stable over time) and label (the detector phrase)."""

    id: int
    label: str


@dataclass
class TracksMeta:
    """What ``objects.json`` of a tracks folder holds."""

    fps: float
    width: int
    height: int
    num_frames: int
    objects: list[ObjectInfo] = field(default_factory=list)

    def labels(self) -> dict[int, str]:
        return {o.id: o.label for o in self.objects}

    def to_json(self) -> dict:
        return {
            "fps": float(self.fps),
            "width": int(self.width),
            "height": int(self.height),
            "num_frames": int(self.num_frames),
            "objects": [{"id": o.id, "label": o.label} for o in self.objects],
        }


def boxes_from_label_map(label_map: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """(K, 4) float32 XYXY boxes (pixel edges, x2/y2 exclusive) of each id in an (H, W) label map.

    An id absent from the map gets a box of NaNs.
    """
    out = np.full((len(ids), 4), np.nan, dtype=np.float32)
    for k, i in enumerate(ids):
        ys, xs = np.nonzero(label_map == i)
        if len(xs):
            out[k] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    return out
