"""Runs a training job for the window and forwards its progress to the GUI, throttled.

The run trains in a process of its own where the platform allows (``run_process``): the
window then paints on one core while the run trains on another, each with its own interpreter
lock. Elsewhere it trains in this worker's thread. Either way the worker thread only relays:
updates (a few a second, ``update_stream``), the run folder, and at the end the model's
measurement (``session.Outcome``), so the GUI thread computes nothing.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QObject, Signal, Slot

from lstm_studio.training import CRASHED, FAILED, NO_DATA, STOPPED, RunEnd, run_process
from lstm_studio.training.run_format import RunStoreError
from lstm_studio.training.run_recorder import RunRecorder
from lstm_studio.training.session import Job, Outcome, Update
from lstm_studio.training.update_stream import (
    OUT_OF_MEMORY,
    KeptWeights,
    Switches,
    UpdateStream,
    failed_run,
    internal_error,
)

MAX_FRAME_HOLD_SECONDS = 0.05  # never wait longer for a frame that may not be painted at all
RECORD_SECONDS = 0.5  # the run folder is written at most this often while training, and at the end


class TrainingWorker(QObject):
    """Trains ``model`` on ``data``, or first makes both from ``experiment`` (a new model: even
    making the data can take long, so the GUI thread never does it). Lives in a QThread and
    has no parent (so ``moveToThread`` works)."""

    prepared = Signal(object, object)  # the new model and its data, before training starts
    recording = Signal(str)  # why the run cannot be recorded in the runs directory ('' never emitted)
    progressed = Signal(object)  # session.Update
    finished = Signal(object, object)  # RunEnd and the model's Outcome, always last (a crash is a failed RunEnd)

    def __init__(self, job: Job, in_process: bool | None = None) -> None:
        super().__init__()
        self.job = job
        self.model, self.data = job.model, job.data
        # Train in a process of its own where there is one (else in this worker's thread).
        self.in_process = run_process.AVAILABLE if in_process is None else in_process
        self.switches = run_process.switches() if self.in_process else Switches(threading.Event(), threading.Event())
        self._frame_done = threading.Event()  # cleared while the GUI thread draws a frame (thread runs only)
        self._frame_done.set()
        self.recorder: RunRecorder | None = None
        self._recorded_at = 0.0  # when the run folder was last written
        self.holding = threading.Event()  # set while the run waits at the pause gate
        self._delivered = 0  # batches sent to the GUI
        self._process: multiprocessing.Process | None = None  # the run's own, once started
        self._killed = False  # the window ended the run's process (closing during a long batch)
        self._kept: KeptWeights | None = None  # what the model keeps if the run is cut short
        self._stream: UpdateStream | None = None  # a run in this thread
        self.result: RunEnd | None = None  # set just before ``finished``, readable once the thread ended
        self.outcome: Outcome | None = None

    # Called from the GUI thread: plain thread-safe flags, no signals needed.
    def request_stop(self) -> None:
        """Stop before the next batch (also ends a pause)."""
        self.switches.request_stop()
        self.holding.clear()

    def set_paused(self, paused: bool) -> None:
        """Hold the run between two batches, or let it go on."""
        self.switches.set_paused(paused)
        if not paused:
            self.holding.clear()

    def kill(self) -> bool:
        """End a run in a process of its own at once, mid-batch (for closing the window when a batch takes
        too long); ``finished`` follows with a stopped run. False when there is no such process."""
        if self._process is None:
            return False
        self._killed = True
        self._process.kill()
        return True

    @property
    def batches_done(self) -> int:
        """Batches the run has taken: all of them sent to the GUI before it holds at a pause."""
        return self._stream.batches_taken if self._stream is not None else self._delivered

    @property
    def process_id(self) -> int | None:
        """The process the run trains in (None: this thread, or not started yet)."""
        return self._process.pid if self._process is not None else None

    def begin_frame(self) -> None:
        """The GUI thread is about to paint: a run in this thread waits before its next batch until
        ``end_frame`` (at most ``MAX_FRAME_HOLD_SECONDS``).

        Python runs one thread at a time. Painting pyqtgraph calls into Python hundreds of
        times; each call waits for the worker's time slice when both run, which makes the
        frame slow and the training slower still. Taking turns is faster for both. A run in a
        process of its own has an interpreter of its own and never waits.
        """
        self._frame_done.clear()

    def end_frame(self) -> None:
        """The frame is painted: go on."""
        self._frame_done.set()

    @Slot()
    def run(self) -> None:
        """The thread's body: train, forward progress, record the run, always end with ``finished``."""
        self.recorder = self._open_record()
        try:
            if self.model is None:
                try:
                    self.data = self.job.experiment.make_dataset(self.job.series)
                except ValueError as exc:  # an unreadable CSV, or a series too short for its windows
                    self._finish(failed_run(str(exc), NO_DATA))
                    return
                self.model = self.job.experiment.make_model()
                self.prepared.emit(self.model, self.data)
            self._kept = KeptWeights(self.model, self.job.first_epoch)
            self._finish(*self._train())
        except MemoryError:
            self._finish(*self._cut_short(failed_run(OUT_OF_MEMORY)))
        except Exception as exc:  # a bug must not kill the thread silently: report it as a failed run
            self._finish(*self._cut_short(internal_error(exc)))

    def _train(self) -> tuple[RunEnd, Outcome | None]:
        """Train the run to its end, here or in a process of its own, delivering its updates as they come."""
        if self.in_process:
            end, outcome = run_process.train_in_process(
                self.model, self.data, self.job, self.switches, self._deliver, self._on_holding, self._on_started
            )
            return self._cut_short(end) if end.failure == CRASHED else (end, outcome)
        self._stream = UpdateStream(self.model, self.data, self.job, self._deliver)
        end = self._stream.run(self.switches, self._on_holding, between_batches=self._wait_for_frame)
        return end, Outcome.of(self.model, self.data, end.evaluation)

    def _cut_short(self, end: RunEnd) -> tuple[RunEnd, Outcome | None]:
        """A run that ended outside the trainer: the model keeps what ``KeptWeights`` says, and a run the
        window killed on closing is a stopped run, not a crash."""
        if self._kept is None or self.model is None or self.data is None:
            return end, None
        if self._killed:
            end = replace(end, message="stopped when the window closed: the batch under way took too long to wait for")
        return self._kept.end(end, self.model, self.data, STOPPED if self._killed else FAILED)

    def _wait_for_frame(self) -> None:
        """Between two batches of a run in this thread: wait while a frame is painted."""
        if not self._frame_done.wait(MAX_FRAME_HOLD_SECONDS):
            self._frame_done.set()  # a frame that was never painted holds up one batch, not every one

    def _on_started(self, process: multiprocessing.Process) -> None:
        self._process = process

    def _on_holding(self) -> None:
        """The run holds at the pause gate, everything before it delivered (unless resumed meanwhile)."""
        if not self.switches.running.is_set():
            self.holding.set()

    def _deliver(self, update: Update) -> None:
        """Record the update's epochs in the run folder and send it to the GUI (the run is not holding)."""
        self.holding.clear()
        if self._kept is not None:
            self._kept.saw(update)
        for epoch in update.epochs:
            self._record(lambda recorder, e=epoch: recorder.epoch(e, write=self._record_due()))
        self._delivered += len(update.batches)
        self.progressed.emit(update)

    # ----- the run folder (Contract 6) ----------------------------------------------------------------
    def _open_record(self) -> RunRecorder | None:
        if self.job.runs_dir is None or self.job.record_as is None:
            return None
        try:
            return RunRecorder.create(self.job.runs_dir, self.job.record_as)
        except RunStoreError as exc:
            self.recording.emit(f"this run is not recorded: {exc}")
            return None

    def _record(self, write: Callable[[RunRecorder], None]) -> None:
        """Write to the run folder; a full disk (or a bug) ends the recording (said once), never the run,
        and never keeps ``finished`` from being sent."""
        if self.recorder is None:
            return
        try:
            write(self.recorder)
        except Exception as exc:
            self.recorder = None
            reason = exc if isinstance(exc, RunStoreError) else f"internal error: {type(exc).__name__}: {exc}"
            self.recording.emit(f"the run is no longer recorded: {reason}")

    def _record_due(self) -> bool:
        """Whether to write the run folder now: at most every ``RECORD_SECONDS`` (the end writes the rest)."""
        now = time.monotonic()
        if now - self._recorded_at < RECORD_SECONDS:
            return False
        self._recorded_at = now
        return True

    def _finish(self, result: RunEnd, outcome: Outcome | None = None) -> None:
        if self.model is not None and self.data is not None and result.failure != NO_DATA:
            self._record(lambda recorder: recorder.finish(result, self.model, self.data))
        else:
            self._record(lambda recorder: recorder.fail(result.message, result.failure))
        self.result, self.outcome = result, outcome
        self.finished.emit(result, outcome)
