"""How far the bench's vidagent run is from the cost of its model calls alone, side by side in one
process: ``Agent.ask`` on the bench clip (``cpu`` profile, full-size random-weight models, as
``vidagent bench`` times it), then the same detector calls, SAM embeddings and mask decodes (the
same frames, the same prompt boxes, recorded during the first run) one after another with nothing
else running, in interleaved rounds.

    python scripts/model_floor.py --rounds 2

The models-alone time is the floor of ``vidagent_s`` for the profile's schedule on this machine:
no tracker, decoder or overlap can bring the run below it. Prints one JSON line per round and a
last line with the medians and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


class Recorder:
    """Remembers, in call order, what the bench's timing doubles were asked to compute."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.on = True

    def patch(self) -> None:
        from vidagent.testing.doubles import BoxClippedSegmenter, TopKDetector

        rec = self

        def wrap(cls, name, kind):
            inner = getattr(cls, name)

            def method(self, *args, **kwargs):
                if rec.on:
                    rec.calls.append((kind, args, kwargs))
                return inner(self, *args, **kwargs)

            setattr(cls, name, method)

        wrap(TopKDetector, "detect", "detect")
        wrap(BoxClippedSegmenter, "set_image", "embed")
        wrap(BoxClippedSegmenter, "embed", "embed")
        wrap(BoxClippedSegmenter, "predict", "decode")


def models_alone(calls: list[tuple], det, seg) -> dict:
    """The recorded calls on ``det`` / ``seg`` (the bench's doubles around the same models), in
    order, in this thread: wall and CPU seconds, and seconds per kind."""
    per = {"detect": 0.0, "embed": 0.0, "decode": 0.0}
    t0, c0 = time.perf_counter(), time.process_time()
    for kind, args, kwargs in calls:
        a = time.perf_counter()
        if kind == "detect":
            det.detect(*args, **kwargs)
        elif kind == "embed":
            seg.set_image(*args, **kwargs)
        else:
            seg.predict(*args, **kwargs)
        per[kind] += time.perf_counter() - a
    return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            **{k: round(v, 2) for k, v in per.items()}}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from vidagent.bench.clip import make_clip
    from vidagent.bench.measure import profile_models, time_vidagent
    from vidagent.bench.models import full_size_models
    from vidagent.bench.settings import resolve_profile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--profile", default="cpu")
    args = ap.parse_args(argv)

    profile = resolve_profile(args.profile)
    models = full_size_models()
    rec = Recorder()
    rec.patch()
    ends, alones = [], []
    with tempfile.TemporaryDirectory(prefix="vidagent-floor-") as d:
        clip = make_clip(Path(d) / "clip.mp4", 10.0, 30.0, 854, 480)
        det = seg = None
        for r in range(args.rounds):
            rec.on = r == 0
            va = time_vidagent(clip, profile, models, 3)
            ends.append(va["seconds"])
            if det is None:  # the same models, built and accelerated as time_vidagent does
                det, seg = profile_models(clip, profile, models, 3)
            rec.on = False
            alone = models_alone(rec.calls, det, seg)
            alones.append(alone["seconds"])
            kinds = ("detect", "embed", "decode")
            counts = {k: sum(1 for c in rec.calls if c[0] == k) for k in kinds}
            print(json.dumps({"round": r, "vidagent_s": round(va["seconds"], 2),
                              "vidagent_cpu_s": round(va["cpu_s"], 1),
                              "models_alone_s": round(alone["seconds"], 2),
                              "models_alone_cpu_s": round(alone["cpu_s"], 1),
                              "alone_stages": {k: alone[k] for k in kinds},
                              "calls": counts, "load": round(os.getloadavg()[0], 2)}), flush=True)
    e, a = statistics.median(ends), statistics.median(alones)
    print(json.dumps({"vidagent_s_median": round(e, 2), "models_alone_s_median": round(a, 2),
                      "ratio": round(e / a, 3), "rest_s": round(e - a, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
