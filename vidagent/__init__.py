"""vidagent: ask questions about a video; get answers backed by tracked masks.

Public API (models load lazily; nothing downloads at import)::

    from vidagent import Agent
    with Agent(profile="cpu") as agent:
        print(agent.ask("clip.mp4", "how many dogs are there?")["answer"])
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Agent", "Detections", "open_video", "open_tracks", "InputError", "WeightsMissingError"]


def __getattr__(name: str):
    # lazy imports keep `import vidagent` fast and free of torch
    if name == "Agent":
        from vidagent.pipeline import Agent

        return Agent
    if name == "Detections":
        from vidagent.types import Detections

        return Detections
    if name == "open_video":
        from vidagent.video import open_video

        return open_video
    if name == "open_tracks":
        from vidagent.io.tracks import open_tracks

        return open_tracks
    if name in ("InputError", "WeightsMissingError"):
        from vidagent import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'vidagent' has no attribute {name!r}")
