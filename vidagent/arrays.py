"""Whole-frame numpy passes over mostly empty 2-D arrays (label maps, object masks), done on the
occupied part only.

``np.nonzero`` and ``scipy.ndimage.find_objects`` cost about 1 ms on an 854x480 label map
whatever it holds; ``any`` along each axis costs a twentieth of that and finds the box of the
nonzero pixels, outside which there is nothing to scan. Results are exactly those of the
whole-frame calls (same values, same order, same dtypes)."""

from __future__ import annotations

import numpy as np


def occupied_box(a: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1): the rows and columns of 2-D ``a`` that hold nonzero values (end
    exclusive); None when there are none."""
    rows = np.flatnonzero(a.any(axis=1))
    if not len(rows):
        return None
    cols = np.flatnonzero(a[rows[0] : rows[-1] + 1].any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def nonzero(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero(a)`` of 2-D ``a`` (row-major order), scanning only ``occupied_box``."""
    box = occupied_box(a)
    if box is None:
        return np.nonzero(a)
    y0, y1, x0, x1 = box
    ys, xs = np.nonzero(a[y0:y1, x0:x1])
    return ys + y0, xs + x0


def find_objects(labels: np.ndarray) -> list[tuple[slice, slice] | None]:
    """``scipy.ndimage.find_objects(labels)`` of a 2-D integer label map, scanning only its
    ``occupied_box``."""
    from scipy import ndimage

    box = occupied_box(labels)
    if box is None:
        return ndimage.find_objects(labels)
    y0, y1, x0, x1 = box
    return [
        None if sl is None else (slice(sl[0].start + y0, sl[0].stop + y0),
                                 slice(sl[1].start + x0, sl[1].stop + x0))
        for sl in ndimage.find_objects(labels[y0:y1, x0:x1])
    ]
