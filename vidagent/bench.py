"""``vidagent bench``: this pipeline and the naive baselines, timed side by side in one run.

On a generated clip (default 10 s, 30 fps, 854x480; ``vidagent.testing.scenes``) with full-size
model architectures and random weights (no download; the cost of a forward pass does not depend on
the weights) it measures:

- ``vidagent``: ``Agent.ask`` with the profile (default ``cpu``) end to end for a counting
  question (language-model parse, detection, segmentation, tracking with masks on every
  frame, scene memory, reasoning); then a second question on the same video (perception cache);
- ``per_frame``: the naive pipeline, detector + SAM ViT-B at its native 1024 px on every frame;
- ``grounded_sam2``: the Grounded-SAM-2 recipe, detector on frame 0 and every 20th frame, SAM 2.1
  (transformers ``Sam2VideoModel``, default hiera-tiny config, native 1024 px) propagating on
  every frame.

Baselines are timed on ``sample`` frames and extrapolated linearly to the clip (said so in the
output). Random-weight detectors score every box alike, so every detector here returns its
model's top ``objects`` boxes whatever their score (``TopKDetector``), and random-weight SAM
masks are clipped to their prompt box (``BoxClippedSegmenter``): every configuration then tracks
the same number of objects. The answers are meaningless; the work done is that of a real run.
"""

from __future__ import annotations

import math
import os
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidagent.errors import InputError
from vidagent.models.base import Detector, Segmenter
from vidagent.types import Detections

QUESTION = "how many balls are there?"  # the counting question of the vidagent run
SECOND_QUESTION = "is there a ball?"  # same targets: must be answered from the cache
GSAM2_DETECT_EVERY = 20  # Grounded-SAM-2's default step between detector runs
SAM2_WARM_FRAMES = 7  # frames fed before timing SAM 2 (its memory bank holds 7 frames)
NAIVE_SAM_SIZE = 1024  # SAM's native input size (per-frame baseline)
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "?", "ball", "box", "balls", "a"]


# ---------------------------------------------------------------------------- wrappers


class TopKDetector(Detector):
    """A detector that always returns its model's ``k`` best boxes (thresholds 0), timed.

    Random weights give meaningless scores; forcing the top ``k`` keeps the number of tracked
    objects fixed so that runs are comparable.
    """

    def __init__(self, inner: Detector, k: int = 3) -> None:
        self.inner = inner
        self.k = int(k)
        self.calls = 0
        self.seconds = 0.0

    def detect(self, image, phrases, box_threshold=None, text_threshold=None, max_boxes=None):
        t0 = time.perf_counter()
        dets = self.inner.detect(image, phrases, 0.0, 0.0, self.k)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        return dets


class BoxClippedSegmenter(Segmenter):
    """A SAM whose masks are clipped to their prompt box (the filled box when less than half of
    it is left), timed. Random-weight SAM masks spill over the whole frame; clipping keeps each
    object where its box is, so the tracker does the same work as with trained weights."""

    def __init__(self, inner: Segmenter) -> None:
        self.inner = inner
        self.embeddings = 0
        self.embed_seconds = 0.0
        self.decodes = 0
        self.decode_seconds = 0.0

    @property
    def is_image_set(self) -> bool:
        return self.inner.is_image_set

    def set_image(self, image: np.ndarray) -> None:
        t0 = time.perf_counter()
        self.inner.set_image(image)
        self.embed_seconds += time.perf_counter() - t0
        self.embeddings += 1

    def predict(self, boxes=None, points=None, point_labels=None, multimask=True):
        t0 = time.perf_counter()
        masks, scores = self.inner.predict(boxes, points, point_labels, multimask)
        self.decode_seconds += time.perf_counter() - t0
        self.decodes += 1
        if boxes is None:
            return masks, scores
        h, w = masks.shape[1:]
        out = np.zeros_like(masks)
        for n, b in enumerate(np.asarray(boxes, np.float32).reshape(-1, 4)):
            x1, y1 = (int(v) for v in np.clip(np.floor(b[:2]), 0, [w, h]))
            x2, y2 = (int(v) for v in np.clip(np.ceil(b[2:]), 0, [w, h]))
            inside = masks[n, y1:y2, x1:x2]
            out[n, y1:y2, x1:x2] = inside if inside.sum() >= 0.5 * inside.size else True
        return out, scores


# ---------------------------------------------------------------------------- models


@dataclass
class BenchModels:
    """Factories of the random-weight models the bench times (swap them for tiny ones in tests).

    detector(short_side, max_side) -> Detector; segmenter(arch, input_size) -> Segmenter;
    video_model() -> (Sam2VideoModel, Sam2VideoProcessor); parser() -> QueryParser.
    """

    detector: Callable[[int, int], Detector]
    segmenter: Callable[[str, int], Segmenter]
    video_model: Callable[[], tuple]
    parser: Callable[[], object]
    description: str = ""


def _tokenizer():
    from transformers import BertTokenizerFast

    return BertTokenizerFast(vocab={w: i for i, w in enumerate(WORDS)})


def full_size_models(llm: str = "smollm2-135m") -> BenchModels:
    """Grounding DINO-T (transformers default config: Swin-T + BERT-base), SAM (segment_anything
    ViT-B/L/H), SAM 2.1 hiera-tiny video (transformers default config), all random weights;
    the language model is the real one (``llm``, parse latency counts)."""
    import torch

    cache: dict = {}

    def detector(short_side: int, max_side: int) -> Detector:
        from transformers import (
            GroundingDinoConfig,
            GroundingDinoForObjectDetection,
            GroundingDinoImageProcessor,
            GroundingDinoProcessor,
        )

        from vidagent.models.detector_hf import HFGroundingDino

        if "dino" not in cache:
            torch.manual_seed(0)
            model = GroundingDinoForObjectDetection(GroundingDinoConfig()).eval()
            proc = GroundingDinoProcessor(image_processor=GroundingDinoImageProcessor(),
                                          tokenizer=_tokenizer())
            cache["dino"] = (model, proc)
        model, proc = cache["dino"]
        return HFGroundingDino(model, proc, short_side=short_side, max_side=max_side)

    def segmenter(arch: str, input_size: int) -> Segmenter:
        from vidagent.models.segmenter_sam import SamSegmenter, build_sam

        torch.manual_seed(0)
        return SamSegmenter(build_sam(arch, input_size))

    def video_model():
        from transformers import (
            Sam2ImageProcessor,
            Sam2VideoConfig,
            Sam2VideoModel,
            Sam2VideoProcessor,
            Sam2VideoVideoProcessor,
        )

        torch.manual_seed(0)
        model = Sam2VideoModel(Sam2VideoConfig()).eval()
        proc = Sam2VideoProcessor(image_processor=Sam2ImageProcessor(),
                                  video_processor=Sam2VideoVideoProcessor())
        return model, proc

    def parser():
        from vidagent.models.llm import load_language_model
        from vidagent.query.parser import QueryParser

        return QueryParser(load_language_model(llm, offline=True))

    return BenchModels(detector, segmenter, video_model, parser,
                       "Grounding DINO-T, SAM ViT-B, SAM 2.1 hiera-tiny: full size, random weights; "
                       f"language model {llm} (real weights)")


# ---------------------------------------------------------------------------- clip


def make_clip(path: str | Path, seconds: float, fps: float = 30.0, width: int = 854,
              height: int = 480, seed: int = 0) -> Path:
    """Write the synthetic benchmark clip (``vidagent.testing.scenes.default_scene``: 2 balls,
    2 boxes) as mp4."""
    from vidagent.testing.scenes import default_scene
    from vidagent.video import write_video

    n = max(2, round(seconds * fps))
    video = default_scene(num_frames=n, height=height, width=width, seed=seed, fps=fps)
    return Path(write_video(path, video.frames, fps, crf=12))


def _read_frames(path: Path, indices: Sequence[int]) -> dict[int, np.ndarray]:
    from vidagent.video import open_video

    want = {int(i) for i in indices}
    out = {}
    for i, frame in open_video(path).frames():
        if i in want:
            out[i] = np.ascontiguousarray(frame)
        if len(out) == len(want):
            break
    return out


# ---------------------------------------------------------------------------- measurements


def time_vidagent(clip: Path, profile, models: BenchModels, objects: int) -> dict:
    """``Agent.ask`` end to end with injected random-weight models, then a cached second
    question. Model construction is not timed (a real run loads weights instead)."""
    from vidagent.pipeline import Agent

    t0 = time.perf_counter()
    det = TopKDetector(models.detector(profile.detector.short_side, profile.detector.max_side),
                       objects)
    seg = BoxClippedSegmenter(models.segmenter(profile.segmenter.model,
                                               profile.segmenter.input_size))
    parser = models.parser()
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="vidagent-bench-") as work:
        agent = Agent(profile=profile.name, device="cpu", offline=True, progress=False,
                      workdir=work)
        agent.use_models(detector=det, segmenter=seg, parser=parser)
        t0, c0 = time.perf_counter(), time.process_time()
        first = agent.ask(str(clip), QUESTION)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        calls = (det.calls, seg.embeddings)
        t0 = time.perf_counter()
        second = agent.ask(str(clip), SECOND_QUESTION)
        second_s = time.perf_counter() - t0
        second_models = (det.calls - calls[0]) + (seg.embeddings - calls[1])
        agent.close()
    t = dict(first["timings"])
    stages = {
        "parse": t.get("parse", 0.0),
        "detect": det.seconds,
        "segment_embed": seg.embed_seconds,
        "segment_decode": seg.decode_seconds,
        "memory": t.get("memory", 0.0),
        "reason": t.get("reason", 0.0),
    }
    # the rest: decoding the video, optical flow, association, label maps, writing tracks
    stages["track_other"] = max(0.0, wall - sum(stages.values()))
    return {
        "seconds": wall,
        "cpu_s": cpu,
        "stages": stages,
        "detector_calls": det.calls,
        "sam_embeddings": seg.embeddings,
        "sam_decodes": seg.decodes,
        "answer": first["answer"],
        "plan": first["plan"],
        "second_question_s": second_s,
        "second_question_timings": second["timings"],
        "second_question_model_calls": second_models,
        "model_build_s": build_s,
    }


def _sample_indices(num_frames: int, sample: int) -> list[int]:
    k = max(1, min(int(sample), num_frames))
    return sorted({round(x) for x in np.linspace(0, num_frames - 1, k)})


def time_per_frame(frames: dict[int, np.ndarray], num_frames: int, detector: Detector,
                   segmenter: Segmenter, phrases: list[str]) -> dict:
    """Detector + SAM image embedding + one batched decode of its boxes on each sampled frame,
    extrapolated to ``num_frames``. One untimed warm-up call of each model first."""
    first = next(iter(frames.values()))
    detector.detect(first, phrases)
    segmenter.set_image(first)
    det_s, emb_s, dec_s, det_c = [], [], [], []
    boxes0 = None
    c0 = time.process_time()
    for i in sorted(frames):
        t0, d0 = time.perf_counter(), time.process_time()
        dets = detector.detect(frames[i], phrases)
        t1 = time.perf_counter()
        det_c.append(time.process_time() - d0)
        segmenter.set_image(frames[i])
        t2 = time.perf_counter()
        if len(dets):
            segmenter.predict(boxes=dets.boxes, multimask=True)
        t3 = time.perf_counter()
        det_s.append(t1 - t0)
        emb_s.append(t2 - t1)
        dec_s.append(t3 - t2)
        if boxes0 is None:
            boxes0 = dets
    cpu = (time.process_time() - c0) / len(frames)
    per = {"detect": float(np.mean(det_s)), "segment_embed": float(np.mean(emb_s)),
           "segment_decode": float(np.mean(dec_s))}
    return {
        "seconds": sum(per.values()) * num_frames,
        "cpu_s": cpu * num_frames,
        "detect_cpu_per_call": float(np.mean(det_c)),
        "stages": {k: v * num_frames for k, v in per.items()},
        "per_frame": per,
        "sampled_frames": sorted(frames),
        "first_detections": boxes0,
    }


def time_grounded_sam2(frames: list[np.ndarray], num_frames: int, detect_s: float,
                       video_model, boxes: Detections, sample: int,
                       detect_every: int = GSAM2_DETECT_EVERY) -> dict:
    """SAM 2 video propagation of ``boxes`` (prompted on the first frame) through ``frames``
    (consecutive frames of the clip) in a streaming session; the mean time of the last
    ``sample`` frames (memory bank full) is the per-frame cost. Detector runs are charged at
    ``detect_s`` each (measured by the per-frame baseline: same model, same size)."""
    import torch

    model, processor = video_model
    h, w = frames[0].shape[:2]
    session = processor.init_video_session(inference_device="cpu", dtype=torch.float32)
    session.video_height, session.video_width = h, w
    ids = list(range(1, len(boxes) + 1))
    times, cpus = [], []
    with torch.inference_mode():
        for k, frame in enumerate(frames):
            t0, c0 = time.perf_counter(), time.process_time()
            pixels = processor(images=frame, return_tensors="pt").pixel_values[0]
            if k == 0 and ids:
                processor.add_inputs_to_inference_session(
                    session, frame_idx=0, obj_ids=ids,
                    input_boxes=[[[float(v) for v in b] for b in boxes.boxes]])
            out = model(inference_session=session, frame=pixels, frame_idx=k)
            processor.post_process_masks([out.pred_masks], original_sizes=[[h, w]],
                                         binarize=True)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    last = max(1, min(sample, len(times) - 1)) if len(times) > 1 else 1
    timed = times[-last:]
    per_frame = float(np.mean(timed))
    per_frame_cpu = float(np.mean(cpus[-last:]))
    detections = math.ceil(num_frames / detect_every)
    stages = {"detect": detections * detect_s, "sam2_video": per_frame * num_frames}
    return {
        "seconds": sum(stages.values()),
        "video_cpu_s": per_frame_cpu * num_frames,
        "stages": stages,
        "per_frame": {"sam2_video": per_frame, "detect": detect_s},
        "detector_calls": detections,
        "frames_fed": len(frames),
        "frames_timed": len(timed),
        "frame_seconds": [round(x, 3) for x in times],
    }


# ---------------------------------------------------------------------------- the bench


@dataclass
class BenchSettings:
    """What one bench run does (the CLI's options)."""

    seconds: float = 10.0  # clip length
    fps: float = 30.0
    width: int = 854
    height: int = 480
    sample: int = 3  # frames timed per baseline
    profile: str = "cpu"
    objects: int = 3  # boxes every detector returns (top-k)
    threads: int | None = None  # torch threads (None: torch's default)
    skip: tuple[str, ...] = field(default_factory=tuple)  # "per_frame", "grounded_sam2"
    # speed levers on top of the profile: det_size (detector short side), sam_size (SAM input),
    # and any tracker setting (detect_every, stride, flow_size, ...)
    overrides: dict = field(default_factory=dict)


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
    """["detect_every=30", "sam_size=384"] -> {"detect_every": 30, "sam_size": 384}."""
    out: dict = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--set wants KEY=VALUE (e.g. detect_every=30), got {item!r}")
        try:
            out[key] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError:
            raise InputError(f"--set {key}: {value!r} is not a number") from None
    return out


def run_bench(settings: BenchSettings, models: BenchModels | None = None,
              progress: Callable[[str], None] | None = None) -> dict:
    """Run the three measurements on one generated clip; returns the ``bench --json`` object."""
    import torch

    from vidagent.profiles import get_profile
    from vidagent.video import open_video

    t_start = time.perf_counter()

    def say(msg: str) -> None:
        if progress is not None:
            progress(f"[{time.perf_counter() - t_start:6.0f} s] {msg}")

    profile = apply_overrides(get_profile(settings.profile, "cpu"), settings.overrides)
    if profile.propagator != "flow":
        raise InputError(f"bench times profiles whose propagator is optical flow; {profile.name!r}"
                         " uses a SAM 2 video model (try --profile cpu)")
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
        from vidagent.profiles import PROFILES

        added = profile.name not in PROFILES
        if added:  # the Agent looks profiles up by name
            PROFILES[profile.name] = profile
        try:
            va = time_vidagent(clip, profile, models, settings.objects)
        finally:
            if added:
                PROFILES.pop(profile.name, None)
        say(f"vidagent took {va['seconds']:.1f} s")
        phrases = list(va["plan"].get("targets") or ["ball"])
        pf = gs = None
        det_naive = None
        if "per_frame" not in settings.skip or "grounded_sam2" not in settings.skip:
            idx = _sample_indices(n, settings.sample)
            frames = _read_frames(clip, idx)
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
            consecutive = _read_frames(clip, range(k))
            gs = time_grounded_sam2([consecutive[i] for i in range(k)], n,
                                    pf["per_frame"]["detect"], models.video_model(),
                                    pf["first_detections"], settings.sample)
            say(f"Grounded-SAM-2 baseline: {gs['seconds']:.0f} s extrapolated")
        if pf is not None:
            pf.pop("first_detections", None)
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
        "peak_rss_mb": _peak_rss_mb(),
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
        ],
    }
    return result


def _peak_rss_mb() -> float:
    """Peak resident set of this process in MB (VmHWM on Linux, else ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def format_text(r: dict) -> str:
    """Human-readable summary of a ``run_bench`` result."""
    c = r["clip"]

    def s(x):
        return "skipped" if x is None else f"{x:9.1f} s"

    def ratio(x):
        return "" if x is None else f"  (vidagent {x:.1f}x faster)"

    lines = [
        (f"clip: {c['seconds']} s, {c['fps']:g} fps, {c['width']}x{c['height']}, {c['frames']} frames,"
        f" top {c['objects']} boxes per detection; torch threads {r['threads']}"),
        f"vidagent ({r['profile']} profile, end to end) {s(r['vidagent_s'])}",
        f"per-frame detector + SAM                  {s(r['per_frame_s'])}{ratio(r['ratio_vs_per_frame'])}",
        (f"Grounded-SAM-2 (DINO/20 + SAM 2 video)    {s(r['grounded_sam2_s'])}"
        f"{ratio(r['ratio_vs_grounded_sam2'])}"),
        f"second question on the same video        {s(r['second_question_s'])}",
        "CPU seconds (all threads): " + ", ".join(
            f"{k} {v:.0f}" for k, v in r["cpu_s"].items() if v is not None)
        + (f"; CPU ratio vs Grounded-SAM-2 {r['cpu_ratio_vs_grounded_sam2']:.1f}x"
           if r["cpu_ratio_vs_grounded_sam2"] else ""),
        "stages (s):",
    ]
    for name, st in r["stages"].items():
        if st:
            lines.append(f"  {name:<14} " + ", ".join(f"{k} {v:.1f}" for k, v in st.items()))
    v = r["vidagent"]
    lines.append(f"vidagent work: {v['detector_calls']} detector calls, {v['sam_embeddings']} SAM "
                 f"embeddings, tracker {v['tracker']}")
    lines.append(f"peak RSS {r['peak_rss_mb']} MB; bench took {r['bench_wall_s']:.0f} s")
    lines += [f"note: {n}" for n in r["notes"]]
    return "\n".join(lines)


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
        overrides=parse_overrides(getattr(args, "set", None)),
    )

    def progress(msg: str) -> None:
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    result = run_bench(settings, progress=progress)
    emit(result, bool(args.json), format_text)
    return 0
