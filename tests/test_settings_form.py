"""The settings form alone (pytest-qt, offscreen): its table of fields, round trips, rows per task, caches."""

import os

import numpy as np
import pytest
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QGroupBox, QWidget

from lstm_studio.gui.form_fields import FIELDS, GROUPS, Choice, Layers, experiment_value
from lstm_studio.gui.settings_form import SettingsForm
from lstm_studio.training import TASKS, Experiment, Series

# A value for every field, each different from every task's default and valid for every task.
CHANGED = {
    "seq_len": 13, "n_samples": 777, "noise": 0.35, "horizon": 3, "difference": "on",
    "missing": "interpolate",
    "hidden_sizes": (16, 8), "dtype": "float32", "lr": 0.002, "batch_size": 24, "epochs": 7,
    "clip": 2.5, "val_split": 0.3, "patience": 4, "seed": 42,
}  # fmt: skip

# The rows that only some tasks show, by form attribute; every other row is shown for every task.
SHOWN_ONLY_FOR = {
    "samples_spin": {"next-number", "pattern", "sine"},
    "noise_spin": {"next-number", "pattern", "sine"},
    "horizon_spin": {"sunspots", "csv"},
    "difference_combo": {"sunspots", "csv"},
    "missing_combo": {"csv"},
    "preview": {"sunspots", "csv"},
    "source_editor": {"csv"},
}


@pytest.fixture
def form(qtbot):
    widget = SettingsForm()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def write_csv(path, n, mtime_ns=None):
    values = 50 + 20 * np.sin(np.arange(n) / 3)
    path.write_text("day,level\n" + "\n".join(f"{i},{v:.3f}" for i, v in enumerate(values)))
    if mtime_ns is not None:  # a distinct time, so the edit is seen even on coarse file-system clocks
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def csv_experiment(path, column="level", time_column="day", **changes):
    return Experiment.for_task("csv").with_changes(
        csv_path=str(path), column=column, time_column=time_column, **changes
    )


def choose_task(form, name):
    form.task_combo.setCurrentIndex(form.task_combo.findData(name))


def edit(widget, field):
    """Change ``widget`` as a person would: one arrow step, another choice, one more layer."""
    if isinstance(field.kind, Choice):
        widget.setCurrentIndex((widget.currentIndex() + 1) % widget.count())
    elif isinstance(field.kind, Layers):
        widget.add_button.click()
    else:
        widget.stepBy(1 if widget.value() < widget.maximum() else -1)


# ----- the table ----------------------------------------------------------------------------------
def test_the_table_declares_each_field_once_under_experiment_names():
    names = [field.name for field in FIELDS]
    assert sorted(names) == sorted(CHANGED)
    for attribute in ("name", "object_name", "attribute"):
        values = [getattr(field, attribute) for field in FIELDS]
        assert len(set(values)) == len(values), attribute
    assert {field.group for field in FIELDS} == set(GROUPS)
    changed = Experiment().with_changes(**CHANGED)
    assert all(experiment_value(changed, name) == value for name, value in CHANGED.items())
    with pytest.raises(KeyError):
        experiment_value(changed, "no_such_setting")


def test_every_declared_field_has_its_widget_label_and_box(form):
    boxes = {box.title(): box.layout() for box in form.findChildren(QGroupBox)}
    assert list(boxes) == list(GROUPS)
    for field in FIELDS:
        widget = form.findChild(QWidget, field.object_name)
        assert widget is not None and widget is getattr(form, field.attribute), field.name
        label = boxes[field.group].labelForField(widget)
        assert label is not None and label.text() == field.label, field.name
        if field.tip:
            assert widget.toolTip().startswith(field.tip), field.name


def test_contract_widgets_keep_their_names_types_and_ranges(form):
    assert isinstance(form.findChild(QComboBox, "taskCombo"), QComboBox)
    assert form.findChild(QComboBox, "differenceCombo").currentText() == "auto"
    for name, low, high in (("epochsSpin", 1, 10_000), ("learningRateSpin", 1e-5, 1.0), ("seedSpin", 0, 2**31 - 1)):
        spin = form.findChild(QAbstractSpinBox, name)
        assert (spin.minimum(), spin.maximum()) == pytest.approx((low, high)), name
    assert form.patience_spin.specialValueText() == "off" and form.clip_spin.specialValueText() == "off"
    assert form.seed_spin.toolTip() == "seed for data, initial weights and shuffling (0 to 2147483647)"
    assert form.val_split_spin.toolTip() == "fraction of windows kept for validation (0.01 to 0.9)"
    assert form.lr_spin.textFromValue(5e-5) == "5e-05"  # the log spin box, not a plain one


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.name)
def test_each_widget_changes_exactly_its_field(qtbot, form, field):
    choose_task(form, "csv" if field.name in ("horizon", "difference", "missing") else "sine")
    before = form.experiment()
    with qtbot.waitSignal(form.changed, timeout=1000):
        edit(getattr(form, field.attribute), field)
    after = form.experiment()
    value = experiment_value(after, field.name)
    assert value != experiment_value(before, field.name)
    assert after == before.with_changes(**{field.name: value})


# ----- reading and writing ------------------------------------------------------------------------
@pytest.mark.parametrize("task", list(TASKS))
def test_round_trip_of_every_task_and_its_defaults(form, task):
    defaults = Experiment.for_task(task)  # series tasks have 0 samples, below the (hidden) spin box's range
    form.set_experiment(defaults)
    assert form.experiment() == defaults
    if task != "csv":  # the csv task's file comes in the next test
        changed = defaults.with_changes(**CHANGED)
        form.set_experiment(changed)
        assert form.experiment() == changed
        assert form.problem() == ""


def test_a_hidden_row_keeps_the_value_it_was_given(form):
    choose_task(form, "sunspots")
    assert not form.samples_spin.isVisibleTo(form)
    form.samples_spin.setValue(500)  # nobody can do this on screen
    assert form.experiment() == Experiment.for_task("sunspots")


def test_round_trip_of_a_csv_task_reads_its_file_once(form, tmp_path):
    path = write_csv(tmp_path / "levels.csv", 120)
    experiment = csv_experiment(path, **CHANGED)
    emitted = []
    form.changed.connect(lambda: emitted.append(True))
    form.set_experiment(experiment)
    assert form.experiment() == experiment
    assert len(emitted) == 1  # one reaction to the whole write, not one per widget
    assert form.problem() == "" and len(form.series().values) == 120
    assert len(form.preview.curve.getData()[1]) == 120
    other = csv_experiment(path, column="day", time_column="")
    form.set_experiment(other)
    assert form.experiment() == other


def test_choosing_a_task_loads_its_defaults_and_defaults_restores_them(form):
    for task in ("pattern", "sine", "next-number"):
        choose_task(form, task)
        assert form.experiment() == Experiment.for_task(task)
    form.epochs_spin.setValue(3)
    form.defaults_button.click()
    assert form.experiment() == Experiment.for_task("next-number")


# ----- rows per task ------------------------------------------------------------------------------
@pytest.mark.parametrize("task", list(TASKS))
def test_rows_shown_for_each_task(form, task):
    choose_task(form, task)
    attributes = {field.attribute for field in FIELDS} | set(SHOWN_ONLY_FOR)
    for attribute in attributes:
        widget = getattr(form, attribute)
        expected = task in SHOWN_ONLY_FOR.get(attribute, TASKS.keys())
        assert widget.isVisibleTo(form) == expected, attribute
        label = widget.parentWidget().layout().labelForField(widget)
        assert label is None or label.isVisibleTo(form) == expected, attribute
    assert form.task_description.text() == TASKS[task].description


# ----- checking and caches -------------------------------------------------------------------------
def test_problem_names_what_cannot_run(form):
    choose_task(form, "csv")
    assert "needs a file" in form.problem() and form.error_label.text() == form.problem()
    assert form.series() is None
    choose_task(form, "next-number")
    form.samples_spin.setValue(10)
    form.val_split_spin.setValue(0.05)
    assert "cannot be split" in form.problem() and form.error_label.isVisibleTo(form)


def test_one_edit_validates_once(form, monkeypatch):
    calls = []
    validate = Experiment.validate
    monkeypatch.setattr(Experiment, "validate", lambda self: calls.append(self) or validate(self))
    form.epochs_spin.setValue(9)
    form.problem(), form.series(), form.problem()
    assert len(calls) == 1 and calls[0].train.epochs == 9
    form.epochs_spin.setValue(10)
    assert len(calls) == 2


def test_a_file_changed_on_disk_is_checked_again_without_an_edit(form, tmp_path):
    path = write_csv(tmp_path / "levels.csv", 120, mtime_ns=1_000_000_000)
    form.set_experiment(csv_experiment(path))
    assert form.problem() == ""
    write_csv(path, 8, mtime_ns=2_000_000_000)
    assert "too few" in form.problem() and form.series() is not None
    path.unlink()
    assert form.problem() != "" and form.series() is None


def test_series_cache_keeps_the_latest_read_of_the_last_two_sources(form, tmp_path, monkeypatch):
    reads = []
    read_series = Experiment.read_series
    monkeypatch.setattr(Experiment, "read_series", lambda self, _=None: reads.append(self.column) or read_series(self))
    path = write_csv(tmp_path / "levels.csv", 120, mtime_ns=1_000_000_000)
    form.set_experiment(csv_experiment(path))
    form.epochs_spin.setValue(3)  # same source: not read again
    assert reads == ["level"] and len(form.series().values) == 120
    for n, mtime in ((150, 2_000_000_000), (170, 3_000_000_000)):
        write_csv(path, n, mtime_ns=mtime)
        assert len(form.series().values) == n
    assert reads == ["level"] * 3
    assert list(form.reader.cache) == [(str(path), "level", "day", "error")]  # one entry, not one per version
    form.source_editor.column_combo.setCurrentText("day")
    assert isinstance(form.series(), Series) and len(form.reader.cache) == 2
    form.source_editor.column_combo.setCurrentText("level")  # back to the one before: not read again
    assert len(form.series().values) == 170 and reads == ["level", "level", "level", "day"]
    form.missing_combo.setCurrentText("interpolate")  # a third source: the oldest read is forgotten
    assert isinstance(form.series(), Series) and [key[1:] for key in form.reader.cache] == [
        ("level", "day", "error"), ("level", "day", "interpolate")
    ]  # fmt: skip


def test_a_large_file_is_read_off_the_gui_thread_with_its_progress_shown(qtbot, form, tmp_path, monkeypatch):
    from lstm_studio.gui import series_reader

    monkeypatch.setattr(series_reader, "BACKGROUND_BYTES", 0)  # every file counts as large
    path = write_csv(tmp_path / "levels.csv", 120, mtime_ns=1_000_000_000)
    form.set_experiment(csv_experiment(path))
    assert form.problem().startswith("reading levels.csv") and form.reader.busy  # Train waits meanwhile
    with qtbot.waitSignal(form.reader.ready, timeout=10_000):
        pass
    assert form.problem() == "" and len(form.series().values) == 120 and not form.error_label.isVisible()
