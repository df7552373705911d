"""The vidagent run of ``vidagent bench`` alone (no baselines), once per lever setting, side by
side in one process: seconds and CPU seconds, the stages, and the model calls of each.

    python scripts/stage_table.py base= last=refresh_last:0 reuse=reuse_box_iou:0.85
    python scripts/stage_table.py --reps 2 base= noprefetch=prefetch:0

NAME=KEY:VALUE,KEY:VALUE sets bench levers as ``vidagent bench --set`` does (``det_size``,
``sam_size`` or any tracker setting) on the ``cpu`` profile. On a loaded machine compare the
settings of one run with each other (ratios), not with figures of a quiet one. Prints one JSON
line per run.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path


def _levers(text: str) -> dict:
    """"det_size:512,sam_size:384" -> {"det_size": 512, "sam_size": 384}, as ``--set`` parses."""
    from vidagent.bench.settings import parse_overrides
    from vidagent.errors import InputError

    try:
        return parse_overrides(item.replace(":", "=", 1) for item in filter(None, text.split(",")))
    except InputError as e:
        raise SystemExit(str(e)) from None


def main(argv: list[str] | None = None) -> int:
    from vidagent.bench.clip import make_clip
    from vidagent.bench.measure import time_vidagent
    from vidagent.bench.models import full_size_models
    from vidagent.bench.settings import apply_overrides, resolve_profile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("settings", nargs="*", default=["base="])
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args(argv)
    configs = {}
    for s in args.settings:
        name, _, rest = s.partition("=")
        configs[name or "base"] = _levers(rest)
    models = full_size_models()
    with tempfile.TemporaryDirectory(prefix="vidagent-stages-") as d:
        clip = make_clip(Path(d) / "clip.mp4", args.seconds, 30.0, 854, 480)
        for rep in range(args.reps):
            for name, levers in configs.items():
                profile = apply_overrides(resolve_profile("cpu"), levers)
                va = time_vidagent(clip, profile, models, 3)
                row = {"name": name, "rep": rep, "seconds": round(va["seconds"], 2),
                       "cpu_s": round(va["cpu_s"], 1), "detector_calls": va["detector_calls"],
                       "sam_embeddings": va["sam_embeddings"], "sam_decodes": va["sam_decodes"],
                       "load": round(os.getloadavg()[0], 1),
                       **{k: round(v, 2) for k, v in va["stages"].items()}}  # fmt: skip
                print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
