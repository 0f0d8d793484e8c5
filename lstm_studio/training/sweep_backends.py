"""Where a sweep's trials run: processes of this machine, one per trial, or Ray tasks (a local Ray
instance or a cluster). Both run ``trial.run_trial`` and hand back
one ``concurrent.futures.Future`` per trial; ``cancel`` ends every trial and returns once no
process of the sweep is left.

Every worker computes with one BLAS thread (``child_environment``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from multiprocessing.connection import Connection, wait

from lstm_studio.training.child_environment import BLAS_THREADS, main_script_hidden, one_blas_thread_environment
from lstm_studio.training.run_process import SharedFlag
from lstm_studio.training.trial import TrialSpec, run_ray_trial, run_trial, stop_trials, watch_sweep_stop

GRACE_SECONDS = 5.0  # a trial asked to stop finishes its batch and writes its record within this
PARENT_POLL_SECONDS = 0.5  # how often a worker checks that the sweep's process is still there
SCHEDULE_POLL_SECONDS = 0.2  # how soon the scheduler sees a cancel while no trial ends

_spawn = multiprocessing.get_context("spawn")


class SweepError(Exception):
    """A sweep that cannot start (Ray missing or unreachable); the message says what to do."""


def _worker_setup(stop: object, sweep: int) -> None:
    """In each trial's process: the trial watches the sweep's ``stop`` flag, which is how the sweep cancels
    it, and the sweep's process (``sweep``, its pid as the sweep read it: a child that read its parent only
    after its slow start could find the sweep already gone). Ctrl-C in the terminal reaches the whole
    process group; only the sweep decides what it means, so trials ignore it. A SIGTERM from outside (a
    scheduler, ``timeout``) stops the trial after its batch."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop_trials)
    watch_sweep_stop(stop)
    threading.Thread(target=_exit_with_parent, args=(sweep,), name="parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """In each trial's process: when the sweep's process is gone (killed outright, so it could not stop its
    trials), stop the trial, give it the grace period to record that, and exit."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    stop_trials()
    time.sleep(GRACE_SECONDS)
    os._exit(0)


class LocalPool:
    """Each trial in a process of its own, ``workers`` at a time, started with ``spawn`` (forking a process
    with Qt threads can deadlock). A trial whose process dies (the OOM killer) is lost alone: the others go
    on, and the queued ones still start. ``cancel`` stops the running trials through a shared flag, which a
    killed process cannot leave locked."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._futures: list[Future] = []
        self._stop = SharedFlag()
        self._running: dict[Connection, tuple[int, multiprocessing.process.BaseProcess]] = {}
        self._lock = threading.Lock()  # guards _running and the queue
        self._queue: list[tuple[int, TrialSpec]] = []
        self._function: Callable[[TrialSpec], dict] = run_trial
        self._scheduler: threading.Thread | None = None

    def submit(self, trials: Sequence[TrialSpec], function: Callable[[TrialSpec], dict] = run_trial) -> list[Future]:
        """Queue every trial; a thread starts them ``workers`` at a time and ends each one's future."""
        self._futures = [Future() for _ in trials]
        self._queue, self._function = list(enumerate(trials)), function
        self._scheduler = threading.Thread(target=self._schedule, name="sweep-scheduler", daemon=True)
        self._scheduler.start()
        return list(self._futures)

    def processes(self) -> list[multiprocessing.process.BaseProcess]:
        """The trials' processes running now."""
        with self._lock:
            return [process for _, process in self._running.values()]

    def _schedule(self) -> None:
        try:
            while True:
                self._start_due()
                with self._lock:
                    running = list(self._running)
                    if not running and not self._queue:
                        return
                for conn in wait(running, timeout=SCHEDULE_POLL_SECONDS):
                    self._ended(conn)
        except BaseException as exc:  # a bug here must not leave the sweep waiting for ever
            self._abandon(f"internal error: {type(exc).__name__}: {exc}")

    def _abandon(self, reason: str) -> None:
        """Kill what runs and end every future still open with ``reason``: nobody will end them now."""
        with self._lock:
            processes = [process for _, process in self._running.values()]
            self._running.clear()
            self._queue.clear()
        for process in processes:
            process.kill()
            process.join()
        for future in self._futures:
            if not future.done() and (future.running() or future.set_running_or_notify_cancel()):
                future.set_exception(TrialLostError(reason))

    def _start_due(self) -> None:
        """Start queued trials while fewer than ``workers`` run (none once the sweep is stopped)."""
        while True:
            with self._lock:
                if self._stop.is_set():
                    for index, _ in self._queue:
                        self._futures[index].cancel()
                    self._queue.clear()
                if not self._queue or len(self._running) >= self.workers:
                    return
                index, trial = self._queue.pop(0)
                if not self._futures[index].set_running_or_notify_cancel():
                    continue
                try:
                    here, process = self._start(index, trial)
                except Exception as exc:  # a process limit, out of memory, too many open files
                    self._futures[index].set_exception(TrialLostError(f"it could not start: {exc}"))
                    continue
                self._running[here] = (index, process)

    def _start(self, index: int, trial: TrialSpec) -> tuple[Connection, multiprocessing.process.BaseProcess]:
        """The trial's process, started, and the end of the pipe its row comes through."""
        here, there = _spawn.Pipe(duplex=False)
        try:
            process = _spawn.Process(target=_trial_main, args=(there, self._stop, os.getpid(), self._function, trial),
                                     name=f"lstm-studio-trial-{index + 1}", daemon=True)  # fmt: skip
            with one_blas_thread_environment(), main_script_hidden():
                process.start()
        except BaseException:
            here.close()
            raise
        finally:
            there.close()  # the trial's process holds the only other end: its death ends the reading
        return here, process

    def _ended(self, conn: Connection) -> None:
        """A trial's process sent its row, or died: its future ends."""
        try:
            kind, value = conn.recv()
        except (EOFError, OSError):
            kind, value = "lost", None
        with self._lock:
            index, process = self._running.pop(conn)
        conn.close()
        process.join(GRACE_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
        future = self._futures[index]
        if kind == "row":
            future.set_result(value)
        else:
            code = process.exitcode
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            future.set_exception(TrialLostError(value or how))

    def cancel(self) -> None:
        """Drop the queued trials, ask the running ones to stop (they finish their batch and record
        ``stopped``), kill those that have not after a grace period, and return once every trial's
        process has exited and been reaped."""
        self._stop.set()
        self._finish(GRACE_SECONDS)

    def close(self) -> None:
        """Wait for the last trial and its process."""
        self._finish(None)

    def _finish(self, patience: float | None) -> None:
        scheduler = self._scheduler
        if scheduler is None:
            return
        scheduler.join(patience)
        if scheduler.is_alive():
            for process in self.processes():
                process.kill()  # the scheduler then reads their end and reaps them
            scheduler.join()
        self._abandon("its process was not reaped")  # nothing left to do once the scheduler ended as it should


class TrialLostError(Exception):
    """A trial's process ended without its row (killed, out of memory); the message says how."""


def _trial_main(
    conn: Connection, stop: SharedFlag, sweep: int, function: Callable[[TrialSpec], dict], trial: TrialSpec
) -> None:
    """A trial's process: run it and send its row back to the sweep's process (``sweep``, its pid)."""
    _worker_setup(stop, sweep)
    try:
        message = ("row", function(trial))
    except BaseException as exc:  # reported to the sweep, never a traceback
        message = ("error", f"internal error: {type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError):  # the sweep's process is gone: nobody to tell
        conn.send(message)
    conn.close()


class RayPool:
    """The same trials as Ray tasks, one CPU each. ``address`` '' starts a local Ray instance (and
    stops it at the end); otherwise it names a running cluster, e.g. ``ray://head:10001`` or ``auto``.
    On a cluster the runs directory must be a path every node can write (a shared filesystem), and
    every node needs this version of lstm-studio installed."""

    def __init__(self, address: str) -> None:
        try:
            import ray
        except ImportError:
            raise SweepError("--ray needs Ray, an optional extra: pip install 'lstm-studio[cluster]'") from None
        self._ray = ray
        self.address = address
        self._started_here = False
        self._refs: list = []

    def submit(
        self, trials: Sequence[TrialSpec], function: Callable[[TrialSpec], dict] = run_ray_trial
    ) -> list[Future]:
        """Connect (or start a local instance) and submit one task per trial."""
        ray = self._ray
        if not ray.is_initialized():
            try:
                ray.init(address=self.address or None, include_dashboard=False, log_to_driver=False)
            except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError… for a bad address
                raise SweepError(
                    f"cannot reach the Ray cluster at {self.address or 'a new local instance'}: {exc}"
                ) from exc
            self._started_here = True
        task = ray.remote(num_cpus=1, max_retries=0)(function)
        env = {"env_vars": dict(BLAS_THREADS)}
        self._refs = [task.options(runtime_env=env).remote(trial) for trial in trials]
        return [ref.future() for ref in self._refs]

    def cancel(self) -> None:
        """Interrupt every task (it stops after its batch, its folder ``stopped`` with its best weights), then
        force the ones still running after the grace period."""
        ray = self._ray
        for ref in self._refs:
            ray.cancel(ref, force=False)
        _, running = ray.wait(self._refs, num_returns=len(self._refs), timeout=GRACE_SECONDS)
        for ref in running:
            ray.cancel(ref, force=True)
        self.close()

    def close(self) -> None:
        """Stop the local Ray instance this sweep started (a cluster is left running)."""
        if self._started_here and self._ray.is_initialized():
            self._ray.shutdown()
            self._started_here = False
