"""Differencing decided from the training part: a trend is learned as changes, a level as values."""

import json

import numpy as np
import pytest

from lstm_studio.cli import main
from lstm_studio.training import Experiment, train
from lstm_studio.training.metrics import baselines
from lstm_studio.training.trend import decide, line_r2, recorded_mode
from lstm_studio.weights import load_weights


def series_csv(tmp_path, values, name="series.csv"):
    path = tmp_path / name
    path.write_text("t,value\n" + "".join(f"{i},{v:.6f}\n" for i, v in enumerate(values)), encoding="utf-8")
    return path


def co2_like(n=480, seed=3):
    """A monthly series with a steady rise, a yearly season and noise (like the Keeling curve)."""
    t = np.arange(n)
    return 315 + 0.12 * t + 3 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(seed).normal(0, 0.3, n)


def csv_experiment(path, **changes):
    return Experiment.for_task("csv").with_changes(csv_path=str(path), column="value", **changes)


def trained(experiment):
    data, model = experiment.make_dataset(), experiment.make_model()
    end = list(train(model, data, experiment.train))[-1]
    return data, end


# ----- the rule ----------------------------------------------------------------------------------
def test_line_r2_is_one_for_a_line_and_near_zero_for_a_level_or_a_swing():
    assert line_r2(2.5 * np.arange(50) - 7) == pytest.approx(1.0)
    assert line_r2(np.full(50, 3.0)) == 0.0
    assert line_r2(np.sin(2 * np.pi * np.arange(600) / 11)) < 0.01
    assert line_r2(np.array([1.0, 2.0])) == 0.0  # too few values to speak of a trend


def test_on_and_off_are_obeyed_and_auto_states_its_reason():
    rising, level = np.arange(100.0), np.sin(np.arange(100.0))
    assert decide("on", level).difference and not decide("off", rising).difference
    assert "as asked" in decide("off", rising).reason
    auto = decide("auto", rising)
    assert auto.difference and auto.reason.startswith("trend detected in the training part") and "100%" in auto.reason
    assert not decide("auto", level).difference and decide("auto", level).reason.startswith("no trend")
    with pytest.raises(ValueError, match="auto, on, off"):
        decide("sideways", level)


def test_recorded_modes_read_booleans_of_older_files_and_refuse_anything_else():
    assert [recorded_mode(v) for v in (True, False, "auto", "on", "off")] == ["on", "off", "auto", "on", "off"]
    with pytest.raises(ValueError, match="got 'false'"):
        recorded_mode("false")


def test_the_decision_never_looks_at_the_validation_part(tmp_path):
    flat = np.sin(np.arange(200) / 3.0)
    rising_later = np.concatenate([flat[:160], 50 + 10 * np.arange(40.0)])  # a trend only in the last fifth
    decisions = [
        csv_experiment(series_csv(tmp_path, values, f"{i}.csv"), seq_len=8).make_dataset().normalizer.difference
        for i, values in enumerate((flat, rising_later))
    ]
    assert decisions == [False, False]


# ----- what it is for: default settings beat persistence on both kinds of series ---------------
def test_a_trending_series_is_learned_as_changes_by_default_and_beats_persistence(tmp_path):
    experiment = csv_experiment(series_csv(tmp_path, co2_like()), epochs=20)
    assert experiment.difference == "auto"
    data, end = trained(experiment)
    assert data.normalizer.difference
    assert experiment.difference_reason(data).startswith("trend detected in the training part")
    assert end.evaluation.rmse < 0.6 * baselines(data)["persistence_rmse"]
    _, forced_off = trained(experiment.with_changes(difference="off"))
    assert forced_off.evaluation.rmse > end.evaluation.rmse  # what a user who did not know would have had


def test_sunspots_swing_around_a_level_and_are_learned_as_values_by_default():
    experiment = Experiment.for_task("sunspots")
    data, end = trained(experiment)
    assert not data.normalizer.difference
    assert experiment.difference_reason(data).startswith("no trend in the training part")
    assert end.evaluation.rmse < baselines(data)["persistence_rmse"]


# ----- where the decision is stated: the command line and the weights file ------------------------
def test_the_command_line_states_the_decision_and_the_weights_file_records_it(tmp_path, capsys):
    csv, out = series_csv(tmp_path, co2_like()), tmp_path / "w.npz"
    assert main(["train", "--task", "csv", "--csv", str(csv), "--column", "value", "--epochs", "2",
                 "--out", str(out), "--json"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert "trend detected in the training part" in captured.err
    assert json.loads(captured.out)["trend"].startswith("trend detected")
    _, meta = load_weights(out)
    series = meta["series"]
    assert series["difference_mode"] == "auto" and series["difference"] is True
    assert meta["normalization"]["difference"] is True and series["trend"].startswith("trend detected")
    assert main(["evaluate", str(out), "--json"]) == 0  # the recorded decision is what evaluate uses
    assert json.loads(capsys.readouterr().out)["n"] > 0


@pytest.mark.parametrize(("flags", "mode"), [(["--difference"], "on"), (["--no-difference"], "off"),
                                             (["--difference", "auto"], "auto"), ([], "auto")])  # fmt: skip
def test_difference_options(tmp_path, capsys, flags, mode):
    csv, out = series_csv(tmp_path, co2_like(120)), tmp_path / "w.npz"
    assert main(["train", "--task", "csv", "--csv", str(csv), "--column", "value", "--epochs", "1",
                 "--seq-len", "6", "--out", str(out), *flags]) == 0  # fmt: skip
    assert load_weights(out)[1]["series"]["difference_mode"] == mode
    assert ("as asked" in capsys.readouterr().err) == (mode != "auto")


def test_an_unknown_difference_mode_is_a_usage_error(tmp_path, capsys):
    code = main(["train", "--task", "sunspots", "--difference", "sideways", "--out", str(tmp_path / "w.npz")])
    assert code == 2 and "invalid choice: 'sideways'" in capsys.readouterr().err
