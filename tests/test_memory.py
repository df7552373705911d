"""Scene memory: per-frame statistics, summaries, label matching, time windows, scale."""

from __future__ import annotations

import numpy as np
import pytest

from vidagent.testing.scenes import SceneObject, render
from vidagent.errors import InputError
from vidagent.memory import SceneMemoryBuilder, build_memory, position_name
from vidagent.vocab import label_matches, parse_phrase, singular


def _maps(T=10, H=60, W=90):
    maps = np.zeros((T, H, W), np.uint8)
    for t in range(T):
        maps[t, 10:20, 5 + 5 * t: 15 + 5 * t] = 1  # 10x10 square moving right 5 px/frame
        if t >= 4:
            maps[t, 40:50, 70:80] = 2  # appears at frame 4
    return maps


def test_per_frame_stats_are_exact():
    maps = _maps()
    mem = build_memory(maps, fps=10.0, labels={1: "dog", 2: "ball"})
    dog, ball = mem.get(1), mem.get(2)
    assert dog.visible.all() and dog.areas[0] == 100
    np.testing.assert_array_equal(dog.boxes[3], [20, 10, 30, 20])
    np.testing.assert_allclose(dog.centroids[3], [24.5, 14.5])
    assert np.isnan(ball.boxes[:4]).all() and not ball.visible[:4].any()
    assert (ball.first_frame, ball.last_frame) == (4, 9)
    assert ball.first_time == pytest.approx(0.4) and ball.last_time == pytest.approx(0.9)
    assert ball.visible_duration == pytest.approx(0.6)
    assert mem.num_frames == 10 and mem.duration == pytest.approx(1.0)


def test_motion_position_and_size():
    mem = build_memory(_maps(), fps=10.0, labels={1: "dog", 2: "ball"})
    dog, ball = mem.get(1), mem.get(2)
    assert dog.motion.direction == "right"
    assert dog.motion.speed == pytest.approx(50.0, rel=0.05)  # 5 px/frame at 10 fps
    assert dog.path_speed == pytest.approx(50.0, rel=0.05)
    assert ball.motion.direction == "none" and ball.motion.speed == 0.0
    assert ball.mean_position == "bottom-right"
    assert dog.size == pytest.approx(100.0) and dog.size_fraction == pytest.approx(100 / 5400)


@pytest.mark.parametrize(
    "xy,name",
    [((5, 5), "top-left"), ((50, 5), "top"), ((95, 5), "top-right"), ((5, 50), "left"),
     ((50, 50), "center"), ((95, 50), "right"), ((5, 95), "bottom-left"),
     ((50, 95), "bottom"), ((95, 95), "bottom-right"), ((100, 100), "bottom-right")],
)
def test_position_names_cut_the_frame_in_thirds(xy, name):
    assert position_name(*xy, 100, 100) == name


def test_bad_inputs_raise_clear_errors():
    b = SceneMemoryBuilder(10, 90, 60, 5, {1: "dog"})
    with pytest.raises(InputError, match="expected 90x60"):
        b.add_frame(0, np.zeros((10, 10), np.uint8))
    bad = np.zeros((60, 90), np.uint8)
    bad[0, 0] = 7
    with pytest.raises(InputError, match=r"ids \[7\]"):
        b.add_frame(0, bad)
    b.add_frame(1, np.zeros((60, 90), np.uint8))
    with pytest.raises(ValueError, match="in order"):
        b.add_frame(1, np.zeros((60, 90), np.uint8))
    with pytest.raises(InputError):
        SceneMemoryBuilder(0, 90, 60, 5, {1: "dog"})
    with pytest.raises(InputError):
        SceneMemoryBuilder(10, 90, 60, 5, {300: "dog"})


def test_more_frames_than_announced_and_gaps():
    b = SceneMemoryBuilder(5, 90, 60, 2, {1: "dog", 2: "ball"})
    maps = _maps(T=8)
    for t in (0, 3, 7):  # frames 1, 2, 4, 5, 6 never added: nothing visible there
        b.add_frame(t, maps[t])
    mem = b.build()
    assert mem.num_frames == 8
    assert list(mem.get(1).visible_frames) == [0, 3, 7]
    assert mem.get(1).color is None and not mem.has_frames


def test_colour_comes_from_frames_and_is_bounded():
    spec = SceneObject(1, "ball", "orange", (255, 140, 0), "circle", 14, (30, 40), (90, 40), 0, 29)
    scene = render([spec], 128, 96, 30, noise=6, jpeg=60)
    b = SceneMemoryBuilder(10, 128, 96, 30, {1: "ball"}, color_bins=6, pixels_per_sample=64)
    for t in range(30):
        b.add_frame(t, scene.label_maps[t], scene.frames[t])
    for slots in b._slots:  # bounded: at most 6 views of at most 64 pixels
        kept = [p for p in slots.pixels if p is not None]
        assert 1 <= len(kept) <= 6 and all(len(p) <= 64 for p in kept)
    mem = b.build()
    assert mem.get(1).color == "orange" and mem.has_frames


def test_touching_masks_are_recorded():
    maps = np.zeros((3, 40, 60), np.uint8)
    maps[:, 10:20, 10:20] = 1
    maps[0, 10:20, 20:30] = 2  # adjacent on frame 0
    maps[1:, 10:20, 40:50] = 2  # far apart afterwards
    mem = build_memory(maps, fps=1, labels={1: "a", 2: "b"})
    assert list(mem.touch_frames(1, 2)) == [True, False, False]
    assert list(mem.touch_frames(2, 1)) == [True, False, False]


def test_clip_keeps_absolute_times():
    mem = build_memory(_maps(), fps=10.0, labels={1: "dog", 2: "ball"})
    part = mem.clip(6, 8)
    ball = part.get(2)
    assert (ball.first_frame, ball.last_frame) == (6, 8)
    assert ball.first_time == pytest.approx(0.6)
    assert mem.get(2).first_frame == 4  # the original is untouched


@pytest.mark.parametrize(
    "phrase,label,ok",
    [("people", "person", True), ("persons", "person", True), ("kids", "child", True),
     ("children", "kid", True), ("red ball", "ball", True), ("red ball", "red ball", True),
     ("ball", "red ball", True), ("red ball", "blue ball", False), ("dogs", "dog", True),
     ("puppy", "dog", True), ("vehicles", "car", True), ("vehicle", "truck", True),
     ("people", "man", True), ("man", "woman", False), ("cars", "carpet", False),
     ("the two dogs on the left", "dog", True), ("dog", "cat", False), ("buses", "bus", True),
     ("grey cat", "gray cat", True), ("objects", "dog", True), ("things", "car", True),
     ("", "dog", False), ("glasses", "glass", True)],
)
def test_label_matching(phrase, label, ok):
    assert label_matches(phrase, label) is ok


def test_phrase_parsing():
    p = parse_phrase("the two small red balls on the left")
    assert (p.head, p.color, p.size, p.plural) == ("ball", "red", "small", True)
    assert singular("puppies") == "puppy" and singular("boxes") == "box"
    assert singular("glass") == "glass" and singular("bus") == "bus"


def test_find_only_returns_visible_matching_objects():
    maps = _maps()
    mem = build_memory(maps, fps=10, labels={1: "person", 2: "ball", 3: "person"})
    assert [o.id for o in mem.find("people")] == [1]  # id 3 never appears
    assert [o.id for o in mem.find("red ball")] == [2]
    assert mem.find("dog") == []


def test_many_frames_many_objects_stay_small():
    """2,000 frames x 20 objects; 50,000 x 20 take ~12 s (see scripts/bench_reasoning.py)."""
    T, K, H, W = 2000, 20, 36, 64
    labels = {i + 1: "dog" for i in range(K)}
    b = SceneMemoryBuilder(25.0, W, H, T, labels)
    lm = np.zeros((H, W), np.uint8)
    for i in range(K):
        r, c = divmod(i, 5)
        lm[r * 9 + 1: r * 9 + 7, c * 12 + 1: c * 12 + 10] = i + 1
    for t in range(T):
        b.add_frame(t, np.roll(lm, (t // 100) % 3, axis=1))
    mem = b.build()
    assert len(mem.objects) == K and all(o.num_visible == T for o in mem.objects)
    per_object = sum(a.nbytes for a in (mem.objects[0].visible, mem.objects[0].boxes,
                                         mem.objects[0].areas, mem.objects[0].centroids))
    assert per_object == T * (1 + 16 + 4 + 8)


def test_short_gaps_count_as_on_screen():
    maps = np.zeros((20, 30, 30), np.uint8)
    for t in list(range(0, 8)) + list(range(10, 14)) + [19]:  # gaps of 2 and 5 frames
        maps[t, 5:10, 5:10] = 1
    mem = build_memory(maps, fps=10, labels={1: "cup"})
    cup = mem.get(1)
    assert cup.num_visible == 13
    assert cup.visible_duration == pytest.approx(1.5)  # 2-frame gap filled, 5-frame gap not
    assert cup.clip(0, 9).visible_duration == pytest.approx(1.0)


def test_builder_from_tracks_meta():
    from vidagent.types import ObjectInfo, TracksMeta

    meta = TracksMeta(10.0, 90, 60, 10, [ObjectInfo(1, "dog"), ObjectInfo(2, "ball")])
    b = SceneMemoryBuilder.from_meta(meta)
    for t, lm in enumerate(_maps()):
        b.add_frame(t, lm)
    mem = b.build()
    assert [o.label for o in mem.objects] == ["dog", "ball"] and mem.fps == 10.0


def test_colour_slots_spread_evenly_over_visible_frames():
    from vidagent.memory import _ColorSlots

    slots = _ColorSlots(4)
    for n in range(37):
        slot = slots.next_slot()
        if slots.wants(slot, 100 + (n % 3)):
            slots.put(slot, 100 + (n % 3), np.full((1, 3), n, np.uint8))
    kept_frames = [int(p[0, 0]) for p in slots.pixels if p is not None]
    assert len(slots.pixels) <= 4 and slots.step == 16
    assert kept_frames[0] < 16 <= kept_frames[1] < 32 <= kept_frames[2]
