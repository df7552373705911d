"""Prompt files: instructions and few-shot examples for the language model, kept as text files.

A prompt file (``prompts/<name>.md``) has two sections::

    ## system
    <instructions>
    ## examples
    <question> => <answer>      (one per line)

Where the files are looked up, first hit wins:

1. ``$VIDAGENT_PROMPTS_DIR`` (a user's own prompts);
2. the repository's top-level ``prompts/`` (a source checkout or editable install);
3. ``vidagent/prompts/`` inside an installed package: the same top-level folder, shipped there by
   the build (setup.py maps the package ``vidagent.prompts`` onto ``prompts/``); no copy is kept
   in the source tree.

``{labels}`` in a system section becomes the task list of ``vidagent.query.tasks`` (one
"name: question shape" line per task), so a new task needs no edit here.

The question never becomes part of the instructions: it is inserted as a JSON string literal in
the last user turn, after the instructions say that quoted text is data.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from vidagent.errors import InputError
from vidagent.query.tasks import label_lines

_PKG = Path(__file__).resolve().parent.parent  # .../vidagent
MAX_QUOTED_CHARS = 600  # the model only sees the start of a very long question


def prompt_dirs() -> list[Path]:
    """Folders searched for prompt files, in order."""
    dirs = []
    if os.environ.get("VIDAGENT_PROMPTS_DIR"):
        dirs.append(Path(os.environ["VIDAGENT_PROMPTS_DIR"]))
    dirs += [_PKG.parent / "prompts", _PKG / "prompts"]
    return dirs


def quote(question: str) -> str:
    """The question as a JSON string literal (quotes, backslashes, control chars escaped).

    ``<`` and ``>`` are written as JSON escapes too, so text such as ``<|im_start|>`` in a
    question can never become one of the model's special tokens.
    """
    text = json.dumps(str(question)[:MAX_QUOTED_CHARS], ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e")


@dataclass(frozen=True)
class FewShotPrompt:
    """Instructions plus (question, answer) examples, rendered as chat messages."""

    name: str
    system: str
    examples: tuple[tuple[str, str], ...]

    def messages(self, question: str) -> list[dict]:
        """System turn, one user/assistant pair per example, then the quoted question."""
        msgs = [{"role": "system", "content": self.system}]
        for q, a in self.examples:
            msgs.append({"role": "user", "content": f"Question: {quote(q)}"})
            msgs.append({"role": "assistant", "content": a})
        msgs.append({"role": "user", "content": f"Question: {quote(question)}"})
        return msgs


def parse_prompt_text(name: str, text: str) -> FewShotPrompt:
    """Parse the two-section format (see the module docstring)."""
    section, system, examples = None, [], []
    for line in text.splitlines():
        head = line.strip().lower()
        if head.startswith("## "):
            section = head[3:].strip()
            continue
        if section == "system":
            system.append(line)
        elif section == "examples" and "=>" in line:
            q, _, a = line.rpartition("=>")
            if q.strip() and a.strip():
                examples.append((q.strip(), a.strip()))
    if not "".join(system).strip():
        raise InputError(f"prompt file {name!r} has no '## system' section")
    text = "\n".join(system).strip().replace("{labels}", label_lines())
    return FewShotPrompt(name, text, tuple(examples))


@lru_cache(maxsize=16)
def load_prompt(name: str) -> FewShotPrompt:
    """Load ``<name>.md`` from the first prompt folder holding it (see ``prompt_dirs``)."""
    for folder in prompt_dirs():
        path = folder / f"{name}.md"
        if path.is_file():
            return parse_prompt_text(name, path.read_text(encoding="utf-8"))
    where = ", ".join(str(d) for d in prompt_dirs())
    raise InputError(f"prompt {name!r} not found in {where}; set VIDAGENT_PROMPTS_DIR")
