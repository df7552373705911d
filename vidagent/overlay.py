"""Pictures of results: masks, ids and labels drawn over frames, and the overlay video.

``annotate(frame, label_map, labels)`` returns a new HWC uint8 RGB frame; ``OverlayWriter`` draws
and encodes frame by frame (streaming, memory flat in video length).
"""

from __future__ import annotations

import os

import numpy as np

from vidagent.video import VideoWriter, processing_size, resize_frame

MAX_OVERLAY_SIDE = 1920  # overlay videos of larger inputs are scaled down to this


def id_colors() -> np.ndarray:
    """(256, 3) uint8 RGB: a distinct, saturated colour per id (golden-ratio hues), 0 = black."""
    import cv2

    hues = (np.arange(256) * 0.618033988749895 * 180) % 180
    hsv = np.stack([hues, np.full(256, 220), np.full(256, 255)], axis=1).astype(np.uint8)
    rgb = cv2.cvtColor(hsv[None], cv2.COLOR_HSV2RGB)[0]
    rgb[0] = 0
    return rgb


_COLORS = id_colors()


def annotate(
    frame: np.ndarray,
    label_map: np.ndarray,
    labels: dict[int, str] | None = None,
    alpha: float = 0.45,
    draw_text: bool = True,
) -> np.ndarray:
    """Draw masks (filled, alpha-blended, outlined), and "#id label" tags over ``frame``.

    Args:
        frame: (H, W, 3) uint8 RGB.
        label_map: (H, W) uint8 ids (0 = background), same size as ``frame``.
        labels: id -> label text for the tags.
    """
    import cv2

    out = frame.copy()
    ids = np.unique(label_map)
    ids = ids[ids > 0]
    if len(ids) == 0:
        return out
    colored = _COLORS[label_map]
    fg = label_map > 0
    out[fg] = (out[fg] * (1 - alpha) + colored[fg] * alpha).astype(np.uint8)
    thickness = max(1, round(min(frame.shape[:2]) / 240))
    scale = max(0.35, min(frame.shape[:2]) / 720)
    for i in ids:
        m = (label_map == i).astype(np.uint8)
        color = tuple(int(c) for c in _COLORS[i])
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, color, thickness)
        if not draw_text:
            continue
        ys, xs = np.nonzero(m)
        text = f"#{int(i)} {labels.get(int(i), '')}".strip() if labels else f"#{int(i)}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        x = int(np.clip(xs.min(), 0, max(0, frame.shape[1] - tw - 2)))
        y = int(np.clip(ys.min() - 4, th + 2, frame.shape[0] - 2))
        cv2.rectangle(out, (x, y - th - 3), (x + tw + 2, y + base - 1), color, -1)
        cv2.putText(out, text, (x + 1, y - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    return out


class OverlayWriter:
    """Write ``overlay.mp4``: call ``write(frame, label_map)`` for each frame, then ``close()``."""

    def __init__(self, path: str | os.PathLike, fps: float, width: int, height: int, labels: dict[int, str]) -> None:
        self.size = processing_size(width, height, None, MAX_OVERLAY_SIDE)
        self.labels = labels
        self._writer = VideoWriter(path, fps, *self.size)

    def write(self, frame: np.ndarray, label_map: np.ndarray) -> None:
        import cv2

        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = resize_frame(frame, self.size)
            label_map = cv2.resize(label_map, self.size, interpolation=cv2.INTER_NEAREST)
        self._writer.write(annotate(frame, label_map, self.labels))

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> "OverlayWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
