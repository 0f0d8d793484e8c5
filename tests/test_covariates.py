"""Other columns as inputs (covariates): learned from, recorded, asked for by predict, evaluate and Try it."""

import json
import subprocess
import sys

import numpy as np
import pytest

from lstm_studio.cli import main
from lstm_studio.training import Experiment, train
from lstm_studio.training.forecast import forecast_beyond, no_forecast_reason
from lstm_studio.training.metrics import baselines
from lstm_studio.training.predictor import Predictor
from lstm_studio.weights import load_weights


def load_csv(tmp_path, n=400, seed=0):
    """An electricity-load-like series driven by the temperature of the same hour: the next load is
    mostly this hour's temperature, which the load's own history cannot tell."""
    rng = np.random.default_rng(seed)
    temp = rng.normal(20, 5, n)
    load = np.empty(n)
    load[0] = 100
    for t in range(1, n):
        load[t] = 0.3 * load[t - 1] + 4.0 * temp[t - 1] + 10 + rng.normal(0, 0.5)
    path = tmp_path / "load.csv"
    rows = "".join(f"{t},{a:.4f},{b:.4f},{t % 7 == 0:d}\n" for t, (a, b) in enumerate(zip(load, temp, strict=True)))
    path.write_text("hour,load,temp,holiday\n" + rows, encoding="utf-8")
    return path


def experiment(path, **changes):
    base = Experiment.for_task("csv").with_changes(csv_path=str(path), column="load", seq_len=6, epochs=30)
    return base.with_changes(**changes)


def trained(e):
    data, model = e.make_dataset(), e.make_model()
    end = list(train(model, data, e.train))[-1]
    return model, data, end


def test_a_covariate_the_series_depends_on_is_learned_from(tmp_path):
    path = load_csv(tmp_path)
    model, data, with_temp = trained(experiment(path, inputs=("temp",)))
    _, _, alone = trained(experiment(path))
    assert model.input_size == 2 and data.normalizer.input_columns == ("temp",)
    assert with_temp.evaluation.rmse < 0.5 * alone.evaluation.rmse
    assert with_temp.evaluation.rmse < 0.5 * baselines(data)["persistence_rmse"]


def test_covariates_are_scaled_on_the_training_part_only(tmp_path):
    path = load_csv(tmp_path)
    e = experiment(path, inputs=("temp",))
    data = e.make_dataset()
    temp = np.loadtxt(path, delimiter=",", skiprows=1, usecols=2)
    scale = data.normalizer.inputs[0]
    used = e.training_length(e.read_series())
    assert scale.offset == pytest.approx(temp[:used].mean()) and scale.scale == pytest.approx(temp[:used].std())


def test_impossible_inputs_are_refused_before_training(tmp_path):
    path = load_csv(tmp_path)
    for inputs, message in ((("load",), "is the one predicted"), (("temp", "temp"), "given twice"),
                            (("hour",), "time column")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            experiment(path, inputs=inputs, time_column="hour").validate()
    with pytest.raises(ValueError, match="apply to series tasks"):
        Experiment.for_task("sine").with_changes(inputs=("temp",)).validate()


def test_no_forecast_beyond_the_data_and_the_reason_says_why(tmp_path):
    model, data, _ = trained(experiment(load_csv(tmp_path), inputs=("temp", "holiday"), epochs=1))
    predictor = Predictor.for_data(model, data)
    assert forecast_beyond(predictor, data) is None
    assert "also reads temp, holiday, whose future values are not known" in no_forecast_reason(predictor)


def test_the_command_line_records_the_columns_and_predict_asks_for_them(tmp_path, capsys):
    path, out = load_csv(tmp_path), tmp_path / "w.npz"
    assert main(["train", "--task", "csv", "--csv", str(path), "--column", "load", "--inputs", "temp",
                 "--seq-len", "4", "--epochs", "3", "--out", str(out)]) == 0  # fmt: skip
    model, meta = load_weights(out)
    assert meta["series"]["inputs"] == ["temp"] and meta["normalization"]["inputs"][0]["column"] == "temp"
    capsys.readouterr()
    assert main(["predict", str(out), "100", "101", "99", "98"]) == 2
    assert "also reads column 'temp': give its last 4 values" in capsys.readouterr().err
    assert main(["predict", str(out), "100", "101", "99", "98", "--input", "wind=1,2,3,4"]) == 2
    assert "reads no column 'wind' (it reads temp)" in capsys.readouterr().err
    assert main(["predict", str(out), "100", "101", "99", "98", "--input", "temp=20,21,19,-3.5", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)["prediction"][0]
    expected = Predictor.from_meta(model, meta).predict([100, 101, 99, 98], {"temp": [20, 21, 19, -3.5]})
    assert answer == pytest.approx(expected.values[0])
    assert main(["evaluate", str(out), "--json"]) == 0 and json.loads(capsys.readouterr().out)["n"] > 0
    script = tmp_path / "predict.py"
    assert main(["export", str(out), "--numpy", str(script)]) == 0
    run = subprocess.run([sys.executable, str(script), str(out), "100", "101", "99", "98", "--input",
                          "temp=20,21,19,-3.5", "--json"], capture_output=True, text=True, check=True)  # fmt: skip
    assert json.loads(run.stdout)["prediction"][0] == pytest.approx(expected.values[0])
    missing = subprocess.run([sys.executable, str(script), str(out), "100", "101", "99", "98"], capture_output=True,
                             text=True)  # fmt: skip
    assert missing.returncode == 2 and "--input temp=V1,V2" in missing.stderr
    unknown = subprocess.run([sys.executable, str(script), str(out), "100", "101", "99", "98", "--input",
                              "wind=1,2,3,4"], capture_output=True, text=True)  # fmt: skip
    assert unknown.returncode == 2 and "reads no column 'wind' (it reads temp)" in unknown.stderr


@pytest.mark.parametrize("difference", ["off", "on"])
def test_the_onnx_graph_reads_the_other_columns_as_predict_does(tmp_path, capsys, difference):
    ort = pytest.importorskip("onnxruntime")
    path, out, graph = load_csv(tmp_path), tmp_path / "w.npz", tmp_path / "m.onnx"
    assert main(["train", "--task", "csv", "--csv", str(path), "--column", "load", "--inputs", "temp,holiday",
                 "--seq-len", "5", "--epochs", "2", "--difference", difference, "--out", str(out)]) == 0  # fmt: skip
    assert main(["export", str(out), "--onnx", str(graph)]) == 0
    model, meta = load_weights(out)
    predictor = Predictor.from_meta(model, meta)
    rng = np.random.default_rng(1)
    x = np.stack([rng.normal(150, 20, (4, 5)), rng.normal(20, 5, (4, 5)), rng.integers(0, 2, (4, 5))], axis=2)
    expected = [predictor.predict(w[:, 0], {"temp": w[:, 1], "holiday": w[:, 2]}).values[0] for w in x]
    session = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
    answers = session.run(None, {"x": x.astype(np.float32)})[0][:, 0]
    np.testing.assert_allclose(answers, expected, rtol=1e-4, atol=1e-3)


def test_the_window_ticks_a_column_trains_on_it_and_try_it_asks_for_it(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings, Qt

    from lstm_studio.gui.main_window import MainWindow

    from .test_gui import open_csv, train

    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    open_csv(window, monkeypatch, load_csv(tmp_path))
    form = window.form
    form.source_editor.column_combo.setCurrentText("load")
    form.seq_len_spin.setValue(4)
    form.epochs_spin.setValue(3)
    listed = form.source_editor.inputs_list
    assert [listed.item(row).text() for row in range(listed.count())] == ["hour", "load", "temp", "holiday"]
    listed.item(2).setCheckState(Qt.CheckState.Checked)
    assert form.experiment().inputs == ("temp",)
    train(qtbot, window)
    assert window.session.model.input_size == 2
    assert "also reads temp" in window.panels["forecastPlot"].getPlotItem().titleLabel.text
    try_it = window.try_it
    assert list(try_it.column_inputs) == ["temp"]
    try_it.input.setText("100 101 99 98")
    assert "temp" in try_it.result.text()  # its values are asked for
    try_it.column_inputs["temp"].setText("20 21 19 18")
    assert try_it.result.text().startswith("next value ≈")
    try_it.set_predictor(None, waiting="Try it answers after the first epoch")  # as a new run starts
    try_it.set_predictor(window.session.predictor())
    assert try_it.column_inputs["temp"].text() == "20 21 19 18"  # what was typed is kept
    window.views.setCurrentWidget(window.inside)
    window.inside.dirty = True
    window.inside.refresh()
    assert not window.inside.try_it_check.isEnabled()  # its values alone are no window of this model


def test_gaps_filled_in_another_column_are_reported_and_a_constant_one_is_welcome(tmp_path, capsys):
    path = load_csv(tmp_path)
    lines = path.read_text().splitlines()
    lines[20] = lines[20].replace(lines[20].split(",")[2], "", 1)  # a gap in temp's training part
    path.write_text("\n".join(line + ",1" if k else line + ",flag" for k, line in enumerate(lines)) + "\n")
    out = tmp_path / "w.npz"
    assert main(["train", "--task", "csv", "--csv", str(path), "--column", "load", "--inputs", "temp,flag",
                 "--missing", "interpolate", "--seq-len", "4", "--epochs", "1", "--out", str(out)]) == 0  # fmt: skip
    assert "filled 1 missing value of column 'temp'" in capsys.readouterr().err
