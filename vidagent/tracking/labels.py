"""Small helpers on label maps and masks (numpy only)."""

from __future__ import annotations

import cv2
import numpy as np

from vidagent.arrays import nonzero, occupied_box


def _boxes_and_areas(masks: list[np.ndarray]):
    boxes, areas = [], []
    for m in masks:
        box = occupied_box(m)
        boxes.append(box)
        areas.append(int(np.count_nonzero(m[box[0] : box[1]])) if box else 0)
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
    box = occupied_box(mask)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    return np.array([x0, y0, x1, y1], np.float32)


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of XYXY boxes ``a`` (N, 4) and ``b`` (M, 4)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


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


def mean_color(frame: np.ndarray, mask: np.ndarray, lab: np.ndarray | None = None):
    """Mean CIELAB colour (float32 (3,)) of a mask's interior (eroded by 1 px when that keeps a
    quarter of it) in an RGB frame (``lab``: the frame already converted), None when empty.
    For small objects it is a steadier signature than a histogram of a few dozen pixels."""
    box = mask_box(mask)
    if box is None:
        return None
    x0, y0, x1, y1 = (int(v) for v in box)
    crop = mask[y0:y1, x0:x1]
    inner = cv2.erode(crop.astype(np.uint8), np.ones((3, 3), np.uint8),
                      borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    if np.count_nonzero(inner) * 4 >= np.count_nonzero(crop):
        crop = inner
    if lab is None:
        lab = cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_RGB2LAB)
    else:
        lab = lab[y0:y1, x0:x1]
    return lab[crop].astype(np.float32).mean(axis=0)


def color_similarity(a: np.ndarray | None, b: np.ndarray | None, scale: float = 30.0) -> float:
    """1 - (distance between two mean Lab colours, lightness at half weight) / ``scale``,
    clipped to [0, 1]; 0 when one is missing."""
    if a is None or b is None:
        return 0.0
    d = np.asarray(a, np.float32) - np.asarray(b, np.float32)
    d[0] *= 0.5
    return float(np.clip(1.0 - np.sqrt(float((d * d).sum())) / scale, 0.0, 1.0))


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


def _exact_distance(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels) of each pixel of bool ``mask`` to the nearest pixel outside
    it (0 outside)."""
    return cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


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
    current = shift_to(current, new)
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


def shift_to(mask: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``mask`` moved by whole pixels so that its centroid lands on ``target``'s centroid."""
    ys, xs = nonzero(mask)
    ty, tx = nonzero(target)
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


def _translated(sd: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """A signed-distance crop moved by (dx, dy) px (sub-pixel, bilinear); what comes in from
    outside the crop is outside the mask."""
    if abs(dx) < 1e-3 and abs(dy) < 1e-3:
        return sd
    a = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
    h, w = sd.shape
    return cv2.warpAffine(sd, a, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=-float(max(h, w)))


def interpolate_masks(
    a: np.ndarray, b: np.ndarray, weight: float, drift: tuple[float, float] | None = None
) -> np.ndarray:
    """The mask between two (H, W) bool masks of one object at ``weight`` (0: ``a``, 1: ``b``):
    both are moved to one centroid and their signed distances averaged, so the shape morphs
    from one to the other (a blend in place would keep two disjoint masks of a fast object
    apart, or vanish between them). The centroid is ``a``'s moved by ``weight`` x ``drift``
    when ``drift`` is given (``a`` carried forward from the last anchor, ``drift`` how far the
    forward-carried mask missed the next anchor: its error grows with time), else the
    interpolation of the two centroids. ``interpolate_crops`` on the masks' occupied boxes."""
    if not a.any() or weight >= 1.0:
        return b
    if not b.any() or weight <= 0.0:
        return a
    ay0, ay1, ax0, ax1 = occupied_box(a)
    by0, by1, bx0, bx1 = occupied_box(b)
    crop, (x1, y1) = interpolate_crops(a[ay0:ay1, ax0:ax1], (ax0, ay0), b[by0:by1, bx0:bx1],
                                       (bx0, by0), a.shape, weight, drift)
    out = np.zeros(a.shape, a.dtype)
    out[y1 : y1 + crop.shape[0], x1 : x1 + crop.shape[1]] = crop
    return out


def _window(crop: np.ndarray, origin: tuple[int, int], x1: int, y1: int, x2: int,
            y2: int) -> np.ndarray:
    """The frame's window [y1:y2, x1:x2] of bool mask ``crop`` (top-left at ``origin`` (x, y),
    inside the frame): its pixels there, False elsewhere."""
    out = np.zeros((y2 - y1, x2 - x1), bool)
    ox, oy = origin
    h, w = crop.shape
    cx1, cy1, cx2, cy2 = max(ox, x1), max(oy, y1), min(ox + w, x2), min(oy + h, y2)
    if cx2 > cx1 and cy2 > cy1:
        out[cy1 - y1 : cy2 - y1, cx1 - x1 : cx2 - x1] = crop[cy1 - oy : cy2 - oy, cx1 - ox : cx2 - ox]
    return out


def interpolate_crops(
    a: np.ndarray, a_origin: tuple[int, int], b: np.ndarray, b_origin: tuple[int, int],
    shape: tuple[int, int], weight: float, drift: tuple[float, float] | None = None,
) -> tuple[np.ndarray, tuple[int, int]]:
    """``interpolate_masks`` of two masks given as bool crops (top-left (x, y) ``a_origin``,
    ``b_origin``, inside a frame of ``shape``), without whole-frame arrays: the mask between
    them as a crop and its top-left (x, y); the same pixels ``interpolate_masks`` sets."""
    if not a.any() or weight >= 1.0:
        return b, b_origin
    if not b.any() or weight <= 0.0:
        return a, a_origin
    ya, xa = np.nonzero(a)
    yb, xb = np.nonzero(b)
    ya, xa = ya + a_origin[1], xa + a_origin[0]
    yb, xb = yb + b_origin[1], xb + b_origin[0]
    ca = np.array([xa.mean(), ya.mean()])
    cb = np.array([xb.mean(), yb.mean()])
    if drift is not None:
        c = ca + weight * np.asarray(drift, np.float64)
    else:
        c = (1.0 - weight) * ca + weight * cb
    h, w = shape
    pad = 4
    ra, rb = c - ca, c - cb  # how far each moves
    x1 = int(max(min(xa.min() + min(ra[0], 0), xb.min() + min(rb[0], 0)) - pad, 0))
    y1 = int(max(min(ya.min() + min(ra[1], 0), yb.min() + min(rb[1], 0)) - pad, 0))
    x2 = int(min(max(xa.max() + max(ra[0], 0), xb.max() + max(rb[0], 0)) + 1 + pad, w))
    y2 = int(min(max(ya.max() + max(ra[1], 0), yb.max() + max(rb[1], 0)) + 1 + pad, h))
    # what can be set: each mask at its place after its move, 2 px around (bilinear reach);
    # elsewhere both moved signed distances are below -0.955 (not the mask's own chamfer step)
    win = (x1, y1, x2, y2)
    da, db = c - ca, c - cb
    ox1 = max(int(np.floor(min(xa.min() + da[0], xb.min() + db[0]))) - 2, x1)
    oy1 = max(int(np.floor(min(ya.min() + da[1], yb.min() + db[1]))) - 2, y1)
    ox2 = min(int(np.ceil(max(xa.max() + da[0], xb.max() + db[0]))) + 3, x2)
    oy2 = min(int(np.ceil(max(ya.max() + da[1], yb.max() + db[1]))) + 3, y2)
    out = np.zeros((y2 - y1, x2 - x1), bool)
    if ox2 <= ox1 or oy2 <= oy1:
        return out, (x1, y1)
    near = (ox1, oy1, ox2, oy2)
    sa = _translated(_signed_distance_near(a, a_origin, (xa, ya), win, near, da), *da)
    sb = _translated(_signed_distance_near(b, b_origin, (xb, yb), win, near, db), *db)
    ry, rx = slice(oy1 - y1, oy2 - y1), slice(ox1 - x1, ox2 - x1)
    out[ry, rx] = _threshold_unbiased((1.0 - weight) * sa[ry, rx] + weight * sb[ry, rx], oy1, ox1)
    return out, (x1, y1)


def _signed_distance_near(
    crop: np.ndarray, origin: tuple[int, int], pixels: tuple[np.ndarray, np.ndarray],
    win: tuple[int, int, int, int], near: tuple[int, int, int, int], shift: np.ndarray,
) -> np.ndarray:
    """``_signed_distance`` of the frame's window ``win`` (x1, y1, x2, y2) of bool mask ``crop``
    (top-left at ``origin``; ``pixels`` its (xs, ys) in the frame), exact where
    ``_translated(..., *shift)`` reads it for the pixels of ``near`` (a rectangle in ``win``),
    computed on a window around the mask and those pixels only: far apart masks of a fast
    object make ``win`` ~20x larger than either. Elsewhere it holds -max(window side), below
    any pixel's outside distance there, as ``_translated`` fills what comes in from outside.

    The 3x3 chamfer distance of a pixel inside a rectangle that holds the whole mask (and its
    1 px ring) is the same in any such rectangle (the cheapest paths are monotone, inside the
    bounding box of their ends), and bilinear sampling reads 2x2 neighbours: the values
    ``near`` gets are those of the whole window, bit for bit (tests/test_tracking.py)."""
    x1, y1, x2, y2 = win
    xs, ys = pixels
    nx1, ny1, nx2, ny2 = near
    # source pixels that pixels of ``near`` sample (2x2 neighbours, a pixel more either side),
    # and the mask with its 1 px ring of background
    sx1 = min(int(np.floor(nx1 - shift[0])) - 2, int(xs.min()) - 1)
    sy1 = min(int(np.floor(ny1 - shift[1])) - 2, int(ys.min()) - 1)
    sx2 = max(int(np.ceil(nx2 - shift[0])) + 3, int(xs.max()) + 2)
    sy2 = max(int(np.ceil(ny2 - shift[1])) + 3, int(ys.max()) + 2)
    sx1, sy1, sx2, sy2 = max(sx1, x1), max(sy1, y1), min(sx2, x2), min(sy2, y2)
    # OpenCV's distanceTransform gives the same float values only for windows whose left edges
    # are 4 columns apart (its vector loop; 1 ulp off otherwise, which flips pixels on ties):
    # the window starts a multiple of 8 columns into ``win``
    sx1 = x1 + (sx1 - x1) // 8 * 8
    h, w = y2 - y1, x2 - x1
    if (sx1, sy1, sx2, sy2) == win:
        return _signed_distance(_window(crop, origin, x1, y1, x2, y2))
    out = np.full((h, w), -float(max(h, w)), np.float32)
    out[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = _signed_distance(
        _window(crop, origin, sx1, sy1, sx2, sy2))
    return out


def place_shape(
    shape: np.ndarray, det: np.ndarray, pad: int = 6
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """A shape model (a bool crop) moved, sub-pixel, so its centroid lands on ``det``'s.

    Returns (signed distance of the moved shape, signed distance of ``det``, top-left (x, y)),
    both over ``det``'s box padded by ``pad`` px (and by the shape's extent beyond it)."""
    h, w = det.shape
    dy, dx = nonzero(det)
    sy, sx = np.nonzero(shape)
    cd = np.array([dx.mean(), dy.mean()])
    cs = np.array([sx.mean(), sy.mean()])
    sh, sw = shape.shape
    half = np.array([max(cs[0], sw - cs[0]), max(cs[1], sh - cs[1])])
    x1 = int(max(min(dx.min(), np.floor(cd[0] - half[0])) - pad, 0))
    y1 = int(max(min(dy.min(), np.floor(cd[1] - half[1])) - pad, 0))
    x2 = int(min(max(dx.max() + 1, np.ceil(cd[0] + half[0])) + pad, w))
    y2 = int(min(max(dy.max() + 1, np.ceil(cd[1] + half[1])) + pad, h))
    p = pad
    sd_shape = _signed_distance(np.pad(shape, p))
    # shape pixel (x, y) of the padded crop goes to (x - p - cs + cd - (x1, y1)) of the box
    off = cd - cs - np.array([x1 + p, y1 + p])
    a = np.array([[1, 0, off[0]], [0, 1, off[1]]], np.float32)
    moved = cv2.warpAffine(sd_shape, a, (x2 - x1, y2 - y1), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=-float(max(h, w)))
    return moved, _signed_distance(det[y1:y2, x1:x2]), (x1, y1)


def fuse_shape(
    shape: np.ndarray, det: np.ndarray, weight: float, band: int, clamp: int
) -> np.ndarray | None:
    """Blend a detection mask with an object's shape model (``place_shape``): signed distances
    averaged, ``weight`` on the detection. None when the two disagree (they differ farther
    than ``band`` px from the shape's boundary: the object changed, e.g. it is partly hidden).
    The result differs from the detection only within ``clamp`` px of its boundary: the
    detection is the evidence, the model only evens out its boundary noise."""
    if not shape.any() or not det.any():
        return None
    sd_s, sd_d, (x1, y1) = place_shape(shape, det)
    crop_d = sd_d > 0
    # every pixel where they differ lies within ``band`` px of the shape's boundary
    off = np.count_nonzero(crop_d & (sd_s < -band)) + np.count_nonzero(~crop_d & (sd_s > band))
    if off > 0.02 * np.count_nonzero(crop_d):
        return None
    out = _threshold_unbiased((1.0 - weight) * sd_s + weight * sd_d, y1, x1)
    if clamp >= 0:
        # in whole pixels: ``_signed_distance``'s 3x3 L2 metric counts 0.955 per step, so a
        # test on it would let the blend drop the detection's second ring too (a 1 px dilated
        # detection then came out 1 px eroded, worse than given)
        inner = _exact_distance(crop_d)
        outer = _exact_distance(~crop_d)
        out = (out & (outer <= clamp + 1e-3)) | (inner >= clamp + 1 - 1e-3)
    full = np.zeros_like(det)
    full[y1 : y1 + out.shape[0], x1 : x1 + out.shape[1]] = out
    return full


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
    forward: np.ndarray,
    backward: np.ndarray,
    weight: float,
    min_area: int = 0,
    drift: dict[int, tuple[float, float]] | None = None,
    forward_slices: dict[int, tuple[slice, slice]] | None = None,
    backward_slices: dict[int, tuple[slice, slice]] | None = None,
) -> np.ndarray:
    """Interpolate two label maps of one frame: each id's mask is between its two masks
    (``interpolate_masks``, ``weight`` on ``backward``, ``drift`` by id); an id in only one map
    keeps that mask (moved by ``weight`` x its drift, when it is the forward one and has one).
    Overlaps go to the smaller object, except where both maps agree on an id.
    ``forward_slices``, ``backward_slices``: ``object_slices`` of the two maps, when the caller
    has them."""
    from vidagent.tracking.flow import object_slices

    sf = object_slices(forward) if forward_slices is None else forward_slices
    sb = object_slices(backward) if backward_slices is None else backward_slices
    h, w = forward.shape
    pieces = []
    for i in sorted(set(sf) | set(sb)):
        d = (drift or {}).get(i)
        boxes = [sl for sl in (sf.get(i), sb.get(i)) if sl is not None]
        mx, my = (abs(weight * d[0]), abs(weight * d[1])) if d is not None else (0.0, 0.0)
        y0 = int(max(min(sl[0].start for sl in boxes) - 4 - my, 0))
        y1 = int(min(max(sl[0].stop for sl in boxes) + 5 + my, h))
        x0 = int(max(min(sl[1].start for sl in boxes) - 4 - mx, 0))
        x1 = int(min(max(sl[1].stop for sl in boxes) + 5 + mx, w))
        mf = forward[y0:y1, x0:x1] == i
        mb = backward[y0:y1, x0:x1] == i
        nf, nb = int(np.count_nonzero(mf)), int(np.count_nonzero(mb))
        if nf > min_area and nb > min_area:
            m = interpolate_masks(mf, mb, weight, d)
        elif nf >= nb and d is not None and nf:
            m = _translated(_signed_distance(mf), weight * d[0], weight * d[1]) > 0
        else:
            m = mf if nf >= nb else mb
        pieces.append((i, m, y0, x0, int(np.count_nonzero(m))))
    out = np.zeros_like(forward)
    for i, m, y0, x0, _ in sorted(pieces, key=lambda p: -p[4]):
        out[y0 : y0 + m.shape[0], x0 : x0 + m.shape[1]][m] = i
    agree = (forward == backward) & (forward > 0)
    out[agree] = forward[agree]
    return out


def paint_by_depth(labels: np.ndarray, masks: dict[int, np.ndarray]) -> np.ndarray:
    """``paint``, except that a pixel two new masks both claim goes to the one it lies deeper
    inside (farther from that mask's boundary): where two noisy masks of touching objects
    overlap, the pixel is usually on one's dilated rim and inside the other. Ties go to the
    smaller mask, as in ``paint``."""
    out = paint(labels, masks)
    if len(masks) < 2:
        return out
    ids = list(masks)
    count = np.zeros(labels.shape, np.uint8)
    for i in ids:
        count += masks[i]
    ys, xs = np.nonzero(count > 1)
    if not len(ys):
        return out
    best = np.full(len(ys), -1.0)
    owner = out[ys, xs].copy()
    for i in sorted(ids, key=lambda i: -int(masks[i].sum())):  # larger first: ties to smaller
        m = masks[i]
        on = m[ys, xs]
        if not on.any():
            continue
        box = mask_box(m)
        x0, y0, x1, y1 = (int(v) for v in box)
        dist = cv2.distanceTransform(
            np.pad(m[y0:y1, x0:x1], 1).astype(np.uint8), cv2.DIST_L2, 3
        )[1:-1, 1:-1]
        d = np.where(on, dist[np.clip(ys - y0, 0, y1 - y0 - 1), np.clip(xs - x0, 0, x1 - x0 - 1)],
                     -1.0)
        take = on & (d >= best)
        best[take] = d[take]
        owner[take] = i
    out[ys, xs] = owner
    return out


def color_shift(
    lab: np.ndarray,
    color: np.ndarray,
    crop: np.ndarray,
    origin: tuple[int, int],
    reach: float,
    blocked: np.ndarray | None = None,
    scale: float = 30.0,
) -> tuple[np.ndarray, float, float]:
    """Where, within ``reach`` px of where it is, a mask looks most like a mean colour.

    ``lab``: the frame in CIELAB (float32 (H, W, 3)); ``crop``: a bool mask crop with its
    top-left at ``origin`` (x, y); ``blocked``: (H, W) bool pixels that never match (other
    objects'). The cost of a placement is the mean distance of the colours under the mask to
    ``color`` (``color_similarity``'s, each pixel's capped at ``scale``; outside the frame
    counts as unlike). Works on a window around the mask only.

    Returns (best (dx, dy), similarity there, similarity where the mask is), similarities as
    in ``color_similarity`` (1 - cost / ``scale``)."""
    h, w = lab.shape[:2]
    ch, cw = crop.shape
    r = int(np.ceil(max(reach, 0.0)))
    x0, y0 = origin
    wx0, wy0 = max(x0 - r, 0), max(y0 - r, 0)
    wx1, wy1 = min(x0 + cw + r, w), min(y0 + ch + r, h)
    d = lab[wy0:wy1, wx0:wx1].astype(np.float32) - np.asarray(color, np.float32)
    d[..., 0] *= 0.5
    dist = np.minimum(np.sqrt((d * d).sum(-1)), scale)
    if blocked is not None:
        dist[blocked[wy0:wy1, wx0:wx1]] = scale
    # what the (2r + 1)^2 placements of the mask cover: x0 - r .. x0 + cw + r (and y), the
    # window where it lies in the frame, unlike elsewhere
    region = np.full((2 * r + ch, 2 * r + cw), scale, np.float32)
    oy, ox = wy0 - (y0 - r), wx0 - (x0 - r)  # region offset of the window's top-left
    region[oy : oy + dist.shape[0], ox : ox + dist.shape[1]] = dist
    kernel = crop.astype(np.float32) / max(float(crop.sum()), 1.0)
    # region index (y, x) = placement top-left (x0 - r + x, y0 - r + y)
    cost = cv2.filter2D(region, -1, kernel, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    dys, dxs = np.mgrid[-r : r + 1, -r : r + 1]
    vals = cost[dys + r, dxs + r]
    vals = np.where(np.hypot(dxs, dys) <= reach, vals, np.inf)
    k = int(np.argmin(vals))
    here = float(cost[r, r])
    return (np.array([dxs.flat[k], dys.flat[k]], float), 1.0 - float(vals.flat[k]) / scale,
            1.0 - here / scale)
