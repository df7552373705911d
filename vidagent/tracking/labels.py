"""Small helpers on label maps and masks (numpy only)."""

from __future__ import annotations

import cv2
import numpy as np


def _boxes_and_areas(masks: list[np.ndarray]):
    boxes, areas = [], []
    for m in masks:
        rows = np.flatnonzero(m.any(axis=1))
        if len(rows):
            cols = np.flatnonzero(m[rows[0] : rows[-1] + 1].any(axis=0))
            boxes.append((rows[0], rows[-1] + 1, cols[0], cols[-1] + 1))
        else:
            boxes.append(None)
        areas.append(int(np.count_nonzero(m[rows[0] : rows[-1] + 1])) if len(rows) else 0)
    return boxes, np.array(areas, np.float64)


def _intersections(a: list[np.ndarray], b: list[np.ndarray]):
    """Pairwise intersection areas, each computed on the overlap of the two bounding boxes."""
    ba, aa = _boxes_and_areas(a)
    bb, ab = _boxes_and_areas(b)
    inter = np.zeros((len(a), len(b)))
    for i, p in enumerate(ba):
        if p is None:
            continue
        for j, q in enumerate(bb):
            if q is None:
                continue
            y0, y1 = max(p[0], q[0]), min(p[1], q[1])
            x0, x1 = max(p[2], q[2]), min(p[3], q[3])
            if y1 > y0 and x1 > x0:
                inter[i, j] = np.count_nonzero(a[i][y0:y1, x0:x1] & b[j][y0:y1, x0:x1])
    return inter, aa, ab


def mask_iou_matrix(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """(len(a), len(b)) float IoU between two lists of (H, W) bool masks."""
    if not a or not b:
        return np.zeros((len(a), len(b)), np.float32)
    inter, aa, ab = _intersections(a, b)
    union = aa[:, None] + ab[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 0.0).astype(np.float32)


def match_scores(tracks: list[np.ndarray], dets: list[np.ndarray]) -> np.ndarray:
    """(T, D) association scores: mask IoU, or 0.6 x the share of the smaller mask inside the
    other when that is larger (an object coming out from behind another, or entering the frame,
    has a flow mask much smaller than its detection)."""
    if not tracks or not dets:
        return np.zeros((len(tracks), len(dets)), np.float32)
    inter, at, ad = _intersections(tracks, dets)
    union = at[:, None] + ad[None, :] - inter
    iou = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    smaller = np.minimum(at[:, None], ad[None, :])
    contain = np.where(smaller > 0, inter / np.maximum(smaller, 1), 0.0)
    return np.maximum(iou, 0.6 * contain).astype(np.float32)


def box_mask(box: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool mask filling an XYXY pixel box (the fallback when no segmenter is available)."""
    h, w = shape
    x1, y1, x2, y2 = box
    m = np.zeros((h, w), bool)
    xa, ya = int(np.clip(np.floor(x1), 0, w)), int(np.clip(np.floor(y1), 0, h))
    xb, yb = int(np.clip(np.ceil(x2), 0, w)), int(np.clip(np.ceil(y2), 0, h))
    m[ya:yb, xa:xb] = True
    return m


def mask_box(mask: np.ndarray) -> np.ndarray | None:
    """XYXY float32 box (x2/y2 exclusive) of a bool mask, or None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        return None
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], np.float32)


def paint(labels: np.ndarray, masks: dict[int, np.ndarray]) -> np.ndarray:
    """Replace the pixels of each id in ``masks`` by its new mask; where new masks overlap the
    smaller one wins. Returns a new label map of ``labels``' dtype."""
    out = labels.copy()
    for i in masks:
        out[out == i] = 0
    for i, m in sorted(masks.items(), key=lambda kv: -int(kv[1].sum())):
        out[m] = i
    return out


_HIST_ERODE = 2  # px trimmed off a mask before its colours are counted


def appearance(
    frame: np.ndarray, mask: np.ndarray, hsv: np.ndarray | None = None
) -> np.ndarray | None:
    """Normalised hue-saturation histogram (16x8 float32) of the masked pixels of an RGB frame
    (``hsv``: the frame already converted to HSV, to share one conversion between masks).

    Counted on the mask's interior (eroded by ``_HIST_ERODE`` px) when that keeps a quarter of
    it: mask boundaries are where detections and flow are wrong, and a dilated mask of a small
    object would otherwise bring in a ring of background."""
    box = mask_box(mask)
    if box is None or mask.sum() < 4:
        return None
    x0, y0, x1, y1 = (int(v) for v in box)
    crop = mask[y0:y1, x0:x1].astype(np.uint8)
    k = 2 * _HIST_ERODE + 1
    inner = cv2.erode(
        crop, np.ones((k, k), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0
    )
    if np.count_nonzero(inner) * 4 >= np.count_nonzero(crop):
        crop = inner
    if hsv is None:
        hsv = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_RGB2HSV)
    else:
        hsv = hsv[y0:y1, x0:x1]
    hist = cv2.calcHist([hsv], [0, 1], crop, [16, 8], [0, 180, 0, 256])
    total = float(hist.sum())
    return (hist / total).astype(np.float32) if total > 0 else None


def similarity(h1: np.ndarray | None, h2: np.ndarray | None) -> float:
    """1 - Bhattacharyya distance between two histograms (1 = identical), 0 when one is missing."""
    if h1 is None or h2 is None:
        return 0.0
    return float(1.0 - cv2.compareHist(h1, h2, cv2.HISTCMP_BHATTACHARYYA))


def _signed_distance(mask: np.ndarray) -> np.ndarray:
    """Signed distance (float32, pixels) to the mask boundary: positive inside, negative out."""
    m = mask.astype(np.uint8)
    inside = cv2.distanceTransform(m, cv2.DIST_L2, 3)
    outside = cv2.distanceTransform(1 - m, cv2.DIST_L2, 3)
    return inside - outside


def fuse_masks(current: np.ndarray, new: np.ndarray, weight: float) -> np.ndarray:
    """Blend two (H, W) bool masks of one object by averaging their signed distance functions
    (``weight`` on ``new``): boundary positions are averaged, so independent errors of
    successive detections cancel instead of each replacing the last. Works on the union box."""
    if weight >= 1.0 or not current.any():
        return new
    if not new.any():
        return current
    # position follows the detection, only the shape is averaged: a track that lags behind its
    # object (flow that under-estimates motion) would otherwise never catch up, since each blend
    # keeps most of the old position
    current = _shift_to(current, new)
    box_c, box_n = mask_box(current), mask_box(new)
    h, w = current.shape
    pad = 4
    x1 = int(max(min(box_c[0], box_n[0]) - pad, 0))
    y1 = int(max(min(box_c[1], box_n[1]) - pad, 0))
    x2 = int(min(max(box_c[2], box_n[2]) + pad, w))
    y2 = int(min(max(box_c[3], box_n[3]) + pad, h))
    sd = (1.0 - weight) * _signed_distance(current[y1:y2, x1:x2]) + weight * _signed_distance(
        new[y1:y2, x1:x2]
    )
    out = np.zeros_like(current)
    out[y1:y2, x1:x2] = _threshold_unbiased(sd, y1, x1)
    return out


def _shift_to(mask: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``mask`` moved by whole pixels so that its centroid lands on ``target``'s centroid."""
    ys, xs = np.nonzero(mask)
    ty, tx = np.nonzero(target)
    dy = int(round(ty.mean() - ys.mean()))
    dx = int(round(tx.mean() - xs.mean()))
    if dy == 0 and dx == 0:
        return mask
    h, w = mask.shape
    out = np.zeros_like(mask)
    src = mask[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def _threshold_unbiased(sd: np.ndarray, y0: int = 0, x0: int = 0) -> np.ndarray:
    """``sd > 0``, with ties (pixels the blended boundary runs through, e.g. the ring where
    two masks one pixel apart differ) split half and half on a frame-fixed checkerboard.
    Always rounding ties out of the mask (or into it) biases every blend the same way, and
    repeated blends then erode (or dilate) the object a pixel at a time."""
    tie = np.abs(sd) < 1e-3
    if not tie.any():
        return sd > 0
    yy, xx = np.indices(sd.shape)
    return (sd > 0) | (tie & (((yy + y0) + (xx + x0)) % 2 == 0))


def boundaries_agree(a: np.ndarray, b: np.ndarray, band: int) -> bool:
    """True when two (H, W) bool masks of one object differ only within ``band`` px of one
    of their boundaries (at most 5% of the smaller mask elsewhere): each boundary is off by
    up to ``band`` px, which is noise, not a change of the object. Unlike an IoU threshold this does not depend on the
    object's size (2 px of noise costs a small object much more IoU than a large one)."""
    box_a, box_b = mask_box(a), mask_box(b)
    if box_a is None or box_b is None:
        return False
    h, w = a.shape
    x1 = int(max(min(box_a[0], box_b[0]) - band - 1, 0))
    y1 = int(max(min(box_a[1], box_b[1]) - band - 1, 0))
    x2 = int(min(max(box_a[2], box_b[2]) + band + 1, w))
    y2 = int(min(max(box_a[3], box_b[3]) + band + 1, h))
    ca = a[y1:y2, x1:x2].astype(np.uint8)
    cb = b[y1:y2, x1:x2].astype(bool)
    k = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    cb8 = cb.astype(np.uint8)
    ring = cv2.dilate(ca, k).astype(bool) & ~cv2.erode(ca, k).astype(bool)
    ring |= cv2.dilate(cb8, k).astype(bool) & ~cv2.erode(cb8, k).astype(bool)
    outside = np.count_nonzero((ca.astype(bool) ^ cb) & ~ring)
    return outside <= 0.05 * min(np.count_nonzero(ca), np.count_nonzero(cb))


def blend_labels(
    forward: np.ndarray, backward: np.ndarray, weight: float, min_area: int = 0
) -> np.ndarray:
    """Interpolate two label maps of one frame: each id's mask is the signed-distance blend of
    its two masks (``weight`` on ``backward``); an id in only one map keeps that mask. Overlaps
    go to the smaller object, except where both maps agree on an id."""
    from vidagent.tracking.flow import object_slices

    sf, sb = object_slices(forward), object_slices(backward)
    h, w = forward.shape
    pieces = []
    for i in sorted(set(sf) | set(sb)):
        boxes = [sl for sl in (sf.get(i), sb.get(i)) if sl is not None]
        y0 = max(min(sl[0].start for sl in boxes) - 4, 0)
        y1 = min(max(sl[0].stop for sl in boxes) + 4, h)
        x0 = max(min(sl[1].start for sl in boxes) - 4, 0)
        x1 = min(max(sl[1].stop for sl in boxes) + 4, w)
        mf = forward[y0:y1, x0:x1] == i
        mb = backward[y0:y1, x0:x1] == i
        nf, nb = int(np.count_nonzero(mf)), int(np.count_nonzero(mb))
        if nf > min_area and nb > min_area:
            m = fuse_masks(mf, mb, weight)
        else:
            m = mf if nf >= nb else mb
        pieces.append((i, m, y0, x0, int(np.count_nonzero(m))))
    out = np.zeros_like(forward)
    for i, m, y0, x0, _ in sorted(pieces, key=lambda p: -p[4]):
        out[y0 : y0 + m.shape[0], x0 : x0 + m.shape[1]][m] = i
    agree = (forward == backward) & (forward > 0)
    out[agree] = forward[agree]
    return out
