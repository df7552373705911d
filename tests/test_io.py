from __future__ import annotations

import json

import numpy as np
import pytest

from vidagent.errors import InputError
from vidagent.io.detections import load_detections
from vidagent.io.masks import decode_rle, encode_rle, read_label_png, rle_string_counts, write_label_png
from vidagent.io.tracks import TracksWriter, open_tracks, validate_all
from vidagent.types import Detections, ObjectInfo, boxes_from_label_map


def _maps(n=5, h=24, w=32):
    for i in range(n):
        lm = np.zeros((h, w), np.uint8)
        lm[2:10, i : i + 6] = 1
        lm[12:20, 20:28] = 7
        yield lm


def _write(tmp_path, n=5, rle=True, name="out"):
    out = tmp_path / name
    with TracksWriter(out, 10.0, 32, 24, n, rle=rle) as w:
        for i, lm in enumerate(_maps(n)):
            w.write(i, lm)
        w.close([ObjectInfo(1, "dog"), ObjectInfo(7, "ball")])
    return out


def test_tracks_round_trip(tmp_path):
    out = _write(tmp_path)
    meta = json.loads((out / "objects.json").read_text())
    assert meta == {"fps": 10.0, "width": 32, "height": 24, "num_frames": 5,
                    "objects": [{"id": 1, "label": "dog"}, {"id": 7, "label": "ball"}]}
    r = open_tracks(out)
    got = [lm for _, lm in r.label_maps()]
    assert all(np.array_equal(a, b) for a, b in zip(got, _maps(5)))
    rle = json.loads((out / "rle.json").read_text())
    assert len(rle["frames"]) == 5
    assert np.array_equal(decode_rle(rle["frames"][3]["7"], (24, 32)), got[3] == 7)
    # no temporary folders left beside the output
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failed_writer_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with TracksWriter(out, 10.0, 32, 24, 5) as w:
            w.write(0, np.zeros((24, 32), np.uint8))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_unlisted_ids_and_missing_frames(tmp_path):
    w = TracksWriter(tmp_path / "o", 10, 32, 24, 2)
    w.write(0, np.full((24, 32), 3, np.uint8))
    with pytest.raises(ValueError):
        w.close([ObjectInfo(3, "x")])  # only 1 of 2 frames
    w.write(1, np.zeros((24, 32), np.uint8))
    with pytest.raises(ValueError):
        w.close([ObjectInfo(4, "y")])
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_palette_png_is_8bit_and_davis_colours(tmp_path):
    from PIL import Image

    lm = np.array([[0, 1], [2, 255]], np.uint8)
    write_label_png(tmp_path / "m.png", lm)
    with Image.open(tmp_path / "m.png") as im:
        assert im.mode == "P"
        assert im.getpalette()[3:6] == [128, 0, 0]  # DAVIS id 1 is dark red
    assert np.array_equal(read_label_png(tmp_path / "m.png"), lm)


@pytest.mark.parametrize(
    "breakage,match",
    [
        ("no_objects", "objects.json is missing"),
        ("bad_json", "not valid JSON"),
        ("bad_id", "1..255"),
        ("dup_id", "twice"),
        ("missing_mask", "missing"),
        ("wrong_size", "differs"),
        ("unlisted_id", "does not list"),
        ("rgb_mask", "8-bit"),
        ("no_masks_dir", "masks/ folder"),
    ],
)
def test_bad_tracks_are_refused(tmp_path, breakage, match):
    from PIL import Image

    out = _write(tmp_path)
    obj = out / "objects.json"
    meta = json.loads(obj.read_text())
    if breakage == "no_objects":
        obj.unlink()
    elif breakage == "bad_json":
        obj.write_text("{not json")
    elif breakage == "bad_id":
        meta["objects"][0]["id"] = 300
        obj.write_text(json.dumps(meta))
    elif breakage == "dup_id":
        meta["objects"][1]["id"] = 1
        obj.write_text(json.dumps(meta))
    elif breakage == "missing_mask":
        (out / "masks" / "00003.png").unlink()
    elif breakage == "wrong_size":
        write_label_png(out / "masks" / "00004.png", np.zeros((10, 10), np.uint8))
    elif breakage == "unlisted_id":
        write_label_png(out / "masks" / "00002.png", np.full((24, 32), 9, np.uint8))
    elif breakage == "rgb_mask":
        Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(out / "masks" / "00001.png")
    elif breakage == "no_masks_dir":
        import shutil

        shutil.rmtree(out / "masks")
    with pytest.raises(InputError, match=match):
        validate_all(open_tracks(out))


def test_tracks_checked_against_video(tmp_path, make_video):
    from vidagent.video import open_video

    video = open_video(make_video(n=6, w=32, h=24))
    out = _write(tmp_path, n=5)
    with pytest.raises(InputError, match="frames"):
        open_tracks(out, video)
    video2 = open_video(make_video(n=5, w=64, h=48, name="v2.mp4"))
    with pytest.raises(InputError, match="64x48"):
        open_tracks(out, video2)
    video3 = open_video(make_video(n=5, w=32, h=24, name="v3.mp4"))
    assert open_tracks(out, video3).num_frames == 5


def test_rle_round_trip_and_hostile_counts():
    rng = np.random.default_rng(1)
    for _ in range(50):
        h, w = rng.integers(1, 40, 2)
        m = rng.random((h, w)) < 0.3
        r = encode_rle(m)
        assert sum(rle_string_counts(r["counts"])) == h * w
        assert np.array_equal(decode_rle(r, (h, w)), m)
    with pytest.raises(InputError):
        decode_rle({"size": [4, 4], "counts": "~~~~"})
    with pytest.raises(InputError):
        decode_rle({"size": [4, 4], "counts": [100]})  # would overflow the C decoder
    with pytest.raises(InputError, match="does not match"):
        decode_rle(encode_rle(np.ones((3, 3), bool)), (4, 4))


def _det_file(tmp_path, frames):
    p = tmp_path / "d.json"
    p.write_text(json.dumps({"frames": frames}))
    return p


def test_detections_file(tmp_path):
    m = np.zeros((24, 32), bool)
    m[5:10, 5:12] = True
    p = _det_file(tmp_path, {
        "0": [{"box": [5, 5, 12, 10], "label": "Car", "score": 0.9, "rle": encode_rle(m)}],
        "3": [],
        "4": [{"box": [-5, 2, 10, 30], "label": "dog"}],
    })
    d = load_detections(p, 10, 32, 24)
    assert sorted(d) == [0, 3, 4] and d.labels == ["car", "dog"]
    assert np.array_equal(d[0].masks[0], m)
    assert len(d[3]) == 0
    assert d[4].masks is None and np.allclose(d[4].boxes, [[0, 2, 10, 24]])  # clipped to the frame
    assert d[4].scores[0] == 1.0


@pytest.mark.parametrize(
    "frames,match",
    [
        ({"x": []}, "not a non-negative integer"),
        ({"-1": []}, "not a non-negative integer"),
        ({"10": []}, "outside the video"),
        ({"0": [{"box": [1, 2, 3]}]}, "four finite numbers"),
        ({"0": [{"box": [1, 2, "a", 4]}]}, "four finite numbers"),
        ({"0": [{"box": [5, 5, 1, 1]}]}, "reversed"),
        ({"0": [{"box": [1, 1, 5, 5], "score": None}]}, "score"),
        ({"0": [{"box": [1, 1, 5, 5], "rle": {"size": [10, 10], "counts": "PP"}}]}, "RLE size"),
        ({"0": [{"box": [1, 1, 5, 5], "rle": {"size": [24, 32], "counts": "~~~"}}]}, "RLE"),
        ({"0": {"box": [1, 1, 5, 5]}}, "list of detections"),
    ],
)
def test_bad_detections_are_refused(tmp_path, frames, match):
    with pytest.raises(InputError, match=match):
        load_detections(_det_file(tmp_path, frames), 10, 32, 24)


def test_detections_not_json_or_no_frames(tmp_path):
    p = tmp_path / "d.json"
    p.write_text("nope")
    with pytest.raises(InputError, match="not valid JSON"):
        load_detections(p, 10, 32, 24)
    p.write_text('{"detections": {}}')
    with pytest.raises(InputError, match="frames"):
        load_detections(p, 10, 32, 24)
    p.write_text('{"frames": {"0": [{"box": [1, 1, NaN, 5]}]}}')
    with pytest.raises(InputError, match="finite"):
        load_detections(p, 10, 32, 24)


def test_detections_type():
    d = Detections([[0, 0, 2, 2], [1, 1, 5, 5]], [0.5, 0.9], ["a", "b"], masks=np.zeros((2, 4, 6)))
    assert len(d) == 2 and d.masks.dtype == bool
    assert d[d.scores > 0.6].labels.tolist() == ["b"]
    assert len(Detections.merge([d, d[0]])) == 3
    assert len(Detections.empty((4, 6))) == 0
    with pytest.raises(ValueError):
        Detections([[0, 0, 1, 1]], [0.1, 0.2], ["a"])
    with pytest.raises(ValueError):
        Detections([[0, 0, np.nan, 1]], [0.1], ["a"])
    lm = np.zeros((10, 10), np.uint8)
    lm[2:4, 3:7] = 5
    b = boxes_from_label_map(lm, [5, 6])
    assert np.allclose(b[0], [3, 2, 7, 4]) and np.isnan(b[1]).all()


def test_overlay_draws_and_writes(tmp_path):
    from vidagent.overlay import OverlayWriter, annotate
    from vidagent.video import open_video

    frame = np.full((48, 64, 3), 100, np.uint8)
    lm = np.zeros((48, 64), np.uint8)
    lm[10:30, 10:30] = 2
    out = annotate(frame, lm, {2: "dog"})
    assert out.shape == frame.shape and not np.array_equal(out[20, 20], frame[20, 20])
    assert np.array_equal(out[45, 60], frame[45, 60])  # background untouched
    with OverlayWriter(tmp_path / "o.mp4", 10, 64, 48, {2: "dog"}) as w:
        for _ in range(4):
            w.write(frame, lm)
    v = open_video(tmp_path / "o.mp4")
    assert v.info.num_frames == 4 and (v.info.width, v.info.height) == (64, 48)


def test_tracks_whose_frame_count_disagrees_with_the_video_are_refused(tmp_path, make_video):
    """objects.json saying more frames than the video has (1e9 for a 5-frame clip, or 6 with
    six masks) is refused, as a smaller count or another size is."""
    import json

    from vidagent.video import open_video

    video = open_video(make_video(n=5, w=32, h=24))
    out = _write(tmp_path, n=6)
    with pytest.raises(InputError, match="6 frames but the video has 5"):
        open_tracks(out, video)
    meta = json.loads((out / "objects.json").read_text())
    meta["num_frames"] = 1_000_000_000
    (out / "objects.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="1000000000 frames"):
        open_tracks(out, video)
