"""The web app's pieces without a server: zips of tracks, visibility, timeline, sessions, errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gradio")

from vidagent.app import (
    Session,
    Sessions,
    draw_timeline,
    one_line,
    unpack_tracks_zip,
    visibility,
    zip_tracks,
)
from vidagent.errors import InputError, WeightsMissingError
from vidagent.io.tracks import TracksWriter, open_tracks
from vidagent.types import ObjectInfo


def write_tracks(
    folder: Path,
    visible: dict[int, range],
    labels: dict[int, str],
    T: int = 10,
    W: int = 40,
    H: int = 30,
) -> Path:
    """A tracks folder where object i is an 6x6 square at x = 6 * (i - 1) on the frames ``visible[i]``."""
    with TracksWriter(folder, 10.0, W, H, T) as w:
        for t in range(T):
            lm = np.zeros((H, W), np.uint8)
            for i, frames in visible.items():
                if t in frames:
                    lm[5:11, 6 * (i - 1) : 6 * (i - 1) + 6] = i
            w.write(t, lm)
        w.close([ObjectInfo(i, labels[i]) for i in sorted(labels)])
    return folder


def read_visibility(folder: Path):
    """The timeline's visibility from the scene memory of a tracks folder."""
    from vidagent.memory import build_memory

    reader = open_tracks(folder)
    memory = build_memory((lm for _, lm in reader.label_maps()), reader.meta.fps,
                          reader.meta.labels(), num_frames=reader.num_frames)
    return visibility(memory)


def test_zip_round_trip(tmp_path):
    src = write_tracks(tmp_path / "t", {1: range(10), 2: range(3, 6)}, {1: "ball", 2: "box"})
    z = zip_tracks(src, tmp_path / "t.zip", "clip_tracks")
    names = zipfile.ZipFile(z).namelist()
    assert "clip_tracks/objects.json" in names and "clip_tracks/masks/00009.png" in names
    out = unpack_tracks_zip(z, tmp_path / "u")
    reader = open_tracks(out)
    assert reader.meta.labels() == {1: "ball", 2: "box"}
    for (_, a), (_, b) in zip(open_tracks(src).label_maps(), reader.label_maps()):
        np.testing.assert_array_equal(a, b)


def test_zip_with_files_at_top_is_accepted(tmp_path):
    src = write_tracks(tmp_path / "t", {1: range(10)}, {1: "ball"})
    z = tmp_path / "flat.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(src / "objects.json", "objects.json")
        for p in sorted((src / "masks").iterdir()):
            zf.write(p, f"masks/{p.name}")
        zf.writestr("notes.txt", "ignored")
    out = unpack_tracks_zip(z, tmp_path / "u")
    assert open_tracks(out).num_frames == 10
    assert not (out / "notes.txt").exists()


@pytest.mark.parametrize(
    "members, message",
    [
        ({"readme.txt": "x"}, "one objects.json"),
        ({"a/objects.json": "{}", "b/objects.json": "{}"}, "one objects.json"),
        ({"objects.json": "{}", "masks/../../evil.png": "x"}, "unsafe path"),
    ],
)
def test_bad_zips_are_refused(tmp_path, members, message):
    z = tmp_path / "bad.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(InputError, match=message):
        unpack_tracks_zip(z, tmp_path / "u")
    assert not (tmp_path / "evil.png").exists()


def test_not_a_zip_is_refused(tmp_path):
    f = tmp_path / "x.zip"
    f.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a zip"):
        unpack_tracks_zip(f, tmp_path / "u")


def test_visibility_and_evidence(tmp_path):
    src = write_tracks(
        tmp_path / "t", {1: range(10), 2: range(3, 6), 3: range(0)}, {1: "ball", 2: "box", 3: "cup"}
    )
    vis = read_visibility(src)
    assert vis.ids == [1, 2, 3]
    assert vis.visible.sum(axis=1).tolist() == [10, 3, 0]
    rows = {r["id"]: r for r in vis.evidence()}
    assert rows[2] == {
        "id": 2,
        "label": "box",
        "first_frame": 3,
        "last_frame": 5,
        "first_time": 0.3,
        "last_time": 0.5,
    }
    assert rows[3]["first_frame"] is None


def test_timeline_draws_a_bar_per_visible_stretch(tmp_path):
    from vidagent.overlay import id_colors

    src = write_tracks(tmp_path / "t", {1: range(10), 2: range(3, 6)}, {1: "ball", 2: "box"})
    img = np.asarray(draw_timeline(read_visibility(src), highlight={2}, width=600))
    assert img.ndim == 3 and img.shape[1] == 600
    for i, share in ((1, 1.0), (2, 0.3)):  # bar length in proportion to the visible frames
        hits = np.all(img == id_colors()[i], axis=-1)
        cols = np.flatnonzero(hits.any(axis=0))
        assert len(cols) > 0
        assert abs((cols[-1] - cols[0] + 1) / (600 - 170 - 20) - share) < 0.03


def test_timeline_without_objects(tmp_path):
    src = write_tracks(tmp_path / "t", {}, {})
    img = np.asarray(draw_timeline(read_visibility(src)))
    assert img.std() > 0  # axis and "no objects" text


def test_one_line_messages():
    assert one_line(InputError("bad\nvideo")) == "bad video"
    w = WeightsMissingError("SAM weights", "vidagent models download --profile cpu")
    assert "vidagent models download --profile cpu" in one_line(w)
    msg = one_line(RuntimeError("boom\n  at line 3"))
    assert msg == "unexpected error (RuntimeError): boom at line 3"
    assert len(one_line(ValueError("x" * 5000))) <= 300


class FakeClosable:
    closed = 0

    def close(self):
        FakeClosable.closed += 1


def test_sessions_are_separate_and_cleaned_up(tmp_path):
    sessions = Sessions(tmp_path, idle_s=3600, max_sessions=2)
    a, b = sessions.get("a"), sessions.get("b")
    assert a is sessions.get("a") and a.dir != b.dir and a.dir.is_dir() and b.dir.is_dir()
    a.agent_for("cpu", lambda p: FakeClosable())
    (a.dir / "file").write_text("x")
    sessions.close("a")
    assert not a.dir.exists() and FakeClosable.closed == 1 and len(sessions) == 1
    # over capacity: the least recently used idle session goes
    sessions.get("c")
    d = sessions.get("d")
    assert len(sessions) == 2 and not b.dir.exists() and d.dir.is_dir()
    sessions.idle_s = 0
    sessions.sweep()
    assert len(sessions) == 0 and not any(tmp_path.iterdir())


def test_running_session_is_not_swept(tmp_path):
    sessions = Sessions(tmp_path, idle_s=0)
    s = sessions.get("a")
    with s.lock:
        sessions.sweep()
        sessions.close("a")
        assert s.dir.is_dir()
    sessions.sweep()
    assert not s.dir.exists()


def test_profile_change_makes_a_new_agent(tmp_path):
    s = Session("x", tmp_path)
    made = []
    first = s.agent_for("cpu", lambda p: made.append(p) or FakeClosable())
    assert s.agent_for("cpu", lambda p: made.append(p) or FakeClosable()) is first
    s.agent_for("gpu", lambda p: made.append(p) or FakeClosable())
    assert made == ["cpu", "gpu"]


def test_objects_json_of_zip_is_the_tracks_format(tmp_path):
    src = write_tracks(tmp_path / "t", {1: range(10)}, {1: "ball"})
    z = zip_tracks(src, tmp_path / "t.zip", "t")
    meta = json.loads(zipfile.ZipFile(z).read("t/objects.json"))
    assert meta["objects"] == [{"id": 1, "label": "ball"}] and meta["num_frames"] == 10


def test_sweeper_thread_closes_idle_sessions(tmp_path):
    import time

    sessions = Sessions(tmp_path, idle_s=0.05)
    s = sessions.get("a")
    thread = sessions.start_sweeper(every_s=0.02)
    for _ in range(200):
        if not s.dir.exists():
            break
        time.sleep(0.01)
    assert not s.dir.exists() and len(sessions) == 0
    sessions.close_all()
    thread.join(1)
    assert not thread.is_alive()


def test_old_runs_are_pruned_but_reused_outputs_kept(tmp_path):
    s = Session("x", tmp_path)
    for k in range(1, 8):
        (tmp_path / f"run-{k:03d}" / "tracks").mkdir(parents=True)
    s.outputs[1] = (tmp_path / "run-002" / "tracks", None, None)
    s.prune_runs(keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run-002",
        "run-005",
        "run-006",
        "run-007",
    ]
