"""One trial of a sweep: an experiment trained into its own run folder, the same function in a
local worker process and in a Ray task, and the grid of settings a sweep expands into trials.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lstm_studio.training.experiment import Experiment
from lstm_studio.training.run_format import RunStoreError
from lstm_studio.training.run_reader import RunInfo, read_run
from lstm_studio.training.run_recorder import (
    RunRecorder,
    describe,
    folder_stem,
    release_run_folder,
    reserve_run_folder,
    utc_now,
)
from lstm_studio.training.trainer import FAILED, NO_DATA, STOPPED, EpochEnd, RunEnd, train

SWEPT = ("lr", "hidden_sizes", "batch_size", "seq_len")  # the settings a sweep may vary (Experiment names)
# Set by SIGTERM during a trial, and never cleared: a worker told to stop starts no further trial
# (a process pool hands a worker the next queued trial before the parent can take it back).
_terminated = threading.Event()
_sweep_stopped = None  # in a worker of a local pool: the sweep's shared event, set when it is cancelled


@dataclass(frozen=True)
class TrialSpec:
    """What one trial trains and where it records it (picklable: it crosses into a process or a Ray task)."""

    experiment: Experiment
    settings: dict  # the swept values of this trial, as JSON values: {"lr": 0.01, "hidden_sizes": [32, 32]}
    run_dir: str  # the run folder it creates
    name: str = ""  # display name

    def not_started(self, message: str, status: str = STOPPED) -> dict:
        """The row of a trial that never created its folder (cancelled, or its process lost)."""
        row = RunInfo(Path(), status, message, self.name, self.experiment.task, settings=self.settings).to_json()
        return {**row, "run_dir": None}


def expand_grid(base: Experiment, grid: Mapping[str, Sequence[object]]) -> list[tuple[dict, Experiment]]:
    """Every combination of the values in ``grid`` (keys from ``SWEPT``; the first key changes
    slowest), each as (the values that vary across the sweep, the experiment). Repeated values count once."""
    unknown = set(grid) - set(SWEPT)
    if unknown:
        raise ValueError(f"a sweep varies only {', '.join(SWEPT)}, not {sorted(unknown)[0]}")
    keys = [key for key in SWEPT if grid.get(key)]
    values = [list(dict.fromkeys(grid[key])) for key in keys]
    varied = {key for key, options in zip(keys, values, strict=True) if len(options) > 1}
    combos = []
    for combo in itertools.product(*values):
        changes = dict(zip(keys, combo, strict=True))
        settings = {key: list(value) if isinstance(value, tuple) else value for key, value in changes.items()}
        combos.append(({k: v for k, v in settings.items() if k in varied}, base.with_changes(**changes)))
    return combos


def plan_trials(
    base: Experiment, grid: Mapping[str, Sequence[object]], runs_dir: Path, started: datetime | None = None
) -> list[TrialSpec]:
    """The sweep's trials with their run folders (reserved, not created yet: a trial's start makes its
    folder, the sweep's end releases the rest); ValueError naming the first combination that cannot run."""
    started = started or utc_now()
    combinations = expand_grid(base, grid)
    for settings, experiment in combinations:
        try:
            experiment.validate()
        except ValueError as exc:
            shown = ", ".join(f"{k} {v}" for k, v in settings.items()) or "the trial"
            raise ValueError(f"{shown}: {exc}") from None
    trials: list[TrialSpec] = []
    try:
        for settings, experiment in combinations:
            folder = reserve_run_folder(Path(runs_dir), folder_stem(started, experiment, settings))
            trials.append(TrialSpec(experiment, settings, str(folder), describe(experiment, settings)))
    except BaseException:
        release_folders(trials)
        raise
    return trials


def release_folders(trials: Sequence[TrialSpec]) -> None:
    """End the reservations of the trials' folders (``plan_trials``), those made or never to be made."""
    for trial in trials:
        release_run_folder(Path(trial.run_dir))


def run_trial(spec: TrialSpec, interrupt_stops: bool = False) -> dict:
    """Train ``spec`` into its run folder and return its row (``RunInfo.to_json``). Never raises
    for a run that fails: the row says ``failed`` and why. SIGTERM, or its parent process going
    away, stops it after the current batch, its folder marked ``stopped``, its best weights kept;
    with ``interrupt_stops``, so does an interrupt (SIGINT)."""
    parent = os.getppid()

    def should_stop() -> bool:
        return stop.is_set() or _told_to_stop() or os.getppid() != parent

    if _told_to_stop():
        return spec.not_started("cancelled before it started")
    with _stop_requests(interrupt_stops) as stop:
        recorder = RunRecorder(Path(spec.run_dir), spec.experiment, spec.settings, spec.name)
        try:
            recorder.begin()
        except (RunStoreError, FileExistsError) as exc:
            return spec.not_started(str(exc), FAILED)
        error = ""
        try:
            with recorder:  # which records an exception as the run's failure, where the disk still allows it
                _train_into(recorder, spec.experiment, should_stop)
        except Exception as exc:  # the sweep goes on
            error = str(exc) if isinstance(exc, RunStoreError) else f"internal error: {type(exc).__name__}: {exc}"
    row = {**read_run(spec.run_dir).to_json(), "settings": spec.settings}
    return {**row, "status": FAILED, "message": error} if error and row["status"] != FAILED else row


def _train_into(recorder: RunRecorder, experiment: Experiment, should_stop: Callable[[], bool]) -> None:
    try:
        data = experiment.make_dataset()
    except ValueError as exc:  # an unreadable CSV, a series too short for its windows
        recorder.fail(str(exc), NO_DATA)
        return
    model = experiment.make_model()
    for event in train(model, data, experiment.train, should_stop=should_stop):
        if isinstance(event, EpochEnd):
            recorder.epoch(event)
    assert isinstance(event, RunEnd)
    recorder.finish(event, model, data)


def watch_sweep_stop(event: object) -> None:
    """In a worker process: once the sweep sets ``event`` (a ``multiprocessing`` event), the trial under
    way stops after its batch and no later one starts. An event, not a signal: a signal reaching a
    worker that is still starting kills it, and the pool breaks."""
    global _sweep_stopped
    _sweep_stopped = event


def _told_to_stop() -> bool:
    return _terminated.is_set() or (_sweep_stopped is not None and _sweep_stopped.is_set())


def stop_trials(_signum: int = 0, _frame: object = None) -> None:
    """Stop the trial under way in this process after its batch, and start no later one (a signal handler)."""
    _terminated.set()


def run_ray_trial(spec: TrialSpec) -> dict:
    """``run_trial`` as a Ray task: Ray cancels a running task with an interrupt, which then stops the
    trial after its batch, as a cancelled local trial stops, instead of cutting it short without its
    weights. Only this task stops: Ray's worker process lives on to run later tasks."""
    return run_trial(spec, interrupt_stops=True)


@contextmanager
def _stop_requests(interrupt_stops: bool = False) -> Iterator[threading.Event]:
    """The event that stops the trial while the block runs: set by an interrupt when ``interrupt_stops``
    (SIGTERM sets ``_terminated``, which also keeps later trials of this process from starting). Signals
    reach the main thread only; elsewhere the caller stops the trial by other means."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGTERM, stop_trials)
    previous_interrupt = signal.signal(signal.SIGINT, lambda *_: stop.set()) if interrupt_stops else None
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)
        if interrupt_stops:
            signal.signal(signal.SIGINT, previous_interrupt)
