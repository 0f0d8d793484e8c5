"""Running one command: parse, dispatch, and turn every failure into an exit code and one line on stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from lstm_studio.cli.errors import EXIT_FAILURE, EXIT_USAGE, PROG, CommandError, UsageError
from lstm_studio.cli.export_command import cmd_export
from lstm_studio.cli.parser import build_parser
from lstm_studio.cli.run_commands import cmd_runs, cmd_sweep
from lstm_studio.cli.saved_commands import cmd_evaluate, cmd_predict
from lstm_studio.cli.train_command import cmd_train

COMMANDS = {
    "train": cmd_train,
    "predict": cmd_predict,
    "evaluate": cmd_evaluate,
    "export": cmd_export,
    "sweep": cmd_sweep,
    "runs": cmd_runs,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"{PROG}: error: out of memory: make the run smaller (samples, sequence length, batch or layers)",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILURE
    except Exception as exc:  # a bug: still one line, and the details on request
        if os.environ.get("LSTM_STUDIO_DEBUG"):
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} (set LSTM_STUDIO_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_FAILURE


def main_entry() -> NoReturn:
    """Console-script entry point: run and exit with the command's code."""
    sys.exit(main())
