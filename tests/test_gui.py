"""The window, driven through its widgets as a person would (pytest-qt, offscreen)."""

import numpy as np
import pytest
from pyqtgraph import PlotWidget
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QAbstractButton, QComboBox, QDoubleSpinBox, QFileDialog, QLabel, QSpinBox

from lstm_studio.gui import MainWindow
from lstm_studio.gui.try_it import parse_values
from lstm_studio.training import Predictor, run_process
from lstm_studio.training.metrics import evaluate
from lstm_studio.training.run_reader import list_runs
from lstm_studio.weights import load_weights

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def settings_path(tmp_path):
    return str(tmp_path / "settings.ini")


@pytest.fixture
def window(qtbot, settings_path):
    w = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    return w


def choose(window, task, samples=300, epochs=4, **spins):
    form = window.form
    form.task_combo.setCurrentIndex(form.task_combo.findData(task))
    form.samples_spin.setValue(samples)
    form.epochs_spin.setValue(epochs)
    for name, value in spins.items():
        getattr(form, name).setValue(value)


def train(qtbot, window):
    with qtbot.waitSignal(window.trainingFinished, timeout=RUN_TIMEOUT_MS):
        window.train_button.click()


def test_contract_object_names_and_types(window):
    expected = {
        "taskCombo": QComboBox, "epochsSpin": QSpinBox, "learningRateSpin": QDoubleSpinBox,
        "trainButton": QAbstractButton, "stopButton": QAbstractButton, "exportButton": QAbstractButton,
        "lossPlot": PlotWidget, "predictionPlot": PlotWidget,
    }  # fmt: skip
    for name, kind in expected.items():
        assert isinstance(window.findChild(kind, name), kind), name


def test_train_regression_with_chosen_layers_and_learning_rate(qtbot, window):
    choose(window, "next-number", epochs=4)
    window.form.layers_editor.add_button.click()
    window.form.findChild(QSpinBox, "layerSizeSpin0").setValue(16)
    window.form.findChild(QSpinBox, "layerSizeSpin1").setValue(8)
    window.form.lr_spin.setValue(0.02)
    assert not window.stop_button.isEnabled()
    train(qtbot, window)

    assert window.session.model.hidden_sizes == [16, 8]
    assert window.session.run.experiment.train.lr == pytest.approx(0.02)
    history = window.session.history
    assert list(history.train_loss.x) == [1, 2, 3, 4] and len(history.val_loss) == 4
    assert np.all(np.isfinite(history.train_loss.y)) and np.all(history.val_loss.y > 0)
    batches_per_epoch = int(np.ceil(240 / 32))
    assert len(history.batch_loss) == 4 * batches_per_epoch
    x, _ = window.panels["lossPlot"].train_curve.getData()
    assert len(x) == 4  # the curve itself holds every epoch
    assert len(window.panels["lossPlot"].batch_curve.getData()[0]) == 4 * batches_per_epoch
    gradient = window.panels["gradientPlot"]
    assert [len(c.getData()[0]) for c in gradient.curves] == [4, 4, 4]  # two LSTM layers and the dense one
    predicted = window.panels["predictionPlot"].scatter.getData()
    assert len(predicted[0]) == 60  # every validation window
    assert [p.objectName() for p in window.panels.shown] == ["lossPlot", "gradientPlot", "predictionPlot",
                                                             "sequencePlot"]  # fmt: skip
    assert "val RMSE" in window.metrics_label.text()
    assert window.train_button.isEnabled() and window.export_button.isEnabled()


def test_train_classification_shows_accuracy_and_confusion(qtbot, window):
    choose(window, "pattern", epochs=3)
    train(qtbot, window)
    assert [p.objectName() for p in window.panels.shown] == ["lossPlot", "gradientPlot", "accuracyPlot",
                                                             "confusionPlot"]  # fmt: skip
    assert len(window.panels["accuracyPlot"].curve.getData()[0]) == 3
    matrix = window.panels["confusionPlot"].image.image
    assert matrix.shape == (4, 4) and matrix.sum() == 60
    assert "val accuracy" in window.metrics_label.text()


def test_training_again_continues_the_same_model(qtbot, window):
    choose(window, "sine", epochs=2)
    train(qtbot, window)
    model = window.session.model
    window.form.epochs_spin.setValue(3)  # a training setting: same model, more epochs
    train(qtbot, window)
    assert window.session.model is model
    assert list(window.panels["lossPlot"].train_curve.getData()[0]) == [1, 2, 3, 4, 5]
    window.form.seq_len_spin.setValue(12)  # a data setting: a new model next time
    train(qtbot, window)
    assert window.session.model is not model
    assert list(window.panels["lossPlot"].train_curve.getData()[0]) == [1, 2, 3]


def test_stop_ends_a_long_run_within_a_batch(qtbot, window):
    choose(window, "sine", epochs=5000)
    window.train_button.click()
    qtbot.waitUntil(lambda: window.session.epochs_done >= 2, timeout=RUN_TIMEOUT_MS)
    assert window.stop_button.isEnabled() and not window.train_button.isEnabled()
    with qtbot.waitSignal(window.trainingFinished, timeout=10_000):
        window.stop_button.click()
    assert window.session.epochs_done < 5000
    assert "stopped" in window.message_label.text()
    assert window.train_button.isEnabled() and not window.stop_button.isEnabled()
    assert all(np.all(np.isfinite(p)) for p in window.session.model.state_dict().values())


@pytest.mark.parametrize("where", ["its own process", "the worker thread"])
def test_pause_really_pauses_and_resume_goes_on(qtbot, window, monkeypatch, where):
    if where == "the worker thread":
        monkeypatch.setattr(run_process, "AVAILABLE", False)
    choose(window, "sine", epochs=5000)
    window.train_button.click()
    batches = lambda: len(window.session.history.batch_loss)  # noqa: E731
    qtbot.waitUntil(lambda: window.session.history is not None and batches() >= 5, timeout=RUN_TIMEOUT_MS)
    window.pause_button.click()
    assert window.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: window.runner.holding, timeout=10_000)  # the worker waits at the pause gate
    qtbot.waitUntil(lambda: batches() == window.runner.batches_done, timeout=10_000)  # and all it did is shown
    held = window.runner.batches_done
    window.pause_button.click()
    qtbot.waitUntil(lambda: batches() > held, timeout=10_000)
    with qtbot.waitSignal(window.trainingFinished, timeout=10_000):
        window.stop_button.click()


@pytest.mark.skipif(not run_process.AVAILABLE, reason="runs train in the window's thread here")
def test_a_training_process_that_dies_is_said_and_the_window_stays_usable(qtbot, window):
    import os
    import signal

    choose(window, "sine", epochs=5000)
    window.train_button.click()
    qtbot.waitUntil(lambda: window.session.epochs_done >= 1, timeout=RUN_TIMEOUT_MS)
    assert window.runner.process_id not in (None, os.getpid())  # the run trains in a process of its own
    with qtbot.waitSignal(window.trainingFinished, timeout=10_000):
        os.kill(window.runner.process_id, signal.SIGKILL)
    message, session = window.message_label.text(), window.session
    assert "training stopped: its process was killed (signal 9)" in message
    kept = session.kept_epoch()
    assert kept >= 1 and f"the model keeps the weights of epoch {kept}, the last shown" in message
    # the figures shown and exported are those of the weights the model holds
    assert evaluate(session.model, session.data).loss == pytest.approx(session.metrics()["val_loss"], rel=1e-9)
    info = list_runs(window.session.runs_dir)[-1]
    assert info.status == "failed" and info.best_epoch == kept and load_weights(info.weights_path)[1]["metrics"][
        "val_loss"
    ] == pytest.approx(session.metrics()["val_loss"])  # fmt: skip
    assert window.train_button.isEnabled()
    choose(window, "sine", epochs=1)
    train(qtbot, window)
    assert window.message_label.text().startswith("finished 1 epoch")


@pytest.mark.skipif(not run_process.AVAILABLE, reason="runs train in the window's thread here")
def test_closing_during_a_batch_too_long_to_wait_for_records_a_stopped_run(qtbot, window, monkeypatch):
    from lstm_studio.gui import runner

    monkeypatch.setattr(runner, "KILL_AFTER_MS", 0)  # as if the batch under way took longer than the wait
    choose(window, "sine", epochs=5000)
    window.train_button.click()
    qtbot.waitUntil(lambda: window.session.epochs_done >= 1, timeout=RUN_TIMEOUT_MS)
    window.close()
    runs = list_runs(window.session.runs_dir)
    assert len(runs) == 1 and runs[0].status == "stopped"  # not a crash, not running
    assert runs[0].message.startswith("stopped when the window closed: the batch under way took too long")
    assert runs[0].best_epoch >= 1 and runs[0].weights_path is not None  # the weights of the last epoch shown


def test_the_garbage_collector_stays_in_the_gui_thread_while_a_run_trains(qtbot, window):
    import gc

    choose(window, "next-number", epochs=2000)
    window.train_button.click()
    qtbot.waitUntil(lambda: window.session.epochs_done >= 1, timeout=RUN_TIMEOUT_MS)
    assert not gc.isenabled()  # a collection in the worker thread could free GUI objects there: a deadlock
    with qtbot.waitSignal(window.trainingFinished, timeout=RUN_TIMEOUT_MS):
        window.stop_button.click()
    assert gc.isenabled()


def test_export_writes_the_model_and_loads_back(qtbot, window, tmp_path, monkeypatch):
    choose(window, "next-number", epochs=3)
    train(qtbot, window)
    target = tmp_path / "exported"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Weights (*.npz)"))
    window.export_button.click()
    path = tmp_path / "exported.npz"  # the .npz suffix is added
    model, meta = load_weights(path)
    for name, value in window.session.model.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], value)
    assert meta["task"] == "next-number" and meta["training"]["epochs"] == 3
    assert meta["metrics"]["val_rmse"] == pytest.approx(window.session.outcome.evaluation.rmse)
    assert "weights written" in window.message_label.text()
    direct = window.export_weights(tmp_path / "direct.npz")
    assert load_weights(direct)[1]["metrics"] == meta["metrics"]


def test_load_weights_fills_the_form_and_try_it_uses_them(qtbot, window, tmp_path, monkeypatch):
    choose(window, "pattern", epochs=2)
    train(qtbot, window)
    path = window.export_weights(tmp_path / "p.npz")
    window.form.task_combo.setCurrentIndex(window.form.task_combo.findData("sine"))
    window.reset_button.click()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.loadFinished, timeout=RUN_TIMEOUT_MS) as loaded:
        window.load_button.click()
    assert loaded.args == [True]
    assert window.form.task_combo.currentData() == "pattern"
    assert window.form.epochs_spin.value() == 2
    window.try_it.input.setText("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20")
    expected = Predictor.from_meta(*load_weights(path)).predict(range(1, 21))
    assert expected.label in window.try_it.result.text()
    train(qtbot, window)  # continue training the loaded model
    assert list(window.session.history.train_loss.x) == [1, 2]


def test_loading_a_bad_file_shows_one_message(qtbot, window, tmp_path, monkeypatch):
    bad = tmp_path / "bad.npz"
    bad.write_text("not weights")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    with qtbot.waitSignal(window.loadFinished, timeout=RUN_TIMEOUT_MS) as loaded:
        window.load_button.click()
    assert loaded.args == [False]
    assert (
        window.message_label.text() == f"could not load: {bad}: not a weights file (truncated or not an .npz archive)"
    )
    assert window.session.model is None and window.train_button.isEnabled()


def test_try_it_answers_with_the_current_model(qtbot, window):
    window.try_it.input.setText("1 2 3")
    assert "train or load a model first" in window.try_it.result.text()
    choose(window, "next-number", epochs=3)
    train(qtbot, window)
    window.try_it.input.setText("0, 1, 2, 3, 4, 5, 6, 7, 8, 9")
    window_values = np.arange(10.0)
    scale = window.session.data.normalizer.scale  # next-number reads each window relative to its last value
    x = ((window_values - window_values[-1]) / scale)[None, :, None]
    expected = window.session.model.forward(x)[0, 0] * scale + window_values[-1]
    assert f"{expected:.4f}" in window.try_it.result.text()
    assert window.panels["sequencePlot"].caption == "your sequence (Try it)"
    window.try_it.input.setText("1 two 3")
    assert "'two' is not a number" in window.try_it.result.text()


def test_parse_values_accepts_commas_spaces_and_semicolons():
    assert parse_values(" 1, 2;3  -4.5e1 ") == [1.0, 2.0, 3.0, -45.0]
    with pytest.raises(ValueError, match="'x'"):
        parse_values("1 x")


def test_invalid_values_cannot_be_entered_and_combinations_are_explained(window):
    form = window.form
    form.lr_spin.setValue(0.0)
    assert form.lr_spin.value() == pytest.approx(1e-5)  # the range stops it
    form.findChild(QSpinBox, "layerSizeSpin0").setValue(0)
    assert form.layers_editor.sizes() == (1,)
    form.epochs_spin.setValue(-3)
    assert form.epochs_spin.value() == 1
    form.samples_spin.setValue(10)
    form.val_split_spin.setValue(0.05)  # 10 × 5 % rounds to no validation window at all
    assert not window.train_button.isEnabled()
    assert form.error_label.isVisibleTo(window) and "cannot be split" in form.error_label.text()
    form.samples_spin.setValue(100)
    assert window.train_button.isEnabled() and not form.error_label.isVisibleTo(window)


def test_learning_rate_steps_on_a_log_scale(window):
    spin = window.form.lr_spin
    spin.setValue(0.01)
    spin.stepUp()
    assert spin.value() == pytest.approx(0.02)
    spin.stepUp()
    assert spin.value() == pytest.approx(0.05)
    spin.stepDown()
    spin.stepDown()
    spin.stepDown()
    assert spin.value() == pytest.approx(0.005)
    assert spin.textFromValue(5e-5) == "5e-05" and spin.valueFromText("3e-4") == pytest.approx(3e-4)


def test_defaults_button_and_task_change_restore_the_task_defaults(window):
    form = window.form
    choose(window, "sine", samples=555, epochs=7)
    form.lr_spin.setValue(0.5)
    form.defaults_button.click()
    assert form.samples_spin.value() == 1000 and form.lr_spin.value() == pytest.approx(0.01)
    assert form.epochs_spin.value() == 30
    form.task_combo.setCurrentIndex(form.task_combo.findData("pattern"))
    assert form.seq_len_spin.value() == 20 and form.epochs_spin.value() == 20


def test_layers_can_be_added_and_removed_within_limits(window):
    editor = window.form.layers_editor
    assert editor.sizes() == (32,) and not editor.remove_button.isEnabled()
    for _ in range(10):
        editor.add_button.click()
    assert len(editor.sizes()) == 8 and not editor.add_button.isEnabled()
    editor.remove_button.click()
    assert len(editor.sizes()) == 7


def test_settings_come_back_next_start(qtbot, settings_path):
    first = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    choose(first, "pattern", samples=640, epochs=9)
    first.form.layers_editor.add_button.click()
    first.form.lr_spin.setValue(0.002)
    first.close()
    second = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    form = second.form
    assert form.task_combo.currentData() == "pattern"
    assert (form.samples_spin.value(), form.epochs_spin.value()) == (640, 9)
    assert form.layers_editor.sizes() == (32, 32) and form.lr_spin.value() == pytest.approx(0.002)


def test_unreadable_saved_settings_fall_back_to_defaults(qtbot, settings_path):
    QSettings(settings_path, QSettings.Format.IniFormat).setValue("experiment", "{broken")
    w = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    assert w.form.task_combo.currentData() == "next-number"
    assert "unreadable" in w.message_label.text()


def test_a_diverging_run_shows_its_message_and_the_window_stays_usable(qtbot, window, monkeypatch):
    from lstm_studio.core.model import LSTMModel

    real = LSTMModel.loss_and_gradients
    calls = []

    def diverge_after_five(self, x, target):
        calls.append(1)
        loss, grads = real(self, x, target)
        return (float("nan"), grads) if len(calls) > 5 else (loss, grads)

    monkeypatch.setattr(LSTMModel, "loss_and_gradients", diverge_after_five)
    monkeypatch.setattr(run_process, "AVAILABLE", False)  # the patch reaches a run in the window's own thread only
    choose(window, "sine", epochs=3)
    train(qtbot, window)
    assert "loss became NaN at epoch 1: lower the learning rate" in window.message_label.text()
    assert "c0392b" in window.message_label.styleSheet()  # shown as an error
    assert all(np.all(np.isfinite(p)) for p in window.session.model.state_dict().values())
    monkeypatch.setattr(LSTMModel, "loss_and_gradients", real)
    train(qtbot, window)
    assert "finished" in window.message_label.text()


def test_export_before_training_says_why(window, tmp_path):
    from lstm_studio.weights import WeightsError

    assert not window.export_button.isEnabled()
    with pytest.raises(WeightsError, match="train or load a model first"):
        window.export_weights(tmp_path / "w.npz")


def csv_file(tmp_path, name="series.csv", n=120):
    values = 50 + 20 * np.sin(np.arange(n) / 3)
    path = tmp_path / name
    path.write_text("day,level\n" + "\n".join(f"{i},{v:.3f}" for i, v in enumerate(values)))
    return path


def open_csv(window, monkeypatch, path):
    form = window.form
    form.task_combo.setCurrentIndex(form.task_combo.findData("csv"))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    form.source_editor.open_button.click()


def test_csv_task_picks_a_column_previews_trains_and_forecasts(qtbot, window, tmp_path, monkeypatch):
    form = window.form
    form.task_combo.setCurrentIndex(form.task_combo.findData("csv"))
    assert not window.train_button.isEnabled() and "needs a file" in form.error_label.text()
    assert not form.samples_spin.isVisibleTo(window) and form.source_editor.isVisibleTo(window)
    open_csv(window, monkeypatch, csv_file(tmp_path))
    editor = form.source_editor
    assert [editor.column_combo.itemText(i) for i in range(editor.column_combo.count())] == ["day", "level"]
    assert editor.column_combo.currentText() == "level"
    editor.time_combo.setCurrentText("day")
    assert len(form.preview.curve.getData()[1]) == 120
    form.epochs_spin.setValue(5)
    train(qtbot, window)
    assert window.panels["forecastPlot"] in window.panels.shown
    x_future, future = window.panels["forecastPlot"].future_curve.getData()
    assert len(future) == 13 and x_future[0] == 119  # joined to the last day, then 12 days ahead
    actual = window.panels["forecastPlot"].actual_curve.getData()[1]
    assert len(actual) == len(window.session.data.x_val)
    assert "RMSE of repeating the last value" in window.metrics_label.text()
    path = window.export_weights(tmp_path / "csv.npz")
    meta = load_weights(path)[1]
    assert meta["series"]["column"] == "level" and meta["series"]["time_column"] == "day"
    assert meta["series"]["csv"] == "series.csv"  # relative to the weights file's folder


def test_a_bad_csv_is_explained_and_cannot_be_trained(window, tmp_path, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_text("v\n1\n2\noops\n4\n")
    open_csv(window, monkeypatch, bad)
    assert "line 4, column 'v': 'oops' is not a number" in window.form.error_label.text()
    assert not window.train_button.isEnabled()
    short = csv_file(tmp_path, "short.csv", n=8)
    open_csv(window, monkeypatch, short)
    assert "too few" in window.form.error_label.text()


def test_the_form_says_before_train_whether_the_series_is_learned_as_values_or_changes(window, tmp_path, monkeypatch):
    form = window.form
    note = form.findChild(QLabel, "learningNote")
    assert not note.isVisibleTo(window)  # next-number: no series
    open_csv(window, monkeypatch, csv_file(tmp_path))  # swings around a level
    assert note.isVisibleTo(window) and note.text().startswith("no trend in the training part")
    rising = tmp_path / "rising.csv"
    rising.write_text("t,v\n" + "".join(f"{i},{100 + 0.5 * i + np.sin(i):.3f}\n" for i in range(200)))
    open_csv(window, monkeypatch, rising)
    assert note.text().startswith("trend detected in the training part") and note.text().endswith("the changes")
    experiment = form.experiment()
    assert note.text() == experiment.difference_reason(experiment.make_dataset())  # what the run will do
    form.difference_combo.setCurrentText("off")
    assert note.text() == "differencing off, as asked: learning the values"
    form.seq_len_spin.setValue(199)  # too long for the file: no run, nothing to say of it
    assert "too few" in form.error_label.text() and not note.isVisibleTo(window)


def test_sunspots_task_shows_its_data_and_settings_come_back(qtbot, settings_path, tmp_path, monkeypatch):
    first = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(first)
    open_csv(first, monkeypatch, csv_file(tmp_path))
    first.form.difference_combo.setCurrentText("on")
    first.close()
    second = MainWindow(QSettings(settings_path, QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    experiment = second.form.experiment()
    assert experiment.task == "csv" and experiment.column == "level" and experiment.difference == "on"
    second.form.task_combo.setCurrentIndex(second.form.task_combo.findData("sunspots"))
    assert not second.form.source_editor.isVisibleTo(second)
    assert len(second.form.preview.curve.getData()[1]) == 309


def test_export_asks_before_replacing_a_file_the_dialog_did_not_name(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    choose(window, "sine", epochs=1)
    train(qtbot, window)
    existing = tmp_path / "model.npz"
    existing.write_bytes(b"keep me")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "model"), ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    window.export_button.click()
    assert existing.read_bytes() == b"keep me"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.export_button.click()
    assert load_weights(existing)[1]["task"] == "sine"


def test_a_new_model_and_its_data_are_made_in_the_worker_thread(qtbot, window, monkeypatch):
    import threading

    from lstm_studio.training import Experiment

    threads = []
    real = Experiment.make_dataset

    def spy(self, *args, **kwargs):
        threads.append(threading.current_thread())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Experiment, "make_dataset", spy)
    choose(window, "sine", epochs=1)
    train(qtbot, window)
    assert threads and threading.main_thread() not in threads
    assert window.session.model is not None and window.session.epochs_done == 1


def test_reset_forgets_the_weights_until_the_next_train(qtbot, window):
    choose(window, "sine", epochs=1)
    train(qtbot, window)
    first = window.session.model.state_dict()
    window.reset_button.click()
    assert window.session.model is None and not window.export_button.isEnabled()
    assert window.panels["lossPlot"].train_curve.getData()[0] is None  # an empty curve
    window.form.seed_spin.setValue(7)
    train(qtbot, window)
    assert not np.array_equal(window.session.model.state_dict()["dense.weight"], first["dense.weight"])


def test_a_csv_that_breaks_after_it_was_chosen_is_caught_before_training(window, tmp_path, monkeypatch):
    path = csv_file(tmp_path)
    open_csv(window, monkeypatch, path)
    assert window.train_button.isEnabled()
    path.write_text("day,level\n1,2\n2,x\n")
    window.train_button.click()  # the form reads the changed file again
    assert "line 3, column 'level': 'x' is not a number" in window.message_label.text()
    assert not window.runner.running and window.session.model is None


def test_the_worker_reports_data_it_cannot_make_as_a_failed_run(tmp_path):
    from lstm_studio.gui.worker import Job, TrainingWorker
    from lstm_studio.training import FAILED, Experiment

    bad = tmp_path / "bad.csv"
    bad.write_text("v\n1\n2\nx\n")
    experiment = Experiment.for_task("csv").with_changes(csv_path=str(bad), column="v")
    worker = TrainingWorker(Job(experiment.train, experiment=experiment))
    finished = []
    worker.finished.connect(lambda end, outcome: finished.append(end))
    worker.run()  # no thread: the same body the QThread runs
    assert finished == [worker.result] and worker.result.status == FAILED
    assert "line 4, column 'v': 'x' is not a number" in worker.result.message


def test_weights_whose_csv_has_moved_can_still_be_tried(qtbot, window, tmp_path, monkeypatch):
    path = csv_file(tmp_path)
    open_csv(window, monkeypatch, path)
    window.form.epochs_spin.setValue(2)
    train(qtbot, window)
    weights = window.export_weights(tmp_path / "csv.npz")
    path.rename(tmp_path / "elsewhere.csv")
    window.reset_button.click()
    with qtbot.waitSignal(window.loadFinished, timeout=RUN_TIMEOUT_MS):
        assert window.load_weights_file(weights)
    assert window.message_label.text() == (
        f"loaded csv.npz to try only: csv.npz was trained on series.csv, which is not at {tmp_path / 'series.csv'}"
    )
    assert not window.export_button.isEnabled() and not window.train_button.isEnabled()
    window.try_it.input.setText("50 55 60 65 68 70 69 66 62 57 52 48")
    assert window.try_it.result.text().startswith("next value ≈ ")
    window.try_it.input.setText("50 55 60")
    assert "the model reads 12 values: give 12, not 3" in window.try_it.result.text()
    assert "c0392b" in window.try_it.result.text()  # in red, and no answer


def test_export_never_writes_over_the_csv_the_model_was_trained_on(qtbot, window, tmp_path, monkeypatch):
    path = csv_file(tmp_path)
    original = path.read_bytes()
    open_csv(window, monkeypatch, path)
    window.form.epochs_spin.setValue(1)
    train(qtbot, window)
    alias = tmp_path / "model.npz"
    alias.symlink_to(path)  # a name the dialog accepts, for the CSV itself
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(alias), ""))
    window.export_button.click()
    assert "which this run reads" in window.message_label.text()
    assert "c0392b" in window.message_label.styleSheet()
    assert path.read_bytes() == original and alias.is_symlink()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_weights_file_is_opened_in_a_worker_thread_and_shows_its_results(qtbot, window, tmp_path, monkeypatch):
    import threading

    from lstm_studio.training import saved

    choose(window, "sine", epochs=2)
    train(qtbot, window)
    path = window.export_weights(tmp_path / "s.npz")
    rmse = window.session.outcome.evaluation.rmse
    window.reset_button.click()
    threads = []
    real = saved.open_saved

    def spy(*args):
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(saved, "open_saved", spy)
    with qtbot.waitSignal(window.loadFinished, timeout=RUN_TIMEOUT_MS):
        window.load_weights_file(path)
        assert not window.train_button.isEnabled() and not window.load_button.isEnabled()  # busy meanwhile
    assert threads and threading.main_thread() not in threads
    assert f"val RMSE {rmse:.4g}" in window.metrics_label.text()  # the loaded model's figures
    assert len(window.panels["predictionPlot"].scatter.getData()[0]) == 60  # every validation window
    assert window.train_button.isEnabled()


def test_try_it_says_how_many_values_the_task_reads(window):
    window.form.task_combo.setCurrentIndex(window.form.task_combo.findData("sunspots"))
    assert window.try_it.input.placeholderText() == "20 numbers, separated by spaces or commas"
    window.form.task_combo.setCurrentIndex(window.form.task_combo.findData("next-number"))
    assert window.try_it.input.placeholderText() == "e.g. 0 1 2 3 4 5 6 7 8 9"


def test_running_out_of_memory_in_the_worker_is_said_plainly(monkeypatch):
    from lstm_studio.gui.worker import Job, TrainingWorker
    from lstm_studio.training import FAILED, Experiment

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(Experiment, "make_dataset", no_memory)
    experiment = Experiment.for_task("sine")
    worker = TrainingWorker(Job(experiment.train, experiment=experiment))
    worker.run()
    assert worker.result.status == FAILED and worker.result.message.startswith("out of memory: make the run smaller")


def test_export_offers_onnx_and_the_numpy_script(qtbot, window, tmp_path, monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    from lstm_studio.gui.file_dialogs import FORMATS, ONNX, SCRIPT

    choose(window, "next-number", epochs=2)
    train(qtbot, window)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "model"), FORMATS[ONNX][0]))
    window.export_button.click()
    assert window.message_label.text() == f"ONNX model written to {tmp_path / 'model.onnx'}"
    values = np.arange(10.0, 20.0)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    (answer,) = session.run(None, {"x": values.astype(np.float32)[None, :, None]})[:1]
    expected = window.session.predictor().predict(values).values[0]
    assert answer[0, 0] == pytest.approx(expected, rel=1e-4)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "predict"), FORMATS[SCRIPT][0]))
    window.export_button.click()
    assert (tmp_path / "predict.py").read_text().startswith('"""') and "script" in window.message_label.text()


def test_without_onnx_the_export_dialog_says_what_to_install(window, monkeypatch):
    import lstm_studio.gui.file_dialogs as dialogs

    offered = []
    monkeypatch.setattr(dialogs, "onnx_available", lambda: 'ONNX export needs the onnx package: pip install "x"')
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: offered.append(a[3]) or ("", ""))
    assert dialogs.ask_export_path(window) is None
    assert "ONNX model, for onnxruntime and other runtimes — ONNX export needs the onnx package" in offered[0]


def test_snapshots_take_a_bounded_share_of_a_run(monkeypatch):
    import time as clock

    from lstm_studio.gui.worker import Job, TrainingWorker
    from lstm_studio.training import Experiment, update_stream
    from lstm_studio.training.snapshots import Probe

    real = update_stream.take_snapshot

    def slow_snapshot(*args):
        clock.sleep(0.05)  # far more than the epochs of this run take
        return real(*args)

    monkeypatch.setattr(update_stream, "take_snapshot", slow_snapshot)
    experiment = Experiment.for_task("sine").with_changes(n_samples=100, epochs=20)
    worker = TrainingWorker(Job(experiment.train, experiment=experiment, probe=Probe()), in_process=False)  # patched
    taken = []
    worker.progressed.connect(lambda update: taken.extend(s.epoch for s in update.snapshots))
    worker.run()
    assert taken[0] == 1 and taken[-1] == 20 and len(taken) < 20  # the first and last, and what the budget allows
