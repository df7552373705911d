"""``vidagent eval PRED GT``: J&F by the DAVIS protocol and identity metrics.

Both folders are tracks-format folders (``objects.json`` + ``masks/*.png``) or plain folders of
per-frame PNGs (DAVIS layout; palette or 8-bit grey, pixel value = object id, 0 = background).

Definitions (as the DAVIS 2017 evaluation code defines them):

- J: region IoU of an object's predicted and reference masks on a frame; 1 when both are empty.
- F: boundary F-measure. Boundaries are the one-pixel outline of each mask (a pixel is a
  boundary pixel when it differs from its right, lower or lower-right neighbour, the DAVIS
  ``seg2bmap`` rule); a boundary pixel counts as matched when a boundary pixel of the other mask
  lies within a disk of radius ceil(0.008 x image diagonal). F = 2PR/(P+R); both empty: 1;
  only one empty: 0.
- Objects are matched one to one by Hungarian assignment on each pair's (J+F)/2 averaged over
  all frames (the DAVIS unsupervised protocol); a reference object left unmatched is scored
  against an empty mask. J and F are averaged over all frames per object, then over reference
  objects. All frames count (as the DAVIS unsupervised evaluation does; its semi-supervised
  one drops the first and last). Reference pixels of value 255 are void (DAVIS) and count for
  neither J nor F, unless the reference is a tracks folder that lists 255 as an object.
- Identity: IDF1, IDP, IDR, ID switches and MOTA from py-motmetrics, with mask IoU >= 0.5 as
  the match gate and 1 - IoU as the distance.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from vidagent.errors import InputError

BOUNDARY_TOLERANCE = 0.008  # share of the image diagonal (DAVIS)


@dataclass
class MaskSequence:
    """Frame PNG paths of one folder and the object ids it names (None: read from the masks)."""

    root: Path
    paths: list[Path]
    labels: dict[int, str] | None

    def read(self, k: int) -> np.ndarray:
        return read_label_png(self.paths[k])


def read_label_png(path: Path) -> np.ndarray:
    """(H, W) uint8 label map from a palette or 8-bit grey PNG; InputError otherwise."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            if img.mode not in ("P", "L", "1"):
                raise InputError(
                    f"{path} is a {img.mode} image; masks must be 8-bit palette or grey PNGs"
                )
            arr = np.array(img)
    except InputError:
        raise
    except Exception as exc:  # PIL raises several types for broken files
        raise InputError(f"cannot read mask {path}: {exc}") from exc
    return arr.astype(np.uint8)


def open_mask_folder(folder: str | Path) -> MaskSequence:
    """A tracks folder (objects.json + masks/) or a folder of per-frame PNGs."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder; give a tracks folder or a folder of mask PNGs")
    labels = None
    mask_dir = root
    meta = root / "objects.json"
    if meta.exists():
        try:
            data = json.loads(meta.read_text())
            labels = {int(o["id"]): str(o.get("label", "")) for o in data["objects"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{meta} is not a valid objects.json: {exc}") from exc
        mask_dir = root / "masks"
        if not mask_dir.is_dir():
            raise InputError(f"{root} has objects.json but no masks/ folder")
    paths = sorted(p for p in mask_dir.iterdir() if p.suffix.lower() == ".png")
    if not paths:
        raise InputError(f"{mask_dir} holds no PNG masks")
    return MaskSequence(root, paths, labels)


# ---------------------------------------------------------------------- per-frame measures


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool one-pixel boundary of a bool mask (the DAVIS seg2bmap rule at full size)."""
    m = mask.astype(bool)
    right = np.zeros_like(m)
    down = np.zeros_like(m)
    diag = np.zeros_like(m)
    right[:, :-1] = m[:, 1:]
    down[:-1, :] = m[1:, :]
    diag[:-1, :-1] = m[1:, 1:]
    b = (m ^ right) | (m ^ down) | (m ^ diag)
    b[-1, :] = m[-1, :] ^ right[-1, :]
    b[:, -1] = m[:, -1] ^ down[:, -1]
    b[-1, -1] = False
    return b


def disk(radius: int) -> np.ndarray:
    """(2r+1, 2r+1) uint8 disk structuring element (x^2 + y^2 <= r^2)."""
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (x * x + y * y <= radius * radius).astype(np.uint8)


def boundary_radius(shape: tuple[int, int]) -> int:
    return math.ceil(BOUNDARY_TOLERANCE * math.hypot(shape[0], shape[1]))


class _Boundary:
    """Boundary pixels of one mask and their dilation by the tolerance disk."""

    def __init__(self, mask: np.ndarray, kernel: np.ndarray) -> None:
        self.b = boundary_map(mask)
        self.n = int(self.b.sum())
        self.dil = cv2.dilate(self.b.astype(np.uint8), kernel).astype(bool) if self.n else None


def _f_measure(pred: _Boundary, gt: _Boundary, region=np.s_[:, :]) -> float:
    """F of two boundaries; ``region`` (a crop holding both dilated boundaries) only saves time."""
    if pred.n == 0 and gt.n == 0:
        return 1.0
    if pred.n == 0 or gt.n == 0:
        return 0.0
    precision = float(np.logical_and(pred.b[region], gt.dil[region]).sum()) / pred.n
    recall = float(np.logical_and(gt.b[region], pred.dil[region]).sum()) / gt.n
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def j_measure(pred: np.ndarray, gt: np.ndarray) -> float:
    """Region IoU of two bool masks; 1 when both are empty."""
    union = np.logical_or(pred, gt).sum()
    return 1.0 if union == 0 else float(np.logical_and(pred, gt).sum()) / float(union)


def f_measure(pred: np.ndarray, gt: np.ndarray) -> float:
    """Boundary F-measure of two bool masks with the DAVIS tolerance."""
    k = disk(boundary_radius(gt.shape))
    return _f_measure(_Boundary(pred, k), _Boundary(gt, k))


# ---------------------------------------------------------------------- evaluation


def evaluate(pred_dir: str | Path, gt_dir: str | Path) -> dict:
    """Score predicted tracks against reference tracks.

    Returns the ``eval --json`` object: ``J``, ``F``, ``JF`` (means over reference objects),
    ``objects``: [{gt_id, pred_id (None when unmatched), J, F}], ``num_frames``, and identity
    metrics ``IDF1``, ``IDP``, ``IDR``, ``ID_switches``, ``MOTA``.

    Raises:
        InputError: a folder is missing, unreadable, empty, or the two differ in frame count
            or frame size.
    """
    import motmetrics as mm

    pred_seq, gt_seq = open_mask_folder(pred_dir), open_mask_folder(gt_dir)
    if len(pred_seq.paths) != len(gt_seq.paths):
        # allow a prediction for every video frame scored on an annotated subset, by name
        names = {p.name: p for p in pred_seq.paths}
        missing = [p.name for p in gt_seq.paths if p.name not in names]
        if missing:
            raise InputError(
                f"{pred_seq.root} has {len(pred_seq.paths)} masks and {gt_seq.root} has"
                f" {len(gt_seq.paths)}; frame {missing[0]} of the reference has no prediction"
            )
        pred_seq.paths = [names[p.name] for p in gt_seq.paths]
    T = len(gt_seq.paths)
    # a plain DAVIS folder marks void pixels 255; in a tracks folder 255 may be an object id
    void_label = 255 if gt_seq.labels is None or 255 not in gt_seq.labels else None
    j_sum: dict[tuple[int, int], float] = {}
    f_sum: dict[tuple[int, int], float] = {}
    gt_frames: dict[int, int] = {}  # frames where a gt object is non-empty (for unmatched scoring)
    gt_ids_all: set[int] = set(gt_seq.labels or {})
    pred_ids_all: set[int] = set(pred_seq.labels or {})
    acc = mm.MOTAccumulator(auto_id=True)
    kernel = None
    shape = None
    frame_pairs: list[tuple[list[int], list[int], dict]] = []
    for k in range(T):
        gt = gt_seq.read(k)
        pr = pred_seq.read(k)
        if shape is None:
            shape = gt.shape
            kernel = disk(boundary_radius(shape))
        if gt.shape != shape or pr.shape != shape:
            raise InputError(
                f"mask size differs: {gt_seq.paths[k].name} is {gt.shape[::-1]} in the reference"
                f" and {pr.shape[::-1]} in the prediction (width, height)"
            )
        if void_label is not None:
            void = gt == void_label
            if void.any():  # DAVIS: void pixels count for neither J nor F
                gt = np.where(void, 0, gt)
                pr = np.where(void, 0, pr)
        g_ids = [int(i) for i in np.unique(gt) if i]
        p_ids = [int(i) for i in np.unique(pr) if i]
        gt_ids_all.update(g_ids)
        pred_ids_all.update(p_ids)
        gm = {i: gt == i for i in g_ids}
        pm = {i: pr == i for i in p_ids}
        gb = {i: _Boundary(m, kernel) for i, m in gm.items()}
        pb = {i: _Boundary(m, kernel) for i, m in pm.items()}
        r = kernel.shape[0] // 2
        gbox = {i: _box(m, r) for i, m in gm.items()}
        pbox = {i: _box(m, r) for i, m in pm.items()}
        for g in g_ids:
            gt_frames[g] = gt_frames.get(g, 0) + 1
        dist = np.full((len(g_ids), len(p_ids)), np.nan)
        # only pairs with any overlap can score other than by the closed forms below
        for a, g in enumerate(g_ids):
            for b, p in enumerate(p_ids):
                if not _boxes_meet(gbox[g], pbox[p]):
                    continue  # farther apart than the boundary tolerance: J = F = 0
                gx0, gy0, gx1, gy1 = gbox[g]
                px0, py0, px1, py1 = pbox[p]
                region = np.s_[
                    max(min(gy0, py0), 0) : max(gy1, py1) + 1,
                    max(min(gx0, px0), 0) : max(gx1, px1) + 1,
                ]
                inter = np.logical_and(gm[g][region], pm[p][region]).sum()
                j = inter / float(np.logical_or(gm[g][region], pm[p][region]).sum())
                f = _f_measure(pb[p], gb[g], region)
                j_sum[(g, p)] = j_sum.get((g, p), 0.0) + j
                f_sum[(g, p)] = f_sum.get((g, p), 0.0) + f
                if j >= 0.5:
                    dist[a, b] = 1.0 - j
        frame_pairs.append((g_ids, p_ids, {}))
        acc.update(g_ids, p_ids, dist)
    # per-pair totals over all frames: frames where both are empty score 1 each, frames where
    # exactly one is present score 0; those were not visited above
    gt_list = sorted(gt_ids_all)
    pred_list = sorted(pred_ids_all)
    both_frames = _count_both(frame_pairs)
    present_pred = _count_present(frame_pairs, 1)
    present_gt = _count_present(frame_pairs, 0)
    J = np.zeros((len(gt_list), len(pred_list)))
    F = np.zeros_like(J)
    for a, g in enumerate(gt_list):
        for b, p in enumerate(pred_list):
            either = present_gt.get(g, 0) + present_pred.get(p, 0) - both_frames.get((g, p), 0)
            empty_both = T - either
            J[a, b] = (j_sum.get((g, p), 0.0) + empty_both) / T
            F[a, b] = (f_sum.get((g, p), 0.0) + empty_both) / T
    objects = []
    match: dict[int, int] = {}
    if J.size:
        rows, cols = linear_sum_assignment(-(J + F) / 2)
        match = {gt_list[r]: pred_list[c] for r, c in zip(rows, cols)}
    for a, g in enumerate(gt_list):
        if g in match:
            b = pred_list.index(match[g])
            objects.append(
                {"gt_id": g, "pred_id": match[g], "J": float(J[a, b]), "F": float(F[a, b])}
            )
        else:
            empty = (T - present_gt.get(g, 0)) / T  # frames where the reference is empty too
            objects.append({"gt_id": g, "pred_id": None, "J": empty, "F": empty})
    jm = float(np.mean([o["J"] for o in objects])) if objects else 1.0
    fm = float(np.mean([o["F"] for o in objects])) if objects else 1.0
    summary = mm.metrics.create().compute(
        acc, metrics=["idf1", "idp", "idr", "num_switches", "mota"], name="all"
    )
    row = summary.loc["all"]

    def _num(x) -> float | None:
        x = float(x)
        return None if math.isnan(x) else x

    return {
        "J": jm,
        "F": fm,
        "JF": (jm + fm) / 2,
        "objects": objects,
        "num_frames": T,
        "IDF1": _num(row["idf1"]),
        "IDP": _num(row["idp"]),
        "IDR": _num(row["idr"]),
        "ID_switches": int(row["num_switches"]),
        "MOTA": _num(row["mota"]),
    }


def _box(mask: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    return xs[0] - margin, ys[0] - margin, xs[-1] + margin, ys[-1] + margin


def _boxes_meet(a, b) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _count_both(frame_pairs) -> dict[tuple[int, int], int]:
    out: dict[tuple[int, int], int] = {}
    for g_ids, p_ids, _ in frame_pairs:
        for g in g_ids:
            for p in p_ids:
                out[(g, p)] = out.get((g, p), 0) + 1
    return out


def _count_present(frame_pairs, which: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for item in frame_pairs:
        for i in item[which]:
            out[i] = out.get(i, 0) + 1
    return out


def tracking_scores(pred: np.ndarray, gt: np.ndarray) -> dict:
    """Mean J and id consistency of predicted label maps against ground truth, in memory.

    ``pred`` and ``gt`` are (T, H, W) integer label maps. Each reference object is matched to
    the predicted id with the best mean J over all frames (Hungarian, one to one). Its id
    consistency is the share of the frames on which it is visible where the predicted id
    covering most of its pixels is its matched id (a frame where it is not covered at all
    counts as inconsistent).

    Returns:
        {"J": mean over objects, "id_consistency": mean over objects,
         "objects": [{gt_id, pred_id, J, id_consistency}]}.
    """
    T = len(gt)
    g_ids = [int(i) for i in np.unique(gt) if i]
    p_ids = [int(i) for i in np.unique(pred) if i]
    J = np.zeros((len(g_ids), len(p_ids)))
    for t in range(T):
        for a, g in enumerate(g_ids):
            gm = gt[t] == g
            for b, p in enumerate(p_ids):
                J[a, b] += j_measure(pred[t] == p, gm)
    J /= max(T, 1)
    match = {}
    if J.size:
        rows, cols = linear_sum_assignment(-J)
        match = {g_ids[r]: (p_ids[c], J[r, c]) for r, c in zip(rows, cols)}
    objects = []
    for g in g_ids:
        p, j = match.get(g, (None, None))
        if p is None:
            j = float(np.mean([float(not (gt[t] == g).any()) for t in range(T)]))
        good = seen = 0
        for t in range(T):
            under = pred[t][gt[t] == g]
            if not len(under):
                continue
            seen += 1
            counts = np.bincount(under.astype(np.int64))
            counts[0] = 0
            good += int(counts.any() and int(counts.argmax()) == p)
        objects.append(
            {
                "gt_id": g,
                "pred_id": p,
                "J": float(j),
                "id_consistency": good / seen if seen else 1.0,
            }
        )
    return {
        "J": float(np.mean([o["J"] for o in objects])) if objects else 1.0,
        "id_consistency": float(np.mean([o["id_consistency"] for o in objects]))
        if objects
        else 1.0,
        "objects": objects,
    }
