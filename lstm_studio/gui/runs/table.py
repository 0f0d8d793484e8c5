"""The runs table: one row per run folder, sortable, with a tick to compare."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from lstm_studio.gui.status import format_seconds
from lstm_studio.training.run_reader import RunInfo

COLUMNS = ("compare", "name", "when", "task", "layers", "lr", "batch", "epochs", "best val loss", "metric",
           "baselines", "time", "status")  # fmt: skip
FOLDER_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class _Item(QTableWidgetItem):
    """A cell that sorts by its value (numbers as numbers), not by its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)):
            return mine < theirs
        return str(mine) < str(theirs)


def _cell(text: str, sort: object = None, tip: str = "") -> _Item:
    item = _Item(text)
    item.setData(SORT_ROLE, text if sort is None else sort)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tip:
        item.setToolTip(tip)
    return item


def _when(started: str) -> str:
    try:
        return datetime.fromisoformat(started.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return started


def row_cells(info: RunInfo) -> list[_Item]:
    """The cells of one run (an unreadable one says why in its status cell)."""
    e, m, b = info.experiment, info.metrics, info.baselines
    accuracy, rmse = m.get("val_accuracy"), m.get("val_rmse")
    metric = f"{accuracy:.1%} acc" if accuracy is not None else f"{rmse:.4g} RMSE" if rmse is not None else ""
    base = f"persistence {b['persistence_rmse']:.4g}, mean {b['mean_rmse']:.4g}" if "mean_rmse" in b else ""
    loss = info.val_loss
    return [
        _cell("", 0),
        _cell(info.title, info.title, str(info.folder)),
        _cell(_when(info.started), info.started),
        _cell(info.task),
        _cell(",".join(map(str, e.hidden_sizes)) if e else "", len(e.hidden_sizes) if e else 0),
        _cell(f"{e.train.lr:g}" if e else "", e.train.lr if e else 0.0),
        _cell(str(e.train.batch_size) if e else "", e.train.batch_size if e else 0),
        _cell(str(info.epochs_run), info.epochs_run),
        _cell(f"{loss:.4g}" if loss is not None else "", loss if loss is not None else float("inf")),
        _cell(metric, accuracy if accuracy is not None else rmse if rmse is not None else 0.0),
        _cell(base),
        _cell(format_seconds(info.seconds) if info.seconds is not None else "", info.seconds or 0.0),
        _cell(info.status, info.status, info.message),
    ]


class RunsTable(QTableWidget):
    """Every run of the runs directory; the ticked ones are compared."""

    def __init__(self) -> None:
        super().__init__(0, len(COLUMNS))
        self.setObjectName("runsTable")
        self.setHorizontalHeaderLabels([c if c != "compare" else "✓" for c in COLUMNS])
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().hide()
        self.setSortingEnabled(True)

    def fill(self, runs: Sequence[RunInfo], ticked: set[Path]) -> None:
        """Show ``runs``, ticking those in ``ticked``; the sort order stays."""
        self.blockSignals(True)
        self.setSortingEnabled(False)
        self.setRowCount(len(runs))
        for r, info in enumerate(runs):
            for c, item in enumerate(row_cells(info)):
                item.setData(FOLDER_ROLE, str(info.folder))
                self.setItem(r, c, item)
            tick = self.item(r, 0)
            tick.setFlags(tick.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            tick.setCheckState(Qt.CheckState.Checked if info.folder in ticked else Qt.CheckState.Unchecked)
            if not info.readable:
                tick.setFlags(tick.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
        self.setSortingEnabled(True)
        self.blockSignals(False)

    def ticked(self) -> list[Path]:
        """The folders of the ticked runs, in table order."""
        rows = range(self.rowCount())
        return [
            Path(self.item(r, 0).data(FOLDER_ROLE))
            for r in rows
            if self.item(r, 0).checkState() == Qt.CheckState.Checked
        ]

    def selected(self) -> Path | None:
        """The folder of the selected run."""
        rows = self.selectionModel().selectedRows()
        return Path(self.item(rows[0].row(), 0).data(FOLDER_ROLE)) if rows else None
