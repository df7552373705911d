"""The visibility timeline: which tracked object is visible on which frame, drawn as one bar
row per object in the overlay's colours."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np


@dataclass
class Visibility:
    """Which object is visible on which frame: ``visible`` (num_objects, T) bool, rows in ``ids`` order."""

    ids: list[int]
    labels: dict[int, str]
    visible: np.ndarray
    fps: float

    def evidence(self) -> list[dict]:
        """One row per object: id, label, first/last visible frame and time (None when never visible)."""
        rows = []
        for k, i in enumerate(self.ids):
            frames = np.flatnonzero(self.visible[k])
            first = int(frames[0]) if len(frames) else None
            last = int(frames[-1]) if len(frames) else None
            rows.append(
                {
                    "id": i,
                    "label": self.labels.get(i, ""),
                    "first_frame": first,
                    "last_frame": last,
                    "first_time": None if first is None else round(first / self.fps, 3),
                    "last_time": None if last is None else round(last / self.fps, 3),
                }
            )
        return rows


def visibility(memory, ids: list[int] | None = None) -> Visibility:
    """The scene memory's per-frame visibility of every object (or only ``ids``)."""
    objects = [o for o in memory.objects if ids is None or o.id in set(ids)]
    visible = (
        np.stack([o.visible for o in objects])
        if objects
        else np.zeros((0, memory.num_frames), dtype=bool)
    )
    return Visibility([o.id for o in objects], {o.id: o.label for o in objects}, visible, memory.fps)


def draw_timeline(vis: Visibility, highlight: set[int] | None = None, width: int = 800):
    """A PIL image: one row per object ("#id label"), a bar over each visible stretch, time in s.

    Bars use the overlay's colour of each id; ``highlight`` ids (the evidence) get a marker.
    """
    from PIL import Image, ImageDraw, ImageFont

    from vidagent.overlay import id_colors

    colors = id_colors()
    row_h, top, left, right = 30, 40, 170, 20  # top: room for the component's label badge
    n = max(len(vis.ids), 1)
    height = top + n * row_h + 50
    img = Image.new("RGB", (width, height), (255, 255, 255))
    d = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=15)
    except TypeError:  # pragma: no cover - Pillow without FreeType
        font = ImageFont.load_default()
    T = vis.visible.shape[1] if vis.visible.ndim == 2 else 0
    plot_w = width - left - right
    x_of = lambda t: left + plot_w * t / max(T, 1)
    if not vis.ids:
        d.text((left, top + 4), "no objects were tracked", fill=(90, 90, 90), font=font)
    for k, i in enumerate(vis.ids):
        y = top + k * row_h
        mark = "* " if highlight and i in highlight else ""
        d.text((8, y + 6), f"{mark}#{i} {vis.labels.get(i, '')}"[:20], fill=(20, 20, 20), font=font)
        d.rectangle([left, y + 4, left + plot_w, y + row_h - 4], fill=(243, 243, 243))
        v = vis.visible[k].astype(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], v, [0]])))
        color = tuple(int(c) for c in colors[i])
        for a, b in zip(edges[::2], edges[1::2]):
            d.rectangle([x_of(a), y + 4, max(x_of(b), x_of(a) + 1), y + row_h - 4], fill=color)
    axis_y = top + n * row_h + 4
    d.line([left, axis_y, left + plot_w, axis_y], fill=(60, 60, 60))
    duration = T / vis.fps if vis.fps > 0 else 0.0
    step = _nice_step(duration / 8 if duration else 1.0)
    t = 0.0
    while t <= duration + 1e-9:
        x = x_of(t * vis.fps)
        d.line([x, axis_y, x, axis_y + 5], fill=(60, 60, 60))
        d.text((x - 8, axis_y + 8), f"{t:g}", fill=(60, 60, 60), font=font)
        t += step
    d.text((left + plot_w - 70, axis_y + 26), "time (s)", fill=(60, 60, 60), font=font)
    if highlight:
        d.text((8, axis_y + 26), "* = evidence", fill=(60, 60, 60), font=font)
    return img


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is at least ``raw`` (axis tick spacing)."""
    raw = max(raw, 1e-3)
    base = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if m * base >= raw:
            return float(m * base)
    return float(10 * base)  # pragma: no cover
