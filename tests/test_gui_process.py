"""Whole-process behaviour of the window: closing mid-run, cross-thread signals, start-up checks."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lstm_studio.gui.app import XCB_LIBRARIES, display_problem

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONFAULTHANDLER": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout,
        env=full_env, cwd=ROOT,
    )  # fmt: skip


def test_closing_the_window_mid_training_stops_and_joins_the_thread(tmp_path):
    result = run_python(f"""
        import sys
        from PySide6.QtCore import QSettings, QTimer
        from PySide6.QtWidgets import QApplication
        from lstm_studio.gui import MainWindow
        app = QApplication([])
        window = MainWindow(QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat))
        window.form.epochs_spin.setValue(10000)
        window.show()
        finished = []
        window.trainingFinished.connect(lambda: finished.append(1))
        QTimer.singleShot(0, window.train_button.click)
        QTimer.singleShot(1500, window.close)
        code = app.exec()
        assert not window.runner.running, "thread still running after close"
        assert finished == [1], finished
        print("closed cleanly after", window.session.epochs_done, "epochs")
        sys.exit(code)
    """)
    assert result.returncode == 0, result.stderr
    assert "Destroyed while thread" not in result.stderr
    assert "closed cleanly" in result.stdout


def test_many_cross_thread_signals_with_arguments_do_not_kill_the_interpreter():
    """PySide6 6.12.0 on CPython 3.11 aborts here (Fatal Python error: bool_dealloc); the pin keeps it away."""
    result = run_python("""
        import threading
        from PySide6.QtCore import QObject, QThread, Signal, Slot, QCoreApplication
        app = QCoreApplication([])

        class Emitter(QObject):
            progressed = Signal(object, float, bool, str)
            finished = Signal()

            @Slot()
            def run(self):
                for i in range(20000):
                    self.progressed.emit({"i": i, "values": [i, None, True]}, float(i), i % 2 == 0, str(i))
                self.finished.emit()

        received = []
        thread, emitter = QThread(), Emitter()
        emitter.moveToThread(thread)
        thread.started.connect(emitter.run)
        emitter.progressed.connect(lambda payload, x, flag, text: received.append(x))
        emitter.finished.connect(thread.quit)
        thread.finished.connect(app.quit)
        thread.start()
        app.exec()
        thread.wait()
        assert len(received) == 20000, len(received)
        print("ok", len(received))
    """)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "ok 20000" in result.stdout


def test_no_display_is_one_clear_line():
    message = display_problem({"PATH": "/usr/bin"}, platform="linux")
    assert "no display" in message and "xvfb-run" in message
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None
    assert display_problem({}, platform="darwin") is None


def test_missing_x11_libraries_are_named_with_the_install_command(monkeypatch):
    import ctypes.util

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None if name == "xcb-cursor" else f"lib{name}.so")
    message = display_problem({"DISPLAY": ":0"}, platform="linux")
    assert message == "Qt needs X11 libraries this machine lacks: sudo apt-get install libxcb-cursor0"
    assert set(XCB_LIBRARIES.values()) >= {"libxcb-cursor0", "libxkbcommon-x11-0"}


def test_main_py_without_a_display_exits_1_with_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "main.py"], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    if sys.platform != "linux":
        pytest.skip("the display check is for Linux")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "no display" in result.stderr


def test_a_bug_in_a_slot_is_one_line_in_the_window_not_a_traceback(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from lstm_studio.gui.app import _report_in
    from lstm_studio.gui.main_window import MainWindow

    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    try:
        raise KeyError("boom")
    except KeyError as exc:
        _report_in(window)(type(exc), exc, exc.__traceback__)
    assert window.message_label.text() == "internal error: 'boom'; the window stays usable"
