"""Score the query parser on real questions and referring expressions (tests/data/language/).

The items are taken verbatim from public video QA and referring-segmentation datasets and
labelled by hand (see tests/data/language/SOURCES.md for sources and labelling conventions).

Usage:
    python scripts/eval_language.py [--split dev|dev2|test|test2|all] [--modes rules,full,model]
                                    [--show-failures] [--model SPEC] [--no-motion] [--json]

Splits: ``dev`` (tune on this), ``dev2`` (a second tuning split drawn on 2026-12-02, seed 777),
``test`` (held out at first, looked at since), ``test2`` (a
fresh held-out split created on 2026-12-02 and never used for tuning; score it, do not read
its failures: ``--show-failures`` is refused on it), ``all`` (dev, test and dev2; test2 is left out
of ``all`` so that a routine run does not expose it).

Modes:
    rules   ``QueryParser(None)``: the deterministic parser alone;
    full    the parser as ``vidagent parse`` builds it for the cpu profile: its language model,
            asked for the task below the profile's ``llm_task_below`` rule confidence (the cpu
            profile: never, the rules decide);
    model   the language model asked for the task wherever the rules are unsure (below
            ``RULES_SURE``, whatever the profile says): the measurement behind that choice.

Figures (per mode, overall and per source):
    task accuracy   plan.task equals the labelled task (referring expressions are parsed with
                    ``expression=True`` and labelled ``segment``);
    target recall   needed targets found / needed targets. A needed target is found when some
                    predicted target has the same head noun (see ``head``) - "black dog" finds
                    "dog" and the reverse; "person" does not find "man";
    clean targets   share of plans whose every predicted target is a needed or acceptable
                    phrase, compared by head noun ("front row", "parking", "weather" are not);
    expect          items labelled with a yes/no value: plan["expect"] equals it;
    window          items labelled with a time window: the plan has a ``window`` (or the older
                    ``time`` field); and the number of plans that carry a window the text does
                    not have.
Motion set (tests/data/language/motion_{split}.jsonl, issue 17): share of expressions whose
labelled constraint kinds are all among the plan's kinds (``plan["constraints"]`` and the
older fields that express some kinds, see ``constraint_kinds``; an expression labelled ``none``
is recovered when the plan has none), plus recall per kind.

Phrases are normalised by lower-casing, dropping articles and possessive 's, and mapping each
word through ``vidagent.query.singular`` (the project's own normaliser; a compound in -men that
it leaves plural is read as -man: "sportsmen" -> "sportsman").
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from vidagent.query import QueryParser, singular
from vidagent.query.parser import RULES_SURE

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "language"

ARTICLES = {"a", "an", "the", "some", "this", "that", "these", "those", "its", "his", "her",
            "their"}
# a word after which a noun phrase's head has already been seen ("man in white" -> "man")
BREAKS = {"in", "on", "with", "of", "at", "near", "by", "from", "to", "behind", "under",
          "above", "over", "wearing", "holding", "who", "which", "that", "is", "are", "being",
          "while", "into", "onto", "between", "beside", "next", "for", "like", "than", "as"}
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


def words(phrase: str) -> list[str]:
    """Lower-cased words of ``phrase`` with articles dropped and each word singularised."""
    out = []
    for w in _WORD.findall(str(phrase).lower()):
        w = w[:-2] if w.endswith("'s") else w.rstrip("'")
        if w and w not in ARTICLES:
            w = singular(w)
            if w.endswith("men") and len(w) > 4:  # compounds the normaliser leaves plural
                w = w[:-3] + "man"  # ("sportsmen" -> "sportsman")
            out.append(w)
    return out


def norm(phrase: str) -> str:
    return " ".join(words(phrase))


def head(phrase: str) -> str:
    """The head noun: the last word before the first preposition/relative word."""
    ws = words(phrase)
    for i, w in enumerate(ws):
        if w in BREAKS and i > 0:
            return ws[i - 1]
    return ws[-1] if ws else ""


def load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


SPLITS = ("dev", "dev2", "test", "test2", "all")
HELD_OUT = "test2"  # never tuned on: figures only, no per-item failures


def load_split(split: str, prefix: str = "") -> list[dict]:
    """The items of ``split`` (``all`` = dev + test + dev2); [] when the file does not exist."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    names = ["dev", "test", "dev2"] if split == "all" else [split]
    recs: list[dict] = []
    for name in names:
        recs += load(DATA / f"{prefix}{name}.jsonl")
    return recs


def score_item(rec: dict, plan: dict) -> dict:
    """Per-item figures for one labelled item and the plan the parser made of it."""
    pred = [str(t) for t in plan.get("targets", [])]
    pred_heads = {head(p) for p in pred}
    need = rec.get("targets", [])
    allowed = {head(t) for t in need + rec.get("acceptable", [])}
    found = [t for t in need if head(t) in pred_heads]
    extra = [p for p in pred if head(p) not in allowed]
    row = {
        "id": rec["id"], "text": rec["text"], "source": rec["source"],
        "want": rec["task"], "got": plan.get("task"), "task_ok": plan.get("task") == rec["task"],
        "need": need, "pred": pred, "t_all": len(need), "t_hit": len(found),
        "missing": [t for t in need if t not in found], "extra": extra, "clean": not extra,
    }
    if "expect" in rec:
        row["expect_ok"] = str(plan.get("expect", "")).lower() == str(rec["expect"]).lower()
    row["window_want"] = "window" in rec
    # CONTRACT.md names the field ``window``; older plans carry the same span as ``time``
    row["window_got"] = plan.get("window", plan.get("time")) is not None
    return row


def constraint_kinds(plan: dict) -> set[str]:
    """Kinds of the plan's typed ``constraints``, plus the older plan fields that say the same.

    A plan without ``constraints`` recovers nothing from that list. The parser also writes
    some kinds in other fields: ``motion`` left/right/up/down is ``direction`` and ``none`` is
    ``still``; ``relation`` ``touching`` is ``touches``; ``ordinal`` rank 1 by ``earliest`` /
    ``latest`` is ``appears_first`` / ``appears_last``.
    """
    kinds = set()
    for c in plan.get("constraints") or []:
        if isinstance(c, dict) and c.get("kind"):
            kinds.add(str(c["kind"]))
        elif isinstance(c, str):
            kinds.add(c)
    motion = plan.get("motion")
    if motion in ("left", "right", "up", "down"):
        kinds.add("direction")
    elif motion == "none":
        kinds.add("still")
    relation = plan.get("relation")
    if isinstance(relation, dict) and relation.get("predicate") == "touching":
        kinds.add("touches")
    ordinal = plan.get("ordinal")
    if isinstance(ordinal, dict) and ordinal.get("rank") == 1:
        first_last = {"earliest": "appears_first", "latest": "appears_last"}
        if ordinal.get("by") in first_last:
            kinds.add(first_last[ordinal["by"]])
    return kinds


def score_motion(rec: dict, plan: dict) -> dict:
    want = {c["kind"] for c in rec["constraints"]} - {"none"}
    got = constraint_kinds(plan)
    ok = want <= got if want else not got
    return {"id": rec["id"], "text": rec["text"], "source": rec["source"], "want": sorted(want),
            "got": sorted(got), "ok": ok, "hit": sorted(want & got)}


def pct(a: int, b: int) -> str:
    return f"{a / b:.3f} ({a}/{b})" if b else "-"


def summary(rows: list[dict]) -> dict:
    n = len(rows)
    exp = [r for r in rows if "expect_ok" in r]
    win = [r for r in rows if r["window_want"]]
    return {
        "n": n,
        "task": (sum(r["task_ok"] for r in rows), n),
        "recall": (sum(r["t_hit"] for r in rows), sum(r["t_all"] for r in rows)),
        "clean": (sum(r["clean"] for r in rows), n),
        "expect": (sum(r["expect_ok"] for r in exp), len(exp)),
        "window": (sum(r["window_got"] for r in win), len(win)),
        "spurious_window": sum(r["window_got"] and not r["window_want"] for r in rows),
    }


def report(mode: str, split: str, rows: list[dict], motion: list[dict], seconds: list[float],
           show_failures: bool) -> None:
    s = summary(rows)
    print(f"== {mode} on {split}: {s['n']} items")
    print(f"   task accuracy   {pct(*s['task'])}")
    print(f"   target recall   {pct(*s['recall'])}")
    print(f"   clean targets   {pct(*s['clean'])}")
    print(f"   expect          {pct(*s['expect'])}")
    print(f"   window          {pct(*s['window'])}   spurious windows {s['spurious_window']}")
    if seconds:
        print(f"   parse s/item    mean {statistics.mean(seconds):.4f}  max {max(seconds):.4f}")
    by_src: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_src[r["source"]].append(r)
    print(f"   {'source':<18}{'n':>5}  {'task':>7}  {'recall':>7}  {'clean':>7}")
    for src in sorted(by_src):
        t = summary(by_src[src])
        f = [a / b if b else float("nan") for a, b in (t["task"], t["recall"], t["clean"])]
        print(f"   {src:<18}{t['n']:>5}  {f[0]:>7.3f}  {f[1]:>7.3f}  {f[2]:>7.3f}")
    by_task = Counter((r["want"], r["got"]) for r in rows if not r["task_ok"])
    if by_task:
        print("   task confusions (labelled -> parsed): "
              + ", ".join(f"{a}->{b} {n}" for (a, b), n in by_task.most_common(8)))
    if motion:
        ok = sum(m["ok"] for m in motion)
        print(f"   motion constraints recovered {pct(ok, len(motion))}")
        want, hit = Counter(), Counter()
        for m in motion:
            want.update(m["want"] or ["none"])
            hit.update(m["hit"] + (["none"] if not m["want"] and m["ok"] else []))
        print("   by kind: " + ", ".join(f"{k} {hit[k]}/{want[k]}" for k in sorted(want)))
    if show_failures:
        for r in rows:
            if r["task_ok"] and not r["missing"] and r["clean"] and r.get("expect_ok", True):
                continue
            why = []
            if not r["task_ok"]:
                why.append(f"task {r['want']}->{r['got']}")
            if r["missing"]:
                why.append(f"missing {r['missing']}")
            if r["extra"]:
                why.append(f"extra {r['extra']}")
            if not r.get("expect_ok", True):
                why.append("expect")
            print(f"   x {r['id']:<28} {'; '.join(why)} | {r['text']}")
        for m in motion:
            if not m["ok"]:
                print(f"   m {m['id']:<28} want {m['want'] or ['none']} got {m['got']} "
                      f"| {m['text']}")


def make_parser(mode: str, model: str | None) -> QueryParser:
    if mode == "rules":
        return QueryParser(None)
    from vidagent.models.llm import load_language_model
    from vidagent.profiles import get_profile

    profile = get_profile("cpu")
    spec = model or profile.llm
    start = time.perf_counter()
    llm = load_language_model(spec, offline=True)
    print(f"model {spec}: loaded in {time.perf_counter() - start:.1f} s")
    sure = RULES_SURE if mode == "model" else profile.llm_task_below
    parser = QueryParser(llm, rules_sure=sure)
    parser.llm_task("how many dogs are there?")  # build the model's prompt cache before timing
    return parser


def figures(rows: list[dict], motion: list[dict]) -> dict:
    """The headline figures as plain numbers (for ``--json``)."""
    s = summary(rows)
    out = {"items": s["n"], "spurious_window": s["spurious_window"]}
    for key in ("task", "recall", "clean", "expect", "window"):
        a, b = s[key]
        out[key] = round(a / b, 4) if b else None
        out[f"{key}_n"] = [a, b]
    ok = sum(m["ok"] for m in motion)
    out["motion"] = round(ok / len(motion), 4) if motion else None
    out["motion_n"] = [ok, len(motion)]
    return out


def run(mode: str, split: str, model: str | None, motion_on: bool, show_failures: bool,
        as_json: bool = False) -> None:
    recs = load_split(split)
    motion_recs = load_split(split, "motion_") if motion_on else []
    parser = make_parser(mode, model)
    rows, motion, seconds = [], [], []
    for rec in recs:
        start = time.perf_counter()
        plan = parser.parse(rec["text"], expression=rec["task"] == "segment").to_json()
        seconds.append(time.perf_counter() - start)
        rows.append(score_item(rec, plan))
    for rec in motion_recs:
        plan = parser.parse(rec["text"], expression=True).to_json()
        motion.append(score_motion(rec, plan))
    if as_json:
        print(json.dumps({"mode": mode, "split": split, **figures(rows, motion),
                          "parse_mean_s": round(statistics.mean(seconds), 5)}))
    else:
        report(mode, split, rows, motion, seconds, show_failures)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="dev", choices=list(SPLITS))
    ap.add_argument("--modes", default="rules", help="comma-separated: rules, full, model")
    ap.add_argument("--model", default=None, help="language model spec for the full and model modes "
                    "(default: the cpu profile's)")
    ap.add_argument("--show-failures", action="store_true")
    ap.add_argument("--no-motion", action="store_true", help="skip the motion expression set")
    ap.add_argument("--json", action="store_true", help="one JSON line of figures per mode")
    args = ap.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in ("rules", "full", "model")]
    if bad:
        ap.error(f"unknown mode(s) {bad}; choose from rules, full, model")
    if args.split == HELD_OUT and args.show_failures:
        ap.error(f"--show-failures is refused on {HELD_OUT}: it is the never-tuned held-out "
                 "split (read failures on dev)")
    if not load_split(args.split):
        ap.error(f"no items for split {args.split!r} under {DATA}")
    for mode in modes:
        run(mode, args.split, args.model, not args.no_motion, args.show_failures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
