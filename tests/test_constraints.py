"""Referring by time and motion: parsing constraints, evaluating them on tracks, questions."""

from __future__ import annotations

import numpy as np
import pytest

from vidagent.testing.motion import FPS, FRAMES, KINDS, Mover, j_score, make_case, render
from vidagent.memory import build_memory
from vidagent.query.constraints import constraint_kinds
from vidagent.query.parser import QueryParser
from vidagent.query.plan import Plan
from vidagent.reasoning import answer, refer
from vidagent.reasoning.constraints import profile

PARSER = QueryParser(None)


def _memory(movers, seed=0, **faults):
    maps = render(movers, np.random.default_rng(seed), **faults)
    return build_memory(maps, FPS, {m.id: m.label for m in movers}, num_frames=FRAMES), maps


# ----------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("text,kinds,other", [
    ("the ball that appears later", ["appears_later"], None),
    ("the ball which shows up earlier", ["appears_earlier"], None),
    ("the dog that appears first", ["appears_first"], None),
    ("the last car to appear", ["appears_last"], None),
    ("the car that leaves first", ["leaves_first"], None),
    ("the first car to leave", ["leaves_first"], None),
    ("the dog that disappears last", ["leaves_last"], None),
    ("the ball that disappears", ["disappears"], None),
    ("the person leaving the frame", ["disappears"], None),
    ("the dog that comes back", ["comes_back"], None),
    ("the cat that reappears", ["comes_back"], None),
    ("the fastest dog", ["fastest"], None),
    ("the slowest car", ["slowest"], None),
    ("the box that moves", ["moving"], None),
    ("the running horse", ["moving"], None),
    ("the dog standing still", ["still"], None),
    ("the car that does not move", ["still"], None),
    ("the parked car", ["still"], None),
    ("the dog moving left", ["direction"], None),
    ("the dog following the man", ["follows"], "man"),
    ("the man followed by the dog", ["follows"], "dog"),
    ("the car passing the truck", ["passes"], "truck"),
    ("the dog running towards the ball", ["towards"], "ball"),
    ("the man walking away from the car", ["away_from"], "car"),
    ("the dog touching the ball", ["touches"], None),
    ("the two dogs running", ["count", "moving"], None),
    ("both cats", ["count"], None),
    # forms of real referring expressions
    ("a kitten is walking towards the camera", ["towards"], "camera"),
    ("person with gray clothes walking away", ["away_from"], "camera"),
    ("a white van is turning left with a gray van following", ["follows", "moving"],
     "gray van"),
    ("a black suv keeps straight behind another black suv", ["follows"], "black suv"),
    ("a bird flying and following the other", ["follows", "moving"], "bird"),
    ("a car turns right at the intersection", ["moving"], None),
    ("a fish moves up and down in the tank", ["moving"], None),
    ("a white suv runs down the road", ["moving"], None),
    ("a black suv stops at the intersection", ["still"], None),
    ("a person is walking fast", ["fastest"], None),
    ("a turtle slowly crawling", ["slowest"], None),
    ("a fish swimming towards the top", ["direction"], None),
    ("a black suv enters from the right", ["direction"], None),
    ("a ball is passed to the guy", ["towards"], "guy"),
    ("a man walking with two dogs", ["moving"], None),  # the number counts other objects
    ("a truck reaching a stop sign without stopping", ["towards"], "stop sign"),
    ("a boy crossing the street", ["moving"], None),
    ("a car passing an intersection", ["moving"], None),
    ("the car that is slower than the other", ["slowest"], None),
    ("a fast car", ["fastest"], None),
])
def test_parser_recovers_constraint_kinds(text, kinds, other):
    plan = PARSER.parse(text, expression=True)
    assert constraint_kinds(plan) == kinds
    assert plan.task == "segment" and plan.targets[0] not in ("", None)
    if other:
        pair = [c for c in plan.constraints if c.other]
        assert pair and pair[0].other == other
        assert other in plan.targets or other == "camera"


@pytest.mark.parametrize("text", [
    "the dog that is still visible",  # "still" as in "yet"
    "the dog moving to the left",  # a direction, not just motion
    "is the dog close to the child?",  # a place, not an approach
    "which dog is faster?",  # the comparison itself
    "the leaves on the tree",
    "a woman standing beside the running track",  # the track is not the one running
    "a boy passing a football",  # passing a ball is not overtaking
    "a truck at a stop sign",
    "a man turning his head to the left",  # a pose
    "a cat looking up",
])
def test_parser_leaves_other_words_alone(text):
    plan = PARSER.parse(text, expression=not text.endswith("?"))
    assert not plan.constraints


def test_words_the_question_asks_about_are_not_filters():
    assert PARSER.parse("is the dog moving?").constraints == []
    assert PARSER.parse("which car leaves first?").task == "compare"
    p = PARSER.parse("when does the dog that comes back leave?")
    assert (p.task, p.event, constraint_kinds(p)) == ("when", "leave", ["comes_back"])
    p = PARSER.parse("when does the dog that leaves first appear?")
    assert (p.event, constraint_kinds(p)) == ("appear", ["leaves_first"])


def test_plan_validates_constraints():
    with pytest.raises(ValueError, match="not a target"):
        Plan(task="segment", targets=["dog"], constraints=[{"kind": "follows", "other": "man"}])
    with pytest.raises(ValueError, match="needs the other"):
        Plan(task="segment", targets=["dog"], constraints=[{"kind": "towards"}])
    with pytest.raises(ValueError, match="needs n"):
        Plan(task="segment", targets=["dog"], constraints=[{"kind": "count"}])
    p = Plan(task="segment", targets=["dog", "man"],
             constraints=[{"kind": "follows", "other": "man"}, {"kind": "fastest"}])
    assert p.to_json()["constraints"] == [{"kind": "follows", "other": "man"},
                                          {"kind": "fastest"}]
    assert "constraints" not in Plan(task="segment", targets=["dog"]).to_json()


# ----------------------------------------------------------------------------- evaluation
def test_synthetic_cases_every_kind():
    """One dev seed per kind end to end (the full run is scripts/bench_referring.py)."""
    js, right, total = [], 0, 0
    for kind in KINDS:
        case = make_case(kind, seed=3)
        mem = build_memory(case.label_maps, FPS, case.labels(), num_frames=FRAMES)
        for text, ids in case.expressions:
            got = refer(PARSER.parse(text, expression=True), mem, text)
            js.append(j_score(case.label_maps, got, ids))
        for q in case.questions:
            right += q.correct(answer(PARSER.parse(q.text), mem, q.text).value)
            total += 1
    assert len(js) >= 2 * len(KINDS) and np.mean(js) >= 0.95
    assert total >= 20 and right / total >= 0.95


def _still(i, label, x, y, spans=((0, FRAMES - 1),), half=8.0):
    return Mover(i, label, half, [(0, x, y)], list(spans))


def _line(i, label, p0, p1, spans=((0, FRAMES - 1),), half=8.0, z=0):
    return Mover(i, label, half, [(spans[0][0], *p0), (spans[-1][1], *p1)], list(spans), z=z)


def test_jitter_does_not_make_a_still_object_move():
    movers = [_still(1, "box", 40, 30), _line(2, "box", (30, 100), (150, 100))]
    mem, _ = _memory(movers, jitter=1.5, drop=0.1, blip=1.0)
    assert refer(PARSER.parse("the box that moves", expression=True), mem) == [2]
    assert refer(PARSER.parse("the box standing still", expression=True), mem) == [1]
    p = profile(mem.get(1))
    assert p.still() and not p.moving(float(np.hypot(mem.width, mem.height)))


def test_a_missed_frame_or_a_stray_blip_is_not_leaving_or_appearing():
    movers = [_still(1, "ball", 40, 30), _still(2, "ball", 140, 100, spans=((8, FRAMES - 1),))]
    maps = render(movers, np.random.default_rng(0), drop=0.0, blip=0.0)
    maps[20][maps[20] == 1] = 0  # ball 1 missed on one frame
    maps[3][30:32, 30:32] = 2  # a two-pixel blip of ball 2 long before it shows up
    mem = build_memory(maps, FPS, {1: "ball", 2: "ball"}, num_frames=FRAMES)
    assert refer(PARSER.parse("the ball that disappears", expression=True), mem) == []
    assert refer(PARSER.parse("the ball that comes back", expression=True), mem) == []
    assert refer(PARSER.parse("the ball that appears later", expression=True), mem) == [2]
    a = answer(PARSER.parse("when does the ball that appears later appear?"), mem)
    assert a.value == pytest.approx(0.8)


def test_nearly_simultaneous_appearances_are_not_ordered():
    movers = [_still(1, "cat", 40, 30, spans=((5, FRAMES - 1),)),
              _still(2, "cat", 140, 100, spans=((6, FRAMES - 1),))]
    mem, _ = _memory(movers, drop=0.0, blip=0.0)
    plan = PARSER.parse("the cat that appears later", expression=True)
    assert refer(plan, mem) == []
    a = answer(plan, mem, "the cat that appears later")
    assert a.value == [] and "no cat appears later" in a.answer.lower()


def test_leaving_order_ignores_objects_still_there_at_the_end():
    movers = [_still(1, "car", 40, 30, spans=((0, 15),)),
              _still(2, "car", 100, 60, spans=((0, 28),)),
              _still(3, "car", 150, 110)]
    mem, _ = _memory(movers, blip=0.0)
    assert refer(PARSER.parse("the car that leaves first", expression=True), mem) == [1]
    assert refer(PARSER.parse("the car that leaves last", expression=True), mem) == [2]
    assert answer(PARSER.parse("how many cars leave the frame?"), mem).value == 2
    one = [_still(1, "car", 40, 30)]
    mem1, _ = _memory(one)
    a = answer(PARSER.parse("the car that leaves first", expression=True), mem1,
               "the car that leaves first")
    assert a.value == [] and "leaves before the video ends" in a.answer


def test_speed_ranks_and_counts():
    movers = [_line(1, "dog", (20, 15), (60, 15)), _line(2, "dog", (20, 45), (170, 45)),
              _line(3, "dog", (20, 75), (100, 75)), _still(4, "dog", 100, 120)]
    mem, _ = _memory(movers)
    assert refer(PARSER.parse("the fastest dog", expression=True), mem) == [2]
    assert refer(PARSER.parse("the second fastest dog", expression=True), mem) == [3]
    assert refer(PARSER.parse("the slowest dog", expression=True), mem) == [4]
    assert refer(PARSER.parse("the two fastest dogs", expression=True), mem) == [2, 3]
    assert refer(PARSER.parse("the three dogs running", expression=True), mem) == [1, 2, 3]
    assert answer(PARSER.parse("how many dogs are moving?"), mem).value == 3
    assert answer(PARSER.parse("which way does the fastest dog move?"), mem).value == "right"


def test_pairs_follow_pass_approach():
    movers = [_line(1, "man", (60, 70), (160, 70)),  # walks right
              _line(2, "dog", (30, 70), (130, 70)),  # behind him, same way: follows
              _line(3, "dog", (170, 20), (60, 20)),  # the other way, elsewhere
              _line(4, "cat", (20, 120), (180, 120)),  # fast
              _line(5, "bike", (80, 100), (100, 100))]  # slow, passed by the cat
    mem, _ = _memory(movers)
    assert refer(PARSER.parse("the dog following the man", expression=True), mem) == [2]
    assert refer(PARSER.parse("the man followed by the dog", expression=True), mem) == [1]
    assert refer(PARSER.parse("the cat passing the bike", expression=True), mem) == [4]
    # dog 2 goes by the bike close by; dog 3 goes by it too, but far off to the side
    assert refer(PARSER.parse("the dog passing the bike", expression=True), mem) == [2]
    assert answer(PARSER.parse("is there a dog following the man?"), mem).value is True
    assert answer(PARSER.parse("is there a cat following the man?"), mem).value is False
    movers = [_still(1, "ball", 100, 70), _line(2, "dog", (20, 70), (75, 70)),
              _line(3, "dog", (115, 30), (180, 10))]
    mem, _ = _memory(movers)
    assert refer(PARSER.parse("the dog running towards the ball", expression=True), mem) == [2]
    assert refer(PARSER.parse("the dog moving away from the ball", expression=True),
                 mem) == [3]


def test_no_object_satisfies_says_why():
    mem, _ = _memory([_still(1, "box", 40, 30), _still(2, "box", 140, 100)])
    a = answer(PARSER.parse("the box that moves", expression=True), mem, "the box that moves")
    assert a.value == [] and "no box moves" in a.answer.lower()
    a = answer(PARSER.parse("how many boxes are moving?"), mem, "how many boxes are moving?")
    assert a.value == 0
    a = answer(PARSER.parse("the box following the dog", expression=True), mem)
    assert a.value == [] and "no dog" in a.answer.lower()
