"""The command line's grammar (Contract 3): every command and option, with its help and its types."""

from __future__ import annotations

import argparse
import math
import re
from typing import NoReturn

from lstm_studio.cli.errors import PROG, UsageError
from lstm_studio.cli.export_command import add_export_parser
from lstm_studio.training import TASKS
from lstm_studio.training.trend import DIFFERENCE_MODES

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


def column_names(text: str) -> tuple[str, ...]:
    """'temp,holiday' -> ('temp', 'holiday')."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"column names separated by commas, like temp,holiday, not {text!r}")
    return names


def named_values(text: str) -> tuple[str, list[float]]:
    """'temp=1,2.5,-3' -> ('temp', [1.0, 2.5, -3.0])."""
    name, equals, values = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"give a column's values as NAME=V1,V2,…, not {text!r}")
    return name.strip(), [number(v) for v in values.split(",") if v.strip()]


def add_experiment_options(p: argparse.ArgumentParser, several: bool = False) -> None:
    """The options that describe one experiment (train's); with ``several``, --hidden, --lr,
    --batch-size and --seq-len take several values, one trial per combination (sweep's)."""
    many = {"nargs": "+"} if several else {}
    p.add_argument("--task", required=True, choices=list(TASKS), help="what to learn")
    p.add_argument("--csv", metavar="FILE", help="CSV file (task csv)")
    p.add_argument("--column", metavar="NAME", help="CSV column to learn (task csv; 1, 2, … without a header)")
    p.add_argument("--time-column", metavar="NAME", help="CSV column with the time of each row (optional)")
    p.add_argument("--horizon", type=int, help="values to predict after each window (series tasks, default 1)")
    p.add_argument(
        "--difference",
        nargs="?",
        const="on",
        choices=DIFFERENCE_MODES,
        help="learn the changes between values (series tasks): auto (default) when the training part has a "
        "trend, on (the same as --difference alone) or off",
    )
    p.add_argument("--no-difference", dest="difference", action="store_const", const="off", help=argparse.SUPPRESS)
    p.add_argument(
        "--missing",
        choices=["error", "interpolate"],
        help="a gap (an empty or NA cell): error (default) or interpolate (series tasks)",
    )
    p.add_argument(
        "--inputs",
        type=column_names,
        metavar="COL,COL",
        help="other CSV columns the network reads beside the column's own history (series tasks)",
    )
    p.add_argument("--hidden", type=layer_sizes, metavar="32,32", help="LSTM layer sizes, bottom first", **many)
    p.add_argument("--lr", type=number, help="Adam learning rate", **many)
    p.add_argument("--epochs", type=int, help="passes over the training data")
    p.add_argument("--batch-size", type=int, help="windows per gradient step", **many)
    p.add_argument("--seq-len", type=int, help="values the network reads before answering", **many)
    p.add_argument("--samples", type=int, help="windows generated (training + validation)")
    p.add_argument("--noise", type=number, help="input noise standard deviation")
    p.add_argument("--clip", type=number, help="largest global gradient norm (0: off)")
    p.add_argument("--val-split", type=number, help="validation fraction, between 0 and 1")
    p.add_argument("--patience", type=int, help="early-stopping patience in epochs (0: off)")
    p.add_argument("--seed", type=int, default=0, help="seed for data, weights and shuffling (default 0)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64", help="float precision")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, with one block of options per command."""
    parser = _Parser(prog=PROG, description="Train and use a from-scratch NumPy LSTM.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a model on a task and save its weights")
    add_experiment_options(t)
    t.add_argument("--out", required=True, metavar="weights.npz", help="where to write the weights")
    t.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    t.add_argument("--runs-dir", metavar="DIR", help="also record the run as a run folder in DIR")

    p = sub.add_parser("predict", help="predict from a sequence of numbers")
    p._negative_number_matcher = NEGATIVE_NUMBER  # so "-1e-3" is a value (no option looks like a number)
    p.add_argument("weights", help="weights file written by train")
    p.add_argument("values", nargs="+", metavar="V", help="the input sequence")
    p.add_argument(
        "--input",
        type=named_values,
        action="append",
        default=[],
        metavar="NAME=V1,V2,…",
        help="the values of another column the model reads, over the same steps (once per column)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")

    e = sub.add_parser("evaluate", help="measure a model on its validation data, beside baselines")
    e.add_argument("weights", help="weights file written by train")
    e.add_argument("--csv", metavar="FILE", help="CSV file (task csv)")
    e.add_argument("--column", metavar="NAME", help="CSV column (task csv)")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    add_export_parser(sub)
    _add_run_commands(sub)
    return parser


def _add_run_commands(sub: argparse._SubParsersAction) -> None:
    """``sweep`` and ``runs`` (Contract 6)."""
    runs_help = "runs directory (default: $LSTM_STUDIO_RUNS, else the user's data folder)"
    s = sub.add_parser("sweep", help="train every combination of several settings, several at a time")
    add_experiment_options(s, several=True)
    s.add_argument("--workers", type=int, help="trials at a time on this machine (default: its cores)")
    s.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="run the trials as Ray tasks: a local Ray instance, or the cluster at ADDRESS")  # fmt: skip
    s.add_argument("--runs-dir", metavar="DIR", help=runs_help)
    s.add_argument("--json", action="store_true", help="print one JSON list, best validation loss first")

    r = sub.add_parser("runs", help="list the recorded runs")
    r.add_argument("--runs-dir", metavar="DIR", help=runs_help)
    r.add_argument("--json", action="store_true", help="print one JSON list")
