"""The left panel: Task, Model and Training settings, read and written as one ``Experiment``."""

from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lstm_studio.gui.series_source import SeriesPreview, SeriesSourceEditor
from lstm_studio.gui.widgets import LayerSizesEditor, LogSpinBox
from lstm_studio.training import CSV_TASK, TASKS, CsvError, Experiment, Series
from lstm_studio.training.dataset import series_window_counts


def _spin(name: str, low: int, high: int, tip: str, special: str = "") -> QSpinBox:
    spin = QSpinBox(objectName=name, minimum=low, maximum=high)
    spin.setToolTip(f"{tip} ({low} to {high})")
    if special:
        spin.setSpecialValueText(special)  # shown at the minimum, e.g. "off" for patience 0
    return spin


def _double(name: str, low: float, high: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(objectName=name, minimum=low, maximum=high, singleStep=step, decimals=decimals)
    spin.setToolTip(f"{tip} ({low:g} to {high:g})")
    return spin


class SettingsForm(QWidget):
    """Every setting of a run. Ranges make impossible values impossible to type; what only
    the combination forbids (too few samples to split) is shown in ``formError``."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Task
        self.task_combo = QComboBox(objectName="taskCombo")
        for task in TASKS.values():
            self.task_combo.addItem(task.title, task.name)
        self.task_description = QLabel(objectName="taskDescription", wordWrap=True)
        self.seq_len_spin = _spin("seqLenSpin", 2, 1000, "values the network reads before it answers")
        self.samples_spin = _spin("samplesSpin", 10, 100_000, "windows generated, training and validation")
        self.samples_spin.setSingleStep(100)
        self.noise_spin = _double("noiseSpin", 0.0, 10.0, 0.05, 4, "standard deviation of noise added to inputs")
        self.source_editor = SeriesSourceEditor()
        self.preview = SeriesPreview()
        self.horizon_spin = _spin("horizonSpin", 1, 50, "values predicted after each window")
        self.difference_check = QCheckBox("learn the changes between values", objectName="differenceCheck")
        self.difference_check.setToolTip(
            "for series with a trend: the network predicts the next change, which is added to the last value"
        )
        self._series_cache: dict[tuple[str, str, str, int], Series | str] = {}
        # Model
        self.layers_editor = LayerSizesEditor()
        self.dtype_combo = QComboBox(objectName="dtypeCombo")
        self.dtype_combo.addItems(["float32", "float64"])
        self.dtype_combo.setToolTip("float32 is about twice as fast; float64 is exact enough for gradient checks")
        # Training
        self.lr_spin = LogSpinBox(objectName="learningRateSpin")
        self.lr_spin.setRange(1e-5, 1.0)
        self.lr_spin.setToolTip("Adam learning rate; the arrows step 1, 2, 5 per decade (0.00001 to 1)")
        self.batch_spin = _spin("batchSizeSpin", 1, 4096, "windows per gradient step")
        self.epochs_spin = _spin("epochsSpin", 1, 10_000, "passes over the training data")
        self.clip_spin = _double(
            "clipSpin", 0.0, 1000.0, 0.5, 2, "largest global gradient norm; 0 switches clipping off"
        )
        self.clip_spin.setSpecialValueText("off")
        self.val_split_spin = _double("valSplitSpin", 0.01, 0.9, 0.05, 3, "fraction of windows kept for validation")
        self.patience_spin = _spin(
            "patienceSpin", 0, 1000, "epochs without a better validation loss before stopping", "off"
        )
        self.seed_spin = _spin("seedSpin", 0, 2**31 - 1, "seed for data, initial weights and shuffling")
        self.defaults_button = QPushButton("Defaults", objectName="defaultsButton")
        self.defaults_button.setToolTip("restore the chosen task's default settings")
        self.error_label = QLabel(objectName="formError", wordWrap=True)
        self.error_label.setStyleSheet("color: #c0392b;")

        self.task_form = QFormLayout()
        self.task_form.addRow("Task", self.task_combo)
        self.task_form.addRow(self.task_description)
        self.task_form.addRow("Sequence length", self.seq_len_spin)
        self.task_form.addRow("Samples", self.samples_spin)
        self.task_form.addRow("Noise", self.noise_spin)
        self.task_form.addRow(self.source_editor)
        self.task_form.addRow(self.preview)
        self.task_form.addRow("Horizon", self.horizon_spin)
        self.task_form.addRow("Differencing", self.difference_check)
        model_form = QFormLayout()
        model_form.addRow("LSTM layers", self.layers_editor)
        model_form.addRow("Precision", self.dtype_combo)
        train_form = QFormLayout()
        for label, widget in (
            ("Learning rate", self.lr_spin), ("Batch size", self.batch_spin), ("Epochs", self.epochs_spin),
            ("Gradient clip", self.clip_spin), ("Validation split", self.val_split_spin),
            ("Early stopping", self.patience_spin), ("Seed", self.seed_spin),
        ):  # fmt: skip
            train_form.addRow(label, widget)
        layout = QVBoxLayout(self)
        for title, form in (("Task", self.task_form), ("Model", model_form), ("Training", train_form)):
            box = QGroupBox(title)
            box.setLayout(form)
            layout.addWidget(box)
        layout.addWidget(self.defaults_button)
        layout.addWidget(self.error_label)
        layout.addStretch()

        self.set_experiment(Experiment.for_task(self.task_combo.currentData()))
        self.task_combo.currentIndexChanged.connect(self._on_task_chosen)
        self.defaults_button.clicked.connect(self.restore_defaults)
        for spin in self._spins():
            spin.valueChanged.connect(self._on_edited)
        self.dtype_combo.currentIndexChanged.connect(self._on_edited)
        self.layers_editor.changed.connect(self._on_edited)
        self.difference_check.toggled.connect(self._on_edited)
        self.source_editor.changed.connect(self._on_edited)

    # ----- reading and writing -----------------------------------------------------------------
    def experiment(self) -> Experiment:
        """The run the form describes (not yet validated)."""
        return Experiment.for_task(self.task_combo.currentData()).with_changes(
            seq_len=self.seq_len_spin.value(),
            n_samples=self.samples_spin.value(),
            noise=self.noise_spin.value(),
            hidden_sizes=self.layers_editor.sizes(),
            dtype=self.dtype_combo.currentText(),
            lr=self.lr_spin.value(),
            batch_size=self.batch_spin.value(),
            epochs=self.epochs_spin.value(),
            clip=self.clip_spin.value(),
            val_split=self.val_split_spin.value(),
            patience=self.patience_spin.value(),
            seed=self.seed_spin.value(),
            horizon=self.horizon_spin.value(),
            difference=self.difference_check.isChecked(),
            **self._source_changes(),
        )

    def _source_changes(self) -> dict[str, str]:
        if self.task_combo.currentData() != CSV_TASK:
            return {}
        path, column, time_column = self.source_editor.source()
        return {"csv_path": path, "column": column, "time_column": time_column}

    def series(self) -> Series | None:
        """The chosen series task's data (read once per file and column), or None."""
        experiment = self.experiment()
        if not experiment.task_spec.series or not experiment.series_path or not experiment.column:
            return None
        cached = self._read_series(experiment)
        return cached if isinstance(cached, Series) else None

    def _read_series(self, experiment: Experiment) -> Series | str:
        path = experiment.series_path
        modified = os.stat(path).st_mtime_ns if os.path.isfile(path) else 0  # an edited file is read again
        key = (path, experiment.column, experiment.time_column, modified)
        if key not in self._series_cache:
            try:
                self._series_cache[key] = experiment.read_series()
            except CsvError as exc:
                self._series_cache[key] = str(exc)
        return self._series_cache[key]

    def set_experiment(self, experiment: Experiment) -> None:
        """Show ``experiment`` in every field."""
        widgets = [self.task_combo, self.layers_editor, self.dtype_combo, self.difference_check, *self._spins()]
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.task_combo.setCurrentIndex(max(0, self.task_combo.findData(experiment.task)))
            s, t = experiment.settings, experiment.train
            self.seq_len_spin.setValue(s.seq_len)
            self.samples_spin.setValue(s.n_samples)
            self.noise_spin.setValue(s.noise)
            self.layers_editor.set_sizes(experiment.hidden_sizes)
            self.dtype_combo.setCurrentText(experiment.dtype)
            self.lr_spin.setValue(t.lr)
            self.batch_spin.setValue(t.batch_size)
            self.epochs_spin.setValue(t.epochs)
            self.clip_spin.setValue(t.clip)
            self.val_split_spin.setValue(experiment.val_split)
            self.patience_spin.setValue(t.patience)
            self.seed_spin.setValue(t.seed)
            self.horizon_spin.setValue(experiment.horizon)
            self.difference_check.setChecked(experiment.difference)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        if experiment.task == CSV_TASK:
            self.source_editor.set_source(experiment.csv_path, experiment.column, experiment.time_column)
        self._show_task(experiment.task)
        self._on_edited()

    def restore_defaults(self) -> None:
        """Reset every field to the chosen task's defaults."""
        self.set_experiment(Experiment.for_task(self.task_combo.currentData()))

    def problem(self) -> str:
        """Why the current settings cannot run, or '' when they can."""
        experiment = self.experiment()
        if experiment.task == CSV_TASK and self.source_editor.error:
            return self.source_editor.error
        try:
            experiment.validate()
        except ValueError as exc:
            return str(exc)
        if experiment.task_spec.series:
            series = self._read_series(experiment)
            if isinstance(series, str):
                return series
            try:
                series_window_counts(series, experiment.settings.seq_len, experiment.horizon, experiment.val_split)
            except ValueError as exc:
                return str(exc)
        return ""

    def _spins(self) -> list[QSpinBox | QDoubleSpinBox]:
        return [self.seq_len_spin, self.samples_spin, self.noise_spin, self.horizon_spin, self.lr_spin, self.batch_spin,
                self.epochs_spin, self.clip_spin, self.val_split_spin, self.patience_spin, self.seed_spin]  # fmt: skip

    # ----- reactions --------------------------------------------------------------------------
    def _on_task_chosen(self) -> None:
        """A new task brings its own defaults, the way its settings are known to learn."""
        self.restore_defaults()

    def _show_task(self, name: str) -> None:
        task = TASKS[name]
        self.task_description.setText(task.description)
        self.task_form.setRowVisible(self.noise_spin, task.uses_noise)
        self.task_form.setRowVisible(self.samples_spin, not task.series)
        for widget in (self.preview, self.horizon_spin, self.difference_check):
            self.task_form.setRowVisible(widget, task.series)
        self.task_form.setRowVisible(self.source_editor, name == CSV_TASK)

    def _on_edited(self) -> None:
        self.preview.show_series(self.series())
        problem = self.problem()
        self.error_label.setText(problem)
        self.error_label.setVisible(bool(problem))
        self.changed.emit()
