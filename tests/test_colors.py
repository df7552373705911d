"""Colour naming in LCh: robust to shading, noise, JPEG compression and partial occlusion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidagent.testing.scenes import PALETTE, shade_patch
from vidagent.query.plan import COLORS
from vidagent.colors import (
    color_vote,
    dominant_color,
    name_lch,
    name_object_color,
    object_pixels,
    rgb_to_lch,
)

CASES = [(name, rgb) for name, shades in PALETTE.items() for rgb in shades]
SEEDS = {rgb: k for k, (_, rgb) in enumerate(CASES)}


def _patch(rgb, nuisance: str, seed: int = 0):
    """(frame 64x64x3 uint8, mask bool) of a disc of colour rgb on a gray-green background."""
    rng = np.random.default_rng(seed)
    h = w = 64
    bg = np.full((h, w, 3), (110, 125, 105), np.float32)
    mask = np.zeros((h, w), np.uint8)
    cv2.circle(mask, (32, 32), 22, 1, -1)
    mask = mask.astype(bool)
    strength = 0.45 if nuisance in ("shading", "all") else 0.0
    obj = shade_patch(rgb, h, w, rng, strength) if strength else np.broadcast_to(
        np.asarray(rgb, np.float32), (h, w, 3))
    img = bg.copy()
    img[mask] = obj[mask]
    if nuisance in ("noise", "all"):
        img += rng.normal(0, 12, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if nuisance in ("jpeg", "all"):
        ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 35])
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    if nuisance in ("occlusion", "all"):
        # a black bar hides 40% of the object; the mask is the visible part only
        img[:, 38:] = (20, 20, 20) if tuple(rgb) != (25, 25, 25) else (230, 230, 230)
        mask = mask.copy()
        mask[:, 38:] = False
    return img, mask


@pytest.mark.parametrize("nuisance", ["clean", "shading", "noise", "jpeg", "occlusion", "all"])
@pytest.mark.parametrize("name,rgb", CASES)
def test_palette_colours_are_named_under_nuisances(name, rgb, nuisance):
    img, mask = _patch(rgb, nuisance, seed=SEEDS[rgb])
    assert name_object_color(img, mask) == name


@pytest.mark.parametrize(
    "rgb,name",
    [((255, 0, 0), "red"), ((139, 0, 0), "red"), ((255, 165, 0), "orange"),
     ((139, 69, 19), "brown"), ((255, 255, 0), "yellow"), ((0, 128, 0), "green"),
     ((0, 0, 255), "blue"), ((0, 0, 128), "blue"), ((135, 206, 235), "blue"),
     ((128, 0, 128), "purple"), ((255, 192, 203), "pink"), ((255, 105, 180), "pink"),
     ((0, 0, 0), "black"), ((255, 255, 255), "white"), ((128, 128, 128), "gray"),
     ((192, 192, 192), "gray")],
)
def test_reference_colours(rgb, name):
    assert dominant_color(np.array([rgb] * 10, np.uint8)) == name


def test_dark_shading_keeps_orange_orange():
    """The shadowed side of an orange ball is brown-looking; the lit side decides."""
    img, mask = _patch((255, 140, 0), "clean")
    ramp = np.linspace(1.0, 0.45, 64, dtype=np.float32)[None, :, None]
    img = np.clip(img * ramp, 0, 255).astype(np.uint8)
    assert name_object_color(img, mask) == "orange"


def test_majority_wins_for_two_coloured_objects():
    px = np.array([(30, 80, 220)] * 70 + [(250, 250, 250)] * 30, np.uint8)
    vote = color_vote(px)
    assert vote.name == "blue" and 0.5 < vote.share <= 1.0


def test_empty_and_tiny_inputs():
    assert dominant_color(np.zeros((0, 3), np.uint8)) is None
    assert object_pixels(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), bool)).shape == (0, 3)
    mask = np.zeros((8, 8), bool)
    mask[3, 3] = True
    img = np.zeros((8, 8, 3), np.uint8)
    img[3, 3] = (0, 0, 255)
    assert len(object_pixels(img, mask)) == 1


def test_lch_conversion_and_names_are_vectorised():
    lch = rgb_to_lch(np.array([(255, 0, 0), (0, 0, 255), (128, 128, 128)], np.uint8))
    assert lch.shape == (3, 3) and lch[2, 1] < 1.0
    names = [COLORS[i] for i in name_lch(lch)]
    assert names == ["red", "blue", "gray"]


def test_object_pixels_subsamples():
    img = np.full((100, 100, 3), 200, np.uint8)
    mask = np.ones((100, 100), bool)
    assert len(object_pixels(img, mask, max_pixels=300)) == 300
