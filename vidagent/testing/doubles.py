"""Simulated models for tests and benchmarks on synthetic scenes: they answer from the ground
truth of the frame they are shown (found by content), with controlled noise. Not models."""

from __future__ import annotations

import numpy as np

from vidagent.testing.scenes import Scene


class _FrameLookup:
    """Finds which frame of a synthetic scene an image is (by content; the tracker passes
    images, not indices)."""

    def __init__(self, video: Scene) -> None:
        self.video = video
        self._index = {hash(f[::7, ::7].tobytes()): t for t, f in enumerate(video.frames)}

    def frame_of(self, image: np.ndarray) -> int:
        t = self._index.get(hash(np.ascontiguousarray(image)[::7, ::7].tobytes()))
        if t is None:
            raise ValueError("image is not a frame of this synthetic scene")
        return t


class SyntheticDetector(_FrameLookup):
    """Simulated detector for benchmarks and tests on a synthetic scene: returns the boxes of
    the ground-truth objects of the frame it is shown (>= ``min_area`` px visible), each
    dropped with probability ``drop`` and jittered by up to ``jitter`` px. Not a model."""

    def __init__(
        self,
        video: Scene,
        drop: float = 0.0,
        jitter: float = 0.0,
        seed: int = 0,
        min_area: int = 20,
    ) -> None:
        super().__init__(video)
        self.rng = np.random.default_rng(seed)
        self.drop, self.jitter, self.min_area = drop, jitter, min_area
        self.frames_seen: list[int] = []

    def detect(self, image, phrases, box_threshold=None, text_threshold=None, max_boxes=None):
        from vidagent.types import Detections, boxes_from_label_map

        t = self.frame_of(image)
        self.frames_seen.append(t)
        gt = self.video.label_maps[t]
        ids = [
            i
            for i, lab in self.video.labels.items()
            if lab in phrases
            and (gt == i).sum() >= self.min_area
            and self.rng.random() >= self.drop
        ]
        boxes = boxes_from_label_map(gt, ids).reshape(-1, 4)
        boxes += self.rng.uniform(-self.jitter, self.jitter, boxes.shape).astype(np.float32)
        return Detections(boxes, np.ones(len(ids)), [self.video.labels[i] for i in ids])


class SyntheticSegmenter(_FrameLookup):
    """Simulated SAM for benchmarks and tests on a synthetic scene: a box prompt gets the
    ground-truth mask of the object filling most of the box, dilated or eroded by
    1..``radius`` px at random. Not a model; implements ``vidagent.models.base.Segmenter``."""

    def __init__(self, video: Scene, radius: int = 1, seed: int = 0) -> None:
        super().__init__(video)
        self.rng = np.random.default_rng(seed)
        self.radius = radius
        self._t: int | None = None
        self.embeddings = 0  # set_image calls: the expensive step of a real SAM

    @property
    def is_image_set(self) -> bool:
        return self._t is not None

    def set_image(self, image: np.ndarray) -> None:
        self._t = self.frame_of(image)
        self.embeddings += 1

    def predict(self, boxes=None, points=None, point_labels=None, multimask=True):
        import cv2

        if self._t is None:
            raise RuntimeError("An image must be set with set_image(...) before predict(...)")
        gt = self.video.label_maps[self._t]
        h, w = gt.shape
        out = []
        for b in np.asarray(boxes, np.float32).reshape(-1, 4):
            x1, y1, x2, y2 = np.clip(np.round(b), 0, [w, h, w, h]).astype(int)
            crop = gt[y1:y2, x1:x2]
            ids, counts = np.unique(crop[crop > 0], return_counts=True)
            m = gt == ids[counts.argmax()] if len(ids) else np.zeros((h, w), bool)
            if self.radius > 0:
                r = int(self.rng.integers(1, self.radius + 1))
                op = cv2.dilate if self.rng.random() < 0.5 else cv2.erode
                m = op(m.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)
            out.append(m)
        return np.array(out, bool).reshape(-1, h, w), np.ones(len(out), np.float32)
