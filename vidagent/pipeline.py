"""The public Python API: ``Agent`` runs query -> detection -> segmentation -> tracking -> memory
-> reasoning -> outputs.

```python
from vidagent import Agent
agent = Agent(profile="cpu", offline=True)
result = agent.ask("street.mp4", "how many cars are there?")
print(result["answer"], result["value"])
agent.segment("street.mp4", "the red car on the left", out="out/red_car")
```

Models load lazily on first use and stay cached on the agent. Perceived scenes are cached per
(video, targets), so a second question about the same video does not run the models again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from vidagent.errors import InputError
from vidagent.io.detections import DetectionsFile, load_detections
from vidagent.io.tracks import TracksWriter, open_tracks
from vidagent.overlay import OverlayWriter
from vidagent.query.parser import check_question
from vidagent.scene import Scene, build_memory
from vidagent.video import VideoReader, open_video

# what an open "describe" question looks for when the profile names nothing
DESCRIBE_TARGETS = ("person", "animal", "vehicle", "ball")


def split_prompt(prompt: str) -> list[str]:
    """"dog . red ball ." -> ["dog", "red ball"] (Grounding DINO's prompt convention; commas too)."""
    from vidagent.query.plan import clean_phrase

    text = check_question(prompt, "prompt")
    parts = [clean_phrase(p) for p in text.replace(",", ".").replace(";", ".").split(".")]
    phrases: list[str] = []
    for p in parts:
        if p and p not in phrases:
            phrases.append(p)
    if not phrases:
        raise InputError("the prompt names nothing to find; write phrases like \"dog . ball\"")
    return phrases


def _video_key(video: VideoReader) -> str:
    p = Path(video.info.path)
    try:
        st = p.stat()
        ident = f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        ident = str(p)
    return hashlib.sha1(ident.encode()).hexdigest()[:16]


@dataclass
class Agent:
    """The vidagent pipeline with its models and caches.

    Args:
        profile: model profile name (``vidagent models list``) or a ``Profile``; None picks
            ``gpu`` when CUDA is available, else ``cpu``.
        device: "cpu" or "cuda"; None picks CUDA when available.
        offline: never touch the network; missing weights raise WeightsMissingError (exit 3).
        progress: show progress bars on stderr.
        workdir: where perceived tracks are kept (default: a temporary folder removed on close()).
    """

    profile: object = None  # str | Profile | None
    device: str | None = None
    offline: bool = False
    progress: bool = True
    workdir: str | None = None
    _scenes: dict = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _models: dict = field(default_factory=dict, repr=False)
    _tmp: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from vidagent.profiles import get_profile

        if self.device is None:
            self.device = _default_device()
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise InputError(f"unknown device {self.device!r}; use cpu or cuda")
        if str(self.device).startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise InputError("--device cuda was asked for but no CUDA GPU is available; use --device cpu")
        from vidagent.profiles import Profile

        # a profile by name, or a Profile object (a custom or modified set of models)
        self._profile = self.profile if isinstance(self.profile, Profile) else get_profile(self.profile, self.device)
        self.profile = self._profile.name

    # ------------------------------------------------------------------ models
    def _progress(self, total: int | None, desc: str):
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="frame", disable=not self.progress, leave=False, dynamic_ncols=True)

    @property
    def llm(self):
        """The language model of the profile (loaded on first use)."""
        with self._lock:
            if "llm" not in self._models:
                from vidagent.models.llm import load_language_model

                self._models["llm"] = load_language_model(self._profile.llm, offline=self.offline, device=self.device)
            return self._models["llm"]

    @property
    def parser(self):
        with self._lock:
            if "parser" not in self._models:
                from vidagent.query.parser import QueryParser

                # the language model loads only when a question needs it
                self._models["parser"] = QueryParser(llm_loader=lambda: self.llm)
            return self._models["parser"]

    def _detector(self):
        with self._lock:
            if "detector" not in self._models:
                from vidagent.models.registry import load_detector

                self._models["detector"] = load_detector(self._profile, offline=self.offline, device=self.device)
            return self._models["detector"]

    def _segmenter(self):
        with self._lock:
            if "segmenter" not in self._models:
                from vidagent.models.registry import load_segmenter

                self._models["segmenter"] = load_segmenter(self._profile, offline=self.offline, device=self.device)
            return self._models["segmenter"]

    def _propagator(self):
        with self._lock:
            if "propagator" not in self._models:
                from vidagent.tracking.propagators import load_video_propagator

                self._models["propagator"] = load_video_propagator(
                    self._profile.video_model, offline=self.offline, device=self.device
                )
            return self._models["propagator"]

    def use_models(self, detector=None, segmenter=None, llm=None, parser=None) -> "Agent":
        """Use these already-built models instead of loading the profile's (benchmarks, tests,
        custom backends). Each must implement the interface of ``vidagent.models.base``."""
        with self._lock:
            for name, model in (("detector", detector), ("segmenter", segmenter), ("llm", llm), ("parser", parser)):
                if model is not None:
                    self._models[name] = model
        return self

    def load_models(self, detector: bool = True) -> None:
        """Load every model the profile needs now (else they load on first use)."""
        self.llm
        if detector:
            self._detector()
            self._segmenter()

    # ------------------------------------------------------------------ parsing
    def parse(self, question: str, expression: bool = False):
        """The plan for a question (``expression=True``: a referring expression, task "segment")."""
        text = check_question(question, "expression" if expression else "question")
        return self.parser.parse(text, expression=expression)

    # ------------------------------------------------------------------ perception
    def _workdir(self) -> Path:
        if self.workdir:
            Path(self.workdir).mkdir(parents=True, exist_ok=True)
            return Path(self.workdir)
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="vidagent-")
        return Path(self._tmp)

    def open(self, video: str | os.PathLike | VideoReader) -> VideoReader:
        return video if isinstance(video, VideoReader) else open_video(video)

    def load_tracks_scene(self, video: VideoReader, tracks_dir: str | os.PathLike) -> Scene:
        """A scene from a user's tracks folder (validated against the video)."""
        reader = open_tracks(tracks_dir, video)
        key = ("tracks", _video_key(video), str(Path(tracks_dir).resolve()))
        with self._lock:
            if key in self._scenes:
                return self._scenes[key]
        t0 = time.perf_counter()
        with self._progress(video.info.num_frames, "reading tracks") as bar:
            memory = build_memory(video, reader, bar)
        scene = Scene(video, reader, memory, (), {"memory": time.perf_counter() - t0})
        with self._lock:
            self._scenes[key] = scene
        return scene

    def perceive(
        self,
        video: VideoReader,
        targets: list[str],
        detections: DetectionsFile | None = None,
        on_progress: Callable[[float, str], None] | None = None,
    ) -> Scene:
        """Detect, segment and track ``targets`` through the video (or track the user's detections).

        Cached per (video, targets, detections file): asking again with targets already tracked
        reuses the scene without running any model.
        """
        from vidagent.tracking import Tracker, TrackerConfig

        targets = [t for t in targets if t]
        vkey = _video_key(video)
        det_key = detections.path if detections is not None else None
        with self._lock:
            for key, scene in self._scenes.items():
                if key[0] == "perceived" and key[1] == vkey and key[3] == det_key and set(targets) <= set(key[2]):
                    return scene
        info = video.info
        key = ("perceived", vkey, tuple(targets), det_key)
        out = self._workdir() / f"scene-{len(self._scenes):03d}-{vkey}"
        timings: dict[str, float] = {}
        if detections is None:
            if not targets:
                raise InputError("nothing to look for: the question names no object")
            t0 = time.perf_counter()
            detector, segmenter = self._detector(), self._segmenter()
            timings["load"] = time.perf_counter() - t0
        else:
            detector = None
            segmenter = self._segmenter_if_needed(detections)
        config = TrackerConfig.from_dict(self._profile.tracker)
        propagator = self._propagator() if detections is None and self._profile.propagator == "sam2_video" else None
        tracker = Tracker(config, detector=detector, segmenter=segmenter, propagator=propagator)
        writer = TracksWriter(out, info.fps, info.width, info.height, info.num_frames, rle=False)
        t0 = time.perf_counter()
        try:
            with self._progress(info.num_frames, "tracking") as bar:

                def on_frame(index, label_map):
                    writer.write(index, label_map)

                def progress(done, total):
                    bar.n = done
                    bar.refresh()
                    if on_progress is not None:
                        on_progress(done / max(1, total), "tracking")

                objects = tracker.run(
                    video.frames(), info.num_frames, list(targets), on_frame,
                    detections=detections, progress=progress,
                )
            writer.close(objects)
        except BaseException:
            writer.abort()
            raise
        timings.update(getattr(tracker, "timings", {}) or {})
        timings["track_total"] = time.perf_counter() - t0
        reader = open_tracks(out, video)
        # the scene memory is built when a question needs it (``track`` never does)
        scene = Scene(video, reader, None, tuple(targets), timings)
        with self._lock:
            self._scenes[key] = scene
        return scene

    def _ensure_memory(self, scene: Scene) -> None:
        """Build the scene memory of a perceived scene once (one streaming pass)."""
        with self._lock:
            if scene.memory is not None:
                return
            t0 = time.perf_counter()
            with self._progress(scene.video.info.num_frames, "scene memory") as bar:
                scene.memory = build_memory(scene.video, scene.tracks, bar)
            scene.timings["memory"] = time.perf_counter() - t0

    def _segmenter_if_needed(self, detections: DetectionsFile):
        for k in detections:
            if not all(detections.has_mask(k)):
                return self._segmenter()
        return None

    def scene_for(
        self,
        video: VideoReader,
        targets: list[str],
        tracks: str | os.PathLike | None = None,
        detections: str | os.PathLike | DetectionsFile | None = None,
        on_progress=None,
    ) -> Scene:
        if tracks is not None:
            return self.load_tracks_scene(video, tracks)
        dets = self.load_detections(video, detections) if detections is not None else None
        return self.perceive(video, targets, dets, on_progress)

    def load_detections(self, video: VideoReader, detections) -> DetectionsFile:
        if isinstance(detections, DetectionsFile):
            return detections
        i = video.info
        return load_detections(detections, i.num_frames, i.width, i.height)

    # ------------------------------------------------------------------ tasks
    def ask(
        self,
        video: str | os.PathLike | VideoReader,
        question: str,
        tracks: str | os.PathLike | None = None,
        detections: str | os.PathLike | None = None,
        on_progress=None,
    ) -> dict:
        """Answer a question; returns the ``ask --json`` object of CONTRACT.md."""
        from vidagent.reasoning.executor import answer

        text = check_question(question)
        video = self.open(video)
        scene = None
        if tracks is not None:  # check the user's files before any model loads
            scene = self.load_tracks_scene(video, tracks)
        dets = self.load_detections(video, detections) if detections is not None else None
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        plan = self.parser.parse(text, expression=False)
        timings["parse"] = time.perf_counter() - t0
        if scene is None:
            targets = list(plan.targets) or list(getattr(self._profile, "describe_targets", DESCRIBE_TARGETS))
            scene = self.perceive(video, targets, dets, on_progress)
            self._ensure_memory(scene)
            timings.update(_stage_times(scene))
        t0 = time.perf_counter()
        result = answer(plan, scene.memory, question=text, llm=self._llm_for_describe(plan))
        timings["reason"] = time.perf_counter() - t0
        return {
            "question": text,
            "answer": result.answer,
            "value": result.value,
            "plan": plan.to_json(),
            "evidence": result.evidence,
            "timings": {k: round(v, 3) for k, v in timings.items()},
        }

    def _llm_for_describe(self, plan):
        return self.llm if plan.task == "describe" else None

    def segment(
        self,
        video: str | os.PathLike | VideoReader,
        expression: str,
        out: str | os.PathLike,
        tracks: str | os.PathLike | None = None,
        detections: str | os.PathLike | None = None,
        overlay: bool = True,
        on_progress=None,
    ) -> dict:
        """Referring segmentation: masks of the object(s) ``expression`` refers to, on every frame.

        Writes ``out`` in the tracks format (only the referred objects) plus ``overlay.mp4``.
        """
        from vidagent.reasoning.referring import refer

        text = check_question(expression, "expression")
        video = self.open(video)
        scene = self.load_tracks_scene(video, tracks) if tracks is not None else None
        dets = self.load_detections(video, detections) if detections is not None else None
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        plan = self.parser.parse(text, expression=True)
        timings["parse"] = time.perf_counter() - t0
        if scene is None:
            scene = self.perceive(video, list(plan.targets), dets, on_progress)
            self._ensure_memory(scene)
            timings.update(_stage_times(scene))
        t0 = time.perf_counter()
        ids = [int(i) for i in refer(plan, scene.memory, text)]
        timings["reason"] = time.perf_counter() - t0
        labels = scene.labels
        t0 = time.perf_counter()
        self.write_tracks(scene, out, ids, overlay=overlay)
        timings["write"] = time.perf_counter() - t0
        return {
            "expression": text,
            "ids": ids,
            "labels": {str(i): labels[i] for i in ids},
            "plan": plan.to_json(),
            "out": str(out),
            "timings": {k: round(v, 3) for k, v in timings.items()},
        }

    def track(
        self,
        video: str | os.PathLike | VideoReader,
        prompt: str,
        out: str | os.PathLike,
        detections: str | os.PathLike | None = None,
        overlay: bool = True,
        on_progress=None,
    ) -> dict:
        """Every object matching the prompt ("dog . ball"), tracked with stable ids, written to ``out``."""
        phrases = split_prompt(prompt) if detections is None or prompt.strip() else []
        video = self.open(video)
        dets = self.load_detections(video, detections) if detections is not None else None
        if dets is not None and not phrases:
            phrases = dets.labels
        scene = self.perceive(video, phrases, dets, on_progress)
        ids = sorted(scene.labels)
        t0 = time.perf_counter()
        self.write_tracks(scene, out, None, overlay=overlay)
        timings = _stage_times(scene)
        timings["write"] = time.perf_counter() - t0
        return {
            "expression": prompt,
            "ids": ids,
            "labels": {str(i): scene.labels[i] for i in ids},
            "plan": {"task": "segment", "targets": phrases},
            "out": str(out),
            "timings": {k: round(v, 3) for k, v in timings.items()},
        }

    def write_tracks(self, scene: Scene, out: str | os.PathLike, ids: list[int] | None, overlay: bool = True) -> Path:
        """Write ``scene`` (or only objects ``ids``) to ``out`` in the tracks format + overlay.mp4."""
        from vidagent.types import ObjectInfo

        info = scene.video.info
        labels = scene.labels
        keep = sorted(labels) if ids is None else sorted(set(ids))
        objects = [ObjectInfo(i, labels[i]) for i in keep]
        writer = TracksWriter(out, info.fps, info.width, info.height, info.num_frames, rle=True)
        try:
            ov = (
                OverlayWriter(writer.add_file("overlay.mp4"), info.fps, info.width, info.height, {o.id: o.label for o in objects})
                if overlay
                else None
            )
            with self._progress(info.num_frames, "writing") as bar:
                frames = scene.video.frames() if ov is not None else None
                for i, lm in scene.label_maps(keep):
                    writer.write(i, lm)
                    if ov is not None:
                        _, frame = next(frames)
                        ov.write(frame, lm)
                    bar.update(1)
            if ov is not None:
                ov.close()
            return writer.close(objects)
        except BaseException:
            writer.abort()
            raise

    def close(self) -> None:
        """Forget cached scenes and remove the temporary folder."""
        with self._lock:
            self._scenes.clear()
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    def __enter__(self) -> "Agent":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _stage_times(scene: Scene) -> dict[str, float]:
    """Perception seconds of a scene, reported once: a re-used scene costs nothing again."""
    if scene.reported:
        return {}
    scene.reported = True
    t = dict(scene.timings)
    out = {}
    for k in ("load", "detect", "segment", "track", "memory"):
        if k in t:
            out[k] = t[k]
    if "track" not in out and "track_total" in t:
        out["track"] = t["track_total"] - t.get("detect", 0.0) - t.get("segment", 0.0)
    return out


def _default_device() -> str:
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:  # pragma: no cover
        return "cpu"
