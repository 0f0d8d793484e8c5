"""Choosing a CSV file, its column and other input columns for the csv task, and a preview of the series."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from lstm_studio.training import CsvError, Series, read_columns

NO_TIME_COLUMN = "(none)"


class SeriesSourceEditor(QWidget):
    """File, value column, optional time column and other input columns of the csv task."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path_edit = QLineEdit(objectName="csvPathEdit", readOnly=True, placeholderText="no file chosen")
        self.open_button = QPushButton("Open CSV…", objectName="openCsvButton")
        self.open_button.setToolTip("a CSV file (comma, semicolon or tab separated, header row or not)")
        self.column_combo = QComboBox(objectName="csvColumnCombo")
        self.column_combo.setToolTip("the column of numbers to learn")
        self.time_combo = QComboBox(objectName="timeColumnCombo")
        self.time_combo.setToolTip("optional: the column that says when each row was measured (the x axis)")
        self.inputs_list = QListWidget(objectName="inputColumnsList")
        self.inputs_list.setToolTip(
            "optional: other columns the network reads beside the column's own history, such as the temperature "
            "beside an electricity load (each scaled on the training part)"
        )
        self.inputs_list.setMaximumHeight(72)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, stretch=1)
        file_row.addWidget(self.open_button)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("File", file_row)
        form.addRow("Column", self.column_combo)
        form.addRow("Time column", self.time_combo)
        form.addRow("Other inputs", self.inputs_list)
        self.error = ""  # why the file's columns could not be read
        self.open_button.clicked.connect(self._on_open_clicked)
        self.column_combo.currentIndexChanged.connect(self.changed)
        self.time_combo.currentIndexChanged.connect(self.changed)
        self.inputs_list.itemChanged.connect(self.changed)

    def source(self) -> tuple[str, str, str]:
        """(path, column, time column or '')."""
        time = self.time_combo.currentText()
        return self.path_edit.text(), self.column_combo.currentText(), "" if time == NO_TIME_COLUMN else time

    def inputs(self) -> tuple[str, ...]:
        """The ticked other input columns, in file order."""
        items = (self.inputs_list.item(row) for row in range(self.inputs_list.count()))
        return tuple(item.text() for item in items if item.checkState() == Qt.CheckState.Checked)

    def set_source(self, path: str, column: str, time_column: str, inputs: tuple[str, ...] = ()) -> None:
        """Show a file and choose its columns (the first numeric-looking one when ``column`` is absent)."""
        self.blockSignals(True)
        try:
            self.path_edit.setText(path)
            self.column_combo.clear()
            self.time_combo.clear()
            self.inputs_list.clear()
            self.error = ""
            columns: list[str] = []
            if path:
                try:
                    columns = read_columns(path)
                except CsvError as exc:
                    self.error = str(exc)
            self.column_combo.addItems(columns)
            self.time_combo.addItems([NO_TIME_COLUMN, *columns])
            for name in columns:
                item = QListWidgetItem(name, self.inputs_list)
                item.setCheckState(Qt.CheckState.Checked if name in inputs else Qt.CheckState.Unchecked)
            if column in columns:
                self.column_combo.setCurrentText(column)
            elif len(columns) > 1:
                self.column_combo.setCurrentIndex(len(columns) - 1)  # time first, values after: the usual layout
            self.time_combo.setCurrentText(time_column if time_column in columns else NO_TIME_COLUMN)
        finally:
            self.blockSignals(False)
        self.changed.emit()

    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open CSV", "", "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.set_source(path, "", "")


class SeriesPreview(pg.PlotWidget):
    """The whole chosen series, so a person sees what the network will learn."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("seriesPreview")
        self.setBackground("w")
        self.setFixedHeight(120)
        self.setMinimumWidth(100)  # pyqtgraph's own minimum would widen the whole settings panel
        self.hideButtons()
        self.getPlotItem().showGrid(x=True, y=True, alpha=0.2)
        self.getPlotItem().setDownsampling(auto=True, mode="peak")  # a million values draw as fast as a thousand
        self.getPlotItem().setClipToView(True)
        self.curve = self.plot(pen=pg.mkPen("#1f77b4", width=1))

    def show_series(self, series: Series | None) -> None:
        """Draw ``series`` against its time column when that is numeric, else against the row number."""
        if series is None:
            self.curve.setData([], [])
            return
        self.curve.setData(series.axis, series.values)
        self.getPlotItem().enableAutoRange()
