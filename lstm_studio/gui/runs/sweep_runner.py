"""Runs a sweep for the window: started here, watched from a timer, polled and cancelled off the GUI thread
(a poll reads the trials' history files: tens of milliseconds the GUI thread should not spend)."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal

from lstm_studio.gui import collector
from lstm_studio.gui.background import BackgroundJob
from lstm_studio.training.sweep import Sweep

POLL_MS = 500


class SweepRunner(QObject):
    """``progressed(events)`` while trials train, ``finished(rows)`` once all have ended or were
    cancelled; at most one sweep at a time."""

    progressed = Signal(list)
    finished = Signal(list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sweep: Sweep | None = None
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.poller = BackgroundJob(self)
        self.poller.done.connect(self._on_polled)
        self.poller.failed.connect(lambda _exc: self._on_polled([]))  # the next poll tries again
        self.closer = BackgroundJob(self)  # the last results and the workers' exit, off the GUI thread
        self.closer.done.connect(self._ended)
        self.closer.failed.connect(lambda _exc: self._ended([]))  # the table, read again, says how each trial ended
        self._cancelling: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether a sweep is under way (or being cancelled)."""
        return self.sweep is not None

    def start(self, sweep: Sweep) -> None:
        """Start ``sweep`` (its trials run in other processes)."""
        self.sweep = sweep
        collector.worker_starting()  # the sweep's scheduler and cancel threads run in this process
        try:
            sweep.start()
        except BaseException:
            self.sweep = None
            collector.worker_ended()
            raise
        self.timer.start()

    def cancel(self) -> None:
        """Stop every trial; the processes are ended in a thread, and ``finished`` follows."""
        if self.sweep is not None and self._cancelling is None:
            self._cancelling = threading.Thread(target=self.sweep.cancel, name="sweep-cancel", daemon=True)
            self._cancelling.start()

    def cancel_and_wait(self, timeout: float = 30.0) -> None:
        """For closing the window: cancel and return when no trial process is left."""
        self.poller.wait(int(timeout * 1000))
        if self.sweep is None:
            self.closer.wait(int(timeout * 1000))
            return
        self.cancel()
        self._cancelling.join(timeout)
        self._end()

    def _poll(self) -> None:
        if self.sweep is not None and not self.poller.busy:
            self.poller.start(self.sweep.poll)

    def _on_polled(self, events: list) -> None:
        if self.sweep is None:
            return
        if events:
            self.progressed.emit(events)
        cancelling = self._cancelling  # which reaps the workers: the sweep ends when it is done, not before
        if (not cancelling.is_alive()) if cancelling is not None else self.sweep.finished:
            self.timer.stop()
            sweep = self.sweep
            if not self.closer.busy:
                self.closer.start(lambda: _wrap_up(sweep))

    def _end(self) -> None:
        """End the sweep now, in this thread (closing the window)."""
        if self.sweep is None:
            return
        self.closer.wait(30_000)
        self._ended(_wrap_up(self.sweep))

    def _ended(self, rows: list[dict]) -> None:
        if self.sweep is None:
            return
        self.timer.stop()
        self.sweep, self._cancelling = None, None
        collector.worker_ended()
        self.finished.emit(rows)


def _wrap_up(sweep: Sweep) -> list[dict]:
    """The sweep's rows, once its workers have exited."""
    rows = sweep.results()
    sweep.close()
    return rows
