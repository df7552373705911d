"""Frames and their optical flow computed ahead in a worker thread: the same label maps as in
the caller's thread, errors raised in the caller, and a stopped stream stops the worker."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from vidagent.testing.doubles import SyntheticDetector, SyntheticSegmenter
from vidagent.testing.scenes import default_scene
from vidagent.tracking.config import TrackerConfig
from vidagent.tracking.flow import FlowWarper, prefetch_flows
from vidagent.tracking.tracker import Tracker


def _maps(scene, prefetch):
    det = SyntheticDetector(scene, jitter=2.0, seed=0)
    seg = SyntheticSegmenter(scene, radius=2, seed=0)
    cfg = TrackerConfig.from_dict({"detect_every": 10, "stride": 10, "prefetch": prefetch})
    tracker = Tracker(cfg, det, seg)
    out = [(i, m) for i, _, m in tracker.stream(enumerate(scene.frames), scene.num_frames,
                                                 ["ball", "box"])]  # fmt: skip
    return out


def test_prefetching_gives_the_same_label_maps():
    scene = default_scene(num_frames=40, height=120, width=160, seed=0, fps=30.0)
    plain, ahead = _maps(scene, 0), _maps(scene, 4)
    assert [i for i, _ in ahead] == list(range(40))
    assert any(m.any() for _, m in plain)
    for (_, a), (_, b) in zip(plain, ahead):
        np.testing.assert_array_equal(a, b)


def test_flows_match_and_the_pairs_compute_more_in_the_callers_thread():
    scene = default_scene(num_frames=6, height=120, width=160, seed=1, fps=30.0)
    frames = list(enumerate(scene.frames))
    ref = [p for _, _, p in prefetch_flows(frames, FlowWarper(160), 0)]
    got = [p for _, _, p in prefetch_flows(frames, FlowWarper(160), 2)]
    assert ref[0] is None and got[0] is None
    for a, b in zip(ref[1:], got[1:]):
        np.testing.assert_array_equal(a.forward, b.forward)
        np.testing.assert_array_equal(a.backward, b.backward)  # fine when a pair is used later


def test_an_error_of_the_frames_reaches_the_caller():
    def frames():
        yield 0, np.zeros((32, 32, 3), np.uint8)
        raise ValueError("broken video")

    with pytest.raises(ValueError, match="broken video"):
        list(prefetch_flows(frames(), FlowWarper(32), 2))


def test_closing_the_stream_stops_the_worker():
    produced = []

    def frames():
        for i in range(10_000):
            produced.append(i)
            yield i, np.zeros((32, 32, 3), np.uint8)

    it = prefetch_flows(frames(), FlowWarper(32), 3)
    next(it)
    it.close()
    alive = [t for t in threading.enumerate() if t.name == "vidagent-flow"]
    assert not alive
    assert len(produced) < 20  # at most the queue depth ahead, then it stopped
