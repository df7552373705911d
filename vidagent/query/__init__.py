"""Query understanding: a question or referring expression becomes a validated ``Plan``.

``QueryParser(llm).parse(text, expression=False) -> Plan`` (``llm`` from
``vidagent.models.llm.load_language_model`` or None for the rules alone); ``parse_rules`` is the
deterministic parser; ``singular`` maps plural nouns to the detector's singular phrase.
"""

from vidagent.vocab import singular
from vidagent.query.parser import QueryParser, check_question, parse_question
from vidagent.query.plan import TASKS, Plan
from vidagent.query.rules import parse_rules

__all__ = ["TASKS", "Plan", "QueryParser", "check_question", "parse_question", "parse_rules",
           "singular"]
