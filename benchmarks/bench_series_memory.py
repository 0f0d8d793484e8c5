"""How much memory does a long series take? A million hourly values read in windows of 48.

    python benchmarks/bench_series_memory.py [--rows 1000000] [--seq-len 48] [--epochs 1] [--src DIR] [--data-only]

The script writes a CSV of ``--rows`` hourly values (a daily and a weekly cycle plus noise, one
``hour,value`` row each: about 14 MB for a million) to a temporary folder, then measures, each in a
process of its own so that one measurement's peak never hides in another's:

- **the train command**: ``lstm-studio train --task csv --csv F --column value --seq-len 48 --epochs 1``,
  as a person runs it: the whole process's peak resident memory (``ru_maxrss`` of that child, the figure
  ``/usr/bin/time -v`` prints as "Maximum resident set size"), the seconds of its epochs (training and
  validation, from the run folder's ``history.csv``) and of the whole command;
- **the data**: the series task's dataset built from the file and one validation pass of a fresh model,
  under ``tracemalloc``: the memory the dataset holds, the peak while it is made (reading the CSV included),
  the peak of the validation pass, and their seconds;
- **steps, interleaved** (code that has ``training/windows.py``): in one process, 1,000 training steps and
  one validation pass on the dataset as it is (windows read through views, encoded per batch) and on the
  same dataset with every window copied and encoded up front (as before), alternating ``--rounds`` times so
  that a busy spell of the machine hits both; the minimum and the median of each. Epochs of the train
  command differ by tens of seconds from one run to the next on a shared machine; these do not.

``--threads N`` gives every child N BLAS threads (``OPENBLAS_NUM_THREADS`` and friends); without it they
inherit the environment.

``--src DIR`` runs the code of another checkout (put first on ``PYTHONPATH``), e.g. an older commit
extracted with ``git archive <commit> | tar -x -C DIR``, to compare before and after on one machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

DATA_SCRIPT = """
import json, sys, time, tracemalloc
import lstm_studio
from lstm_studio.training import Experiment, evaluate
csv_path, seq_len = sys.argv[1], int(sys.argv[2])
experiment = Experiment.for_task("csv").with_changes(csv_path=csv_path, column="value", seq_len=seq_len)
tracemalloc.start()
started = time.perf_counter()
data = experiment.make_dataset()
build_seconds = time.perf_counter() - started
held, build_peak = tracemalloc.get_traced_memory()
model = experiment.make_model()
tracemalloc.reset_peak()
started = time.perf_counter()
evaluation = evaluate(model, data)
eval_seconds = time.perf_counter() - started
eval_peak = tracemalloc.get_traced_memory()[1]
windows = len(data.x_train) + len(data.x_val)
print(json.dumps({"held": held, "build_peak": build_peak, "build_seconds": build_seconds,
                  "eval_peak": eval_peak, "eval_seconds": eval_seconds, "windows": windows,
                  "code": lstm_studio.__file__}))
"""

STEPS_SCRIPT = """
import json, statistics, sys, time
from dataclasses import replace
import numpy as np
from lstm_studio.training import BatchEnd, Experiment, evaluate, train
csv_path, seq_len, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
experiment = Experiment.for_task("csv").with_changes(csv_path=csv_path, column="value", seq_len=seq_len)
views = experiment.make_dataset()
copied = replace(views, **{name: np.asarray(getattr(views, name)) for name in ("x_train", "y_train", "x_val", "y_val")})

def steps(data, k=1000):
    events = train(experiment.make_model(), data, experiment.train)
    for event in events:  # from the end of the first step: the setup (the old dtype copy) is once per run
        if isinstance(event, BatchEnd) and event.batch == 1:
            started = time.perf_counter()
        if isinstance(event, BatchEnd) and event.batch == k + 1:
            events.close()
    return time.perf_counter() - started

def validation(data):
    model = experiment.make_model()
    started = time.perf_counter()
    evaluate(model, data)
    return time.perf_counter() - started

times = {"views": ([], []), "copied": ([], [])}
for r in range(rounds):
    for name in ("views", "copied") if r % 2 == 0 else ("copied", "views"):
        data = views if name == "views" else copied
        times[name][0].append(steps(data))
        times[name][1].append(validation(data))
print(json.dumps({name: [[min(t), statistics.median(t)] for t in pair] for name, pair in times.items()}))
"""


def write_series(path: Path, rows: int) -> None:
    """An hourly series: a daily and a weekly cycle plus noise, three decimals."""
    rng = np.random.default_rng(0)
    hours = np.arange(rows)
    values = 10 + 5 * np.sin(2 * np.pi * hours / 24) + 2 * np.sin(2 * np.pi * hours / 168) + rng.normal(0, 0.5, rows)
    with path.open("w", encoding="utf-8") as out:
        out.write("hour,value\n")
        for start in range(0, rows, 100_000):
            block = slice(start, start + 100_000)
            out.write("".join(f"{h},{v:.3f}\n" for h, v in zip(hours[block], values[block], strict=True)))


def run_child(command: list[str], env: dict[str, str], log: Path) -> tuple[int, float, str]:
    """(peak resident bytes, seconds, stdout) of ``command`` run as a child process of its own."""
    with log.open("w") as err, tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        # from the log's folder: a child's sys.path starts with its working folder, before PYTHONPATH
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=log.parent)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read()
    if child.returncode:
        sys.exit(f"{' '.join(command[:4])} … failed ({child.returncode}); see {log}:\n{log.read_text()[-2000:]}")
    return usage.ru_maxrss * 1024, seconds, stdout  # ru_maxrss is in KiB on Linux


def epoch_seconds(runs_dir: Path) -> list[float]:
    """Seconds of each epoch (training and validation) from the run folder's history."""
    (history,) = runs_dir.rglob("history.csv")
    elapsed = [float(row["seconds"]) for row in csv.DictReader(history.open(encoding="utf-8"))]
    return list(np.diff([0.0, *elapsed]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="values in the series")
    parser.add_argument("--seq-len", type=int, default=48, help="values per window")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the train command")
    parser.add_argument("--src", type=Path, default=ROOT, help="checkout whose code is measured")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the step timing")
    parser.add_argument("--threads", type=int, help="BLAS threads of every child (default: as the environment says)")
    parser.add_argument("--data-only", action="store_true", help="skip the train command (minutes for 1M rows)")
    args = parser.parse_args()
    src = args.src.resolve()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    if args.threads:
        env |= {name: str(args.threads) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    mb = 2**20
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        series = folder / "series.csv"
        write_series(series, args.rows)
        print(f"{args.rows:,} hourly values ({series.stat().st_size / mb:.1f} MB of CSV), windows of {args.seq_len}; "
              f"code from {src}")  # fmt: skip
        _, _, stdout = run_child([sys.executable, "-c", DATA_SCRIPT, str(series), str(args.seq_len)], env,
                                 folder / "data.log")  # fmt: skip
        data = json.loads(stdout)
        assert Path(data["code"]).is_relative_to(src), f"measured {data['code']}, not the code of {src}"
        print(f"dataset ({data['windows']:,} windows): holds {data['held'] / mb:.0f} MB, "
              f"peak {data['build_peak'] / mb:.0f} MB while made (CSV read included), "
              f"{data['build_seconds']:.1f} s (tracemalloc)")  # fmt: skip
        print(f"validation pass: peak {data['eval_peak'] / mb:.0f} MB, {data['eval_seconds']:.1f} s (tracemalloc)")
        if (src / "lstm_studio" / "training" / "windows.py").exists():
            _, _, stdout = run_child([sys.executable, "-c", STEPS_SCRIPT, str(series), str(args.seq_len),
                                      str(args.rounds)], env, folder / "steps.log")  # fmt: skip
            for name, ((steps_min, steps_median), (val_min, val_median)) in json.loads(stdout).items():
                print(f"{name:>6}: 1,000 training steps {steps_min:.2f} s (median {steps_median:.2f}), "
                      f"validation pass {val_min:.2f} s (median {val_median:.2f}); "
                      f"interleaved, min of {args.rounds}")  # fmt: skip
        if args.data_only:
            return
        runs = folder / "runs"
        command = [sys.executable, "-m", "lstm_studio", "train", "--task", "csv", "--csv", str(series), "--column",
                   "value", "--seq-len", str(args.seq_len), "--epochs", str(args.epochs), "--out",
                   str(folder / "w.npz"), "--runs-dir", str(runs), "--json"]  # fmt: skip
        peak, seconds, stdout = run_child(command, env, folder / "train.log")
        metrics = json.loads(stdout)["metrics"]
        epochs = ", ".join(f"{s:.1f}" for s in epoch_seconds(runs))
        print(f"train command: peak RSS {peak / mb:.0f} MB, epoch seconds {epochs} (training + validation), "
              f"whole command {seconds:.1f} s; train loss {metrics['train_loss']:.6g}, "
              f"val loss {metrics['val_loss']:.6g}")  # fmt: skip


if __name__ == "__main__":
    main()
