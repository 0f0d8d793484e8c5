"""Training a window's run in a process of its own.

One Python process runs one thread at a time. A window that trains in a thread shares that
interpreter lock between painting and training, so each slows the other: the window took 1.36×
as long as the same run without it. A process of its own trains at full speed on one core while
the window paints on another.

The run's process is forked from a *fork server*: a small process started once (by exec, like
``spawn``, so it has no Qt thread a fork could catch holding a lock) with NumPy and this package
already imported, and with one BLAS thread (``child_environment``). Forking from it takes
milliseconds, where starting Python and NumPy takes most of a second. The model, its data and the
job are pickled to the child through a pipe; a series' windows travel as the series they view, once,
not as copies of every window (``windows.compact_view_reduce``). The child sends the run's updates back,
then the run's end with the weights it ended on, which the parent loads into its own model. Stop and
Pause are flags in shared memory that nobody waits on a lock for, so a child killed at any moment
cannot leave the window waiting.

Where there is no fork server (Windows), ``AVAILABLE`` is False and the window trains in a thread.
"""

from __future__ import annotations

import copyreg
import ctypes
import io
import multiprocessing
import multiprocessing.forkserver
import pickle
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import RawValue

import numpy as np

from lstm_studio.core import LSTMModel
from lstm_studio.training.child_environment import main_script_hidden, one_blas_thread_environment
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.session import Job, Outcome, Update
from lstm_studio.training.snapshots import Probe
from lstm_studio.training.trainer import CRASHED, RunEnd
from lstm_studio.training.update_stream import OUT_OF_MEMORY, Switches, UpdateStream, failed_run, internal_error
from lstm_studio.training.windows import compact_view_reduce

AVAILABLE = "forkserver" in multiprocessing.get_all_start_methods()
# What the fork server imports once for every run (NumPy loads numpy.random on first use: ~20 ms a run).
PRELOAD = ["lstm_studio.training.run_process", "numpy.random"]
JOIN_SECONDS = 5.0  # a child that sent its end and does not leave within this is killed
FLAG_POLL_SECONDS = 0.005
UPDATE, HOLDING, END = "update", "holding", "end"

_context = multiprocessing.get_context("forkserver") if AVAILABLE else None


class SharedFlag:
    """A flag in shared memory, set and read without a lock: a process killed at any moment leaves
    nothing held that the other side would then wait for (a ``multiprocessing.Event`` would)."""

    def __init__(self) -> None:
        self._value = RawValue(ctypes.c_bool, False)

    def set(self) -> None:
        """Raise the flag."""
        self._value.value = True

    def clear(self) -> None:
        """Lower it."""
        self._value.value = False

    def is_set(self) -> bool:
        """Whether it is raised."""
        return self._value.value

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until it is raised (at most ``timeout`` seconds); whether it is."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._value.value:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(FLAG_POLL_SECONDS)
        return True


@contextmanager
def _starting() -> Iterator[None]:
    """How the fork server starts, whenever it does (a process start restarts one that died): with its
    preloads, one BLAS thread, and without the window's script (it would import Qt)."""
    _context.set_forkserver_preload(PRELOAD)
    with one_blas_thread_environment(), main_script_hidden():
        yield


def start_server() -> None:
    """Start the fork server now (it then imports NumPy while the user is still choosing settings); it
    runs once per application, so later calls return at once. The first run starts it anyway."""
    with _starting():
        multiprocessing.forkserver.ensure_running()


def switches() -> Switches:
    """Stop and pause flags the run's process sees."""
    return Switches(SharedFlag(), SharedFlag())


def pickle_compact(value: object) -> bytes:
    """``value`` pickled with window views sent as the arrays they view (``windows.compact_view_reduce``)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, np.ndarray: compact_view_reduce}
    pickler.dump(value)
    return buffer.getvalue()


def train_in_process(
    model: LSTMModel,
    data: Dataset,
    job: Job,
    switched: Switches,
    on_update: Callable[[Update], None],
    on_holding: Callable[[], None],
    on_started: Callable[[multiprocessing.Process], None] = lambda process: None,
) -> tuple[RunEnd, Outcome | None]:
    """Train ``job`` in a process of its own (handed to ``on_started``, which may kill it). Its updates reach
    ``on_update`` and its pauses ``on_holding``, in order, in the calling thread; at the end ``model`` holds
    the weights the run ended on. A process that dies is a failed run (``CRASHED``), ``model`` untouched
    (``update_stream.KeptWeights`` decides what it keeps)."""
    here, there = _context.Pipe()
    child = _context.Process(target=_child_main, args=(there, switched, job.probe), name="lstm-studio-training")
    child.daemon = True  # never outlives the window's process
    with _starting():  # the child would run the window's script, too, were it not hidden
        child.start()
    there.close()  # the child holds the only other end now: its death ends the reading
    on_started(child)
    try:
        here.send_bytes(pickle_compact((model, data, job.config, job.first_epoch)))
        while True:
            try:
                kind, payload = here.recv()
            except (EOFError, OSError):  # the pipe's other end closed: the child is gone
                return failed_run(_died(child), CRASHED), None
            if kind == UPDATE:
                on_update(payload)
            elif kind == HOLDING:
                on_holding()
            else:
                end, state, outcome = payload
                if state is not None:
                    model.load_state_dict(state)
                return end, outcome
    except (BrokenPipeError, ConnectionResetError):  # it died before it read its job
        return failed_run(_died(child), CRASHED), None
    finally:
        here.close()
        child.join(JOIN_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()


def _died(child: multiprocessing.Process) -> str:
    child.join(JOIN_SECONDS)
    code = child.exitcode
    how = f"was killed (signal {-code})" if code is not None and code < 0 else f"ended unexpectedly (code {code})"
    return f"training stopped: its process {how}, perhaps for lack of memory"


def _child_main(conn: Connection, switched: Switches, probe: Probe | None) -> None:
    """The run's process: read the job, train, send, leave. Ctrl+C is the window's to handle, not the child's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        model, data, config, first_epoch = pickle.loads(conn.recv_bytes())
    except (EOFError, OSError):  # the window's process is gone
        return
    stream = UpdateStream(model, data, Job(config, probe=probe, first_epoch=first_epoch),
                          lambda update: conn.send((UPDATE, update)))  # fmt: skip
    try:
        # The window sends nothing after the job: anything to read while paused is its pipe's end (it is gone).
        end = stream.run(switched, lambda: conn.send((HOLDING, None)), abandoned=conn.poll)
        message = (END, (end, model.state_dict(), Outcome.of(model, data, end.evaluation)))
    except (BrokenPipeError, ConnectionResetError):  # the window's process is gone: nobody to tell
        return
    except MemoryError:
        message = (END, (failed_run(OUT_OF_MEMORY), None, None))
    except Exception as exc:  # a bug: reported as a failed run, as in a thread
        message = (END, (internal_error(exc), None, None))
    try:
        conn.send(message)
    except OSError:
        pass
    finally:
        conn.close()
