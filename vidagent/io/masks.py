"""Label-map PNGs (DAVIS convention) and COCO RLE helpers.

A label map is an (H, W) uint8 array: pixel value = object id, 0 = background.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidagent.errors import InputError


def davis_palette() -> list[int]:
    """The 256-colour DAVIS palette (bit-interleaved, as in the DAVIS toolkit), flat RGB list."""
    pal = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal += [r, g, b]
    return pal


_PALETTE = davis_palette()


def write_label_png(path: str | Path, label_map: np.ndarray) -> None:
    """Save an (H, W) uint8 label map as an 8-bit palette PNG."""
    from PIL import Image

    im = Image.fromarray(np.asarray(label_map, dtype=np.uint8), mode="P")
    im.putpalette(_PALETTE)
    im.save(path, optimize=False, compress_level=1)


def read_label_png(path: str | Path) -> np.ndarray:
    """Read an 8-bit label PNG (palette or grayscale) as an (H, W) uint8 array of ids."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            if im.mode in ("P", "L"):
                arr = np.asarray(im)
            elif im.mode == "1":
                arr = np.asarray(im).astype(np.uint8)
            elif im.mode in ("I", "I;16", "I;16B"):
                arr = np.asarray(im)
                if arr.max(initial=0) > 255:
                    raise InputError(f"{path}: mask values above 255; ids must be 0..255")
                arr = arr.astype(np.uint8)
            else:
                raise InputError(
                    f"{path}: {im.mode} mask; masks must be 8-bit PNGs whose pixel value is the id"
                )
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: unreadable mask PNG ({type(exc).__name__})") from None
    return np.ascontiguousarray(arr, dtype=np.uint8)


def png_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from a PNG header without decoding it."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.size
    except Exception as exc:
        raise InputError(f"{path}: unreadable mask PNG ({type(exc).__name__})") from None


def encode_rle(mask: np.ndarray) -> dict:
    """COCO RLE of an (H, W) bool mask: {"size": [H, W], "counts": str}."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def rle_string_counts(text: str) -> list[int]:
    """Run lengths of a COCO compressed RLE string (ASCII 48..111, 5 bits a character).

    Raises ValueError on characters outside the alphabet or negative run lengths.
    """
    counts: list[int] = []
    pos = 0
    n = len(text)
    while pos < n:
        value = 0
        shift = 0
        more = True
        while more:
            if pos >= n:
                raise ValueError("truncated RLE string")
            c = ord(text[pos]) - 48
            if not 0 <= c < 64:
                raise ValueError("character outside the RLE alphabet")
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            pos += 1
            shift += 1
            if not more and (c & 0x10):
                value |= -1 << (5 * shift)
            if shift > 7:
                raise ValueError("run length too large")
        if len(counts) > 2:
            value += counts[-2]
        if value < 0:
            raise ValueError("negative run length")
        counts.append(value)
    return counts


def decode_rle(rle: dict, expected_size: tuple[int, int] | None = None, where: str = "rle") -> np.ndarray:
    """Decode a COCO RLE (compressed string or uncompressed list counts) to an (H, W) bool mask.

    Raises InputError when it is malformed or its size is not ``expected_size`` (H, W).
    """
    from pycocotools import mask as mask_utils

    if not isinstance(rle, dict) or "size" not in rle or "counts" not in rle:
        raise InputError(f"{where}: an RLE needs 'size' and 'counts'")
    size = rle["size"]
    if (
        not isinstance(size, (list, tuple))
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 65535 for v in size)
    ):
        raise InputError(f"{where}: RLE 'size' must be [height, width] positive integers")
    if expected_size is not None and tuple(size) != tuple(expected_size):
        raise InputError(
            f"{where}: RLE size {size[0]}x{size[1]} (HxW) does not match the video's "
            f"{expected_size[0]}x{expected_size[1]}"
        )
    counts = rle["counts"]
    h, w = size
    try:
        if isinstance(counts, list):
            if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
                raise ValueError("counts")
            if sum(counts) != h * w:
                raise ValueError("counts do not add up to height*width")
            obj = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
        elif isinstance(counts, str):
            # check the counts before the C decoder sees them: it does not bound its writes
            if sum(rle_string_counts(counts)) != h * w:
                raise ValueError("counts do not add up to height*width")
            obj = {"size": [h, w], "counts": counts.encode("ascii")}
        else:
            raise ValueError("counts")
        mask = mask_utils.decode(obj)
    except InputError:
        raise
    except Exception:
        raise InputError(f"{where}: RLE 'counts' does not decode") from None
    if mask.shape[:2] != (h, w):
        raise InputError(f"{where}: RLE does not decode to {h}x{w}")
    return mask.astype(bool)
