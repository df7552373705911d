"""Streaming video input and output.

``open_video(path)`` checks a video file (anything PyAV/FFmpeg decodes) or a folder of frames (DAVIS
``JPEGImages`` layout) and returns a ``VideoReader``; nothing is decoded beyond what ``frames()``
asks for, so memory does not grow with video length. Frames are HWC uint8 RGB, rotated upright
when the container carries a rotation. ``VideoWriter`` encodes frames as they come.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from vidagent.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MAX_SIDE = 8192  # largest accepted frame side, pixels
MIN_SIDE = 16  # smallest accepted frame side, pixels (optical flow needs a few pixels each way)
MAX_PIXELS = 8192 * 4608  # largest accepted frame area (8K UHD-ish)
DEFAULT_FOLDER_FPS = 24.0  # DAVIS frames are 24 fps


@dataclass(frozen=True)
class VideoInfo:
    """What is known about a video before decoding it.

    ``width``/``height`` are of the frames as ``frames()`` yields them (after rotation).
    """

    path: str
    fps: float
    num_frames: int
    width: int
    height: int
    rotation: int = 0  # degrees counter-clockwise applied to make frames upright
    kind: str = "file"  # "file" or "frames" (a folder of images)

    @property
    def duration(self) -> float:
        """Seconds: num_frames / fps."""
        return self.num_frames / self.fps if self.fps > 0 else 0.0

    def time_of(self, frame_index: int) -> float:
        """Seconds at which frame ``frame_index`` starts (frame / fps, CONTRACT convention)."""
        return frame_index / self.fps

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "fps": self.fps,
            "num_frames": self.num_frames,
            "width": self.width,
            "height": self.height,
            "duration": round(self.duration, 4),
            "rotation": self.rotation,
        }


def _check_size(width: int, height: int, path: str) -> None:
    if width <= 0 or height <= 0:
        raise InputError(f"{path}: the video has no picture size; is it a video file?")
    if min(width, height) < MIN_SIDE:
        raise InputError(
            f"{path}: frames of {width}x{height} are too small to track; "
            f"each side must be at least {MIN_SIDE} pixels"
        )
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise InputError(
            f"{path}: frames of {width}x{height} exceed the {MAX_SIDE}px / 37 MP limit; "
            "downscale the video first (e.g. ffmpeg -vf scale=1920:-2)"
        )


def _rotation_of(frame) -> int:
    rot = getattr(frame, "rotation", 0) or 0
    return int(round(rot)) % 360


def _upright(arr: np.ndarray, rotation: int) -> np.ndarray:
    if rotation == 0:
        return arr
    return np.ascontiguousarray(np.rot90(arr, k=rotation // 90))


class VideoReader:
    """A checked video; iterate its frames with ``frames()``. Reusable: each call decodes anew."""

    def __init__(self, info: VideoInfo, files: list[Path] | None = None) -> None:
        self.info = info
        self._files = files

    def __repr__(self) -> str:
        i = self.info
        return f"VideoReader({i.path!r}, {i.width}x{i.height}, {i.num_frames} frames @ {i.fps:g} fps)"

    def __len__(self) -> int:
        return self.info.num_frames

    def frames(
        self, stride: int = 1, start: int = 0, end: int | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` for index in range(start, end, stride); frame HWC uint8 RGB.

        Exactly the frames of that range are yielded: when the decoder returns fewer frames than
        counted (a damaged tail), the last good frame is repeated; frames beyond the count are
        dropped.
        """
        if stride < 1:
            raise InputError(f"stride must be >= 1, got {stride}")
        end = self.info.num_frames if end is None else min(end, self.info.num_frames)
        start = max(0, start)
        if start >= end:
            return
        if self._files is not None:
            yield from self._folder_frames(stride, start, end)
        else:
            yield from self._file_frames(stride, start, end)

    def read(self, index: int) -> np.ndarray:
        """One frame by index (decodes from the start of the file; use ``frames()`` for many)."""
        if not 0 <= index < self.info.num_frames:
            raise InputError(f"frame {index} is outside the video (0..{self.info.num_frames - 1})")
        for _, frame in self.frames(start=index, end=index + 1):
            return frame
        raise InputError(f"{self.info.path}: frame {index} could not be decoded")

    def _folder_frames(self, stride: int, start: int, end: int) -> Iterator[tuple[int, np.ndarray]]:
        from PIL import Image

        assert self._files is not None
        for i in range(start, end, stride):
            path = self._files[i]
            try:
                with Image.open(path) as im:
                    arr = np.asarray(im.convert("RGB"))
            except Exception as exc:  # PIL raises many types for bad files
                raise InputError(f"{path}: unreadable image ({type(exc).__name__})") from None
            if arr.shape[:2] != (self.info.height, self.info.width):
                raise InputError(
                    f"{path}: {arr.shape[1]}x{arr.shape[0]} differs from the first frame's "
                    f"{self.info.width}x{self.info.height}; all frames must be the same size"
                )
            yield i, arr

    def _file_frames(self, stride: int, start: int, end: int) -> Iterator[tuple[int, np.ndarray]]:
        import av

        index = 0
        last: np.ndarray | None = None
        try:
            container = av.open(self.info.path)
        except Exception as exc:
            raise InputError(f"{self.info.path}: cannot open the video ({exc})") from None
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            try:
                for frame in container.decode(stream):
                    if index >= end:
                        break
                    if index >= start and (index - start) % stride == 0:
                        arr = _upright(frame.to_ndarray(format="rgb24"), self.info.rotation)
                        if arr.shape[:2] != (self.info.height, self.info.width):
                            # a mid-stream size change: scale to the size announced up front
                            import cv2

                            arr = cv2.resize(arr, (self.info.width, self.info.height))
                        last = arr
                        yield index, arr
                    index += 1
            except av.FFmpegError:
                pass  # a damaged tail: the frames counted but not decodable are padded below
        finally:
            container.close()
        if last is None and index < end:
            if start > 0:
                # the requested range lies in the damaged tail: repeat the last decodable frame
                for i, arr in self._file_frames(1, max(0, index - 1), index):
                    last = arr
            if last is None:
                raise InputError(f"{self.info.path}: no frame could be decoded; the file is corrupt")
        first_missing = max(index, start)
        first_missing += (-(first_missing - start)) % stride
        for i in range(first_missing, end, stride):
            yield i, last


def _probe_file(path: Path) -> VideoInfo:
    import av

    name = str(path)
    try:
        container = av.open(name)
    except Exception:
        raise InputError(
            f"{name}: not a readable video (FFmpeg cannot open it); check the file is a complete "
            "video such as .mp4, .mov, .avi, .mkv or .webm"
        ) from None
    try:
        if not container.streams.video:
            raise InputError(f"{name}: the file has no video stream")
        stream = container.streams.video[0]
        if stream.codec_context is None or stream.codec_context.name in (None, ""):
            raise InputError(f"{name}: unknown video codec")
        rate = stream.average_rate or stream.base_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        # count frames by demuxing (no decoding); cheap even for long videos
        count = 0
        try:
            for packet in container.demux(stream):
                if packet.size > 0:
                    count += 1
        except av.FFmpegError:
            pass  # a truncated file: count what is there
        try:
            container.seek(0)
        except av.FFmpegError:  # some damaged files cannot seek: read the start afresh
            container.close()
            container = av.open(name)
            stream = container.streams.video[0]
        rotation = 0
        width = height = 0
        try:
            for frame in container.decode(stream):
                rotation = _rotation_of(frame)
                width, height = frame.width, frame.height
                break
        except av.FFmpegError:
            pass
        if width == 0:
            raise InputError(f"{name}: no frame could be decoded; the file is corrupt or truncated")
        if count == 0:
            raise InputError(f"{name}: the video has no frames")
    finally:
        container.close()
    if not math.isfinite(fps) or fps <= 0 or fps > 1000:
        fps = 25.0  # containers without a frame rate: assume a common rate
    if rotation in (90, 270):
        width, height = height, width
    _check_size(width, height, name)
    return VideoInfo(name, fps, count, width, height, rotation, "file")


def _probe_folder(path: Path, fps: float | None) -> tuple[VideoInfo, list[Path]]:
    from PIL import Image

    files = sorted(
        p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )
    if not files:
        raise InputError(f"{path}: the folder holds no frames (.jpg/.png images)")
    try:
        with Image.open(files[0]) as im:
            width, height = im.size
    except Exception:
        raise InputError(f"{files[0]}: unreadable image") from None
    _check_size(width, height, str(files[0]))
    info = VideoInfo(str(path), float(fps or DEFAULT_FOLDER_FPS), len(files), width, height, 0, "frames")
    return info, files


def open_video(path: str | os.PathLike, fps: float | None = None) -> VideoReader:
    """Check ``path`` and return a reader; raises InputError with one line naming the problem.

    Args:
        path: a video file, or a folder of same-size images named in frame order.
        fps: frame rate of a folder of frames (default 24); ignored for files.
    """
    p = Path(path)
    if not str(path).strip():
        raise InputError("no video given")
    if not p.exists():
        raise InputError(f"{p}: no such file or folder")
    if p.is_dir():
        info, files = _probe_folder(p, fps)
        return VideoReader(info, files)
    if not os.access(p, os.R_OK):
        raise InputError(f"{p}: permission denied")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: the file is empty (0 bytes)")
    with open(p, "rb") as fh:
        head = fh.read(16)
    if head.startswith(b"\x89PNG") or head[:3] == b"\xff\xd8\xff":
        raise InputError(f"{p}: this is a still image, not a video")
    return VideoReader(_probe_file(p))


def stride_for_fps(video_fps: float, target_fps: float | None) -> int:
    """Frame stride that samples ``video_fps`` down to about ``target_fps`` (1 = every frame)."""
    if not target_fps or target_fps <= 0 or target_fps >= video_fps:
        return 1
    return max(1, int(round(video_fps / target_fps)))


def processing_size(width: int, height: int, short_side: int | None, max_side: int | None = None) -> tuple[int, int]:
    """(w, h) to resize a frame to so its short side is ``short_side`` (never upscales)."""
    scale = 1.0
    if short_side:
        scale = min(scale, short_side / min(width, height))
    if max_side:
        scale = min(scale, max_side / max(width, height))
    return max(1, int(round(width * scale))), max(1, int(round(height * scale)))


def resize_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an HWC frame to ``size`` = (w, h) with area interpolation (for downscaling)."""
    import cv2

    if (frame.shape[1], frame.shape[0]) == tuple(size):
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def scale_boxes(boxes: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """Map (N, 4) XYXY boxes from a frame of ``from_size`` (w, h) to ``to_size`` (w, h)."""
    sx = to_size[0] / from_size[0]
    sy = to_size[1] / from_size[1]
    return np.asarray(boxes, dtype=np.float32) * np.array([sx, sy, sx, sy], dtype=np.float32)


class VideoWriter:
    """Encode HWC uint8 RGB frames to a video file as they come (H.264 when available).

    Use as a context manager; sizes are rounded down to even numbers for the encoder.
    """

    def __init__(self, path: str | os.PathLike, fps: float, width: int, height: int, crf: int = 23) -> None:
        import av

        self.path = str(path)
        self.width = max(2, width - width % 2)
        self.height = max(2, height - height % 2)
        self._container = av.open(self.path, mode="w")
        rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(25)
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        self._stream = self._container.add_stream(codec, rate=rate)
        self._stream.width = self.width
        self._stream.height = self.height
        self._stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            self._stream.options = {"crf": str(crf), "preset": "veryfast"}
        self.frames_written = 0

    def write(self, frame: np.ndarray) -> None:
        import av

        frame = np.ascontiguousarray(frame[: self.height, : self.width])
        vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
        for packet in self._stream.encode(vf):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> None:
        if self._container is None:
            return
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_video(path: str | os.PathLike, frames, fps: float = 25.0, crf: int = 23) -> str:
    """Write an iterable of HWC uint8 RGB frames (all the same size) to ``path``; returns the path.

    ``crf``: H.264 quality (lower is better; 12 is near-lossless for test clips)."""
    writer = None
    try:
        for frame in frames:
            if writer is None:
                writer = VideoWriter(path, fps, frame.shape[1], frame.shape[0], crf=crf)
            writer.write(frame)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise InputError("write_video: no frames given")
    return str(path)
