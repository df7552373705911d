"""Output paths that would overwrite a command's own inputs are refused (CONTRACT.md).

A command never overwrites what it reads: its output folder must not be one of its inputs, hold
one of them, or lie inside one. Paths are compared after resolving symlinks, so a link to an
input is the input.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from vidagent.errors import InputError


def _real(path: str | os.PathLike) -> Path:
    return Path(os.path.realpath(Path(path).expanduser()))


def overlap(out: str | os.PathLike, source: str | os.PathLike) -> str | None:
    """How ``out`` collides with input ``source`` ("is", "contains", "lies inside"), or None."""
    o, s = _real(out), _real(source)
    if o == s:
        return "is"
    if o in s.parents:
        return "contains"
    if s in o.parents:
        return "lies inside"
    return None


def check_out_not_input(
    out: str | os.PathLike, inputs: Iterable[tuple[str, str | os.PathLike | None]]
) -> None:
    """Refuse an output folder that is, contains or lies inside one of ``inputs``.

    Args:
        out: the output folder (need not exist yet).
        inputs: (what, path) pairs, e.g. ``("the video", "clip.mp4")``; None paths are skipped.

    Raises:
        InputError (exit 2) naming the input and what to do.
    """
    for what, path in inputs:
        if path is None:
            continue
        how = overlap(out, path)
        if how is not None:
            raise InputError(
                f"--out {out} {how} {what} ({path}); a command never overwrites what it reads: "
                "choose another --out"
            )
