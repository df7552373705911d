"""The cpu profile's mask levers: no segmenter refresh on the last frame (``refresh_last``), and
flow-carried masks reused on key frames where every detection matches a track by box and no
track is stale (``reuse_box_iou``): such a key frame computes no image embedding."""

from __future__ import annotations

import numpy as np
import pytest

from vidagent.testing.quality import run_simulated, still_ball
from vidagent.testing.scenes import Scene, render
from vidagent.tracking.config import TrackerConfig
from vidagent.tracking.labels import box_iou_matrix

REUSE = {"detect_every": 10, "stride": 10, "reuse_box_iou": 0.85, "reuse_max_age": 20}


def _ball(*args, **kwargs):
    kwargs.setdefault("size", 20.0)
    return still_ball(*args, **kwargs)


def _run(scene, table):
    return run_simulated(scene, table)


def test_the_last_frame_refresh_is_a_setting():
    scene = render([_ball()], 160, 120, 40, fps=30)
    _, frames, with_last, tracker = _run(scene, {"detect_every": 10, "stride": 10})
    assert tracker.schedule.refreshes[-1] == 39 and with_last == 5
    q, frames, without, tracker = _run(scene, {"detect_every": 10, "stride": 10,
                                                "refresh_last": False})  # fmt: skip
    assert frames == [0, 10, 20, 30]
    assert tracker.schedule.refreshes == [0, 10, 20, 30]
    assert without == 4  # one embedding per detection frame, none extra
    assert q.j > 0.8


def test_a_still_scene_reuses_masks_until_they_are_too_old():
    # no sensor noise: flow carries the still mask unchanged (with noise it erodes it, and the
    # drift limit asks for a fresh mask sooner)
    scene = render([_ball()], 160, 120, 40, fps=30, noise=0.0)
    q, frames, embeddings, tracker = _run(scene, REUSE)
    assert len(frames) == 4  # the detector still runs on every detection frame
    # fresh masks at 0; 10 and 20 match the track's box (age <= 20): no embedding; 30 is too
    # old; the last frame's refresh is not needed (age 9)
    assert tracker.segmenter_frames == [0, 30]
    assert tracker.reused_frames == [10, 20, 39]
    assert embeddings == 2
    assert q.j > 0.8
    # the same without reuse: an embedding on every key frame
    _, _, plain, plain_tracker = _run(scene, {k: v for k, v in REUSE.items()
                                              if not k.startswith("reuse")})  # fmt: skip
    assert plain == 5 and plain_tracker.reused_frames == []


def test_a_new_object_brings_the_segmenter_back():
    scene = render([_ball(), _ball(2, x=120.0, y=40.0, appear=14, size=16.0)], 160, 120, 40,
                   fps=30)  # fmt: skip
    q, _, _, tracker = _run(scene, REUSE)
    # frame 20 has a detection no track matches (the newcomer): the segmenter runs there
    assert 20 in tracker.segmenter_frames and 20 not in tracker.reused_frames
    assert 10 in tracker.reused_frames
    assert {o["gt_id"] for o in q.objects if o["pred_id"]} == {1, 2}


def test_a_growing_object_is_stale_and_gets_fresh_masks():
    frames, maps = [], []
    objects = None
    for t in range(40):
        s = render([_ball(x=80.0, y=60.0, size=10.0 + 0.5 * t)], 160, 120, 1, fps=30)
        frames.append(s.frames[0])
        maps.append(s.label_maps[0])
        objects = s.objects
    scene = Scene(30.0, 160, 120, 40, objects, np.stack(maps), np.stack(frames))
    q, _, embeddings, tracker = _run(scene, REUSE)
    # on every detection frame its box no longer matches what flow carried: no reuse there
    assert tracker.segmenter_frames[:4] == [0, 10, 20, 30]
    assert not {0, 10, 20, 30} & set(tracker.reused_frames)
    assert embeddings >= 4
    assert q.j > 0.7


def test_reuse_needs_the_flow_engine_and_sane_settings():
    with pytest.raises(ValueError, match="reuse_box_iou"):
        TrackerConfig.from_dict({"reuse_box_iou": 1.5})
    with pytest.raises(ValueError, match="reuse_max_age"):
        TrackerConfig.from_dict({"reuse_box_iou": 0.8, "reuse_max_age": -1})


def test_box_iou_matrix():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    iou = box_iou_matrix(a, b)
    assert iou.shape == (2, 3)
    np.testing.assert_allclose(iou[0], [1.0, 50 / 150, 0.0])
    np.testing.assert_allclose(iou[1], [0.0, 0.0, 0.0])  # an empty box overlaps nothing
