"""The Inside view in the window: heatmaps, gradient flow, replay, worst window, Try it's sequence."""

import numpy as np
import pytest
from pyqtgraph import ImageItem, PlotWidget
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QSlider, QWidget

from lstm_studio.gui import MainWindow

from .test_gui import RUN_TIMEOUT_MS, choose, train


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    return w


def show_inside(qtbot, window):
    window.views.setCurrentWidget(window.inside)
    qtbot.waitUntil(lambda: window.inside.heatmaps.trace is not None, timeout=RUN_TIMEOUT_MS)


def test_contract_object_names(window):
    assert isinstance(window.findChild(QWidget, "insideView"), QWidget)
    assert isinstance(window.findChild(PlotWidget, "gradientFlowPlot"), PlotWidget)
    assert isinstance(window.findChild(QSlider, "epochSlider"), QSlider)


def test_a_run_shows_every_gate_of_every_layer_and_the_gradient_flow(qtbot, window):
    choose(window, "pattern", epochs=3, samples=200)
    window.form.layers_editor.add_button.click()
    train(qtbot, window)
    show_inside(qtbot, window)
    inside = window.inside
    images = [image for _, _, rows in inside.heatmaps.columns for _, image in rows]
    assert len(images) == 12 and all(isinstance(i, ImageItem) for i in images)
    assert images[0].image.shape == (32, 20)  # units × steps
    gates = images[1].image  # layer 1's forget gate
    assert gates.min() >= 0.0 and gates.max() <= 1.0
    bold = inside.flow_plot.curves[0]
    assert len(bold) == 2 and len(bold[0].getData()[0]) == 20
    kept = len(window.session.snapshots)  # the first and last epochs always, the middle one if cheap enough
    assert kept in (2, 3) and window.session.snapshots.items[-1].epoch == 3
    assert window.findChild(QSlider, "epochSlider").maximum() == kept  # every snapshot, then live
    assert f"{kept} of {kept} epochs kept (every epoch)" in inside.replay.label.text()


def test_moving_the_slider_replays_an_epoch_everywhere(qtbot, window):
    choose(window, "sine", epochs=4, samples=200)
    train(qtbot, window)
    show_inside(qtbot, window)
    session, slider = window.session, window.inside.replay.slider
    slider.setValue(0)
    assert session.replayed.epoch == 1
    first = session.snapshots.at(0).evaluation
    window.views.setCurrentWidget(window.panels)  # hidden panels draw when they come on screen
    scatter = window.panels["predictionPlot"].scatter.getData()
    np.testing.assert_array_equal(scatter[1], first.predictions[: len(scatter[1])])  # the Training tab follows
    loss = window.panels["lossPlot"]
    assert loss.replay_line.isVisible() and loss.replay_line.value() == 1
    window.views.setCurrentWidget(window.inside)
    assert window.inside.replay.label.text() == "epoch 1 of 4 (replay)"
    np.testing.assert_array_equal(
        window.inside.heatmaps.trace.layers[0].hidden, session.snapshots.at(0).trace.layers[0].hidden
    )
    slider.setValue(slider.maximum())
    window.views.setCurrentWidget(window.panels)
    assert session.replayed is None and not loss.replay_line.isVisible()


def test_play_replays_the_run_up_to_the_live_model(qtbot, window):
    choose(window, "sine", epochs=3, samples=200)
    train(qtbot, window)
    show_inside(qtbot, window)
    replay = window.inside.replay
    replay.speed_combo.setCurrentIndex(4)  # 20 epochs a second
    seen = []
    replay.moved.connect(seen.append)
    replay.play_button.click()
    qtbot.waitUntil(lambda: not replay.play_button.isChecked(), timeout=5_000)
    assert seen == [*range(len(window.session.snapshots)), None] and replay.live


def test_another_window_and_the_worst_one_are_measured_in_the_background(qtbot, window):
    choose(window, "sine", epochs=2, samples=200)
    train(qtbot, window)
    show_inside(qtbot, window)
    inside = window.inside
    inside.worst_button.click()
    evaluation = window.session.shown_evaluation
    worst = int(np.argmax(np.abs(evaluation.predictions - evaluation.targets)))
    assert inside.window_spin.value() == worst + 1
    qtbot.waitUntil(lambda: inside.heatmaps.trace.window == worst, timeout=10_000)
    np.testing.assert_array_equal(inside.heatmaps.trace.raw, window.session.data.val_windows[worst])
    assert window.session.probe.chosen == worst  # the next run's snapshots measure this window


def test_try_its_sequence_is_shown_inside_also_for_a_loaded_model(qtbot, window, tmp_path):
    choose(window, "next-number", epochs=2, samples=200)
    train(qtbot, window)
    path = window.export_weights(tmp_path / "w.npz")
    window.reset_button.click()
    with qtbot.waitSignal(window.loadFinished, timeout=RUN_TIMEOUT_MS):
        window.load_weights_file(path)
    show_inside(qtbot, window)
    window.inside.try_it_check.setChecked(True)
    window.try_it.input.setText("5 7 9 11 13 15 17 19 21 23")
    qtbot.waitUntil(lambda: window.inside.heatmaps.trace.window == -1, timeout=10_000)
    np.testing.assert_array_equal(window.inside.heatmaps.trace.raw, np.arange(5.0, 24.0, 2))
    assert window.inside.window_label.text() == "your sequence (Try it)"


def test_hovering_a_heatmap_reads_step_unit_and_value(qtbot, window):
    choose(window, "sine", epochs=1, samples=200)
    train(qtbot, window)
    show_inside(qtbot, window)
    heatmaps = window.inside.heatmaps
    plot, _ = heatmaps.columns[0][2][1]  # the forget gate
    point = plot.vb.mapViewToScene(plot.vb.viewRect().center())
    text = heatmaps.describe_at(point)
    assert text.startswith("layer 1 · f  forget gate · step ") and " · unit " in text


def test_reset_empties_the_inside_view(qtbot, window):
    choose(window, "sine", epochs=1, samples=200)
    train(qtbot, window)
    show_inside(qtbot, window)
    window.reset_button.click()
    assert window.inside.heatmaps.trace is None
    assert window.inside.heatmaps.columns[0][2][0][1].image is None
    assert all(curve.getData()[0] is None for row in window.inside.flow_plot.curves for curve in row)
