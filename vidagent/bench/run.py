"""One bench run: the clip, the three measurements side by side, and the ``bench --json`` object
(clip, seconds and ratios, CPU seconds, ``stages`` per configuration, the work each did, notes);
``cli`` is ``vidagent bench``."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vidagent.bench.clip import make_clip, read_frames, sample_indices
from vidagent.bench.measure import (
    GSAM2_DETECT_EVERY,
    QUESTION,
    time_grounded_sam2,
    time_per_frame,
    time_vidagent,
)
from vidagent.bench.memory import peak_rss_mb
from vidagent.bench.models import BenchModels, full_size_models
from vidagent.bench.report import format_text
from vidagent.bench.settings import BenchSettings, apply_overrides, parse_overrides, resolve_profile
from vidagent.errors import InputError
from vidagent.testing.doubles import TopKDetector

SAM2_WARM_FRAMES = 7  # frames fed before timing SAM 2 (its memory bank holds 7 frames)
NAIVE_SAM_SIZE = 1024  # SAM's native input size (per-frame baseline)


def run_bench(settings: BenchSettings, models: BenchModels | None = None,
              progress: Callable[[str], None] | None = None) -> dict:
    """Run the three measurements on one generated clip; returns the ``bench --json`` object."""
    import torch

    from vidagent.video import open_video

    t_start = time.perf_counter()

    def say(msg: str) -> None:
        if progress is not None:
            progress(f"[{time.perf_counter() - t_start:6.0f} s] {msg}")

    profile = apply_overrides(resolve_profile(settings.profile), settings.overrides)
    from vidagent.tracking.engines import get_engine

    if get_engine(profile.propagator).own_model:
        raise InputError(f"bench times profiles whose tracking engine needs no model of its own;"
                         f" {profile.name!r} uses {profile.propagator!r} (try --profile cpu)")
    if settings.seconds <= 0 or settings.sample < 1:
        raise InputError("bench needs --seconds > 0 and --sample >= 1")
    if settings.threads:
        torch.set_num_threads(int(settings.threads))
    models = models or full_size_models(profile.llm)
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="vidagent-bench-clip-") as d:
        say("generating the clip")
        clip = make_clip(Path(d) / "clip.mp4", settings.seconds, settings.fps, settings.width,
                         settings.height)
        info = open_video(clip).info
        n = int(info.num_frames)
        say(f"vidagent ({profile.name} profile) on {n} frames")
        va = time_vidagent(clip, profile, models, settings.objects)
        say(f"vidagent took {va['seconds']:.1f} s")
        phrases = list(va["plan"].get("targets") or ["ball"])
        pf = gs = None
        det_naive = None
        if "per_frame" not in settings.skip or "grounded_sam2" not in settings.skip:
            idx = sample_indices(n, settings.sample)
            frames = read_frames(clip, idx)
            # native Grounding DINO resolution for a 480p frame is the frame itself (no
            # upscaling to 800, which would cost ~3x more: these baselines are lower bounds)
            det_naive = TopKDetector(models.detector(min(info.width, info.height),
                                                     max(info.width, info.height)),
                                     settings.objects)
            say(f"per-frame baseline on {len(frames)} sampled frames")
            sam = models.segmenter(profile.segmenter.model, NAIVE_SAM_SIZE)
            pf = time_per_frame(frames, n, det_naive, sam, phrases)
            del sam
            say(f"per-frame baseline: {pf['seconds']:.0f} s extrapolated")
        if "grounded_sam2" not in settings.skip:
            k = min(n, SAM2_WARM_FRAMES + settings.sample)
            say(f"Grounded-SAM-2 baseline: SAM 2 video on {k} consecutive frames")
            consecutive = read_frames(clip, range(k))
            gs = time_grounded_sam2([consecutive[i] for i in range(k)], n,
                                    pf["per_frame"]["detect"], models.video_model(),
                                    pf["first_detections"], settings.sample)
            say(f"Grounded-SAM-2 baseline: {gs['seconds']:.0f} s extrapolated")
        if pf is not None:
            pf.pop("first_detections", None)
    quality = None
    if "schedule_quality" not in settings.skip:
        from vidagent.testing.schedule_quality import schedule_quality

        w, h = settings.quality_size
        say(f"schedule quality: simulated models on {len(settings.quality_seeds)} synthetic "
            f"scenes of {n} frames at {w}x{h}")
        quality = schedule_quality(dict(profile.tracker), settings.quality_seeds, n, height=h,
                                   width=w, fps=float(info.fps))
        say(f"schedule quality took {quality['seconds']:.0f} s")
    vid = va["seconds"]
    cpu = {
        "vidagent": va["cpu_s"],
        "per_frame": pf["cpu_s"] if pf else None,
        "grounded_sam2": (gs["video_cpu_s"] + gs["detector_calls"] * pf["detect_cpu_per_call"])
        if gs else None,
    }
    result = {
        "clip": {"seconds": round(n / info.fps, 3), "fps": info.fps, "width": info.width,
                 "height": info.height, "frames": n, "question": QUESTION,
                 "objects": settings.objects},
        "profile": profile.name,
        "vidagent_s": vid,
        "per_frame_s": pf["seconds"] if pf else None,
        "grounded_sam2_s": gs["seconds"] if gs else None,
        "ratio_vs_per_frame": (pf["seconds"] / vid) if pf and vid > 0 else None,
        "ratio_vs_grounded_sam2": (gs["seconds"] / vid) if gs and vid > 0 else None,
        "second_question_s": va["second_question_s"],
        # the keyframe schedule the vidagent run chose, and schedules' quality on ground truth
        "schedule": va["schedule"],
        "schedule_quality": quality,
        # CPU seconds (all threads): steadier than wall time on a machine shared with other jobs
        "cpu_s": cpu,
        "cpu_ratio_vs_per_frame": (cpu["per_frame"] / cpu["vidagent"]) if pf and cpu["vidagent"] else None,
        "cpu_ratio_vs_grounded_sam2": (cpu["grounded_sam2"] / cpu["vidagent"])
        if gs and cpu["vidagent"] else None,
        "stages": {
            "vidagent": va["stages"],
            "per_frame": pf["stages"] if pf else None,
            "grounded_sam2": gs["stages"] if gs else None,
        },
        "per_frame_costs": {
            "per_frame": pf["per_frame"] if pf else None,
            "grounded_sam2": gs["per_frame"] if gs else None,
        },
        "vidagent": {
            "cpu_s": va["cpu_s"],
            "detector_calls": va["detector_calls"],
            "sam_embeddings": va["sam_embeddings"],
            "sam_decodes": va["sam_decodes"],
            "tracker": dict(profile.tracker),
            "overrides": dict(settings.overrides),
            "detector_input": [profile.detector.short_side, profile.detector.max_side],
            "sam": [profile.segmenter.model, profile.segmenter.input_size],
            "answer": va["answer"],
            "second_question_model_calls": va["second_question_model_calls"],
        },
        "baselines": {
            "per_frame": None if pf is None else {
                "detector_input": [min(info.width, info.height), max(info.width, info.height)],
                "sam": [profile.segmenter.model, NAIVE_SAM_SIZE],
                "sampled_frames": pf["sampled_frames"],
            },
            "grounded_sam2": None if gs is None else {
                "detect_every": GSAM2_DETECT_EVERY, "detector_calls": gs["detector_calls"],
                "frames_fed": gs["frames_fed"], "frames_timed": gs["frames_timed"],
                "frame_seconds": gs["frame_seconds"],
            },
        },
        "models": models.description,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average_before": load0,
        "peak_rss_mb": peak_rss_mb(),
        "bench_wall_s": time.perf_counter() - t_start,
        "notes": [
            ("model weights are random (full-size architectures; cost does not depend on weights); "
            "model construction is not timed"),
            (f"every detector returns its top {settings.objects} boxes regardless of score, SAM "
            "masks are clipped to their prompt box: every configuration tracks the same number "
            "of objects; answers are meaningless"),
            f"baselines are timed on sampled frames and extrapolated linearly to {n} frames",
            ("baseline detector runs at the frame's own resolution (no upscaling to 800 px) and "
            "Grounded-SAM-2's per-keyframe SAM 2 image pass is not charged: baselines are lower "
            "bounds, ratios conservative"),
            "wall times on a shared machine are inflated by other jobs: compare within one run",
        ] + ([] if quality is None else [
            ("schedule_quality: the tracker with a simulated detector and SAM (ground truth, "
             "noised) on synthetic scenes with exact ground truth, as long as the clip; mean J "
             "per DAVIS (ids held over the clip) and mask_j (masks alone, matched per frame); "
             "not timed"),
        ]),
    }
    return result


def cli(args, emit) -> int:
    """Entry point of ``vidagent bench``."""
    import sys

    settings = BenchSettings(
        seconds=float(args.seconds),
        sample=int(args.sample),
        profile=args.profile or "cpu",
        threads=getattr(args, "threads", None),
        objects=int(getattr(args, "objects", 3) or 3),
        skip=tuple(getattr(args, "skip", None) or ()),
        quality_seeds=tuple(getattr(args, "quality_seeds", None) or (10, 11)),
        overrides=parse_overrides(getattr(args, "set", None)),
    )

    def progress(msg: str) -> None:
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    result = run_bench(settings, progress=progress)
    emit(result, bool(args.json), format_text)
    return 0
