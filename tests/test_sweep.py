"""Sweeps (Contract 6): the grid, each trial in a process of its own with one BLAS thread, failed
trials beside completed ones, progress events, and cancelling that leaves no process behind."""

import errno
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lstm_studio.cli import main
from lstm_studio.training import Experiment, sweep_backends
from lstm_studio.training.run_format import read_history
from lstm_studio.training.run_reader import list_runs, read_run
from lstm_studio.training.run_recorder import RunRecorder
from lstm_studio.training.sweep import Sweep, TrialEnd, TrialEpoch
from lstm_studio.training.trial import expand_grid, plan_trials, run_ray_trial, run_trial

TINY = ["--task", "sine", "--samples", "100", "--hidden", "4"]


def tiny(**changes) -> Experiment:
    return Experiment.for_task("sine").with_changes(**({"n_samples": 100, "epochs": 3, "hidden_sizes": (4,)} | changes))


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (zombies too), multiprocessing's resource tracker aside."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid and b"resource_tracker" not in command:
            found.append(int(entry))
    return found


def test_the_grid_is_every_combination_in_order():
    combos = expand_grid(tiny(), {"lr": [0.01, 0.001, 0.01], "hidden_sizes": [(4,), (8, 8)], "batch_size": [16]})
    assert [settings for settings, _ in combos] == [
        {"lr": 0.01, "hidden_sizes": [4]},
        {"lr": 0.01, "hidden_sizes": [8, 8]},
        {"lr": 0.001, "hidden_sizes": [4]},
        {"lr": 0.001, "hidden_sizes": [8, 8]},
    ]  # a repeated value counts once; a single value is set, not swept
    assert [(e.train.lr, e.hidden_sizes, e.train.batch_size) for _, e in combos][1] == (0.01, (8, 8), 16)
    assert expand_grid(tiny(), {}) == [({}, tiny())]
    with pytest.raises(ValueError, match="not epochs"):
        expand_grid(tiny(), {"epochs": [1, 2]})


def test_trials_get_unique_folders_and_impossible_ones_are_named(runs_dir):
    (runs_dir / "taken").mkdir()
    trials = plan_trials(tiny(), {"lr": [0.01, 0.1], "seq_len": [5, 6]}, runs_dir)
    assert len({t.run_dir for t in trials}) == 4 and not any(Path(t.run_dir).exists() for t in trials)
    assert Path(trials[0].run_dir).name.endswith("_sine_lr0.01_h4_T5") and trials[0].name.endswith("seq_len 5")
    with pytest.raises(ValueError, match=r"batch_size 100000: batch size must be at most"):
        plan_trials(tiny(), {"batch_size": [16, 100_000]}, runs_dir)


def test_sweeps_planned_in_the_same_second_reserve_different_folders(runs_dir):
    started = datetime(2026, 12, 3, 10, 0, 0, tzinfo=timezone.utc)
    first = plan_trials(tiny(), {"lr": [0.01, 0.02]}, runs_dir, started)
    second = plan_trials(tiny().with_changes(seed=1), {"lr": [0.01, 0.02]}, runs_dir, started)  # as another process
    names = [Path(t.run_dir).name for t in [*first, *second]]
    assert len(set(names)) == 4 and names[2] == names[0] + "-2"
    window_run = RunRecorder.create(runs_dir, tiny(), name="a window's run")  # one more creator, same names
    assert window_run.folder.name not in names
    row = run_trial(second[0])  # a trial makes its folder and ends its reservation
    assert row["status"] == "completed" and row["run_dir"] == second[0].run_dir
    assert sorted(n for n in os.listdir(runs_dir) if n.endswith(".reserved")) == sorted(
        f".{name}.reserved" for name in [names[0], names[1], names[3]]
    )  # fmt: skip
    Sweep(first, workers=1).close()  # a sweep's end releases what it never started
    assert not any(Path(t.run_dir).exists() for t in first)
    assert sorted(n for n in os.listdir(runs_dir) if n.endswith(".reserved")) == [f".{names[3]}.reserved"]


def test_a_sweep_prints_json_best_first_and_a_failed_trial_does_not_stop_the_others(runs_dir):
    args = [*TINY, "--epochs", "3", "--lr", "0.03", "1e200", "0.003", "--workers", "2", "--json"]
    result = subprocess.run([sys.executable, "-m", "lstm_studio", "sweep", *args], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["status"] for row in rows] == ["completed", "completed", "failed"]
    assert rows[0]["val_loss"] < rows[1]["val_loss"] and rows[2]["val_loss"] is None
    assert "lower the learning rate" in rows[2]["message"] and rows[2]["settings"] == {"lr": 1e200}
    assert {row["settings"]["lr"] for row in rows[:2]} == {0.03, 0.003}
    assert {"run_dir", "status", "val_loss", "best_epoch", "seconds", "settings"} <= set(rows[0])
    assert sorted(Path(row["run_dir"]).parent for row in rows) == [runs_dir] * 3
    assert all(read_run(row["run_dir"]).status == row["status"] for row in rows)
    lines = result.stderr.splitlines()
    assert lines[0] == f"3 trials, 2 at a time, each in a process of its own; runs in {runs_dir}"
    assert [line[:5] for line in lines[1:]] == ["[1/3]", "[2/3]", "[3/3]"]  # a line per finished trial


def test_a_ray_task_cancelled_stops_after_its_batch_with_its_weights_and_its_process_runs_the_next():
    import _thread

    first, second = plan_trials(tiny(epochs=100_000), {"lr": [0.01, 0.02]}, Path(os.environ["LSTM_STUDIO_RUNS"]))

    def cancel_as_ray_does():  # ray.cancel(force=False) interrupts the task's (main) thread
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (Path(first.run_dir) / "history.csv").exists() and len(read_history(Path(first.run_dir))) >= 1:
                break
            time.sleep(0.02)
        _thread.interrupt_main()

    threading.Thread(target=cancel_as_ray_does, daemon=True).start()
    row = run_ray_trial(first)
    assert row["status"] == "stopped" and row["best_epoch"] >= 1 and read_run(first.run_dir).weights_path
    later = run_ray_trial(replace(second, experiment=second.experiment.with_changes(epochs=1)))
    assert later["status"] == "completed"  # the interrupt stopped that task, not the worker


def test_a_full_disk_fails_the_trial_with_the_reason(runs_dir, monkeypatch):
    real_replace = os.replace

    def full(source, target):
        if Path(target).exists():  # the first run.json and history.csv are written, nothing after
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", full)
    row = run_trial(plan_trials(tiny(), {}, runs_dir)[0])  # in this process: the function every worker runs
    assert row["status"] == "failed" and "No space left on device" in row["message"]


def test_the_text_table_has_a_column_per_swept_setting(capsys, runs_dir):
    assert main(["sweep", *TINY, "--epochs", "1", "--lr", "0.01", "0.02", "--batch-size", "16"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["#", "status", "val_loss", "val_rmse", "best", "seconds", "lr", "run"]
    assert [row.split()[:2] for row in rows] == [["1", "completed"], ["2", "completed"]]


def test_the_sweep_reports_epochs_as_they_come_then_the_end(runs_dir):
    sweep = Sweep.plan(tiny(), {"lr": [0.01, 0.02]}, runs_dir, workers=2)
    sweep.start()
    events = []
    deadline = time.monotonic() + 60
    while not sweep.finished and time.monotonic() < deadline:
        sweep.wait(0.05)
        events += sweep.poll()
    sweep.close()
    for index in (0, 1):
        mine = [e for e in events if e.trial == index]
        assert [e.row["epoch"] for e in mine if isinstance(e, TrialEpoch)] == [1, 2, 3]
        assert isinstance(mine[-1], TrialEnd) and mine[-1].result["status"] == "completed"
    rows = sweep.results()
    assert rows[0]["val_loss"] <= rows[1]["val_loss"] and multiprocessing.active_children() == []


def test_cancel_stops_every_trial_and_leaves_no_process(runs_dir):
    sweep = Sweep.plan(tiny(epochs=100_000), {"lr": [0.01, 0.02, 0.03]}, runs_dir, workers=2)
    before = os.environ.get("OPENBLAS_NUM_THREADS")
    others = set(children_of(os.getpid()))  # what earlier tests may have left (not ours to judge)
    sweep.start()
    started = set()
    deadline = time.monotonic() + 60
    while len(started) < 2 and time.monotonic() < deadline:
        sweep.wait(0.05)
        started |= {e.trial for e in sweep.poll() if isinstance(e, TrialEpoch)}
    workers = set(children_of(os.getpid())) - others
    assert len(workers) == 2
    for pid in workers:  # each worker was started with one BLAS thread
        assert b"OPENBLAS_NUM_THREADS=1" in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert os.environ.get("OPENBLAS_NUM_THREADS") == before  # this process's environment is left as it was
    sweep.cancel()
    assert multiprocessing.active_children() == [] and set(children_of(os.getpid())) <= others
    rows = sweep.results()
    assert sorted(row["status"] for row in rows) == ["stopped"] * 3
    assert sorted(row["run_dir"] is None for row in rows) == [False, False, True]  # the third never started
    for row in rows[:2]:
        info = read_run(row["run_dir"])
        assert info.status == "stopped" and len(read_history(info.folder)) >= 1 and info.weights_path is not None


def wait_for_epochs(sweep: Sweep, trials: set[int]) -> None:
    started: set[int] = set()
    deadline = time.monotonic() + 60
    while not trials <= started and time.monotonic() < deadline:
        sweep.wait(0.05)
        started |= {e.trial for e in sweep.poll() if isinstance(e, TrialEpoch)}


def test_cancel_with_an_idle_worker_leaves_no_process(runs_dir):
    short = plan_trials(tiny(epochs=1), {"lr": [0.01]}, runs_dir)
    sweep = Sweep([*short, *plan_trials(tiny(epochs=100_000), {"lr": [0.02]}, runs_dir)], workers=2)
    sweep.start()
    wait_for_epochs(sweep, {1})
    deadline = time.monotonic() + 60
    while not any(row["status"] == "completed" for row in sweep.results()) and time.monotonic() < deadline:
        sweep.wait(0.05)  # until the short trial ends: its worker idles, and the cancel must not break the pool
    sweep.cancel()
    assert multiprocessing.active_children() == []
    assert [row["status"] for row in sorted(sweep.results(), key=lambda r: r["run_dir"])] == ["completed", "stopped"]


@pytest.mark.parametrize("after", [0.0, 0.6])
def test_cancelling_while_the_workers_are_still_starting_returns_and_leaves_no_process(runs_dir, after):
    sweep = Sweep.plan(tiny(epochs=100_000), {"lr": [0.01, 0.02, 0.03]}, runs_dir, workers=2)
    sweep.start()
    time.sleep(after)
    cancelling = threading.Thread(target=sweep.cancel, daemon=True)
    cancelling.start()  # while the workers import NumPy, or one has begun a trial
    cancelling.join(60)
    assert not cancelling.is_alive() and multiprocessing.active_children() == []
    assert {row["status"] for row in sweep.results()} == {"stopped"}
    assert sorted(e.trial for e in sweep.poll() if isinstance(e, TrialEnd)) == [0, 1, 2]  # each end still reported


def test_each_trial_has_a_process_of_its_own_and_one_that_dies_is_lost_alone(runs_dir):
    long = plan_trials(tiny(epochs=100_000), {"lr": [0.01, 0.02]}, runs_dir)
    sweep = Sweep([*long, *plan_trials(tiny(epochs=2), {"lr": [0.03]}, runs_dir)], workers=2)
    sweep.start()
    wait_for_epochs(sweep, {0, 1})
    first = next(p for p in sweep.backend.processes() if p.name.endswith("-1"))
    os.kill(first.pid, signal.SIGKILL)  # as the OOM killer would
    ended: set[int] = set()
    deadline = time.monotonic() + 60
    while 2 not in ended and time.monotonic() < deadline:  # the queued trial still starts, and ends
        sweep.wait(0.05)
        ended |= {e.trial for e in sweep.poll() if isinstance(e, TrialEnd)}
    sweep.cancel()
    assert multiprocessing.active_children() == []
    rows = {Path(row["run_dir"]).name: row for row in sweep.results()}
    lost, stopped, later = (rows[Path(t.run_dir).name] for t in sweep.trials)
    assert lost["status"] == "stopped" and lost["message"] == "its process was lost (killed by signal 9)"
    assert stopped["status"] == "stopped" and later["status"] == "completed"
    assert all(read_run(row["run_dir"]).status == row["status"] for row in rows.values())
    pids = [read_run(row["run_dir"]).record["process"]["pid"] for row in rows.values()]
    assert len(set(pids)) == 3 and os.getpid() not in pids  # each trial in a process of its own


def test_a_trial_that_does_not_stop_in_time_is_killed_and_its_folder_marked_stopped(runs_dir, monkeypatch):
    monkeypatch.setattr(sweep_backends, "GRACE_SECONDS", 0.0)  # no trial answers the stop in no time
    sweep = Sweep.plan(tiny(epochs=100_000), {"lr": [0.01, 0.02]}, runs_dir, workers=2)
    sweep.start()
    deadline = time.monotonic() + 60
    while len({e.trial for e in sweep.poll() if isinstance(e, TrialEpoch)}) < 1 and time.monotonic() < deadline:
        sweep.wait(0.05)
    sweep.cancel()
    assert multiprocessing.active_children() == []
    rows = [row for row in sweep.results() if row["run_dir"]]
    assert rows and all(row["status"] == "stopped" for row in rows)
    assert all(read_run(row["run_dir"]).record["status"] == "stopped" for row in rows)  # on disk too
    assert [name for name in os.listdir(runs_dir) if name.startswith(".")] == []  # nor a trial killed half-made


def test_sigterm_cancels_a_command_line_sweep_and_no_worker_outlives_it(runs_dir):
    args = [*TINY, "--epochs", "100000", "--lr", "0.01", "0.02", "--workers", "2", "--json"]
    process = subprocess.Popen([sys.executable, "-m", "lstm_studio", "sweep", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        folders = list(runs_dir.iterdir())
        if len(folders) == 2 and all(len(read_run(f).record.get("metrics", {})) for f in folders):
            break
        time.sleep(0.05)
    workers = children_of(process.pid)
    assert len(workers) == 2
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM and "SIGTERM received" in err and "Traceback" not in err
    assert [row["status"] for row in json.loads(out)] == ["stopped", "stopped"]
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


@pytest.mark.parametrize("when", ["while they train", "while they start"])
def test_trials_of_a_sweep_killed_outright_stop_and_exit(runs_dir, when):
    args = [*TINY, "--epochs", "100000", "--lr", "0.01", "0.02", "--workers", "2"]
    process = subprocess.Popen([sys.executable, "-m", "lstm_studio", "sweep", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip

    def started() -> bool:
        if when == "while they start":  # both processes exist, still importing NumPy
            return len(children_of(process.pid)) == 2
        return len([f for f in runs_dir.iterdir() if (f / "history.csv").exists()]) == 2

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not started():
        time.sleep(0.02)
    trials = children_of(process.pid)
    assert len(trials) == 2
    process.kill()  # SIGKILL: the sweep cannot stop its trials
    process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in trials):
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in trials)  # none trains on for nobody
    assert {info.status for info in list_runs(runs_dir)} <= {"stopped"}  # hidden reservations aside


def test_a_trial_whose_process_cannot_start_is_lost_alone_and_the_sweep_ends(runs_dir, monkeypatch):
    real_start = sweep_backends.LocalPool._start

    def no_more_processes(pool, index, trial):
        if index == 1:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")  # a container's process limit
        return real_start(pool, index, trial)

    monkeypatch.setattr(sweep_backends.LocalPool, "_start", no_more_processes)
    sweep = Sweep.plan(tiny(epochs=1), {"lr": [0.01, 0.02, 0.03]}, runs_dir, workers=2)
    sweep.start()
    assert sweep.wait(60)  # the sweep ends: no trial waits for ever
    sweep.close()
    rows = {row["settings"]["lr"]: row for row in sweep.results()}
    assert rows[0.01]["status"] == rows[0.03]["status"] == "completed"
    assert rows[0.02]["status"] == "stopped" and rows[0.02]["message"] == (
        "its process was lost before it started (it could not start: [Errno 11] Resource temporarily unavailable)"
    )  # fmt: skip


def test_a_broken_scheduler_ends_every_trial_instead_of_waiting_for_ever(runs_dir, monkeypatch):
    monkeypatch.setattr(sweep_backends.LocalPool, "_ended", lambda pool, conn: 1 / 0)
    sweep = Sweep.plan(tiny(epochs=1), {"lr": [0.01, 0.02, 0.03]}, runs_dir, workers=2)
    sweep.start()
    assert sweep.wait(60)
    sweep.close()
    assert multiprocessing.active_children() == []
    rows = sweep.results()  # a trial that finished reads as its folder says; the others say what went wrong
    lost = [row for row in rows if row["status"] != "completed"]
    assert lost and all("internal error: ZeroDivisionError" in row["message"] for row in lost)


def test_a_sweep_that_cannot_start_releases_its_folder_names(runs_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # Ray missing
    with pytest.raises(sweep_backends.SweepError):
        Sweep.plan(tiny(), {"lr": [0.01, 0.02]}, runs_dir, ray_address="")
    assert os.listdir(runs_dir) == []


SCRIPT = """
import pathlib, sys
if __name__ != "__main__":  # run again in a worker
    pathlib.Path(sys.argv[0]).with_name("ran").write_text(__name__)
from lstm_studio.training import Experiment
from lstm_studio.training.sweep import Sweep
if __name__ == "__main__":
    base = Experiment.for_task("sine").with_changes(epochs=1, n_samples=60, hidden_sizes=(4,))
    sweep = Sweep.plan(base, {"lr": [0.01, 0.02]}, pathlib.Path(sys.argv[1]), workers=2)
    sweep.start()
    sweep.wait()
    sweep.close()
    print(" ".join(row["status"] for row in sweep.results()))
"""


def test_workers_do_not_run_the_main_script_again(tmp_path, runs_dir):
    (tmp_path / "window.py").write_text(SCRIPT)  # as the window's main.py, which imports Qt
    result = subprocess.run([sys.executable, str(tmp_path / "window.py"), str(runs_dir)], capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.stdout.split() == ["completed", "completed"], result.stderr
    assert not (tmp_path / "ran").exists()


def test_ray_missing_is_one_clear_message(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where it is not installed
    assert main(["sweep", *TINY, "--epochs", "1", "--lr", "0.01", "0.02", "--ray"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'lstm-studio[cluster]'" in err


def test_usage_errors_of_a_sweep(capsys):
    assert main(["sweep", *TINY, "--batch-size", "16", "100000"]) == 2
    assert "batch_size 100000" in capsys.readouterr().err
    assert main(["sweep", *TINY, "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert main(["sweep", *TINY, "--workers", "2", "--ray"]) == 2
    assert "--workers applies to sweeps on this machine" in capsys.readouterr().err


def test_a_sweep_through_a_local_ray_instance(capsys, runs_dir):
    pytest.importorskip("ray")
    assert main(["sweep", *TINY, "--epochs", "2", "--lr", "0.01", "0.02", "--ray", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["status"] for row in rows] == ["completed", "completed"]
    assert all(read_run(row["run_dir"]).history().column("epoch").tolist() == [1, 2] for row in rows)
