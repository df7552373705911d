"""``color_shift`` (the search behind the tracker's snap between anchors) against a brute-force
evaluation of every placement: same best shift, same similarities, also at the frame's edges."""

from __future__ import annotations

import numpy as np
import pytest

from vidagent.tracking.labels import color_shift


def _brute(lab, color, crop, origin, reach, blocked, scale=30.0):
    h, w = lab.shape[:2]
    d = lab.astype(np.float64) - np.asarray(color, np.float64)
    d[..., 0] *= 0.5
    dist = np.minimum(np.sqrt((d * d).sum(-1)), scale)
    dist[blocked] = scale
    ys, xs = np.nonzero(crop)
    x0, y0 = origin
    r = int(np.ceil(reach))

    def cost(dx, dy):
        yy, xx = ys + y0 + dy, xs + x0 + dx
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        vals = np.full(len(ys), scale)
        vals[inside] = dist[yy[inside], xx[inside]]
        return vals.mean()

    costs = {(dx, dy): cost(dx, dy) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
             if np.hypot(dx, dy) <= reach}  # fmt: skip
    best = min(costs.values())
    return costs, best, cost(0, 0)


@pytest.mark.parametrize("seed", range(6))
def test_color_shift_matches_every_placement_evaluated(seed):
    rng = np.random.default_rng(seed)
    h, w = 60, 80
    lab = rng.uniform(0, 100, (h, w, 3)).astype(np.float32)
    ch, cw = (int(v) for v in rng.integers(4, 15, 2))
    # near an edge on odd seeds: placements reach outside the frame
    y0 = 0 if seed % 2 else int(rng.integers(10, h - ch - 10))
    x0 = w - cw if seed % 2 else int(rng.integers(10, w - cw - 10))
    crop = rng.random((ch, cw)) < 0.7
    crop[0, 0] = True
    color = lab[y0 + 2, x0 + 1] + 3.0
    blocked = rng.random((h, w)) < 0.05
    reach = float(rng.uniform(2, 9))
    shift, sim, here = color_shift(lab, color, crop, (x0, y0), reach, blocked)
    costs, best, cost_here = _brute(lab, color, crop, (x0, y0), reach, blocked)
    assert costs[(int(shift[0]), int(shift[1]))] == pytest.approx(best, abs=1e-4)
    assert sim == pytest.approx(1 - best / 30.0, abs=1e-4)
    assert here == pytest.approx(1 - cost_here / 30.0, abs=1e-4)
