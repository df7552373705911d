"""Keyframe models (detector, SAM image embedding) computed ahead in a worker thread while the
tracker works on the frames before: the same label maps as in line, errors raised in the
caller, a bounded read-ahead, and the adaptive schedule left in line."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from vidagent.testing.doubles import SyntheticDetector, SyntheticSegmenter
from vidagent.testing.scenes import default_scene
from vidagent.tracking.ahead import KeyframeAhead
from vidagent.tracking.config import TrackerConfig
from vidagent.tracking.tracker import Tracker
from vidagent.types import Detections


class _Threads(SyntheticDetector):
    """Records the thread each detection ran in (and fails on ``fail_at``)."""

    def __init__(self, *a, fail_at: int | None = None, **k) -> None:
        super().__init__(*a, **k)
        self.threads: list[str] = []
        self.fail_at = fail_at

    def detect(self, image, *a, **k):
        self.threads.append(threading.current_thread().name)
        if self.frame_of(image) == self.fail_at:
            raise ValueError("detector broke on frame 20")
        return super().detect(image, *a, **k)


def _track(scene, lookahead, schedule=None, detections=None, fail_at=None):
    det = _Threads(scene, jitter=2.0, seed=0, fail_at=fail_at)
    seg = SyntheticSegmenter(scene, radius=2, seed=0)
    cfg = TrackerConfig.from_dict({"detect_every": 10, "stride": 10, "prefetch": 4,
                                   "lookahead": lookahead, "schedule": schedule})  # fmt: skip
    tracker = Tracker(cfg, None if detections else det, seg)
    maps = [m for _, _, m in tracker.stream(enumerate(scene.frames), scene.num_frames,
                                            ["ball", "box"], detections)]  # fmt: skip
    return maps, tracker, det, seg


@pytest.fixture(scope="module")
def scene():
    return default_scene(num_frames=60, height=120, width=160, seed=0, fps=30.0)


def test_models_ahead_give_the_same_label_maps(scene):
    plain, t0, d0, s0 = _track(scene, 0)
    ahead, t1, d1, s1 = _track(scene, 20)
    assert len(ahead) == 60 and any(m.any() for m in plain)
    for a, b in zip(plain, ahead):
        np.testing.assert_array_equal(a, b)
    assert d0.frames_seen == d1.frames_seen == list(range(0, 60, 10))
    assert s0.embeddings == s1.embeddings
    assert set(d0.threads) == {"MainThread"}
    assert set(d1.threads) == {"vidagent-keyframes"}  # computed ahead, in the worker
    assert "ahead" not in t0.timings and t1.timings["ahead"] >= 0.0


def test_user_detections_embedded_ahead_give_the_same_label_maps(scene):
    boxes = SyntheticDetector(scene, jitter=1.0, seed=3)
    given = {i: boxes.detect(scene.frames[i], ["ball", "box"]) for i in range(0, 60, 10)}
    plain, *_ = _track(scene, 0, detections=given)
    ahead, *_ = _track(scene, 20, detections=given)
    for a, b in zip(plain, ahead):
        np.testing.assert_array_equal(a, b)


def test_the_adaptive_schedule_stays_in_line(scene):
    maps, tracker, det, _ = _track(scene, 20, schedule={"kind": "adaptive"})
    assert det.threads and set(det.threads) == {"MainThread"}
    assert "ahead" not in tracker.timings


def test_an_error_of_the_worker_reaches_the_caller(scene):
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="detector broke on frame 20"):
        _track(scene, 20, fail_at=20)
    assert time.monotonic() - t0 < 30
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "vidagent-keyframes"]


def test_read_ahead_is_bounded(scene):
    """The frames read ahead for the keyframes are at most ``lookahead`` (plus the one the
    reader holds) beyond the tracker's own window, whatever the video length."""
    pulled = []

    def frames():
        for i, f in enumerate(scene.frames):
            pulled.append(i)
            yield i, f

    cfg = TrackerConfig.from_dict({"detect_every": 10, "stride": 10, "prefetch": 4,
                                   "lookahead": 12})  # fmt: skip
    tracker = Tracker(cfg, SyntheticDetector(scene), SyntheticSegmenter(scene))
    lags = [pulled[-1] - i for i, _, _ in tracker.stream(frames(), 60, ["ball", "box"])]
    window = 10 * (cfg.confirm_hits + cfg.tentative_max_misses) + 1
    assert max(lags) > window + cfg.prefetch + 1  # it did read ahead for the keyframes
    assert max(lags) <= window + cfg.lookahead + 1


def test_worker_error_and_close():
    def compute(index, frame):
        if index == 2:
            raise RuntimeError("boom")
        return index * 10

    ahead = KeyframeAhead(compute, lambda i: i % 2 == 0)
    for i in range(5):
        ahead.offer(i, np.zeros((2, 2, 3), np.uint8))
    assert ahead.take(0) == (True, 0)
    assert ahead.take(1) == (False, None)  # not a keyframe: computed in line
    with pytest.raises(RuntimeError, match="boom"):
        ahead.take(2)
    with pytest.raises(RuntimeError, match="boom"):
        ahead.take(4)  # the worker stopped at the error
    ahead.close()


def test_ctrl_c_while_waiting_for_the_worker_stops_promptly():
    started = threading.Event()

    def compute(index, frame):
        started.set()
        time.sleep(20)  # a long model call

    ahead = KeyframeAhead(compute, lambda i: True)
    ahead.offer(0, np.zeros((2, 2, 3), np.uint8))
    started.wait(5)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        ahead.take(0)
    assert time.monotonic() - t0 < 3
    ahead.close()


def test_tiny_real_sam_embedded_ahead_gives_the_same_label_maps(scene):
    """A real (tiny, random) segment_anything SAM: its embedding computed in the worker
    (``SamSegmenter.embed`` on a predictor of its own) gives the masks ``set_image`` gives."""
    torch = pytest.importorskip("torch")
    from models_tiny import tiny_sam_arch

    from vidagent.models.segmenter_sam import SamSegmenter, build_sam

    torch.manual_seed(0)
    seg = SamSegmenter(build_sam(tiny_sam_arch(), 128))
    boxes = np.array([[10, 20, 60, 70], [40, 5, 150, 110]], np.float32)
    seg.set_image(scene.frames[3])
    ref = seg.predict(boxes=boxes)
    seg.set_image(scene.frames[0])
    seg.set_embedding(seg.embed(scene.frames[3]))
    got = seg.predict(boxes=boxes)
    np.testing.assert_array_equal(ref[0], got[0])
    np.testing.assert_array_equal(ref[1], got[1])

    dets = SyntheticDetector(scene, jitter=1.0, seed=3)
    given = {i: dets.detect(scene.frames[i], ["ball", "box"]) for i in range(0, 60, 10)}
    maps = []
    for lookahead in (0, 20):
        cfg = TrackerConfig.from_dict({"detect_every": 10, "stride": 10, "prefetch": 4,
                                       "lookahead": lookahead})  # fmt: skip
        tracker = Tracker(cfg, None, seg)
        maps.append([m for _, _, m in tracker.stream(enumerate(scene.frames), 60, ["ball", "box"],
                                                     given)])  # fmt: skip
    assert "ahead" in tracker.timings
    for a, b in zip(*maps):
        np.testing.assert_array_equal(a, b)
