"""The Runs view: every window run recorded, listed, compared, opened, renamed, deleted, exported, swept."""

import json
import multiprocessing

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QTableWidget

from lstm_studio.gui import MainWindow
from lstm_studio.training import EpochEnd, Experiment
from lstm_studio.training import train as train_run
from lstm_studio.training.run_reader import list_runs
from lstm_studio.training.run_recorder import RunRecorder

from .test_gui import RUN_TIMEOUT_MS, choose, train


@pytest.fixture
def window(qtbot, tmp_path, runs_dir):
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    assert w.session.runs_dir == runs_dir  # tests record into their own folder ($LSTM_STUDIO_RUNS)
    return w


def show_runs(qtbot, window, rows):
    window.views.setCurrentWidget(window.runs_view)
    window.runs_view.refresh()
    qtbot.waitUntil(lambda: window.runs_view.table.rowCount() == rows and not window.runs_view.lister.busy,
                    timeout=10_000)  # fmt: skip


def row_of(table, name):
    return next(r for r in range(table.rowCount()) if table.item(r, 1).text().startswith(name))


def test_two_runs_are_recorded_and_compared_with_labels_naming_what_differs(qtbot, window, runs_dir):
    choose(window, "sine", epochs=3, samples=200)
    window.form.lr_spin.setValue(0.01)
    train(qtbot, window)
    window.reset_button.click()
    window.form.lr_spin.setValue(0.002)
    train(qtbot, window)
    runs = list_runs(runs_dir)
    assert [r.status for r in runs] == ["completed", "completed"] and all(r.weights_path for r in runs)
    show_runs(qtbot, window, 2)
    table = window.findChild(QTableWidget, "runsTable")
    for r in range(2):
        table.item(r, 0).setCheckState(Qt.CheckState.Checked)
    plot = window.runs_view.plot
    names = sorted(item.name() for item in plot.curves if hasattr(item, "name") and item.name())
    assert names == ["lr 0.002", "lr 0.01"]
    assert sum(len(c.getData()[0]) for c in plot.curves if hasattr(c, "getData")) >= 2 * 2 * 3  # val + train


def test_runs_of_a_regression_and_a_classification_are_not_drawn_on_one_axis(qtbot, window, runs_dir):
    for task in ("sine", "pattern"):
        experiment = Experiment.for_task(task).with_changes(epochs=2, n_samples=100, hidden_sizes=(4,))
        recorder, data, model = (
            RunRecorder.create(runs_dir, experiment),
            experiment.make_dataset(),
            experiment.make_model(),
        )
        for event in train_run(model, data, experiment.train):
            if isinstance(event, EpochEnd):
                recorder.epoch(event)
        recorder.finish(event, model, data)
    show_runs(qtbot, window, 2)
    window.runs_view.metric_check.setChecked(True)
    for r in range(2):
        window.runs_view.table.item(r, 0).setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: "not drawn" in window.message_label.text(), timeout=5_000)
    plot = window.runs_view.plot
    shown = plot.getAxis("left").labelText  # the first ticked run's kind, the other left out and named
    other = "classification (cross-entropy" if shown == "val_rmse" else "regression (MSE"
    assert len(plot.runs) == 1 and shown in ("val_rmse", "val_accuracy")
    assert f"1 ticked run not drawn: {other}" in window.message_label.text()


def test_a_damaged_run_folder_is_a_row_that_says_why(qtbot, window, runs_dir):
    bad = runs_dir / "2026-01-01T00-00-00_broken"
    bad.mkdir()
    (bad / "run.json").write_text("{not json")
    show_runs(qtbot, window, 1)
    status = window.runs_view.table.item(0, 12)
    assert status.text() == "unreadable" and "run.json" in status.toolTip()


def test_a_run_can_be_opened_renamed_exported_and_deleted(qtbot, window, runs_dir, tmp_path, monkeypatch):
    choose(window, "sine", epochs=2, samples=200)
    window.form.lr_spin.setValue(0.005)
    train(qtbot, window)
    window.form.lr_spin.setValue(0.05)
    show_runs(qtbot, window, 1)
    view, table = window.runs_view, window.runs_view.table
    table.selectRow(0)
    with qtbot.waitSignal(window.loadFinished, timeout=RUN_TIMEOUT_MS):
        view.open_button.click()
    assert window.form.lr_spin.value() == pytest.approx(0.005)  # the run's settings are back in the form
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("my best run", True))
    view.rename_button.click()
    qtbot.waitUntil(lambda: not view.lister.busy and table.item(0, 1).text() == "my best run", timeout=10_000)
    table.item(0, 0).setCheckState(Qt.CheckState.Checked)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "h.csv"), ""))
    view.export_button.click()
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert len(lines) == 3 and "epoch" in lines[0]
    table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    view.delete_button.click()
    qtbot.waitUntil(lambda: not view.lister.busy and table.rowCount() == 0, timeout=10_000)
    assert list_runs(runs_dir) == []


def test_an_unwritable_runs_directory_is_one_message_and_the_run_still_trains(qtbot, window, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    window.session.runs_dir = blocker
    choose(window, "sine", epochs=1, samples=200)
    messages = []
    window.runner.recording.connect(messages.append)
    train(qtbot, window)
    assert len(messages) == 1 and messages[0].startswith("this run is not recorded: cannot use")
    assert window.session.epochs_done == 1


def test_a_sweep_from_the_window_trains_every_combination_and_fills_the_compare_plot(qtbot, window, runs_dir):
    choose(window, "sine", epochs=2, samples=120)
    view = window.runs_view
    window.views.setCurrentWidget(view)
    assert view.start_sweep({"lr": [0.01, 0.02], "hidden_sizes": [(8,)]}, workers=2)
    with qtbot.waitSignal(view.sweeper.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: not view.lister.busy and view.table.rowCount() == 2, timeout=10_000)
    runs = list_runs(runs_dir)
    assert sorted(r.settings["lr"] for r in runs) == [0.01, 0.02] and {r.status for r in runs} == {"completed"}
    view.compare()
    assert len(view.table.ticked()) == 2  # the sweep's trials are ticked to compare
    assert not multiprocessing.active_children()


def test_stopping_a_sweep_ends_every_trial_and_leaves_no_process(qtbot, window, runs_dir):
    choose(window, "sine", epochs=10_000, samples=120)
    view = window.runs_view
    assert view.start_sweep({"lr": [0.01, 0.02, 0.03]}, workers=2)
    qtbot.waitUntil(lambda: any(p.joinpath("history.csv").exists() for p in runs_dir.iterdir()), timeout=60_000)
    with qtbot.waitSignal(view.sweeper.finished, timeout=60_000):
        view.stop_sweep_button.click()
    assert not multiprocessing.active_children()
    statuses = [json.loads((p / "run.json").read_text())["status"] for p in runs_dir.iterdir() if p.is_dir()]
    assert statuses and all(s == "stopped" for s in statuses)


def test_closing_the_window_during_a_sweep_leaves_no_process(qtbot, window, runs_dir):
    choose(window, "sine", epochs=10_000, samples=120)
    assert window.runs_view.start_sweep({"lr": [0.01, 0.02]}, workers=2)
    qtbot.waitUntil(lambda: any(p.joinpath("history.csv").exists() for p in runs_dir.iterdir()), timeout=60_000)
    window.close()
    assert not multiprocessing.active_children() and not window.runs_view.sweeper.running


def test_the_compare_plot_gives_shown_runs_new_data_instead_of_rebuilding_them(qtbot):
    from lstm_studio.gui.runs.compare_plot import ComparePlot
    from lstm_studio.training.run_format import parse_history

    def history(n):
        rows = "".join(f"{e},{1 / e},{2 / e},{0.5 / e},0.1,{0.01 * e}\n" for e in range(1, n + 1))
        return parse_history("epoch,train_loss,val_loss,val_rmse,grad_norm_lstm1,seconds\n" + rows)

    plot = ComparePlot()
    qtbot.addWidget(plot)
    plot.show_runs([history(3)], ["lr 0.01"], [3], metric=False, smoothing=0.0)
    first = plot.runs[0].main
    plot.show_runs([history(5), history(2)], ["lr 0.01", "lr 0.02"], [5, 2], metric=False, smoothing=0.0)
    assert plot.runs[0].main is first and len(first.getData()[0]) == 5 and len(plot.runs) == 2
    plot.show_runs([history(5)], ["lr 0.01"], [5], metric=True, smoothing=0.0)
    assert len(plot.runs) == 1 and len(plot.runs[0].training.getData()[0] or []) == 0  # the metric alone
    assert plot.getAxis("left").labelText == "val_rmse"
