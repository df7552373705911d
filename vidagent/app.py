"""The Gradio web app: upload a video, ask a question or name an object, see the answer with its
evidence, the overlay video, a visibility timeline and the plan; download the tracks and the JSON.

```python
from vidagent.app import launch
launch()                      # http://127.0.0.1:7860, no public link
```

Besides the video, a user may upload a zip of a tracks folder (perception is skipped) or a
detections JSON (the detector is skipped; the user's boxes/masks are tracked), as with the CLI's
``--tracks`` and ``--detections``.

The app calls only the public API (``vidagent.Agent`` and the tracks format). Each browser session
gets its own ``Agent`` (made by ``agent_factory``) and its own folder: a second question about the
same video in the same session re-uses the scene already perceived, and no session sees another's
scenes or files. Sessions are closed (agent closed, folder removed) when the page is closed, after
``SESSION_IDLE_S`` without use, or when the server stops.

Safe by default: binds 127.0.0.1, no share link unless asked, uploads limited to
``MAX_UPLOAD``, one queue with ``CONCURRENCY`` runs at a time, errors shown as one line (the
traceback of an unexpected one goes to the server log only), Gradio's cache swept hourly.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import numpy as np

from vidagent.errors import InputError, VidagentError

log = logging.getLogger("vidagent.app")

MAX_UPLOAD = "500mb"  # largest file a browser may upload (video or tracks zip)
MAX_ZIP_BYTES = 4 << 30  # a tracks zip may unpack to at most this many bytes
MAX_ZIP_FILES = 200_000  # ... and hold at most this many files
CONCURRENCY = 1  # runs at once over all sessions: the models fill the CPU/GPU and are shared
QUEUE_SIZE = 32  # runs waiting in the queue before new ones are refused
SESSION_IDLE_S = 1800  # a session unused this long is closed and its files removed
MAX_SESSIONS = 32  # live sessions (each holds an Agent); the least recently used idle one is closed
CACHE_SWEEP = (3600, 3600)  # Gradio cache: every hour delete served files older than an hour
MAX_ERROR_CHARS = 300  # error lines shown in the UI are cut to this length
KEEP_RUNS = 4  # a session keeps the output folders of its last runs (older ones are deleted)

MODE_ASK = "Ask a question"
MODE_FIND = "Find objects (referring expression)"
EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
EVIDENCE_COLUMNS = ["id", "label", "first_frame", "last_frame", "first_time", "last_time"]

AgentFactory = Callable[[str], object]  # profile name -> vidagent.Agent


# ----------------------------------------------------------------------------- sessions
@dataclass
class Session:
    """One browser session: its Agent (lazy), its folder, the scenes it has seen."""

    id: str
    dir: Path
    agent: object | None = None
    profile: str | None = None
    runs: int = 0
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    scenes: dict = field(default_factory=dict)  # id(scene) -> scene: those this session has used
    outputs: dict = field(default_factory=dict)  # id(scene) -> (tracks dir, zip, Visibility) of ask
    tracks_dirs: dict = field(default_factory=dict)  # sha1 of an uploaded zip -> unpacked folder
    detections: dict = field(default_factory=dict)  # sha1 of an uploaded detections file -> copy
    videos: dict = field(default_factory=dict)  # sha1 of an uploaded video -> its copy in ``dir``

    def agent_for(self, profile: str, factory: AgentFactory):
        """The session's Agent for ``profile`` (a new one when the profile changed)."""
        if self.agent is None or self.profile != profile:
            self.close_agent()
            self.agent = factory(profile)
            self.profile = profile
        return self.agent

    def close_agent(self) -> None:
        if self.agent is not None:
            try:
                self.agent.close()
            except Exception:  # pragma: no cover - closing must not fail the app
                log.exception("closing an agent failed")
        self.agent = None
        self.scenes.clear()
        self.outputs.clear()

    def prune_runs(self, keep: int = KEEP_RUNS) -> None:
        """Delete the output folders of all but the last ``keep`` runs (Gradio has served copies),
        except those whose pictures are re-used for later questions about the same scene."""
        in_use = {Path(out).parent for out, _, _ in self.outputs.values()}
        for run in sorted(self.dir.glob("run-*"))[:-keep]:
            if run not in in_use:
                shutil.rmtree(run, ignore_errors=True)

    def close(self) -> None:
        self.close_agent()
        shutil.rmtree(self.dir, ignore_errors=True)


class Sessions:
    """Sessions by Gradio session hash, each with a private folder under ``root``."""

    def __init__(
        self, root: Path, idle_s: float = SESSION_IDLE_S, max_sessions: int = MAX_SESSIONS
    ) -> None:
        self.root = root
        self.idle_s = idle_s
        self.max_sessions = max_sessions
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def start_sweeper(self, every_s: float = 60.0) -> threading.Thread:
        """Sweep idle sessions every ``every_s`` seconds in a daemon thread, until ``close_all()``."""

        def loop() -> None:
            while not self._stop.wait(every_s):
                try:
                    self.sweep()
                except Exception:  # pragma: no cover - the sweeper must survive a bad session
                    log.exception("sweeping sessions failed")

        thread = threading.Thread(target=loop, name="vidagent-app-sweeper", daemon=True)
        thread.start()
        return thread

    def get(self, session_id: str) -> Session:
        """The session ``session_id`` (created on first use); sweeps idle sessions first."""
        self.sweep()
        with self._lock:
            s = self._by_id.get(session_id)
            if s is None:
                if len(self._by_id) >= self.max_sessions:
                    self._evict_one()
                folder = Path(tempfile.mkdtemp(prefix="session-", dir=self.root))
                s = self._by_id[session_id] = Session(session_id, folder)
            s.last_used = time.monotonic()
            return s

    def _evict_one(self) -> None:
        idle = [s for s in self._by_id.values() if not s.lock.locked()]
        if not idle:
            raise InputError("the server is busy with other sessions; try again in a minute")
        oldest = min(idle, key=lambda s: s.last_used)
        self._by_id.pop(oldest.id).close()

    def sweep(self) -> None:
        """Close sessions unused for ``idle_s`` seconds (never one that is running)."""
        now = time.monotonic()
        with self._lock:
            stale = [
                k
                for k, s in self._by_id.items()
                if now - s.last_used > self.idle_s and not s.lock.locked()
            ]
            for k in stale:
                self._by_id.pop(k).close()

    def close(self, session_id: str) -> None:
        with self._lock:
            s = self._by_id.get(session_id)
            if s is None or s.lock.locked():
                return  # a running session is swept later, when idle
            self._by_id.pop(session_id)
        s.close()

    def close_all(self) -> None:
        """Close every session and stop the sweeper (the server is going away)."""
        self._stop.set()
        with self._lock:
            sessions, self._by_id = list(self._by_id.values()), {}
        for s in sessions:
            s.close()

    def __len__(self) -> int:
        return len(self._by_id)


# ----------------------------------------------------------------------------- helpers
def one_line(exc: BaseException) -> str:
    """A user-facing line for an exception: vidagent errors verbatim, others prefixed by type."""
    text = " ".join(str(exc).split())
    if not isinstance(exc, VidagentError):
        text = (
            f"unexpected error ({type(exc).__name__}): {text}"
            if text
            else f"unexpected error ({type(exc).__name__})"
        )
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def unpack_tracks_zip(zip_path: str | os.PathLike, dest: Path) -> Path:
    """Unpack a zip of a tracks folder into ``dest``; returns the folder holding objects.json.

    The zip may hold ``objects.json`` + ``masks/`` at its top or inside one folder. Only
    ``objects.json``, ``rle.json`` and ``masks/*.png`` are extracted; absolute paths, ``..``,
    links and archives unpacking to more than ``MAX_ZIP_BYTES`` are refused (InputError).
    """
    name = Path(zip_path).name
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError):
        raise InputError(
            f"{name}: not a zip file; upload a zip of a tracks folder (objects.json + masks/)"
        ) from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_ZIP_FILES or sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise InputError(
                f"{name}: the zip is too large to unpack; keep it under {MAX_ZIP_BYTES >> 30} GiB"
            )
        metas = [i.filename for i in infos if i.filename.rsplit("/", 1)[-1] == "objects.json"]
        prefixes = {m[: -len("objects.json")] for m in metas if m.count("/") <= 1}
        if len(prefixes) != 1:
            raise InputError(
                f"{name}: expected one objects.json at the top of the zip or in one folder"
            )
        prefix = prefixes.pop()
        dest.mkdir(parents=True, exist_ok=True)
        for info in infos:
            parts = info.filename.replace("\\", "/").split("/")
            if (
                info.filename.startswith("/")
                or ".." in parts
                or ":" in parts[0]
                or (info.external_attr >> 28) == 0xA
            ):
                raise InputError(f"{name}: unsafe path {info.filename!r} in the zip")
            rel = info.filename[len(prefix) :] if info.filename.startswith(prefix) else None
            if rel is None or not (
                rel in ("objects.json", "rle.json")
                or (rel.startswith("masks/") and rel.count("/") == 1 and rel.endswith(".png"))
            ):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    return dest


def zip_tracks(folder: Path, dest: Path, arcname: str) -> Path:
    """Zip a tracks folder (objects.json, rle.json, masks/) under top folder ``arcname``."""
    with zipfile.ZipFile(
        dest, "w", compression=zipfile.ZIP_STORED
    ) as zf:  # PNGs are compressed already
        for rel in ("objects.json", "rle.json"):
            if (folder / rel).is_file():
                zf.write(folder / rel, f"{arcname}/{rel}", compress_type=zipfile.ZIP_DEFLATED)
        for png in sorted((folder / "masks").glob("*.png")):
            zf.write(png, f"{arcname}/masks/{png.name}")
    return dest


@dataclass
class Visibility:
    """Which object is visible on which frame: ``visible`` (num_objects, T) bool, rows in ``ids`` order."""

    ids: list[int]
    labels: dict[int, str]
    visible: np.ndarray
    fps: float

    def evidence(self) -> list[dict]:
        """One row per object: id, label, first/last visible frame and time (None when never visible)."""
        rows = []
        for k, i in enumerate(self.ids):
            frames = np.flatnonzero(self.visible[k])
            first = int(frames[0]) if len(frames) else None
            last = int(frames[-1]) if len(frames) else None
            rows.append(
                {
                    "id": i,
                    "label": self.labels.get(i, ""),
                    "first_frame": first,
                    "last_frame": last,
                    "first_time": None if first is None else round(first / self.fps, 3),
                    "last_time": None if last is None else round(last / self.fps, 3),
                }
            )
        return rows


def read_visibility(tracks_dir: Path) -> Visibility:
    """Scan a tracks folder's masks once: per object and frame, is any pixel of it there."""
    from vidagent.io.tracks import open_tracks

    reader = open_tracks(tracks_dir)
    labels = reader.meta.labels()
    ids = sorted(labels)
    visible = np.zeros((len(ids), reader.num_frames), dtype=bool)
    row = np.full(256, -1, dtype=np.int64)
    row[ids] = np.arange(len(ids))
    for t, lm in reader.label_maps():
        present = np.flatnonzero(np.bincount(lm.ravel(), minlength=256))
        present = present[(present > 0) & (row[present] >= 0)]
        visible[row[present], t] = True
    return Visibility(ids, labels, visible, reader.meta.fps)


def draw_timeline(vis: Visibility, highlight: set[int] | None = None, width: int = 800):
    """A PIL image: one row per object ("#id label"), a bar over each visible stretch, time in s.

    Bars use the overlay's colour of each id; ``highlight`` ids (the evidence) get a marker.
    """
    from PIL import Image, ImageDraw, ImageFont

    from vidagent.overlay import id_colors

    colors = id_colors()
    row_h, top, left, right = 30, 40, 170, 20  # top: room for the component's label badge
    n = max(len(vis.ids), 1)
    height = top + n * row_h + 50
    img = Image.new("RGB", (width, height), (255, 255, 255))
    d = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=15)
    except TypeError:  # pragma: no cover - Pillow without FreeType
        font = ImageFont.load_default()
    T = vis.visible.shape[1] if vis.visible.ndim == 2 else 0
    plot_w = width - left - right
    x_of = lambda t: left + plot_w * t / max(T, 1)
    if not vis.ids:
        d.text((left, top + 4), "no objects were tracked", fill=(90, 90, 90), font=font)
    for k, i in enumerate(vis.ids):
        y = top + k * row_h
        mark = "* " if highlight and i in highlight else ""
        d.text((8, y + 6), f"{mark}#{i} {vis.labels.get(i, '')}"[:20], fill=(20, 20, 20), font=font)
        d.rectangle([left, y + 4, left + plot_w, y + row_h - 4], fill=(243, 243, 243))
        v = vis.visible[k].astype(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], v, [0]])))
        color = tuple(int(c) for c in colors[i])
        for a, b in zip(edges[::2], edges[1::2]):
            d.rectangle([x_of(a), y + 4, max(x_of(b), x_of(a) + 1), y + row_h - 4], fill=color)
    axis_y = top + n * row_h + 4
    d.line([left, axis_y, left + plot_w, axis_y], fill=(60, 60, 60))
    duration = T / vis.fps if vis.fps > 0 else 0.0
    step = _nice_step(duration / 8 if duration else 1.0)
    t = 0.0
    while t <= duration + 1e-9:
        x = x_of(t * vis.fps)
        d.line([x, axis_y, x, axis_y + 5], fill=(60, 60, 60))
        d.text((x - 8, axis_y + 8), f"{t:g}", fill=(60, 60, 60), font=font)
        t += step
    d.text((left + plot_w - 70, axis_y + 26), "time (s)", fill=(60, 60, 60), font=font)
    if highlight:
        d.text((8, axis_y + 26), "* = evidence", fill=(60, 60, 60), font=font)
    return img


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is at least ``raw`` (axis tick spacing)."""
    raw = max(raw, 1e-3)
    base = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if m * base >= raw:
            return float(m * base)
    return float(10 * base)  # pragma: no cover


_DIGESTS: dict[
    tuple, str
] = {}  # (path, size, mtime_ns, inode) -> sha1: a re-sent upload is not re-read
_DIGESTS_MAX = 4096


def _file_sha1(path: str | os.PathLike) -> str:
    """SHA-1 of a file's content (cached by path, size, mtime and inode)."""
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if key in _DIGESTS:
        return _DIGESTS[key]
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if len(_DIGESTS) >= _DIGESTS_MAX:
        _DIGESTS.clear()
    _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def _evidence_frame(rows: list[dict]):
    import pandas as pd

    columns = list(EVIDENCE_COLUMNS)
    for r in rows:
        columns += [k for k in r if k not in columns]
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)


_SOURCES = {
    "perceived": "perceived the video",
    "tracks": "read the uploaded tracks",
    "detections": "tracked the uploaded detections",
}


def _timings_text(timings: dict, reused: bool, source: str) -> str:
    parts = [f"{k} {v:.2f} s" for k, v in timings.items() if isinstance(v, (int, float))]
    note = (
        "re-used the scene already perceived in this session (no model re-run)"
        if reused
        else _SOURCES[source]
    )
    return f"{note} · " + " · ".join(parts) if parts else note


# ----------------------------------------------------------------------------- the run
class Runner:
    """What the Run button does, one session at a time; holds the sessions and settings."""

    def __init__(self, sessions: Sessions, factory: AgentFactory) -> None:
        self.sessions = sessions
        self.factory = factory

    def __call__(self, video, tracks_zip, mode, question, profile, request, progress) -> tuple:
        session_id = getattr(request, "session_hash", None) or "default"
        session = self.sessions.get(session_id)
        if not session.lock.acquire(blocking=False):
            raise InputError("this session is already running a question; wait for it to finish")
        try:
            session.last_used = time.monotonic()
            return self._run(session, video, tracks_zip, mode, question, profile, progress)
        finally:
            session.last_used = time.monotonic()
            session.lock.release()

    def _run(self, session: Session, video, tracks_zip, mode, question, profile, progress) -> tuple:
        from vidagent.profiles import get_profile

        if not video:
            raise InputError("no video: upload one (or pick an example below)")
        if not question or not str(question).strip():
            what = (
                'referring expression such as "the ball on the left"'
                if mode == MODE_FIND
                else 'question such as "how many balls are there?"'
            )
            raise InputError(f"empty text: type a {what}")
        video = self._video_path(session, str(video))
        profile = get_profile(profile or None).name
        progress(0.0, desc="loading")
        tracks_dir, detections = (
            self._side_input(session, tracks_zip) if tracks_zip else (None, None)
        )
        given = {"tracks": tracks_dir, "detections": detections}
        agent = session.agent_for(profile, self.factory)
        session.prune_runs()
        session.runs += 1
        run_dir = session.dir / f"run-{session.runs:03d}"
        run_dir.mkdir()

        def on_progress(fraction: float, stage: str) -> None:
            progress(0.05 + 0.85 * float(fraction), desc=stage)

        if mode == MODE_FIND:
            progress(0.02, desc="parsing the expression")
            result = agent.segment(
                video,
                question,
                run_dir / "tracks",
                overlay=True,
                on_progress=on_progress,
                **given,
            )
            targets = result["plan"].get("targets", [])
            out = run_dir / "tracks"
            scene = agent.scene_for(agent.open(video), list(targets), **given)
            reused = id(scene) in session.scenes
            session.scenes[id(scene)] = scene
            progress(0.95, desc="timeline")
            vis = read_visibility(out)
            evidence = vis.evidence()
            zip_path = zip_tracks(
                out,
                run_dir / f"{Path(video).stem}_referred_tracks.zip",
                f"{Path(video).stem}_referred_tracks",
            )
            overlay = out / "overlay.mp4"
            n = len(result["ids"])
            found = ", ".join(f"#{i} {result['labels'][str(i)]}" for i in result["ids"])
            answer = (
                f"Found {n} object{'s' if n != 1 else ''}: {found}."
                if n
                else "Found no object matching the expression."
            )
            highlight = set(result["ids"])
        else:
            progress(0.02, desc="parsing the question")
            result = agent.ask(video, question, on_progress=on_progress, **given)
            targets = list(result["plan"].get("targets") or [])
            if (
                not targets and tracks_dir is None
            ):  # ask() looked for the profile's describe targets
                from vidagent.pipeline import DESCRIBE_TARGETS

                targets = list(getattr(get_profile(profile), "describe_targets", DESCRIBE_TARGETS))
            scene = agent.scene_for(agent.open(video), targets, **given)
            reused = id(scene) in session.scenes
            session.scenes[id(scene)] = scene
            if id(scene) in session.outputs:  # same scene as an earlier question: same pictures
                out, zip_path, vis = session.outputs[id(scene)]
            else:
                progress(0.9, desc="writing the overlay video")
                out = Path(agent.write_tracks(scene, run_dir / "tracks", None, overlay=True))
                vis = read_visibility(out)
                zip_path = zip_tracks(
                    out, run_dir / f"{Path(video).stem}_tracks.zip", f"{Path(video).stem}_tracks"
                )
                session.outputs[id(scene)] = (out, zip_path, vis)
            overlay = Path(out) / "overlay.mp4"
            evidence = result.get("evidence") or []
            answer = str(result["answer"])
            highlight = {int(e["id"]) for e in evidence if isinstance(e, dict) and "id" in e}
        progress(0.98, desc="done")
        json_path = run_dir / "result.json"
        json_path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
        source = "tracks" if tracks_dir else "detections" if detections else "perceived"
        details = _timings_text(result.get("timings", {}), reused, source)
        return (
            answer,
            details,
            _evidence_frame(evidence),
            str(overlay) if overlay.is_file() else None,
            draw_timeline(vis, highlight),
            json.dumps(result.get("plan", {}), indent=2),
            [str(zip_path), str(json_path)],
        )

    def _video_path(self, session: Session, upload: str) -> str:
        """The session's own copy of an uploaded video, one per distinct content.

        A browser re-sends the same upload for each question, a script uploads it again; either
        way the Agent sees one stable path per video and session, so its scene cache is hit.
        """
        if not Path(upload).is_file():
            raise InputError(f"{Path(upload).name}: the uploaded video is gone; upload it again")
        digest = _file_sha1(upload)
        if digest not in session.videos:
            folder = Path(tempfile.mkdtemp(prefix="video-", dir=session.dir))
            dest = folder / Path(upload).name
            try:
                os.link(upload, dest)
            except OSError:
                shutil.copyfile(upload, dest)
            session.videos[digest] = str(dest)
        return session.videos[digest]

    def _side_input(self, session: Session, upload) -> tuple[Path | None, str | None]:
        """(tracks folder, detections file) from the optional upload, kept in the session folder
        once per distinct content: a .zip of a tracks folder is unpacked, a .json of detections
        is copied (stable paths keep the Agent's scene cache valid across questions)."""
        path = str(getattr(upload, "name", upload))
        suffix = Path(path).suffix.lower()
        if suffix not in (".zip", ".json"):
            raise InputError(
                f"{Path(path).name}: upload a .zip of a tracks folder (objects.json + masks/) "
                "or a .json detections file"
            )
        digest = _file_sha1(path)
        if suffix == ".json":
            if digest not in session.detections:
                folder = Path(tempfile.mkdtemp(prefix="detections-", dir=session.dir))
                session.detections[digest] = str(shutil.copyfile(path, folder / Path(path).name))
            return None, session.detections[digest]
        if digest not in session.tracks_dirs:
            dest = Path(tempfile.mkdtemp(prefix="tracks-", dir=session.dir))
            session.tracks_dirs[digest] = unpack_tracks_zip(path, dest)
        return session.tracks_dirs[digest], None


# ----------------------------------------------------------------------------- UI
def default_agent_factory(device: str | None = None, offline: bool = False) -> AgentFactory:
    """A factory of quiet Agents (no terminal progress bars) for the given device/offline mode."""

    def make(profile: str):
        from vidagent import Agent

        return Agent(profile=profile, device=device, offline=offline, progress=False)

    return make


def _example_rows(root: Path) -> list[list]:
    """The bundled example clip with its tracks (zipped into ``root``), or [] when absent."""
    video, tracks = EXAMPLES_DIR / "shapes.mp4", EXAMPLES_DIR / "shapes_tracks"
    if not (video.is_file() and (tracks / "objects.json").is_file()):
        return []
    zip_path = zip_tracks(tracks, root / "shapes_tracks.zip", "shapes_tracks")
    return [
        [str(video), str(zip_path), MODE_ASK, "how many balls are there?"],
        [str(video), str(zip_path), MODE_ASK, "when does the box leave?"],
        [str(video), str(zip_path), MODE_FIND, "the ball on the left"],
    ]


def build_app(
    agent_factory: AgentFactory | None = None,
    profile: str | None = None,
    device: str | None = None,
    offline: bool = False,
    root: str | os.PathLike | None = None,
):
    """The app as a ``gr.Blocks`` (not launched; see ``launch``).

    Args:
        agent_factory: profile name -> Agent, called once per session (and on a profile change);
            default: ``vidagent.Agent(profile, device, offline, progress=False)``.
        profile: profile selected at start (None: ``gpu`` with CUDA, else ``cpu``).
        device, offline: passed to the default factory.
        root: folder for session folders (default: a new temporary folder, removed at exit).
    """
    from vidagent.profiles import PROFILES, get_profile

    default_profile = get_profile(profile, device).name
    factory = agent_factory or default_agent_factory(device, offline)
    root_path = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="vidagent-app-"))
    root_path.mkdir(parents=True, exist_ok=True)
    sessions = Sessions(root_path)
    sessions.start_sweeper()
    runner = Runner(sessions, factory)
    if root is None:
        atexit.register(shutil.rmtree, root_path, True)
    atexit.register(sessions.close_all)

    def run(
        video,
        tracks_zip,
        mode,
        question,
        profile_name,
        request: gr.Request,
        progress=gr.Progress(),  # noqa: B008 - Gradio passes progress through this default
    ):
        try:
            return runner(video, tracks_zip, mode, question, profile_name, request, progress)
        except VidagentError as exc:
            raise gr.Error(one_line(exc), print_exception=False) from None
        except Exception as exc:
            # unexpected: the full traceback goes to the server log, one line to the user
            log.exception("run failed")
            raise gr.Error(one_line(exc), print_exception=False) from None

    def unload(request: gr.Request):
        sessions.close(getattr(request, "session_hash", None) or "default")

    with gr.Blocks(title="vidagent", analytics_enabled=False, delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown(
            "## vidagent — ask questions about a video\n"
            "Upload a video (or pick an example), type a question or a referring expression and press **Run**. "
            "Optionally upload a zip of a tracks folder (skips perception) or a detections JSON "
            "(skips the detector)."
        )
        with gr.Row():
            with gr.Column(scale=1):
                video = gr.Video(label="Video", sources=["upload"])
                tracks = gr.File(
                    label="Tracks zip or detections JSON (optional)", file_types=[".zip", ".json"]
                )
                mode = gr.Radio([MODE_ASK, MODE_FIND], value=MODE_ASK, label="Mode")
                question = gr.Textbox(
                    label="Question or referring expression",
                    placeholder="how many balls are there?",
                    max_lines=2,
                )
                profile_box = gr.Dropdown(sorted(PROFILES), value=default_profile, label="Profile")
                button = gr.Button("Run", variant="primary")
            with gr.Column(scale=1):
                answer = gr.Textbox(label="Answer", interactive=False)
                details = gr.Markdown()
                evidence = gr.Dataframe(
                    label="Evidence", headers=EVIDENCE_COLUMNS, interactive=False
                )
                overlay = gr.Video(label="Overlay (masks, ids, labels)", interactive=False)
                timeline = gr.Image(
                    label="Timeline (which object is visible when)", type="pil", interactive=False
                )
                plan = gr.Code(
                    label="Plan (what the language model made of the text)",
                    language="json",
                    interactive=False,
                )
                files = gr.File(
                    label="Downloads (tracks zip, result JSON)",
                    file_count="multiple",
                    interactive=False,
                )
        rows = _example_rows(root_path)
        if rows:
            gr.Examples(
                rows,
                inputs=[video, tracks, mode, question],
                label="Example: bundled clip with its tracks",
            )
        inputs = [video, tracks, mode, question, profile_box]
        outputs = [answer, details, evidence, overlay, timeline, plan, files]
        button.click(run, inputs, outputs, api_name="run")
        question.submit(run, inputs, outputs, api_name=False)
        demo.unload(unload)
    demo.vidagent_sessions = sessions  # for tests and operators: live session count, close_all()
    return demo


def _theme():
    # system fonts only: the page loads nothing from the internet (works offline)
    system = ["ui-sans-serif", "system-ui", "sans-serif"]
    return gr.themes.Default(font=system, font_mono=["ui-monospace", "monospace"])


def serve(
    demo,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    block: bool = True,
    concurrency: int = CONCURRENCY,
    max_file_size: str | int = MAX_UPLOAD,
):
    """Queue and launch ``demo``; ``block=False`` returns ``(app, local_url)`` with the server running."""
    if not 0 < int(port) < 65536:
        raise InputError(f"port {port} is out of range; use 1-65535")
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("the app listens on %s: anyone who can reach this address can use it", host)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo.queue(default_concurrency_limit=concurrency, max_size=QUEUE_SIZE)
    try:
        app, local_url, _ = demo.launch(
            server_name=host,
            server_port=int(port),
            share=bool(share),
            max_file_size=max_file_size,
            show_error=False,
            prevent_thread_lock=not block,
            quiet=not block,
            theme=_theme(),
            allowed_paths=[str(EXAMPLES_DIR)],
            ssr_mode=False,
        )
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc}); choose another --port") from None
    return app, local_url


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    profile: str | None = None,
    device: str | None = None,
    offline: bool = False,
    *,
    agent_factory: AgentFactory | None = None,
    block: bool = True,
):
    """Build and serve the app (``vidagent app`` / ``python app.py``); blocks until stopped unless
    ``block=False``, which returns ``(demo, local_url)``."""
    gradio_tmp = None
    if not os.environ.get("GRADIO_TEMP_DIR"):
        # Gradio's own upload/cache files go to a folder of ours, removed when the app stops
        gradio_tmp = tempfile.mkdtemp(prefix="vidagent-gradio-")
        os.environ["GRADIO_TEMP_DIR"] = gradio_tmp
        atexit.register(shutil.rmtree, gradio_tmp, True)
    demo = build_app(agent_factory, profile=profile, device=device, offline=offline)
    url = None
    try:
        _, url = serve(demo, host, port, share, block)
    except KeyboardInterrupt:  # Ctrl-C is how a served app stops: not an error
        pass
    finally:
        if block:
            demo.close()
            demo.vidagent_sessions.close_all()
            if gradio_tmp is not None:
                shutil.rmtree(gradio_tmp, ignore_errors=True)
                os.environ.pop("GRADIO_TEMP_DIR", None)
    return demo, url
