"""Does the window stay responsive while a sweep trains in worker processes?

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_sweep.py [--trials 4] [--workers 2] [--repeats 3]

Starts a sweep of the sine task from the Runs view (the learning rates 0.001, 0.002, …) and prints, per
repeat, the sweep's seconds and the longest gap between ticks of a 5 ms timer in the GUI thread while
it runs (target ≤ 50 ms). On a machine with as many cores as workers, the workers take every core,
so the figure includes the operating system's scheduling of the GUI process beside them.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from gui_timing import TICK_MS, scratch_window, timed  # benchmarks/, beside this script
from PySide6.QtWidgets import QApplication


def sweep_run(app: QApplication, trials: int, workers: int) -> tuple[float, float]:
    """(seconds, longest GUI-thread gap in ms) of one sweep started from the Runs view."""
    window = scratch_window(app, "sine")
    window.form.epochs_spin.setValue(60)
    window.views.setCurrentWidget(window.runs_view)
    app.processEvents()
    grid = {"lr": [0.001 * (k + 1) for k in range(trials)]}
    seconds, worst, at = timed(lambda: window.runs_view.start_sweep(grid, workers), window.runs_view.sweeper.finished)
    window.close()
    print(f"    the longest gap began {at:.2f} s after the start")
    return seconds, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    print(f"sine, {args.trials} trials on {args.workers} workers, from the Runs view")
    stalls = []
    for i in range(args.repeats):
        seconds, stall = sweep_run(app, args.trials, args.workers)
        stalls.append(stall)
        print(f"{i + 1:>2}  sweep {seconds:5.1f} s  longest GUI-thread gap {stall:6.1f} ms")
    print(f"worst GUI-thread gap {max(stalls):.1f} ms (target ≤ 50; the timer ticks every {TICK_MS} ms)")


if __name__ == "__main__":
    main()
