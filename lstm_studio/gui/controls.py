"""The row of run controls above the views: Train, Pause, Stop, Reset, Load, Export."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

TRAIN_TIP = "train the model (continues from the current weights)"


def _button(text: str, name: str, tip: str) -> QPushButton:
    button = QPushButton(text, objectName=name)
    button.setToolTip(tip)
    return button


class RunControls(QWidget):
    """The buttons (Contract 4's object names) and which of them may be pressed now."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.train_button = _button("Train", "trainButton", TRAIN_TIP)
        self.train_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.pause_button = _button("Pause", "pauseButton", "hold training between two batches")
        self.pause_button.setCheckable(True)
        self.stop_button = _button(
            "Stop", "stopButton", "end the run after the current batch, keeping the best weights"
        )
        self.reset_button = _button("Reset", "resetButton", "new random weights and empty plots")
        self.export_button = _button("Export weights…", "exportButton", "save the model as an .npz file")
        self.load_button = _button("Load weights…", "loadButton", "open an .npz file to try it or train it further")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for button in (self.train_button, self.pause_button, self.stop_button, self.reset_button):
            row.addWidget(button)
        row.addStretch()
        row.addWidget(self.load_button)
        row.addWidget(self.export_button)

    def set_state(self, running: bool, busy: bool, problem: str, exportable: bool) -> None:
        """Enable what fits: a run under way, a file being opened (busy), a form that cannot run
        (``problem``, shown as Train's tooltip), a model with its data (``exportable``)."""
        self.train_button.setEnabled(not busy and not problem)
        self.train_button.setToolTip(problem or TRAIN_TIP)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.reset_button.setEnabled(not busy)
        self.load_button.setEnabled(not busy)
        self.export_button.setEnabled(not busy and exportable)
