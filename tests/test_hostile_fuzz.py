"""Fuzzing with hypothesis: the plan validator, the video reader (mutated real files), label PNGs,
the app's zip unpacker and the annotate manifest. Each either returns well-formed data or raises
the one error type it documents; nothing else escapes, nothing is written outside its folder."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from vidagent.errors import InputError
from vidagent.query.plan import TASKS, Plan

pytestmark = [pytest.mark.hostile, pytest.mark.filterwarnings("ignore:Duplicate name")]

FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=16,
)
PLAN_KEYS = list(Plan.model_fields)
plan_like = st.fixed_dictionaries(
    {
        "task": st.sampled_from(TASKS) | json_values,
        "targets": st.lists(st.text(max_size=30) | json_values, max_size=10) | json_values,
    },
    optional={
        k: json_values | st.dictionaries(st.text(max_size=8), json_values, max_size=3)
        for k in PLAN_KEYS
        if k not in ("task", "targets")
    },
)


@settings(max_examples=200, deadline=None)
@given(doc=json_values | plan_like)
def test_plan_validator_fuzz(doc):
    """What a language model might emit, validated: a Plan or a pydantic ValidationError."""
    try:
        plan = Plan.model_validate(doc)
    except ValidationError:
        return
    assert plan.task in TASKS
    assert all(isinstance(t, str) and t for t in plan.targets)
    again = Plan.model_validate(plan.model_dump())  # a valid plan stays valid and unchanged
    assert again == plan
    json.dumps(plan.to_json())  # serialisable for --json


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400))
def test_plan_validator_on_model_text(text):
    """Raw model output parsed as JSON first (as a repair step would)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return
    try:
        Plan.model_validate(doc)
    except ValidationError:
        pass


# ----------------------------------------------------------------------------- video reader
@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    from test_hostile_videos import square_frames

    from vidagent.video import write_video

    d = tmp_path_factory.mktemp("fuzzclips")
    return {
        ext: Path(write_video(d / f"c.{ext}", square_frames(10, 48, 32), 10.0)).read_bytes()
        for ext in ("mp4", "mkv")
    }


mutations = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=30)


@settings(max_examples=80, deadline=None, suppress_health_check=FIXTURE_OK)
@given(ext=st.sampled_from(["mp4", "mkv"]), cut=st.floats(0.0, 1.0), muts=mutations)
def test_video_reader_fuzz(tmp_path, clips, ext, cut, muts):
    from vidagent.video import open_video

    data = bytearray(clips[ext])
    for pos, val in muts:
        data[int(pos * len(data))] = val
    data = bytes(data[: max(0, int(len(data) * cut))]) if cut < 0.999 else bytes(data)
    path = tmp_path / f"f.{ext}"
    path.write_bytes(data)
    try:
        reader = open_video(path)
        frames = list(reader.frames())
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    info = reader.info
    assert len(frames) == info.num_frames >= 1
    assert [i for i, _ in frames] == list(range(info.num_frames))
    for _, f in frames:
        assert f.shape == (info.height, info.width, 3) and f.dtype == np.uint8
    assert 0 < info.fps <= 1000


# ----------------------------------------------------------------------------- label PNGs
@pytest.fixture(scope="module")
def png_bytes() -> bytes:
    from PIL import Image

    from vidagent.io.masks import davis_palette

    lm = np.zeros((24, 32), np.uint8)
    lm[4:12, 5:20] = 3
    im = Image.fromarray(lm, mode="P")
    im.putpalette(davis_palette())
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


@settings(max_examples=120, deadline=None, suppress_health_check=FIXTURE_OK)
@given(muts=mutations, cut=st.floats(0.0, 1.0))
def test_label_png_reader_fuzz(tmp_path, png_bytes, muts, cut):
    from vidagent.io.masks import png_size, read_label_png

    data = bytearray(png_bytes)
    for pos, val in muts:
        data[int(pos * len(data))] = val
    if cut < 0.95:
        data = data[: int(len(data) * cut)]
    path = tmp_path / "m.png"
    path.write_bytes(bytes(data))
    try:
        arr = read_label_png(path)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert arr.dtype == np.uint8 and arr.ndim == 2
    try:
        w, h = png_size(path)
    except InputError:
        return
    assert w > 0 and h > 0


# ----------------------------------------------------------------------------- zip unpacking
name_parts = st.sampled_from(
    [
        "..",
        ".",
        "",
        "masks",
        "objects.json",
        "rle.json",
        "00000.png",
        "t",
        "C:",
        "\\..",
        "a\\..\\..",
        "/",
        "~",
        "%2e%2e",
    ]
)
zip_names = st.lists(name_parts, min_size=1, max_size=5).map("/".join)


@settings(max_examples=120, deadline=None, suppress_health_check=FIXTURE_OK)
@given(names=st.lists(zip_names, min_size=1, max_size=6), link=st.booleans())
def test_zip_unpacker_never_writes_outside(tmp_path, names, link):
    import shutil
    import stat

    from vidagent.app import unpack_tracks_zip

    work = tmp_path / "w"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    zpath = work / "u.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for k, name in enumerate(names):
            if link and k == 0:
                info = zipfile.ZipInfo(name or "x")
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, "/etc/passwd")
            else:
                zf.writestr(name or "x", b"{}")
    dest = work / "session" / "tracks"
    dest.parent.mkdir()
    before = {p for p in work.rglob("*")}
    try:
        unpack_tracks_zip(zpath, dest)
    except InputError as exc:
        assert "\n" not in str(exc)
    created = {p for p in work.rglob("*")} - before
    for p in created:
        assert p.resolve().is_relative_to(dest.resolve()), p
        assert not p.is_symlink()
        rel = p.relative_to(dest).as_posix()
        assert rel in (".", "objects.json", "rle.json", "masks") or (
            rel.startswith("masks/") and rel.endswith(".png")
        )


# ----------------------------------------------------------------------------- annotate manifest
manifest_lines = st.one_of(
    st.text(max_size=30),
    st.builds(
        lambda v, i, d: json.dumps(
            {k: x for k, x in (("video", v), ("id", i), ("detections", d)) if x is not None}
        ),
        st.text(max_size=20) | json_values,
        st.none() | st.text(max_size=20) | json_values,
        st.none() | st.text(max_size=12),
    ),
)


@settings(max_examples=120, deadline=None, suppress_health_check=FIXTURE_OK)
@given(lines=st.lists(manifest_lines, max_size=6))
def test_manifest_ids_never_escape_the_output(tmp_path, lines):
    from vidagent.annotate import read_manifest

    m = tmp_path / "manifest.txt"
    m.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass") if all(
        "\ud800" > c or c > "\udfff" for line in lines for c in line
    ) else m.write_text("x.mp4")
    try:
        jobs = read_manifest(m)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    out = (tmp_path / "out").resolve()
    ids = [j.id for j in jobs]
    assert len(set(ids)) == len(ids)
    for i in ids:
        assert (out / i).resolve().parent == out, i
        assert "/" not in i and "\\" not in i and "\n" not in i and "\x00" not in i, repr(i)


@pytest.mark.parametrize("name", ["abc\n", "../x", "a/b", "..", "", "a\x00b", "-x", "x" * 200])
def test_manifest_refuses_ids_that_are_not_plain_names(tmp_path, name):
    from vidagent.annotate import read_manifest

    m = tmp_path / "manifest.jsonl"
    m.write_text(json.dumps({"video": "x.mp4", "id": name}) + "\n")
    with pytest.raises(InputError, match="id"):
        read_manifest(m)
