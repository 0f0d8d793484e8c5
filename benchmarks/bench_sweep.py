"""Does a sweep use the machine's cores? The same 4-trial sweep on 1 worker and on 2 workers.

    python benchmarks/bench_sweep.py [--repeats 3] [--epochs 40]

Each trial trains the sine task with its defaults (1,000 windows, 32 units) for ``--epochs``
epochs, about two seconds on one core; the four learning rates differ. The two worker counts are
measured interleaved (1, 2, 1, 2, …) so that a slow spell of the machine hits both, each from
``Sweep.start()`` to the last worker gone, process start-up included. Printed: every time, then the
speed-up (time on 1 worker / time on 2) of the fastest and of the median runs: on a shared machine
the fastest run is the one least disturbed by other work (as ``timeit`` advises). Issue 12 asks for
at least 1.6×.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from lstm_studio.training import Experiment
from lstm_studio.training.sweep import Sweep

LEARNING_RATES = [0.001, 0.003, 0.01, 0.03]


def timed_sweep(workers: int, epochs: int) -> float:
    """Seconds for the whole 4-trial sweep on ``workers`` processes (every trial must complete)."""
    with tempfile.TemporaryDirectory() as runs_dir:
        sweep = Sweep.plan(Experiment.for_task("sine").with_changes(epochs=epochs), {"lr": LEARNING_RATES},
                           Path(runs_dir), workers=workers)  # fmt: skip
        started = time.perf_counter()
        sweep.start()
        sweep.wait()
        sweep.close()
        seconds = time.perf_counter() - started
        statuses = [row["status"] for row in sweep.results()]
    assert statuses == ["completed"] * len(LEARNING_RATES), statuses
    return seconds


def main() -> None:
    """Measure interleaved and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="measurements per worker count")
    parser.add_argument("--epochs", type=int, default=40, help="epochs per trial")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; 4 trials of sine, {args.epochs} epochs each")
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for workers in times:
            times[workers].append(timed_sweep(workers, args.epochs))
            print(f"  {workers} worker{'s' if workers > 1 else ' '}  {times[workers][-1]:6.2f} s", flush=True)
    for name, pick in (("fastest", min), ("median", statistics.median)):
        one, two = pick(times[1]), pick(times[2])
        print(f"{name:>7}: 1 worker {one:.2f} s, 2 workers {two:.2f} s; speed-up {one / two:.2f}x (target >= 1.6x)")


if __name__ == "__main__":
    main()
