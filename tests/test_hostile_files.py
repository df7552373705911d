"""Fuzzing the file readers: whatever bytes or JSON arrive, the answer is data or InputError."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vidagent.errors import InputError
from vidagent.io.detections import load_detections
from vidagent.io.masks import decode_rle, rle_string_counts
from vidagent.io.tracks import open_tracks, validate_all, TracksWriter
from vidagent.types import ObjectInfo

pytestmark = pytest.mark.hostile

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
det_entry = st.fixed_dictionaries(
    {"box": st.one_of(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=5),
                      st.lists(st.integers(-50, 100), min_size=4, max_size=4), json_values)},
    optional={"label": st.one_of(st.text(max_size=10), json_values), "score": json_values,
              "rle": st.one_of(json_values, st.fixed_dictionaries({"size": json_values, "counts": st.text(max_size=12)}))},
)
det_docs = st.one_of(
    json_values,
    st.fixed_dictionaries({"frames": st.dictionaries(
        st.one_of(st.integers(-3, 12).map(str), st.text(max_size=4)),
        st.one_of(st.lists(det_entry, max_size=3), json_values), max_size=4)}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=det_docs)
def test_detections_reader_never_crashes(tmp_path, doc):
    p = tmp_path / "d.json"
    p.write_text(json.dumps(doc))
    try:
        d = load_detections(p, 10, 32, 24)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    for k in d:  # whatever was accepted decodes to well-formed detections
        det = d[k]
        assert 0 <= k < 10
        assert np.isfinite(det.boxes).all()
        assert (det.boxes[:, 2] > det.boxes[:, 0]).all() and (det.boxes[:, 3] > det.boxes[:, 1]).all()
        if det.masks is not None:
            assert det.masks.shape[1:] == (24, 32)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40), h=st.integers(1, 30), w=st.integers(1, 30))
def test_rle_strings_never_crash_the_decoder(text, h, w):
    try:
        counts = rle_string_counts(text)
    except ValueError:
        counts = None
    try:
        m = decode_rle({"size": [h, w], "counts": text}, (h, w))
    except InputError:
        return
    assert counts is not None and sum(counts) == h * w and m.shape == (h, w)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(meta=json_values | st.fixed_dictionaries(
    {"fps": json_values, "width": json_values, "height": json_values, "num_frames": json_values,
     "objects": st.lists(st.fixed_dictionaries({"id": json_values, "label": json_values}), max_size=3) | json_values}))
def test_objects_json_fuzz(tmp_path, meta):
    d = tmp_path / "t"
    (d / "masks").mkdir(parents=True, exist_ok=True)
    (d / "objects.json").write_text(json.dumps(meta))
    try:
        r = open_tracks(d)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert r.meta.width > 0 and all(1 <= o.id <= 255 for o in r.meta.objects)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_corrupt_mask_png_bytes(tmp_path, data):
    out = tmp_path / "t"
    if not out.exists():
        with TracksWriter(out, 10, 8, 6, 2, rle=False) as w:
            w.write(0, np.zeros((6, 8), np.uint8))
            w.write(1, np.ones((6, 8), np.uint8))
            w.close([ObjectInfo(1, "x")])
    (out / "masks" / "00001.png").write_bytes(data)
    with pytest.raises(InputError):
        validate_all(open_tracks(out))
