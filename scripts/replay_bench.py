"""The vidagent run of ``vidagent bench`` (``Agent.ask`` on the bench clip, ``cpu`` profile) with
the keyframe models' outputs recorded once and replayed: the tracker, the memory, the parser and
the tracks writer alone, for profiling the CPU seconds outside the two image models.

    python scripts/replay_bench.py record /tmp/bench.pkl        # full-size random-weight models
    python scripts/replay_bench.py replay /tmp/bench.pkl --reps 3
    python scripts/replay_bench.py replay /tmp/bench.pkl --profile /tmp/replay.prof

Replay answers each detector call and each mask decode by the frame's content and the prompt
boxes, so a tracker change that asks other frames or other boxes fails (KeyError) instead of
inventing outputs. The language model is the real one (its parse is part of the run). Prints one
JSON line per run: seconds, CPU seconds (process_time, all threads), stages. Check that label
maps are unchanged with ``/work/brief/digest.py scripts/replay_bench.py replay ...``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from vidagent.models.base import Detector, Segmenter


def _key(image: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()


def _box_key(boxes) -> bytes | None:
    return None if boxes is None else np.asarray(boxes, np.float32).reshape(-1, 4).tobytes()


class RecordingDetector(Detector):
    def __init__(self, inner: Detector, store: dict) -> None:
        self.inner, self.store = inner, store

    def detect(self, image, phrases, box_threshold=None, text_threshold=None, max_boxes=None):
        dets = self.inner.detect(image, phrases, box_threshold, text_threshold, max_boxes)
        self.store[(_key(image), tuple(phrases))] = dets
        return dets


class RecordingSegmenter(Segmenter):
    def __init__(self, inner: Segmenter, store: dict) -> None:
        self.inner, self.store = inner, store
        self._image: str | None = None

    @property
    def is_image_set(self) -> bool:
        return self.inner.is_image_set

    @property
    def can_embed(self) -> bool:
        return self.inner.can_embed

    def set_image(self, image) -> None:
        self.inner.set_image(image)
        self._image = _key(image)

    def embed(self, image):
        return _key(image), self.inner.embed(image)

    def set_embedding(self, embedding) -> None:
        self._image, inner = embedding
        self.inner.set_embedding(inner)

    def predict(self, boxes=None, points=None, point_labels=None, multimask=None):
        out = self.inner.predict(boxes, points, point_labels, multimask)
        key = (self._image, _box_key(boxes), _box_key(points), None if point_labels is None
               else np.asarray(point_labels).tobytes(), multimask)
        self.store[key] = out
        return out


class ReplayDetector(Detector):
    def __init__(self, store: dict) -> None:
        self.store = store
        self.calls = 0

    def detect(self, image, phrases, box_threshold=None, text_threshold=None, max_boxes=None):
        self.calls += 1
        return self.store[(_key(image), tuple(phrases))]


class ReplaySegmenter(Segmenter):
    can_embed = True

    def __init__(self, store: dict) -> None:
        self.store = store
        self._image: str | None = None
        self.embeddings = 0

    @property
    def is_image_set(self) -> bool:
        return self._image is not None

    def set_image(self, image) -> None:
        self.set_embedding(self.embed(image))

    def embed(self, image):
        self.embeddings += 1
        return _key(image)

    def set_embedding(self, embedding) -> None:
        self._image = embedding

    def predict(self, boxes=None, points=None, point_labels=None, multimask=None):
        key = (self._image, _box_key(boxes), _box_key(points), None if point_labels is None
               else np.asarray(point_labels).tobytes(), multimask)
        masks, scores = self.store[key]
        return masks.copy(), scores.copy()


def _ask(clip: Path, profile, det, seg, parser, cprofile: str | None = None) -> dict:
    from vidagent.bench.measure import QUESTION
    from vidagent.pipeline import Agent

    with tempfile.TemporaryDirectory(prefix="vidagent-replay-") as work:
        agent = Agent(profile=profile, device="cpu", offline=True, progress=False, workdir=work)
        agent.use_models(detector=det, segmenter=seg, parser=parser)
        prof = None
        if cprofile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        ru0 = os.times()
        first = agent.ask(str(clip), QUESTION)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        ru1 = os.times()
        if prof is not None:
            prof.disable()
            prof.dump_stats(cprofile)
        agent.close()
    t = dict(first.timings)
    return {"seconds": round(wall, 3), "cpu_s": round(cpu, 3),
            "user_s": round(ru1.user - ru0.user, 3), "sys_s": round(ru1.system - ru0.system, 3),
            "answer": str(first.answer), "load": round(os.getloadavg()[0], 1),
            **{k: round(v, 3) for k, v in t.items() if isinstance(v, float)}}


def main(argv: list[str] | None = None) -> int:
    from vidagent.bench.clip import make_clip
    from vidagent.bench.settings import resolve_profile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["record", "replay"])
    ap.add_argument("store", type=Path)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--profile", help="cProfile the (last) replay run into this file")
    ap.add_argument("--cv-threads", default="",
                    help="comma list of cv2.setNumThreads values, cycled over the reps (A/B)")
    args = ap.parse_args(argv)
    profile = resolve_profile("cpu")
    with tempfile.TemporaryDirectory(prefix="vidagent-replay-clip-") as d:
        clip = make_clip(Path(d) / "clip.mp4", args.seconds, 30.0, 854, 480)
        if args.mode == "record":
            from vidagent.bench.measure import profile_models
            from vidagent.bench.models import full_size_models

            models = full_size_models()
            top_k, clipped = profile_models(clip, profile, models, 3)
            dets: dict = {}
            masks: dict = {}
            det = RecordingDetector(top_k, dets)
            seg = RecordingSegmenter(clipped, masks)
            row = _ask(clip, profile, det, seg, models.parser())
            with open(args.store, "wb") as f:
                pickle.dump({"detections": dets, "masks": masks}, f)
            print(json.dumps({"recorded": len(dets), "decodes": len(masks), **row}), flush=True)
            return 0
        from vidagent.bench.models import full_size_models

        with open(args.store, "rb") as f:
            store = pickle.load(f)
        parser = full_size_models().parser()
        import cv2

        cycle = [int(x) for x in args.cv_threads.split(",") if x] or [cv2.getNumThreads()]
        for rep in range(args.reps):
            cv2.setNumThreads(cycle[rep % len(cycle)])
            det, seg = ReplayDetector(store["detections"]), ReplaySegmenter(store["masks"])
            last = rep == args.reps - 1
            row = _ask(clip, profile, det, seg, parser, args.profile if last else None)
            print(json.dumps({"rep": rep, "cv_threads": cv2.getNumThreads(), "detector_calls": det.calls,
                              "sam_embeddings": seg.embeddings, **row}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
