"""The three measurements of ``vidagent bench``: this pipeline end to end (``time_vidagent``), the
naive per-frame detector + SAM (``time_per_frame``) and the Grounded-SAM-2 recipe
(``time_grounded_sam2``). Each returns seconds, CPU seconds and a ``stages`` dict of seconds per
stage; the timing doubles they wrap models in live in ``vidagent.testing.doubles``."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np

from vidagent.bench.models import BenchModels
from vidagent.models.base import Detector, Segmenter
from vidagent.testing.doubles import BoxClippedSegmenter, TopKDetector
from vidagent.types import Detections

def _first_frame(clip: Path) -> np.ndarray:
    from vidagent.video import open_video

    for _, frame in open_video(clip).frames():
        return np.ascontiguousarray(frame)
    raise ValueError(f"{clip} has no frames")


QUESTION = "how many balls are there?"  # the counting question of the vidagent run
SECOND_QUESTION = "is there a ball?"  # same targets: must be answered from the cache
GSAM2_DETECT_EVERY = 20  # Grounded-SAM-2's default step between detector runs


def use_profile_runtime(profile, detector: Detector, segmenter: Segmenter, frame) -> None:
    """Give the bench's in-memory models the profile's runtime (ONNX Runtime for ``cpu``), as the
    registry does for loaded weights; the exports are made (or found on disk) here, before the
    timing, by one warm-up detection on ``frame``."""
    from vidagent.models.accelerate import accelerate_detector, accelerate_segmenter
    from vidagent.models.export_cache import module_digest

    if profile.detector.runtime != "torch" and hasattr(detector, "model"):
        accelerate_detector(detector, profile.detector.runtime, module_digest(detector.model),
                            precision=profile.detector.precision)
        detector.detect(frame, ["ball", "box"])
    sam = getattr(segmenter, "model", None)
    if profile.segmenter.runtime != "torch" and hasattr(sam, "image_encoder"):
        accelerate_segmenter(segmenter, profile.segmenter.runtime, module_digest(sam.image_encoder),
                             precision=profile.segmenter.precision)


def schedule_summary(tracker, detector_calls: int, sam_calls: int) -> dict:
    """The ``bench --json`` ``schedule`` object: the keyframe schedule the tracker ran (its kind,
    the frames the detector ran on, the frames that got fresh SAM masks, why) and the model
    calls it cost."""
    sched = tracker.schedule
    table = dict(tracker.config.schedule or {})
    return {
        "kind": table.get("kind", "fixed"),
        "keyframes": [int(i) for i in sched.detections],
        "detector_calls": int(detector_calls),
        "sam_calls": int(sam_calls),
        "sam_frames": [int(i) for i in sched.refreshes],
        "reasons": dict(sched.reasons),
        "settings": table or {"detect_every": tracker.config.detect_every,
                              "stride": tracker.config.stride},
    }


def profile_models(clip: Path, profile, models: BenchModels,
                   objects: int) -> tuple[TopKDetector, BoxClippedSegmenter]:  # fmt: skip
    """The bench's detector and segmenter for ``profile``: ``models``' random-weight ones at the
    profile's sizes, on its runtime (``use_profile_runtime``, warmed up on ``clip``'s first
    frame), in the timing doubles (top ``objects`` boxes; masks clipped to their boxes)."""
    inner_det = models.detector(profile.detector.short_side, profile.detector.max_side)
    inner_seg = models.segmenter(profile.segmenter.model, profile.segmenter.input_size)
    use_profile_runtime(profile, inner_det, inner_seg, _first_frame(clip))
    return TopKDetector(inner_det, objects), BoxClippedSegmenter(inner_seg)


def time_vidagent(clip: Path, profile, models: BenchModels, objects: int) -> dict:
    """``Agent.ask`` end to end with injected random-weight models, then a cached second
    question. Model construction is not timed (a real run loads weights instead)."""
    from vidagent.pipeline import Agent

    class _Agent(Agent):  # remembers its tracker: the schedule it ran goes in the output
        trackers: tuple = ()

        def _tracker(self, *args, **kwargs):
            tracker = super()._tracker(*args, **kwargs)
            self.trackers = (*self.trackers, tracker)
            return tracker

    t0 = time.perf_counter()
    det, seg = profile_models(clip, profile, models, objects)
    parser = models.parser()
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="vidagent-bench-") as work:
        # the Profile object itself: the bench's lever settings need no entry in PROFILES
        agent = _Agent(profile=profile, device="cpu", offline=True, progress=False, workdir=work)
        agent.use_models(detector=det, segmenter=seg, parser=parser)
        t0, c0 = time.perf_counter(), time.process_time()
        first = agent.ask(str(clip), QUESTION)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        calls = (det.calls, seg.embeddings)
        t0 = time.perf_counter()
        second = agent.ask(str(clip), SECOND_QUESTION)
        second_s = time.perf_counter() - t0
        second_models = (det.calls - calls[0]) + (seg.embeddings - calls[1])
        schedule = schedule_summary(agent.trackers[0], *calls) if agent.trackers else None
        agent.close()
    t = dict(first.timings)
    stages = {
        "parse": t.get("parse", 0.0),
        "detect": det.seconds,
        "segment_embed": seg.embed_seconds,
        "segment_decode": seg.decode_seconds,
        "memory": t.get("memory", 0.0),
        "reason": t.get("reason", 0.0),
    }
    # keyframe model seconds computed ahead, beside the tracking of the frames before (in
    # detect and segment_embed, not on the path): taken off, so that the stages add up to wall
    stages["overlapped"] = -t.get("ahead", 0.0)
    # the rest: decoding the video, optical flow, association, label maps, writing tracks
    stages["track_other"] = max(0.0, wall - sum(stages.values()))
    return {
        "seconds": wall,
        "cpu_s": cpu,
        "stages": stages,
        "detector_calls": det.calls,
        "sam_embeddings": seg.embeddings,
        "sam_decodes": seg.decodes,
        "schedule": schedule,
        "answer": first.answer,
        "plan": first.plan,
        "second_question_s": second_s,
        "second_question_timings": second.timings,
        "second_question_model_calls": second_models,
        "model_build_s": build_s,
    }


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
            segmenter.predict(boxes=dets.boxes)
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
