from __future__ import annotations

import json

import numpy as np

from vidagent.synth import make_synthetic_video, noisy_detections, save_tracks_folder


def test_deterministic_by_seed():
    a = make_synthetic_video(num_frames=20, seed=3)
    b = make_synthetic_video(num_frames=20, seed=3)
    c = make_synthetic_video(num_frames=20, seed=4)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.masks, b.masks)
    assert not np.array_equal(a.frames, c.frames)
    assert a.frames.dtype == np.uint8 and a.frames.shape == (20, 240, 320, 3)
    assert a.masks.shape == (20, 240, 320) and a.masks.dtype == np.uint8


def test_scene_has_late_entry_exit_return_and_occlusion():
    v = make_synthetic_video(num_frames=60, seed=0)
    assert set(v.labels) == {1, 2, 3, 4}
    late = v.visible_frames(3)
    assert late.min() > 10  # enters late
    leaver = v.visible_frames(4)
    assert leaver.min() == 0 and leaver.max() == 59 and len(leaver) < 50  # leaves and returns
    hidden = v.visible_frames(2)
    gaps = np.diff(hidden)
    assert hidden.min() == 0 and (gaps > 1).any()  # hidden behind the box, then back


def test_noisy_detections_shape_and_noise():
    v = make_synthetic_video(num_frames=30, seed=1)
    dets = noisy_detections(v, every=5, seed=1)
    assert sorted(dets) == [0, 5, 10, 15, 20, 25]
    for d in dets.values():
        assert d.masks.shape[1:] == (240, 320)
        assert set(d.labels) <= {"box", "ball"}


def test_save_tracks_folder(tmp_path):
    v = make_synthetic_video(num_frames=4, seed=0)
    d = save_tracks_folder(tmp_path / "gt", v.masks, v.labels, v.fps)
    meta = json.loads((d / "objects.json").read_text())
    assert meta["num_frames"] == 4 and len(meta["objects"]) == 4
    assert len(list((d / "masks").glob("*.png"))) == 4
