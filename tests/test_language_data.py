"""The real-language evaluation set is well-formed (a data check, not a parser accuracy bar).

Files: tests/data/language/{dev,dev2,test,test2}.jsonl (questions and referring expressions, labelled
with task/targets; dev2 is a second tuning split; test2 is the never-tuned held-out split) and motion_{dev,test}.jsonl
(motion/time referring expressions, labelled with constraint kinds). See
tests/data/language/SOURCES.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from vidagent.query import TASKS
from vidagent.query.plan import COLORS, POSITIONS

DATA = Path(__file__).parent / "data" / "language"
SPLITS = ("dev", "dev2", "test", "test2")  # dev2: a second tuning split; test2: the never-tuned
# held-out split (main set only)
MOTION_SPLITS = ("dev", "test")
MAIN_AND_MOTION = SPLITS + tuple(f"motion_{s}" for s in MOTION_SPLITS)
WINDOW_WORDS = {"start", "middle", "end", "first half", "second half"}
DIRECTIONS = {"left", "right", "up", "down", "none"}
MOTION_KINDS = {
    "appears_later", "appears_earlier", "appears_first", "appears_last", "leaves_first",
    "leaves_last", "disappears", "comes_back", "fastest", "slowest", "moving", "still",
    "direction", "follows", "passes", "towards", "away_from", "touches", "count", "none",
}
PHRASE = re.compile(r"^[a-z0-9][a-z0-9 '\-/]*$")


def read(name: str) -> list[dict]:
    path = DATA / f"{name}.jsonl"
    assert path.exists(), f"missing {path}"
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:  # pragma: no cover - the failure message
                pytest.fail(f"{name}.jsonl line {n}: not JSON ({exc})")
    return rows


def key(text: str) -> str:
    return " ".join(text.lower().split()).strip(" ?.")


def sources_listed() -> str:
    return (DATA / "SOURCES.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("split", SPLITS)
def test_items_are_well_formed(split):
    rows = read(split)
    assert rows, f"{split}.jsonl is empty"
    listed = sources_listed()
    for r in rows:
        where = f"{split} {r.get('id')}"
        assert set(r) >= {"id", "text", "source", "task", "targets", "acceptable"}, where
        assert set(r) <= {"id", "text", "source", "task", "targets", "acceptable", "expect",
                          "window"}, where
        assert isinstance(r["text"], str) and r["text"].strip(), where
        assert r["task"] in TASKS, f"{where}: task {r['task']!r}"
        assert f"`{r['source']}`" in listed, f"{where}: source {r['source']!r} not in SOURCES.md"
        assert isinstance(r["targets"], list) and isinstance(r["acceptable"], list), where
        if r["task"] != "describe":
            assert r["targets"], f"{where}: a {r['task']} item needs targets"
        for phrase in r["targets"] + r["acceptable"]:
            assert isinstance(phrase, str) and PHRASE.match(phrase), f"{where}: {phrase!r}"
        assert len(set(r["targets"])) == len(r["targets"]), where
        if "expect" in r:
            allowed = {"color": set(COLORS), "where": set(POSITIONS),
                       "motion": DIRECTIONS}.get(r["task"])
            assert allowed is not None, f"{where}: expect on a {r['task']} item"
            assert r["expect"] in allowed, f"{where}: expect {r['expect']!r}"
        if "window" in r:
            w = r["window"]
            if isinstance(w, dict):
                assert set(w) == {"start", "end"}, where
                assert any(w[k] is not None for k in w), where
                for k in w:
                    assert w[k] is None or (isinstance(w[k], (int, float)) and w[k] >= 0), where
                if w["start"] is not None and w["end"] is not None:
                    assert w["start"] < w["end"], where
            else:
                assert w in WINDOW_WORDS, f"{where}: window {w!r}"


def test_ids_unique_and_splits_disjoint():
    dev, test = read("dev"), read("test")
    ids = [r["id"] for r in dev + test]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert not {key(r["text"]) for r in dev} & {key(r["text"]) for r in test}, \
        "the same text is in dev and test"


def test_no_id_or_text_repeats_across_any_split():
    """Every item (main and motion sets, all splits) has its own id and its own text."""
    owner: dict[str, str] = {}
    ids: set[str] = set()
    for name in MAIN_AND_MOTION:
        for r in read(name):
            assert r["id"] not in ids, f"{name} {r['id']}: id already used"
            ids.add(r["id"])
            k = key(r["text"])
            assert k not in owner, f"{name} {r['id']}: same text as an item of {owner.get(k)}"
            owner[k] = f"{name} {r['id']}"


@pytest.mark.parametrize("split,min_rows,marker,table_prefix", [
    # dev2 (seed 777, for tuning) and SOURCES.md's dev2 table
    ("dev2", 190, "777", "dev2[^\\n]*"),
    # test2, never tuned on, and SOURCES.md's test2 table
    ("test2", 200, "never used for tuning", ""),
])
def test_second_split_is_sizeable_of_five_sources(split, min_rows, marker, table_prefix):
    """dev2 and test2 each have >= 25 items for each of at least five sources, and SOURCES.md
    documents each with its per-source counts."""
    rows = read(split)
    assert len(rows) >= min_rows, len(rows)
    per_source: dict[str, int] = {}
    for r in rows:
        per_source[r["source"]] = per_source.get(r["source"], 0) + 1
    assert sum(n >= 25 for n in per_source.values()) >= 5, per_source
    listed = sources_listed()
    assert split in listed and marker in listed
    for src, n in per_source.items():  # the split's table in SOURCES.md gives each count
        assert re.search(rf"{table_prefix}`{re.escape(src)}`[^\n]*\|\s*{n}\s*\|", listed), \
            f"{src}: {split} count {n} not in SOURCES.md's {split} table"


def test_every_source_is_in_both_splits_and_roughly_balanced():
    dev, test = read("dev"), read("test")
    for src in {r["source"] for r in dev + test}:
        d = sum(r["source"] == src for r in dev)
        t = sum(r["source"] == src for r in test)
        assert d and t, f"{src}: dev {d}, test {t}"
        assert abs(d - t) <= 2, f"{src}: dev {d}, test {t}"


@pytest.mark.parametrize("split", MOTION_SPLITS)
def test_motion_items_are_well_formed(split):
    rows = read(f"motion_{split}")
    assert rows, f"motion_{split}.jsonl is empty"
    listed = sources_listed()
    for r in rows:
        where = f"motion_{split} {r.get('id')}"
        assert set(r) == {"id", "text", "source", "targets", "constraints"}, where
        assert r["text"].strip() and r["targets"], where
        assert f"`{r['source']}`" in listed, where
        assert r["constraints"], where
        for c in r["constraints"]:
            assert c["kind"] in MOTION_KINDS, f"{where}: kind {c['kind']!r}"
            assert set(c) <= {"kind", "value", "other"}, where
            if c["kind"] == "direction":
                assert c.get("value") in DIRECTIONS - {"none"}, where
            if c["kind"] == "count":
                assert isinstance(c.get("value"), int) and c["value"] > 0, where
            if c["kind"] in {"follows", "passes", "towards", "away_from", "touches"}:
                assert c.get("other"), f"{where}: {c['kind']} needs the other object"
        kinds = [c["kind"] for c in r["constraints"]]
        assert "none" not in kinds or kinds == ["none"], where


def test_motion_ids_unique_and_splits_disjoint():
    dev, test = read("motion_dev"), read("motion_test")
    ids = [r["id"] for r in dev + test]
    assert len(ids) == len(set(ids))
    assert not {key(r["text"]) for r in dev} & {key(r["text"]) for r in test}
