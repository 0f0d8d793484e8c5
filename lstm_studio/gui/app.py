"""Starting the desktop app: check that Qt can open a window, then run the event loop."""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt is imported only after the display check
    from lstm_studio.gui.main_window import MainWindow

# Qt's xcb plugin links these; a bare Debian/Ubuntu machine lacks most of them, and Qt then aborts.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-xinerama": "libxcb-xinerama0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-xkb": "libxcb-xkb1",
    "xcb-shape": "libxcb-shape0",
}


def display_problem(environ: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """Why Qt could not open a window here, in one line, or None when it should work.

    Qt itself would abort the process with a long plugin error instead.
    """
    env = os.environ if environ is None else environ
    requested = env.get("QT_QPA_PLATFORM", "")
    if not platform.startswith("linux") or (requested and not requested.startswith("xcb")):
        return None  # another platform plugin (offscreen, wayland, …) or another OS
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return (
            "no display to open a window on (DISPLAY is not set): run it on a desktop, "
            "under xvfb-run, or with QT_QPA_PLATFORM=offscreen"
        )
    if env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
        if missing:
            return "Qt needs X11 libraries this machine lacks: sudo apt-get install " + " ".join(missing)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Open the main window and run until it is closed; return the exit code."""
    argv = list(sys.argv if argv is None else argv)
    problem = display_problem()
    if problem:
        print(f"lstm-studio: {problem}", file=sys.stderr)
        return 1
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from lstm_studio.gui.main_window import MainWindow
    from lstm_studio.resources import icon_path

    app = QApplication(argv)
    app.setWindowIcon(QIcon(str(icon_path())))
    app.setOrganizationName("LSTM Studio")
    app.setApplicationName("LSTM Studio")
    window = MainWindow()
    if not os.environ.get("LSTM_STUDIO_DEBUG"):
        sys.excepthook = _report_in(window)
    window.show()
    return app.exec()


def _report_in(window: MainWindow) -> Callable[..., None]:
    """An excepthook for slots: a bug shows one line in the window and on stderr, not a traceback."""

    def report(kind: type[BaseException], error: BaseException, _traceback: object) -> None:
        print(f"lstm-studio: internal error: {kind.__name__}: {error} (LSTM_STUDIO_DEBUG=1 shows details)",
              file=sys.stderr)  # fmt: skip
        window.show_message(f"internal error: {error}; the window stays usable", error=True)

    return report
