"""Reading run folders for a list: ``read_run`` and ``list_runs`` never raise for a damaged
folder, a stray file or a folder from another version; they return an entry whose status is
``unreadable`` and whose message says why, so a window lists it instead of failing to start.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from lstm_studio.training.experiment import Experiment
from lstm_studio.training.process_identity import process_gone
from lstm_studio.training.records import read_float, read_int, read_object, read_str
from lstm_studio.training.run_format import (
    HISTORY_FILE,
    RUN_FORMAT,
    RUNNING,
    STATUSES,
    UNREADABLE,
    WEIGHTS_FILE,
    RunFileError,
    RunHistory,
    RunStoreError,
    read_history,
    read_record,
)
from lstm_studio.training.trainer import COMPLETED, STOPPED


@dataclass(frozen=True)
class RunInfo:
    """What a list shows of one run folder; ``record`` is its whole run.json ({} if unreadable).
    A readable run's experiment is known to be usable: a run.json that records none is unreadable."""

    folder: Path
    status: str  # running, completed, stopped, failed, or unreadable
    message: str = ""  # how it ended, or why it cannot be read
    name: str = ""  # display name
    task: str = ""
    started: str = ""  # ISO 8601, UTC
    seconds: float | None = None
    epochs_run: int = 0
    best_epoch: int = 0
    metrics: dict = field(default_factory=dict)  # of the best epoch: train_loss, val_loss, val_rmse|val_accuracy…
    baselines: dict = field(default_factory=dict)  # regression: persistence_rmse, mean_rmse
    settings: dict = field(default_factory=dict)  # the values a sweep varied
    experiment: Experiment | None = None  # what ran, checked: to restore a form or train it again
    record: dict = field(default_factory=dict)

    @property
    def readable(self) -> bool:
        """Whether run.json could be read (its history and weights are read on demand)."""
        return self.status != UNREADABLE

    @property
    def title(self) -> str:
        """The display name, or the folder's name."""
        return self.name or self.folder.name

    @property
    def val_loss(self) -> float | None:
        """The best validation loss, where an epoch finished."""
        value = self.metrics.get("val_loss")
        return float(value) if isinstance(value, int | float) else None

    @property
    def weights_path(self) -> Path | None:
        """The best epoch's weights file, where one was written."""
        path = self.folder / WEIGHTS_FILE
        return path if path.is_file() else None

    def history(self) -> RunHistory:
        """The recorded epochs (RunFileError, a ValueError, naming what is wrong)."""
        return read_history(self.folder)

    def to_json(self) -> dict:
        """One object of ``runs --json`` and ``sweep --json``."""
        return {
            "run_dir": str(self.folder),
            "status": self.status,
            "message": self.message,
            "name": self.title,
            "task": self.task,
            "started": self.started,
            "val_loss": self.val_loss,
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "seconds": self.seconds,
            "metrics": self.metrics,
            "baselines": self.baselines,
            "settings": self.settings,
        }


def read_run(folder: str | os.PathLike) -> RunInfo:
    """The run in ``folder``; never raises: what cannot be read is an ``unreadable`` entry."""
    folder = Path(folder)
    try:
        return _read(folder)
    except (RunFileError, ValueError, TypeError, OSError, RecursionError, MemoryError) as exc:
        return RunInfo(folder, UNREADABLE, message=_reason(exc))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"cannot be read: {exc.strerror or exc}"
    if isinstance(exc, MemoryError):
        return "too large to read"
    return str(exc)


def _read(folder: Path) -> RunInfo:
    if not folder.is_dir():
        raise RunFileError("not a run folder: a file" if folder.exists() else "not a run folder: nothing is there")
    record = read_record(folder)
    _check_format(record.get("format"))
    status = read_str(record, "status", "run.json")
    if status not in STATUSES:
        raise RunFileError(f"run.json has an unknown status {status[:40]!r}")
    message = read_str(record, "message", "run.json")
    if status == RUNNING and process_gone(record.get("process")):
        status, message = STOPPED, "interrupted: the process that ran it ended before the run did"
    if not (folder / HISTORY_FILE).is_file():
        raise RunFileError(f"{HISTORY_FILE} is missing")
    best_epoch = read_int(record, "best_epoch", "run.json", 0)
    if status == COMPLETED and best_epoch and not (folder / WEIGHTS_FILE).is_file():
        raise RunFileError(f"{WEIGHTS_FILE} is missing")
    try:
        experiment = Experiment.from_meta(read_object(record, "experiment", "run.json"))
    except ValueError as exc:
        raise RunFileError(f"run.json does not record a usable experiment: {exc.__cause__ or exc}") from None
    seconds = record.get("seconds")
    return RunInfo(
        folder=folder,
        status=status,
        message=message,
        name=read_str(record, "name", "run.json"),
        task=experiment.task,
        started=read_str(record, "started", "run.json"),
        seconds=read_float(record, "seconds", "run.json", 0) if seconds is not None else None,
        epochs_run=read_int(record, "epochs_run", "run.json", 0),
        best_epoch=best_epoch,
        metrics=_numbers(read_object(record, "metrics", "run.json"), "metrics"),
        baselines=_numbers(read_object(record, "baselines", "run.json"), "baselines"),
        settings=read_object(record, "settings", "run.json"),
        experiment=experiment,
        record=record,
    )


def _check_format(fmt: object) -> None:
    if not isinstance(fmt, dict) or fmt.get("name") != RUN_FORMAT["name"]:
        raise RunFileError("run.json is not an LSTM Studio run record")
    version = fmt.get("version")
    if type(version) is not int:
        raise RunFileError("run.json names no format version")
    if version > RUN_FORMAT["version"]:
        raise RunFileError(
            f"written by a newer LSTM Studio (run format {version}; this version reads {RUN_FORMAT['version']})"
        )
    if version < RUN_FORMAT["version"]:
        raise RunFileError(f"run format {version} is no longer read (this version reads {RUN_FORMAT['version']})")


def _numbers(record: dict, where: str) -> dict:
    """A record of named numbers (or null); RunFileError for anything else."""
    for key, value in record.items():
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        ):
            raise RunFileError(f"run.json.{where}.{key[:40]} must be a number")
    return record


def list_runs(runs_dir: str | os.PathLike) -> list[RunInfo]:
    """Every entry of ``runs_dir`` (hidden names aside) as a run, oldest first (names sort by
    start time); [] when the directory does not exist yet. RunStoreError only when the
    directory itself cannot be listed."""
    runs_dir = Path(runs_dir)
    try:
        names = sorted(entry.name for entry in os.scandir(runs_dir) if not entry.name.startswith("."))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise RunStoreError(f"cannot list the runs directory {runs_dir}: {exc.strerror or exc}") from exc
    return [read_run(runs_dir / name) for name in names]
