"""The Runs view: every run kept, compared side by side, renamed, deleted, exported, swept.

Runs live in run folders (``training.run_*``): the window writes one for every run, a sweep one per
trial, the command line with ``--runs-dir``. The list is read in a background thread; a damaged
folder is a row that says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from lstm_studio.gui.background import BackgroundJob
from lstm_studio.gui.runs.compare_plot import ComparePlot
from lstm_studio.gui.runs.sweep_dialog import SweepDialog
from lstm_studio.gui.runs.sweep_runner import SweepRunner
from lstm_studio.gui.runs.table import RunsTable
from lstm_studio.training import Experiment
from lstm_studio.training.compare import differing_labels, of_one_kind
from lstm_studio.training.run_format import RunFileError, RunHistory, RunStoreError, read_history
from lstm_studio.training.run_reader import RunInfo, list_runs
from lstm_studio.training.run_store import delete_run, export_histories, rename_run
from lstm_studio.training.sweep import Sweep, TrialEnd

SWEEP_RELIST_SECONDS = 2.0  # while a sweep runs, the table is read again at least this often (and when a trial ends)


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text, objectName=name)
    button.setToolTip(tip)
    return button


class RunsView(QWidget):
    """The runs directory as a table and a compare plot. ``message`` says what happened (error or not);
    ``open_requested`` asks the window to load a run's weights."""

    message = Signal(str, bool)
    open_requested = Signal(object)  # RunInfo
    folder_chosen = Signal(object)  # Path: the person chose another runs directory

    def __init__(self, runs_dir: Callable[[], Path], base: Callable[[], Experiment], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runsView")
        self.runs_dir, self.base = runs_dir, base
        self.runs: dict[Path, RunInfo] = {}
        self._pending_ticks: set[Path] = set()  # a sweep's folders, ticked as they appear
        self._list_again = False
        self._read_ahead: dict[Path, RunHistory] = {}  # histories the last listing read for the compare plot
        self._listed_at = 0.0  # when a sweep's progress last had the table read again
        self.lister = BackgroundJob(self)
        self.sweeper = SweepRunner(self)
        self._build()
        self.lister.done.connect(self._on_listed)
        self.lister.failed.connect(lambda exc: self.message.emit(f"cannot list the runs: {exc}", True))
        self.sweeper.progressed.connect(self._on_sweep_progress)
        self.sweeper.finished.connect(self._on_sweep_finished)

    def _build(self) -> None:
        self.folder_label = QLabel(objectName="runsFolderLabel")
        self.folder_button = _button("Folder…", "runsFolderButton", "record and list runs in another folder")
        self.refresh_button = _button("Refresh", "refreshRunsButton", "read the runs directory again")
        self.open_button = _button("Open", "openRunButton", "load the selected run's weights and settings")
        self.rename_button = _button("Rename…", "renameRunButton", "give the selected run a name")
        self.delete_button = _button("Delete", "deleteRunButton", "delete the selected run's folder")
        self.export_button = _button("Export CSV…", "exportRunsButton", "the ticked runs' histories as one CSV")
        self.sweep_button = _button("Sweep…", "sweepButton", "train every combination of several settings at once")
        self.stop_sweep_button = _button("Stop sweep", "stopSweepButton", "stop every trial of the sweep")
        self.stop_sweep_button.setEnabled(False)
        self.metric_check = QCheckBox("the task's metric", objectName="compareMetricCheck")
        self.smoothing = QSlider(Qt.Orientation.Horizontal, objectName="smoothingSlider", minimum=0, maximum=99)
        self.smoothing.setToolTip("exponential moving average, debiased as TensorBoard does (0: off)")
        self.smoothing.setMaximumWidth(160)
        self.table = RunsTable()
        self.plot = ComparePlot()
        top = QHBoxLayout()
        for widget in (self.folder_label, self.folder_button, self.refresh_button, self.open_button, self.rename_button,
                       self.delete_button, self.export_button, self.sweep_button, self.stop_sweep_button):  # fmt: skip
            top.addWidget(widget, stretch=1 if widget is self.folder_label else 0)
        options = QHBoxLayout()
        for widget in (QLabel("Compare the ticked runs:"), self.metric_check, QLabel("smoothing"), self.smoothing):
            options.addWidget(widget)
        options.addStretch()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.plot)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(options)
        layout.addWidget(splitter, stretch=1)
        self.refresh_button.clicked.connect(self.refresh)
        self.folder_button.clicked.connect(self._on_folder)
        self.open_button.clicked.connect(self._on_open)
        self.rename_button.clicked.connect(self._on_rename)
        self.delete_button.clicked.connect(self._on_delete)
        self.export_button.clicked.connect(self._on_export)
        self.sweep_button.clicked.connect(self._on_sweep)
        self.stop_sweep_button.clicked.connect(self.sweeper.cancel)
        self.table.itemChanged.connect(lambda _: self.compare())
        self.metric_check.toggled.connect(self.compare)
        self.smoothing.valueChanged.connect(self.compare)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Coming on screen: read the runs directory (a run may have ended meanwhile)."""
        super().showEvent(event)
        self.refresh()

    # ----- the list ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the runs directory again (in a background thread)."""
        folder = self.runs_dir()
        self.folder_label.setText(f"Runs in {folder}")
        if self.lister.busy:
            self._list_again = True  # what changed meanwhile is read when this listing ends
            return
        self._list_again = False
        wanted = {*self.table.ticked(), *self._pending_ticks}  # their histories are read in the job too
        self.lister.start(lambda: (list_runs(folder), _histories(folder, wanted)))

    def _on_listed(self, listing: tuple[list[RunInfo], dict[Path, RunHistory]]) -> None:
        if self._list_again:
            self.refresh()
            return
        runs, self._read_ahead = listing
        self.runs = {info.folder: info for info in runs}
        appeared = self._pending_ticks & self.runs.keys()  # a sweep's trials are ticked once they appear
        self._pending_ticks -= appeared
        ticked = set(self.table.ticked()) | appeared
        self.table.fill(runs, ticked)
        QTimer.singleShot(0, self.compare)  # the next turn of the event loop: the table is painted first

    def compare(self) -> None:
        """Draw the ticked runs' curves (with the histories the last listing read, where it read them)."""
        infos, histories = [], []
        read_ahead, self._read_ahead = self._read_ahead, {}
        for folder in self.table.ticked():
            info = self.runs.get(folder)
            try:
                history = read_ahead.get(folder) or (info.history() if info is not None else None)
            except RunFileError:
                continue
            if history is not None and len(history):
                infos.append(info)
                histories.append(history)
        kept, note = of_one_kind([history.metric for history in histories])
        infos, histories = [infos[k] for k in kept], [histories[k] for k in kept]
        if note:
            self.message.emit(note, False)
        labels = differing_labels([info.experiment for info in infos])
        labels = [label or info.title for label, info in zip(labels, infos, strict=True)]
        self.plot.show_runs(histories, labels, [info.best_epoch for info in infos], self.metric_check.isChecked(),
                            self.smoothing.value() / 100)  # fmt: skip

    # ----- actions -------------------------------------------------------------------------------------
    def _selected(self) -> RunInfo | None:
        folder = self.table.selected()
        info = self.runs.get(folder) if folder is not None else None
        if info is None:
            self.message.emit("select a run in the table first", True)
        return info

    def _on_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Runs folder", str(self.runs_dir()))
        if folder:
            self.folder_chosen.emit(Path(folder))
            self.refresh()

    def _on_open(self) -> None:
        info = self._selected()
        if info is None:
            return
        if info.weights_path is None:
            self.message.emit(f"{info.title} has no weights to open ({info.status}: {info.message})", True)
            return
        self.open_requested.emit(info)

    def _on_rename(self) -> None:
        info = self._selected()
        if info is None:
            return
        name, ok = QInputDialog.getText(self, "Rename run", "Name", text=info.title)
        if ok and name.strip():
            self._act(lambda: rename_run(info.folder, name.strip()), f"renamed to {name.strip()}")

    def _on_delete(self) -> None:
        info = self._selected()
        if info is None:
            return
        answer = QMessageBox.question(self, "Delete run", f"Delete {info.title} and its folder {info.folder}?")
        if answer == QMessageBox.StandardButton.Yes:
            self._act(lambda: delete_run(info.folder, self.runs_dir()), f"deleted {info.title}")

    def _on_export(self) -> None:
        ticked = self.table.ticked()
        if not ticked:
            self.message.emit("tick the runs whose histories to export", True)
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export histories", "runs.csv", "CSV (*.csv)")
        if path:
            self._act(lambda: export_histories(ticked, path), f"the histories of {len(ticked)} runs written to {path}")

    def _act(self, action: Callable[[], object], done: str) -> None:
        try:
            action()
        except (RunStoreError, RunFileError, OSError, ValueError) as exc:
            self.message.emit(str(exc), True)
            return
        self.message.emit(done, False)
        self.refresh()

    # ----- sweeps ------------------------------------------------------------------------------------
    def _on_sweep(self) -> None:
        if self.sweeper.running:
            return
        dialog = SweepDialog(self.base(), self)
        if dialog.exec() == SweepDialog.DialogCode.Accepted:
            self.start_sweep(dialog.grid(), dialog.workers.value())

    def start_sweep(self, grid: dict[str, list], workers: int) -> bool:
        """Train every combination of ``grid`` over the form's experiment; its runs are ticked to compare."""
        try:
            sweep = Sweep.plan(self.base(), grid, self.runs_dir(), workers=workers)
        except (ValueError, RunStoreError) as exc:
            self.message.emit(f"cannot sweep: {exc}", True)
            return False
        self.sweeper.start(sweep)
        self._pending_ticks = {Path(trial.run_dir) for trial in sweep.trials}
        self.sweep_button.setEnabled(False)
        self.stop_sweep_button.setEnabled(True)
        self.message.emit(f"sweep: {len(sweep.trials)} trials, {sweep.workers} at a time", False)
        return True

    def close_down(self, timeout_ms: int = 30_000) -> None:
        """For closing the window: end any sweep (no process left) and join the listing's thread."""
        self.sweeper.cancel_and_wait(timeout_ms / 1000)
        self.lister.wait(timeout_ms)

    def _on_sweep_progress(self, events: list) -> None:
        ended = sum(isinstance(e, TrialEnd) for e in events)
        if ended:
            self.message.emit(f"sweep: {ended} more trial(s) ended", False)
        if ended or time.monotonic() - self._listed_at > SWEEP_RELIST_SECONDS:
            self._listed_at = time.monotonic()
            self.refresh()

    def _on_sweep_finished(self, rows: list[dict]) -> None:
        self.sweep_button.setEnabled(True)
        self.stop_sweep_button.setEnabled(False)
        best = next((row for row in rows if row.get("val_loss") is not None), None)
        summary = f"; best: {best['name']} (val loss {best['val_loss']:.4g})" if best else ""
        self.message.emit(f"sweep over: {len(rows)} trials{summary}", False)
        self.refresh()


def _histories(runs_dir: Path, folders: Iterable[Path]) -> dict[Path, RunHistory]:
    """The histories of ``folders`` that can be read now (for a worker thread: files are read here)."""
    read = {}
    for folder in folders:
        if folder.parent == Path(runs_dir):
            try:
                read[folder] = read_history(folder)
            except RunFileError:
                continue
    return read
