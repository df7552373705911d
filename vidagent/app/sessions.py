"""Browser sessions of the web app: each has its own Agent (made lazily by a factory), its own
folder and the scenes it has used; idle sessions are closed and their folders removed."""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vidagent.errors import InputError

log = logging.getLogger("vidagent.app")

SESSION_IDLE_S = 1800  # a session unused this long is closed and its files removed
MAX_SESSIONS = 32  # live sessions (each holds an Agent); the least recently used idle one is closed
KEEP_RUNS = 4  # a session keeps the output folders of its last runs (older ones are deleted)

AgentFactory = Callable[[str], object]  # profile name -> vidagent.Agent


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
