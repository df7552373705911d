"""Hostile tracks folders, detections files, eval folders and command-line text, through the
command line. Tracks are checked before the language model loads, so these runs are fast; each
ends in a valid result (exit 0) or one line on stderr with exit 2 and no output folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_hostile_videos import (
    assert_ok_or_exit_2,
    no_partials,
    one_line,
    run_inproc,
    square_frames,
)

from vidagent.io.masks import encode_rle, write_label_png
from vidagent.io.tracks import TracksWriter
from vidagent.types import ObjectInfo
from vidagent.video import write_video

pytestmark = pytest.mark.hostile

N, W, H = 12, 96, 64


@pytest.fixture
def video(tmp_path) -> Path:
    return Path(write_video(tmp_path / "v.mp4", square_frames(N, W, H), 10.0))


@pytest.fixture
def tracks(tmp_path) -> Path:
    """A valid tracks folder for ``video``: the square as object 1."""
    out = tmp_path / "tracks"
    with TracksWriter(out, 10.0, W, H, N, rle=False) as w:
        for i in range(N):
            lm = np.zeros((H, W), np.uint8)
            x = min(W - 12, 2 + 2 * i)
            lm[H // 4 : H // 4 + 12, x : x + 12] = 1
            w.write(i, lm)
        w.close([ObjectInfo(1, "square")])
    return out


def ask_tracks(video: Path, tracks: Path):
    return run_inproc(
        [
            "ask",
            str(video),
            "how many squares are there?",
            "--tracks",
            str(tracks),
            "--json",
            "--quiet",
        ]
    )


def _meta(tracks: Path, **change) -> None:
    meta = json.loads((tracks / "objects.json").read_text())
    meta.update(change)
    (tracks / "objects.json").write_text(json.dumps(meta))


def _png16(path: Path, value: int) -> None:
    arr = np.zeros((H, W), np.uint16)
    arr[5:10, 5:10] = value
    Image.fromarray(arr).save(path)


TRACKS_CASES = {
    "id over 255": (lambda t: _meta(t, objects=[{"id": 300, "label": "square"}]), "1..255"),
    "id zero": (lambda t: _meta(t, objects=[{"id": 0, "label": "square"}]), "1..255"),
    "id negative": (lambda t: _meta(t, objects=[{"id": -1, "label": "square"}]), "1..255"),
    "id as text": (lambda t: _meta(t, objects=[{"id": "1", "label": "square"}]), "1..255"),
    "id as bool": (lambda t: _meta(t, objects=[{"id": True, "label": "square"}]), "1..255"),
    "id twice": (
        lambda t: _meta(t, objects=[{"id": 1, "label": "a"}, {"id": 1, "label": "b"}]),
        "twice",
    ),
    "label huge": (lambda t: _meta(t, objects=[{"id": 1, "label": "x" * 5000}]), "label"),
    "label not text": (lambda t: _meta(t, objects=[{"id": 1, "label": ["a"]}]), "label"),
    "fps NaN": (
        lambda t: (t / "objects.json").write_text(
            (t / "objects.json").read_text().replace('"fps": 10.0', '"fps": NaN')
        ),
        "fps",
    ),
    "width differs": (lambda t: _meta(t, width=W + 2), "the video is"),
    "fewer frames": (lambda t: _meta(t, num_frames=N - 1), "frames"),
    "objects.json not JSON": (lambda t: (t / "objects.json").write_bytes(b"\xff\xfe{"), "JSON"),
    "objects.json a list": (lambda t: (t / "objects.json").write_text("[]"), "JSON object"),
    "objects.json huge": (
        lambda t: (t / "objects.json").write_bytes(b" " * (17 << 20)),
        "too large",
    ),
    "objects.json links to /etc/passwd": (
        lambda t: ((t / "objects.json").unlink(), os.symlink("/etc/passwd", t / "objects.json")),
        "JSON",
    ),
    "objects.json missing": (lambda t: (t / "objects.json").unlink(), "objects.json"),
    "masks missing": (lambda t: shutil.rmtree(t / "masks"), "masks"),
    "a mask missing": (lambda t: (t / "masks" / "00007.png").unlink(), "00007.png"),
    "a mask is a folder": (
        lambda t: ((t / "masks" / "00004.png").unlink(), (t / "masks" / "00004.png").mkdir()),
        "00004.png",
    ),
    "mask holds an unlisted id": (
        lambda t: write_label_png(t / "masks" / "00003.png", np.full((H, W), 7, np.uint8)),
        "does not list",
    ),
    "16-bit mask with id 300": (lambda t: _png16(t / "masks" / "00005.png", 300), "255"),
    "RGB mask": (
        lambda t: Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(t / "masks" / "00002.png"),
        "mask",
    ),
    "mask of another size": (
        lambda t: write_label_png(t / "masks" / "00006.png", np.zeros((H, W + 1), np.uint8)),
        "differs",
    ),
    "first mask of another size": (
        lambda t: write_label_png(t / "masks" / "00000.png", np.zeros((H + 4, W), np.uint8)),
        "differs",
    ),
    "truncated mask": (
        lambda t: (t / "masks" / "00008.png").write_bytes(
            (t / "masks" / "00008.png").read_bytes()[:40]
        ),
        "00008.png",
    ),
    "decompression bomb mask": (
        lambda t: Image.fromarray(np.zeros((9000, 9000), np.uint8)).save(
            t / "masks" / "00001.png", optimize=True
        ),
        "differs",
    ),
}


@pytest.mark.parametrize("case", list(TRACKS_CASES))
def test_hostile_tracks_folders_exit_2(video, tracks, case):
    make, match = TRACKS_CASES[case]
    make(tracks)
    r = ask_tracks(video, tracks)
    assert r.returncode == 2, (case, r.returncode, r.stderr[-500:])
    line = one_line(r)
    assert match in line, line
    assert "root:" not in line  # never echoes the content of a file it was pointed at
    assert r.stdout == ""


def test_segment_with_hostile_tracks_leaves_no_output(video, tracks, tmp_path):
    _meta(tracks, objects=[{"id": 300, "label": "square"}])
    out = tmp_path / "seg"
    r = run_inproc(
        ["segment", str(video), "the square", "--tracks", str(tracks), "--out", str(out), "--quiet"]
    )
    assert r.returncode == 2 and "1..255" in one_line(r)
    assert not out.exists()
    no_partials(tmp_path)


def _det(box, **kw) -> dict:
    return {"box": box, "label": "square", "score": 0.9, **kw}


def _mask_rle(box) -> dict:
    m = np.zeros((H, W), bool)
    x1, y1, x2, y2 = (max(0, int(v)) for v in box)
    m[y1:y2, x1:x2] = True
    return encode_rle(m)


DETECTION_CASES = {
    "box fully negative": ({"0": [_det([-50, -40, -10, -5])]}, "outside"),
    "box beyond the frame": ({"0": [_det([W + 5, 0, W + 50, 20])]}, "outside"),
    "box of strings": ({"0": [_det(["1", "2", "3", "4"])]}, "four finite"),
    "box of three": ({"0": [_det([1, 2, 3])]}, "four finite"),
    "box of booleans": ({"0": [_det([True, True, 30, 30])]}, "four finite"),
    "box infinite": ('{"frames": {"0": [{"box": [0, 0, Infinity, 9]}]}}', "four finite"),
    "box reversed": ({"0": [_det([30, 30, 10, 10])]}, "reversed"),
    "box zero area": ({"0": [_det([10, 10, 10, 20])]}, "reversed"),
    "score NaN": ('{"frames": {"0": [{"box": [1, 1, 20, 20], "score": NaN}]}}', "score"),
    "score as text": ({"0": [_det([1, 1, 20, 20], score="0.9")]}, "score"),
    "score above 1": ({"0": [_det([1, 1, 20, 20], score=7)]}, "score"),
    "score negative": ({"0": [_det([1, 1, 20, 20], score=-0.1)]}, "score"),
    "label huge": ({"0": [_det([1, 1, 20, 20], label="x" * 1000)]}, "label"),
    "label a number": ({"0": [_det([1, 1, 20, 20], label=5)]}, "label"),
    "label blank": ({"0": [_det([1, 1, 20, 20], label="  ")]}, "label"),
    "frame negative": ({"-1": []}, "non-negative integer"),
    "frame as float": ({"1.0": []}, "non-negative integer"),
    "frame in exponent form": ({"1e1": []}, "non-negative integer"),
    "frame in Arabic digits": ({"\u0663": []}, "non-negative integer"),
    "frame past the end": ({str(N): []}, "outside the video"),
    "frame huge": ({"9" * 400: []}, "outside the video"),
    "frame twice": ({"1": [], "01": []}, "twice"),
    "frame not a list": ({"0": {"box": [1, 1, 2, 2]}}, "list"),
    "detection not an object": ({"0": [[1, 1, 20, 20]]}, "object"),
    "too many detections": ({"0": [_det([1, 1, 20, 20])] * 1001}, "over 1000"),
    "frames a list": ('{"frames": [[]]}', "frames"),
    "no frames": ('{"detections": {}}', "frames"),
    "deeply nested": ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    "not UTF-8": (
        b'{"frames": {"0": [{"box": [1, 1, 20, 20], "label": "\xff\xfe"}]}}',
        "not valid JSON",
    ),
    "RLE bad alphabet": (
        {"0": [_det([1, 1, 20, 20], rle={"size": [H, W], "counts": "~~~~"})]},
        "RLE",
    ),
    "RLE counts too short": (
        {"0": [_det([1, 1, 20, 20], rle={"size": [H, W], "counts": [5, 5]})]},
        "RLE",
    ),
    "RLE counts negative": (
        {"0": [_det([1, 1, 20, 20], rle={"size": [H, W], "counts": [-5, H * W + 5]})]},
        "RLE",
    ),
    "RLE wrong size": (
        {"0": [_det([1, 1, 20, 20], rle={"size": [W, H], "counts": [H * W]})]},
        "RLE",
    ),
    "RLE overflowing run": (
        {"0": [_det([1, 1, 20, 20], rle={"size": [H, W], "counts": "0" + "o" * 12 + "0"})]},
        "RLE",
    ),
    "RLE not an object": ({"0": [_det([1, 1, 20, 20], rle="abc")]}, "rle"),
}


def _write_dets(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps({"frames": content}))
    return path


@pytest.mark.parametrize("case", list(DETECTION_CASES))
def test_hostile_detections_exit_2(video, tmp_path, case):
    content, match = DETECTION_CASES[case]
    f = _write_dets(tmp_path / "d.json", content)
    out = tmp_path / "o"
    r = run_inproc(["track", str(video), "", "--detections", str(f), "--out", str(out), "--quiet"])
    assert r.returncode == 2, (case, r.returncode, r.stderr[-500:])
    line = one_line(r)
    assert match.lower() in line.lower(), line
    assert r.stdout == "" and not out.exists()
    no_partials(tmp_path)


def test_detections_file_that_is_not_a_file(video, tmp_path):
    out = tmp_path / "o"
    for path in (tmp_path, tmp_path / "missing.json", Path("/dev/null")):
        r = run_inproc(
            ["track", str(video), "", "--detections", str(path), "--out", str(out), "--quiet"]
        )
        assert r.returncode == 2 and one_line(r), r.stderr
    big = tmp_path / "big.json"
    with open(big, "wb") as f:  # sparse: costs no disk
        f.truncate(600 << 20)
    r = run_inproc(
        ["track", str(video), "", "--detections", str(big), "--out", str(out), "--quiet"]
    )
    assert r.returncode == 2 and "larger than" in one_line(r)
    assert not out.exists()


def test_boxes_partly_outside_are_clipped_and_tracked(video, tmp_path):
    frames = {
        str(i): [_det([-20, -15, 14, 30], rle=_mask_rle([0, 0, 14, 30]))] for i in range(0, N, 2)
    }
    f = _write_dets(tmp_path / "d.json", frames)
    out = tmp_path / "o"
    r = run_inproc(
        ["track", str(video), "", "--detections", str(f), "--out", str(out), "--json", "--quiet"]
    )
    assert assert_ok_or_exit_2(r, video, out) == "ok"
    assert json.loads(r.stdout)["ids"] == [1]


def test_uncompressed_rle_and_utf16_file_are_accepted(video, tmp_path):
    m = np.zeros((H, W), bool)
    m[10:30, 10:40] = True
    col = m.T.ravel()  # COCO RLE runs are column-major, starting with a run of zeros
    edges = np.flatnonzero(np.diff(np.concatenate([[0], col.astype(np.int8), [0]])))
    runs = np.diff(np.concatenate([[0], edges, [col.size]])).tolist()
    frames = {
        str(i): [_det([10, 10, 40, 30], rle={"size": [H, W], "counts": [int(c) for c in runs]})]
        for i in range(0, N, 3)
    }
    f = tmp_path / "d.json"
    f.write_bytes(json.dumps({"frames": frames}).encode("utf-16"))
    out = tmp_path / "o"
    r = run_inproc(
        ["track", str(video), "", "--detections", str(f), "--out", str(out), "--json", "--quiet"]
    )
    assert assert_ok_or_exit_2(r, video, out) == "ok"
    from vidagent.io.tracks import open_tracks

    lm = open_tracks(out).label_map(0)
    assert (lm > 0).sum() == m.sum() and (lm[m] > 0).all()


def test_more_than_255_objects_at_once(tmp_path, caplog):
    """300 objects in every frame: ids stay 1..255, the run completes, the rest is said on stderr."""
    w, h = 256, 192
    video = Path(
        write_video(
            tmp_path / "many.mp4", (np.full((h, w, 3), 100, np.uint8) for _ in range(4)), 10
        )
    )
    frames = {}
    for t in range(4):
        items = []
        for k in range(300):
            x, y = (k % 20) * 12, (k // 20) * 12
            m = np.zeros((h, w), bool)
            m[y : y + 10, x : x + 10] = True
            items.append({"box": [x, y, x + 10, y + 10], "label": "dot", "rle": encode_rle(m)})
        frames[str(t)] = items
    f = _write_dets(tmp_path / "d.json", frames)
    out = tmp_path / "o"
    r = run_inproc(
        ["track", str(video), "", "--detections", str(f), "--out", str(out), "--json", "--quiet"]
    )
    assert assert_ok_or_exit_2(r, video, out) == "ok"
    ids = json.loads(r.stdout)["ids"]
    assert len(ids) == 255 and min(ids) == 1 and max(ids) == 255
    assert "255" in r.stderr + caplog.text  # a warning, not a failure


@pytest.mark.parametrize(
    "prep,match",
    [
        (lambda d: None, "no PNG"),  # empty folders
        (lambda d: _pngs(d / "pred", 2, (16, 16)) or shutil.rmtree(d / "gt"), "gt"),
        (lambda d: _pngs(d / "pred", 3, (16, 16)) or _pngs(d / "gt", 3, (16, 20)), "size"),
        (
            lambda d: (
                _pngs(d / "pred", 4, (16, 16))
                or _pngs(d / "gt", 4, (16, 16))
                or (d / "gt" / "00001.png").write_bytes(b"bad")
            ),
            "00001.png",
        ),
        (lambda d: _pngs(d / "pred", 3, (16, 16)) or _pngs(d / "gt", 4, (16, 16)), "00003.png"),
        (
            lambda d: _pngs(d / "pred", 2, (16, 16)) or (d / "gt" / "objects.json").write_text("{"),
            "JSON",
        ),
    ],
)
def test_hostile_eval_folders_exit_2(tmp_path, prep, match):
    (tmp_path / "pred").mkdir()
    (tmp_path / "gt").mkdir()
    prep(tmp_path)
    r = run_inproc(["eval", str(tmp_path / "pred"), str(tmp_path / "gt"), "--json"])
    assert r.returncode == 2, r.stderr
    assert match.lower() in one_line(r).lower()


def _pngs(folder: Path, n: int, size: tuple[int, int]) -> None:
    folder.mkdir(exist_ok=True)
    for i in range(n):
        write_label_png(folder / f"{i:05d}.png", np.zeros(size, np.uint8))


@pytest.mark.parametrize(
    "text,match",
    [
        ("\udcff\udcfe", "empty"),  # undecodable bytes on the command line (surrogate-escaped)
        ("\x1b\x07\x7f\x00\t", "empty"),
        ("\u200b \u2028 \ufeff", "empty"),
        ("how many " + "dogs " * 1000, "characters"),
    ],
)
def test_hostile_question_arguments_exit_2_before_models(video, tmp_path, text, match):
    for args in (
        ["ask", str(video), text],
        ["parse", text],
        ["segment", str(video), text, "--out", str(tmp_path / "o")],
        ["track", str(video), text, "--out", str(tmp_path / "o")],
    ):
        r = run_inproc(args + ["--quiet"])
        assert r.returncode == 2, (args[0], r.stderr)
        assert match in one_line(r)
        assert not (tmp_path / "o").exists()


def test_output_folder_that_escapes_is_just_a_path(video, tmp_path, tracks):
    # --out is the user's own choice; a failing run must not leave anything at the escaped place
    out = tmp_path / "a" / ".." / ".." / f"{tmp_path.name}-escaped"
    dets = _write_dets(tmp_path / "bad.json", {"0": [_det([1, 1, 2])]})
    r = run_inproc(
        ["track", str(video), "", "--detections", str(dets), "--out", str(out), "--quiet"]
    )
    assert r.returncode == 2 and not (tmp_path.parent / f"{tmp_path.name}-escaped").exists()
    assert not [p for p in tmp_path.parent.iterdir() if "escaped" in p.name]
