from __future__ import annotations

import json

import numpy as np
import pytest

from vidagent.testing.scenes import (
    DEV_SEEDS,
    HELD_OUT_SEEDS,
    SMALL_FAST_KINDS,
    SceneObject,
    default_scene,
    noisy_detections,
    public_detections,
    render,
    save_tracks_folder,
    shape_mask,
    small_fast_scene,
)


def test_deterministic_by_seed():
    a = default_scene(num_frames=20, seed=3)
    b = default_scene(num_frames=20, seed=3)
    c = default_scene(num_frames=20, seed=4)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.label_maps, b.label_maps)
    assert not np.array_equal(a.frames, c.frames)
    assert a.frames.dtype == np.uint8 and a.frames.shape == (20, 240, 320, 3)
    assert a.label_maps.shape == (20, 240, 320) and a.label_maps.dtype == np.uint8


def test_scene_has_late_entry_exit_return_and_occlusion():
    v = default_scene(num_frames=60, seed=0)
    assert set(v.labels) == {1, 2, 3, 4}
    late = v.visible_frames(3)
    assert late.min() > 10  # enters late
    leaver = v.visible_frames(4)
    assert leaver.min() == 0 and leaver.max() == 59 and len(leaver) < 50  # leaves and returns
    hidden = v.visible_frames(2)
    gaps = np.diff(hidden)
    assert hidden.min() == 0 and (gaps > 1).any()  # hidden behind the box, then back


def test_path_and_window_objects_render_where_they_say():
    line = SceneObject(1, "ball", "red", (220, 30, 30), "circle", 5, (10, 10), (50, 10), 2, 6)
    bent = SceneObject(2, "box", "blue", (30, 80, 220), "rect", 4, (0, 0), (0, 0), 0, 9,
                       path=[(0, 20, 30), (4, 60, 30), (9, 20, 30)])
    s = render([line, bent], 80, 48, 10, noise=0)
    assert s.visible_frames(1).tolist() == [2, 3, 4, 5, 6]  # on screen only in its window
    assert bent.center(4) == (60.0, 30.0) and bent.center(9) == (20.0, 30.0)  # turns back
    ys, xs = np.nonzero(s.label_maps[4] == 2)
    assert abs(xs.mean() + 0.5 - 60) <= 0.5 and abs(ys.mean() + 0.5 - 30) <= 0.5
    assert (s.label_maps[4] == 2).sum() == 64  # an 8x8 box


@pytest.mark.parametrize("kind", SMALL_FAST_KINDS)
def test_small_fast_scenes_are_the_regime(kind):
    assert not set(DEV_SEEDS) & set(HELD_OUT_SEEDS)
    s = small_fast_scene(DEV_SEEDS[0], kind)
    assert (s.width, s.height, s.num_frames, s.fps) == (320, 240, 40, 10.0)
    assert 2 <= len(s.objects) <= 5
    for o in s.objects:
        peak = (s.label_maps == o.id).sum((1, 2)).max()
        big = kind == "occluder" and o.z == max(p.z for p in s.objects)
        assert 150 <= peak <= (2600 if big else 2100), (o.id, peak)
    assert max(o.speed(s.fps) for o in s.objects) >= 40  # fast: >= 4 px a frame
    again = small_fast_scene(DEV_SEEDS[0], kind)
    assert np.array_equal(s.frames, again.frames)


def test_small_fast_kinds_show_their_difficulty():
    occ = small_fast_scene(DEV_SEEDS[0], "occluder")
    top = max(occ.objects, key=lambda o: o.z)
    behind = [o for o in occ.objects if o is not top]
    hidden = [
        t for o in behind for t in range(occ.num_frames)
        if 0 < (occ.label_maps[t] == o.id).sum() < 0.9 * o.area()
        and 0 < o.center(t)[0] < occ.width
    ]
    assert hidden  # something passes behind the occluder
    rev = small_fast_scene(DEV_SEEDS[0], "reversal")
    turns = [len(o.path) - 2 for o in rev.objects]
    assert min(turns) >= 1  # every object turns back at least once
    ee = small_fast_scene(DEV_SEEDS[0], "enter_exit")
    first = [int(ee.visible_frames(o.id).min()) for o in ee.objects]
    last = [int(ee.visible_frames(o.id).max()) for o in ee.objects]
    assert max(first) > 0 and min(last) < ee.num_frames - 1  # a late entry and an early exit


# the fastest motion each kind is built with, in px a frame: crossings go edge to edge (<= 424 px
# with the margins) in >= 12 frames, entries and exits edge to inside (<= 310 px) in >= 6,
# objects behind the occluder cross (<= 390 px) in >= 16, reversals move 5-12 px a frame
FASTEST_STEP = {"crossing": 35.4, "enter_exit": 51.7, "occluder": 24.5, "reversal": 12.0}


@pytest.mark.parametrize("kind", SMALL_FAST_KINDS)
def test_small_fast_objects_move_without_jumps(kind):
    """No object jumps between frames: while it is wholly in the frame its centroid moves no
    further a frame than its kind's fastest motion (+1.5 px for centres snapped to pixels)."""
    for seed in range(5):
        s = small_fast_scene(seed, kind)
        for o in s.objects:
            hw, hh = o.half_extent()
            cs = {}
            for t in range(s.num_frames):
                cx, cy = o.center(t)
                if hw <= cx <= s.width - hw and hh <= cy <= s.height - hh:
                    ys, xs = np.nonzero(shape_mask(o, t, s.height, s.width))
                    cs[t] = np.array([xs.mean(), ys.mean()])
            steps = [np.hypot(*(cs[t] - cs[t - 1])) for t in cs if t - 1 in cs]
            assert max(steps, default=0.0) <= FASTEST_STEP[kind] + 1.5, (seed, o.id, max(steps))


def test_noisy_detections_shape_and_noise():
    v = default_scene(num_frames=30, seed=1)
    dets = noisy_detections(v, every=5, seed=1)
    assert sorted(dets) == [0, 5, 10, 15, 20, 25]
    for d in dets.values():
        assert d.masks.shape[1:] == (240, 320)
        assert set(d.labels) <= {"box", "ball"}


def test_public_detections_are_one_pixel_off_and_some_dropped():
    s = small_fast_scene(DEV_SEEDS[1], "crossing")
    dets = public_detections(s, seed=1)
    assert sorted(dets) == list(range(0, 40, 5))
    found = 0
    for t, d in dets.items():
        for m, lab in zip(d.masks, d.labels):
            ids, counts = np.unique(s.label_maps[t][m], return_counts=True)
            gt = s.label_maps[t] == ids[ids > 0][counts[ids > 0].argmax()]
            assert 0 < abs(int(m.sum()) - int(gt.sum())) <= 8 * np.sqrt(gt.sum())  # +-1 px
            found += 1
    visible = sum(((s.label_maps[t] == o.id).sum() >= 20) for t in dets for o in s.objects)
    assert 0 < found <= visible


def test_save_tracks_folder(tmp_path):
    v = default_scene(num_frames=4, seed=0)
    d = save_tracks_folder(tmp_path / "gt", v.label_maps, v.labels, v.fps)
    meta = json.loads((d / "objects.json").read_text())
    assert meta["num_frames"] == 4 and len(meta["objects"]) == 4
    assert len(list((d / "masks").glob("*.png"))) == 4
