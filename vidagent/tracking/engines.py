"""Tracking engines: the registry of what moves masks between the tracker's key frames.

A profile names its engine (``Profile.propagator``); everything that depends on the engine --
building it (``build``), whether it runs a model of its own (``own_model``, named by
``Profile.video_model``, whose weights ``vidagent models`` lists and downloads) -- is looked up
here. Adding an engine is one ``register(TrackingEngine(...))`` in this module (plus its
tests):

- ``flow``: optical flow between key frames, SAM (the profile's segmenter) prompted from the
  flow-carried boxes on key frames; flow only when there is no segmenter.
- ``sam2_video``: a SAM 2.1 / EdgeTAM video model (``Profile.video_model``) through
  transformers, streaming (``sam2_video.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vidagent.errors import InputError
from vidagent.models.base import Segmenter
from vidagent.tracking.config import TrackerConfig
from vidagent.tracking.propagators import Propagator, flow_propagator


@dataclass(frozen=True)
class EngineContext:
    """What an engine builder gets."""

    profile: object  # vidagent.profiles.Profile
    segmenter: Segmenter | None
    config: TrackerConfig
    offline: bool = False
    device: str = "cpu"


@dataclass(frozen=True)
class TrackingEngine:
    """One tracking engine.

    Attributes:
        name: the value of ``Profile.propagator`` that selects it.
        description: one line for listings.
        build: the engine for one agent (``EngineContext`` -> ``Propagator``).
        own_model: it loads a model of its own, ``Profile.video_model`` (built once per agent
            and kept; tracking the user's detections, which needs no model weights, uses
            ``flow`` instead).
    """

    name: str
    description: str
    build: Callable[[EngineContext], Propagator]
    own_model: bool = False


ENGINES: dict[str, TrackingEngine] = {}


def register(engine: TrackingEngine) -> TrackingEngine:
    ENGINES[engine.name] = engine
    return engine


def get_engine(name: str) -> TrackingEngine:
    """The engine registered as ``name``; InputError naming the known ones otherwise."""
    try:
        return ENGINES[name]
    except KeyError:
        raise InputError(
            f"unknown tracking engine {name!r}; known: {', '.join(sorted(ENGINES))}"
        ) from None


def engine_for(profile, with_detector: bool = True) -> TrackingEngine:
    """The engine a run uses: the profile's, except that the user's own detections are tracked
    by the model-free ``flow`` engine (no video-model weights needed)."""
    engine = get_engine(profile.propagator)
    return engine if with_detector or not engine.own_model else ENGINES["flow"]


# ---------------------------------------------------------------------------- the engines


def _build_flow(ctx: EngineContext) -> Propagator:
    return flow_propagator(ctx.segmenter, ctx.config)


def _build_sam2_video(ctx: EngineContext) -> Propagator:
    from vidagent.models.weights import hub_offline, resolve_hub_dir
    from vidagent.tracking.sam2_video import Sam2VideoPropagator

    video_model = getattr(ctx.profile, "video_model", None)
    if not video_model:
        raise InputError("this profile names no video model; use a profile with one")
    path = resolve_hub_dir(
        video_model,
        offline=ctx.offline,
        what=f"video model {video_model} weights",
        profile=getattr(ctx.profile, "name", None),
    )
    with hub_offline():
        return Sam2VideoPropagator.from_pretrained(path, device=ctx.device)


register(TrackingEngine(
    "flow",
    "optical flow between key frames, SAM from the flow-carried boxes on key frames",
    _build_flow,
))
register(TrackingEngine(
    "sam2_video",
    "a SAM 2.1 / EdgeTAM video model on key frames (streaming session), flow between",
    _build_sam2_video,
    own_model=True,
))
