"""Owns the worker thread of one training run at a time: start, pause, stop, and a clean join."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal

from lstm_studio.gui import collector
from lstm_studio.gui.worker import TrainingWorker
from lstm_studio.training import run_process
from lstm_studio.training.session import Job

JOIN_TIMEOUT_MS = 10_000
KILL_AFTER_MS = 2_000  # closing the window ends a run's own process mid-batch after this


class TrainingRunner(QObject):
    """Starts a ``TrainingWorker`` in a fresh ``QThread`` and relays its signals.

    ``finished`` is emitted once per run, after the thread has ended, so a slot may
    start the next run at once.
    """

    prepared = Signal(object, object)  # a new model and its data, made in the worker thread
    progressed = Signal(object)  # session.Update
    recording = Signal(str)  # why the run is not (or no longer) recorded
    finished = Signal(object, object)  # training.RunEnd, session.Outcome (None when the run failed early)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None  # kept referenced while it runs
        if run_process.AVAILABLE:
            run_process.start_server()  # ready by the first Train (it takes a moment to import NumPy)

    @property
    def running(self) -> bool:
        """Whether a run is under way (paused counts)."""
        return self._thread is not None

    def start(self, job: Job) -> None:
        """Begin ``job`` in a new thread; the caller must not compute with its model until ``finished``."""
        if self.running:
            raise RuntimeError("a run is already under way")
        worker = TrainingWorker(job)
        thread = QThread()
        thread.setObjectName("training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.prepared.connect(self.prepared)
        worker.progressed.connect(self.progressed)
        worker.recording.connect(self.recording)
        # quit() is thread-safe; a direct call still works while the GUI thread waits in stop_and_wait()
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        collector.worker_starting()
        thread.start()

    @property
    def holding(self) -> bool:
        """Whether the run waits at the pause gate (everything it did already sent)."""
        return self._worker is not None and self._worker.holding.is_set()

    @property
    def batches_done(self) -> int:
        """Batches the run under way has taken."""
        return self._worker.batches_done if self._worker is not None else 0

    @property
    def process_id(self) -> int | None:
        """The process the run under way trains in (None: in a thread, not started yet, or no run)."""
        return self._worker.process_id if self._worker is not None else None

    def pause(self, paused: bool) -> None:
        """Hold or release the run between two batches."""
        if self._worker is not None:
            self._worker.set_paused(paused)

    def begin_frame(self) -> None:
        """The GUI thread is about to paint: a run in the worker's thread waits at its next batch (briefly)."""
        if self._worker is not None:
            self._worker.begin_frame()

    def end_frame(self) -> None:
        """Painting is done: the worker goes on."""
        if self._worker is not None:
            self._worker.end_frame()

    def stop(self) -> None:
        """Ask the run to end before its next batch; ``finished`` follows."""
        if self._worker is not None:
            self._worker.request_stop()
            self._worker.end_frame()

    def stop_and_wait(self) -> bool:
        """Stop and join the thread (for closing the window); True when it ended in time."""
        thread = self._thread
        if thread is None:
            return True
        self.stop()
        if self._worker.in_process:  # a run's own process is ended mid-batch when its batch takes long
            ended = thread.wait(KILL_AFTER_MS) or (self._worker.kill() and thread.wait(JOIN_TIMEOUT_MS))
        else:
            ended = thread.wait(JOIN_TIMEOUT_MS)
        if ended:
            self._on_thread_finished()
        return ended

    def _on_thread_finished(self) -> None:
        if self._thread is None:  # already handled by stop_and_wait
            return
        self._thread.wait()
        result, outcome = self._worker.result, self._worker.outcome
        self._thread, self._worker = None, None
        collector.worker_ended()
        self.finished.emit(result, outcome)
