"""The perceived Scene: one streaming pass, decodes counted, typed results, the scene cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vidagent.io.masks import encode_rle
from vidagent.io.tracks import open_tracks
from vidagent.pipeline import Agent
from vidagent.query.parser import QueryParser
from vidagent.results import Answer, SegmentResult, TrackResult
from vidagent.scene import Scene
from vidagent.testing.scenes import default_scene
from vidagent.video import VideoReader, write_video

T, H, W = 30, 96, 128


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A synthetic clip (2 balls, 2 boxes) and a detections file: the exact masks every 5th
    frame (no detector or segmenter needed)."""
    folder = tmp_path_factory.mktemp("clip")
    scene = default_scene(num_frames=T, height=H, width=W, seed=3, fps=10.0)
    video = folder / "clip.mp4"
    write_video(video, scene.frames, 10.0, crf=12)
    frames = {}
    for t in range(0, T, 5):
        items = []
        for k in (int(i) for i in np.unique(scene.label_maps[t]) if i):
            m = scene.label_maps[t] == k
            ys, xs = np.nonzero(m)
            box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
            items.append({"box": box, "label": scene.labels[k], "score": 0.9, "rle": encode_rle(m)})
        frames[str(t)] = items
    dets = folder / "dets.json"
    dets.write_text(json.dumps({"frames": frames}))
    return video, dets


@pytest.fixture
def decodes(monkeypatch):
    """Counts decoding passes over a video: each ``VideoReader.frames()`` that yields a frame."""
    count = {"n": 0}
    original = VideoReader.frames

    def counting(self, *a, **k):
        first = True
        for item in original(self, *a, **k):
            if first:
                count["n"] += 1
                first = False
            yield item

    monkeypatch.setattr(VideoReader, "frames", counting)
    return count


def agent(tmp_path) -> Agent:
    return Agent(profile="cpu", device="cpu", offline=True, progress=False,
                 workdir=str(tmp_path / "work")).use_models(parser=QueryParser(None))


def test_ask_decodes_once_and_a_second_question_decodes_nothing(clip, decodes, tmp_path):
    video, dets = clip
    with agent(tmp_path) as a:
        first = a.ask(video, "how many balls are there?", detections=dets)
        assert decodes["n"] == 1
        assert isinstance(first, Answer) and first.value == 2
        second = a.ask(video, "is there a ball?", detections=dets)
        assert decodes["n"] == 1 and second.value is True
        assert second.scene is first.scene
        # the scene's perception seconds are reported once, by the call that perceived it
        assert "track" in first.timings and "track" not in second.timings


def test_segment_decodes_at_most_twice(clip, decodes, tmp_path):
    video, dets = clip
    with agent(tmp_path) as a:
        r = a.segment(video, "the balls", tmp_path / "seg", detections=dets)
        assert decodes["n"] == 2  # perception, then the overlay of the referred objects
        assert isinstance(r, SegmentResult) and r.overlay is not None
        written = open_tracks(tmp_path / "seg", open_video_of(video))
        assert sorted(o.id for o in written.meta.objects) == r.ids
        assert {r.labels[i] for i in r.ids} == {"ball"}
        ids_seen = set()
        for _, lm in written.label_maps():
            ids_seen |= {int(i) for i in np.unique(lm) if i}
        assert ids_seen == set(r.ids)
        a.segment(video, "the ball on the left", tmp_path / "seg2", detections=dets, overlay=False)
        assert decodes["n"] == 2  # a second expression on the same scene, no overlay: no decode


def test_track_writes_in_the_tracking_pass(clip, decodes, tmp_path):
    video, dets = clip
    with agent(tmp_path) as a:
        r = a.track(video, "ball . box", tmp_path / "trk", detections=dets)
        assert decodes["n"] == 1  # tracks folder and overlay written as frames come
        assert isinstance(r, TrackResult) and r.overlay is not None
        out = open_tracks(tmp_path / "trk", open_video_of(video))
        assert out.meta.labels() == r.labels == r.scene.labels
        assert (tmp_path / "trk" / "rle.json").is_file()
        # the written folder and the scene's own masks are the same label maps
        for (i, lm), (j, own) in zip(out.label_maps(), r.scene.masks.label_maps()):
            assert i == j and np.array_equal(lm, own)
        # questions after track come from the same scene
        assert r.scene.ask("how many boxes are there?").value == 2
        assert decodes["n"] == 1


def open_video_of(path):
    from vidagent.video import open_video

    return open_video(path)


def test_streamed_memory_equals_memory_read_back_from_the_tracks(clip, tmp_path):
    """The memory built during tracking (objects learnt as they are confirmed) is the memory a
    scene read from the written tracks folder has."""
    video, dets = clip
    with agent(tmp_path) as a:
        r = a.track(video, "ball . box", tmp_path / "trk", detections=dets, overlay=False)
        again = a.perceive(video, tracks=tmp_path / "trk")
        assert again is not r.scene
        m1, m2 = r.scene.memory, again.memory
        assert [(o.id, o.label) for o in m1.objects] == [(o.id, o.label) for o in m2.objects]
        for o1, o2 in zip(m1.objects, m2.objects):
            assert np.array_equal(o1.visible, o2.visible)
            assert np.allclose(o1.boxes, o2.boxes, equal_nan=True)
            assert o1.color == o2.color
        assert m1.touching.keys() == m2.touching.keys()


def test_perceive_returns_a_scene_reused_when_it_covers_the_targets(clip, decodes, tmp_path):
    video, dets = clip
    with agent(tmp_path) as a:
        scene = a.perceive(video, ["ball", "box"], detections=dets)
        assert isinstance(scene, Scene)
        assert scene.targets == ("ball", "box") and scene.key.source.kind == "detections"
        assert a.perceive(video, ["ball"], detections=dets) is scene
        assert a.perceive(str(video), ["box", "ball"], detections=str(dets)) is scene
        assert decodes["n"] == 1
        # another source is another scene
        trk = tmp_path / "trk"
        scene.write(trk, overlay=False)
        other = a.perceive(video, ["ball"], tracks=trk)
        assert other is not scene and other.key.source.kind == "tracks"
        assert a.perceive(video, ["anything"], tracks=trk) is other


def test_scene_ask_refer_write(clip, tmp_path):
    video, dets = clip
    with agent(tmp_path) as a:
        scene = a.perceive(video, ["ball", "box"], detections=dets)
        ans = scene.ask("how many boxes are there?")
        assert ans.value == 2 and ans.scene is scene
        assert set(ans.to_json()) == {"question", "answer", "value", "plan", "evidence", "timings"}
        json.dumps(ans.to_json())
        plan = a.parse("is there a ball?")
        assert scene.ask(plan).value is True
        sel = scene.refer("the balls")
        assert sel.ids and all(scene.labels[i] == "ball" for i in sel.ids)
        out = scene.write(tmp_path / "one", ids=sel.ids[:1], overlay=False)
        written = open_tracks(out)
        assert [o.id for o in written.meta.objects] == sel.ids[:1]
        assert not (out / "overlay.mp4").exists()
        with pytest.raises(KeyError):
            scene.write(tmp_path / "bad", ids=[99])
        assert not (tmp_path / "bad").exists()


def test_result_json_is_the_contract(clip, tmp_path):
    video, dets = clip
    with agent(tmp_path) as a:
        seg = a.segment(video, "the ball on the left", tmp_path / "s", detections=dets,
                        overlay=False).to_json()
        assert set(seg) == {"expression", "ids", "labels", "plan", "out", "timings"}
        assert all(seg["labels"][str(i)] == "ball" for i in seg["ids"])
        trk = a.track(video, "ball", tmp_path / "t", detections=dets, overlay=False).to_json()
        assert trk["plan"] == {"task": "segment", "targets": ["ball"]}
        assert set(trk["labels"].values()) == {"ball"}
        json.dumps(seg), json.dumps(trk)


def test_tracker_stream_yields_frames_with_a_bounded_lag():
    """The tracker yields (index, frame, label_map) while it still reads the video."""
    from vidagent.tracking import Tracker, TrackerConfig

    video = default_scene(num_frames=60, height=64, width=80, seed=1)
    read = []

    def frames():
        for i, f in enumerate(video.frames):
            read.append(i)
            yield i, f

    dets = {}
    from vidagent.types import Detections, boxes_from_label_map

    for t in range(0, 60, 5):
        ids = [int(k) for k in np.unique(video.label_maps[t]) if k]
        dets[t] = Detections(boxes_from_label_map(video.label_maps[t], ids).reshape(-1, 4),
                             np.ones(len(ids), np.float32), [video.labels[k] for k in ids],
                             masks=np.stack([video.label_maps[t] == k for k in ids]))
    tracker = Tracker(TrackerConfig(max_delay=20))
    lags = []
    for index, frame, lm in tracker.stream(frames(), 60, [], detections=dets):
        lags.append(len(read) - index)
        assert frame is video.frames[index] or np.array_equal(frame, video.frames[index])
        assert lm.shape == (64, 80) and lm.dtype == np.uint8
        assert set(np.unique(lm)) - {0} <= set(tracker.labels)
    # max_delay + 1, plus the frames read ahead for optical flow (the queue and the reader's)
    assert len(lags) == 60 and max(lags) <= 21 + tracker.config.prefetch + 1
    assert [o.id for o in tracker.objects] == sorted(tracker.labels)


def test_tracking_engines_come_from_one_registry(monkeypatch, clip, tmp_path):
    """The agent builds the profile's engine through the registry: a new engine is one
    registered builder; the user's detections use the model-free engine."""
    import dataclasses

    from vidagent.errors import InputError
    from vidagent.profiles import get_profile
    from vidagent.tracking import engines
    from vidagent.tracking.propagators import FlowOnlyPropagator

    built = []

    class Recording(FlowOnlyPropagator):
        pass

    def build(ctx):
        built.append(ctx)
        return Recording()

    monkeypatch.setitem(engines.ENGINES, "recording", engines.TrackingEngine("recording", "test", build))
    profile = dataclasses.replace(get_profile("cpu"), name="rec", propagator="recording")
    assert engines.engine_for(profile).name == "recording"
    a = Agent(profile=profile, device="cpu", offline=True, progress=False, workdir=str(tmp_path / "w"))
    tracker = a._tracker(None, None, with_detector=True)
    assert isinstance(tracker.propagator, Recording) and built[0].profile is profile
    own = dataclasses.replace(engines.ENGINES["recording"], own_model=True)
    monkeypatch.setitem(engines.ENGINES, "recording", own)
    assert engines.engine_for(profile, with_detector=False).name == "flow"
    with pytest.raises(InputError, match="unknown tracking engine 'nope'"):
        engines.get_engine("nope")
