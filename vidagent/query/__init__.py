"""Query understanding: a question or referring expression becomes a validated ``Plan``."""

from vidagent.query.plan import TASKS, Plan

__all__ = ["TASKS", "Plan"]
