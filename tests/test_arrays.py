"""vidagent.arrays: the occupied-box versions of np.nonzero and find_objects give exactly the
whole-frame results."""

import numpy as np
from scipy import ndimage

from vidagent.arrays import find_objects, nonzero, occupied_box


def _label_maps(n=200, seed=1):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        a = np.zeros((h, w), np.uint16)
        for _ in range(int(rng.integers(0, 4))):
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            a[y : y + int(rng.integers(1, 9)), x : x + int(rng.integers(1, 9))] = rng.integers(1, 6)
        yield a


def test_nonzero_is_numpys():
    for a in _label_maps():
        for arr in (a, a > 2, a.astype(np.uint8)):
            want, got = np.nonzero(arr), nonzero(arr)
            assert len(got) == 2
            for w, g in zip(want, got):
                assert g.dtype == w.dtype and np.array_equal(g, w)


def test_find_objects_is_scipys():
    for a in _label_maps():
        assert find_objects(a) == ndimage.find_objects(a)


def test_occupied_box():
    a = np.zeros((6, 9), np.uint8)
    assert occupied_box(a) is None
    a[2, 3] = a[4, 7] = 1
    assert occupied_box(a) == (2, 5, 3, 8)
