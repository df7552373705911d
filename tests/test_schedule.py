"""Keyframe schedules: the fixed strides as before, and the adaptive schedule running the
detector when something changes (a newcomer, a drifting track, a new track to confirm) and
rarely on a still scene."""

from __future__ import annotations

import numpy as np
import pytest

from vidagent.testing.quality import run_simulated, still_ball
from vidagent.testing.scenes import Scene, render
from vidagent.tracking.config import TrackerConfig
from vidagent.tracking.schedule import AdaptiveSchedule, FixedSchedule, ScheduleConfig

ADAPTIVE = {"kind": "adaptive", "min_gap": 5, "max_gap": 30, "confirm_gap": 8}


_ball = still_ball


def _run(scene, table):
    q, frames, embeddings, tracker = run_simulated(scene, table)
    return q, frames, embeddings, tracker.schedule


def test_fixed_schedule_keeps_the_strides():
    scene = render([_ball()], 160, 120, 40, fps=30)
    q, frames, embeddings, schedule = _run(scene, {"detect_every": 10, "stride": 5})
    assert isinstance(schedule, FixedSchedule)
    assert frames == [0, 10, 20, 30]
    assert schedule.refreshes == [0, 5, 10, 15, 20, 25, 30, 35, 39]
    assert q.j > 0.8


def test_adaptive_runs_the_detector_rarely_on_a_still_scene():
    scene = render([_ball()], 160, 120, 70, fps=30)
    q, frames, embeddings, schedule = _run(scene, {"detect_every": 10, "schedule": ADAPTIVE})
    assert isinstance(schedule, AdaptiveSchedule)
    # first frame, the detection that confirms the new track, then only the maximum gap
    assert frames == [0, 8, 38, 68]
    assert embeddings <= 8  # + a few fresh masks where flow let a mask drift
    assert q.j > 0.8
    assert {k: v for k, v in schedule.reasons.items() if k != "refresh"} == {
        "first frame": 1, "confirm new track": 1, "max gap": 2
    }


def test_adaptive_detects_a_newcomer_where_no_track_is():
    objects = [_ball(), _ball(2, x=120.0, y=40.0, appear=21, label="cup")]
    scene = render(objects, 160, 120, 50, fps=30)
    q, frames, _, schedule = _run(scene, {"detect_every": 10, "schedule": ADAPTIVE})
    after = [f for f in frames if f >= 21]
    assert after and after[0] <= 23  # within a frame or two (a stride of 10 would wait for 30)
    assert schedule.reasons.get("untracked change", 0) >= 1
    assert len(frames) <= 5  # no more detector runs than the stride of 10
    assert {o["gt_id"] for o in q.objects if o["pred_id"]} == {1, 2}


def test_adaptive_keeps_detecting_while_an_object_changes():
    # a ball that grows (comes closer) beyond the mask flow carries
    frames, maps = [], []
    for t in range(40):
        s = render([_ball(x=80.0, y=60.0)], 160, 120, 1, fps=30)
        s.objects[0].size = 8.0 + 0.6 * t
        s = render(s.objects, 160, 120, 1, fps=30)
        frames.append(s.frames[0])
        maps.append(s.label_maps[0])
    scene = Scene(30.0, 160, 120, 40, s.objects, np.stack(maps), np.stack(frames))
    q, frames_seen, _, schedule = _run(scene, {"detect_every": 10, "schedule": ADAPTIVE})
    # it keeps changing: the detector runs every min_gap frames after the confirming one
    assert frames_seen == [0, 8, 13, 18, 23, 28, 33, 38]
    assert set(schedule.reasons) - {"first frame", "confirm new track"} <= {
        "untracked change", "track drift", "track appearance"
    }


def test_schedule_settings_are_checked():
    with pytest.raises(ValueError, match="unknown schedule settings: gap"):
        TrackerConfig.from_dict({"schedule": {"kind": "adaptive", "gap": 3}})
    with pytest.raises(ValueError, match="kind"):
        ScheduleConfig.from_dict({"kind": "sometimes"})
    with pytest.raises(ValueError, match="min_gap"):
        ScheduleConfig.from_dict({"kind": "adaptive", "min_gap": 9, "max_gap": 3})


def test_adaptive_detects_a_track_crossing_the_border():
    # a ball leaving on the right: its mask touches the border from frame 30 (gone by 49); with
    # edge_gap the detector runs as soon as edge_gap frames have passed since the last, not
    # only once the flow mask's area has drifted (frame 36)
    scene = render([_ball(x=100.0, y=60.0, end=(190.0, 60.0), leave=59)], 160, 120, 60,
                   fps=30)  # fmt: skip
    table = {"detect_every": 10, "schedule": {**ADAPTIVE, "max_gap": 60, "edge_gap": 0}}
    _, frames, _, _ = _run(scene, table)
    assert [f for f in frames if 28 <= f <= 32] == []
    table["schedule"]["edge_gap"] = 6
    _, frames, _, schedule = _run(scene, table)
    assert [f for f in frames if 28 <= f <= 32] == [30]
    assert schedule.reasons.get("track at the border") == 1


def test_schedule_quality_scores_other_scene_families():
    from vidagent.testing.scenes import alt_scene
    from vidagent.testing.schedule_quality import score_schedule

    made = []

    def scene(**kw):
        made.append(kw["seed"])
        return alt_scene(**kw)

    s = score_schedule("fixed", {"detect_every": 4, "stride": 4}, seeds=(5,), num_frames=8,
                       height=64, width=96, scene=scene)  # fmt: skip
    assert made == [5] and s.frames == 8 and s.detector_calls == 2
    assert 0.0 < s.j <= 1.0
