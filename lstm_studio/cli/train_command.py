"""``lstm-studio train``: build the experiment from the options, train with progress, save the best weights."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lstm_studio.cli.errors import PROG, CommandError, UsageError
from lstm_studio.cli.output import format_prediction, to_json
from lstm_studio.cli.progress import Progress
from lstm_studio.core import LSTMModel
from lstm_studio.training import (
    COMPLETED,
    CSV_TASK,
    EARLY_STOPPED,
    FAILED,
    STOPPED,
    TASKS,
    Dataset,
    EpochEnd,
    Experiment,
    Predictor,
    RunEnd,
    run_meta,
    train,
)
from lstm_studio.training.run_format import RunStoreError
from lstm_studio.training.run_recorder import RunRecorder
from lstm_studio.training.run_store import ensure_runs_dir, resolve_runs_dir
from lstm_studio.weights import WeightsError, check_target, save_weights

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # Ctrl-C, a scheduler's timeout or kill, a closed terminal


def experiment_from_args(args: argparse.Namespace) -> Experiment:
    """The task's defaults, overridden by every option the user gave."""
    series_only = {"--csv": args.csv, "--time-column": args.time_column, "--horizon": args.horizon,
                   "--difference": args.difference, "--inputs": args.inputs,
                   "--missing": args.missing}  # fmt: skip
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
        "inputs": args.inputs,
        "missing": args.missing,
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
    runs_dir = runs_dir_from(args.runs_dir) if args.runs_dir else None
    with stop_on_signals() as received:
        try:
            data = experiment.make_dataset()
        except ValueError as exc:  # CsvError, or a series too short for its windows
            raise CommandError(str(exc)) from None
        for note in experiment.data_notes(data):
            print(f"{PROG}: {note}", file=sys.stderr)
        model = experiment.make_model()
        try:
            recorder = RunRecorder.create(runs_dir, experiment) if runs_dir else None
            event = _train_with_progress(experiment, model, data, received, recorder)
        except RunStoreError as exc:
            raise CommandError(str(exc)) from None
        if received and received[0] != signal.SIGINT:
            print(
                f"{PROG}: {signal.Signals(received[0]).name} received: stopped after the current batch", file=sys.stderr
            )
        nothing = f"no weights were written (the run is in {recorder.folder})" if recorder else "nothing was written"
        if event.status == FAILED:
            raise CommandError(f"{event.message}; {nothing}")
        if event.status == STOPPED and not event.best_epoch:
            raise CommandError(f"stopped before the first epoch finished; {nothing}")
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
        **({"trend": experiment.difference_reason(data)} if data.series is not None else {}),
        "out": args.out,
    }
    if recorder is not None:
        report["run_dir"] = str(recorder.folder)
    if args.json:
        print(to_json(report))
    else:
        _print_train_report(report, event)
    return 0


def runs_dir_from(given: str | None) -> Path:
    """The runs directory (``--runs-dir``, else $LSTM_STUDIO_RUNS, else the user's data folder),
    created and proven writable; CommandError with the one reason otherwise."""
    try:
        return ensure_runs_dir(resolve_runs_dir(given))
    except RunStoreError as exc:
        raise CommandError(str(exc)) from None


def _train_with_progress(
    experiment: Experiment, model: LSTMModel, data: Dataset, received: list[int], recorder: RunRecorder | None
) -> RunEnd:
    """Train, drawing progress and, with a recorder, writing the run folder as it goes."""
    progress = Progress(sys.stderr, experiment.task_spec, experiment.train.epochs, sys.stderr.isatty())
    with recorder or contextlib.nullcontext():
        try:
            for event in train(model, data, experiment.train, should_stop=lambda: bool(received)):
                progress.show(event)
                if recorder is not None and isinstance(event, EpochEnd):
                    recorder.epoch(event)
        finally:
            progress.close()
        assert isinstance(event, RunEnd)
        if recorder is not None:
            recorder.finish(event, model, data)
    return event


@contextmanager
def stop_on_signals(escalate: bool = True) -> Iterator[list[int]]:
    """Ctrl-C, SIGTERM and SIGHUP ask the run to stop after its batch, and the best weights are
    still saved; the list yielded holds the signals received. With ``escalate``, a second signal
    stops at once (KeyboardInterrupt)."""
    received: list[int] = []

    def handle(signum: int, _frame: object) -> None:
        received.append(signum)
        if escalate and len(received) > 1:
            raise KeyboardInterrupt

    previous = {}
    for name in STOP_SIGNALS:
        if hasattr(signal, name):
            signum = getattr(signal, name)
            previous[signum] = signal.signal(signum, handle)
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
        print(f"  [{shown}] -> {format_prediction(example['prediction'])}")
    print(f"weights written to {report['out']}")
    if "run_dir" in report:
        print(f"run recorded in {report['run_dir']}")
