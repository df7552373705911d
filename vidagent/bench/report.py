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
