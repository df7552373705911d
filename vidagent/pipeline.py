"""The public Python API: ``Agent`` runs query -> detection -> segmentation -> tracking -> memory
-> reasoning -> outputs.

```python
from vidagent import Agent
agent = Agent(profile="cpu", offline=True)
result = agent.ask("street.mp4", "how many cars are there?")
print(result.answer, result.value)           # result.to_json(): CONTRACT's ask --json
agent.segment("street.mp4", "the red car on the left", out="out/red_car")

scene = agent.perceive("street.mp4", ["car", "person"])   # the explicit handle
scene.ask("is there a person?").value
```

Models load lazily on first use and stay cached on the agent. Perceived scenes (``Scene``) are
cached by ``SceneKey`` (video identity, targets, source): a question whose targets a scene
already covers is answered from it without running a model or decoding the video again.
"""

from __future__ import annotations

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
from vidagent.perception import OutputSink, Perceived, read_tracks, track_video
from vidagent.query.parser import check_question
from vidagent.results import Answer, SegmentResult, TrackResult
from vidagent.scene import Scene, SceneKey, SceneSource, video_identity
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
    _scenes: dict[SceneKey, Scene] = field(default_factory=dict, repr=False)
    _perceived: int = field(default=0, repr=False)
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

                self._models["llm"] = load_language_model(
                    self._profile.llm, offline=self.offline, device=self.device, profile=self._profile.name
                )
            return self._models["llm"]

    @property
    def parser(self):
        with self._lock:
            if "parser" not in self._models:
                from vidagent.query.parser import QueryParser

                # the language model loads only when a question needs it; the profile says
                # below which rule confidence it picks the task
                self._models["parser"] = QueryParser(
                    llm_loader=lambda: self.llm, rules_sure=self._profile.llm_task_below
                )
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

    def load_detections(self, video: VideoReader, detections) -> DetectionsFile:
        if isinstance(detections, DetectionsFile):
            return detections
        i = video.info
        return load_detections(detections, i.num_frames, i.width, i.height)

    def cached_scene(self, key: SceneKey) -> Scene | None:
        """A scene already perceived that covers ``key`` (same video and source, every target
        looked for), or None."""
        with self._lock:
            for have, scene in self._scenes.items():
                if have.covers(key):
                    return scene
        return None

    def perceive(
        self,
        video: str | os.PathLike | VideoReader,
        targets: list[str] | tuple[str, ...] = (),
        tracks: str | os.PathLike | None = None,
        detections: str | os.PathLike | DetectionsFile | None = None,
        on_progress: Callable[[float, str], None] | None = None,
    ) -> Scene:
        """Perceive ``targets`` in the video: detect, segment and track them (or track the
        user's ``detections``, or read the user's ``tracks`` folder), building the scene memory
        in the same pass. The video is decoded once.

        Cached: a scene of the same video and source that already covers ``targets`` is
        returned without running any model or decoding anything.

        Args:
            targets: the phrases to look for ("dog", "red ball"); ignored with ``tracks``.
            on_progress: called as on_progress(fraction done, stage name).
        """
        return self._perceive(self.open(video), targets, tracks, detections, on_progress)

    def _key(self, video: VideoReader, targets, tracks, detections) -> SceneKey:
        if tracks is not None:
            return SceneKey(video_identity(video), (), SceneSource("tracks", str(Path(tracks).resolve())))
        if detections is not None:
            path = detections.path if isinstance(detections, DetectionsFile) else str(detections)
            source = SceneSource("detections", str(Path(path).resolve()))
        else:
            source = SceneSource("detector")
        return SceneKey(video_identity(video), tuple(t for t in targets if t), source)

    def _perceive(self, video: VideoReader, targets, tracks=None, detections=None, on_progress=None,
                  outputs: list[OutputSink] | None = None) -> Scene:
        key = self._key(video, targets, tracks, detections)
        scene = self.cached_scene(key)
        if scene is not None:
            return scene
        if tracks is not None:
            with self._progress(video.info.num_frames, "reading tracks") as bar:
                perceived = read_tracks(video, tracks, self._frame_progress(bar, video, on_progress, "reading tracks"))
        else:
            dets = self.load_detections(video, detections) if detections is not None else None
            perceived = self._track(video, list(key.targets), dets, on_progress, outputs)
        scene = Scene(key, video, perceived.objects, perceived.memory, perceived.masks,
                      perceived.timings, agent=self)
        with self._lock:
            self._scenes[key] = scene
        return scene

    def _frame_progress(self, bar, video: VideoReader, on_progress, stage: str):
        total = max(1, video.info.num_frames)

        def progress(done: int) -> None:
            bar.n = done
            bar.refresh()
            if on_progress is not None:
                on_progress(done / total, stage)

        return progress

    def _track(self, video: VideoReader, targets: list[str], detections: DetectionsFile | None,
               on_progress, outputs: list[OutputSink] | None) -> Perceived:
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
        tracker = self._tracker(detector, segmenter, detections is None)
        with self._lock:
            self._perceived += 1
            n = self._perceived
        masks_dir = self._workdir() / f"scene-{n:03d}-{video_identity(video)}"
        with self._progress(video.info.num_frames, "tracking") as bar:
            perceived = track_video(video, tracker, targets, masks_dir, detections, outputs,
                                    self._frame_progress(bar, video, on_progress, "tracking"))
        perceived.timings.update(timings)
        return perceived

    def _tracker(self, detector, segmenter, with_detector: bool):
        from vidagent.tracking import Tracker, TrackerConfig
        from vidagent.tracking.engines import EngineContext, engine_for

        config = TrackerConfig.from_dict(self._profile.tracker)
        engine = engine_for(self._profile, with_detector)
        if engine.own_model:
            with self._lock:  # a model of its own: built once per agent
                key = f"engine:{engine.name}"
                if key not in self._models:
                    ctx = EngineContext(self._profile, segmenter, config, self.offline, self.device)
                    self._models[key] = engine.build(ctx)
                propagator = self._models[key]
        else:
            propagator = engine.build(EngineContext(self._profile, segmenter, config, self.offline, self.device))
        return Tracker(config, detector=detector, segmenter=segmenter, propagator=propagator)

    def _segmenter_if_needed(self, detections: DetectionsFile):
        for k in detections:
            if not all(detections.has_mask(k)):
                return self._segmenter()
        return None

    def describe_targets(self) -> list[str]:
        """What an open ("describe") question looks for: the profile's list, else a default."""
        return list(getattr(self._profile, "describe_targets", None) or DESCRIBE_TARGETS)

    # ------------------------------------------------------------------ tasks
    def ask(
        self,
        video: str | os.PathLike | VideoReader,
        question: str,
        tracks: str | os.PathLike | None = None,
        detections: str | os.PathLike | DetectionsFile | None = None,
        on_progress=None,
    ) -> Answer:
        """Answer a question (``Answer.to_json()`` is CONTRACT's ``ask --json``); the scene it
        was answered from is ``Answer.scene``."""
        text = check_question(question)
        video = self.open(video)
        if tracks is not None:  # the user's files are checked before any model loads
            self.perceive(video, (), tracks=tracks, on_progress=on_progress)
        elif detections is not None:
            detections = self.load_detections(video, detections)
        t0 = time.perf_counter()
        plan = self.parser.parse(text, expression=False)
        timings = {"parse": time.perf_counter() - t0}
        targets = list(plan.targets) or self.describe_targets()
        scene = self.perceive(video, targets, tracks, detections, on_progress)
        timings.update(scene.stage_times())
        result = scene.ask(text, plan)
        result.timings = {**timings, **result.timings}
        return result

    def segment(
        self,
        video: str | os.PathLike | VideoReader,
        expression: str,
        out: str | os.PathLike,
        tracks: str | os.PathLike | None = None,
        detections: str | os.PathLike | DetectionsFile | None = None,
        overlay: bool = True,
        on_progress=None,
    ) -> SegmentResult:
        """Referring segmentation: masks of the object(s) ``expression`` refers to, on every frame.

        Writes ``out`` in the tracks format (only the referred objects) plus ``overlay.mp4``.
        """
        text = check_question(expression, "expression")
        video = self.open(video)
        if tracks is not None:
            self.perceive(video, (), tracks=tracks, on_progress=on_progress)
        elif detections is not None:
            detections = self.load_detections(video, detections)
        t0 = time.perf_counter()
        plan = self.parser.parse(text, expression=True)
        timings = {"parse": time.perf_counter() - t0}
        scene = self.perceive(video, list(plan.targets), tracks, detections, on_progress)
        timings.update(scene.stage_times())
        t0 = time.perf_counter()
        ids = sorted(int(i) for i in scene.refer(plan).ids)
        timings["reason"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with self._progress(video.info.num_frames, "writing") as bar:
            path = scene.write(out, ids, overlay=overlay, progress=self._frame_progress(bar, video, None, "writing"))
        timings["write"] = time.perf_counter() - t0
        labels = scene.labels
        return SegmentResult(text, ids, {i: labels[i] for i in ids}, plan.to_json(), Path(out), timings,
                             scene=scene)

    def track(
        self,
        video: str | os.PathLike | VideoReader,
        prompt: str,
        out: str | os.PathLike,
        detections: str | os.PathLike | DetectionsFile | None = None,
        overlay: bool = True,
        on_progress=None,
    ) -> TrackResult:
        """Every object matching the prompt ("dog . ball"), tracked with stable ids, written to
        ``out`` (with ``overlay.mp4``) in the same pass that tracks them."""
        phrases = split_prompt(prompt) if detections is None or prompt.strip() else []
        video = self.open(video)
        dets = self.load_detections(video, detections) if detections is not None else None
        if dets is not None and not phrases:
            phrases = dets.labels
        key = self._key(video, phrases, None, dets)
        scene = self.cached_scene(key)
        if scene is None:
            sink = OutputSink(out, video.info, overlay=overlay)
            try:
                scene = self._perceive(video, phrases, None, dets, on_progress, outputs=[sink])
            except BaseException:
                sink.abort()
                raise
            timings = scene.stage_times()
            timings["write"] = scene.timings.get("write", 0.0)
        else:
            timings = scene.stage_times()
            t0 = time.perf_counter()
            with self._progress(video.info.num_frames, "writing") as bar:
                scene.write(out, None, overlay=overlay,
                            progress=self._frame_progress(bar, video, None, "writing"))
            timings["write"] = time.perf_counter() - t0
        ids = sorted(scene.labels)
        return TrackResult(prompt, ids, scene.labels, {"task": "segment", "targets": list(phrases)},
                           Path(out), timings, scene=scene)

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


def _default_device() -> str:
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:  # pragma: no cover
        return "cpu"
