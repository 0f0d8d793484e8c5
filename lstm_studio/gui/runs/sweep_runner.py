"""Runs a sweep for the window: started here, watched from a timer, cancelled off the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal

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
        self._cancelling: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether a sweep is under way (or being cancelled)."""
        return self.sweep is not None

    def start(self, sweep: Sweep) -> None:
        """Start ``sweep`` (its trials run in other processes)."""
        self.sweep = sweep
        sweep.start()
        self.timer.start()

    def cancel(self) -> None:
        """Stop every trial; the processes are ended in a thread, and ``finished`` follows."""
        if self.sweep is not None and self._cancelling is None:
            self._cancelling = threading.Thread(target=self.sweep.cancel, name="sweep-cancel", daemon=True)
            self._cancelling.start()

    def cancel_and_wait(self, timeout: float = 30.0) -> None:
        """For closing the window: cancel and return when no trial process is left."""
        if self.sweep is None:
            return
        self.cancel()
        self._cancelling.join(timeout)
        self._end()

    def _poll(self) -> None:
        events = self.sweep.poll()
        if events:
            self.progressed.emit(events)
        cancelling = self._cancelling  # which reaps the workers: the sweep ends when it is done, not before
        if (not cancelling.is_alive()) if cancelling is not None else self.sweep.finished:
            self._end()

    def _end(self) -> None:
        if self.sweep is None:
            return
        self.timer.stop()
        sweep, self.sweep, self._cancelling = self.sweep, None, None
        rows = sweep.results()
        sweep.close()
        self.finished.emit(rows)
