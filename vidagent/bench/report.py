"""The bench's text report. Per-stage and schedule figures go in ``format_stages`` (the JSON
holds them under ``stages``, one dict per configuration)."""

from __future__ import annotations


def format_text(r: dict) -> str:
    """Human-readable summary of a ``run_bench`` result."""
    c = r["clip"]

    def s(x):
        return "skipped" if x is None else f"{x:9.1f} s"

    def ratio(x):
        return "" if x is None else f"  (vidagent {x:.1f}x faster)"

    lines = [
        (f"clip: {c['seconds']} s, {c['fps']:g} fps, {c['width']}x{c['height']}, {c['frames']} frames,"
        f" top {c['objects']} boxes per detection; torch threads {r['threads']}"),
        f"vidagent ({r['profile']} profile, end to end) {s(r['vidagent_s'])}",
        f"per-frame detector + SAM                  {s(r['per_frame_s'])}{ratio(r['ratio_vs_per_frame'])}",
        (f"Grounded-SAM-2 (DINO/20 + SAM 2 video)    {s(r['grounded_sam2_s'])}"
        f"{ratio(r['ratio_vs_grounded_sam2'])}"),
        f"second question on the same video        {s(r['second_question_s'])}",
        "CPU seconds (all threads): " + ", ".join(
            f"{k} {v:.0f}" for k, v in r["cpu_s"].items() if v is not None)
        + (f"; CPU ratio vs Grounded-SAM-2 {r['cpu_ratio_vs_grounded_sam2']:.1f}x"
           if r["cpu_ratio_vs_grounded_sam2"] else ""),
        "stages (s):",
    ]
    lines += format_stages(r)
    v = r["vidagent"]
    lines.append(f"vidagent work: {v['detector_calls']} detector calls, {v['sam_embeddings']} SAM "
                 f"embeddings, tracker {v['tracker']}")
    lines += format_schedule(r)
    lines.append(f"peak RSS {r['peak_rss_mb']} MB; bench took {r['bench_wall_s']:.0f} s")
    lines += [f"note: {n}" for n in r["notes"]]
    return "\n".join(lines)


def format_stages(r: dict) -> list[str]:
    """Seconds per stage, one line per configuration (``r["stages"]``)."""
    lines = []
    for name, st in r["stages"].items():
        if st:
            lines.append(f"  {name:<14} " + ", ".join(f"{k} {v:.1f}" for k, v in st.items()))
    return lines


def format_schedule(r: dict) -> list[str]:
    """The schedule the vidagent run chose, and the schedules' quality on synthetic ground truth
    (``r["schedule"]``, ``r["schedule_quality"]``)."""
    lines = []
    sc = r.get("schedule")
    if sc:
        keys = sc["keyframes"]
        shown = ", ".join(map(str, keys[:20])) + (", ..." if len(keys) > 20 else "")
        lines.append(f"schedule ({sc['kind']}): detector on {sc['detector_calls']} frames "
                     f"[{shown}], {sc['sam_calls']} SAM calls")
    q = r.get("schedule_quality")
    if q:
        sn = q["scenes"]
        lines.append(f"schedule quality on synthetic ground truth ({len(sn['seeds'])} scenes of "
                     f"{sn['frames']} frames at {sn['width']}x{sn['height']}, {sn['models']}):")
        lines.append(f"  {'schedule':<40} {'mean J':>7} {'mask J':>7} {'detector':>9} {'SAM':>5}")
        rows = [(f"profile ({q['profile']['kind']})", q["profile"]), ("fixed stride", q["fixed"]),
                ("adaptive", q["adaptive"]), ("detector + SAM on every frame", q["every_frame"])]
        for name, row in rows:
            lines.append(f"  {name:<40} {row['mean_j']:7.3f} {row['mask_j']:7.3f} "
                         f"{row['detector_calls']:9d} {row['sam_calls']:5d}")
        lines.append(f"  profile minus every frame: {q['profile_j_minus_every_frame']:+.3f} J")
    return lines
