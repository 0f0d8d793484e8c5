"""How a command fails: usage errors exit 2 and other failures exit 1, each with one plain line on stderr."""

from __future__ import annotations

PROG = "lstm-studio"
EXIT_FAILURE, EXIT_USAGE = 1, 2


class UsageError(Exception):
    """Bad arguments: exit 2."""


class CommandError(Exception):
    """Anything else that stops a command: exit 1."""
