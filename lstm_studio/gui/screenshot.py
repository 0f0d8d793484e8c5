"""Render the README's screenshot: the window after a short default run, grabbed offscreen.

python -m lstm_studio.gui.screenshot [resources/screenshot.png] [--task next-number]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    """Train once in a fresh window, then save a picture of it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="resources/screenshot.png")
    parser.add_argument("--task", default="next-number")
    parser.add_argument("--try-it", default="0 1 2 3 4 5 6 7 8 9", help="text typed into the Try it box")
    parser.add_argument("--view", default="Training", help="the tab shown: Training or Inside")
    parser.add_argument("--epochs", type=int, help="epochs to train (the task's default if left out)")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from lstm_studio.gui import MainWindow

    app = QApplication(sys.argv[:1])
    from lstm_studio.gui.window_settings import RUNS_DIR_KEY

    folder = Path(tempfile.mkdtemp(prefix="lstm-studio-screenshot-"))  # its settings and its run, never the user's
    settings = QSettings(str(folder / "screenshot.ini"), QSettings.Format.IniFormat)
    settings.setValue(RUNS_DIR_KEY, str(folder / "runs"))
    window = MainWindow(settings)
    window.form.task_combo.setCurrentIndex(window.form.task_combo.findData(args.task))
    if args.epochs:
        window.form.epochs_spin.setValue(args.epochs)
    window.resize(1360, 860)
    window.show()
    window.views.setCurrentIndex(next(i for i in range(window.views.count()) if window.views.tabText(i) == args.view))
    loop = QEventLoop()
    window.trainingFinished.connect(loop.quit)
    window.train_button.click()
    loop.exec()
    window.try_it.input.setText(args.try_it)
    for _ in range(20):  # what the inside view measures in the background arrives within a few frames
        app.processEvents()
        loop_wait(app, 50)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(args.out):
        print(f"could not write {args.out}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    window.close()
    return 0


def loop_wait(app: object, ms: int) -> None:
    """Let Qt run for ``ms`` milliseconds (background jobs report through the event loop)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


if __name__ == "__main__":
    sys.exit(main())
