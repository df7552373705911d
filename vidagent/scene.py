"""A perceived scene: the tracks of a video on disk plus the scene memory built from them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidagent.io.tracks import TracksReader
from vidagent.video import VideoReader


@dataclass
class Scene:
    """What was perceived in a video.

    Attributes:
        video: the checked video.
        tracks: reader of the tracks folder (label maps, objects.json).
        memory: the ``SceneMemory`` built from video + tracks (None until a question needs it).
        targets: the phrases perception looked for (empty when the tracks came from the user).
        timings: seconds spent per stage to make this scene ("detect", "track", "memory").
    """

    video: VideoReader
    tracks: TracksReader
    memory: object
    targets: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    reported: bool = False  # its perception timings were already returned once

    @property
    def labels(self) -> dict[int, str]:
        return self.tracks.meta.labels()

    def label_maps(self, ids: list[int] | None = None):
        """Yield (index, (H, W) uint8) label maps; with ``ids``, other objects are blanked."""
        keep = None
        if ids is not None:
            keep = np.zeros(256, dtype=bool)
            keep[list(ids)] = True
        for i, lm in self.tracks.label_maps():
            yield i, (lm if keep is None else np.where(keep[lm], lm, 0).astype(np.uint8))


def build_memory(video: VideoReader, tracks: TracksReader, progress=None):
    """Scene memory from a video and its tracks, in one streaming pass over both."""
    from vidagent.memory import SceneMemoryBuilder

    info = video.info
    builder = SceneMemoryBuilder(
        fps=info.fps, width=info.width, height=info.height, num_frames=info.num_frames,
        labels=tracks.meta.labels(),
    )
    for (i, frame), (j, label_map) in zip(video.frames(), tracks.label_maps()):
        builder.add_frame(i, label_map, frame)
        if progress is not None:
            progress.update(1)
    return builder.build()
