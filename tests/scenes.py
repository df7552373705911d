"""Synthetic scenes with known ground truth for the memory and reasoning tests and benchmark.

A scene is a short video of coloured, shaded shapes (circles, ellipses, boxes) over a textured
background. Objects move along straight lines, appear and leave at known frames and may pass in
front of each other (a depth order decides who hides whom). Rendering gives the label maps
((T, H, W) uint8 ids, the tracks format) and the RGB frames ((T, H, W, 3) uint8), optionally with
noise and JPEG compression. Ground truth comes from the object specs, not from the masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

# representative shades of every CONTRACT colour (RGB); scenes pick one at random
PALETTE: dict[str, list[tuple[int, int, int]]] = {
    "red": [(220, 30, 30), (200, 20, 40), (235, 45, 35)],
    "orange": [(255, 140, 0), (245, 125, 20), (255, 155, 40)],
    "yellow": [(250, 220, 30), (240, 210, 0), (255, 230, 60)],
    "green": [(40, 170, 60), (20, 140, 40), (90, 200, 70)],
    "blue": [(30, 80, 220), (20, 60, 180), (60, 120, 230)],
    "purple": [(130, 40, 170), (110, 30, 140), (150, 60, 190)],
    "pink": [(255, 120, 180), (250, 150, 200), (240, 100, 170)],
    "brown": [(130, 80, 40), (110, 70, 35), (150, 95, 50)],
    "black": [(25, 25, 25), (40, 40, 45), (30, 28, 25)],
    "white": [(240, 240, 240), (250, 250, 245), (235, 238, 240)],
    "gray": [(128, 128, 128), (110, 110, 115), (145, 145, 145)],
}
LABELS = ("dog", "cat", "person", "car", "ball", "bird", "horse", "cup", "bike", "boat")


@dataclass
class ObjSpec:
    """One object: a shape of half-size ``size`` px moving from ``start`` to ``end`` (x, y px)
    while visible on frames ``appear``..``leave`` (inclusive); higher ``z`` is in front."""

    id: int
    label: str
    color: str
    rgb: tuple[int, int, int]
    shape: str
    size: float
    start: tuple[float, float]
    end: tuple[float, float]
    appear: int
    leave: int
    z: int = 0
    aspect: float = 1.0  # height / width of ellipses and boxes

    def center(self, t: int) -> tuple[float, float]:
        """Centre (x, y) at frame t (linear between appear and leave)."""
        span = max(self.leave - self.appear, 1)
        a = min(max((t - self.appear) / span, 0.0), 1.0)
        return (
            self.start[0] + a * (self.end[0] - self.start[0]),
            self.start[1] + a * (self.end[1] - self.start[1]),
        )

    def half_extent(self) -> tuple[float, float]:
        return (self.size, self.size * (self.aspect if self.shape != "circle" else 1.0))

    def box(self, t: int) -> tuple[float, float, float, float]:
        cx, cy = self.center(t)
        hw, hh = self.half_extent()
        return (cx - hw, cy - hh, cx + hw, cy + hh)

    def area(self) -> float:
        hw, hh = self.half_extent()
        return float(np.pi * hw * hh) if self.shape != "rect" else float(4 * hw * hh)

    @property
    def frames(self) -> range:
        return range(self.appear, self.leave + 1)

    @property
    def direction(self) -> str:
        dx, dy = self.end[0] - self.start[0], self.end[1] - self.start[1]
        if np.hypot(dx, dy) < 1e-6:
            return "none"
        if abs(dx) >= abs(dy):
            return "right" if dx > 0 else "left"
        return "down" if dy > 0 else "up"

    def speed(self, fps: float) -> float:
        """Speed along the path in px/s."""
        dist = float(np.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1]))
        return dist / max(self.leave - self.appear, 1) * fps

    def mean_center(self) -> tuple[float, float]:
        c = np.array([self.center(t) for t in self.frames])
        return float(c[:, 0].mean()), float(c[:, 1].mean())


@dataclass
class Scene:
    fps: float
    width: int
    height: int
    num_frames: int
    objects: list[ObjSpec]
    label_maps: np.ndarray  # (T, H, W) uint8
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def labels(self) -> dict[int, str]:
        return {o.id: o.label for o in self.objects}

    def obj(self, object_id: int) -> ObjSpec:
        return next(o for o in self.objects if o.id == object_id)

    def masks(self, ids) -> np.ndarray:
        """(T, H, W) bool union of the masks of ``ids``."""
        return np.isin(self.label_maps, np.asarray(list(ids), dtype=np.uint8))

    def memory(self, with_frames: bool = True):
        from vidagent.memory import SceneMemoryBuilder

        b = SceneMemoryBuilder(self.fps, self.width, self.height, self.num_frames, self.labels())
        for t in range(self.num_frames):
            b.add_frame(t, self.label_maps[t], self.frames[t] if with_frames else None)
        return b.build()


def _shape_mask(spec: ObjSpec, t: int, h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cx, cy = spec.center(t)
    hw, hh = spec.half_extent()
    if spec.shape == "circle":
        cv2.circle(m, (int(round(cx)), int(round(cy))), int(round(hw)), 1, -1)
    elif spec.shape == "ellipse":
        cv2.ellipse(m, (int(round(cx)), int(round(cy))), (int(round(hw)), int(round(hh))), 0, 0,
                    360, 1, -1)
    else:
        cv2.rectangle(m, (int(round(cx - hw)), int(round(cy - hh))),
                      (int(round(cx + hw)) - 1, int(round(cy + hh)) - 1), 1, -1)
    return m.astype(bool)


def shade_patch(rgb, h: int, w: int, rng: np.random.Generator, strength: float = 0.4) -> np.ndarray:
    """(h, w, 3) float32 patch of colour ``rgb`` lit from a random direction (darkest side
    ``1 - strength`` times the colour, lit side slightly brighter)."""
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (np.cos(ang) * (xx / max(w - 1, 1) - 0.5) + np.sin(ang) * (yy / max(h - 1, 1) - 0.5))
    u = (u - u.min()) / max(float(u.max() - u.min()), 1e-6)
    factor = 1.05 - strength * u
    return np.asarray(rgb, np.float32)[None, None] * factor[..., None]


def render(
    objects: list[ObjSpec],
    width: int,
    height: int,
    num_frames: int,
    fps: float = 10.0,
    seed: int = 0,
    noise: float = 4.0,
    shading: float = 0.4,
    jpeg: int | None = None,
) -> Scene:
    """Draw the objects back to front on every frame; see the module docstring."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    tint = rng.uniform(90, 170, size=3).astype(np.float32)
    tint = tint * 0.3 + tint.mean() * 0.7  # low-saturation background
    bg = tint[None, None] * (0.85 + 0.3 * (xx / width))[..., None]
    bg += rng.normal(0, 6, size=(height, width, 1)).astype(np.float32)
    label_maps = np.zeros((num_frames, height, width), np.uint8)
    frames = np.zeros((num_frames, height, width, 3), np.uint8)
    patches = {o.id: shade_patch(o.rgb, height, width, np.random.default_rng(seed * 97 + o.id),
                                 shading) for o in objects}
    order = sorted(objects, key=lambda o: o.z)
    for t in range(num_frames):
        img = bg.copy()
        lm = label_maps[t]
        for o in order:
            if not (o.appear <= t <= o.leave):
                continue
            m = _shape_mask(o, t, height, width)
            x0, y0, x1, y1 = o.box(t)
            # shading follows the object: sample the lighting field relative to its box
            sx = np.clip(((xx - x0) / max(x1 - x0, 1) * (width - 1)).astype(np.int64), 0, width - 1)
            sy = np.clip(((yy - y0) / max(y1 - y0, 1) * (height - 1)).astype(np.int64), 0,
                         height - 1)
            img[m] = patches[o.id][sy[m], sx[m]]
            lm[m] = o.id
        if noise:
            img += rng.normal(0, noise, size=img.shape).astype(np.float32)
        out = np.clip(img, 0, 255).astype(np.uint8)
        if jpeg:
            ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg)])
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
        frames[t] = out
    return Scene(fps, width, height, num_frames, list(objects), label_maps, frames, seed)


def random_scene(
    seed: int,
    width: int = 192,
    height: int = 144,
    num_frames: int = 40,
    fps: float = 10.0,
    max_objects: int = 5,
    min_visible: float = 0.35,
    jpeg: int | None = None,
    noise: float = 4.0,
) -> Scene:
    """A random scene whose every object keeps at least ``min_visible`` of its area visible on
    every frame it is on screen (so spec-based truths hold); rejection-sampled from ``seed``."""
    rng = np.random.default_rng(seed)
    for _attempt in range(200):
        n = int(rng.integers(2, max_objects + 1))
        labels = list(rng.choice(LABELS, size=n, replace=True))
        objects = []
        for i, label in enumerate(labels):
            color = str(rng.choice(list(PALETTE)))
            rgb = PALETTE[color][int(rng.integers(len(PALETTE[color])))]
            shape = str(rng.choice(["circle", "ellipse", "rect"]))
            size = float(rng.uniform(0.07, 0.16) * min(width, height))
            aspect = float(rng.uniform(0.7, 1.3))
            hw, hh = size, size * (aspect if shape != "circle" else 1.0)
            lo_x, hi_x = hw + 2, width - hw - 3
            lo_y, hi_y = hh + 2, height - hh - 3
            start = (float(rng.uniform(lo_x, hi_x)), float(rng.uniform(lo_y, hi_y)))
            if rng.random() < 0.35:
                end = start
            else:
                axis = int(rng.integers(2))
                sign = 1 if rng.random() < 0.5 else -1
                extent = (width, height)[axis]
                dist = float(rng.uniform(0.3, 0.55) * extent)
                end = list(start)
                end[axis] = start[axis] + sign * dist
                end[1 - axis] = start[1 - axis] + float(rng.uniform(-0.05, 0.05)) * extent
                end[0] = float(np.clip(end[0], lo_x, hi_x))
                end[1] = float(np.clip(end[1], lo_y, hi_y))
                end = tuple(end)
                if np.hypot(end[0] - start[0], end[1] - start[1]) < 0.25 * extent:
                    end = start
            if rng.random() < 0.5:
                appear, leave = 0, num_frames - 1
            else:
                appear = int(rng.integers(0, num_frames // 2))
                leave = int(rng.integers(appear + num_frames // 4, num_frames))
            objects.append(ObjSpec(i + 1, str(label), color, rgb, shape, size, start, end,
                                   appear, leave, z=i, aspect=aspect))
        scene = render(objects, width, height, num_frames, fps, seed, noise=noise, jpeg=jpeg)
        if _visible_enough(scene, min_visible):
            return scene
    raise RuntimeError(f"could not sample a valid scene for seed {seed}")


def _visible_enough(scene: Scene, min_visible: float) -> bool:
    for o in scene.objects:
        full = np.array([_shape_mask(o, t, scene.height, scene.width).sum() for t in o.frames])
        seen = np.array([(scene.label_maps[t] == o.id).sum() for t in o.frames])
        if (seen < min_visible * np.maximum(full, 1)).any():
            return False
        hidden = [t for t in range(scene.num_frames) if t not in o.frames]
        if any((scene.label_maps[t] == o.id).any() for t in hidden):
            return False
    return True
