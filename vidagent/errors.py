"""Errors a user can cause, each mapped to a command-line exit code.

Every message is one line that says what was wrong and what to do.
"""

from __future__ import annotations


class VidagentError(Exception):
    """Base class of the errors vidagent expects; the CLI prints them as one line."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # keep messages to one line: the CLI and the app show them verbatim
        super().__init__(" ".join(str(message).split()))


class InputError(VidagentError, ValueError):
    """Bad input from the user: unreadable video, empty question, malformed file (exit 2)."""

    exit_code = 2


class WeightsMissingError(VidagentError):
    """Model weights are not available locally and may not be downloaded (exit 3).

    The message names the ``vidagent models download ...`` command that fetches them.
    """

    exit_code = 3

    def __init__(self, what: str, command: str) -> None:
        self.command = command
        super().__init__(f"{what} are not available offline; fetch them with: {command}")
