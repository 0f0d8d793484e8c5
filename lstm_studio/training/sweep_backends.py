"""Where a sweep's trials run: worker processes of this machine (the standard library's process
pool) or Ray tasks (a local Ray instance or a cluster). Both run ``trial.run_trial`` and hand back
one ``concurrent.futures.Future`` per trial; ``cancel`` ends every trial and returns once no
process of the sweep is left.

Every worker computes with one BLAS thread (``child_environment``).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures

from lstm_studio.training.child_environment import BLAS_THREADS, main_script_hidden, one_blas_thread_environment
from lstm_studio.training.trial import TrialSpec, run_ray_trial, run_trial, stop_trials, watch_sweep_stop

GRACE_SECONDS = 5.0  # a trial asked to stop finishes its batch and writes its record within this
PARENT_POLL_SECONDS = 0.5  # how often a worker checks that the sweep's process is still there


class SweepError(Exception):
    """A sweep that cannot start (Ray missing or unreachable); the message says what to do."""


def _worker_setup(stop: object) -> None:
    """In each worker: trials watch the sweep's ``stop`` event, which is how the sweep cancels them.
    Ctrl-C in the terminal reaches the whole process group; only the sweep (the parent) decides what
    it means, so workers ignore it. A SIGTERM from outside (a scheduler, ``timeout``) stops the trial
    under way after its batch and any later one before it starts."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop_trials)
    watch_sweep_stop(stop)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """In each worker: when the sweep's process is gone (killed outright, so it could not shut the pool
    down), stop the trial under way, give it the grace period to record that, and exit. An idle worker
    would otherwise wait for work forever: it holds both ends of the pool's queue, so it never sees EOF."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    stop_trials()
    time.sleep(GRACE_SECONDS)
    os._exit(0)


class LocalPool:
    """``workers`` processes started with ``spawn`` (forking a process with Qt threads can deadlock)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._futures: list[Future] = []
        self._stop: object | None = None
        self._reaped = threading.Lock()

    def submit(self, trials: Sequence[TrialSpec], function: Callable[[TrialSpec], dict] = run_trial) -> list[Future]:
        """Start the workers and queue every trial."""
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        with one_blas_thread_environment(), main_script_hidden():  # the workers start during the submits
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_worker_setup, initargs=(self._stop,)
            )
            self._futures = [self._executor.submit(function, trial) for trial in trials]
        return list(self._futures)

    def cancel(self) -> None:
        """Drop the queued trials, ask the running ones to stop (they finish their batch and record
        ``stopped``), kill the workers if one has not stopped after a grace period, and return once
        every worker has exited and been reaped."""
        if self._executor is None:
            return
        self._stop.set()
        for future in self._futures:
            future.cancel()  # those still queued; a worker told to stop runs no further trial (trial.py)
        _, late = wait_futures(self._futures, timeout=GRACE_SECONDS)
        self._reap(patience=0.0 if late else GRACE_SECONDS)

    def close(self) -> None:
        """Wait for the last trial, then for every worker to exit."""
        if self._executor is not None:
            wait_futures(self._futures)
            self._reap(patience=GRACE_SECONDS)

    def _reap(self, patience: float) -> None:
        """Shut the pool down and return once every worker has exited and been reaped. Workers leave
        on the shutdown's sentinels; if they have not after ``patience`` seconds (a worker stuck, or a
        pool that broke: it waits for its workers to exit, holding the lock that shutdown needs),
        whatever is left is killed. Safe to call from two threads: the second returns when all is reaped."""
        with self._reaped:
            executor = self._executor
            if executor is None:
                return
            processes = _workers(executor)
            shutting = threading.Thread(
                target=executor.shutdown, kwargs={"wait": True, "cancel_futures": True}, daemon=True
            )
            shutting.start()
            shutting.join(patience)
            if shutting.is_alive():
                for process in {*processes, *_workers(executor)}:
                    process.kill()  # nothing for a process already reaped
                shutting.join()
            for process in processes:
                process.join()
            self._executor = None


def _workers(executor: ProcessPoolExecutor) -> list[multiprocessing.process.BaseProcess]:
    """The pool's worker processes (it has no public handle on them)."""
    return list((getattr(executor, "_processes", None) or {}).values())


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
