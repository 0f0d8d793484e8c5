"""What the window benchmarks share: a window that writes nothing outside a scratch folder, and a watch on
the GUI thread's longest stall (the gap between ticks of a short timer)."""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QSettings, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication

from lstm_studio.gui import MainWindow
from lstm_studio.gui.window_settings import RUNS_DIR_KEY

TICK_MS = 5


def scratch_window(app: QApplication, task: str) -> MainWindow:
    """A shown window for ``task`` whose settings and recorded runs live in a fresh temporary folder
    (never the user's data folder)."""
    folder = tempfile.mkdtemp(prefix="lstm-studio-bench-")
    settings = QSettings(os.path.join(folder, "bench.ini"), QSettings.Format.IniFormat)
    settings.setValue(RUNS_DIR_KEY, os.path.join(folder, "runs"))
    window = MainWindow(settings)
    window.form.task_combo.setCurrentIndex(window.form.task_combo.findData(task))
    window.show()
    app.processEvents()
    return window


def timed(start: Callable[[], object], ended: SignalInstance) -> tuple[float, float, float]:
    """Call ``start`` and wait for ``ended``: (seconds, longest GUI-thread gap in ms, when that gap began in
    seconds after the start), watching a ``TICK_MS`` timer in the GUI thread meanwhile."""
    ticks: list[float] = []
    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    ended.connect(loop.quit)
    timer.start()
    started = time.perf_counter()
    start()
    loop.exec()
    seconds = time.perf_counter() - started
    timer.stop()
    worst, at = max(((b - a, a - started) for a, b in itertools.pairwise(ticks)), default=(0.0, 0.0))
    return seconds, 1000 * worst, at
