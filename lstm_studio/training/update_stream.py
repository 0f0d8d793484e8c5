"""What a run tells a window while it trains: the trainer's events gathered into a few ``Update``s a
second, with the inside view's snapshots, and the switches a window pauses and stops it with.

The same code runs wherever the run trains (a thread of the window's process, or a process of its
own, see ``forked_run``); only how an update travels differs, so it is handed to ``send``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from lstm_studio.core import LSTMModel
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.session import Job, Outcome, Update
from lstm_studio.training.snapshots import take_snapshot
from lstm_studio.training.trainer import CRASHED, FAILED, BatchEnd, EpochEnd, RunEnd, train

MAX_UPDATES_PER_SECOND = 15  # a window needs no more, and every update costs its GUI thread time
SNAPSHOT_SHARE = 0.04  # of a run's time the inside view's snapshots may take (the rest trains)
PAUSE_POLL_SECONDS = 0.05
OUT_OF_MEMORY = "out of memory: make the run smaller (samples, sequence length, batch or layers)"


class Flag(Protocol):
    """A ``threading.Event`` or a ``multiprocessing`` one: what the switches are made of."""

    def set(self) -> None:
        """Raise the flag."""

    def clear(self) -> None:
        """Lower it."""

    def is_set(self) -> bool:
        """Whether it is raised."""

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until it is raised (at most ``timeout`` seconds); whether it is."""


class Switches:
    """Stop and pause, set by the window and read by the run between two batches."""

    def __init__(self, stop: Flag, running: Flag) -> None:
        self.stop, self.running = stop, running
        self.running.set()

    def request_stop(self) -> None:
        """Stop before the next batch (also ends a pause)."""
        self.stop.set()
        self.running.set()

    def set_paused(self, paused: bool) -> None:
        """Hold the run between two batches, or let it go on."""
        if paused:
            self.running.clear()
        else:
            self.running.set()

    def hold_while_paused(self, holding: Callable[[], None], abandoned: Callable[[], bool] = lambda: False) -> None:
        """Wait here while paused, after calling ``holding`` once (the run shows what it did); give up
        waiting when ``abandoned`` says nobody is left to resume it."""
        if self.running.is_set():
            return
        holding()
        while not self.running.wait(PAUSE_POLL_SECONDS):
            if abandoned():
                self.stop.set()
                return


class UpdateStream:
    """Collects a run's events and hands them to ``send`` as an ``Update`` at most
    ``MAX_UPDATES_PER_SECOND`` times a second, each epoch with the model's weights and, when the job has
    a probe, a snapshot for the inside view (within ``SNAPSHOT_SHARE`` of the run's time)."""

    def __init__(self, model: LSTMModel, data: Dataset, job: Job, send: Callable[[Update], None]) -> None:
        self.model, self.data, self.job, self.send = model, data, job, send
        self._pending, self._last_sent = Update(), 0.0
        self._snapshot_seconds = 0.0
        self.batches_taken = 0  # by the trainer, sent or not

    def run(
        self,
        switches: Switches,
        on_holding: Callable[[], None],
        between_batches: Callable[[], None] = lambda: None,
        abandoned: Callable[[], bool] = lambda: False,
    ) -> RunEnd:
        """Train the job's run to its end, sending what happens; everything is sent before it returns.
        Between two batches it reads ``switches``: paused, it sends what it did, tells ``on_holding`` and
        waits (until ``abandoned`` says nobody is left to resume it); ``between_batches`` runs there too."""
        interval = 1.0 / MAX_UPDATES_PER_SECOND

        def should_stop() -> bool:
            switches.hold_while_paused(lambda: (self.flush(), on_holding()), abandoned)
            between_batches()
            return switches.stop.is_set()

        for event in train(self.model, self.data, self.job.config, should_stop):
            if isinstance(event, BatchEnd):
                self._pending.batches.append(event)
                self.batches_taken += 1
            elif isinstance(event, EpochEnd):
                self._add_epoch(event)
            else:
                self.flush()
                return event
            if time.monotonic() - self._last_sent >= interval:
                self.flush()
        raise RuntimeError("the trainer ended without a RunEnd")

    def flush(self) -> None:
        """Send what happened since the last update, if anything did."""
        if self._pending:
            self.send(self._pending)
        self._pending, self._last_sent = Update(), time.monotonic()

    def _add_epoch(self, epoch: EpochEnd) -> None:
        self._pending.epochs.append(epoch)
        self._pending.state = self.model.state_dict()
        if self.job.probe is not None and self._snapshot_due(epoch):
            started = time.perf_counter()
            at = self.job.first_epoch + epoch.epoch
            snapshot = take_snapshot(self.model, self.data, self.job.probe, at, epoch.evaluation, self._pending.state)
            self._pending.snapshots.append(snapshot)
            self._snapshot_seconds += time.perf_counter() - started

    def _snapshot_due(self, epoch: EpochEnd) -> bool:
        """The first and last epoch always, the others while snapshots have taken at most
        ``SNAPSHOT_SHARE`` of the run's time (tiny epochs are then snapshotted less often)."""
        return epoch.epoch in (1, epoch.epochs) or self._snapshot_seconds <= SNAPSHOT_SHARE * epoch.elapsed


class KeptWeights:
    """What a run cut short outside the trainer (its process killed, out of memory, a bug) leaves the model:
    the weights of the last epoch the window showed, or those from before the run when it showed none. One
    rule wherever the run trained, so the curves, the metrics line, Try it, Export and the run folder all
    speak of the same weights."""

    def __init__(self, model: LSTMModel, first_epoch: int = 0) -> None:
        self.before = model.state_dict()
        self.first_epoch = first_epoch  # the model's epochs before the run, for the message
        self.epoch: EpochEnd | None = None  # the last epoch shown, and the weights it ended with
        self.state: dict | None = None

    def saw(self, update: Update) -> None:
        """An update reached the window."""
        if update.epochs and update.state is not None:
            self.epoch, self.state = update.epochs[-1], update.state

    def end(self, cut_short: RunEnd, model: LSTMModel, data: Dataset, status: str = FAILED) -> tuple[RunEnd, Outcome]:
        """Put those weights back into ``model``; the run's end (``status``) and their measurement."""
        failure = cut_short.failure if status == FAILED else None
        if self.epoch is None or self.state is None:
            model.load_state_dict(self.before)
            message = f"{cut_short.message}; the model keeps its weights from before the run"
            return replace(cut_short, status=status, message=message, failure=failure), Outcome(None)
        model.load_state_dict(self.state)
        e = self.epoch
        kept = f"the weights of epoch {self.first_epoch + e.epoch}, the last shown"
        message = f"{cut_short.message}; the model keeps {kept}"
        end = RunEnd(status, message, e.epoch, e.epoch, e.evaluation, e.train_loss, e.elapsed, failure)
        return end, Outcome.of(model, data, e.evaluation)


def failed_run(message: str, failure: str = CRASHED) -> RunEnd:
    """The end of a run that failed before any epoch."""
    return RunEnd(FAILED, message, 0, 0, None, None, 0.0, failure)


def internal_error(exc: Exception) -> RunEnd:
    """The end of a run a bug stopped: said as a failed run, never a traceback."""
    return failed_run(f"training stopped by an internal error: {exc}")
