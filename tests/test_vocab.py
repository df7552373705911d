"""The shared vocabulary: noun number, kinds of things, phrase-to-label matching (every layer)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_hostile_videos import detections_for, run_inproc, square_frames

from vidagent.video import write_video
from vidagent.vocab import (
    display_name,
    is_plural,
    label_matches,
    parse_phrase,
    phrase_matches,
    plural,
    singular,
)


@pytest.mark.parametrize("word,want", [
    ("dogs", "dog"), ("people", "person"), ("children", "child"), ("men", "man"),
    ("women", "woman"), ("puppies", "puppy"), ("boxes", "box"), ("knives", "knife"),
    ("gloves", "glove"), ("leaves", "leaf"), ("mice", "mouse"), ("feet", "foot"),
    ("geese", "goose"), ("buses", "bus"), ("potatoes", "potato"),
    # singular words ending in s, invariant and plural-only nouns stay whole
    ("bus", "bus"), ("glass", "glass"), ("lens", "lens"), ("octopus", "octopus"),
    ("tennis", "tennis"), ("sheep", "sheep"), ("pants", "pants"), ("jeans", "jeans"),
    ("scissors", "scissors"), ("series", "series"),
    # words that are not nouns are not touched
    ("is", "is"), ("was", "was"), ("his", "his"), ("this", "this"),
    ("red cars", "red car"), ("traffic lights", "traffic light"),
])
def test_singular(word, want):
    assert singular(word) == want


@pytest.mark.parametrize("word,want", [
    ("dog", "dogs"), ("person", "people"), ("child", "children"), ("box", "boxes"),
    ("bus", "buses"), ("sheep", "sheep"), ("red ball", "red balls"),
])
def test_plural(word, want):
    assert plural(word) == want
    assert is_plural(want.split()[-1]) or want == word


@pytest.mark.parametrize("phrase,label,want", [
    ("people", "person", True), ("person", "man", True), ("men", "person", False),
    ("children", "child", True), ("kids", "child", True), ("puppy", "dog", True),
    ("dogs", "puppy", True), ("vehicles", "truck", True), ("animal", "cat", True),
    ("red ball", "ball", True), ("red ball", "blue ball", False), ("objects", "cup", True),
    ("dog", "cat", False), ("glasses", "glass", True),
])
def test_label_matches(phrase, label, want):
    assert label_matches(phrase, label) is want


@pytest.mark.parametrize("label,phrases,want", [
    ("person", ["people"], True), ("person", ["men"], True), ("child", ["children"], True),
    ("dog", ["puppy"], True), ("sports ball", ["ball"], True), ("balls", ["ball"], True),
    ("box", ["ball"], False), ("car", ["dog", "person"], False),
])
def test_phrase_matches_both_ways(label, phrases, want):
    assert phrase_matches(label, phrases) is want


def test_parse_phrase_and_display_name():
    p = parse_phrase("the two red balls on the left")
    assert (p.head, p.color, p.plural, p.modifiers) == ("ball", "red", True, ("red",))
    assert display_name("person", 2) == "people"
    assert display_name("red box", 3) == "red boxes"
    assert display_name("dog", 1) == "dog"


def test_track_detections_labelled_person_with_prompt_people(tmp_path: Path):
    """A user's detections labelled "person" are kept for the prompt "people" (CLI level)."""
    n, w, h = 10, 96, 64
    video = Path(write_video(tmp_path / "v.mp4", square_frames(n, w, h), 10.0))
    dets = detections_for(tmp_path / "d.json", n, w, h)
    data = json.loads(dets.read_text())
    for frame in data["frames"].values():
        for d in frame:
            d["label"] = "person"
    dets.write_text(json.dumps(data))
    out = tmp_path / "o"
    r = run_inproc(["track", str(video), "people", "--detections", str(dets), "--out", str(out),
                    "--json", "--quiet"])
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout)
    assert res["ids"] == [1] and res["labels"] == {"1": "person"}
    other = tmp_path / "o2"
    r = run_inproc(["track", str(video), "car", "--detections", str(dets), "--out", str(other),
                    "--json", "--quiet"])
    assert r.returncode == 0 and json.loads(r.stdout)["ids"] == []
