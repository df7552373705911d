"""The detections file of CONTRACT.md (``--detections FILE``): the user's own per-frame detections.

```
{"frames": {"0": [{"box": [x1, y1, x2, y2], "label": "car", "score": 0.91,
                   "rle": {"size": [H, W], "counts": "..."}}], "5": []}}
```

A frame key that is absent was not run through a detector; ``[]`` means it was and found nothing.
The whole file is validated up front (JSON, keys, boxes, scores, RLE sizes and run lengths) without
decoding masks; masks are decoded lazily, frame by frame, when the tracker asks for them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Iterator

import numpy as np

from vidagent.errors import InputError
from vidagent.io.masks import decode_rle, rle_string_counts
from vidagent.types import Detections

MAX_FILE_BYTES = 512 * 1024 * 1024  # refuse detections files larger than this
MAX_PER_FRAME = 1000  # refuse frames with more detections than this


class DetectionsFile(Mapping):
    """Validated detections: a read-only mapping frame index -> ``Detections`` (masks decoded lazily).

    ``Detections.masks`` is set for a frame only when every detection of that frame has an RLE;
    ``has_mask`` tells which ones did.
    """

    def __init__(self, path: str, frames: dict[int, list[dict]], height: int, width: int) -> None:
        self.path = path
        self._frames = frames
        self.height = height
        self.width = width

    def __getitem__(self, index: int) -> Detections:
        items = self._frames[index]
        if not items:
            return Detections.empty((self.height, self.width))
        boxes = np.array([d["box"] for d in items], dtype=np.float32)
        scores = np.array([d["score"] for d in items], dtype=np.float32)
        labels = [d["label"] for d in items]
        masks = None
        if all("rle" in d for d in items):
            masks = np.stack(
                [decode_rle(d["rle"], (self.height, self.width), f"{self.path} frame {index}") for d in items]
            )
        return Detections(boxes, scores, labels, masks=masks)

    def has_mask(self, index: int) -> list[bool]:
        return ["rle" in d for d in self._frames[index]]

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._frames))

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def labels(self) -> list[str]:
        """Distinct labels in order of first appearance."""
        out: list[str] = []
        for k in sorted(self._frames):
            for d in self._frames[k]:
                if d["label"] not in out:
                    out.append(d["label"])
        return out


def _finite_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def load_detections(
    path: str | os.PathLike, num_frames: int, width: int, height: int, default_label: str = "object"
) -> DetectionsFile:
    """Read and validate a detections file for a video of ``num_frames`` frames of width x height.

    Raises InputError with one line naming the first problem found.
    """
    p = Path(path)
    where = str(p)
    if not p.is_file():
        raise InputError(f"{where}: no such detections file")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{where}: larger than {MAX_FILE_BYTES >> 20} MB; split the video")
    try:
        data = json.loads(p.read_bytes())
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InputError(f"{where}: not valid JSON") from None
    if not isinstance(data, dict) or "frames" not in data:
        raise InputError(f"{where}: lacks the 'frames' object")
    frames_in = data["frames"]
    if not isinstance(frames_in, dict):
        raise InputError(f"{where}: 'frames' must map frame indices to lists of detections")
    frames: dict[int, list[dict]] = {}
    for key, items in frames_in.items():
        k = key.strip()
        if not (k.isascii() and k.isdigit()):
            raise InputError(f"{where}: frame key {key[:20]!r} is not a non-negative integer")
        index = int(k)
        if index >= num_frames:
            raise InputError(f"{where}: frame {index} is outside the video (0..{num_frames - 1})")
        if index in frames:
            raise InputError(f"{where}: frame {index} is given twice")
        if not isinstance(items, list):
            raise InputError(f"{where}: frame {index} must hold a list of detections")
        if len(items) > MAX_PER_FRAME:
            raise InputError(f"{where}: frame {index} has over {MAX_PER_FRAME} detections")
        clean: list[dict] = []
        for j, det in enumerate(items):
            at = f"{where}: frame {index} detection {j}"
            if not isinstance(det, dict):
                raise InputError(f"{at} must be an object with a 'box'")
            box = det.get("box")
            if not isinstance(box, list) or len(box) != 4 or not all(_finite_number(v) for v in box):
                raise InputError(f"{at}: 'box' must be four finite numbers [x1, y1, x2, y2]")
            x1, y1, x2, y2 = (float(v) for v in box)
            if x2 <= x1 or y2 <= y1:
                raise InputError(f"{at}: box {box} is empty or reversed; boxes are XYXY pixels")
            x1, x2 = np.clip([x1, x2], 0, width)
            y1, y2 = np.clip([y1, y2], 0, height)
            if x2 <= x1 or y2 <= y1:
                raise InputError(f"{at}: box {box} lies outside the {width}x{height} frame")
            score = det.get("score", 1.0)
            if not _finite_number(score) or not 0 <= score <= 1:
                raise InputError(f"{at}: 'score' must be a number in [0, 1]")
            label = det.get("label", default_label)
            if not isinstance(label, str) or not label.strip() or len(label) > 200:
                raise InputError(f"{at}: 'label' must be a non-empty string")
            out = {"box": [float(x1), float(y1), float(x2), float(y2)], "score": float(score),
                   "label": " ".join(label.lower().split())}
            if "rle" in det and det["rle"] is not None:
                rle = det["rle"]
                _check_rle(rle, height, width, at)
                out["rle"] = rle
            clean.append(out)
        frames[index] = clean
    return DetectionsFile(where, frames, height, width)


def _check_rle(rle, height: int, width: int, at: str) -> None:
    """Validate an RLE's size and run lengths without decoding it."""
    if not isinstance(rle, dict) or "size" not in rle or "counts" not in rle:
        raise InputError(f"{at}: 'rle' needs 'size' and 'counts'")
    size = rle["size"]
    if not isinstance(size, list) or size != [height, width]:
        raise InputError(f"{at}: RLE size {size!r} does not decode to the video's [{height}, {width}]")
    counts = rle["counts"]
    try:
        if isinstance(counts, str):
            total = sum(rle_string_counts(counts))
        elif isinstance(counts, list) and all(
            isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts
        ):
            total = sum(counts)
        else:
            raise ValueError
    except ValueError:
        raise InputError(f"{at}: RLE 'counts' is malformed") from None
    if total != height * width:
        raise InputError(f"{at}: RLE does not decode to the video's {height}x{width}")
