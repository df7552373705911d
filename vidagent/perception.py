"""Perception in one streaming pass over the video.

The tracker yields ``(index, frame, label_map)`` a bounded number of frames behind its input;
every consumer (``FrameSink``) takes each frame as it comes: the scene memory
(``MemorySink``), the scene's own tracks folder, and -- for ``track`` -- the user's output
folder with its overlay video (``OutputSink``). The video is decoded once; nothing holds more
than the tracker's window of frames, so memory stays bounded in the video's length. A scene
from the user's tracks folder is read the same way: video and masks side by side, once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from vidagent.io.tracks import TracksReader, TracksWriter, open_tracks
from vidagent.memory import SceneMemory, SceneMemoryBuilder
from vidagent.types import ObjectInfo
from vidagent.video import VideoInfo, VideoReader

Progress = Callable[[int], None]  # called with the number of frames done


class FrameSink(Protocol):
    """A consumer of the streaming pass."""

    def add(self, index: int, frame: np.ndarray | None, label_map: np.ndarray,
            labels: Mapping[int, str]) -> None:
        """Frame ``index`` (HWC uint8 RGB, or None when the pass does not decode the video), its
        (H, W) uint8 label map, and the label of every id seen so far."""

    def close(self, objects: list[ObjectInfo]) -> None:
        """The pass ended; ``objects`` are all the objects of the scene."""

    def abort(self) -> None:
        """The pass failed: leave nothing behind."""


class MemorySink:
    """Builds the scene memory (``vidagent.memory``) from the frames as they come."""

    def __init__(self, info: VideoInfo | object, labels: Mapping[int, str] | None = None) -> None:
        self.builder = SceneMemoryBuilder(
            fps=info.fps, width=info.width, height=info.height, num_frames=info.num_frames,
            labels=dict(labels or {}),
        )
        self.seconds = 0.0
        self.memory: SceneMemory | None = None

    def add(self, index, frame, label_map, labels) -> None:
        t0 = time.perf_counter()
        if len(labels) > len(self.builder.ids):
            self.builder.add_objects(dict(labels))
        self.builder.add_frame(index, label_map, frame)
        self.seconds += time.perf_counter() - t0

    def close(self, objects: list[ObjectInfo]) -> None:
        t0 = time.perf_counter()
        self.builder.add_objects({o.id: o.label for o in objects})
        self.memory = self.builder.build()
        self.seconds += time.perf_counter() - t0

    def abort(self) -> None:
        self.memory = None


class OutputSink:
    """A tracks folder (CONTRACT's format), optionally with ``overlay.mp4``, of all objects or
    only ``ids`` (the others are blanked). Written atomically: nothing appears on failure."""

    def __init__(self, out: str | Path, info: VideoInfo, overlay: bool = False,
                 ids: Iterable[int] | None = None, rle: bool = True) -> None:
        from vidagent.overlay import OverlayWriter

        self.keep = None if ids is None else sorted({int(i) for i in ids})
        self._lut = None
        if self.keep is not None:
            self._lut = np.zeros(256, np.uint8)
            self._lut[self.keep] = self.keep
        self.writer = TracksWriter(out, info.fps, info.width, info.height, info.num_frames, rle=rle)
        self.overlay = None
        try:
            if overlay:
                self.overlay = OverlayWriter(self.writer.add_file("overlay.mp4"), info.fps,
                                             info.width, info.height, {})
        except BaseException:
            self.writer.abort()
            raise
        self.path: Path | None = None
        self.seconds = 0.0

    def add(self, index, frame, label_map, labels) -> None:
        t0 = time.perf_counter()
        lm = label_map if self._lut is None else self._lut[label_map]
        self.writer.write(index, lm)
        if self.overlay is not None:
            if frame is None:
                raise ValueError("OutputSink: the overlay needs the video frames")
            self.overlay.labels = labels
            self.overlay.write(frame, lm)
        self.seconds += time.perf_counter() - t0

    def close(self, objects: list[ObjectInfo]) -> None:
        t0 = time.perf_counter()
        if self.keep is not None:
            objects = [o for o in objects if o.id in set(self.keep)]
        if self.overlay is not None:
            self.overlay.close()
            self.overlay = None
        self.path = self.writer.close(objects)
        self.seconds += time.perf_counter() - t0

    def abort(self) -> None:
        if self.overlay is not None:
            try:
                self.overlay.close()
            except Exception:  # the folder is removed anyway
                pass
            self.overlay = None
        self.writer.abort()


@dataclass
class Perceived:
    """What one pass produced: the objects, the memory, where the masks live, the seconds."""

    objects: list[ObjectInfo]
    memory: SceneMemory
    masks: TracksReader
    timings: dict[str, float] = field(default_factory=dict)


def run_pass(
    items: Iterator[tuple[int, np.ndarray | None, np.ndarray]],
    labels: Callable[[], Mapping[int, str]],
    objects: Callable[[], list[ObjectInfo]],
    sinks: list,
    progress: Progress | None = None,
) -> None:
    """Feed every ``(index, frame, label_map)`` of ``items`` to each sink, then close them with
    ``objects()``; on any failure every sink is aborted."""
    try:
        for index, frame, label_map in items:
            names = labels()
            for sink in sinks:
                sink.add(index, frame, label_map, names)
            if progress is not None:
                progress(index + 1)
        final = objects()
        for sink in sinks:
            sink.close(final)
    except BaseException:
        for sink in sinks:
            sink.abort()
        raise


def track_video(
    video: VideoReader,
    tracker,
    phrases: list[str],
    masks_dir: str | Path,
    detections=None,
    outputs: list[OutputSink] | None = None,
    progress: Progress | None = None,
) -> Perceived:
    """Track ``phrases`` through ``video`` (one decode): the masks go to ``masks_dir`` (a tracks
    folder without RLE), the memory is built on the way, and each of ``outputs`` is written.

    Args:
        tracker: a ``vidagent.tracking.Tracker``.
        detections: the user's detections (frame index -> ``Detections``), or None.
        progress: called with the number of frames the tracker has read.
    """
    info = video.info
    memory = MemorySink(info)
    store = OutputSink(masks_dir, info, overlay=False, rle=False)
    sinks = [memory, store, *(outputs or [])]
    t0 = time.perf_counter()

    def tracker_progress(done: int, total: int) -> None:
        if progress is not None:
            progress(done)

    items = tracker.stream(video.frames(), info.num_frames, list(phrases), detections=detections,
                           progress=tracker_progress)
    run_pass(items, lambda: tracker.labels, lambda: tracker.objects, sinks)
    timings = dict(getattr(tracker, "timings", {}) or {})
    timings["memory"] = memory.seconds
    written = sum(o.seconds for o in outputs or [])
    if outputs:
        timings["write"] = written
    timings["track_total"] = time.perf_counter() - t0 - memory.seconds - written
    assert memory.memory is not None and store.path is not None
    return Perceived(list(tracker.objects), memory.memory, open_tracks(store.path, video), timings)


def read_tracks(video: VideoReader, tracks_dir: str | Path, progress: Progress | None = None) -> Perceived:
    """A scene from the user's tracks folder (validated against the video): the memory is built
    in one pass over the video and the masks side by side; the masks stay where they are."""
    reader = open_tracks(tracks_dir, video)
    memory = MemorySink(video.info, reader.meta.labels())
    t0 = time.perf_counter()
    items = (
        (i, frame, label_map)
        for (i, frame), (_, label_map) in zip(video.frames(), reader.label_maps())
    )
    objects = list(reader.meta.objects)
    labels = reader.meta.labels()
    run_pass(items, lambda: labels, lambda: objects, [memory], progress)
    assert memory.memory is not None
    return Perceived(objects, memory.memory, reader, {"memory": time.perf_counter() - t0})


def write_scene(
    video: VideoReader,
    masks: TracksReader,
    objects: list[ObjectInfo],
    out: str | Path,
    ids: Iterable[int] | None = None,
    overlay: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Write a perceived scene's masks (all objects, or only ``ids``) to ``out`` in the tracks
    format with RLE, plus ``overlay.mp4`` when ``overlay`` (the only case that decodes the
    video)."""
    sink = OutputSink(out, video.info, overlay=overlay, ids=ids)
    labels = {o.id: o.label for o in objects}
    if overlay:
        items = (
            (i, frame, label_map)
            for (i, frame), (_, label_map) in zip(video.frames(), masks.label_maps())
        )
    else:
        items = ((i, None, label_map) for i, label_map in masks.label_maps())
    run_pass(items, lambda: labels, lambda: objects, [sink], progress)
    assert sink.path is not None
    return sink.path
