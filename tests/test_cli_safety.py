"""Issue 9 on the command line: the user's files are never destroyed, answers are right or an
error, files from strangers are inert, and signals and memory limits end runs cleanly."""

import json
import os
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from lstm_studio.cli import main
from lstm_studio.core import LSTMModel
from lstm_studio.training import Experiment, Predictor
from lstm_studio.training.sources import file_sha256
from lstm_studio.weights import load_weights, save_weights

QUICK = ["--epochs", "2", "--samples", "200"]


def cli(*args, check=True, timeout=120):
    result = subprocess.run([sys.executable, "-m", "lstm_studio", *args], capture_output=True, text=True,
                            timeout=timeout)  # fmt: skip
    assert "Traceback" not in result.stderr
    if check:
        assert result.returncode == 0, result.stderr
    return result


def one_line(result):
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def write_series(path, values):
    path.write_text("value\n" + "\n".join(f"{v:.6f}" for v in values))
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "w.npz"
    cli("train", "--task", "next-number", *QUICK, "--out", str(path))
    return path


# ----- 1. the user's data is never written over ------------------------------------------------
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_out_naming_the_csv_is_refused_and_the_csv_is_untouched(tmp_path, link):
    csv = write_series(tmp_path / "data.csv", np.sin(np.arange(80) / 3))
    original = csv.read_bytes()
    out = csv
    if link == "symlink":
        out = tmp_path / "alias.npz"
        out.symlink_to(csv)
    elif link == "hardlink":
        out = tmp_path / "hard.npz"
        os.link(csv, out)
    result = cli("train", "--task", "csv", "--csv", str(csv), "--column", "value", "--out", str(out), check=False)
    assert result.returncode == 1
    assert "which this run reads" in one_line(result)
    assert "epoch" not in result.stderr  # refused before training
    assert csv.read_bytes() == original and leftovers(tmp_path) == []


# ----- 3. evaluate measures what predict answers -----------------------------------------------
def test_evaluate_on_another_csv_uses_the_recorded_normalisation(tmp_path):
    values = 10 + np.sin(np.arange(120) / 4)
    train_csv = write_series(tmp_path / "a.csv", values)
    out = tmp_path / "w.npz"
    cli("train", "--task", "csv", "--csv", str(train_csv), "--column", "value", "--seq-len", "8", "--epochs", "3",
        "--out", str(out))  # fmt: skip
    shifted = write_series(tmp_path / "b.csv", 1000 + 300 * np.sin(np.arange(120) / 4))  # refitting would rescale
    report = json.loads(cli("evaluate", str(out), "--csv", str(shifted), "--json").stdout)
    model, meta = load_weights(out)
    predictor = Predictor.from_meta(model, meta)
    data = Experiment.from_meta(meta).with_changes(csv_path=str(shifted)).make_dataset()
    answers = np.array([predictor.predict(window).values[0] for window in data.val_windows])
    expected = float(np.sqrt(np.mean((answers - data.val_targets[:, 0]) ** 2)))
    assert report["n"] == len(answers) and report["rmse"] == pytest.approx(expected, rel=1e-9)


# ----- 4. predict needs the model's sequence length; every number is a value ---------------------
def test_predict_with_too_few_values_says_how_many(capsys, weights):
    code, err = main(["predict", str(weights), "1", "2"]), capsys.readouterr().err
    assert code == 2 and "the model reads 10 values: give 10, not 2" in err and err.count("\n") == 1


def test_numbers_in_scientific_notation_are_values_not_options(weights):
    scientific = ["-1e-3", "-2E-3", "-3e-3", "-.004", "-5e-3", "-6e-3", "-7e-3", "-8e-3", "-9e-3", "-1e-2"]
    plain = [f"{-k / 1000:.3f}" for k in range(1, 11)]
    answer = cli("predict", str(weights), *scientific, "--json").stdout
    assert answer == cli("predict", str(weights), *plain, "--json").stdout
    assert np.isfinite(json.loads(answer)["prediction"][0])


def test_predict_reads_the_last_values_of_a_longer_sequence_and_says_so(weights):
    longer = cli("predict", str(weights), *map(str, range(5, 20)), "--json")
    exact = cli("predict", str(weights), *map(str, range(10, 20)), "--json")
    assert longer.stdout == exact.stdout
    assert "the model read the last 10 of the 15 values" in longer.stderr


# ----- 6. SIGTERM and Ctrl-C end a run with its best weights, and no temporary file -------------
def test_sigterm_stops_after_the_batch_and_saves_the_best_weights(tmp_path):
    out = tmp_path / "w.npz"
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_studio", "train", "--task", "sine", "--epochs", "100000", "--out", str(out)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in process.stderr:
        if line.startswith("epoch 2/"):
            break
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "SIGTERM received: stopped after the current batch" in stderr and "Traceback" not in stderr
    assert f"weights written to {out}" in stdout
    _, meta = load_weights(out)
    assert meta["metrics"]["val_loss"] > 0
    assert leftovers(tmp_path) == []


def test_a_signal_during_the_save_lets_the_save_finish(capsys, tmp_path, monkeypatch):
    out = tmp_path / "w.npz"
    real = np.savez

    def savez_interrupted(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # arrives in the middle of writing
        real(*args, **kwargs)

    monkeypatch.setattr(np, "savez", savez_interrupted)
    assert main(["train", "--task", "next-number", *QUICK, "--out", str(out)]) == 0
    load_weights(out)
    assert leftovers(tmp_path) == []


def test_a_second_signal_during_the_save_stops_at_once_leaving_no_temporary_file(capsys, tmp_path, monkeypatch):
    out = tmp_path / "w.npz"
    out.write_bytes(b"the previous file")

    def savez_interrupted_twice(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)  # the handler runs here

    monkeypatch.setattr(np, "savez", savez_interrupted_twice)
    assert main(["train", "--task", "next-number", *QUICK, "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert out.read_bytes() == b"the previous file" and leftovers(tmp_path) == []


# ----- 7. only regular files or new paths are written ------------------------------------------
@pytest.mark.parametrize(
    ("target", "message"),
    [("", "give a file name"), ("newdir/", "folder"), ("fifo", "not a regular file")],
)
def test_bad_targets_fail_before_training(capsys, tmp_path, target, message):
    os.mkfifo(tmp_path / "fifo")
    path = f"{tmp_path}/{target}" if target else ""  # a Path would drop the trailing slash
    started = time.monotonic()
    code, err = main(["train", "--task", "sine", "--out", path]), capsys.readouterr().err
    assert code == 1 and message in err and err.count("\n") == 1
    assert time.monotonic() - started < 5  # refused before any training
    assert stat.S_ISFIFO(os.stat(tmp_path / "fifo").st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_node_is_never_replaced_by_a_regular_file(capsys, tmp_path):
    node = tmp_path / "null-copy"
    os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null's numbers, in a temporary folder
    code, err = main(["train", "--task", "sine", "--out", str(node)]), capsys.readouterr().err
    assert code == 1 and "not a regular file" in err
    assert stat.S_ISCHR(os.stat(node).st_mode)


# ----- 8. an answer that is not a number is an error --------------------------------------------
@pytest.mark.parametrize("as_json", [False, True])
def test_a_non_finite_answer_is_an_error_not_inf(tmp_path, as_json):
    from lstm_studio.training import run_meta

    model = LSTMModel(1, [4], 1)
    model.parameters()["dense.bias"][...] = 1e300  # finite, but scaled to raw units it overflows
    experiment = Experiment.for_task("sine").with_changes(n_samples=50)
    meta = run_meta(experiment, experiment.make_dataset(), None, None)
    meta["normalization"]["scale"] = 1e10
    path = save_weights(tmp_path / "huge.npz", model, meta)
    result = cli("predict", str(path), *["0.5"] * 20, *(["--json"] if as_json else []), check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert "not a finite number" in one_line(result)


@pytest.mark.parametrize("kind", ["classification", "weather"])
def test_a_recorded_kind_that_is_not_the_tasks_is_refused(tmp_path, kind):
    from lstm_studio.training import run_meta

    experiment = Experiment.for_task("sine").with_changes(n_samples=50)
    meta = {**run_meta(experiment, experiment.make_dataset(), None, None), "kind": kind}
    path = save_weights(tmp_path / "w.npz", experiment.make_model(), meta)
    result = cli("predict", str(path), *["0.5"] * 20, check=False)
    assert result.returncode == 1 and f"meta.kind '{kind}' is not the kind of task 'sine'" in one_line(result)


# ----- 9. a weights file names no folder outside its own, and makes us read nothing else --------
def test_the_csv_is_recorded_relative_to_the_weights_file_or_by_name(tmp_path):
    data_dir, models = tmp_path / "data", tmp_path / "models"
    data_dir.mkdir()
    models.mkdir()
    csv = write_series(data_dir / "level.csv", np.sin(np.arange(80) / 3))
    beside, away = tmp_path / "beside.npz", models / "away.npz"
    for out in (beside, away):
        cli("train", "--task", "csv", "--csv", str(csv), "--column", "value", "--epochs", "1", "--out", str(out))
    assert load_weights(beside)[1]["series"]["csv"] == "data/level.csv"
    assert load_weights(away)[1]["series"]["csv"] == "level.csv"
    assert str(tmp_path) not in json.dumps(load_weights(away)[1])
    assert load_weights(beside)[1]["series"]["sha256"] == file_sha256(csv)
    json.loads(cli("evaluate", str(beside), "--json").stdout)  # found where it says
    missing = cli("evaluate", str(away), check=False)
    assert missing.returncode == 1 and "give its location with --csv FILE" in one_line(missing)


def crafted(tmp_path, recorded_csv, sha256=None):
    """A weights file of a csv-task model whose record names ``recorded_csv``."""
    csv = write_series(tmp_path / "real.csv", np.sin(np.arange(60) / 3))
    experiment = Experiment.for_task("csv").with_changes(csv_path=str(csv), column="value", epochs=1)
    data, model = experiment.make_dataset(), experiment.make_model()
    from lstm_studio.training import run_meta

    meta = run_meta(experiment, data, None, None)
    meta["series"]["csv"] = recorded_csv
    if sha256 is None:
        meta["series"].pop("sha256")
    else:
        meta["series"]["sha256"] = sha256
    folder = tmp_path / "downloads"
    folder.mkdir(exist_ok=True)
    return save_weights(folder / "crafted.npz", model, meta)


@pytest.mark.parametrize("form", ["absolute", "climbing"])
def test_a_crafted_path_cannot_make_evaluate_read_a_file_outside_the_weights_folder(tmp_path, form):
    secret = tmp_path / "secret.txt"
    secret.write_text("value\npassword=hunter2\n")
    recorded = str(secret) if form == "absolute" else "../secret.txt"
    path = crafted(tmp_path, recorded)
    result = cli("evaluate", str(path), check=False)
    assert result.returncode == 1 and "hunter2" not in result.stderr
    assert f"which is not at {tmp_path / 'downloads' / 'secret.txt'}" in one_line(result)


def test_a_file_beside_the_weights_is_read_only_when_it_is_the_one_trained_on(tmp_path):
    path = crafted(tmp_path, "notes.csv", sha256="0" * 64)
    (tmp_path / "downloads" / "notes.csv").write_text("value\nmy bank pin 1234\n")
    result = cli("evaluate", str(path), check=False)
    assert result.returncode == 1 and "1234" not in result.stderr
    assert "has changed since crafted.npz was trained on it" in one_line(result)


def test_an_old_file_without_a_fingerprint_never_echoes_what_it_reads(tmp_path):
    path = crafted(tmp_path, "notes.csv")
    (tmp_path / "downloads" / "notes.csv").write_text("value\nmy bank pin 1234\n")
    result = cli("evaluate", str(path), check=False)
    assert result.returncode == 1 and "1234" not in result.stderr
    assert "is not readable as the series it was trained on" in one_line(result)


# ----- 10. sizes refused up front, memory errors named ------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seq-len", "1000000"], "sequence length must lie between 2 and 10,000, got 1,000,000"),
        (["--samples", "1000000000"], "samples must be at most 1,000,000, got 1,000,000,000"),
        (["--seq-len", "10000", "--samples", "1000000", "--hidden", "1024,1024"], "this run would need about"),
        (["--batch-size", "100000000"], "batch size must be at most 65,536"),
    ],
)
def test_runs_too_large_for_memory_are_refused_up_front(capsys, tmp_path, args, message):
    started = time.monotonic()
    code, err = main(["train", "--task", "sine", *args, "--out", str(tmp_path / "w.npz")]), capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert time.monotonic() - started < 5


def test_a_weights_file_claiming_a_huge_dataset_is_refused_before_it_is_made(capsys, tmp_path):
    experiment = Experiment.for_task("sine").with_changes(n_samples=50)
    from lstm_studio.training import run_meta

    meta = run_meta(experiment, experiment.make_dataset(), None, None)
    meta["task_settings"]["n_samples"] = 10**9
    path = save_weights(tmp_path / "w.npz", experiment.make_model(), meta)
    code, err = main(["evaluate", str(path)]), capsys.readouterr().err
    assert code == 1 and "samples must be at most 1,000,000" in err and err.count("\n") == 1


def test_running_out_of_memory_is_said_plainly(capsys, tmp_path, monkeypatch):
    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(Experiment, "make_dataset", no_memory)
    code, err = main(["train", "--task", "sine", "--out", str(tmp_path / "w.npz")]), capsys.readouterr().err
    assert code == 1 and err.startswith("lstm-studio: error: out of memory") and "internal" not in err
