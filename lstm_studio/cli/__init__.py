"""The command line (Contract 3): ``lstm-studio train | predict | evaluate``.

``parser`` defines the options, ``train_command`` and ``saved_commands`` run the commands,
``progress`` draws a run on the terminal and ``entry`` turns every outcome into an exit code:
usage errors exit 2 and other failures exit 1, each with one plain line on stderr.
"""

from lstm_studio.cli.entry import COMMANDS, main, main_entry
from lstm_studio.cli.errors import EXIT_FAILURE, EXIT_USAGE, PROG, CommandError, UsageError
from lstm_studio.cli.parser import build_parser

__all__ = [
    "COMMANDS",
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "PROG",
    "CommandError",
    "UsageError",
    "build_parser",
    "main",
    "main_entry",
]
