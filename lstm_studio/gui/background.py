"""One short job at a time in a worker thread, its result handed back to the GUI thread.

Opening a weights file reads and checks arrays and may read a CSV: work the GUI thread must
not do, or the window freezes on a large or hostile file.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from lstm_studio.gui import collector


class _Job(QObject):
    """Runs ``work`` once in its thread; ``finished`` carries (result, error)."""

    finished = Signal(object, object)

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__()
        self.work = work

    @Slot()
    def run(self) -> None:
        try:
            result, error = self.work(), None
        except Exception as exc:  # handed to the GUI thread, which decides what to say
            result, error = None, exc
        self.finished.emit(result, error)


class BackgroundJob(QObject):
    """Starts ``work`` in a fresh QThread; ``done(result)`` or ``failed(exception)`` follows in
    the GUI thread once the thread has ended."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._job: _Job | None = None  # kept referenced while it runs
        self._outcome: tuple[object, object] = (None, None)

    @property
    def busy(self) -> bool:
        """Whether a job is under way."""
        return self._thread is not None

    def start(self, work: Callable[[], object]) -> None:
        """Run ``work`` in a worker thread (one job at a time)."""
        if self.busy:
            raise RuntimeError("a job is already under way")
        job, thread = _Job(work), QThread()
        thread.setObjectName("background")
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.finished.connect(self._keep, Qt.ConnectionType.DirectConnection)
        job.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._job = thread, job
        collector.worker_starting()
        thread.start()

    def wait(self, timeout_ms: int) -> bool:
        """Join the thread (for closing the window); True when it ended in time."""
        return self._thread is None or self._thread.wait(timeout_ms)

    def _keep(self, result: object, error: object) -> None:
        self._outcome = (result, error)

    def _on_thread_finished(self) -> None:
        self._thread.wait()
        result, error = self._outcome
        self._thread, self._job, self._outcome = None, None, (None, None)
        collector.worker_ended()
        if error is None:
            self.done.emit(result)
        else:
            self.failed.emit(error)
