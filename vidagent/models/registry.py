"""Build the detector and segmenter a profile names, once per process.

``load_detector(profile, offline=..., device=...)`` and ``load_segmenter(...)`` resolve weights
(local path, hub cache, ``VIDAGENT_HOME``; see :mod:`vidagent.models.weights`), load them
strictly and cache the result per (model spec, device). ``profile_weights(profile)`` lists every
weight a profile needs, for ``vidagent models where|download|verify``.

Backends are registries of builders: ``DETECTORS`` and ``SEGMENTERS`` map the ``backend`` name a
profile's spec gives to a :class:`Backend` (how to build the model from the spec, which weights
it needs). A new backend is one entry here (``register_detector`` / ``register_segmenter``, or
a line in the tables at the end of this module) plus its own module and tests; profiles,
``vidagent models`` and the pipeline need no change.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal

from vidagent.models.accelerate import accelerate_detector, accelerate_segmenter
from vidagent.models.base import Detector, Segmenter
from vidagent.models.weights import (
    HUB_PATTERNS,
    UrlWeight,
    hub_offline,
    resolve_hub_dir,
    resolve_hub_file,
    resolve_url_file,
)
from vidagent.profiles import DetectorSpec, Profile, SegmenterSpec, get_profile

# files of a BERT repo that the groundingdino backend needs: tokenizer and shape, no weights
TEXT_ENCODER_PATTERNS = ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"]

_CACHE: dict[tuple, object] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class WeightRef:
    """One weight a profile needs and where it comes from.

    kind: ``hub_repo`` (files of a hub repo matching ``patterns``), ``hub_file`` (one file of a
    hub repo), ``url`` (a published checkpoint stored under VIDAGENT_HOME), ``local`` (a path the
    profile names), ``package`` (a file shipped inside an installed package).
    """

    what: str  # human description, e.g. "detector weights (IDEA-Research/grounding-dino-tiny)"
    kind: Literal["hub_repo", "hub_file", "url", "local", "package"]
    ref: str  # hub repo id, URL or path
    filename: str | None = None  # hub_file: the file inside the repo
    patterns: tuple[str, ...] = ()  # hub_repo: files to fetch
    required: tuple[str, ...] = ()  # hub_repo: globs that must match for the copy to be usable
    url_weight: UrlWeight | None = field(default=None, compare=False)


def _as_profile(profile: Profile | str | None, device: str | None = None) -> Profile:
    return profile if isinstance(profile, Profile) else get_profile(profile, device)


def _hub_or_local(what: str, ref: str, patterns, required) -> WeightRef:
    if Path(ref).expanduser().exists():
        return WeightRef(what, "local", str(Path(ref).expanduser()))
    return WeightRef(what, "hub_repo", ref, patterns=tuple(patterns), required=tuple(required))


@dataclass(frozen=True)
class Backend:
    """How to build one kind of model from its profile spec.

    build: ``(spec, profile_name, offline, device) -> model`` (a Detector or Segmenter); raises
        WeightsMissingError / CheckpointError / InputError as :func:`load_detector` says.
    weights: ``spec -> [WeightRef]``, every weight ``build`` reads (for ``vidagent models``).
    """

    build: Callable[..., object]
    weights: Callable[..., list[WeightRef]]


def _backend(table: dict[str, Backend], kind: str, name: str) -> Backend:
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ValueError(f"unknown {kind} backend {name!r}; one of: {known}") from None


def detector_weights(spec: DetectorSpec) -> list[WeightRef]:
    """Weights of a detector spec."""
    return _backend(DETECTORS, "detector", spec.backend).weights(spec)


def segmenter_weights(spec: SegmenterSpec) -> list[WeightRef]:
    """Weights of a segmenter spec."""
    return _backend(SEGMENTERS, "segmenter", spec.backend).weights(spec)


def _hf_detector_weights(spec: DetectorSpec) -> list[WeightRef]:
    return [
            _hub_or_local(
                f"detector weights ({spec.model})",
                spec.model,
                HUB_PATTERNS,
                ("config.json", "*.safetensors", "preprocessor_config.json|processor_config.json"),
            )
        ]


def _groundingdino_weights(spec: DetectorSpec) -> list[WeightRef]:
    refs = []
    p = Path(spec.model).expanduser()
    if p.is_file():
        refs.append(WeightRef(f"detector checkpoint ({p})", "local", str(p)))
    elif p.is_dir():
        refs.append(
            WeightRef(f"detector checkpoint ({p})", "local", str(p / (spec.checkpoint or "")))
        )
    else:
        refs.append(
            WeightRef(
                f"detector checkpoint ({spec.model}/{spec.checkpoint})",
                "hub_file",
                spec.model,
                filename=spec.checkpoint,
            )
        )
    refs.append(
        _hub_or_local(
            f"detector text encoder tokenizer ({spec.text_encoder})",
            spec.text_encoder,
            TEXT_ENCODER_PATTERNS,
            ("config.json", "vocab.txt|tokenizer.json"),
        )
    )
    if spec.config is not None:
        refs.append(WeightRef(f"detector config ({spec.config})", "local", spec.config))
    return refs


def _hf_segmenter_weights(spec: SegmenterSpec) -> list[WeightRef]:
    return [
        _hub_or_local(
            f"segmenter weights ({spec.model})",
            spec.model,
            HUB_PATTERNS,
            ("config.json", "*.safetensors"),
        )
    ]


def _sam_weights(spec: SegmenterSpec) -> list[WeightRef]:
    if spec.checkpoint is not None:
        return [WeightRef(f"segmenter checkpoint ({spec.checkpoint})", "local", spec.checkpoint)]
    from vidagent.models.segmenter_sam import SAM_CHECKPOINTS

    w = SAM_CHECKPOINTS[spec.model]
    return [WeightRef(f"SAM {spec.model} checkpoint ({w.filename})", "url", w.url, url_weight=w)]


def profile_weights(profile: Profile | str | None) -> list[WeightRef]:
    """Every weight ``profile`` needs: detector, segmenter, the video model of the propagator and
    the language model when it is a hub id (embedded GGUF models need no download)."""
    p = _as_profile(profile)
    refs = detector_weights(p.detector) + segmenter_weights(p.segmenter)
    if p.video_model:  # the tracking engine's own model (``vidagent.tracking.engines``)
        refs.append(
            _hub_or_local(
                f"video model ({p.video_model})",
                p.video_model,
                HUB_PATTERNS,
                ("config.json", "*.safetensors"),
            )
        )
    if "/" in p.llm:
        refs.append(
            _hub_or_local(
                f"language model ({p.llm})", p.llm, HUB_PATTERNS, ("config.json", "*.safetensors")
            )
        )
    return refs


def _cached(key: tuple, build):
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    obj = build()
    with _LOCK:
        return _CACHE.setdefault(key, obj)


def _offline(offline: bool, fn, *args):
    """``fn(*args)``, with huggingface_hub (and transformers) in offline mode when ``offline``."""
    with hub_offline() if offline else nullcontext():
        return fn(*args)


def clear_cache() -> None:
    """Forget every model loaded in this process."""
    with _LOCK:
        _CACHE.clear()


def load_detector(
    profile: Profile | str | None = None, *, offline: bool = False, device: str = "cpu"
) -> Detector:
    """The profile's detector, built once per process (per spec and device).

    Raises:
        WeightsMissingError: weights not available (offline and not cached, or no network).
        CheckpointError: weights that do not match the architecture.
        InputError: unknown profile; groundingdino backend without its extra installed.
    """
    p = _as_profile(profile, device)
    spec = p.detector
    return _cached(
        ("detector", spec, device),
        lambda: _offline(offline, _build_detector, spec, p.name, offline, device),
    )


def _build_detector(spec: DetectorSpec, name: str, offline: bool, device: str) -> Detector:
    return _backend(DETECTORS, "detector", spec.backend).build(spec, name, offline, device)


def _detector_kwargs(spec: DetectorSpec, device: str) -> dict:
    return {
        "short_side": spec.short_side,
        "max_side": spec.max_side,
        "box_threshold": spec.box_threshold,
        "text_threshold": spec.text_threshold,
        "max_boxes": spec.max_boxes,
        "nms_iou": spec.nms_iou,
        "device": device,
    }


def _build_hf_detector(spec: DetectorSpec, name: str, offline: bool, device: str) -> Detector:
    from vidagent.models.detector_hf import HFGroundingDino

    path = resolve_hub_dir(
        spec.model, offline=offline, what=f"detector weights ({spec.model})", profile=name
    )
    det = HFGroundingDino.from_pretrained(path, **_detector_kwargs(spec, device))
    return accelerate_detector(det, spec.runtime, [path], device, spec.precision)


def _build_groundingdino(spec: DetectorSpec, name: str, offline: bool, device: str) -> Detector:
    from vidagent.models.detector_gdino import (
        OriginalGroundingDino,
        load_groundingdino,
        require_groundingdino,
    )

    require_groundingdino()
    ckpt = resolve_hub_file(
        spec.model,
        spec.checkpoint or "",
        offline=offline,
        what=f"detector checkpoint ({spec.model})",
        profile=name,
    )
    text_dir = resolve_hub_dir(
        spec.text_encoder,
        offline=offline,
        allow_patterns=TEXT_ENCODER_PATTERNS,
        what=f"detector text encoder tokenizer ({spec.text_encoder})",
        profile=name,
    )
    model = load_groundingdino(ckpt, spec.config, text_dir)
    return OriginalGroundingDino(model, **_detector_kwargs(spec, device))


def load_segmenter(
    profile: Profile | str | None = None, *, offline: bool = False, device: str = "cpu"
) -> Segmenter:
    """The profile's segmenter, built once per process (per spec and device).

    Raises:
        WeightsMissingError, CheckpointError, InputError: as :func:`load_detector`.
    """
    p = _as_profile(profile, device)
    spec = p.segmenter
    return _cached(
        ("segmenter", spec, device),
        lambda: _offline(offline, _build_segmenter, spec, p.name, offline, device),
    )


def _build_segmenter(spec: SegmenterSpec, name: str, offline: bool, device: str) -> Segmenter:
    return _backend(SEGMENTERS, "segmenter", spec.backend).build(spec, name, offline, device)


def _build_sam(spec: SegmenterSpec, name: str, offline: bool, device: str) -> Segmenter:
    from vidagent.models.segmenter_sam import SAM_ARCHS, SAM_CHECKPOINTS, SamSegmenter

    if spec.model not in SAM_ARCHS:
        raise ValueError(f"unknown SAM model type {spec.model!r}; one of {sorted(SAM_ARCHS)}")
    if spec.checkpoint is not None:
        ckpt = Path(spec.checkpoint).expanduser()
        if not ckpt.is_file():
            from vidagent.errors import InputError

            raise InputError(f"SAM checkpoint {ckpt} (profile {name}) does not exist; fix the path")
    else:
        w = SAM_CHECKPOINTS[spec.model]
        ckpt = resolve_url_file(
            w, offline=offline, what=f"SAM {spec.model} checkpoint", profile=name, progress=True
        )
    seg = SamSegmenter.from_checkpoint(
        ckpt, spec.model, spec.input_size, device=device, box_multimask=spec.box_multimask
    )
    return accelerate_segmenter(seg, spec.runtime, [Path(ckpt)], device, spec.precision)


def _build_hf_segmenter(spec: SegmenterSpec, name: str, offline: bool, device: str) -> Segmenter:
    from vidagent.models.segmenter_hf import HFSamSegmenter

    path = resolve_hub_dir(
        spec.model, offline=offline, what=f"segmenter weights ({spec.model})", profile=name
    )
    return HFSamSegmenter.from_pretrained(path, device=device, box_multimask=spec.box_multimask)


def register_detector(name: str, build: Callable[..., Detector], weights) -> None:
    """Add (or replace) the detector backend ``name`` (see :class:`Backend`)."""
    DETECTORS[name] = Backend(build, weights)


def register_segmenter(name: str, build: Callable[..., Segmenter], weights) -> None:
    """Add (or replace) the segmenter backend ``name`` (see :class:`Backend`)."""
    SEGMENTERS[name] = Backend(build, weights)


# the backends a profile's ``detector.backend`` / ``segmenter.backend`` may name
DETECTORS: dict[str, Backend] = {
    "hf": Backend(_build_hf_detector, _hf_detector_weights),  # transformers Grounding DINO
    "groundingdino": Backend(_build_groundingdino, _groundingdino_weights),  # the original code
}
SEGMENTERS: dict[str, Backend] = {
    "segment_anything": Backend(_build_sam, _sam_weights),  # the original SAM code
    "hf": Backend(_build_hf_segmenter, _hf_segmenter_weights),  # transformers SAM / SAM-HQ / SAM 2
}
