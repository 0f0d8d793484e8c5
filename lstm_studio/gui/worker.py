"""Runs the trainer's generator in a worker thread and forwards its events to the GUI, throttled.

The worker only emits; slots in the GUI thread touch widgets. Batch events are collected
and sent at most ``MAX_UPDATES_PER_SECOND`` times a second, because the window needs no
more and every cross-thread signal costs the GUI thread time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from lstm_studio.core import LSTMModel
from lstm_studio.training import FAILED, BatchEnd, Dataset, EpochEnd, Experiment, RunEnd, Series, TrainConfig, train

MAX_UPDATES_PER_SECOND = 15
PAUSE_POLL_SECONDS = 0.05
MAX_FRAME_HOLD_SECONDS = 0.05  # never wait longer for a frame that may not be painted at all


@dataclass
class Progress:
    """What happened since the last update: batches, finished epochs, and the weights after
    the latest epoch (a copy the GUI may read while training goes on)."""

    batches: list[BatchEnd] = field(default_factory=list)
    epochs: list[EpochEnd] = field(default_factory=list)
    state: dict[str, np.ndarray] | None = None

    def __bool__(self) -> bool:
        return bool(self.batches or self.epochs)


@dataclass
class Job:
    """One run: go on training ``model`` on ``data``, or first make both from ``experiment``
    (and ``series``, the CSV data the form already read)."""

    config: TrainConfig
    model: LSTMModel | None = None
    data: Dataset | None = None
    experiment: Experiment | None = None
    series: Series | None = None


class TrainingWorker(QObject):
    """Trains ``model`` on ``data``, or first makes both from ``experiment`` (a new model: even
    making the data can take long, so the GUI thread never does it). Lives in a QThread and
    has no parent (so ``moveToThread`` works)."""

    prepared = Signal(object, object)  # the new model and its data, before training starts
    progressed = Signal(object)  # Progress
    finished = Signal(object)  # RunEnd, always emitted last (a crash becomes a failed RunEnd)

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.model, self.data = job.model, job.data
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._frame_done = threading.Event()  # cleared while the GUI thread draws a frame
        self._frame_done.set()
        self.result: RunEnd | None = None  # set just before ``finished``, readable once the thread ended

    # Called from the GUI thread: plain thread-safe flags, no signals needed.
    def request_stop(self) -> None:
        """Stop before the next batch (also ends a pause)."""
        self._stop.set()
        self._running.set()

    def set_paused(self, paused: bool) -> None:
        """Hold the run between two batches, or let it go on."""
        if paused:
            self._running.clear()
        else:
            self._running.set()

    def begin_frame(self) -> None:
        """The GUI thread is about to paint: wait before the next batch until ``end_frame``
        (at most ``MAX_FRAME_HOLD_SECONDS``).

        Python runs one thread at a time. Painting pyqtgraph calls into Python hundreds of
        times; each call waits for the worker's time slice when both run, which makes the
        frame slow and the training slower still. Taking turns is faster for both.
        """
        self._frame_done.clear()

    def end_frame(self) -> None:
        """The frame is painted: go on."""
        self._frame_done.set()

    def _should_stop(self) -> bool:
        while not self._running.wait(PAUSE_POLL_SECONDS):
            pass
        if not self._frame_done.wait(MAX_FRAME_HOLD_SECONDS):
            self._frame_done.set()  # a frame that was never painted holds up one batch, not every one
        return self._stop.is_set()

    @Slot()
    def run(self) -> None:
        """The thread's body: train, forward progress, always end with ``finished``."""
        pending, last_sent = Progress(), 0.0
        interval = 1.0 / MAX_UPDATES_PER_SECOND
        try:
            if self.model is None:
                try:
                    self.data = self.job.experiment.make_dataset(self.job.series)
                except ValueError as exc:  # an unreadable CSV, or a series too short for its windows
                    self._finish(_failed(str(exc)))
                    return
                self.model = self.job.experiment.make_model()
                self.prepared.emit(self.model, self.data)
            for event in train(self.model, self.data, self.job.config, self._should_stop):
                if isinstance(event, BatchEnd):
                    pending.batches.append(event)
                elif isinstance(event, EpochEnd):
                    pending.epochs.append(event)
                    pending.state = self.model.state_dict()
                else:
                    if pending:
                        self.progressed.emit(pending)
                    self._finish(event)
                    return
                now = time.monotonic()
                if now - last_sent >= interval:
                    self.progressed.emit(pending)
                    pending, last_sent = Progress(), now
        except MemoryError:
            self._finish(_failed("out of memory: make the run smaller (samples, sequence length, batch or layers)"))
        except Exception as exc:  # a bug must not kill the thread silently: report it as a failed run
            self._finish(_failed(f"training stopped by an internal error: {exc}"))

    def _finish(self, result: RunEnd) -> None:
        self.result = result
        self.finished.emit(result)


def _failed(message: str) -> RunEnd:
    """The end of a run that failed before any epoch."""
    return RunEnd(FAILED, message, 0, 0, None, None, 0.0)
