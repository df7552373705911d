"""Every task of CONTRACT.md answered from the scene memory of a hand-made synthetic scene."""

from __future__ import annotations

import numpy as np
import pytest

from vidagent.testing.scenes import SceneObject, render
from vidagent.query.plan import Plan
from vidagent.reasoning import Answer, answer, refer
from vidagent.reasoning.describe import mentions_unknown_objects

FPS = 10.0
SPECS = [
    SceneObject(1, "dog", "brown", (130, 80, 40), "circle", 18, (40, 90), (40, 90), 0, 49, z=0),
    SceneObject(2, "dog", "white", (240, 240, 240), "ellipse", 14, (100, 40), (200, 40), 10, 39,
            z=1, aspect=0.8),
    SceneObject(3, "ball", "red", (220, 30, 30), "circle", 8, (60, 90), (60, 90), 0, 49, z=2),
    SceneObject(4, "car", "blue", (30, 80, 220), "rect", 25, (190, 140), (190, 140), 20, 49, z=3),
    SceneObject(5, "person", "green", (40, 170, 60), "rect", 12, (120, 150), (120, 60), 0, 29, z=4),
]


@pytest.fixture(scope="module")
def scene():
    return render(SPECS, 240, 180, 50, fps=FPS, seed=3, noise=5, jpeg=70)


@pytest.fixture(scope="module")
def memory(scene):
    return scene.memory()


def ask(memory, task, targets, **kw) -> Answer:
    question = kw.pop("question", "")
    a = answer(Plan(task=task, targets=targets, **kw), memory, question)
    for e in a.evidence:  # the evidence keys of CONTRACT's ask --json
        assert {"id", "label", "first_frame", "last_frame", "first_time", "last_time"} <= set(e)
    return a


@pytest.mark.parametrize(
    "targets,kw,value",
    [(["dogs"], {}, 2), (["people"], {}, 1), (["cats"], {}, 0),
     (["red balls"], {"attributes": {"red balls": {"color": "red"}}}, 1),
     (["blue balls"], {"attributes": {"blue balls": {"color": "blue"}}}, 0),
     (["dogs"], {"window": {"start": 0, "end": 0.9}}, 1),
     (["dogs"], {"window": {"start": 0.0, "end": 0.2, "unit": "fraction"}}, 2),
     (["dogs"], {"window": {"start": 4.2}}, 1),
     (["dogs"], {"motion": "right"}, 1), (["dogs"], {"position": "left"}, 1),
     (["dogs"], {"attributes": {"dogs": {"size": "large"}}}, 1),
     (["vehicles"], {}, 1), (["puppies"], {}, 2)],
)
def test_count(memory, targets, kw, value):
    a = ask(memory, "count", targets, **kw)
    assert a.value == value and isinstance(a.value, int)
    assert len(a.evidence) == value
    assert str(value) in a.answer or (value == 0 and a.answer.startswith("No "))


def test_count_says_how_many_are_seen_together():
    specs = [SceneObject(1, "cat", "black", (25, 25, 25), "circle", 8, (20, 20), (20, 20), 0, 9),
             SceneObject(2, "cat", "white", (240, 240, 240), "circle", 8, (60, 20), (60, 20), 10,
                     19)]
    mem = render(specs, 80, 40, 20, noise=0).memory()
    a = answer(Plan(task="count", targets=["cats"]), mem)
    assert a.value == 2 and "at most 1 at the same time" in a.answer


def test_count_zero_is_honest(memory):
    a = ask(memory, "count", ["cats"])
    assert a.answer == "No cat appears in the video." and a.evidence == []


@pytest.mark.parametrize(
    "targets,kw,value",
    [(["dog"], {}, True), (["cat"], {}, False),
     (["white dog"], {"attributes": {"white dog": {"color": "white"}}}, True),
     (["green dog"], {"attributes": {"green dog": {"color": "green"}}}, False),
     (["car"], {"window": {"start": 0, "end": 1.5}}, False),
     (["person"], {"motion": "up"}, True), (["person"], {"motion": "down"}, False)],
)
def test_exists(memory, targets, kw, value):
    a = ask(memory, "exists", targets, **kw)
    assert a.value is value
    assert a.answer.startswith("Yes" if value else "No")


def test_when(memory):
    assert ask(memory, "when", ["car"], event="appear").value == pytest.approx(2.0)
    assert ask(memory, "when", ["car"]).value == pytest.approx(2.0)  # appear by default
    a = ask(memory, "when", ["person"], event="leave")
    assert a.value == pytest.approx(2.9) and "last seen at 2.90 s" in a.answer
    a = ask(memory, "when", ["car"], event="leave")
    assert a.value == pytest.approx(4.9) and "still visible when the video ends" in a.answer
    # several dogs: the first time any dog appears, the chosen one first in evidence
    a = ask(memory, "when", ["dog"], event="appear")
    assert a.value == 0.0 and a.evidence[0]["id"] == 1 and len(a.evidence) == 2
    a = ask(memory, "when", ["person"], question="when does the person disappear?")
    assert a.value == pytest.approx(2.9)  # event read from the question when the plan lacks it
    a = ask(memory, "when", ["cat"])
    assert a.value is None and "No cat appears" in a.answer


def test_duration(memory):
    assert ask(memory, "duration", ["white dog"],
               attributes={"white dog": {"color": "white"}}).value == pytest.approx(3.0)
    assert ask(memory, "duration", ["person"]).value == pytest.approx(3.0)
    assert ask(memory, "duration", ["car"], window={"start": 3.0}).value == pytest.approx(2.0)
    assert ask(memory, "duration", ["cat"]).value == 0.0


def test_where(memory):
    assert ask(memory, "where", ["car"]).value == "bottom-right"
    assert ask(memory, "where", ["ball"]).value == "left"
    a = ask(memory, "where", ["dog"])  # two dogs in different places: no guess
    assert a.value is None and "say which one" in a.answer and len(a.evidence) == 2
    assert ask(memory, "where", ["dog"], motion="right").value == "top"
    assert ask(memory, "where", ["cat"]).value is None


def test_color(memory):
    assert ask(memory, "color", ["ball"]).value == "red"
    assert ask(memory, "color", ["car"]).value == "blue"
    assert ask(memory, "color", ["person"]).value == "green"
    assert ask(memory, "color", ["dog"]).value is None  # ambiguous: brown and white dogs
    assert ask(memory, "color", ["dog"], position="left").value == "brown"
    assert ask(memory, "color", ["dog"], ordinal={"rank": 2, "by": "left"}).value == "white"
    assert ask(memory, "color", ["dog"], ordinal={"rank": 1, "by": "largest"}).value == "brown"
    assert ask(memory, "color", ["dog"], ordinal={"rank": 1, "by": "latest"}).value == "white"
    assert ask(memory, "color", ["cat"]).value is None


def test_motion(memory):
    assert ask(memory, "motion", ["person"]).value == "up"
    assert ask(memory, "motion", ["car"]).value == "none"
    assert ask(memory, "motion", ["white dog"],
               attributes={"white dog": {"color": "white"}}).value == "right"
    a = ask(memory, "motion", ["person"], motion="left", question="is the person moving left?")
    assert a.value == "up" and a.answer.startswith("No.")
    a = ask(memory, "motion", ["dogs"], question="which way do the dogs move?")
    assert a.value is None and "differ" in a.answer


def _rel(memory, subject, predicate, obj, **kw):
    return ask(memory, "relation", [subject, obj],
               relation={"subject": subject, "predicate": predicate, "object": obj}, **kw)


def test_relation(memory):
    assert _rel(memory, "car", "right_of", "person").value is True
    assert _rel(memory, "car", "left_of", "person").value is False
    assert _rel(memory, "person", "above", "car").value is True
    assert _rel(memory, "car", "above", "person").value is False
    assert _rel(memory, "ball", "touching", "brown dog",
                attributes={"brown dog": {"color": "brown"}}).value is True
    assert _rel(memory, "ball", "near", "brown dog",
                attributes={"brown dog": {"color": "brown"}}).value is True
    assert _rel(memory, "ball", "near", "car").value is False
    assert _rel(memory, "ball", "touching", "car").value is False
    a = _rel(memory, "ball", "touching", "dog")  # true for one dog, false for the other
    assert a.value is None and "depends" in a.answer
    a = _rel(memory, "ball", "touching", "dog", question="is the ball touching a dog?")
    assert a.value is True and "id 3" in a.answer and "id 1" in a.answer
    a = _rel(memory, "dog", "touching", "ball", question="is any dog touching the ball?")
    assert a.value is True
    a = _rel(memory, "ball", "near", "cat")
    assert a.value is None and "No cat appears" in a.answer


def test_relation_never_together():
    specs = [SceneObject(1, "cat", "black", (25, 25, 25), "circle", 10, (30, 30), (30, 30), 0, 9),
             SceneObject(2, "dog", "white", (240, 240, 240), "circle", 10, (90, 30), (90, 30), 10,
                     19)]
    mem = render(specs, 120, 60, 20, noise=0).memory()
    a = _rel(mem, "cat", "left_of", "dog")
    assert a.value is None and "never visible at the same time" in a.answer


def _cmp(memory, targets, by, **kw):
    return ask(memory, "compare", targets, compare={"by": by}, **kw)


def test_compare(memory):
    a = _cmp(memory, ["car", "dog"], "size")
    assert a.value == "car" and a.evidence[0]["id"] == 4 and a.ids == [4]
    assert _cmp(memory, ["car", "person"], "speed").value == "person"
    assert _cmp(memory, ["car", "person"], "earliest").value == "person"
    assert _cmp(memory, ["car", "person"], "latest").value == "car"
    assert _cmp(memory, ["car", "ball"], "left").value == "ball"
    assert _cmp(memory, ["car", "ball"], "right").value == "car"
    assert _cmp(memory, ["car", "ball"], "top").value == "ball"
    assert _cmp(memory, ["car", "ball"], "bottom").value == "car"
    assert _cmp(memory, ["car", "ball"], "duration").value == "ball"
    assert _cmp(memory, ["car", "dog"], "size").value == "car"
    a = ask(memory, "compare", ["car", "dog"], compare={"by": "size", "order": "least"})
    assert a.value == "dog" and a.ids == [2] and "smaller" in a.answer  # the white dog
    a = ask(memory, "compare", ["car", "person"], compare={"by": "speed", "order": "least"})
    assert a.value == "car"
    # one phrase: which dog is biggest -> a dog, the brown one's id in evidence
    a = _cmp(memory, ["dog"], "size")
    assert a.value == "dog" and a.ids == [1]
    # labels collide: the winning target phrase is returned
    a = _cmp(memory, ["brown dog", "white dog"], "size",
             attributes={"brown dog": {"color": "brown"}, "white dog": {"color": "white"}})
    assert a.value == "brown dog" and a.ids == [1]
    a = _cmp(memory, ["car", "cat"], "size")
    assert a.value is None and "no cat appears" in a.answer


def test_describe_template(memory):
    a = answer(Plan(task="describe"), memory)
    assert isinstance(a.value, str) and a.value == a.answer
    for word in ("2 dogs", "1 ball", "1 car", "1 person", "red ball", "blue car", "moves up"):
        assert word in a.answer
    assert len(a.evidence) == 5
    a = answer(Plan(task="describe", targets=["car"]), memory)
    assert "car" in a.answer and "dog" not in a.answer and a.ids == [4]
    a = answer(Plan(task="describe", targets=["zebra"]), memory)
    assert a.answer == "No zebra appears in the video." and a.evidence == []


class StubLLM:
    """A test double for ``LanguageModel.generate``: returns a canned text, records prompts."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.prompts: list[str] = []

    def generate(self, prompt: str, max_new_tokens: int) -> str:
        self.prompts.append(prompt)
        if self.text is None:
            raise RuntimeError("model crashed")
        return self.text


def test_describe_with_llm_is_grounded(memory):
    good = StubLLM("Two dogs play near a red ball while a person walks up; a blue car arrives.")
    a = answer(Plan(task="describe"), memory, llm=good)
    assert a.answer == good.text and "'label': 'car'" in good.prompts[0]
    invented = StubLLM("A cat chases two dogs around a car.")
    a = answer(Plan(task="describe"), memory, llm=invented)
    assert a.answer != invented.text and a.answer.startswith("The video lasts")
    for text in (None, "   "):
        a = answer(Plan(task="describe"), memory, llm=StubLLM(text))
        assert a.answer.startswith("The video lasts")


@pytest.mark.parametrize(
    "text,ok",
    [("Two dogs play near a red ball while a person walks up; a blue car arrives.", True),
     ("A brown dog and a white dog, a ball, a car and a person appear at 2.0 s.", True),
     ("Three dogs play near a red ball while a person walks up; a blue car arrives.", False),
     ("Two dogs play near a green ball while a person walks up; a blue car arrives.", False),
     ("Two dogs play near a red ball while a person walks up.", False),  # the car is missing
     ("Cells in a grid influence their neighbours in the game of life.", False),
     ("Two dogs, a ball, a car and a person. Two dogs, a ball, a car and a person.", False),
     ("", False)],
)
def test_grounding_check(memory, text, ok):
    from vidagent.reasoning.describe import grounded

    assert grounded(text, memory.present) is ok


def test_unknown_object_check():
    assert mentions_unknown_objects("a zebra walks", ["dog"])
    assert not mentions_unknown_objects("two puppies and a man", ["dog", "person"])
    assert not mentions_unknown_objects("an orange ball", ["ball"])  # colour, not the fruit


def test_no_frames_means_unknown_colours(scene):
    mem = scene.memory(with_frames=False)
    a = ask(mem, "color", ["ball"])
    assert a.value is None and "no video frames" in a.answer
    a = ask(mem, "count", ["red balls"], attributes={"red balls": {"color": "red"}})
    assert a.value is None and "colours are unknown" in a.answer
    assert ask(mem, "exists", ["red ball"], attributes={"red ball": {"color": "red"}}).value is None
    assert ask(mem, "count", ["balls"]).value == 1  # everything else still works


def test_segment_task_returns_ids(memory):
    a = ask(memory, "segment", ["dogs"], question="the dogs")
    assert a.value == [1, 2] and a.ids == [1, 2]
    a = ask(memory, "segment", ["zebra"])
    assert a.value == [] and "No zebra appears" in a.answer


@pytest.mark.parametrize(
    "text,kw,ids",
    [("the dogs", {"targets": ["dogs"]}, [1, 2]),
     ("the dog on the left", {"targets": ["dog"], "position": "left"}, [1]),
     ("the dog at the top", {"targets": ["dog"], "position": "top"}, [2]),
     ("the second dog from the left", {"targets": ["dog"], "ordinal": {"rank": 2, "by": "left"}},
      [2]),
     ("the third dog from the left", {"targets": ["dog"], "ordinal": {"rank": 3, "by": "left"}},
      []),
     ("the white dog", {"targets": ["white dog"],
                        "attributes": {"white dog": {"color": "white"}}}, [2]),
     ("the white dog", {"targets": ["white dog"]}, [2]),  # colour read from the phrase
     ("the dog moving right", {"targets": ["dog"], "motion": "right"}, [2]),
     ("the dog that stays still", {"targets": ["dog"], "motion": "none"}, [1]),
     ("the big dog", {"targets": ["dog"], "attributes": {"dog": {"size": "large"}}}, [1]),
     ("the small dog", {"targets": ["small dog"]}, [2]),
     ("the dog next to the ball", {"targets": ["dog", "ball"], "relation": {
         "subject": "dog", "predicate": "near", "object": "ball"}}, [1]),
     ("the dog touching the car", {"targets": ["dog", "car"], "relation": {
         "subject": "dog", "predicate": "touching", "object": "car"}}, []),
     ("the dog that appears last", {"targets": ["dog"],
                                    "ordinal": {"rank": 1, "by": "latest"}}, [2]),
     ("the dog in the first second", {"targets": ["dog"], "window": {"start": 0, "end": 0.9}},
      [1]),
     ("the man", {"targets": ["man"]}, []),
     ("the pedestrian", {"targets": ["pedestrian"]}, [5]),
     ("the zebra", {"targets": ["zebra"]}, [])],
)
def test_refer(memory, text, kw, ids):
    assert refer(Plan(task="segment", **kw), memory, text) == ids


def test_refer_ambiguous_singular_returns_all_matches(memory):
    assert refer(Plan(task="segment", targets=["dog"]), memory, "the dog") == [1, 2]


def test_answers_are_json_ready(memory):
    import json

    for plan in (Plan(task="count", targets=["dogs"]), Plan(task="where", targets=["car"]),
                 Plan(task="describe"), Plan(task="compare", targets=["car", "dog"],
                                                 compare={"by": "speed"})):
        json.dumps(answer(plan, memory).to_json())


def test_benchmark_generator_sample():
    """A few benchmark scenes (the full run is scripts/bench_reasoning.py)."""
    from vidagent.testing.questions import j_score, make_expressions, make_questions
    from vidagent.testing.scenes import LABELS, random_scene

    rng = np.random.default_rng(7)
    right = total = 0
    js = []
    for k in range(4):
        pool = LABELS if k % 2 == 0 else ("dog", "cat", "ball")
        scene = random_scene(500 + k, num_frames=20, jpeg=60, noise=6, labels_pool=pool)
        mem = scene.memory()
        for q in make_questions(scene, rng):
            right += q.correct(answer(q.plan, mem, q.text).value)
            total += 1
        for e in make_expressions(scene, rng):
            js.append(j_score(scene, refer(e.plan, mem, e.text), e.ids))
    assert total >= 50 and right / total >= 0.95
    assert len(js) >= 8 and np.mean(js) >= 0.95


def test_when_mentions_absences():
    spec = SceneObject(1, "cat", "black", (25, 25, 25), "circle", 10, (30, 30), (30, 30), 0, 39)
    scene = render([spec], 80, 60, 40, noise=0)
    maps = scene.label_maps.copy()
    maps[10:20] = 0  # the cat is out of view on frames 10..19
    mem = scene.memory(label_maps=maps)
    a = answer(Plan(task="when", targets=["cat"], event="leave"), mem)
    assert a.value == pytest.approx(3.9)
    assert "out of view from 1.00 s to 1.90 s" in a.answer
