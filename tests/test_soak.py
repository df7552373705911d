"""Long-video soak: a 20,000-frame video through ``vidagent track --detections`` in a subprocess;
its peak resident memory must not grow with the video's length (compared with a 2,000-frame run).
The numbers are printed by ``python scripts/memory.py soak``."""

from __future__ import annotations

import json

import pytest

from vidagent.bench import memory

pytestmark = pytest.mark.hostile

GROWTH_MB = (
    160  # allowed peak-RSS difference between 20,000 and 2,000 frames (sampling noise, caches)
)


@pytest.mark.slow
def test_20k_frame_soak_memory_is_flat(tmp_path):
    short = memory.soak(2000, tmp_path, overlay=True, timeout=600)
    assert short["returncode"] == 0, short["stderr"][-2000:]
    long = memory.soak(20000, tmp_path, overlay=True, timeout=1800)
    assert long["returncode"] == 0, long["stderr"][-2000:]
    assert long["masks_written"] == 20000
    res = long["result"]
    assert res["ids"] and all(1 <= i <= 255 for i in res["ids"])
    objects = json.loads((tmp_path / "out_20000" / "objects.json").read_text())
    assert objects["num_frames"] == 20000
    # peak memory independent of length: the long run peaks where the short one does
    assert long["peak_rss_mb"] <= short["peak_rss_mb"] + GROWTH_MB, (
        short["peak_rss_mb"],
        long["peak_rss_mb"],
    )
    # and it does not creep up during the run
    assert long["rss_second_half_max_mb"] <= long["rss_first_half_max_mb"] + GROWTH_MB
    print(
        f"\n2k: {short['frames_per_s']} frames/s, peak {short['peak_rss_mb']} MiB; "
        f"20k: {long['frames_per_s']} frames/s, peak {long['peak_rss_mb']} MiB"
    )


def test_soak_inputs_are_what_they_claim(tmp_path):
    """The generator behind the soak: frame count, size, one detection every 10 frames with an
    RLE mask that decodes to the ball."""
    from vidagent.io.detections import load_detections
    from vidagent.video import open_video

    video, dets = memory.make_soak_inputs(tmp_path, 60, every=10)
    info = open_video(video).info
    assert (info.num_frames, info.width, info.height) == (60, memory.W, memory.H)
    d = load_detections(dets, info.num_frames, info.width, info.height)
    assert sorted(d) == list(range(0, 60, 10))
    assert (d[30].masks[0] == memory.ball_mask(30)).all()


@pytest.mark.slow
def test_bouncing_ball_keeps_one_id(tmp_path):
    """The ball reverses direction between detection rounds (every 10 frames), through the
    command line and a compressed video (tests/test_tracking_regime.py has the in-process
    cases that failed)."""
    r = memory.soak(440, tmp_path, overlay=False, timeout=300)
    assert r["returncode"] == 0, r["stderr"][-2000:]
    assert r["result"]["ids"] == [1]
