"""The settings form's fields, declared once: what each edits, where it sits, how its widget looks.

``SettingsForm`` creates, reads, writes, wires and shows or hides its rows from ``FIELDS`` alone, so a new
setting is one entry here. The task combo and the CSV source are not fields: they choose the experiment's
base (a task's defaults) and its file rather than one value of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import ClassVar

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from lstm_studio.gui.widgets import LayerSizesEditor, LogSpinBox
from lstm_studio.training import CSV_TASK, Experiment, Task

TASK_GROUP, MODEL_GROUP, TRAINING_GROUP = "Task", "Model", "Training"
GROUPS = (TASK_GROUP, MODEL_GROUP, TRAINING_GROUP)  # the form's boxes, top to bottom


# ----- which tasks show a row ---------------------------------------------------------------------
def every_task(task: Task) -> bool:
    """Shown for every task."""
    return True


def generated_tasks(task: Task) -> bool:
    """Shown for tasks that generate their windows (not read from a CSV column)."""
    return not task.series


def noisy_tasks(task: Task) -> bool:
    """Shown for tasks that add noise to their inputs."""
    return task.uses_noise


def series_tasks(task: Task) -> bool:
    """Shown for tasks that read a CSV column."""
    return task.series


def csv_task(task: Task) -> bool:
    """Shown only for the csv task (the user's own file)."""
    return task.name == CSV_TASK


# ----- widget kinds: how one value is created, read, written and watched -------------------------
class WidgetKind:
    """One way of editing a value. Subclasses make the widget and name its getter, setter and change
    signal; ``SettingsForm`` then handles every field through ``make``, ``read``, ``write`` and ``signal``."""

    getter: ClassVar[str] = "value"
    setter: ClassVar[str] = "setValue"
    notifier: ClassVar[str] = "valueChanged"

    def make(self, name: str, tip: str) -> QWidget:
        """A new widget with object name ``name`` and a tooltip built from ``tip``."""
        raise NotImplementedError

    def read(self, widget: QWidget) -> object:
        """The value the widget shows."""
        return getattr(widget, self.getter)()

    def write(self, widget: QWidget, value: object) -> None:
        """Show ``value``."""
        getattr(widget, self.setter)(value)

    def signal(self, widget: QWidget) -> SignalInstance:
        """The signal emitted whenever the value changes."""
        return getattr(widget, self.notifier)


@dataclass(frozen=True)
class Spin(WidgetKind):
    """A number in [low, high]: whole when ``decimals`` is 0, else with that many places;
    ``special`` is shown instead of the minimum (e.g. "off")."""

    low: float
    high: float
    step: float = 1
    decimals: int = 0
    special: str = ""

    def make(self, name: str, tip: str) -> QSpinBox | QDoubleSpinBox:
        """A spin box whose tooltip ends with its range."""
        spin = QDoubleSpinBox(objectName=name, decimals=self.decimals) if self.decimals else QSpinBox(objectName=name)
        spin.setRange(self.low, self.high)  # after the decimals: the range and value are rounded to them
        spin.setSingleStep(self.step)
        spin.setToolTip(f"{tip} ({_plain(self.low)} to {_plain(self.high)})")
        spin.setSpecialValueText(self.special)
        return spin


def _plain(number: float) -> str:
    """A bound as a tooltip says it: 2147483647, 0.01, 10 (not 2.14748e+09 or 10.0)."""
    return str(number) if isinstance(number, int) else f"{number:g}"


@dataclass(frozen=True)
class LogSpin(WidgetKind):
    """A positive number stepped 1, 2, 5 per decade (learning rates)."""

    low: float
    high: float

    def make(self, name: str, tip: str) -> LogSpinBox:
        """A log spin box; ``tip`` is taken as written (it says the range as a person reads it)."""
        spin = LogSpinBox(objectName=name)
        spin.setRange(self.low, self.high)
        spin.setToolTip(tip)
        return spin


@dataclass(frozen=True)
class Choice(WidgetKind):
    """One of a few words, shown as they are stored."""

    items: tuple[str, ...]
    getter: ClassVar[str] = "currentText"
    setter: ClassVar[str] = "setCurrentText"
    notifier: ClassVar[str] = "currentIndexChanged"

    def make(self, name: str, tip: str) -> QComboBox:
        """A combo box listing ``items``."""
        combo = QComboBox(objectName=name)
        combo.addItems(list(self.items))
        combo.setToolTip(tip)
        return combo


@dataclass(frozen=True)
class Layers(WidgetKind):
    """The stacked layer sizes, bottom first."""

    getter: ClassVar[str] = "sizes"
    setter: ClassVar[str] = "set_sizes"
    notifier: ClassVar[str] = "changed"

    def make(self, name: str, tip: str) -> LayerSizesEditor:
        """The layer editor (it keeps its own ranges and tooltips, row by row)."""
        editor = LayerSizesEditor()
        editor.setObjectName(name)
        if tip:
            editor.setToolTip(tip)
        return editor


# ----- the table ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One setting of the form.

    ``name`` is the keyword ``Experiment.with_changes`` takes; ``attribute`` the name the form gives the
    widget (tests and the window reach it there); ``shown`` says which tasks show the row (a hidden row
    cannot be edited, so it keeps the value it was given); ``after_source`` places the row below the CSV
    source and its preview, among the settings that shape a series' windows.
    """

    name: str
    group: str
    label: str
    kind: WidgetKind
    object_name: str
    attribute: str
    tip: str = ""
    shown: Callable[[Task], bool] = every_task
    after_source: bool = False


FIELDS: tuple[Field, ...] = (
    Field("seq_len", TASK_GROUP, "Sequence length", Spin(2, 1000), "seqLenSpin", "seq_len_spin",
          "values the network reads before it answers"),
    Field("n_samples", TASK_GROUP, "Samples", Spin(10, 100_000, step=100), "samplesSpin", "samples_spin",
          "windows generated, training and validation", shown=generated_tasks),
    Field("noise", TASK_GROUP, "Noise", Spin(0.0, 10.0, 0.05, decimals=4), "noiseSpin", "noise_spin",
          "standard deviation of noise added to inputs", shown=noisy_tasks),
    Field("horizon", TASK_GROUP, "Horizon", Spin(1, 50), "horizonSpin", "horizon_spin",
          "values predicted after each window", shown=series_tasks, after_source=True),
    Field("difference", TASK_GROUP, "Differencing", Choice(("auto", "on", "off")), "differenceCombo",
          "difference_combo",
          "on: the network predicts the next change, which is added to the last value (for series with a trend); "
          "auto: on when a straight line explains half the training part's variance",
          shown=series_tasks, after_source=True),
    Field("missing", TASK_GROUP, "Missing values", Choice(("error", "interpolate")), "missingCombo",
          "missing_combo", "a gap in the column (an empty or NA cell): refuse the file, or fill it (between "
          "neighbours in the training part, the last value carried forward after it)",
          shown=csv_task, after_source=True),
    Field("hidden_sizes", MODEL_GROUP, "LSTM layers", Layers(), "layerSizesEditor", "layers_editor"),
    Field("dtype", MODEL_GROUP, "Precision", Choice(("float32", "float64")), "dtypeCombo", "dtype_combo",
          "float32 is about twice as fast; float64 is exact enough for gradient checks"),
    Field("lr", TRAINING_GROUP, "Learning rate", LogSpin(1e-5, 1.0), "learningRateSpin", "lr_spin",
          "Adam learning rate; the arrows step 1, 2, 5 per decade (0.00001 to 1)"),
    Field("batch_size", TRAINING_GROUP, "Batch size", Spin(1, 4096), "batchSizeSpin", "batch_spin",
          "windows per gradient step"),
    Field("epochs", TRAINING_GROUP, "Epochs", Spin(1, 10_000), "epochsSpin", "epochs_spin",
          "passes over the training data"),
    Field("clip", TRAINING_GROUP, "Gradient clip", Spin(0.0, 1000.0, 0.5, decimals=2, special="off"), "clipSpin",
          "clip_spin", "largest global gradient norm; 0 switches clipping off"),
    Field("val_split", TRAINING_GROUP, "Validation split", Spin(0.01, 0.9, 0.05, decimals=3), "valSplitSpin",
          "val_split_spin", "fraction of windows kept for validation"),
    Field("patience", TRAINING_GROUP, "Early stopping", Spin(0, 1000, special="off"), "patienceSpin",
          "patience_spin", "epochs without a better validation loss before stopping"),
    Field("seed", TRAINING_GROUP, "Seed", Spin(0, 2**31 - 1), "seedSpin", "seed_spin",
          "seed for data, initial weights and shuffling"),
)  # fmt: skip


def experiment_value(experiment: Experiment, name: str) -> object:
    """The value of ``experiment`` that ``with_changes(name=...)`` replaces: a task setting, a training
    setting or a top-level field, looked up in that order as ``with_changes`` does."""
    for part in (experiment.settings, experiment.train, experiment):
        if name in {f.name for f in fields(part)}:
            return getattr(part, name)
    raise KeyError(f"an experiment has no field {name!r}")
