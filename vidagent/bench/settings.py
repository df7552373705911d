"""What one bench run does: ``BenchSettings`` (the CLI's options) and the speed levers
(``--set KEY=VALUE``) applied to a copy of the profile."""

from __future__ import annotations

from dataclasses import dataclass, field

from vidagent.errors import InputError
from vidagent.profiles import Profile, get_profile


@dataclass
class BenchSettings:
    """What one bench run does (the CLI's options)."""

    seconds: float = 10.0  # clip length
    fps: float = 30.0
    width: int = 854
    height: int = 480
    sample: int = 3  # frames timed per baseline
    profile: str | Profile = "cpu"  # a name, or a Profile object (a custom set of models)
    objects: int = 3  # boxes every detector returns (top-k)
    threads: int | None = None  # torch threads (None: torch's default)
    # "per_frame", "grounded_sam2", "schedule_quality"
    skip: tuple[str, ...] = field(default_factory=tuple)
    # speed levers on top of the profile: det_size (detector short side), sam_size (SAM input),
    # any tracker setting (detect_every, stride, flow_size, ...) and schedule.KEY (the keyframe
    # schedule's table: schedule.kind=adaptive, schedule.max_gap=60, ...)
    overrides: dict = field(default_factory=dict)
    # schedule quality: simulated detector and SAM on synthetic scenes with ground truth, as long
    # as the clip (held-out seeds of vidagent.testing.schedule_quality), at this (width, height)
    quality_seeds: tuple[int, ...] = (10, 11)
    quality_size: tuple[int, int] = (320, 240)


def resolve_profile(profile: str | Profile) -> Profile:
    """``profile`` itself when it is a Profile, else the built-in profile of that name."""
    return profile if isinstance(profile, Profile) else get_profile(profile, "cpu")


def apply_overrides(profile, overrides: dict):
    """A copy of ``profile`` with the bench's lever settings applied (name gets a suffix)."""
    from dataclasses import replace

    from vidagent.tracking import TrackerConfig

    if not overrides:
        return profile
    o = dict(overrides)
    det, seg = profile.detector, profile.segmenter
    if "det_size" in o:
        size = int(o.pop("det_size"))
        det = replace(det, short_side=size, max_side=max(size, round(size * 1333 / 800)))
    if "sam_size" in o:
        size = int(o.pop("sam_size"))
        if size <= 0 or size % 16:
            raise InputError(f"sam_size must be a positive multiple of 16, got {size}")
        seg = replace(seg, input_size=size)
    tracker = dict(profile.tracker)
    schedule = {k.partition(".")[2]: o.pop(k) for k in list(o) if k.startswith("schedule.")}
    if schedule:
        from vidagent.tracking.schedule import ScheduleConfig

        base = ScheduleConfig()
        for k, v in schedule.items():
            default = getattr(base, k, None)
            if isinstance(default, (int, float)) and isinstance(v, (int, float)):
                schedule[k] = type(default)(v)
        tracker["schedule"] = {**(tracker.get("schedule") or {}), **schedule}
    defaults = TrackerConfig()
    for k, v in o.items():
        default = getattr(defaults, k, None)
        # ints stay ints, floats floats; settings whose default is None take the value as given
        tracker[k] = type(default)(v) if isinstance(default, (int, float)) else v
    try:
        TrackerConfig.from_dict(tracker)
    except (TypeError, ValueError) as exc:
        raise InputError(f"bad --set value: {exc}") from None
    label = ",".join(f"{k}={v}" for k, v in sorted(overrides.items()))
    return replace(profile, name=f"{profile.name}[{label}]", detector=det, segmenter=seg,
                   tracker=tracker)


def parse_overrides(items) -> dict:
    """["detect_every=30", "sam_size=384"] -> {"detect_every": 30, "sam_size": 384};
    "schedule.kind=adaptive" keeps its word."""
    out: dict = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--set wants KEY=VALUE (e.g. detect_every=30), got {item!r}")
        if key == "schedule.kind":
            out[key] = value.strip()
            continue
        try:
            out[key] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError:
            raise InputError(f"--set {key}: {value!r} is not a number") from None
    return out
