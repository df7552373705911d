"""``vidagent bench``: this pipeline and the naive baselines, timed side by side in one run.

On a generated clip (default 10 s, 30 fps, 854x480; ``vidagent.testing.scenes``) with full-size
model architectures and random weights (no download; the cost of a forward pass does not depend on
the weights) it measures:

- ``vidagent``: ``Agent.ask`` with the profile (default ``cpu``) end to end for a counting
  question (language-model parse, detection, segmentation, tracking with masks on every
  frame, scene memory, reasoning); then a second question on the same video (perception cache);
- ``per_frame``: the naive pipeline, detector + SAM ViT-B at its native 1024 px on every frame;
- ``grounded_sam2``: the Grounded-SAM-2 recipe, detector on frame 0 and every 20th frame, SAM 2.1
  (transformers ``Sam2VideoModel``, default hiera-tiny config, native 1024 px) propagating on
  every frame.

Baselines are timed on ``sample`` frames and extrapolated linearly to the clip (said so in the
output). Random-weight detectors score every box alike, so every detector here returns its
model's top ``objects`` boxes whatever their score (``TopKDetector``), and random-weight SAM
masks are clipped to their prompt box (``BoxClippedSegmenter``): every configuration then tracks
the same number of objects. The answers are meaningless; the work done is that of a real run.

Modules: ``settings`` (what a run does, speed levers), ``models`` (the random-weight models),
``clip`` (the generated clip), ``measure`` (the three timings), ``run`` (one run and its JSON),
``report`` (the text output). The timing doubles are in ``vidagent.testing.doubles``.
"""

from __future__ import annotations

from vidagent.bench.clip import make_clip
from vidagent.bench.measure import (
    GSAM2_DETECT_EVERY,
    QUESTION,
    SECOND_QUESTION,
    time_grounded_sam2,
    time_per_frame,
    time_vidagent,
)
from vidagent.bench.models import WORDS, BenchModels, full_size_models
from vidagent.bench.report import format_schedule, format_stages, format_text
from vidagent.bench.run import NAIVE_SAM_SIZE, SAM2_WARM_FRAMES, cli, run_bench
from vidagent.bench.settings import BenchSettings, apply_overrides, parse_overrides

__all__ = [
    "GSAM2_DETECT_EVERY",
    "NAIVE_SAM_SIZE",
    "QUESTION",
    "SAM2_WARM_FRAMES",
    "SECOND_QUESTION",
    "WORDS",
    "BenchModels",
    "BenchSettings",
    "apply_overrides",
    "cli",
    "format_schedule",
    "format_stages",
    "format_text",
    "full_size_models",
    "make_clip",
    "parse_overrides",
    "run_bench",
    "time_grounded_sam2",
    "time_per_frame",
    "time_vidagent",
]
