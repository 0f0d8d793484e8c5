"""``lstm-studio predict`` and ``evaluate``: the commands that use a saved weights file."""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from lstm_studio.cli.errors import PROG, CommandError, UsageError
from lstm_studio.cli.output import format_prediction, to_json
from lstm_studio.cli.parser import number
from lstm_studio.training import CSV_TASK, Dataset, Evaluation, Task, evaluate
from lstm_studio.training.metrics import baselines
from lstm_studio.training.predictor import AnswerError
from lstm_studio.training.saved import MissingDataError, SavedModel, open_saved, recorded_data
from lstm_studio.weights import WeightsError


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
        prediction = predictor.predict(values, dict(args.input))
    except AnswerError as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if len(values) > predictor.seq_len:
        print(f"{PROG}: note: the model read the last {predictor.seq_len} of the {len(values)} values", file=sys.stderr)
    if args.json:
        print(to_json(prediction.to_json()))
    elif predictor.task.is_classification:
        print(prediction.label)
        for label, p in sorted(prediction.probabilities.items(), key=lambda item: -item[1]):
            print(f"  {label:<12}{p:7.1%}")
    else:
        print(format_prediction(list(prediction.values)))
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
        print(to_json(result))
    else:
        _print_evaluation(result, data.task)
    return 0


def _all_finite(value: object) -> bool:
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def evaluation_report(evaluation: Evaluation, data: Dataset) -> dict:
    """Contract 3's ``evaluate --json`` object."""
    n = len(evaluation.targets)
    if data.task.is_classification:
        return {
            "accuracy": evaluation.accuracy,
            "n": n,
            "classes": list(data.task.classes),
            "confusion_matrix": evaluation.confusion.tolist(),
        }
    return {"rmse": evaluation.rmse, "mae": evaluation.mae, "n": n, "baseline": baselines(data)}


def _print_evaluation(result: dict, task: Task) -> None:
    if task.is_classification:
        classes = task.classes
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
