"""Writing a run folder as the run goes: ``run.json`` when it starts and after every epoch,
``history.csv`` after every epoch, the best weights and the final record at the end.

Every file is replaced atomically, so a run killed at any moment leaves a readable folder whose
status is not ``completed`` (``running`` with a dead process reads as stopped). No Qt here: the
command line, the sweep's trials and the window's worker all record through ``RunRecorder``.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from lstm_studio import __version__
from lstm_studio.core import LSTMModel
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.experiment import Experiment, run_meta
from lstm_studio.training.metrics import baselines
from lstm_studio.training.process_identity import this_process
from lstm_studio.training.run_format import (
    HISTORY_FILE,
    RUN_FORMAT,
    RUNNING,
    WEIGHTS_FILE,
    RunFileError,
    RunStoreError,
    csv_text,
    history_columns,
    history_row,
    read_record,
    record_lock,
    write_atomically,
    write_record,
)
from lstm_studio.training.run_store import ensure_runs_dir
from lstm_studio.training.trainer import COMPLETED, CRASHED, EARLY_STOPPED, FAILED, STOPPED, EpochEnd, RunEnd
from lstm_studio.weights import WeightsError, save_weights


def utc_now() -> datetime:
    """Now, in UTC (run folders and records use UTC so that they sort across time zones)."""
    return datetime.now(timezone.utc)


def describe(experiment: Experiment, settings: dict | None = None) -> str:
    """A display name: the task, the learning rate, the layers and any other swept value."""
    layers = ",".join(map(str, experiment.hidden_sizes))
    parts = [experiment.task, f"lr {experiment.train.lr:g}", f"layers {layers}"]
    parts += [f"{key} {value}" for key, value in (settings or {}).items() if key not in ("lr", "hidden_sizes")]
    return ", ".join(parts)


def folder_stem(started: datetime, experiment: Experiment, settings: dict | None = None) -> str:
    """``2026-12-01T10-32-05_sine_lr0.01_h32-32``: sorts by start time, says what ran."""
    layers = "-".join(map(str, experiment.hidden_sizes))
    parts = [started.strftime("%Y-%m-%dT%H-%M-%S"), experiment.task, f"lr{experiment.train.lr:g}", f"h{layers}"]
    extra = {"batch_size": "b", "seq_len": "T"}
    parts += [f"{extra[key]}{value}" for key, value in (settings or {}).items() if key in extra]
    return re.sub(r"[^A-Za-z0-9._+-]", "-", "_".join(parts))


def new_run_folder(runs_dir: Path, stem: str) -> Path:
    """A folder name in ``runs_dir`` that neither exists nor is reserved: ``stem``, else ``stem-2``,
    ``stem-3``, … (the folder is not created)."""
    for n in range(1, 10_000):
        folder = runs_dir / (stem if n == 1 else f"{stem}-{n}")
        if not folder.exists() and not _reservation(folder).exists():
            return folder
    raise RunStoreError(f"cannot find a free folder name for {stem} in {runs_dir}")


def reserve_run_folder(runs_dir: Path, stem: str) -> Path:
    """A fresh folder name in ``runs_dir`` (as ``new_run_folder``) that no other process will take: a
    hidden marker beside it, created exclusively, holds it until ``begin`` has made the folder. Two sweeps
    started in the same second plan their trials' folders before making them: without it they planned the
    same names. RunStoreError when the directory cannot be written."""
    for _ in range(100):
        folder = new_run_folder(runs_dir, stem)
        try:
            with open(_reservation(folder), "x"):
                pass
        except FileExistsError:  # another process reserved it since the check
            continue
        except OSError as exc:
            raise RunStoreError(f"cannot reserve a run folder in {runs_dir}: {exc.strerror or exc}") from exc
        if not folder.exists():  # else made meanwhile by one whose reservation had just ended
            return folder
        release_run_folder(folder)
    raise RunStoreError(f"cannot reserve a run folder for {stem} in {runs_dir}")


def release_run_folder(folder: Path) -> None:
    """End the reservation of ``folder`` (made, or never to be made)."""
    with contextlib.suppress(OSError):
        _reservation(folder).unlink(missing_ok=True)


def _reservation(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.reserved")


STAGING_TOKEN_BYTES = 6


def _json_numbers(values: dict[str, float | None]) -> dict[str, float | None]:
    """``values`` with what JSON cannot hold (an RMSE that overflowed to infinity) as null."""
    return {key: value if value is None or math.isfinite(value) else None for key, value in values.items()}


def _staging_name(folder: Path, token: str) -> str:
    return f".{folder.name}.{token}.tmp"


def discard_unfinished_start(folder: Path) -> None:
    """Remove what a process killed inside ``begin`` left beside ``folder`` (a hidden, half-written
    copy). Only once no process may still be starting that run."""
    pattern = re.compile(re.escape(_staging_name(folder, "@")).replace("@", f"[0-9a-f]{{{2 * STAGING_TOKEN_BYTES}}}"))
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder.parent):
            if pattern.fullmatch(entry.name):
                shutil.rmtree(entry.path, ignore_errors=True)


class RunRecorder:
    """Records one run into ``folder``: ``begin()``, then ``epoch()`` per finished epoch, then
    ``finish()`` with the run's end (or ``fail()``). As a context manager it marks a run that an
    exception or Ctrl-C cut short as failed or stopped. Writes raise RunStoreError."""

    def __init__(self, folder: Path, experiment: Experiment, settings: dict | None = None, name: str = "") -> None:
        self.folder = Path(folder)
        self.experiment = experiment
        classification = experiment.task_spec.is_classification
        self._classification = classification
        self._columns = history_columns(len(experiment.hidden_sizes), classification)
        self._rows: list[list[float]] = []
        self.record = {
            "format": dict(RUN_FORMAT),
            "name": name or describe(experiment, settings),
            "status": RUNNING,
            "message": "",
            "failure": None,
            "started": utc_now().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "seconds": 0.0,
            "epochs_run": 0,
            "best_epoch": 0,
            "metrics": {},
            "baselines": {},
            "settings": dict(settings or {}),
            "experiment": {**experiment.to_meta(), "model": experiment.model_config()},
            "app_version": __version__,
            "process": this_process(),
        }

    @classmethod
    def create(
        cls, runs_dir: Path, experiment: Experiment, settings: dict | None = None, name: str = ""
    ) -> RunRecorder:
        """A recorder for a new run in ``runs_dir`` (created if need be; a fresh, uniquely named
        folder), begun. RunStoreError when the directory cannot be written."""
        ensure_runs_dir(runs_dir)
        for _ in range(100):  # a folder made without a reservation may take the name meanwhile
            folder = reserve_run_folder(Path(runs_dir), folder_stem(utc_now(), experiment, settings))
            recorder = cls(folder, experiment, settings, name)
            with contextlib.suppress(FileExistsError):
                recorder.begin()
                return recorder
        raise RunStoreError(f"cannot create a run folder in {runs_dir}")

    @property
    def finished(self) -> bool:
        """Whether the record holds the run's end."""
        return self.record["status"] != RUNNING

    def begin(self) -> None:
        """Create the folder (FileExistsError if it exists) with run.json ``running`` and the
        history's header. It appears whole: written as a hidden folder beside it, then renamed, so a
        process killed meanwhile leaves no folder without its run.json (lists skip hidden names). Ends the
        folder's reservation (``reserve_run_folder``), made or not."""
        try:
            self._make_folder()
        finally:
            release_run_folder(self.folder)

    def _make_folder(self) -> None:
        if self.folder.exists():
            raise FileExistsError(errno.EEXIST, "a run folder of this name exists", str(self.folder))
        staging = self.folder.with_name(_staging_name(self.folder, secrets.token_hex(STAGING_TOKEN_BYTES)))
        try:
            staging.mkdir()
        except OSError as exc:
            raise RunStoreError(f"cannot create the run folder {self.folder}: {exc.strerror or exc}") from exc
        try:
            write_atomically(staging / HISTORY_FILE, csv_text(self._columns, self._rows))
            write_record(staging, self.record)
            os.rename(staging, self.folder)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if not isinstance(exc, OSError):
                raise
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):  # another process took the name meanwhile
                raise FileExistsError(errno.EEXIST, "a run folder of this name exists", str(self.folder)) from exc
            raise RunStoreError(f"cannot create the run folder {self.folder}: {exc.strerror or exc}") from exc

    def epoch(self, e: EpochEnd, write: bool = True) -> None:
        """One finished epoch: a history row, and the best epoch so far in run.json. Without ``write`` it is
        kept for the next write (an epoch's or the end's): for runs whose epochs take milliseconds."""
        self._rows.append(history_row(e, self._classification))
        self.record.update(seconds=e.elapsed, epochs_run=e.epoch, best_epoch=e.best_epoch)
        if e.best_epoch == e.epoch:
            self.record["metrics"] = _json_numbers({"train_loss": e.train_loss, **e.evaluation.summary()})
        if write:
            self._write_history(sync=False)
            self._write_record(sync=False)

    def finish(self, end: RunEnd, model: LSTMModel, data: Dataset) -> None:
        """The run is over and ``model`` holds its best weights: write them and the final record."""
        status = COMPLETED if end.status in (COMPLETED, EARLY_STOPPED) else end.status
        message, failure = end.message, end.failure
        if end.best_epoch:
            meta = run_meta(self.experiment, data, end.evaluation, end.train_loss, saved_in=self.folder)
            try:
                save_weights(self.folder / WEIGHTS_FILE, model, meta)
            except WeightsError as exc:
                status, message, failure = FAILED, f"the weights could not be written: {exc}", CRASHED
        if end.evaluation is not None:
            self.record["metrics"] = _json_numbers({"train_loss": end.train_loss, **end.evaluation.summary()})
        if not data.task.is_classification:
            self.record["baselines"] = _json_numbers(baselines(data))
        self.record.update(seconds=end.elapsed, epochs_run=end.epochs_run, best_epoch=end.best_epoch)
        self._end(status, message, failure)

    def fail(self, message: str, failure: str | None = CRASHED) -> None:
        """The run failed outside the trainer (its data could not be made, a crash)."""
        self._end(FAILED, message, failure)

    def stop(self, message: str) -> None:
        """The run was stopped outside the trainer (Ctrl-C, a cancelled sweep)."""
        self._end(STOPPED, message, None)

    def __enter__(self) -> RunRecorder:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is None or self.finished:
            return
        with contextlib.suppress(RunStoreError):  # the exception in flight is the news, not this
            if isinstance(exc, KeyboardInterrupt):
                self.stop("interrupted")
            elif isinstance(exc, RunStoreError):  # the disk filled up, the folder went away
                self.fail(str(exc))
            elif isinstance(exc, MemoryError):
                self.fail("out of memory: make the run smaller (samples, sequence length, batch or layers)")
            else:
                self.fail(f"internal error: {type(exc).__name__}: {exc}")

    # ----- writing -------------------------------------------------------------------------------
    def _end(self, status: str, message: str, failure: str | None) -> None:
        self.record.update(status=status, message=message, failure=failure)
        self._write_history()  # the last word of each, forced to the disk
        self._write_record()

    def _write_history(self, sync: bool = True) -> None:
        write_atomically(self.folder / HISTORY_FILE, csv_text(self._columns, self._rows), sync)

    def _write_record(self, sync: bool = True) -> None:
        """Write run.json, keeping a display name given meanwhile (a rename while it runs)."""
        with record_lock(self.folder):
            with contextlib.suppress(RunFileError):
                on_disk = read_record(self.folder)
                if isinstance(on_disk.get("name"), str):
                    self.record["name"] = on_disk["name"]
            write_record(self.folder, self.record, sync)
