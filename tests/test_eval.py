from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vidagent.errors import InputError
from vidagent.evaluation import (
    boundary_map,
    evaluate,
    f_measure,
    j_measure,
    tracking_scores,
)
from vidagent.testing.scenes import default_scene, save_tracks_folder

# DAVIS 2017 val results of two published methods, in the shared/ folder beside the checkout
DAVIS = Path(__file__).resolve().parent.parent.parent / "shared" / "davis2017-results"


def _write_pngs(d: Path, masks) -> Path:
    d.mkdir(parents=True)
    for i, m in enumerate(masks):
        Image.fromarray(np.asarray(m, np.uint8)).save(d / f"{i:05d}.png")
    return d


def test_j_and_f_basics():
    a = np.zeros((100, 100), bool)
    a[20:60, 20:60] = True
    assert j_measure(a, a) == 1.0 and f_measure(a, a) == 1.0
    empty = np.zeros_like(a)
    assert j_measure(empty, empty) == 1.0 and f_measure(empty, empty) == 1.0
    assert j_measure(empty, a) == 0.0 and f_measure(empty, a) == 0.0
    b = np.roll(a, 1, axis=1)  # one pixel off: inside the boundary tolerance (ceil(0.008*141)=2)
    assert f_measure(b, a) == 1.0
    assert j_measure(b, a) == pytest.approx(40 * 39 / (40 * 41))
    c = np.roll(a, 10, axis=1)  # far beyond tolerance: only the top/bottom edges overlap
    assert 0.3 < f_measure(c, a) < 0.8


def test_boundary_is_one_pixel_outline():
    a = np.zeros((10, 10), bool)
    a[2:6, 2:6] = True
    b = boundary_map(a)
    assert b.sum() > 0 and not b[3, 3]  # interior is not boundary


def test_evaluate_identical_and_shifted(tmp_path):
    v = default_scene(num_frames=8, seed=0)
    gt = save_tracks_folder(tmp_path / "gt", v.label_maps, v.labels)
    r = evaluate(gt, gt)
    assert r["J"] == 1.0 and r["F"] == 1.0 and r["JF"] == 1.0 and r["IDF1"] == 1.0
    assert [o["gt_id"] for o in r["objects"]] == [1, 2, 3, 4]
    # renumbered prediction: Hungarian matching finds the pairs
    perm = np.array([0, 3, 4, 1, 2], np.uint8)
    pred = _write_pngs(tmp_path / "pred", perm[v.label_maps])
    r2 = evaluate(pred, gt)
    assert r2["J"] == 1.0
    assert {o["gt_id"]: o["pred_id"] for o in r2["objects"]} == {1: 3, 2: 4, 3: 1, 4: 2}


def test_unmatched_reference_scores_against_empty(tmp_path):
    gt = np.zeros((4, 32, 32), np.uint8)
    gt[:, 4:12, 4:12] = 1
    gt[2:, 20:28, 20:28] = 2  # object 2 visible on frames 2, 3 only
    pred = np.where(gt == 1, 1, 0).astype(np.uint8)
    r = evaluate(_write_pngs(tmp_path / "p", pred), _write_pngs(tmp_path / "g", gt))
    by = {o["gt_id"]: o for o in r["objects"]}
    assert by[1]["J"] == 1.0 and by[2]["pred_id"] is None
    assert by[2]["J"] == pytest.approx(0.5)  # frames 0, 1 both empty count 1
    assert r["J"] == pytest.approx(0.75)


def test_bad_folders(tmp_path):
    with pytest.raises(InputError):
        evaluate(tmp_path / "nope", tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError):
        evaluate(tmp_path / "empty", tmp_path / "empty")
    a = _write_pngs(tmp_path / "a", np.zeros((2, 16, 16), np.uint8))
    b = _write_pngs(tmp_path / "b", np.zeros((2, 16, 20), np.uint8))
    with pytest.raises(InputError, match="size"):
        evaluate(a, b)
    rgb = tmp_path / "rgb"
    rgb.mkdir()
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(rgb / "00000.png")
    with pytest.raises(InputError, match="8-bit"):
        evaluate(rgb, rgb)
    c = _write_pngs(tmp_path / "c", np.zeros((3, 16, 16), np.uint8))
    (c / "00001.png").rename(c / "x.png")
    with pytest.raises(InputError):
        evaluate(a, c)


@pytest.mark.skipif(not DAVIS.exists(), reason="DAVIS 2017 results not present")
def test_davis_methods_against_each_other():
    osvos = DAVIS / "semi-supervised/osvos/dog"
    rvos = DAVIS / "unsupervised/rvos/dog"
    same = evaluate(osvos, osvos)
    assert same["J"] == 1.0 and same["F"] == 1.0
    r = evaluate(rvos, osvos)  # a published unsupervised method vs a semi-supervised one
    assert 0.5 < r["J"] < 0.95 and 0.5 < r["F"] < 0.95
    assert r["objects"][0]["pred_id"] is not None
    assert 0.0 <= r["IDF1"] <= 1.0


def test_tracking_scores_id_switch():
    gt = np.zeros((4, 16, 16), np.uint8)
    gt[:, 2:8, 2:8] = 1
    pred = gt.copy()
    pred[3][pred[3] == 1] = 2  # id switch on the last frame
    s = tracking_scores(pred, gt)
    assert s["objects"][0]["id_consistency"] == pytest.approx(0.75)
    assert s["J"] == pytest.approx(0.75)


def test_void_pixels_are_ignored(tmp_path):
    gt = np.zeros((2, 32, 32), np.uint8)
    gt[:, 4:12, 4:12] = 1
    gt[:, 12:16, 4:12] = 255  # void band next to the object (DAVIS convention)
    pred = np.zeros_like(gt)
    pred[:, 4:16, 4:12] = 1  # spills over the void band only
    r = evaluate(_write_pngs(tmp_path / "p", pred), _write_pngs(tmp_path / "g", gt))
    assert [o["gt_id"] for o in r["objects"]] == [1]
    assert r["J"] == 1.0
