"""Colour names from pixels, decided in CIELAB / LCh (perceptual) space.

The eleven names are those of CONTRACT.md (``vidagent.vocab.COLORS``). Naming is made robust
to the usual nuisances of video:

* noise and compression: :func:`object_pixels` median-filters the object's crop and erodes its
  mask before sampling, so block artefacts and colour bleeding at the border are left out;
* shading: pixels first vote for a hue family (or achromatic), which shading barely moves;
  lightness-dependent distinctions inside the family (orange vs brown, red vs pink, white vs
  gray) are made on the *lit* surface (an upper percentile of lightness), so a shadowed side
  does not turn an orange ball brown, and specular highlights are left out;
* partial occlusion: only the visible (mask) pixels are used and each pixel votes, so a few
  wrong pixels cannot move the name.

All inputs are RGB uint8 (HWC for images, (N, 3) for pixel lists).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidagent.vocab import COLORS

CHROMA_ACHROMATIC = 11.0  # LCh chroma below which a pixel is black / gray / white
L_BLACK = 24.0  # lightness below which an achromatic pixel is black
L_WHITE = 78.0  # lightness above which an achromatic pixel is white
LIT_PERCENTILES = (45.0, 97.0)  # pixels above the upper one are treated as highlights
MAX_PIXELS = 4096  # pixels kept per call (subsampled evenly)


def rgb_to_lch(pixels: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 RGB -> (N, 3) float32 L (0..100), C (chroma), h (hue degrees 0..360)."""
    rgb = np.asarray(pixels, dtype=np.float32).reshape(-1, 1, 3) / 255.0
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360.0
    return np.stack([lab[:, 0], chroma, hue], axis=1).astype(np.float32)


def name_lch(lch: np.ndarray) -> np.ndarray:
    """(N, 3) L, C, h -> (N,) int indices into ``COLORS``, one name per pixel."""
    L, C, h = lch[:, 0], lch[:, 1], lch[:, 2]
    idx = {name: i for i, name in enumerate(COLORS)}
    out = np.full(len(lch), idx["gray"], dtype=np.int64)

    achrom = C < CHROMA_ACHROMATIC
    out[achrom & (L < L_BLACK)] = idx["black"]
    out[achrom & (L > L_WHITE)] = idx["white"]

    chrom = ~achrom
    # red / pink side of the hue circle (magenta-red .. red)
    # magenta-red (345..5 degrees) is pink down to a lower lightness than orange-red (5..20)
    rose = chrom & ((h >= 345) | (h < 20))
    pink_from = np.where((h[rose] >= 345) | (h[rose] < 5), 42.0, 60.0)
    out[rose] = np.where(L[rose] >= pink_from, idx["pink"], idx["red"])
    red = chrom & (h >= 20) & (h < 50)
    out[red] = np.select(
        [(L[red] >= 70) & (C[red] < 60), (L[red] < 60) & (C[red] < 35)],
        [idx["pink"], idx["brown"]],
        idx["red"],
    )
    orange = chrom & (h >= 50) & (h < 85)
    out[orange] = np.where(
        (L[orange] < 50) | ((C[orange] < 35) & (L[orange] < 80)), idx["brown"], idx["orange"]
    )
    yellow = chrom & (h >= 85) & (h < 110)
    out[yellow] = np.select(
        [L[yellow] >= 55, h[yellow] < 95], [idx["yellow"], idx["brown"]], idx["green"]
    )
    out[chrom & (h >= 110) & (h < 195)] = idx["green"]
    out[chrom & (h >= 195) & (h < 308)] = idx["blue"]
    violet = chrom & (h >= 308) & (h < 345)
    out[violet] = np.where(L[violet] >= 66, idx["pink"], idx["purple"])
    return out


# hue families (degrees of LCh hue); a name is decided inside the winning family
_FAMILY_EDGES = np.array([20.0, 50.0, 85.0, 110.0, 195.0, 308.0, 345.0])
ACHROMATIC_FAMILY = len(_FAMILY_EDGES)  # family index of black / gray / white pixels
REF_PERCENTILE = 85.0  # lightness/chroma percentile that stands for the lit surface


def hue_family(lch: np.ndarray) -> np.ndarray:
    """(N,) int family per pixel: 0..6 hue sectors (rose .. violet), 7 achromatic."""
    fam = np.searchsorted(_FAMILY_EDGES, lch[:, 2], side="right") % len(_FAMILY_EDGES)
    fam[lch[:, 1] < CHROMA_ACHROMATIC] = ACHROMATIC_FAMILY
    return fam


@dataclass(frozen=True)
class ColorVote:
    """The decided name and the share of pixels in its hue family (0..1)."""

    name: str
    share: float


def color_vote(pixels: np.ndarray) -> ColorVote | None:
    """Dominant colour name of (N, 3) uint8 RGB pixels; ``None`` when there are no pixels.

    Pixels vote for a hue family (or achromatic); inside the winning family the lit surface
    (the ``REF_PERCENTILE`` of lightness and chroma, specular highlights above the 97th
    lightness percentile left out) and the circular mean hue decide the name, so shading that
    darkens part of an object does not change it.
    """
    px = np.asarray(pixels, dtype=np.uint8).reshape(-1, 3)
    if len(px) == 0:
        return None
    if len(px) > MAX_PIXELS:
        px = px[np.linspace(0, len(px) - 1, MAX_PIXELS).astype(np.int64)]
    lch = rgb_to_lch(px)
    if len(lch) >= 20:  # leave out specular highlights
        lch = lch[lch[:, 0] <= np.percentile(lch[:, 0], LIT_PERCENTILES[1])]
    fam = hue_family(lch)
    votes = np.bincount(fam, minlength=ACHROMATIC_FAMILY + 1)
    best = int(votes.argmax())
    sel = lch[fam == best]
    L = float(np.percentile(sel[:, 0], REF_PERCENTILE))
    C = float(np.percentile(sel[:, 1], REF_PERCENTILE))
    rad = np.radians(sel[:, 2])
    h = float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean())) % 360.0)
    if best == ACHROMATIC_FAMILY:
        C = min(C, CHROMA_ACHROMATIC - 1e-3)
    else:
        C = max(C, CHROMA_ACHROMATIC)
        # keep the mean hue inside the family (its edges can wrap around 0 degrees)
        lo = _FAMILY_EDGES[best - 1] if best > 0 else _FAMILY_EDGES[-1]
        hi = _FAMILY_EDGES[best]
        if best > 0 and not lo <= h < hi:
            h = float(np.clip(h, lo, hi - 1e-3))
        elif best == 0 and not (h >= lo or h < hi):
            h = lo if abs(h - lo) < abs(h - hi) else hi - 1e-3
    name = COLORS[int(name_lch(np.array([[L, C, h]], np.float32))[0])]
    return ColorVote(name, float(votes[best] / votes.sum()))


def dominant_color(pixels: np.ndarray) -> str | None:
    """Colour name (one of ``COLORS``) of (N, 3) uint8 RGB pixels, or ``None`` with none."""
    vote = color_vote(pixels)
    return None if vote is None else vote.name


def object_pixels(
    frame: np.ndarray, mask: np.ndarray, max_pixels: int = 512, rng_seed: int = 0
) -> np.ndarray:
    """Clean interior pixels of one object: (N, 3) uint8 RGB, N <= ``max_pixels``.

    Args:
        frame: (H, W, 3) uint8 RGB.
        mask: (H, W) bool, the object's visible pixels.
    The crop around the mask is median-filtered (noise, compression) and the mask eroded by a
    few pixels when the object is large enough (border pixels mix with the background).
    """
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return np.zeros((0, 3), np.uint8)
    h, w = mask.shape
    pad = 3
    y0, y1 = max(int(ys.min()) - pad, 0), min(int(ys.max()) + pad + 1, h)
    x0, x1 = max(int(xs.min()) - pad, 0), min(int(xs.max()) + pad + 1, w)
    crop = np.ascontiguousarray(frame[y0:y1, x0:x1])
    sub = mask[y0:y1, x0:x1].astype(np.uint8)
    if min(crop.shape[:2]) >= 5:
        crop = cv2.medianBlur(crop, 5)
    area = int(sub.sum())
    radius = 3 if area >= 900 else 2 if area >= 250 else 1 if area >= 60 else 0
    if radius:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        eroded = cv2.erode(sub, kernel)
        if eroded.sum() >= max(20, area // 8):
            sub = eroded
    px = crop[sub.astype(bool)]
    if len(px) > max_pixels:
        rng = np.random.default_rng(rng_seed)
        px = px[rng.choice(len(px), max_pixels, replace=False)]
    return px.astype(np.uint8)


def name_object_color(frame: np.ndarray, mask: np.ndarray) -> str | None:
    """Colour name of the object ``mask`` (H, W bool) in ``frame`` (H, W, 3 uint8 RGB)."""
    return dominant_color(object_pixels(frame, mask))
