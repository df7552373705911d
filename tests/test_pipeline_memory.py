"""Memory against video length through the whole pipeline (``python scripts/memory.py
pipeline``): the peak resident memory of ``Agent.ask`` on a 60 s clip at the bench's 854x480
30 fps stays within 10% of a 10 s clip's (detector and SAM simulated from ground truth, so no
weights; every other stage is the real one), each in a fresh process."""

from __future__ import annotations

import numpy as np
import pytest

from vidagent.bench import memory


def test_compact_scene_finds_decoded_frames_of_the_looped_clip(tmp_path):
    from vidagent.testing.doubles import SyntheticDetector, SyntheticSegmenter
    from vidagent.testing.scenes import default_scene
    from vidagent.video import open_video

    scene = default_scene(num_frames=30, height=96, width=128, seed=0, fps=30.0)
    video = memory.write_looped_clip(scene, tmp_path / "loop.mp4", 75, 30.0)
    compact = memory.CompactScene.load(memory.CompactScene.of(scene).save(tmp_path / "scene"))
    assert compact.num_frames == 30 and compact.labels == scene.labels
    np.testing.assert_array_equal(compact.label_maps[7], scene.label_maps[7])
    found = [compact.frame_of(f) for _, f in open_video(video).frames()]
    assert len(found) == 75
    assert np.mean([t == i % 30 for i, t in enumerate(found)]) >= 0.95
    # the simulated models answer from the compact scene's ground truth
    frames = dict(open_video(video).frames())
    det = SyntheticDetector(compact, seed=0)
    d = det.detect(frames[40], ["ball", "box"])
    assert det.frames_seen == [10] and len(d) == len(
        [i for i in np.unique(scene.label_maps[10]) if i and (scene.label_maps[10] == i).sum() >= 20])
    seg = SyntheticSegmenter(compact, radius=0)
    seg.set_image(frames[40])
    masks, _ = seg.predict(boxes=d.boxes)
    assert all((scene.label_maps[10][m] > 0).all() for m in masks)


@pytest.mark.slow
def test_peak_rss_of_a_60s_clip_is_within_10_percent_of_a_10s_clip(tmp_path):
    short = memory.pipeline_memory(10.0, tmp_path, timeout=1200)
    long = memory.pipeline_memory(60.0, tmp_path, timeout=2400)
    # the pipeline ran over every frame of both: the keyframe schedule's detector calls scale
    assert long["detector_calls"] >= 5 * short["detector_calls"] > 0
    assert long["answer"] == short["answer"]
    ratio = long["peak_rss_mb"] / short["peak_rss_mb"]
    assert ratio <= 1.10, (short, long)
