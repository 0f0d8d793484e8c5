"""Python's cyclic garbage collector, kept to the GUI thread while the window's worker threads run.

The collector runs in whichever thread happens to allocate. Run in a worker thread, it may free Qt objects
of the GUI (a closed window's or dialog's wrappers in a reference cycle), and PySide then destroys them in
that thread while the GUI thread deletes their neighbours: the two deadlock (seen in CI: the training
thread destroying an object connected to a menu the GUI thread was deleting). So while any worker thread
runs, automatic collection is paused and the GUI thread collects on a timer instead: the young
generations every second (a fraction of a millisecond), everything every minute. Reference counting
still frees at once everything that is not in a cycle.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QTimer

YOUNG_EVERY_MS = 1_000
FULL_EVERY_TICKS = 60

_workers = 0  # worker threads running now; changed in the GUI thread only
_timer: QTimer | None = None
_ticks = 0


def worker_starting() -> None:
    """A worker thread is about to start (call in the GUI thread)."""
    global _workers, _timer
    if _workers == 0:
        gc.disable()
        if _timer is None:
            _timer = QTimer(interval=YOUNG_EVERY_MS)
            _timer.timeout.connect(_collect)
        _timer.start()
    _workers += 1


def worker_ended() -> None:
    """A worker thread has ended (call in the GUI thread, once per ``worker_starting``)."""
    global _workers
    _workers = max(0, _workers - 1)
    if _workers == 0:
        if _timer is not None:
            _timer.stop()
        gc.enable()  # the next collection runs in the GUI thread, when it is due


def _collect() -> None:
    global _ticks
    _ticks += 1
    gc.collect(2 if _ticks % FULL_EVERY_TICKS == 0 else 1)
