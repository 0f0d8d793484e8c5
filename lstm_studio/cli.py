"""The command line (Contract 3): ``lstm-studio train | predict | evaluate``.

Usage errors exit 2 and other failures exit 1, each with one plain line on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import numpy as np

from lstm_studio.progress import Progress
from lstm_studio.training import (
    COMPLETED,
    CSV_TASK,
    EARLY_STOPPED,
    FAILED,
    STOPPED,
    TASKS,
    Evaluation,
    Experiment,
    Predictor,
    RunEnd,
    evaluate,
    run_meta,
    train,
)
from lstm_studio.training.metrics import baselines
from lstm_studio.training.predictor import AnswerError
from lstm_studio.training.saved import MissingDataError, SavedModel, open_saved, recorded_data
from lstm_studio.weights import WeightsError, check_target, save_weights

PROG = "lstm-studio"
EXIT_FAILURE, EXIT_USAGE = 1, 2
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # Ctrl-C, a scheduler's timeout or kill, a closed terminal
# argparse takes "-1e-3" for an option: its own pattern knows only -1 and -1.5
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


class UsageError(Exception):
    """Bad arguments: exit 2."""


class CommandError(Exception):
    """Anything else that stops a command: exit 1."""


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


# ----- commands ----------------------------------------------------------------------------
def experiment_from_args(args: argparse.Namespace) -> Experiment:
    """The task's defaults, overridden by every option the user gave."""
    series_only = {"--csv": args.csv, "--time-column": args.time_column, "--horizon": args.horizon,
                   "--difference": args.difference}  # fmt: skip
    if not TASKS[args.task].series:
        given = [flag for flag, value in {**series_only, "--column": args.column}.items() if value is not None]
        if given:
            raise UsageError(f"{', '.join(given)} only apply to series tasks (sunspots, csv)")
    if args.task != CSV_TASK and args.csv is not None:
        raise UsageError("--csv applies to --task csv")
    chosen = {
        "csv_path": os.path.abspath(args.csv) if args.csv else None,
        "column": args.column,
        "time_column": args.time_column,
        "horizon": args.horizon,
        "difference": args.difference,
        "hidden_sizes": args.hidden,
        "lr": args.lr,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "seq_len": args.seq_len,
        "n_samples": args.samples,
        "noise": args.noise,
        "clip": args.clip,
        "val_split": args.val_split,
        "patience": args.patience,
        "seed": args.seed,
        "dtype": args.dtype,
    }
    experiment = Experiment.for_task(args.task).with_changes(**{k: v for k, v in chosen.items() if v is not None})
    try:
        experiment.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return experiment


def cmd_train(args: argparse.Namespace) -> int:
    """Train, report progress, save the best weights, print the final metrics."""
    experiment = experiment_from_args(args)
    inputs = [experiment.csv_path] if experiment.csv_path else []
    try:
        check_target(args.out, inputs=inputs)  # before a long run, not after it
    except WeightsError as exc:
        raise CommandError(str(exc)) from None
    with stop_on_signals() as received:
        try:
            data = experiment.make_dataset()
        except ValueError as exc:  # CsvError, or a series too short for its windows
            raise CommandError(str(exc)) from None
        model = experiment.make_model()
        progress = Progress(sys.stderr, experiment.train.epochs, interactive=sys.stderr.isatty())
        try:
            for event in train(model, data, experiment.train, should_stop=lambda: bool(received)):
                progress.show(event)
        finally:
            progress.close()
        if received and received[0] != signal.SIGINT:
            print(
                f"{PROG}: {signal.Signals(received[0]).name} received: stopped after the current batch", file=sys.stderr
            )
        assert isinstance(event, RunEnd)
        if event.status == FAILED:
            raise CommandError(f"{event.message}; nothing was written")
        if event.status == STOPPED and not event.best_epoch:
            raise CommandError("stopped before the first epoch finished; nothing was written")
        meta = run_meta(experiment, data, event.evaluation, event.train_loss, saved_in=Path(args.out).parent)
        try:
            save_weights(args.out, model, meta, inputs=inputs)
        except WeightsError as exc:
            raise CommandError(str(exc)) from None
    report = {
        "status": event.status,
        "message": event.message,
        "best_epoch": event.best_epoch,
        "metrics": {"train_loss": event.train_loss, **event.evaluation.summary()},
        "examples": _examples(experiment, Predictor.for_data(model, data)),
        "out": args.out,
    }
    if args.json:
        print(_json(report))
    else:
        _print_train_report(report, event)
    return 0


@contextmanager
def stop_on_signals() -> Iterator[list[int]]:
    """Ctrl-C, SIGTERM and SIGHUP ask the run to stop after its batch, and the best weights are
    still saved; the list yielded holds the signals received. A second signal stops at once."""
    received: list[int] = []

    def handle(signum: int, _frame: object) -> None:
        received.append(signum)
        if len(received) > 1:
            raise KeyboardInterrupt

    previous = {}
    for name in STOP_SIGNALS:
        if hasattr(signal, name):
            number = getattr(signal, name)
            previous[number] = signal.signal(number, handle)
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _examples(experiment: Experiment, predictor: Predictor) -> list[dict]:
    """The task's showcase inputs (the seed's [0..9] and [15..24]) with the model's answers,
    where they are long enough for the model's sequence length."""
    return [
        {"input": list(values), **predictor.predict(values).to_json()}
        for values in experiment.task_spec.examples
        if len(values) >= predictor.seq_len
    ]


def _print_train_report(report: dict, end: RunEnd) -> None:
    verdict = {COMPLETED: "done", EARLY_STOPPED: "early stop", STOPPED: "stopped"}[end.status]
    print(f"{verdict}: {end.message}; best epoch {end.best_epoch}, {end.elapsed:.1f} s")
    for name, value in report["metrics"].items():
        print(f"  {name:<13}{value:.6g}")
    for example in report["examples"]:
        shown = ", ".join(f"{v:g}" for v in example["input"])
        print(f"  [{shown}] -> {_format_prediction(example['prediction'])}")
    print(f"weights written to {report['out']}")


def _format_prediction(prediction: object) -> str:
    if isinstance(prediction, list):
        return ", ".join(f"{v:.4f}" for v in prediction)
    return str(prediction)


def _open(path: str) -> SavedModel:
    try:
        return open_saved(path)
    except WeightsError as exc:
        raise CommandError(str(exc)) from None


def cmd_predict(args: argparse.Namespace) -> int:
    """Print the model's answer for the given values."""
    try:
        values = [number(v) for v in args.values]
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"{exc}: predict takes numbers, e.g. 0 1 2 3") from None
    predictor = _open(args.weights).predictor
    try:
        prediction = predictor.predict(values)
    except AnswerError as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if len(values) > predictor.seq_len:
        print(f"{PROG}: note: the model read the last {predictor.seq_len} of the {len(values)} values", file=sys.stderr)
    if args.json:
        print(_json(prediction.to_json()))
    elif prediction.label is not None:
        print(prediction.label)
        for label, p in sorted(prediction.probabilities.items(), key=lambda item: -item[1]):
            print(f"  {label:<12}{p:7.1%}")
    else:
        print(_format_prediction(list(prediction.values)))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Rebuild the recorded validation part and report the model on it, beside baselines."""
    saved = _open(args.weights)
    if (args.csv or args.column) and saved.experiment.task != CSV_TASK:
        raise UsageError("--csv and --column apply to weights trained on a CSV file (task csv)")
    try:
        data = recorded_data(saved, args.csv, args.column)
    except MissingDataError as exc:
        raise CommandError(f"{exc}: give its location with --csv FILE (and --column NAME)") from None
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    with np.errstate(over="ignore", invalid="ignore"):
        result = evaluation_report(evaluate(saved.model, data), data)
    if not _all_finite(result):
        raise CommandError("the model's answers on the validation data are not finite numbers")
    if args.json:
        print(_json(result))
    else:
        _print_evaluation(result, data.task.classes)
    return 0


def _all_finite(value: object) -> bool:
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def _json(record: dict) -> str:
    """Strict JSON: a NaN or an infinity is an error here, never ``NaN`` in the output."""
    return json.dumps(record, allow_nan=False)


def evaluation_report(evaluation: Evaluation, data) -> dict:
    """Contract 3's ``evaluate --json`` object."""
    n = len(evaluation.targets)
    if evaluation.accuracy is not None:
        return {
            "accuracy": evaluation.accuracy,
            "n": n,
            "classes": list(data.task.classes),
            "confusion_matrix": evaluation.confusion.tolist(),
        }
    return {"rmse": evaluation.rmse, "mae": evaluation.mae, "n": n, "baseline": baselines(data)}


def _print_evaluation(result: dict, classes: Sequence[str]) -> None:
    if "accuracy" in result:
        print(f"accuracy {result['accuracy']:.2%} on {result['n']} validation windows")
        width = max(len(c) for c in classes) + 2
        print(" " * width + "".join(f"{c[:9]:>10}" for c in classes) + "   (rows: true, columns: predicted)")
        for label, row in zip(classes, result["confusion_matrix"], strict=True):
            print(f"{label:<{width}}" + "".join(f"{v:>10}" for v in row))
        return
    b = result["baseline"]
    print(f"on {result['n']} validation windows, raw units:")
    print(f"  model        rmse {result['rmse']:.6g}  mae {result['mae']:.6g}")
    print(f"  persistence  rmse {b['persistence_rmse']:.6g}  (repeat the last value)")
    print(f"  mean         rmse {b['mean_rmse']:.6g}  (always the training mean)")


COMMANDS = {"train": cmd_train, "predict": cmd_predict, "evaluate": cmd_evaluate}


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
