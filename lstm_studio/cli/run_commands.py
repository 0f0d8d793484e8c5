"""``lstm-studio sweep`` and ``lstm-studio runs`` (Contract 6): many trials at once, and the runs kept."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from lstm_studio.cli.errors import PROG, CommandError, UsageError
from lstm_studio.cli.output import to_json
from lstm_studio.cli.train_command import experiment_from_args, runs_dir_from, stop_on_signals
from lstm_studio.training.run_format import RunStoreError
from lstm_studio.training.run_reader import list_runs
from lstm_studio.training.run_store import resolve_runs_dir
from lstm_studio.training.sweep import Sweep, TrialEnd, best_first
from lstm_studio.training.sweep_backends import RayPool, SweepError

SWEPT_OPTIONS = {"lr": "lr", "hidden": "hidden_sizes", "batch_size": "batch_size", "seq_len": "seq_len"}
POLL_SECONDS = 0.2


def cmd_sweep(args: argparse.Namespace) -> int:
    """Train every combination, print one line per finished trial on stderr, then the results."""
    grid = {key: getattr(args, option) for option, key in SWEPT_OPTIONS.items() if getattr(args, option)}
    first = {option: values[0] for option, values in vars(args).items() if option in SWEPT_OPTIONS and values}
    base = experiment_from_args(argparse.Namespace(**{**vars(args), **first}))  # also checks the other options
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    if args.workers is not None and args.ray is not None:
        raise UsageError("--workers applies to sweeps on this machine; Ray runs as many trials as its CPUs allow")
    runs_dir = runs_dir_from(args.runs_dir)
    try:
        sweep = Sweep.plan(base, grid, runs_dir, args.workers, args.ray)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except (SweepError, RunStoreError) as exc:
        raise CommandError(str(exc)) from None
    received = _run(sweep)
    rows = sweep.results()
    print(to_json(rows) if args.json else format_table(rows))
    if received:
        name = signal.Signals(received[0]).name
        print(f"{PROG}: {name} received: the sweep was cancelled, unfinished trials stopped", file=sys.stderr)
        return 128 + received[0]
    return 0


def _run(sweep: Sweep) -> list[int]:
    """Run the sweep to its end, or cancel it on Ctrl-C, SIGTERM or SIGHUP; the signals received."""
    done = 0
    local = f"{sweep.workers} at a time, each in a process of its own"
    where = "as Ray tasks" if isinstance(sweep.backend, RayPool) else local
    folder = Path(sweep.trials[0].run_dir).parent
    print(f"{len(sweep.trials)} trials, {where}; runs in {folder}", file=sys.stderr, flush=True)
    with stop_on_signals(escalate=False) as received:
        try:
            sweep.start()
        except SweepError as exc:
            raise CommandError(str(exc)) from None
        try:
            while not sweep.finished:
                if received and not sweep.cancelled:
                    sweep.cancel()
                sweep.wait(POLL_SECONDS)
                for event in sweep.poll():
                    if isinstance(event, TrialEnd):
                        done += 1
                        print(f"[{done}/{len(sweep.trials)}] {trial_line(event.result)}", file=sys.stderr, flush=True)
        finally:
            if not sweep.finished:  # an error of our own: leave no process behind
                sweep.cancel()
            sweep.close()
    return received


def trial_line(row: dict) -> str:
    """One finished trial: status, settings, validation loss, best epoch, time, folder or message."""
    settings = ", ".join(f"{key} {_value(value)}" for key, value in row["settings"].items())
    parts = [row["status"], settings] if settings else [row["status"]]
    if row.get("val_loss") is not None:
        parts.append(f"val_loss {row['val_loss']:.6g}, best epoch {row['best_epoch']}")
    if row.get("seconds") is not None:
        parts.append(f"{row['seconds']:.1f} s")
    if row["status"] != "completed" and row.get("message"):
        parts.append(row["message"])
    return "  ".join([*parts, row["run_dir"] or ""]).rstrip()


def _value(value: object) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(value: object) -> str:
    return "" if value is None else f"{value:.6g}"


def format_table(rows: list[dict]) -> str:
    """The sweep's results as aligned columns, in the order given (best first), a column per swept setting."""
    swept = list(dict.fromkeys(key for row in rows for key in row["settings"]))
    metric = next((m for row in rows for m in ("val_rmse", "val_accuracy") if m in row["metrics"]), "")
    header = ["#", "status", "val_loss", *([metric] if metric else []), "best", "seconds", *swept, "run"]
    table = [header]
    for rank, row in enumerate(rows, 1):
        cells = [str(rank), row["status"], _number(row["val_loss"])]
        cells += [_number(row["metrics"].get(metric))] if metric else []
        cells += [str(row["best_epoch"] or ""), "" if row["seconds"] is None else f"{row['seconds']:.1f}"]
        cells += [_value(row["settings"].get(key, "")) for key in swept]
        cells.append(row["run_dir"] or row["message"])
        table.append(cells)
    notes = [f"  {rank}: {row['message']}" for rank, row in enumerate(rows, 1) if row["status"] == "failed"]
    return "\n".join([aligned(table), *notes])


def aligned(table: list[list[str]]) -> str:
    """Rows of cells as text columns, two spaces apart."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table)


def cmd_runs(args: argparse.Namespace) -> int:
    """List the runs of the runs directory: the table oldest first, ``--json`` best validation loss first
    as a sweep's list (Contract 6), runs without one after in start order; unreadable folders with their
    reason. Listing writes nothing: a read-only folder lists, and a mistyped one is not created."""
    runs_dir = resolve_runs_dir(args.runs_dir)
    try:
        runs = list_runs(runs_dir)
    except RunStoreError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(to_json(best_first([run.to_json() for run in runs])))
        return 0
    if not runs:
        print(f"no runs in {runs_dir}")
        return 0
    table = [["started", "status", "task", "name", "val_loss", "metric", "best", "seconds", "folder"]]
    for run in runs:
        if not run.readable:
            table.append(["", "unreadable", "", run.message, "", "", "", "", run.folder.name])
            continue
        metric = next(
            (f"{m[4:]} {run.metrics[m]:.4g}" for m in ("val_rmse", "val_accuracy") if run.metrics.get(m) is not None),
            "",
        )
        seconds = "" if run.seconds is None else f"{run.seconds:.1f}"
        table.append([run.started, run.status, run.task, run.title, _number(run.val_loss), metric,
                      str(run.best_epoch or ""), seconds, run.folder.name])  # fmt: skip
    print(f"runs in {runs_dir}:")
    print(aligned(table))
    return 0
