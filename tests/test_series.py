"""Real data: CSV series, chronological splits without leakage, differencing, horizons, baselines."""

import json
import subprocess
import sys

import numpy as np
import pytest

from lstm_studio.training import (
    CsvError,
    Experiment,
    Predictor,
    evaluate,
    forecast,
    read_columns,
    read_series,
    train,
)
from lstm_studio.training.metrics import baselines
from lstm_studio.weights import load_weights


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_experiment(path, column, **changes):
    return Experiment.for_task("csv").with_changes(csv_path=str(path), column=column, **changes)


def run(experiment):
    data, model = experiment.make_dataset(), experiment.make_model()
    events = list(train(model, data, experiment.train))
    return model, data, events[-1]


# ----- reading ---------------------------------------------------------------------------------
def test_comma_file_with_header_and_time_column(tmp_path):
    path = write(tmp_path, "a.csv", "month,passengers\n1949-01,112\n1949-02,118\n1949-03,132\n")
    assert read_columns(path) == ["month", "passengers"]
    series = read_series(path, "passengers", "month")
    np.testing.assert_array_equal(series.values, [112, 118, 132])
    assert series.times == ("1949-01", "1949-02", "1949-03")


def test_semicolon_file_with_decimal_commas_and_a_bom(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes("\ufeffdate;temp\n1;3,5\n2;-1,25\n3;4\n".encode())
    np.testing.assert_array_equal(read_series(path, "temp").values, [3.5, -1.25, 4.0])


def test_tab_file_without_header_names_columns_by_number(tmp_path):
    path = write(tmp_path, "c.tsv", "1\t10.5\n2\t11.5\n3\t9\n")
    assert read_columns(path) == ["1", "2"]
    np.testing.assert_array_equal(read_series(path, "2").values, [10.5, 11.5, 9.0])


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("", "x", "the file is empty"),
        ("x,y\n1,2\n", "z", "no column 'z'; the columns are x, y"),
        ("x,y\n1,2\n3,abc\n", "y", "line 3, column 'y': 'abc' is not a number"),
        ("x,y\n1,2\n3,\n4,5\n", "y", "line 3, column 'y': the cell is empty"),
        ("x,y\n1,2\n3\n", "y", "line 3, column 'y': the cell is empty"),
        ("x,y\n1,2\n3,nan\n", "y", "line 3, column 'y': 'nan' is not a finite number"),
        ("x,y\n1,7\n2,7\n3,7\n", "y", "column 'y' is constant (7 throughout)"),
    ],
)
def test_bad_files_name_the_line_and_column(tmp_path, text, column, message):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(CsvError) as err:
        read_series(path, column)
    assert message in str(err.value) and str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(CsvError, match="no such file"):
        read_series(tmp_path / "none.csv", "x")


def test_too_few_rows_for_the_window(tmp_path):
    path = write(tmp_path, "short.csv", "v\n" + "\n".join(str(i) for i in range(10)))
    with pytest.raises(ValueError, match="too few for windows of 12 values"):
        csv_experiment(path, "v").make_dataset()


# ----- splitting without leakage ---------------------------------------------------------------
def series_file(tmp_path, values, name="s.csv"):
    return write(tmp_path, name, "value\n" + "\n".join(f"{v:.6f}" for v in values))


def test_split_is_chronological_and_normalisation_sees_training_values_only(tmp_path):
    rng = np.random.default_rng(0)
    values = np.sin(np.arange(200) / 5) * 10 + rng.normal(0, 0.5, 200)
    experiment = csv_experiment(series_file(tmp_path, values), "value", seq_len=12, val_split=0.25)
    data = experiment.make_dataset()
    n = 200 - 12
    assert len(data.x_train) == n - round(n * 0.25) and len(data.x_val) == round(n * 0.25)
    # validation windows come after every training target
    assert data.val_start == len(data.x_train) + 12
    np.testing.assert_allclose(data.val_targets[:, 0], values[data.val_start :], atol=1e-5)  # the file keeps 6 decimals
    used_by_training = values[: data.val_start]
    assert data.normalizer.offset == pytest.approx(np.mean(used_by_training), abs=1e-5)
    assert data.normalizer.scale == pytest.approx(np.std(used_by_training), rel=1e-5)
    # changing the validation part changes nothing the model trains on
    changed = values.copy()
    changed[data.val_start :] += 1000
    other = csv_experiment(series_file(tmp_path, changed, "t.csv"), "value", seq_len=12, val_split=0.25).make_dataset()
    np.testing.assert_array_equal(other.x_train, data.x_train)
    np.testing.assert_array_equal(other.y_train, data.y_train)


def test_predictions_come_back_in_raw_units(tmp_path):
    values = 1000 + 50 * np.sin(np.arange(120) / 4)
    _, data, end = run(csv_experiment(series_file(tmp_path, values), "value", seq_len=10, epochs=30))
    assert np.min(end.evaluation.predictions) > 940 and np.max(end.evaluation.predictions) < 1060
    assert end.evaluation.rmse < 0.5 * baselines(data)["persistence_rmse"]


def test_differencing_follows_a_trend_out_of_the_training_range(tmp_path):
    rng = np.random.default_rng(1)
    values = 3.0 * np.arange(150) + rng.normal(0, 1.0, 150)  # validation lies above all training values
    plain = run(csv_experiment(series_file(tmp_path, values), "value", seq_len=8, epochs=40, difference="off"))
    diffed = run(csv_experiment(series_file(tmp_path, values), "value", seq_len=8, epochs=40, difference="on"))
    data = diffed[1]
    assert data.normalizer.difference and data.x_train.shape[1] == 7  # the changes between 8 values
    assert diffed[2].evaluation.rmse < baselines(data)["persistence_rmse"]
    assert diffed[2].evaluation.rmse < 0.5 * plain[2].evaluation.rmse


def test_a_longer_horizon_predicts_several_values(tmp_path):
    values = np.sin(np.arange(160) / 6)
    experiment = csv_experiment(series_file(tmp_path, values), "value", seq_len=10, horizon=3, epochs=20)
    model, data, end = run(experiment)
    assert model.output_size == 3 and data.val_targets.shape[1] == 3
    prediction = Predictor.for_data(model, data).predict(values[-10:])
    assert len(prediction.values) == 3
    assert end.evaluation.rmse < baselines(data)["mean_rmse"]


# ----- the shipped dataset ---------------------------------------------------------------------
def test_sunspots_defaults_beat_the_persistence_forecast():
    experiment = Experiment.for_task("sunspots")
    model, data, end = run(experiment)
    assert data.series.values.shape == (309,) and data.series.times[0] == "1700"
    assert end.evaluation.rmse < 0.8 * baselines(data)["persistence_rmse"]
    predictor = Predictor.for_data(model, data)
    ahead = forecast(predictor, data.series.values, experiment.settings.seq_len, steps=15)
    assert ahead.shape == (15,) and np.all(np.isfinite(ahead))
    assert ahead[0] == pytest.approx(predictor.predict(data.series.values[-20:]).values[0])


# ----- the command line ------------------------------------------------------------------------
def cli(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "lstm_studio", *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_csv_train_predict_evaluate_end_to_end(tmp_path):
    values = 20 + 5 * np.sin(np.arange(150) / 4)
    path = write(
        tmp_path, "mine.csv", "t;level\n" + "\n".join(f"{i};{v:.4f}".replace(".", ",") for i, v in enumerate(values))
    )
    out = tmp_path / "w.npz"
    cli("train", "--task", "csv", "--csv", str(path), "--column", "level", "--time-column", "t",
        "--seq-len", "10", "--epochs", "15", "--out", str(out))  # fmt: skip
    prediction = json.loads(cli("predict", str(out), *[f"{v:.4f}" for v in values[-10:]], "--json").stdout)
    assert 10 < prediction["prediction"][0] < 30
    report = json.loads(cli("evaluate", str(out), "--json").stdout)
    assert report["n"] == round(140 * 0.2) and report["rmse"] < report["baseline"]["mean_rmse"]
    moved = tmp_path / "moved.csv"
    path.rename(moved)
    assert cli("evaluate", str(out), check=False).returncode == 1  # the recorded file is gone
    again = json.loads(cli("evaluate", str(out), "--csv", str(moved), "--column", "level", "--json").stdout)
    assert again["rmse"] == pytest.approx(report["rmse"])


def test_bad_csv_on_the_command_line_is_one_line_naming_the_cell(tmp_path):
    path = write(tmp_path, "bad.csv", "v\n1\n2\nthree\n4\n")
    result = cli("train", "--task", "csv", "--csv", str(path), "--column", "v", "--out", str(tmp_path / "w.npz"),
                 check=False)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "line 4, column 'v': 'three' is not a number" in result.stderr
    assert not (tmp_path / "w.npz").exists()


def test_evaluate_of_a_generated_task_rejects_csv_options(tmp_path):
    out = tmp_path / "w.npz"
    cli("train", "--task", "sine", "--epochs", "1", "--samples", "100", "--out", str(out))
    result = cli("evaluate", str(out), "--csv", "x.csv", check=False)
    assert result.returncode == 2 and "apply to weights trained on a CSV file" in result.stderr


def test_evaluate_json_of_sunspots_reports_baselines(tmp_path):
    out = tmp_path / "s.npz"
    cli("train", "--task", "sunspots", "--out", str(out))
    report = json.loads(cli("evaluate", str(out), "--json").stdout)
    assert report["rmse"] < report["baseline"]["persistence_rmse"] < report["baseline"]["mean_rmse"]
    # the report is the loaded model measured on the task's own validation part (the defaults trained on)
    model, _ = load_weights(out)
    data = Experiment.for_task("sunspots").make_dataset()
    measured = evaluate(model, data)
    assert report["n"] == len(measured.targets) == len(data.val_targets)
    assert report["rmse"] == pytest.approx(measured.rmse, rel=1e-12)
    assert report["mae"] == pytest.approx(measured.mae, rel=1e-12)
    assert report["baseline"] == pytest.approx(baselines(data), rel=1e-12)


# ----- edge cases found in review ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ("value\n1,5\n2,5\n", "value", [1.5, 2.5]),  # one column with decimal commas
        ("2020-01-01;1,5\n2020-01-02;2,5\n", "2", [1.5, 2.5]),  # no header, semicolons, decimal commas
        ("2020-01-01,3.5\n2020-01-02,4\n", "2", [3.5, 4.0]),  # no header: the first row is data too
    ],
)
def test_awkward_but_valid_files_read_every_value(tmp_path, text, column, expected):
    np.testing.assert_array_equal(read_series(write(tmp_path, "f.csv", text), column).values, expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [(",\n,\n", "holds no values"), ('a,b\n1,"2\n3,4\n', "not a readable CSV file")],
)
def test_files_without_values_or_with_open_quotes_are_errors(tmp_path, text, message):
    with pytest.raises(CsvError, match=message):
        read_series(write(tmp_path, "f.csv", text), "b")


def test_a_longer_horizon_keeps_validation_targets_out_of_training(tmp_path):
    values = np.arange(100, dtype=float) ** 1.5
    data = csv_experiment(series_file(tmp_path, values), "value", seq_len=5, horizon=3).make_dataset()
    last_training_target = data.train_targets[-1, -1]
    first_validation_target = data.val_targets[0, 0]
    assert last_training_target < first_validation_target
    assert np.all(data.train_targets < first_validation_target)
