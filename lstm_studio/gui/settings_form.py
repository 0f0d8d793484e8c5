"""The left panel: Task, Model and Training settings, read and written as one ``Experiment``.

Every setting is declared once, in ``form_fields.FIELDS``; this module creates, lays out, reads, writes,
wires and shows the rows from that table. Only the task combo and the CSV source (with its preview)
are placed by hand: they choose the experiment's task and file rather than one of its values.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from lstm_studio.gui.form_fields import FIELDS, GROUPS, TASK_GROUP, Field, csv_task, experiment_value, series_tasks
from lstm_studio.gui.series_reader import FileStamp, SeriesReader
from lstm_studio.gui.series_source import SeriesPreview, SeriesSourceEditor
from lstm_studio.training import CSV_TASK, TASKS, Experiment, Series, Task
from lstm_studio.training.dataset import series_window_counts


def file_stamp(path: str) -> FileStamp:
    """What tells an edited file from the one read before (one ``stat``, no read)."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):  # no such file, '' or a name Python refuses
        return (0, 0)
    return (status.st_mtime_ns, status.st_size) if stat.S_ISREG(status.st_mode) else (0, 0)


@dataclass(frozen=True)
class _Check:
    """What the form's current settings give: the series to preview, why they cannot run ('' if they can),
    and whether the run will learn the series' values or its changes ('' until it can run)."""

    series: Series | None
    problem: str
    learning: str = ""


class SettingsForm(QWidget):
    """Every setting of a run. Ranges make impossible values impossible to type; what only
    the combination forbids (too few samples to split) is shown in ``formError``.

    Each field's widget is also an attribute named by its ``Field.attribute`` (``seq_len_spin``, ``lr_spin``, …).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._widgets: dict[str, QWidget] = {}  # Field.name -> its widget
        self.reader = SeriesReader(self)  # the chosen column, read off the GUI thread when the file is large
        self.reader.ready.connect(self._on_read)
        self.reader.progressed.connect(self._show_problem)
        self._check_memo: tuple[tuple[Experiment, FileStamp, str], _Check] | None = None
        self._learning_memo: tuple[Series, tuple[str, str, int], str] | None = None
        self._quiet = False  # True while set_experiment writes: edits are then not reactions
        self._written = Experiment()  # the last experiment set_experiment showed
        self._make_widgets()
        self._lay_out()
        self.set_experiment(Experiment.for_task(self.task_combo.currentData()))
        self._connect()

    # ----- building ---------------------------------------------------------------------------
    def _make_widgets(self) -> None:
        """The task combo, one widget per declared field, the CSV source, the buttons and the error line."""
        self.task_combo = QComboBox(objectName="taskCombo")
        for task in TASKS.values():
            self.task_combo.addItem(task.title, task.name)
        self.task_description = QLabel(objectName="taskDescription", wordWrap=True)
        for field in FIELDS:
            widget = field.kind.make(field.object_name, field.tip)
            self._widgets[field.name] = widget
            setattr(self, field.attribute, widget)
        self.source_editor = SeriesSourceEditor()
        self.preview = SeriesPreview()
        self.learning_note = QLabel(objectName="learningNote", wordWrap=True)
        self.learning_note.setStyleSheet("color: #7f8c8d;")
        self.learning_note.setToolTip("what Differencing decides for this series, worked out on its training part")
        self.defaults_button = QPushButton("Defaults", objectName="defaultsButton")
        self.defaults_button.setToolTip("restore the chosen task's default settings")
        self.error_label = QLabel(objectName="formError", wordWrap=True)
        self.error_label.setStyleSheet("color: #c0392b;")

    def _lay_out(self) -> None:
        """One box per group, rows in table order; the CSV source and preview sit above the series settings."""
        self._forms = {group: QFormLayout() for group in GROUPS}
        self.task_form = self._forms[TASK_GROUP]
        self.task_form.addRow("Task", self.task_combo)
        self.task_form.addRow(self.task_description)
        self._add_rows(field for field in FIELDS if not field.after_source)
        self.task_form.addRow(self.source_editor)
        self.task_form.addRow(self.preview)
        self.task_form.addRow(self.learning_note)
        self._add_rows(field for field in FIELDS if field.after_source)
        layout = QVBoxLayout(self)
        for group in GROUPS:
            box = QGroupBox(group)
            box.setLayout(self._forms[group])
            layout.addWidget(box)
        layout.addWidget(self.defaults_button)
        layout.addWidget(self.error_label)
        layout.addStretch()

    def _add_rows(self, rows: Iterable[Field]) -> None:
        for field in rows:
            self._forms[field.group].addRow(field.label, self._widgets[field.name])

    def _connect(self) -> None:
        self.task_combo.currentIndexChanged.connect(self._on_task_chosen)
        self.defaults_button.clicked.connect(self.restore_defaults)
        self.source_editor.changed.connect(self._on_edited)
        for field in FIELDS:
            field.kind.signal(self._widgets[field.name]).connect(self._on_edited)

    # ----- reading and writing -----------------------------------------------------------------
    def experiment(self) -> Experiment:
        """The run the form describes (not yet validated)."""
        base = Experiment.for_task(self.task_combo.currentData())
        task = base.task_spec
        values = {field.name: self._value(field, task) for field in FIELDS}
        return base.with_changes(**values, **self._source_changes())

    def _value(self, field: Field, task: Task) -> object:
        """What the field's widget shows; a hidden row keeps the value last written, which its widget may
        not hold (the sunspots task's 0 samples lie below the samples spin box's minimum)."""
        if field.shown(task):
            return field.kind.read(self._widgets[field.name])
        return experiment_value(self._written, field.name)

    def _source_changes(self) -> dict[str, object]:
        if self.task_combo.currentData() != CSV_TASK:
            return {}
        path, column, time_column = self.source_editor.source()
        return {"csv_path": path, "column": column, "time_column": time_column, "inputs": self.source_editor.inputs()}

    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment`` in every field."""
        self._written = experiment
        with self._quietly():
            self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(experiment.task)))
            for field in FIELDS:
                field.kind.write(self._widgets[field.name], experiment_value(experiment, field.name))
            if experiment.task == CSV_TASK:
                self.source_editor.set_source(
                    experiment.csv_path, experiment.column, experiment.time_column, experiment.inputs
                )
        self._show_task(experiment.task)
        self._on_edited()

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Write widgets without reacting to each write (the task combo would load its defaults)."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def restore_defaults(self) -> None:
        """Reset every field to the chosen task's defaults."""
        self.set_experiment(Experiment.for_task(self.task_combo.currentData()))

    def series(self) -> Series | None:
        """The chosen series task's data (read once per file, column and file version), or None."""
        return self._check().series

    def problem(self) -> str:
        """Why the current settings cannot run, or '' when they can."""
        return self._check().problem

    # ----- checking ---------------------------------------------------------------------------
    def _check(self) -> _Check:
        """Series and problem of the current settings, worked out again only when the settings, the
        series file on disk or the source editor's error changed since the last call."""
        experiment = self.experiment()
        stamp = file_stamp(experiment.series_path) if experiment.task_spec.series else (0, 0)
        key = (experiment, stamp, self.source_editor.error)
        if self._check_memo is None or self._check_memo[0] != key:
            self._check_memo = (key, self._check_now(experiment, stamp))
        return self._check_memo[1]

    def _check_now(self, experiment: Experiment, stamp: FileStamp) -> _Check:
        has_source = experiment.task_spec.series and experiment.series_path and experiment.column
        source = self.reader.read(experiment, stamp) if has_source else None
        series = source if isinstance(source, Series) else None
        problem = self._problem(experiment, source)
        learning = self._learning(experiment, series) if series is not None and not problem else ""
        return _Check(series, problem, learning)

    def _learning(self, experiment: Experiment, series: Series) -> str:
        """``Experiment.difference_preview``, worked out again only when what it depends on changed (the
        series, the mode, the values training uses): on ten million values it takes a tenth of a second."""
        key = (experiment.difference, experiment.missing, experiment.training_length(series))
        memo = self._learning_memo
        if memo is None or memo[0] is not series or memo[1] != key:
            self._learning_memo = memo = (series, key, experiment.difference_preview(series))
        return memo[2]

    def _problem(self, experiment: Experiment, source: Series | str | None) -> str:
        if experiment.task == CSV_TASK and self.source_editor.error:
            return self.source_editor.error
        try:
            experiment.validate()
        except ValueError as exc:
            return str(exc)
        if isinstance(source, str):
            return source
        if isinstance(source, Series):
            try:
                series_window_counts(source, experiment.settings.seq_len, experiment.horizon, experiment.val_split)
            except ValueError as exc:
                return str(exc)
        return ""

    # ----- reactions --------------------------------------------------------------------------
    def _on_task_chosen(self) -> None:
        """A new task brings its own defaults, the way its settings are known to learn."""
        if not self._quiet:
            self.restore_defaults()

    def _show_task(self, name: str) -> None:
        task = TASKS[name]
        self.task_description.setText(task.description)
        for field in FIELDS:
            self._forms[field.group].setRowVisible(self._widgets[field.name], field.shown(task))
        self.task_form.setRowVisible(self.source_editor, csv_task(task))
        self.task_form.setRowVisible(self.preview, series_tasks(task))

    def _on_edited(self) -> None:
        if self._quiet:
            return
        check = self._check()
        self.preview.show_series(check.series)
        self.learning_note.setText(check.learning)
        self.task_form.setRowVisible(self.learning_note, bool(check.learning))
        self._show_problem(check.problem)
        self.changed.emit()

    def _on_read(self) -> None:
        """A large file has been read: check again (and start reading the next source, if it changed)."""
        self._check_memo = None
        self._on_edited()

    def _show_problem(self, text: str) -> None:
        """The problem in red; progress of a background read in grey."""
        self.error_label.setStyleSheet(f"color: {'#7f8c8d' if self.reader.busy else '#c0392b'};")
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
