"""Reasoning over the scene memory: answers (``answer``) and referred objects (``refer``).

``from vidagent.reasoning import answer, refer, Answer`` works; the submodules are imported on
first use.
"""

from __future__ import annotations

__all__ = ["Answer", "answer", "refer"]


def __getattr__(name: str):
    if name in ("Answer", "answer"):
        from vidagent.reasoning import executor

        return getattr(executor, name)
    if name == "refer":
        from vidagent.reasoning.referring import refer

        return refer
    raise AttributeError(f"module 'vidagent.reasoning' has no attribute {name!r}")
