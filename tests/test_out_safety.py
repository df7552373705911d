"""A command never overwrites what it reads (CONTRACT.md): an --out that is, contains or lies
inside one of its inputs is refused with exit 2 before any work, symlinks resolved."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from test_cli import ROOT, one_line_error, run_cli

from vidagent.io.paths import check_out_not_input, overlap
from vidagent.errors import InputError

EXAMPLES = ROOT / "vidagent" / "examples"


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(folder)).encode() + f.read_bytes())
    return h.hexdigest()


@pytest.fixture
def scene(tmp_path):
    """tmp/clip.mp4 and tmp/out/all (a tracks folder of it, as a previous `track` wrote)."""
    video = tmp_path / "clip.mp4"
    shutil.copyfile(EXAMPLES / "shapes.mp4", video)
    tracks = tmp_path / "out" / "all"
    shutil.copytree(EXAMPLES / "shapes_tracks", tracks)
    return video, tracks


def test_overlap_kinds(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    os.symlink(tmp_path / "a", tmp_path / "link")
    assert overlap(tmp_path / "a", tmp_path / "a") == "is"
    assert overlap(tmp_path / "link", tmp_path / "a") == "is"
    assert overlap(tmp_path, tmp_path / "a" / "b") == "contains"
    assert overlap(tmp_path / "link" / "b" / "new", tmp_path / "a") == "lies inside"
    assert overlap(tmp_path / "a2", tmp_path / "a") is None  # a name prefix is not a parent
    check_out_not_input(tmp_path / "elsewhere", [("the video", tmp_path / "a"), ("x", None)])
    with pytest.raises(InputError, match="the video"):
        check_out_not_input(tmp_path, [("the video", tmp_path / "a" / "b")])


@pytest.mark.parametrize(
    "out",
    [
        lambda v, t: t,  # the user's example: --tracks out/all --out out/all
        lambda v, t: t / "sel",  # inside the tracks folder
        lambda v, t: t.parent,  # holds the tracks folder
        lambda v, t: v.parent,  # holds the video
        lambda v, t: v,  # is the video
    ],
    ids=["is-tracks", "inside-tracks", "contains-tracks", "contains-video", "is-video"],
)
def test_segment_refuses_an_out_that_overlaps_an_input(scene, out):
    video, tracks = scene
    before = _digest(tracks)
    r = run_cli("segment", str(video), "the ball", "--tracks", str(tracks), "--out", str(out(video, tracks)))
    assert r.returncode == 2, r.stderr
    assert "never overwrites what it reads" in one_line_error(r)
    assert _digest(tracks) == before and video.read_bytes() == (EXAMPLES / "shapes.mp4").read_bytes()


def test_a_symlink_to_the_tracks_is_the_tracks(scene, tmp_path):
    video, tracks = scene
    link = tmp_path / "link"
    os.symlink(tracks, link)
    before = _digest(tracks)
    r = run_cli("segment", str(video), "-", "--tracks", str(tracks), "--out", str(link), stdin="the ball\n")
    assert r.returncode == 2 and "is the --tracks folder" in one_line_error(r)
    assert _digest(tracks) == before


def test_track_refuses_an_out_holding_its_detections(scene, tmp_path):
    video, _ = scene
    out = tmp_path / "run"
    out.mkdir()
    dets = out / "dets.json"
    dets.write_text(json.dumps({"frames": {"0": []}}))
    r = run_cli("track", str(video), "ball", "--detections", str(dets), "--out", str(out))
    assert r.returncode == 2 and "contains the --detections file" in one_line_error(r)
    assert json.loads(dets.read_text()) == {"frames": {"0": []}}


def test_tracks_saying_a_billion_frames_are_refused(scene):
    video, tracks = scene
    meta = json.loads((tracks / "objects.json").read_text())
    meta["num_frames"] = 1_000_000_000
    (tracks / "objects.json").write_text(json.dumps(meta))
    r = run_cli("ask", str(video), "how many balls are there?", "--tracks", str(tracks))
    assert r.returncode == 2 and "1000000000 frames" in one_line_error(r)


def test_annotate_refuses_an_out_inside_its_manifest_or_holding_a_video(scene, tmp_path):
    video, _ = scene
    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copyfile(video, folder / "a.mp4")
    r = run_cli("annotate", str(folder), "--prompt", "ball", "--out", str(folder / "ann"))
    assert r.returncode == 2 and "lies inside the manifest" in one_line_error(r)
    assert sorted(p.name for p in folder.iterdir()) == ["a.mp4"]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"video": str(folder / "a.mp4"), "id": "a"}) + "\n")
    r = run_cli("annotate", str(manifest), "--prompt", "ball", "--out", str(folder))
    assert r.returncode == 2 and "contains the video of a" in one_line_error(r)
    assert sorted(p.name for p in folder.iterdir()) == ["a.mp4"]
