"""Regenerate the bundled example: ``vidagent/examples/shapes.mp4`` and its tracks folder.

The clip is a synthetic scene (``vidagent.testing.scenes``) whose ground-truth masks are exact, so
the example answers can be checked: 4 objects (two balls, two boxes) that move, occlude, leave and
come back. Usage: python scripts/make_example.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

from vidagent.io.tracks import TracksWriter
from vidagent.testing.scenes import default_scene
from vidagent.types import ObjectInfo
from vidagent.video import write_video

HERE = Path(__file__).resolve().parent.parent / "vidagent" / "examples"


def main() -> None:
    video = default_scene(num_frames=75, height=240, width=320, seed=3, fps=25.0)
    HERE.mkdir(parents=True, exist_ok=True)
    write_video(HERE / "shapes.mp4", video.frames, video.fps)
    out = HERE / "shapes_tracks"
    if out.exists():
        shutil.rmtree(out)
    with TracksWriter(out, video.fps, 320, 240, video.num_frames, rle=False) as w:
        for i, m in enumerate(video.label_maps):
            w.write(i, m)
        w.close([ObjectInfo(i, lab) for i, lab in sorted(video.labels.items())])
    print(f"wrote {HERE / 'shapes.mp4'} and {out}: {video.labels}")


if __name__ == "__main__":
    main()
