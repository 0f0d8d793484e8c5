"""The desktop window: PySide6 forms, pyqtgraph plots, training in a worker thread."""

from lstm_studio.gui.main_window import MainWindow

__all__ = ["MainWindow"]
