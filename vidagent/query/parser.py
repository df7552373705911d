"""Question -> validated ``Plan``: language model where it helps, rules everywhere, never a crash.

``QueryParser(llm).parse(text)``:

1. checks the input (empty -> InputError, over ``MAX_QUESTION_CHARS`` -> InputError, control
   characters removed);
2. picks the task: the rule patterns decide when they are sure; otherwise the language model
   scores the eleven allowed labels (it never generates a task name freely);
3. takes targets from the rules (spans copied from the question); with ``llm_targets=True`` the
   model proposes them and only phrases that are spans of the question survive;
4. builds the plan through the rules (constraints, validation), repairing what does not
   validate; any failure of the model falls back to the rules, so a valid plan always comes back.

``Plan.source`` records how the plan was made: "rules" (no model, or the model was not needed
or failed), "llm" (the model picked the task or targets), "repaired" (the model's output or a
constraint had to be fixed or dropped to validate).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable

from vidagent.errors import InputError
from vidagent.query.lexicon import normalize, strip_control, words
from vidagent.vocab import singular
from vidagent.query.plan import MAX_TARGETS, TASKS, Plan, clean_phrase
from vidagent.query.prompts import load_prompt
from vidagent.query.rules import analyse, clean_question

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000  # longer input is refused (InputError): no real question is that long
RULES_SURE = 0.6  # rule task confidence at or above which the model is not asked
LLM_TARGET_TOKENS = 24  # generation budget for the model's target list


_EXAMPLES = {
    "question": '"how many dogs are there?"',
    "expression": '"the dog on the left"',
    "prompt": '"dog . red ball"',
}


def check_question(text: object, what: str = "question") -> str:
    """The question (or expression, prompt) as one line of printable text; InputError when it
    is not text, empty, or too long. Control characters and escapes are removed."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise InputError(f"the {what} must be text, not {type(text).__name__}")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"{what} too long: {len(text)} characters (at most "
                         f"{MAX_QUESTION_CHARS}); ask a shorter {what}")
    text = strip_control(text).replace("\ufffd", " ")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    if not text.strip():
        raise InputError(f"empty {what}: type a {what} such as {_EXAMPLES.get(what, _EXAMPLES['question'])}")
    return " ".join(text.split())


_SENTENCE = re.compile(r"(?:[^.!?]|(?<=\d)\.(?=\d))+[.!?]*")  # "1.5 s" is no sentence end


def question_sentence(text: str) -> str:
    """The last sentence of ``text`` that ends with "?", or ``text`` when there is none or it is
    the only sentence."""
    sentences = [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]
    questions = [s for s in sentences if s.endswith("?")]
    if len(sentences) < 2 or not questions:
        return text
    return questions[-1]


_IS_QUESTION = re.compile(r"\?\s*$|^(?:how|what|which|who|whom|whose|where|when|why|is|are|was|"
                          r"were|does|do|did|can|could|will|would|has|have|had)\b")


class QueryParser:
    """Turns questions and referring expressions into plans (thread-safe, reusable).

    Args:
        llm: a loaded ``vidagent.models.llm.LanguageModel``, or None for the rules alone.
        llm_loader: instead of ``llm``, a no-argument callable that loads the model; it is
            called (once) only when a question needs the model, so questions the rules are
            sure of never pay the load time. Its errors (e.g. WeightsMissingError) propagate.
        llm_targets: let the model propose targets (span-checked) instead of the rules.
        rules_sure: rule confidence at or above which the model is not asked for the task.
    """

    def __init__(self, llm=None, *, llm_loader: Callable[[], object] | None = None,
                 llm_targets: bool = False, rules_sure: float = RULES_SURE) -> None:
        self.llm = llm
        self.llm_loader = llm_loader
        self.llm_targets = llm_targets
        self.rules_sure = rules_sure
        self._lock = threading.Lock()

    def _model(self):
        """The model, loading it through ``llm_loader`` on first need (None when there is none)."""
        if self.llm is None and self.llm_loader is not None:
            with self._lock:
                if self.llm is None:
                    self.llm = self.llm_loader()
        return self.llm

    # ------------------------------------------------------------------ public
    def parse(self, text: str, *, expression: bool = False) -> Plan:
        """A valid plan for ``text``; ``expression=True`` for a referring expression (segment).

        Raises InputError only (empty, too long, not text).
        """
        text = check_question(text)
        base = analyse(text, expression=expression)
        focus = question_sentence(text)
        if focus != text:
            # several sentences, one of them a question: the others (instructions to the
            # assistant, chatter) are not part of what is asked about the video
            alt = analyse(focus, expression=expression)
            if alt.plan.targets:
                text, base = focus, alt
        needs_task = not expression and base.task_confidence < self.rules_sure
        if not (needs_task or self.llm_targets) or self._model() is None:
            return base.plan
        task, targets, used, rejected = base.plan.task, None, False, False
        try:
            if needs_task:
                task = self.llm_task(text)
                used = True
            if self.llm_targets:
                proposed = self.llm_target_phrases(text)
                targets = [t for t in proposed if is_span(t, base.question)]
                rejected = len(targets) < len(proposed)
                used = True
                if not targets:
                    targets = None  # nothing usable: the rules' targets stand
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 -- the model must never take the parser down
            log.warning("language model failed (%s); using the rule parser", exc)
            return base.plan
        if not used:
            return base.plan
        result = analyse(text, expression=expression, task=task, targets=targets)
        source = "repaired" if (result.repaired or rejected) else "llm"
        return result.plan.model_copy(update={"source": source})

    def llm_task(self, text: str) -> str:
        """The allowed label the model scores highest for ``text`` (log-likelihood).

        A question (it ends with "?" or opens with a question word or an auxiliary verb) is
        never a referring expression, so "segment" is not among its choices."""
        scores = self.task_scores(text)
        if _IS_QUESTION.search(text.strip().lower()):
            scores.pop("segment", None)
        return max(scores, key=scores.get)

    def task_scores(self, text: str) -> dict[str, float]:
        """Log-likelihood of each task label as the model's answer to ``text``."""
        prompt = load_prompt("task")
        llm = self._model()
        with self._lock:
            vals = llm.score_options(prompt.messages(text), list(TASKS))
        return {t: (v if math.isfinite(v) else -math.inf) for t, v in zip(TASKS, vals)}

    def llm_target_phrases(self, text: str) -> list[str]:
        """Target phrases the model writes for ``text``, cleaned (not yet span-checked)."""
        prompt = load_prompt("targets")
        llm = self._model()
        with self._lock:
            out = llm.generate(prompt.messages(text), max_new_tokens=LLM_TARGET_TOKENS,
                                    stop=("\n",))
        phrases: list[str] = []
        for part in out.split(","):
            p = clean_phrase(part)
            if p and p != "none":
                head = singular(p)
                if head not in phrases:
                    phrases.append(head)
        return phrases[:MAX_TARGETS]


def is_span(phrase: str, question: str) -> bool:
    """Whether ``phrase`` copies consecutive words of ``question`` (plural/singular alike)."""
    want = [singular(w) for w in words(normalize(phrase))]
    have = [singular(w) for w in words(normalize(question))]
    if not want:
        return False
    n = len(want)
    return any(have[i: i + n] == want for i in range(len(have) - n + 1))


def parse_question(text: str, llm=None, expression: bool = False) -> Plan:
    """One-call convenience: ``QueryParser(llm).parse(text, expression=expression)``."""
    return QueryParser(llm).parse(text, expression=expression)


__all__ = [
    "MAX_QUESTION_CHARS",
    "QueryParser",
    "check_question",
    "clean_question",
    "is_span",
    "parse_question",
]
