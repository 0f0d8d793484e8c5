"""Run folders (Contract 6): written as the run goes, readable after a kill, listed whatever their
state, renamed, deleted, exported; the runs directory and its failures."""

import csv
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lstm_studio.cli import main
from lstm_studio.training import EpochEnd, Experiment, run_recorder, run_store, train
from lstm_studio.training.run_format import HISTORY_FILE, RUN_FILE, WEIGHTS_FILE, RunStoreError, read_history
from lstm_studio.training.run_reader import list_runs, read_run
from lstm_studio.training.run_recorder import RunRecorder
from lstm_studio.training.run_store import delete_run, ensure_runs_dir, export_histories, rename_run, resolve_runs_dir
from lstm_studio.weights import load_weights


def tiny(task: str = "sine", **changes) -> Experiment:
    return Experiment.for_task(task).with_changes(**({"n_samples": 100, "epochs": 3, "hidden_sizes": (4,)} | changes))


def record(runs_dir: Path, experiment: Experiment, each_epoch=lambda recorder, event: None) -> RunRecorder:
    recorder = RunRecorder.create(runs_dir, experiment)
    data, model = experiment.make_dataset(), experiment.make_model()
    for event in train(model, data, experiment.train):
        if hasattr(event, "evaluation") and hasattr(event, "layer_grad_norms"):
            recorder.epoch(event)
            each_epoch(recorder, event)
    recorder.finish(event, model, data)
    return recorder


def test_a_run_is_written_as_it_goes(runs_dir):
    seen = []

    def check(recorder, event):
        history = read_history(recorder.folder)
        info = read_run(recorder.folder)
        seen.append((len(history), info.status, info.best_epoch, recorder.folder.joinpath(WEIGHTS_FILE).exists()))

    experiment = tiny(hidden_sizes=(4, 3))
    folder = record(runs_dir, experiment, check).folder
    assert seen == [(1, "running", 1, False), (2, "running", 2, False), (3, "running", 3, False)]
    history = read_history(folder)
    assert history.columns == ("epoch", "train_loss", "val_loss", "val_rmse", "grad_norm_lstm_l0", "grad_norm_lstm_l1",
                               "grad_norm_dense", "seconds")  # fmt: skip
    assert list(history.column("epoch")) == [1, 2, 3] and np.all(np.diff(history.column("seconds")) > 0)
    info = read_run(folder)
    assert info.status == "completed" and info.message == "finished 3 epochs" and info.best_epoch == 3
    assert info.metrics["val_loss"] == pytest.approx(history.column("val_loss")[2])
    assert set(info.baselines) == {"persistence_rmse", "mean_rmse"}
    assert info.experiment == experiment and info.task == "sine" and info.name == "sine, lr 0.01, layers 4,3"
    assert info.started.endswith("Z") and folder.name.startswith(info.started[:10])
    model, meta = load_weights(folder / WEIGHTS_FILE)
    assert meta["metrics"]["val_loss"] == info.metrics["val_loss"] and model.hidden_sizes == [4, 3]
    assert sorted(os.listdir(folder)) == [HISTORY_FILE, RUN_FILE, WEIGHTS_FILE]  # no temporary file left


def test_a_classification_run_records_accuracy_and_no_baselines(runs_dir):
    info = read_run(record(runs_dir, tiny("pattern", epochs=1)).folder)
    assert info.history().metric == "val_accuracy" and 0 <= info.metrics["val_accuracy"] <= 1
    assert info.baselines == {}


def test_names_are_unique_and_sort_by_start(runs_dir):
    folders = [RunRecorder.create(runs_dir, tiny()).folder for _ in range(3)]
    assert len(set(folders)) == 3 and all(f.parent == runs_dir for f in folders)
    assert [f.name for f in folders] == sorted(f.name for f in folders) or folders[1].name.endswith("-2")


def test_a_run_folder_appears_whole_or_not_at_all(runs_dir, monkeypatch):
    def killed(*args, **kwargs):  # as a process killed while it writes the first run.json
        raise KeyboardInterrupt

    monkeypatch.setattr(run_recorder, "write_record", killed)
    with pytest.raises(KeyboardInterrupt):
        RunRecorder.create(runs_dir, tiny())
    assert os.listdir(runs_dir) == []  # neither a folder without its run.json nor a hidden leftover


def test_a_folder_left_half_made_by_a_killed_process_is_discarded(runs_dir):
    folder = runs_dir / "2026-12-03T10-00-00_sine"
    leftover = runs_dir / f".{folder.name}.0123456789ab.tmp"
    (leftover / HISTORY_FILE).parent.mkdir()
    (leftover / HISTORY_FILE).write_text("epoch\n")
    other = RunRecorder.create(runs_dir, tiny()).folder
    run_recorder.discard_unfinished_start(folder)
    assert sorted(os.listdir(runs_dir)) == [other.name] and list_runs(runs_dir)[0].readable


def test_a_name_taken_while_the_folder_is_written_goes_to_the_next_name(runs_dir, monkeypatch):
    real_rename, first = os.rename, runs_dir / "2026-12-03T10-00-00_sine"

    def another_process_first(source, target):
        if Path(target) == first and not first.exists():
            first.mkdir()
            (first / RUN_FILE).write_text("theirs")
        real_rename(source, target)

    monkeypatch.setattr(os, "rename", another_process_first)
    with pytest.raises(FileExistsError):
        RunRecorder(first, tiny()).begin()
    assert os.listdir(runs_dir) == [first.name] and (first / RUN_FILE).read_text() == "theirs"
    mine = RunRecorder.create(runs_dir, tiny(), name="mine").folder
    assert mine != first and read_run(mine).name == "mine"


def test_killing_the_process_leaves_a_readable_run_not_completed(runs_dir, tmp_path):
    args = ["train", "--task", "sine", "--epochs", "2000", "--samples", "200", "--hidden", "8"]
    process = subprocess.Popen(
        [sys.executable, "-m", "lstm_studio", *args, "--runs-dir", str(runs_dir), "--out", str(tmp_path / "w.npz")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            folders = list(runs_dir.iterdir())
            if folders and (folders[0] / HISTORY_FILE).exists() and len(read_history(folders[0])) >= 3:
                break
            time.sleep(0.05)
        assert read_run(folders[0]).status == "running"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    info = read_run(folders[0])
    assert info.readable and info.status == "stopped" and "interrupted" in info.message
    history = info.history()
    # history.csv is written before run.json, so a kill between the two leaves run.json an epoch behind
    assert len(history) >= 3 and info.epochs_run in (len(history) - 1, len(history))
    assert info.weights_path is None  # the best weights are written when the run ends


def damage(runs_dir: Path, how: str) -> Path:
    folder = RunRecorder.create(runs_dir, tiny()).folder
    run_json = folder / RUN_FILE
    record = json.loads(run_json.read_text())
    if how == "bad json":
        run_json.write_text("{not json")
    elif how == "no run.json":
        run_json.unlink()
    elif how == "no history":
        (folder / HISTORY_FILE).unlink()
    elif how == "future version":
        run_json.write_text(json.dumps({**record, "format": {"name": "lstm-studio-run", "version": 99}}))
    elif how == "unknown status":
        run_json.write_text(json.dumps({**record, "status": "paused"}))
    elif how == "a list":
        run_json.write_text("[]")
    elif how == "NaN":
        run_json.write_text(json.dumps({**record, "seconds": float("nan")}))
    elif how == "a number too large":  # json reads 1e999 as infinity, which no run.json can hold
        run_json.write_text(json.dumps({**record, "settings": {"lr": 1.0}}).replace("1.0", "1e999"))
    elif how == "text for a number":
        run_json.write_text(json.dumps({**record, "best_epoch": "3"}))
    elif how == "not utf-8":
        run_json.write_bytes(b"\xff\xfe{}")
    elif how == "completed without weights":
        run_json.write_text(json.dumps({**record, "status": "completed", "best_epoch": 2}))
    elif how == "run.json is a folder":
        run_json.unlink()
        run_json.mkdir()
    return folder


DAMAGE = {
    "bad json": "not valid JSON",
    "no run.json": "run.json is missing",
    "no history": "history.csv is missing",
    "future version": "newer LSTM Studio",
    "unknown status": "unknown status",
    "a list": "JSON object",
    "NaN": "not valid JSON",
    "a number too large": "1e999 is too large a number",
    "text for a number": "best_epoch must be an integer",
    "not utf-8": "not UTF-8",
    "completed without weights": "weights.npz is missing",
    "run.json is a folder": "is a folder",
}


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_folder_is_listed_as_unreadable_with_its_reason(runs_dir, how):
    folder = damage(runs_dir, how)
    info = read_run(folder)
    assert info.status == "unreadable" and not info.readable and DAMAGE[how] in info.message
    assert info.to_json()["status"] == "unreadable"


def test_the_list_holds_every_entry_and_never_raises(runs_dir):
    good = record(runs_dir, tiny()).folder
    bad = damage(runs_dir, "bad json")
    (runs_dir / "notes.txt").write_text("a file instead of a folder")
    (runs_dir / ".hidden").write_text("skipped")
    (runs_dir / "empty").mkdir()
    runs = {info.folder.name: info for info in list_runs(runs_dir)}
    assert set(runs) == {good.name, bad.name, "notes.txt", "empty"}
    assert runs[good.name].status == "completed"
    assert runs["notes.txt"].message == "not a run folder: a file"
    assert runs["empty"].message == "run.json is missing"
    assert list_runs(runs_dir / "nowhere") == []
    history = read_history(good)
    (good / HISTORY_FILE).write_text("epoch,train_loss,val_loss,val_rmse,grad_norm_dense,seconds\n1,x,2,3,4,5\n")
    with pytest.raises(ValueError, match="line 2"):
        read_history(good)
    assert len(history) == 3


def test_rename_keeps_the_folder_and_changes_the_display_name(runs_dir):
    folder = record(runs_dir, tiny()).folder
    renamed = rename_run(folder, "  fast\nlearner ")
    assert renamed.name == "fast learner" and renamed.folder == folder and read_run(folder).title == "fast learner"
    with pytest.raises(RunStoreError, match="1 to 200"):
        rename_run(folder, " ")
    with pytest.raises(RunStoreError, match="not valid JSON"):
        rename_run(damage(runs_dir, "bad json"), "x")


def test_a_rename_while_it_runs_survives_the_next_epoch(runs_dir):
    def rename_at_first(recorder, event):
        if event.epoch == 1:
            rename_run(recorder.folder, "mine")

    assert read_run(record(runs_dir, tiny(), rename_at_first).folder).name == "mine"


def test_a_rename_as_the_run_ends_keeps_both_the_new_name_and_the_end(runs_dir, monkeypatch):
    experiment = tiny()
    data, model = experiment.make_dataset(), experiment.make_model()
    recorder = RunRecorder.create(runs_dir, experiment)
    events = list(train(model, data, experiment.train))
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    for e in epochs[:2]:
        recorder.epoch(e)
    real_read, ended = run_store.read_record, threading.Event()

    def the_run_ends_meanwhile(folder):  # in the window: the worker thread ends the run as Rename… reads
        record = real_read(folder)
        ending = threading.Thread(
            target=lambda: (recorder.epoch(epochs[2]), recorder.finish(events[-1], model, data), ended.set())
        )
        ending.start()
        ending.join(0.5)  # the run's last record waits for the rename to be written, then keeps its name
        return record

    monkeypatch.setattr(run_store, "read_record", the_run_ends_meanwhile)
    rename_run(recorder.folder, "my best run")
    assert ended.wait(10)
    info = read_run(recorder.folder)
    assert (info.status, info.epochs_run, info.name) == ("completed", 3, "my best run") and info.weights_path


def test_delete_removes_run_folders_only(runs_dir, tmp_path):
    folder = record(runs_dir, tiny()).folder
    damaged = damage(runs_dir, "bad json")
    outside = record(tmp_path, tiny()).folder
    stranger = RunRecorder.create(runs_dir, tiny()).folder
    (stranger / "thesis.tex").write_text("mine")
    (runs_dir / "notes.txt").write_text("x")
    os.symlink(outside, runs_dir / "link")
    running = RunRecorder.create(runs_dir, tiny()).folder  # this process is alive
    for target, message in [(outside, "not in the runs directory"), (stranger, "thesis.tex"),
                            (runs_dir / "notes.txt", "not a run folder"), (runs_dir / "link", "not a run folder"),
                            (running, "still running"), (runs_dir, "not in the runs directory")]:  # fmt: skip
        with pytest.raises(RunStoreError, match=message):
            delete_run(target, runs_dir)
        assert target.exists()
    delete_run(folder, runs_dir)
    delete_run(damaged, runs_dir)
    assert not folder.exists() and not damaged.exists() and outside.exists()


def test_export_writes_the_histories_in_long_format(runs_dir, tmp_path):
    a = record(runs_dir, tiny(epochs=2)).folder
    b = record(runs_dir, tiny("pattern", epochs=3)).folder
    rename_run(b, "patterns")
    target = export_histories([a, b], tmp_path / "compare.csv")
    rows = list(csv.DictReader(target.open()))
    assert list(rows[0])[:5] == ["run", "name", "epoch", "train_loss", "val_loss"]
    assert {"val_rmse", "val_accuracy", "seconds"} <= set(rows[0])
    assert [(r["run"], r["epoch"]) for r in rows] == [(a.name, "1"), (a.name, "2"), (b.name, "1"), (b.name, "2"),
                                                      (b.name, "3")]  # fmt: skip
    assert rows[0]["val_accuracy"] == "" and rows[2]["val_rmse"] == "" and rows[2]["name"] == "patterns"
    assert float(rows[1]["val_loss"]) == read_history(a).column("val_loss")[1]
    with pytest.raises(RunStoreError, match="cannot export"):
        export_histories([damage(runs_dir, "no history")], tmp_path / "x.csv")


def test_the_runs_directory_is_the_option_else_the_variable_else_the_data_folder(monkeypatch, tmp_path, runs_dir):
    assert resolve_runs_dir(tmp_path / "given") == tmp_path / "given"
    assert resolve_runs_dir() == runs_dir
    monkeypatch.delenv("LSTM_STUDIO_RUNS")
    default = resolve_runs_dir()
    assert default.parts[-2:] == ("lstm-studio", "runs") and not default.is_relative_to(tmp_path)


def test_an_unusable_runs_directory_is_one_clear_message(capsys, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunStoreError, match="Not a directory"):
        ensure_runs_dir(tmp_path / "file" / "runs")
    args = ["train", "--task", "sine", "--epochs", "1", "--samples", "50", "--out", str(tmp_path / "w.npz")]
    assert main([*args, "--runs-dir", str(tmp_path / "file")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "it is a file, not a folder" in err and not (tmp_path / "w.npz").exists()
    assert main(["runs", "--runs-dir", str(tmp_path / "file")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot list the runs directory" in err and "Not a directory" in err


def test_listing_runs_writes_nothing(capsys, tmp_path, runs_dir):
    assert main(["runs", "--runs-dir", str(tmp_path / "mistyped")]) == 0
    assert "no runs in" in capsys.readouterr().out and not (tmp_path / "mistyped").exists()  # not created
    folder = RunRecorder.create(runs_dir, tiny()).folder
    os.chmod(runs_dir, 0o555)  # a read-only runs directory (a backup, a mount) still lists
    try:
        assert main(["runs", "--runs-dir", str(runs_dir), "--json"]) == 0
    finally:
        os.chmod(runs_dir, 0o755)
    assert [row["run_dir"] for row in json.loads(capsys.readouterr().out)] == [str(folder)]


def test_a_full_disk_during_a_run_is_one_clear_message(capsys, tmp_path, runs_dir, monkeypatch):
    real_replace = os.replace

    def full(source, target):
        if Path(target).name == HISTORY_FILE and Path(target).exists():  # from the first epoch on
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", full)
    args = ["train", "--task", "sine", "--epochs", "3", "--samples", "50", "--out", str(tmp_path / "w.npz")]
    assert main([*args, "--runs-dir", str(runs_dir)]) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith("epoch ")]
    assert len(errors) == 1 and "No space left on device" in errors[0] and "Traceback" not in err
    folder = next(runs_dir.iterdir())
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []  # the temporary file is removed


def test_train_with_runs_dir_records_the_run_beside_its_weights(capsys, tmp_path, runs_dir):
    args = ["train", "--task", "sine", "--epochs", "2", "--samples", "60", "--hidden", "4", "--json"]
    assert main([*args, "--out", str(tmp_path / "w.npz")]) == 0
    assert list(runs_dir.iterdir()) == []  # without --runs-dir, train records nothing
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "w.npz"), "--runs-dir", str(runs_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    info = read_run(report["run_dir"])
    assert info.status == "completed" and info.metrics["val_loss"] == report["metrics"]["val_loss"]
    ours, _ = load_weights(tmp_path / "w.npz")
    recorded, _ = load_weights(info.weights_path)
    assert all(np.array_equal(ours.state_dict()[k], v) for k, v in recorded.state_dict().items())


def test_runs_lists_readable_and_unreadable_runs(capsys, runs_dir):
    good = record(runs_dir, tiny()).folder
    bad = damage(runs_dir, "future version")
    better = record(runs_dir, tiny(epochs=12)).folder
    assert main(["runs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [Path(row["run_dir"]).name for row in rows] == [better.name, good.name, bad.name]  # as a sweep's list
    listed = {Path(row["run_dir"]).name: row for row in rows}
    assert listed[good.name]["status"] == "completed" and listed[good.name]["val_loss"] > 0
    assert listed[bad.name]["status"] == "unreadable" and "newer" in listed[bad.name]["message"]
    assert {"run_dir", "status", "val_loss", "best_epoch", "seconds", "settings"} <= set(listed[good.name])
    assert main(["runs"]) == 0
    text = capsys.readouterr().out
    assert good.name in text and "unreadable" in text and "newer LSTM Studio" in text
