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


@contextmanager
def main_script_hidden() -> Iterator[None]:
    """Workers started inside the block do not run this process's main script. ``spawn`` runs it
    again in every worker (as ``__mp_main__``, for functions pickled from it); a trial needs none of
    it, and the window's script imports Qt: a second and ~70 MB per worker, for nothing. Start
    methods read ``__main__.__file__`` when a process starts, so it is hidden meanwhile."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


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
