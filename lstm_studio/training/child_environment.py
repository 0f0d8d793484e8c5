"""The environment child processes start with: one BLAS thread each, and not the parent's main script.

The app's matrices are small: BLAS threads gain nothing on them, and a BLAS thread that spins while
another process (or the window's GUI thread) works on the other core slows both. Measured on two
cores: a run beside a busy Python process took 2.0–2.3 s with NumPy's default two BLAS threads and
0.85 s, as alone, with one. The thread count is read once, when NumPy loads, so it is set in the
environment a child is started with, not inside it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BLAS_THREADS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                       "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}  # fmt: skip
_environ_lock = threading.Lock()
_main_lock = threading.Lock()
_hiders = 0  # blocks inside main_script_hidden now
_hidden_path: str | None = None  # the main script's path while it is hidden


@contextmanager
def main_script_hidden() -> Iterator[None]:
    """Workers started inside the block do not run this process's main script. ``spawn`` runs it
    again in every worker (as ``__mp_main__``, for functions pickled from it); a trial needs none of
    it, and the window's script imports Qt: a second and ~70 MB per worker, for nothing. Start
    methods read ``__main__.__file__`` when a process starts, so it is hidden meanwhile. Blocks may
    overlap (a sweep and a run start processes from two threads): the first hides it, the last
    puts it back."""
    global _hiders, _hidden_path
    with _main_lock:
        main = sys.modules.get("__main__")
        if _hiders == 0 and getattr(main, "__file__", None) is not None:
            _hidden_path = main.__file__
            del main.__file__
        _hiders += 1
    try:
        yield
    finally:
        with _main_lock:
            _hiders -= 1
            if _hiders == 0 and _hidden_path is not None:
                main.__file__, _hidden_path = _hidden_path, None


@contextmanager
def one_blas_thread_environment() -> Iterator[None]:
    """The environment of this process with one BLAS thread, for the children started inside the block
    (the parent's own NumPy loaded long ago and keeps its threads). Restored afterwards."""
    with _environ_lock:
        saved = {name: os.environ.get(name) for name in BLAS_THREADS}
        os.environ.update(BLAS_THREADS)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
