"""Contract 3 end to end: train, predict and evaluate in a subprocess, and every bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from lstm_studio.cli import main
from lstm_studio.weights import load_weights, save_weights


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "lstm_studio", *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="session")
def next_number_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "w.npz"
    result = cli("train", "--task", "next-number", "--out", str(path))
    return path, result


@pytest.fixture(scope="session")
def pattern_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "p.npz"
    cli("train", "--task", "pattern", "--epochs", "3", "--samples", "400", "--dtype", "float32", "--out", str(path))
    return path


def test_train_prints_progress_metrics_and_the_seed_examples(next_number_weights):
    path, result = next_number_weights
    assert "epoch 40/40" in result.stderr  # one plain line per epoch when not on a terminal
    assert "\r" not in result.stderr
    assert "val_rmse" in result.stdout and f"weights written to {path}" in result.stdout
    assert "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9] -> 10.0" in result.stdout or "-> 9.9" in result.stdout
    _, meta = load_weights(path)
    assert meta["task"] == "next-number" and meta["seq_len"] == 10 and meta["seed"] == 0
    assert meta["metrics"]["val_rmse"] < 0.1 and meta["metrics"]["train_loss"] > 0
    assert meta["training"]["lr"] == 0.01 and meta["normalization"]["relative_to_last"] is True


def test_predict_gives_the_seed_examples(next_number_weights):
    path, _ = next_number_weights
    plain = cli("predict", str(path), *map(str, range(10)))
    assert float(plain.stdout) == pytest.approx(10.0, abs=0.1)
    as_json = json.loads(cli("predict", str(path), *map(str, range(15, 25)), "--json").stdout)
    assert as_json["prediction"][0] == pytest.approx(25.0, abs=0.1)
    falling = [str(-2 * k) for k in range(1, 11)]  # -2, -4, … -20: negative numbers are values, not options
    negative = json.loads(cli("predict", str(path), *falling, "--json").stdout)
    assert negative["prediction"][0] == pytest.approx(-22.0, abs=0.1)


def test_evaluate_reports_raw_rmse_beside_baselines(next_number_weights):
    path, _ = next_number_weights
    report = json.loads(cli("evaluate", str(path), "--json").stdout)
    assert report["n"] == 200
    assert report["rmse"] < 0.1 and report["mae"] <= report["rmse"]
    assert report["rmse"] < report["baseline"]["persistence_rmse"] < report["baseline"]["mean_rmse"]
    _, meta = load_weights(path)
    assert report["rmse"] == pytest.approx(meta["metrics"]["val_rmse"])  # the same validation part


def test_classification_predict_and_evaluate(pattern_weights):
    prediction = json.loads(cli("predict", str(pattern_weights), *map(str, range(20)), "--json").stdout)
    assert set(prediction["probabilities"]) == {"rising", "falling", "oscillating", "constant"}
    assert prediction["prediction"] in prediction["probabilities"]
    assert sum(prediction["probabilities"].values()) == pytest.approx(1.0)
    report = json.loads(cli("evaluate", str(pattern_weights), "--json").stdout)
    assert report["n"] == 80 and 0 <= report["accuracy"] <= 1
    assert np.array(report["confusion_matrix"]).sum() == 80
    plain = cli("evaluate", str(pattern_weights)).stdout
    assert "accuracy" in plain and "rising" in plain


def run_main(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err  # one plain line
    return code, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "0"], "learning rate"),
        (["--lr", "-0.1"], "learning rate"),
        (["--lr", "fast"], "not a number"),
        (["--hidden", "32,0"], "layer sizes"),
        (["--hidden", "big"], "layer sizes"),
        (["--epochs", "0"], "epochs"),
        (["--epochs", "ten"], "invalid int"),
        (["--val-split", "1.5"], "val-split"),
        (["--val-split", "0"], "val-split"),
        (["--task", "weather"], "invalid choice"),
        (["--task", "csv"], "needs a file"),
        (["--task", "sine", "--horizon", "2"], "only apply to series tasks"),
    ],
)
def test_impossible_training_options_are_usage_errors(capsys, tmp_path, args, message):
    base = {"--task": "next-number", "--out": str(tmp_path / "w.npz")}
    merged = dict(base)
    merged.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = ["train", *[part for pair in merged.items() for part in pair]]
    code, err = run_main(capsys, *argv)
    assert code == 2 and message in err
    assert not (tmp_path / "w.npz").exists()


def test_training_into_a_missing_folder_fails_before_training(capsys, tmp_path):
    code, err = run_main(capsys, "train", "--task", "sine", "--out", str(tmp_path / "no" / "w.npz"))
    assert code == 1 and "does not exist" in err


def test_a_diverging_run_exits_1_and_writes_nothing(capsys, tmp_path):
    out = tmp_path / "w.npz"
    code, err = run_main(
        capsys, "train", "--task", "next-number", "--lr", "1e30", "--dtype", "float32", "--clip", "0",
        "--epochs", "2", "--out", str(out),
    )  # fmt: skip
    assert code == 1 and "lower the learning rate" in err and "nothing was written" in err
    assert not out.exists()


def test_predict_rejects_non_numeric_values(capsys, tmp_path):
    code, err = run_main(capsys, "predict", str(tmp_path / "w.npz"), "1", "two", "3")
    assert code == 2 and "not a number: 'two'" in err


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 broken", b"plain text"])
def test_predict_with_a_bad_weights_file_exits_1(capsys, tmp_path, content):
    path = tmp_path / "w.npz"
    path.write_bytes(content)
    code, err = run_main(capsys, "predict", str(path), "1", "2")
    assert code == 1 and "not a weights file" in err


def test_predict_and_evaluate_with_a_missing_file_exit_1(capsys, tmp_path):
    assert run_main(capsys, "predict", str(tmp_path / "none.npz"), "1")[0] == 1
    assert run_main(capsys, "evaluate", str(tmp_path / "none.npz"))[0] == 1


def test_evaluate_a_file_without_a_recorded_experiment_exits_1(capsys, tmp_path):
    from lstm_studio.core import LSTMModel

    path = save_weights(tmp_path / "bare.npz", LSTMModel(1, [4], 1), {})
    code, err = run_main(capsys, "evaluate", str(path))
    assert code == 1 and "does not record a usable experiment: meta has no 'task'" in err


def test_usage_errors_in_a_subprocess_exit_2_with_one_line():
    result = cli("train", "--task", "sine", check=False)  # --out missing
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "--out" in result.stderr
