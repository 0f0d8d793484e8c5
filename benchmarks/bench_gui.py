"""Does the window keep up? GUI-thread stalls while training, and window vs headless run time.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py [--task next-number] [--repeats 8] [--view Inside]
                                                             [--in-thread]

Prints, per repeat and as medians: the headless run (the trainer in this process, as the
command line runs it), the same run started from the window's Train button, their ratio
(target ≤ 1.2), and the longest gap between ticks of a 5 ms timer in the GUI thread
while training (target ≤ 50 ms, goal 30 ms). The window trains in a process of its own;
``--in-thread`` measures what it does where there is no fork server (a worker thread).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gui_timing import TICK_MS, scratch_window, timed  # benchmarks/, beside this script
from PySide6.QtWidgets import QApplication

from lstm_studio.training import Experiment, run_process, train


def headless_seconds(task: str) -> float:
    """The run as the command line does it: make the data and the model, then train."""
    started = time.perf_counter()
    experiment = Experiment.for_task(task)
    data, model = experiment.make_dataset(), experiment.make_model()
    for _ in train(model, data, experiment.train):
        pass
    return time.perf_counter() - started


def window_run(app: QApplication, task: str, view: str) -> tuple[float, float, float]:
    """(seconds, longest GUI-thread gap in ms, when it began in seconds after the click) of one run from the
    Train button, ``view`` on screen."""
    window = scratch_window(app, task)
    window.views.setCurrentIndex(next(i for i in range(window.views.count()) if window.views.tabText(i) == view))
    app.processEvents()
    result = timed(window.train_button.click, window.trainingFinished)
    window.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="next-number")
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--view", default="Training", help="the tab on screen while training: Training or Inside")
    parser.add_argument("--in-thread", action="store_true", help="train in the window's worker thread")
    args = parser.parse_args()
    if args.in_thread:
        run_process.AVAILABLE = False
    app = QApplication(sys.argv[:1])
    ratios, stalls = [], []
    where = "a process of its own" if run_process.AVAILABLE else "the worker thread"
    print(f"task {args.task}, {args.view} view, the window trains in {where}: {args.repeats} pairs, alternating")
    print(f"{'pair':>4} {'headless s':>11} {'window s':>9} {'ratio':>6} {'max GUI gap ms':>15} {'at s':>5}")
    for i in range(args.repeats):
        if i % 2 == 0:  # the machine's speed drifts: alternate the order so drift cancels out
            h = headless_seconds(args.task)
            w, stall, at = window_run(app, args.task, args.view)
        else:
            w, stall, at = window_run(app, args.task, args.view)
            h = headless_seconds(args.task)
        ratios.append(w / h)
        stalls.append(stall)
        print(f"{i + 1:>4} {h:>11.2f} {w:>9.2f} {w / h:>6.2f} {stall:>15.1f} {at:>5.2f}")
    print(f"median window/headless {statistics.median(ratios):.2f} (target ≤ 1.20)")
    print(f"worst GUI-thread gap {max(stalls):.1f} ms (target ≤ 50, goal 30; the timer ticks every {TICK_MS} ms)")


if __name__ == "__main__":
    main()
