"""The command line's grammar (Contract 3): every command and option, with its help and its types."""

from __future__ import annotations

import argparse
import math
import re
from typing import NoReturn

from lstm_studio.cli.errors import PROG, UsageError
from lstm_studio.training import TASKS

# argparse takes "-1e-3" for an option: its own pattern knows only -1 and -1.5
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line instead of usage text plus a line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


# ----- argument types ----------------------------------------------------------------------
def layer_sizes(text: str) -> tuple[int, ...]:
    """'32,16' -> (32, 16); every size a positive integer."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"layer sizes must be positive integers like 32,32, not {text!r}") from None
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"layer sizes must be positive integers like 32,32, not {text!r}")
    return sizes


def number(text: str) -> float:
    """A finite float."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with one block of options per command."""
    parser = _Parser(prog=PROG, description="Train and use a from-scratch NumPy LSTM.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a model on a task and save its weights")
    t.add_argument("--task", required=True, choices=list(TASKS), help="what to learn")
    t.add_argument("--csv", metavar="FILE", help="CSV file (task csv)")
    t.add_argument("--column", metavar="NAME", help="CSV column to learn (task csv; 1, 2, … without a header)")
    t.add_argument("--time-column", metavar="NAME", help="CSV column with the time of each row (optional)")
    t.add_argument("--horizon", type=int, help="values to predict after each window (series tasks, default 1)")
    t.add_argument(
        "--difference",
        action=argparse.BooleanOptionalAction,
        help="learn the changes between values, for series with a trend (series tasks)",
    )
    t.add_argument("--hidden", type=layer_sizes, metavar="32,32", help="LSTM layer sizes, bottom first")
    t.add_argument("--lr", type=number, help="Adam learning rate")
    t.add_argument("--epochs", type=int, help="passes over the training data")
    t.add_argument("--batch-size", type=int, help="windows per gradient step")
    t.add_argument("--seq-len", type=int, help="values the network reads before answering")
    t.add_argument("--samples", type=int, help="windows generated (training + validation)")
    t.add_argument("--noise", type=number, help="input noise standard deviation")
    t.add_argument("--clip", type=number, help="largest global gradient norm (0: off)")
    t.add_argument("--val-split", type=number, help="validation fraction, between 0 and 1")
    t.add_argument("--patience", type=int, help="early-stopping patience in epochs (0: off)")
    t.add_argument("--seed", type=int, default=0, help="seed for data, weights and shuffling (default 0)")
    t.add_argument("--dtype", choices=["float32", "float64"], default="float64", help="float precision")
    t.add_argument("--out", required=True, metavar="weights.npz", help="where to write the weights")
    t.add_argument("--json", action="store_true", help="print the final metrics as JSON")

    p = sub.add_parser("predict", help="predict from a sequence of numbers")
    p._negative_number_matcher = NEGATIVE_NUMBER  # so "-1e-3" is a value (no option looks like a number)
    p.add_argument("weights", help="weights file written by train")
    p.add_argument("values", nargs="+", metavar="V", help="the input sequence")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    e = sub.add_parser("evaluate", help="measure a model on its validation data, beside baselines")
    e.add_argument("weights", help="weights file written by train")
    e.add_argument("--csv", metavar="FILE", help="CSV file (task csv)")
    e.add_argument("--column", metavar="NAME", help="CSV column (task csv)")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    return parser
