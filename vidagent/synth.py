"""Synthetic videos with exact ground-truth masks, for tests and benchmarks.

``make_synthetic_video`` renders textured objects over a textured background. The objects move,
occlude one another, enter late, leave the frame and come back, and one is hidden behind another
for a while; the ground truth is the painter's-algorithm label map of every frame (exact, no
anti-aliasing). Everything is deterministic by ``seed``.

Frames are (T, H, W, 3) uint8 RGB; label maps (T, H, W) uint8 with pixel value = object id,
0 = background (DAVIS convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class SyntheticObject:
    """One object of a synthetic video.

    ``keys`` are (frame, x_center, y_center) keypoints, linearly interpolated (positions off the
    frame are allowed: the object is then partly or wholly outside). ``z`` orders drawing:
    larger z is drawn on top. ``shape`` is "ellipse" or "rect"; ``size`` is (width, height) px.
    """

    id: int
    label: str
    shape: str
    size: tuple[int, int]
    color: tuple[int, int, int]
    keys: list[tuple[float, float, float]]
    z: int = 0

    def center(self, t: int) -> tuple[float, float]:
        k = np.asarray(self.keys, dtype=np.float64)
        return float(np.interp(t, k[:, 0], k[:, 1])), float(np.interp(t, k[:, 0], k[:, 2]))


@dataclass
class SyntheticVideo:
    """Frames (T, H, W, 3) uint8 RGB, ground-truth label maps (T, H, W) uint8, labels by id."""

    frames: np.ndarray
    masks: np.ndarray
    labels: dict[int, str]
    fps: float = 25.0
    objects: list[SyntheticObject] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return len(self.frames)

    def visible_frames(self, obj_id: int) -> np.ndarray:
        """Indices of the frames on which object ``obj_id`` has at least one pixel."""
        return np.nonzero((self.masks == obj_id).reshape(len(self.masks), -1).any(axis=1))[0]


def _texture(rng: np.random.Generator, h: int, w: int, color, amplitude: float) -> np.ndarray:
    """(h, w, 3) float texture: ``color`` modulated by smooth random noise of ``amplitude``."""
    import cv2

    noise = rng.standard_normal((max(h // 4, 2), max(w // 4, 2), 3)).astype(np.float32)
    noise = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = rng.standard_normal((h, w, 3)).astype(np.float32) * 0.35
    tex = np.asarray(color, np.float32)[None, None, :] + amplitude * (noise + fine)
    return tex


def _shape_mask(obj: SyntheticObject, cx: float, cy: float, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    hw, hh = obj.size[0] / 2.0, obj.size[1] / 2.0
    if obj.shape == "ellipse":
        return ((xx + 0.5 - cx) / hw) ** 2 + ((yy + 0.5 - cy) / hh) ** 2 <= 1.0
    return (np.abs(xx + 0.5 - cx) <= hw) & (np.abs(yy + 0.5 - cy) <= hh)


def default_objects(height: int, width: int, num_frames: int, seed: int) -> list[SyntheticObject]:
    """The standard scene: an occluder, an object hidden behind it, a late entrant, a leaver
    that comes back, and a distractor; trajectories jittered by ``seed``."""
    rng = np.random.default_rng(seed)
    H, W, T = height, width, num_frames - 1
    j = lambda s: float(rng.uniform(-s, s))
    s = min(H, W)
    objs = [
        # 1: a big box that slides across the middle, drawn on top (the occluder)
        SyntheticObject(
            1,
            "box",
            "rect",
            (int(0.30 * s), int(0.42 * s)),
            (200, 60, 50),
            [(0, 0.20 * W + j(8), 0.50 * H + j(6)), (T, 0.78 * W + j(8), 0.52 * H)],
            z=3,
        ),
        # 2: a ball that moves the other way behind the box: hidden for a while, then back
        SyntheticObject(
            2,
            "ball",
            "ellipse",
            (int(0.16 * s), int(0.16 * s)),
            (60, 90, 210),
            [(0, 0.85 * W + j(6), 0.50 * H + j(5)), (T, 0.12 * W + j(6), 0.48 * H)],
            z=1,
        ),
        # 3: a ball that enters late from the bottom-left edge
        SyntheticObject(
            3,
            "ball",
            "ellipse",
            (int(0.20 * s), int(0.14 * s)),
            (70, 190, 80),
            [
                (0, -0.3 * W, 0.80 * H),
                (0.25 * T, -0.12 * W, 0.80 * H + j(5)),
                (T, 0.45 * W + j(10), 0.78 * H),
            ],
            z=2,
        ),
        # 4: a box near the top that leaves on the right and comes back
        SyntheticObject(
            4,
            "box",
            "rect",
            (int(0.18 * s), int(0.15 * s)),
            (220, 200, 60),
            [
                (0, 0.60 * W + j(8), 0.18 * H + j(4)),
                (0.40 * T, 1.15 * W, 0.18 * H),
                (0.62 * T, 1.15 * W, 0.20 * H),
                (T, 0.70 * W + j(8), 0.20 * H),
            ],
            z=2,
        ),
    ]
    return objs


def make_synthetic_video(
    num_frames: int = 60,
    height: int = 240,
    width: int = 320,
    seed: int = 0,
    objects: list[SyntheticObject] | None = None,
    fps: float = 25.0,
    noise: float = 2.0,
) -> SyntheticVideo:
    """Render a synthetic video with exact ground-truth label maps.

    Args:
        num_frames, height, width: video size.
        seed: fixes textures, jitter and pixel noise.
        objects: the scene; defaults to ``default_objects`` (ids 1..4: box, ball, ball, box).
        noise: std of per-frame Gaussian pixel noise (camera noise), in grey levels.

    Returns:
        SyntheticVideo with frames (T, H, W, 3) uint8 RGB and masks (T, H, W) uint8.
    """
    rng = np.random.default_rng(seed)
    objs = objects if objects is not None else default_objects(height, width, num_frames, seed)
    bg = _texture(rng, height, width, (120, 120, 120), 28.0)
    textures = {}
    for o in objs:
        tw, th = o.size
        textures[o.id] = _texture(rng, th + 2, tw + 2, o.color, 30.0)
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    masks = np.zeros((num_frames, height, width), np.uint8)
    for t in range(num_frames):
        img = bg.copy()
        lab = np.zeros((height, width), np.uint8)
        for o in sorted(objs, key=lambda o: o.z):
            cx, cy = (
                float(np.round(c)) for c in o.center(t)
            )  # whole pixels: texture and mask agree
            m = _shape_mask(o, cx, cy, height, width)
            if not m.any():
                continue
            # texture moves with the object: index the sprite by position relative to its corner
            ys, xs = np.nonzero(m)
            x0, y0 = int(np.floor(cx - o.size[0] / 2.0)), int(np.floor(cy - o.size[1] / 2.0))
            tex = textures[o.id]
            ty = np.clip(ys - y0, 0, tex.shape[0] - 1)
            tx = np.clip(xs - x0, 0, tex.shape[1] - 1)
            img[ys, xs] = tex[ty, tx]
            lab[m] = o.id
        img += rng.standard_normal(img.shape).astype(np.float32) * noise
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
        masks[t] = lab
    return SyntheticVideo(frames, masks, {o.id: o.label for o in objs}, fps, objs)


def save_tracks_folder(directory: str | Path, masks: np.ndarray, labels: dict[int, str],
                       fps: float = 25.0) -> Path:
    """Write label maps (T, H, W) uint8 as a tracks-format folder (objects.json + masks/*.png)."""
    from vidagent.io.tracks import TracksWriter
    from vidagent.types import ObjectInfo

    t, h, w = masks.shape
    with TracksWriter(directory, fps, w, h, t, rle=False) as writer:
        for i, m in enumerate(masks):
            writer.write(i, m)
        return writer.close([ObjectInfo(int(i), str(lab)) for i, lab in sorted(labels.items())])


def noisy_detections(
    video: SyntheticVideo,
    every: int = 5,
    seed: int = 0,
    max_radius: int = 2,
    drop: float = 0.1,
    false_rate: float = 0.1,
    with_masks: bool = True,
) -> dict:
    """Imperfect per-frame detections of a synthetic video, as a detector + SAM would give.

    Every ``every``-th frame each visible object (>= 20 px) is detected with probability
    1 - ``drop``; its mask is dilated or eroded by 1..``max_radius`` px; with probability
    ``false_rate`` a frame also gets one false 15x15 "ball"; the order is shuffled.

    Returns:
        {frame index: vidagent.types.Detections} (boxes XYXY px; masks (N, H, W) bool when
        ``with_masks``).
    """
    import cv2

    from vidagent.types import Detections

    rng = np.random.default_rng(seed)
    _, h, w = video.masks.shape
    out = {}
    for t in range(0, video.num_frames, every):
        ms, bs, ls = [], [], []
        for i, lab in video.labels.items():
            m = video.masks[t] == i
            if m.sum() < 20 or rng.random() < drop:
                continue
            r = int(rng.integers(1, max_radius + 1))
            k = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
            op = cv2.dilate if rng.random() < 0.5 else cv2.erode
            m = op(m.astype(np.uint8), k).astype(bool)
            ys, xs = np.nonzero(m)
            if not len(xs):
                continue
            ms.append(m)
            bs.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            ls.append(lab)
        if rng.random() < false_rate:
            y, x = int(rng.integers(0, h - 15)), int(rng.integers(0, w - 15))
            m = np.zeros((h, w), bool)
            m[y : y + 15, x : x + 15] = True
            ms.append(m)
            bs.append([x, y, x + 15, y + 15])
            ls.append("ball")
        p = rng.permutation(len(ms))
        masks = np.array(ms, bool).reshape(-1, h, w)[p]
        out[t] = Detections(
            np.array(bs, np.float32).reshape(-1, 4)[p],
            np.ones(len(ms), np.float32)[p],
            np.array(ls, dtype=object)[p] if ls else [],
            masks=masks if with_masks else None,
        )
    return out


class _FrameLookup:
    """Finds which frame of a synthetic video an image is (by content; the tracker passes
    images, not indices)."""

    def __init__(self, video: SyntheticVideo) -> None:
        self.video = video
        self._index = {hash(f[::7, ::7].tobytes()): t for t, f in enumerate(video.frames)}

    def frame_of(self, image: np.ndarray) -> int:
        t = self._index.get(hash(np.ascontiguousarray(image)[::7, ::7].tobytes()))
        if t is None:
            raise ValueError("image is not a frame of this synthetic video")
        return t


class SyntheticDetector(_FrameLookup):
    """Simulated detector for benchmarks and tests on a synthetic video: returns the boxes of
    the ground-truth objects of the frame it is shown (>= ``min_area`` px visible), each
    dropped with probability ``drop`` and jittered by up to ``jitter`` px. Not a model."""

    def __init__(
        self,
        video: SyntheticVideo,
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
        gt = self.video.masks[t]
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
    """Simulated SAM for benchmarks and tests on a synthetic video: a box prompt gets the
    ground-truth mask of the object filling most of the box, dilated or eroded by
    1..``radius`` px at random. Not a model; implements ``vidagent.models.base.Segmenter``."""

    def __init__(self, video: SyntheticVideo, radius: int = 1, seed: int = 0) -> None:
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
        gt = self.video.masks[self._t]
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
