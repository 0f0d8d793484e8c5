"""Runs the trainer's generator in a worker thread and forwards its events to the GUI, throttled.

The worker only emits; slots in the GUI thread touch widgets. Batch events are collected
and sent at most ``MAX_UPDATES_PER_SECOND`` times a second, because the window needs no
more and every cross-thread signal costs the GUI thread time. At the end of a run the
worker also measures the model (``session.Outcome``), so the GUI thread computes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from lstm_studio.training import CRASHED, FAILED, NO_DATA, BatchEnd, EpochEnd, RunEnd, train
from lstm_studio.training.run_format import RunStoreError
from lstm_studio.training.run_recorder import RunRecorder
from lstm_studio.training.session import Job, Outcome, Update
from lstm_studio.training.snapshots import Snapshot, take_snapshot

MAX_UPDATES_PER_SECOND = 15
PAUSE_POLL_SECONDS = 0.05
MAX_FRAME_HOLD_SECONDS = 0.05  # never wait longer for a frame that may not be painted at all
SNAPSHOT_SHARE = 0.04  # of a run's time the inside view's snapshots may take (the rest trains)
RECORD_SECONDS = 0.5  # the run folder is written at most this often while training, and at the end


class TrainingWorker(QObject):
    """Trains ``model`` on ``data``, or first makes both from ``experiment`` (a new model: even
    making the data can take long, so the GUI thread never does it). Lives in a QThread and
    has no parent (so ``moveToThread`` works)."""

    prepared = Signal(object, object)  # the new model and its data, before training starts
    recording = Signal(str)  # why the run cannot be recorded in the runs directory ('' never emitted)
    progressed = Signal(object)  # session.Update
    finished = Signal(object, object)  # RunEnd and the model's Outcome, always last (a crash is a failed RunEnd)

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.model, self.data = job.model, job.data
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._frame_done = threading.Event()  # cleared while the GUI thread draws a frame
        self._frame_done.set()
        self._pending, self._last_sent = Update(), 0.0
        self.recorder: RunRecorder | None = None
        self._snapshot_seconds = 0.0
        self._recorded_at = 0.0  # when the run folder was last written
        self.holding = threading.Event()  # set while the run waits at the pause gate
        self.batches_done = 0  # of this run, all sent to the GUI before the worker holds
        self.result: RunEnd | None = None  # set just before ``finished``, readable once the thread ended
        self.outcome: Outcome | None = None

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
        if not self._running.is_set():
            self._flush()  # a paused run shows everything it did
            self.holding.set()
            while not self._running.wait(PAUSE_POLL_SECONDS):
                pass
            self.holding.clear()
        if not self._frame_done.wait(MAX_FRAME_HOLD_SECONDS):
            self._frame_done.set()  # a frame that was never painted holds up one batch, not every one
        return self._stop.is_set()

    @Slot()
    def run(self) -> None:
        """The thread's body: train, forward progress, record the run, always end with ``finished``."""
        self.recorder = self._open_record()
        try:
            if self.model is None:
                try:
                    self.data = self.job.experiment.make_dataset(self.job.series)
                except ValueError as exc:  # an unreadable CSV, or a series too short for its windows
                    self._finish(_failed(str(exc), NO_DATA))
                    return
                self.model = self.job.experiment.make_model()
                self.prepared.emit(self.model, self.data)
            end = self._train()
            self._finish(end, Outcome.of(self.model, self.data, end.evaluation))
        except MemoryError:
            self._finish(_failed("out of memory: make the run smaller (samples, sequence length, batch or layers)"))
        except Exception as exc:  # a bug must not kill the thread silently: report it as a failed run
            self._finish(_failed(f"training stopped by an internal error: {exc}", CRASHED))

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
        """Write to the run folder; a full disk ends the recording (said once), never the run."""
        if self.recorder is None:
            return
        try:
            write(self.recorder)
        except RunStoreError as exc:
            self.recorder = None
            self.recording.emit(f"the run is no longer recorded: {exc}")

    def _train(self) -> RunEnd:
        """Run the trainer, sending what happened at most ``MAX_UPDATES_PER_SECOND`` times a second."""
        interval = 1.0 / MAX_UPDATES_PER_SECOND
        for event in train(self.model, self.data, self.job.config, self._should_stop):
            if isinstance(event, BatchEnd):
                self._pending.batches.append(event)
                self.batches_done += 1
            elif isinstance(event, EpochEnd):
                self._record(lambda recorder, e=event: recorder.epoch(e, write=self._record_due()))
                self._pending.epochs.append(event)
                self._pending.state = self.model.state_dict()
                if self.job.probe is not None and self._snapshot_due(event):
                    self._pending.snapshots.append(self._snapshot(event))
            else:
                self._flush()
                return event
            if time.monotonic() - self._last_sent >= interval:
                self._flush()
        raise RuntimeError("the trainer ended without a RunEnd")

    def _record_due(self) -> bool:
        """Whether to write the run folder now: at most every ``RECORD_SECONDS`` (the end writes the rest)."""
        now = time.monotonic()
        if now - self._recorded_at < RECORD_SECONDS:
            return False
        self._recorded_at = now
        return True

    def _snapshot_due(self, epoch: EpochEnd) -> bool:
        """Whether to snapshot this epoch: the first and last always, the others while snapshots have
        taken at most ``SNAPSHOT_SHARE`` of the run's time (tiny epochs are then snapshotted less often)."""
        return epoch.epoch in (1, epoch.epochs) or self._snapshot_seconds <= SNAPSHOT_SHARE * epoch.elapsed

    def _snapshot(self, epoch: EpochEnd) -> Snapshot:
        """What the inside view keeps of this epoch (the weights are the copy just sent)."""
        started = time.perf_counter()
        at = self.job.first_epoch + epoch.epoch
        snapshot = take_snapshot(self.model, self.data, self.job.probe, at, epoch.evaluation, self._pending.state)
        self._snapshot_seconds += time.perf_counter() - started
        return snapshot

    def _flush(self) -> None:
        """Send what happened since the last update, if anything did."""
        if self._pending:
            self.progressed.emit(self._pending)
        self._pending, self._last_sent = Update(), time.monotonic()

    def _finish(self, result: RunEnd, outcome: Outcome | None = None) -> None:
        if self.model is not None and self.data is not None and result.failure not in (NO_DATA, CRASHED):
            self._record(lambda recorder: recorder.finish(result, self.model, self.data))
        else:
            self._record(lambda recorder: recorder.fail(result.message, result.failure))
        self.result, self.outcome = result, outcome
        self.finished.emit(result, outcome)


def _failed(message: str, failure: str = CRASHED) -> RunEnd:
    """The end of a run that failed before any epoch."""
    return RunEnd(FAILED, message, 0, 0, None, None, 0.0, failure)
