"""The task registry: one spec per task, the plan's literal, the rule hook, the prompt's label
list and the executors all come from it."""

from __future__ import annotations

import typing
from pathlib import Path

from vidagent.query.parser import QueryParser
from vidagent.query.plan import Plan, Task
from vidagent.query.prompts import load_prompt
from vidagent.query.tasks import TASK_SPECS, TASKS, label_lines, spec, task_patterns
from vidagent.reasoning.executor import EXECUTORS

ROOT = Path(__file__).resolve().parent.parent


def test_plan_literal_and_executors_follow_the_specs():
    assert typing.get_args(Task) == TASKS == tuple(s.name for s in TASK_SPECS)
    assert len(set(TASKS)) == len(TASKS)
    assert set(EXECUTORS) == set(TASKS)


def test_rule_hook_is_ordered_and_every_rule_names_its_task():
    orders = [r.order for s in TASK_SPECS for r in s.rules]
    assert len(orders) == len(set(orders))
    assert [t for t, _, _ in task_patterns()] == [
        name for _, name in sorted((r.order, s.name) for s in TASK_SPECS for r in s.rules)]
    assert spec("count").rules and spec("count").value.startswith("int")


def test_prompt_label_list_comes_from_the_specs():
    assert "{labels}" in (ROOT / "prompts" / "task.md").read_text()
    assert label_lines() in load_prompt("task").system
    for s in TASK_SPECS:
        assert f"{s.name}: {s.shape}" in label_lines()

    class Recorder:
        def score_options(self, messages, options):
            self.system = messages[0]["content"]
            return [0.0 if o == "count" else -1.0 for o in options]

    llm = Recorder()
    assert QueryParser(llm).task_scores("x")["count"] == 0.0
    assert "{labels}" not in llm.system and label_lines() in llm.system


def test_every_task_plan_validates():
    for name in TASKS:
        extra = {"relation": {"subject": "a", "predicate": "near", "object": "b"}} \
            if name == "relation" else {"compare": {"by": "size"}} if name == "compare" else {}
        Plan(task=name, targets=["a", "b"], **extra)
