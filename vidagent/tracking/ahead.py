"""Keyframe models computed ahead: the detector and the segmenter's image embedding of a keyframe
depend on the frame alone, not on what tracking found before it, so where the schedule knows its
keyframes in advance (the fixed one, the user's detection frames) a worker thread computes them
as soon as the frame reader reaches the keyframe, while the tracker still works on the frames
before it. The tracker takes the results on the keyframe (``KeyframeAhead.take``): the same
calls on the same frames in the same order, so the same results as computing them in line.

On the project's 2-core machine the tracker's own thread and the flow worker leave part of a
core idle between keyframes; the models fill it (their runtimes release the GIL).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np


class KeyframeAhead:
    """Runs ``compute(index, frame)`` in a worker thread for each frame ``offer`` gets that
    ``wanted(index)`` says is a keyframe, in order; ``take(index)`` returns its result in the
    caller's thread, waiting for it.

    ``offer`` is called by the frame reader (``prefetch_flows``'s ``tap``), so at most as many
    keyframes are pending as fit in its read-ahead. An error of ``compute`` is raised by the
    ``take`` of its keyframe (or of any later one) in the caller's thread, as if it had been
    computed there; ``close`` stops the worker (one model call in progress is let finish in the
    background, not waited for). ``waited`` counts the seconds ``take`` waited, ``worked`` the
    seconds ``compute`` ran.
    """

    def __init__(self, compute: Callable[[int, np.ndarray], Any],
                 wanted: Callable[[int], bool]) -> None:  # fmt: skip
        self._compute = compute
        self._wanted = wanted
        self._jobs: deque[tuple[int, np.ndarray]] = deque()
        self._done: dict[int, Any] = {}
        self._offered: set[int] = set()
        self._error: BaseException | None = None
        self._stop = False
        self._cond = threading.Condition()
        self.waited = 0.0
        self.worked = 0.0
        self._thread = threading.Thread(target=self._work, name="vidagent-keyframes", daemon=True)
        self._thread.start()

    def offer(self, index: int, frame: np.ndarray) -> None:
        """Frame ``index`` has been read: queue it when it is a keyframe (any thread)."""
        if not self._wanted(index):
            return
        with self._cond:
            if self._stop:
                return
            self._offered.add(index)
            self._jobs.append((index, frame))
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                index, frame = self._jobs.popleft()
            t0 = time.perf_counter()
            try:
                result = self._compute(index, frame)
            except BaseException as exc:  # raised by ``take`` in the caller's thread
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                self.worked += time.perf_counter() - t0
                self._done[index] = result
                self._cond.notify_all()

    def take(self, index: int) -> tuple[bool, Any]:
        """``(True, result)`` of keyframe ``index`` once computed; ``(False, None)`` when it was
        not offered (compute it in line). Results of earlier keyframes not taken are dropped."""
        with self._cond:
            if index not in self._offered:
                return False, None
            t0 = time.perf_counter()
            while index not in self._done and self._error is None:
                # timed: a signal (Ctrl-C) that another thread received is handled here soon
                self._cond.wait(0.1)
            self.waited += time.perf_counter() - t0
            if index not in self._done:
                raise self._error
            self._offered.discard(index)
            for k in [k for k in self._done if k < index]:
                del self._done[k]
                self._offered.discard(k)
            return True, self._done.pop(index)

    def close(self) -> None:
        """Stop the worker; pending keyframes are dropped."""
        with self._cond:
            self._stop = True
            self._jobs.clear()
            self._done.clear()
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=0.05)
