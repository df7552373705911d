"""The tracks format of CONTRACT.md, read and written in one place.

```
DIR/objects.json   {"fps", "width", "height", "num_frames", "objects": [{"id", "label"}]}
DIR/masks/00000.png ...   (H, W) uint8 label maps, pixel value = object id, 0 = background
DIR/rle.json       optional COCO RLE per frame per object
```

``TracksWriter`` streams frames to a temporary folder beside the destination and moves it into
place only when ``close()`` succeeds, so a failed run leaves no partial output.
``open_tracks`` validates a folder (against a video when given) and reads masks lazily.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from vidagent.errors import InputError
from vidagent.io.masks import encode_rle, png_size, read_label_png, write_label_png
from vidagent.types import ObjectInfo, TracksMeta

MASK_NAME = "{:05d}.png"


def mask_name(index: int) -> str:
    return MASK_NAME.format(index)


class AtomicDir:
    """A temporary folder beside ``dest`` that replaces ``dest`` on ``commit()``.

    ``dest`` is untouched until then; ``abort()`` (or garbage collection) removes the temp folder.
    """

    def __init__(self, dest: str | os.PathLike) -> None:
        self.dest = Path(dest).absolute()
        parent = self.dest.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{parent}: cannot create the output folder ({exc.strerror})") from None
        if self.dest.exists() and not self.dest.is_dir():
            raise InputError(f"{self.dest}: exists and is not a folder; choose another --out")
        try:
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.", suffix=".partial", dir=parent))
        except OSError as exc:
            raise InputError(f"{parent}: cannot write there ({exc.strerror})") from None
        self.done = False

    def commit(self) -> Path:
        if self.done:
            return self.dest
        old = None
        if self.dest.exists():
            old = self.dest.with_name(f".{self.dest.name}.old.{os.getpid()}")
            os.replace(self.dest, old)
        os.replace(self.path, self.dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.done = True
        return self.dest

    def abort(self) -> None:
        if not self.done:
            shutil.rmtree(self.path, ignore_errors=True)
            self.done = True

    def __del__(self) -> None:  # pragma: no cover - best effort cleanup
        try:
            self.abort()
        except Exception:
            pass


class TracksWriter:
    """Write a tracks folder frame by frame.

    Call ``write(index, label_map)`` for frames 0..num_frames-1 in order, then
    ``close(objects)``; on error call ``abort()`` (the context manager does both).
    """

    def __init__(
        self,
        out_dir: str | os.PathLike,
        fps: float,
        width: int,
        height: int,
        num_frames: int,
        rle: bool = True,
    ) -> None:
        self._dir = AtomicDir(out_dir)
        self.path = self._dir.path
        (self.path / "masks").mkdir()
        self.meta = TracksMeta(float(fps), int(width), int(height), int(num_frames), [])
        self._next = 0
        self._seen_ids: set[int] = set()
        self._rle = None
        if rle:
            self._rle = open(self.path / "rle.json", "w", encoding="utf-8")
            self._rle.write('{"frames": [')

    @property
    def frames_written(self) -> int:
        return self._next

    def write(self, index: int, label_map: np.ndarray) -> None:
        """Save frame ``index`` (must be the next one) as an (H, W) uint8 label map."""
        if index != self._next:
            raise ValueError(f"TracksWriter: expected frame {self._next}, got {index}")
        label_map = np.asarray(label_map)
        if label_map.shape != (self.meta.height, self.meta.width):
            raise ValueError(
                f"TracksWriter: label map {label_map.shape} is not (H, W) = "
                f"({self.meta.height}, {self.meta.width})"
            )
        label_map = label_map.astype(np.uint8, copy=False)
        write_label_png(self.path / "masks" / mask_name(index), label_map)
        # np.unique's ids, from a histogram (cv2's: a third of np.bincount's time; exact counts)
        hist = cv2.calcHist([np.ascontiguousarray(label_map)], [0], None, [256], [0, 256])
        ids = np.flatnonzero(hist[1:, 0]) + 1
        self._seen_ids.update(int(i) for i in ids)
        if self._rle is not None:
            entry = {str(int(i)): encode_rle(label_map == i) for i in ids}
            self._rle.write(("," if index else "") + json.dumps(entry, separators=(",", ":")))
        self._next += 1

    def close(self, objects: list[ObjectInfo]) -> Path:
        """Finish: check every frame was written, write objects.json, move into place."""
        if self._next != self.meta.num_frames:
            raise ValueError(
                f"TracksWriter: {self._next} frames written, {self.meta.num_frames} expected"
            )
        listed = {o.id for o in objects}
        unknown = self._seen_ids - listed
        if unknown:
            raise ValueError(f"TracksWriter: masks hold ids {sorted(unknown)} not in objects")
        if self._rle is not None:
            self._rle.write("]}")
            self._rle.close()
            self._rle = None
        self.meta.objects = sorted(objects, key=lambda o: o.id)
        with open(self.path / "objects.json", "w", encoding="utf-8") as fh:
            json.dump(self.meta.to_json(), fh, indent=1)
        return self._dir.commit()

    def add_file(self, name: str) -> Path:
        """Path for an extra file inside the folder (e.g. ``overlay.mp4``), written before close."""
        if "/" in name or name.startswith("."):
            raise ValueError(f"bad file name {name!r}")
        return self.path / name

    def abort(self) -> None:
        if self._rle is not None:
            self._rle.close()
            self._rle = None
        self._dir.abort()

    def __enter__(self) -> "TracksWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def _bad(where: Path, what: str) -> InputError:
    return InputError(f"{where}: {what}")


def _parse_meta(path: Path) -> TracksMeta:
    obj_file = path / "objects.json"
    if not obj_file.is_file():
        raise _bad(path, "not a tracks folder (objects.json is missing)")
    try:
        if obj_file.stat().st_size > 16 * 1024 * 1024:
            raise _bad(obj_file, "too large for an objects.json")
        data = json.loads(obj_file.read_text(encoding="utf-8"))
    except InputError:
        raise
    except (ValueError, UnicodeDecodeError):
        raise _bad(obj_file, "is not valid JSON") from None
    if not isinstance(data, dict):
        raise _bad(obj_file, "must hold a JSON object")

    def number(key: str, kind: type) -> float:
        v = data.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise _bad(obj_file, f"'{key}' must be a number")
        if kind is int and v != int(v):
            raise _bad(obj_file, f"'{key}' must be an integer")
        if v <= 0:
            raise _bad(obj_file, f"'{key}' must be positive")
        return kind(v)

    fps = number("fps", float)
    width = number("width", int)
    height = number("height", int)
    num_frames = number("num_frames", int)
    objs = data.get("objects")
    if not isinstance(objs, list):
        raise _bad(obj_file, "'objects' must be a list")
    objects: list[ObjectInfo] = []
    seen: set[int] = set()
    for k, o in enumerate(objs):
        if not isinstance(o, dict):
            raise _bad(obj_file, f"objects[{k}] must be an object with id and label")
        oid, label = o.get("id"), o.get("label")
        if isinstance(oid, bool) or not isinstance(oid, int) or not 1 <= oid <= 255:
            raise _bad(obj_file, f"objects[{k}].id must be an integer 1..255")
        if oid in seen:
            raise _bad(obj_file, f"object id {oid} is listed twice")
        if not isinstance(label, str) or not label.strip() or len(label) > 200:
            raise _bad(obj_file, f"objects[{k}].label must be a non-empty string")
        seen.add(oid)
        objects.append(ObjectInfo(oid, " ".join(label.split())))
    return TracksMeta(fps, width, height, num_frames, objects)


class TracksReader:
    """A validated tracks folder; ``label_maps()`` reads masks lazily, one frame at a time."""

    def __init__(self, path: Path, meta: TracksMeta, num_frames: int) -> None:
        self.path = path
        self.meta = meta
        self.num_frames = num_frames  # frames to read: the video's count when checked against one

    def label_map(self, index: int) -> np.ndarray:
        """(H, W) uint8 ids of frame ``index``; InputError when unreadable or inconsistent."""
        file = self.path / "masks" / mask_name(index)
        arr = read_label_png(file)
        if arr.shape != (self.meta.height, self.meta.width):
            raise _bad(file, f"{arr.shape[1]}x{arr.shape[0]} differs from {self.meta.width}x{self.meta.height}")
        allowed = np.zeros(256, dtype=bool)
        allowed[0] = True
        allowed[[o.id for o in self.meta.objects]] = True
        present = np.flatnonzero(np.bincount(arr.ravel(), minlength=256))
        bad = [int(i) for i in present if not allowed[i]]
        if bad:
            raise _bad(file, f"holds ids {bad} that objects.json does not list")
        return arr

    def label_maps(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        end = self.num_frames if end is None else min(end, self.num_frames)
        for i in range(start, end):
            yield i, self.label_map(i)


def open_tracks(path: str | os.PathLike, video=None) -> TracksReader:
    """Validate a tracks folder and return a reader.

    With ``video`` (a ``VideoInfo`` or ``VideoReader``) ``objects.json``'s width, height and
    num_frames must be the video's, and there must be a mask per frame. Mask contents (ids) are checked as they are read.
    Raises InputError naming the problem.
    """
    p = Path(path)
    if not p.is_dir():
        raise _bad(p, "no such tracks folder")
    meta = _parse_meta(p)
    info = getattr(video, "info", video)
    masks = p / "masks"
    if not masks.is_dir():
        raise _bad(p, "masks/ folder is missing")
    n = meta.num_frames
    if info is not None:
        if (meta.width, meta.height) != (info.width, info.height):
            raise _bad(
                p, f"tracks are {meta.width}x{meta.height} but the video is {info.width}x{info.height}"
            )
        if meta.num_frames != info.num_frames:
            raise _bad(
                p, f"objects.json says {meta.num_frames} frames but the video has {info.num_frames}"
            )
        n = info.num_frames
    for i in range(n):
        f = masks / mask_name(i)
        if not f.is_file():
            raise _bad(p, f"mask {f.name} is missing ({n} frames expected)")
    # headers only: full decoding happens as frames are read
    for i in sorted({0, n // 2, n - 1}):
        w, h = png_size(masks / mask_name(i))
        if (w, h) != (meta.width, meta.height):
            raise _bad(masks / mask_name(i), f"{w}x{h} differs from {meta.width}x{meta.height}")
    return TracksReader(p, meta, n)


def validate_all(reader: TracksReader) -> None:
    """Read every mask once (sizes, ids); raises InputError on the first bad one."""
    for _ in reader.label_maps():
        pass
