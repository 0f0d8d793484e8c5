"""Reading the chosen CSV column for the form: small files at once, large ones off the GUI thread.

A file of a few hundred megabytes takes seconds to read; read in the GUI thread, it would freeze the
window. Larger files are read by a background job that reports how far it got, and the form asks
again when the read is done. The latest read of the last two sources is kept, so settings that do not
change the source never read the file again, and going back to the column before is immediate, while
trying every column of a large file does not keep every column in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from lstm_studio.gui.background import BackgroundJob
from lstm_studio.training import CsvError, Experiment, Series
from lstm_studio.training.csv_series import MISSING_HINT

FileStamp = tuple[int, int]  # (modification time in ns, size) of a regular file; (0, 0) for anything else
SourceKey = tuple[str, str, str, str]  # (path, column, time column, missing) of a series
BACKGROUND_BYTES = 4_000_000  # files larger than this are read off the GUI thread
KEPT_SOURCES = 2  # the series shown and the one before it
PROGRESS_MS = 250


class SeriesReader(QObject):
    """``read`` gives the series (or why it cannot be read, or that it is being read); ``ready`` says a
    background read ended, ``progressed(text)`` how far one has got."""

    ready = Signal()
    progressed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache: dict[SourceKey, tuple[FileStamp, Series | str]] = {}
        self.job = BackgroundJob(self)
        self.job.done.connect(self._on_read)
        self.job.failed.connect(self._on_read)
        self.timer = QTimer(self, interval=PROGRESS_MS)
        self.timer.timeout.connect(lambda: self.progressed.emit(self.reading_text()))
        self._reading: tuple[SourceKey, FileStamp] | None = None
        self._fraction = 0.0  # written by the reading thread, read by the timer

    @property
    def busy(self) -> bool:
        """Whether a file is being read in the background."""
        return self._reading is not None

    def read(self, experiment: Experiment, stamp: FileStamp) -> Series | str:
        """The series of ``experiment``'s source at file version ``stamp``, why it cannot be read, or (while
        a large file is read in the background) ``reading_text()``."""
        key = (experiment.series_path, experiment.column, experiment.time_column, experiment.missing)
        cached = self.cache.get(key)
        if cached is not None and cached[0] == stamp:
            self._keep(key, cached)
            return cached[1]
        if stamp[1] <= BACKGROUND_BYTES:
            self._keep(key, (stamp, _read(experiment)))
            return self.cache[key][1]
        if not self.busy:
            self._reading, self._fraction = (key, stamp), 0.0
            self.job.start(lambda: _read(experiment, self._report))
            self.timer.start()
        return self.reading_text()

    def reading_text(self) -> str:
        """What the form says while a file is read."""
        if self._reading is None:
            return ""
        (path, *_), (_, size) = self._reading
        return f"reading {Path(path).name} ({size / 1e6:,.0f} MB): {self._fraction:.0%}"

    def _report(self, fraction: float) -> None:
        self._fraction = fraction

    def _on_read(self, result: object) -> None:
        key, stamp = self._reading
        self._reading = None
        self.timer.stop()
        if isinstance(result, BaseException):
            result = f"{key[0]}: cannot be read ({type(result).__name__}: {result})"
        self._keep(key, (stamp, result))
        self.ready.emit()

    def _keep(self, key: SourceKey, entry: tuple[FileStamp, Series | str]) -> None:
        """Keep ``entry`` as the newest, forgetting the oldest beyond ``KEPT_SOURCES``."""
        self.cache.pop(key, None)
        self.cache[key] = entry
        while len(self.cache) > KEPT_SOURCES:
            del self.cache[next(iter(self.cache))]

    def wait(self, timeout_ms: int) -> bool:
        """Join a background read (for closing the window)."""
        return self.job.wait(timeout_ms)


def _read(experiment: Experiment, progress: Callable[[float], None] | None = None) -> Series | str:
    """The series, or the reason it cannot be read (the way out named as the window offers it)."""
    try:
        return experiment.read_series(progress)
    except CsvError as exc:
        return str(exc).replace(MISSING_HINT, "set Missing values to interpolate to fill gaps")
