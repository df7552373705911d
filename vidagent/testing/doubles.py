"""Test doubles for tests, benchmarks and scripts, in one place.

- Simulated models for synthetic scenes (``SyntheticDetector``, ``SyntheticSegmenter``): they
  answer from the ground truth of the frame they are shown (found by content), with controlled
  noise. Not models.
- Timing wrappers of real models for the bench (``TopKDetector``, ``BoxClippedSegmenter``): they
  run the wrapped model and count its calls and seconds, and shape random-weight outputs so that
  every configuration tracks the same number of objects.
- ``RulesParser``: the deterministic rule parser in place of the language model (no weights),
  and ``RulesAgent``, the Agent that uses it.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from vidagent.models.base import Detector, Segmenter
from vidagent.pipeline import Agent
from vidagent.testing.scenes import Scene


class _FrameLookup:
    """Finds which frame of a synthetic scene an image is (by content; the tracker passes
    images, not indices)."""

    def __init__(self, video: Scene) -> None:
        self.video = video
        # a scene that finds its frames itself (``vidagent.bench.memory.CompactScene``: decoded
        # frames of a compressed clip, looped) answers frame_of; else exact content
        self._index = None if hasattr(video, "frame_of") else {
            hash(f[::7, ::7].tobytes()): t for t, f in enumerate(video.frames)
        }

    def frame_of(self, image: np.ndarray) -> int:
        if self._index is None:
            return int(self.video.frame_of(image))
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

    can_embed = True

    def set_image(self, image: np.ndarray) -> None:
        self.set_embedding(self.embed(image))

    def embed(self, image: np.ndarray) -> int:
        self.embeddings += 1
        return self.frame_of(image)

    def set_embedding(self, embedding: int) -> None:
        self._t = embedding

    def predict(self, boxes=None, points=None, point_labels=None, multimask=None):
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


class TopKDetector(Detector):
    """A detector that always returns its model's ``k`` best boxes (thresholds 0), timed.

    Random weights give meaningless scores; forcing the top ``k`` keeps the number of tracked
    objects fixed so that runs are comparable.
    """

    def __init__(self, inner: Detector, k: int = 3) -> None:
        self.inner = inner
        self.k = int(k)
        self.calls = 0
        self.seconds = 0.0

    def detect(self, image, phrases, box_threshold=None, text_threshold=None, max_boxes=None):
        t0 = time.perf_counter()
        dets = self.inner.detect(image, phrases, 0.0, 0.0, self.k)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return dets


class BoxClippedSegmenter(Segmenter):
    """A SAM whose masks are clipped to their prompt box (the filled box when less than half of
    it is left), timed. Random-weight SAM masks spill over the whole frame; clipping keeps each
    object where its box is, so the tracker does the same work as with trained weights."""

    def __init__(self, inner: Segmenter) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self.embeddings = 0
        self.embed_seconds = 0.0
        self.decodes = 0
        self.decode_seconds = 0.0

    @property
    def is_image_set(self) -> bool:
        return self.inner.is_image_set

    def set_image(self, image: np.ndarray) -> None:
        self._timed_embedding(self.inner.set_image, image)

    @property
    def can_embed(self) -> bool:
        return self.inner.can_embed

    def embed(self, image: np.ndarray) -> object:
        return self._timed_embedding(self.inner.embed, image)

    def set_embedding(self, embedding: object) -> None:
        self.inner.set_embedding(embedding)

    def _timed_embedding(self, fn, image):
        t0 = time.perf_counter()
        out = fn(image)
        with self._lock:  # the tracker may embed a keyframe ahead in another thread
            self.embed_seconds += time.perf_counter() - t0
            self.embeddings += 1
        return out

    def predict(self, boxes=None, points=None, point_labels=None, multimask=None):
        t0 = time.perf_counter()
        masks, scores = self.inner.predict(boxes, points, point_labels, multimask)
        self.decode_seconds += time.perf_counter() - t0
        self.decodes += 1
        if boxes is None:
            return masks, scores
        h, w = masks.shape[1:]
        out = np.zeros_like(masks)
        for n, b in enumerate(np.asarray(boxes, np.float32).reshape(-1, 4)):
            x1, y1 = (int(v) for v in np.clip(np.floor(b[:2]), 0, [w, h]))
            x2, y2 = (int(v) for v in np.clip(np.ceil(b[2:]), 0, [w, h]))
            inside = masks[n, y1:y2, x1:x2]
            out[n, y1:y2, x1:x2] = inside if inside.sum() >= 0.5 * inside.size else True
        return out, scores


class RulesParser:
    """The deterministic rule parser in place of the language model (no weights needed);
    implements ``parse`` as ``vidagent.query.parser.QueryParser`` does."""

    def parse(self, text: str, expression: bool = False):
        from vidagent.query.rules import parse_rules

        return parse_rules(text, expression=expression)


class RulesAgent(Agent):
    """The Agent with ``RulesParser`` in place of its language model."""

    @property
    def parser(self):
        return RulesParser()
