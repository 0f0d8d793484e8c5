"""A sweep: many trials at once, on this machine's cores or on Ray, watched while they run.

``Sweep`` is the one object the command line and the window drive::

    sweep = Sweep.plan(Experiment.for_task("sine"), {"lr": [0.001, 0.01], "hidden_sizes": [(16,), (32, 32)]},
                       runs_dir, workers=2)
    sweep.start()                    # returns at once; the trials run in other processes
    for event in sweep.poll(): ...   # TrialEpoch rows as their history.csv grows, TrialEnd rows as trials end
    sweep.cancel()                   # any thread: every trial stopped, no process left, folders ``stopped``
    sweep.results()                  # one row per trial, best validation loss first

Progress is read from the run folders themselves (each trial rewrites its history.csv after every
epoch), so the local pool and Ray report the same way; ``poll`` only stats files that did not change.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from pathlib import Path

from lstm_studio.training.experiment import Experiment
from lstm_studio.training.run_format import (
    HISTORY_FILE,
    RUNNING,
    RunFileError,
    RunStoreError,
    read_history,
    read_record,
    record_lock,
    write_record,
)
from lstm_studio.training.run_reader import read_run
from lstm_studio.training.run_recorder import discard_unfinished_start
from lstm_studio.training.run_store import ensure_runs_dir
from lstm_studio.training.sweep_backends import LocalPool, RayPool
from lstm_studio.training.trainer import FAILED, STOPPED
from lstm_studio.training.trial import TrialSpec, plan_trials, release_folders

CANCELLED = "cancelled: the sweep was stopped"


@dataclass(frozen=True)
class TrialEpoch:
    """Trial ``trial`` (an index into ``Sweep.trials``) finished an epoch: its history row."""

    trial: int
    row: dict[str, float]


@dataclass(frozen=True)
class TrialEnd:
    """Trial ``trial`` ended: its row, as ``sweep --json`` prints it."""

    trial: int
    result: dict


SweepEvent = TrialEpoch | TrialEnd


def best_first(rows: Sequence[dict]) -> list[dict]:
    """Rows with a validation loss, lowest first, then the rest in their order."""
    return sorted(rows, key=lambda row: row["val_loss"] if row.get("val_loss") is not None else math.inf)


class Sweep:
    """The trials of one sweep and what is known of them; safe to call from any thread."""

    def __init__(self, trials: Sequence[TrialSpec], workers: int | None = None, ray_address: str | None = None) -> None:
        """``workers`` processes at a time (default: the machine's cores), or Ray tasks when
        ``ray_address`` is given ('' for a local Ray instance)."""
        self.trials = tuple(trials)
        self.workers = max(1, min(workers or os.cpu_count() or 1, len(self.trials) or 1))
        self.backend = RayPool(ray_address) if ray_address is not None else LocalPool(self.workers)
        self._lock = threading.Lock()
        self._ended: queue.SimpleQueue[tuple[int, dict]] = queue.SimpleQueue()
        self._results: dict[int, dict] = {}
        self._seen_rows = [0] * len(self.trials)
        self._seen_stat: list[tuple[int, int] | None] = [None] * len(self.trials)
        self._futures: list[Future] = []
        self._gathered: list[SweepEvent] = []  # seen by ``results`` or a cancel, not yet returned by ``poll``
        self.cancelled = False

    @classmethod
    def plan(
        cls,
        base: Experiment,
        grid: Mapping[str, Sequence[object]],
        runs_dir: Path,
        workers: int | None = None,
        ray_address: str | None = None,
    ) -> Sweep:
        """Every combination of ``grid`` (keys ``lr``, ``hidden_sizes``, ``batch_size``, ``seq_len``)
        over ``base``; ValueError naming a combination that cannot run, RunStoreError when the runs
        directory cannot be written."""
        trials = plan_trials(base, grid, ensure_runs_dir(runs_dir))
        try:
            return cls(trials, workers, ray_address)
        except BaseException:
            release_folders(trials)
            raise

    def start(self) -> None:
        """Queue every trial and return (SweepError when Ray is missing or unreachable)."""
        try:
            self._futures = self.backend.submit(self.trials)
        except BaseException:
            release_folders(self.trials)
            raise
        for index, future in enumerate(self._futures):
            future.add_done_callback(lambda f, i=index: self._trial_ended(i, f))

    def _trial_ended(self, index: int, future: Future) -> None:
        try:
            row = self._row_of(index, future)
        except Exception as exc:  # never lose an end: the sweep would wait for it forever
            row = self.trials[index].not_started(f"internal error: {type(exc).__name__}: {exc}", FAILED)
        self._ended.put((index, row))

    def _row_of(self, index: int, future: Future) -> dict:
        """A finished future's row; a trial whose process was lost is read from its folder."""
        if not future.cancelled() and future.exception() is None:
            return future.result()
        cancelled = future.cancelled() or self.cancelled
        trial = self.trials[index]
        if not os.path.isdir(trial.run_dir):
            if cancelled:
                return trial.not_started("cancelled before it started")
            return trial.not_started(f"its process was lost before it started ({future.exception()})")
        # its process is gone: a record it left saying running is not true any more
        lost = "its process was lost" + (f" ({future.exception()})" if not future.cancelled() else "")
        _mark_stopped(Path(trial.run_dir), CANCELLED if cancelled else lost)
        return {**read_run(trial.run_dir).to_json(), "settings": trial.settings}

    def _row_so_far(self, index: int) -> dict:
        trial = self.trials[index]
        if not os.path.isdir(trial.run_dir):
            return trial.not_started("not started yet", RUNNING)
        return {**read_run(trial.run_dir).to_json(), "settings": trial.settings}

    @property
    def finished(self) -> bool:
        """Whether every trial has ended (and ``poll`` has reported it)."""
        with self._lock:
            return len(self._results) == len(self.trials)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every trial has ended or ``timeout`` passed; True when all have ended."""
        _, pending = wait_futures(self._futures, timeout=timeout)
        return not pending

    def poll(self) -> list[SweepEvent]:
        """What happened since the last call: new epoch rows, then trial ends. Non-blocking."""
        self._gather()
        with self._lock:
            events, self._gathered = self._gathered, []
        return events

    def _gather(self) -> None:
        """Move what happened since the last look into the events the next ``poll`` returns."""
        with self._lock:
            ended = []
            while True:
                try:
                    ended.append(self._ended.get_nowait())
                except queue.Empty:
                    break
            events: list[SweepEvent] = []
            for index in range(len(self.trials)):
                if index not in self._results:
                    events += self._new_rows(index)
            for index, row in ended:
                self._results[index] = row
                events.append(TrialEnd(index, row))
            self._gathered += events

    def _new_rows(self, index: int) -> list[TrialEpoch]:
        path = Path(self.trials[index].run_dir) / HISTORY_FILE
        try:
            stat = os.stat(path)
        except OSError:
            return []
        key = (stat.st_mtime_ns, stat.st_size)
        if key == self._seen_stat[index]:
            return []
        try:
            history = read_history(path.parent)
        except RunFileError:
            return []
        self._seen_stat[index] = key
        rows = history.rows(self._seen_rows[index])
        self._seen_rows[index] = len(history)
        return [TrialEpoch(index, row) for row in rows]

    def cancel(self) -> None:
        """Stop every trial: queued ones never start, running ones stop after their batch (or are
        killed after a grace period); returns when no worker is left, every folder ``stopped``."""
        self.cancelled = True
        self.backend.cancel()
        self._settle(CANCELLED)

    def close(self) -> None:
        """Release the workers after the last trial (or a local Ray instance)."""
        self.backend.close()
        self._settle("its process was lost")

    def _settle(self, message: str) -> None:
        """Once no process of the sweep is left, no folder or row may still say ``running``: a trial
        whose worker died may have rewritten its record after the pool reported it lost."""
        release_folders(self.trials)
        for trial in self.trials:  # folders reserved for this sweep alone: no other run's are touched
            discard_unfinished_start(Path(trial.run_dir))
            _mark_stopped(Path(trial.run_dir), message)
        self._gather()
        with self._lock:
            for index, row in self._results.items():
                if row.get("status") == RUNNING and row.get("run_dir"):
                    self._results[index] = self._row_so_far(index)
                elif self.cancelled and not row.get("run_dir") and row.get("status") == STOPPED:
                    # a Ctrl-C reaches a trial's process still starting before the sweep cancels
                    self._results[index] = self.trials[index].not_started("cancelled before it started")

    def results(self) -> list[dict]:
        """One row per trial, best validation loss first: ended trials as they ended, the others
        as their folders say now."""
        self._gather()
        with self._lock:
            rows = [self._results.get(i) or self._row_so_far(i) for i in range(len(self.trials))]
        return best_first(rows)


def _mark_stopped(folder: Path, message: str) -> None:
    """A folder whose run.json still says ``running`` after its process ended: say ``stopped``."""
    if not folder.is_dir():
        return
    with record_lock(folder):  # a rename in the window may be writing it
        try:
            record = read_record(folder)
        except RunFileError:
            return
        if record.get("status") == RUNNING:
            with contextlib.suppress(RunStoreError):
                write_record(folder, {**record, "status": STOPPED, "message": message})
