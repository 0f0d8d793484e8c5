"""Training a window's run in a process of its own.

One Python process runs one thread at a time. A window that trains in a thread shares that
interpreter lock between painting and training, so each slows the other: the window took 1.36×
as long as the same run without it. A process of its own trains at full speed on one core while
the window paints on another.

The run's process is forked from a *fork server*: a small process started once (by exec, like
``spawn``, so it has no Qt thread a fork could catch holding a lock) with NumPy and this package
already imported, and with one BLAS thread (``child_environment``). Forking from it takes
milliseconds, where starting Python and NumPy takes most of a second. The model, its data and the
job are pickled to the child; a series' windows travel as the values they span, not as copies of
every window (``windows.compact_view_reduce``). The child sends the run's updates through a pipe,
then the run's end with the weights it ended on, which the parent loads into its own model.

Where there is no fork server (Windows), ``AVAILABLE`` is False and the window trains in a thread.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler

import numpy as np

from lstm_studio.core import LSTMModel
from lstm_studio.training.child_environment import main_script_hidden, one_blas_thread_environment
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.session import Job, Outcome, Update
from lstm_studio.training.trainer import CRASHED, RunEnd
from lstm_studio.training.update_stream import OUT_OF_MEMORY, Switches, UpdateStream, failed_run
from lstm_studio.training.windows import compact_view_reduce

AVAILABLE = "forkserver" in multiprocessing.get_all_start_methods()
# What the fork server imports once for every run (NumPy loads numpy.random on first use: ~20 ms a run).
PRELOAD = ["lstm_studio.training.run_process", "numpy.random"]
JOIN_SECONDS = 5.0  # a child that sent its end and does not leave within this is killed
UPDATE, HOLDING, END = "update", "holding", "end"

_context = multiprocessing.get_context("forkserver") if AVAILABLE else None
_server_lock = threading.Lock()
_server_started = False
ForkingPickler.register(np.ndarray, compact_view_reduce)


def start_server() -> None:
    """Start the fork server now (it then imports NumPy while the user is still choosing settings);
    later calls return at once. The first run starts it anyway."""
    global _server_started
    with _server_lock:
        if _server_started:
            return
        _context.set_forkserver_preload(PRELOAD)
        with one_blas_thread_environment(), main_script_hidden():
            multiprocessing.forkserver.ensure_running()
        _server_started = True


def switches() -> Switches:
    """Stop and pause flags the run's process sees (shared semaphores, not a thread's events)."""
    return Switches(_context.Event(), _context.Event())


def train_in_process(
    model: LSTMModel,
    data: Dataset,
    job: Job,
    switched: Switches,
    on_update: Callable[[Update], None],
    on_holding: Callable[[], None],
    on_started: Callable[[int], None] = lambda pid: None,
) -> tuple[RunEnd, Outcome | None]:
    """Train ``job`` in a process of its own (its id goes to ``on_started``). Its updates reach ``on_update`` and
    its pauses ``on_holding``, in order, in the calling thread; at the end ``model`` holds the weights the run
    ended on. A process that dies is a failed run (the model then keeps its weights from before the run)."""
    start_server()
    reader, writer = _context.Pipe(duplex=False)
    slim = Job(job.config, probe=job.probe, first_epoch=job.first_epoch)  # what the child needs of the job
    child = _context.Process(
        target=_child_main, args=(writer, model, data, slim, switched, os.getpid()), name="lstm-studio-training"
    )
    child.daemon = True  # never outlives the window's process
    with main_script_hidden():  # or the child would run the window's script (and import Qt) first
        child.start()
    writer.close()  # the child holds the only writing end now
    on_started(child.pid)
    try:
        while True:
            message = _receive(reader, child)
            if message is None:
                return failed_run(_died(child), CRASHED), None
            kind, payload = message
            if kind == UPDATE:
                on_update(payload)
            elif kind == HOLDING:
                on_holding()
            else:
                end, state, outcome = payload
                if state is not None:
                    model.load_state_dict(state)
                return end, outcome
    finally:
        reader.close()
        child.join(JOIN_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()


def _receive(reader: Connection, child: multiprocessing.Process) -> tuple | None:
    """The child's next message; None once it is gone with nothing more to read."""
    while True:
        if reader.poll():
            try:
                return reader.recv()
            except (EOFError, OSError):
                return None
        if child.sentinel in wait([reader, child.sentinel]) and not reader.poll():
            return None


def _died(child: multiprocessing.Process) -> str:
    child.join(JOIN_SECONDS)
    code = child.exitcode
    how = f"was killed (signal {-code})" if code is not None and code < 0 else f"ended unexpectedly (code {code})"
    return f"training stopped: its process {how}, perhaps for lack of memory; the model keeps its weights from before"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody's: the pid was reused, so the window's process is gone
        return False
    return True


def _child_main(conn: Connection, model: LSTMModel, data: Dataset, job: Job, switched: Switches, parent: int) -> None:
    """The run's process: train, send, leave. Ctrl+C is the window's to handle, not the child's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stream = UpdateStream(model, data, job, lambda update: conn.send((UPDATE, update)))

    def holding() -> None:
        stream.flush()
        conn.send((HOLDING, None))

    def should_stop() -> bool:
        switched.hold_while_paused(holding, abandoned=lambda: not _alive(parent))
        return switched.stop.is_set()

    try:
        end = stream.run(should_stop)
        message = (END, (end, model.state_dict(), Outcome.of(model, data, end.evaluation)))
    except (BrokenPipeError, ConnectionResetError):  # the window's process is gone: nobody to tell
        return
    except MemoryError:
        message = (END, (failed_run(OUT_OF_MEMORY), None, None))
    except Exception as exc:  # a bug: reported as a failed run, as in a thread
        message = (END, (failed_run(f"training stopped by an internal error: {exc}"), None, None))
    try:
        conn.send(message)
    except OSError:
        pass
    finally:
        conn.close()
