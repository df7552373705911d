"""Score the query parser on tests/data/questions.jsonl: task accuracy, target recall, latency.

Modes:
    rules     the deterministic parser alone;
    llm       the language model alone: task by label scoring for every question, targets it
              writes that are spans of the question (no rule fallback in these two figures);
    combined  ``QueryParser(llm)`` as the CLI uses it (rules when sure, model otherwise).

Usage:
    python scripts/eval_parser.py [--modes rules,llm,combined] [--model smollm2-135m]
                                  [--limit N] [--split dev|heldout] [--errors] [--threads 1]

Prints one block per mode: accuracy figures and per-question latency (mean, p95, max), plus
the model's load time. Target recall = expected target phrases found among the predicted ones
(exact phrase after lower-casing); constraints = the expected constraint keys that match.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "questions.jsonl"
CONSTRAINT_KEYS = ("position", "ordinal", "window", "expect", "motion", "event", "relation", "compare",
                   "attributes")


def load_questions(path: Path, split: str | None, limit: int | None) -> list[dict]:
    recs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if split:
        recs = [r for r in recs if r.get("split") == split]
    return recs[:limit] if limit else recs


def constraint_hits(plan_json: dict, rec: dict) -> tuple[int, int]:
    hit = total = 0
    for key in CONSTRAINT_KEYS:
        if key not in rec:
            continue
        total += 1
        got = plan_json.get(key)
        if key == "attributes":
            got = {k: v for k, v in (got or {}).items() if k in rec[key]}
        hit += got == rec[key]
    return hit, total


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def report(name: str, rows: list[dict], show_errors: bool) -> None:
    n = len(rows)
    task_ok = sum(r["task_ok"] for r in rows)
    t_hit = sum(r["t_hit"] for r in rows)
    t_all = sum(r["t_all"] for r in rows)
    c_hit = sum(r["c_hit"] for r in rows)
    c_all = sum(r["c_all"] for r in rows)
    lat = [r["seconds"] for r in rows]
    print(f"== {name}: {n} questions")
    print(f"   task accuracy   {task_ok / n:.3f} ({task_ok}/{n})")
    if t_all:
        print(f"   target recall   {t_hit / t_all:.3f} ({t_hit}/{t_all})")
    if c_all:
        print(f"   constraints     {c_hit / c_all:.3f} ({c_hit}/{c_all})")
    print(f"   latency s/q     mean {statistics.mean(lat):.4f}  p95 {p95(lat):.4f}  "
          f"max {max(lat):.4f}")
    if show_errors:
        for r in rows:
            if not r["task_ok"] or r["t_hit"] < r["t_all"]:
                print(f"   x {r['id']:>4} {r['want']:>9} -> {r['got']:<9} {r['targets']} "
                      f"| {r['question']}")


def run_mode(mode: str, recs: list[dict], parser, show_errors: bool) -> None:
    rows = []
    sources: dict[str, int] = {}
    for rec in recs:
        start = time.perf_counter()
        if mode == "llm":
            task = parser.llm_task(rec["question"])
            from vidagent.query.parser import is_span

            targets = [t for t in parser.llm_target_phrases(rec["question"])
                       if is_span(t, rec["question"])]
            plan_json = {"task": task, "targets": targets}
        else:
            plan_json = parser.parse(rec["question"]).to_json()
            sources[plan_json.get("source", "rules")] = sources.get(plan_json.get("source",
                                                                                "rules"), 0) + 1
        seconds = time.perf_counter() - start
        c_hit, c_all = constraint_hits(plan_json, rec) if mode != "llm" else (0, 0)
        want_t = rec["targets"]
        rows.append({
            "id": rec["id"], "question": rec["question"], "want": rec["task"],
            "got": plan_json["task"], "task_ok": plan_json["task"] == rec["task"],
            "targets": plan_json["targets"], "t_all": len(want_t),
            "t_hit": sum(t in plan_json["targets"] for t in want_t),
            "c_hit": c_hit, "c_all": c_all, "seconds": seconds,
        })
    report(mode, rows, show_errors)
    if sources:
        print(f"   plan sources    {sources}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default="rules,llm,combined")
    ap.add_argument("--model", default="smollm2-135m", help="language model spec")
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--split", default=None, help="only questions of this split (dev, heldout)")
    ap.add_argument("--errors", action="store_true", help="list the questions it got wrong")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = ap.parse_args(argv)

    from vidagent.query.parser import QueryParser

    recs = load_questions(Path(args.data), args.split, args.limit)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    llm = None
    if any(m in ("llm", "combined") for m in modes):
        import torch

        from vidagent.models.llm import load_language_model

        torch.set_num_threads(args.threads)
        start = time.perf_counter()
        llm = load_language_model(args.model, offline=True)
        print(f"model {args.model}: loaded in {time.perf_counter() - start:.1f} s "
              f"({args.threads} thread(s))")
        # the first call builds the few-shot prefix cache: time it apart from the questions
        start = time.perf_counter()
        QueryParser(llm).llm_task("how many dogs are there?")
        print(f"first task scoring (prefix cache): {time.perf_counter() - start:.2f} s")
    for mode in modes:
        parser = QueryParser(None) if mode == "rules" else QueryParser(llm)
        if mode == "llm":
            parser.llm_target_phrases("how many dogs are there?")  # warm the targets prefix
        run_mode(mode, recs, parser, args.errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
