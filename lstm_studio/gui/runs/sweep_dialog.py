"""The Sweep… dialog: several values for the learning rate, layers, batch size and sequence length."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from lstm_studio.cli.parser import layer_sizes
from lstm_studio.training import Experiment

# grid key: (label, how a value is read, how the base experiment's value is written)
FIELDS = {
    "lr": ("Learning rates", float, lambda e: f"{e.train.lr:g}"),
    "hidden_sizes": ("Layer sizes", layer_sizes, lambda e: ",".join(map(str, e.hidden_sizes))),
    "batch_size": ("Batch sizes", int, lambda e: str(e.train.batch_size)),
    "seq_len": ("Sequence lengths", int, lambda e: str(e.settings.seq_len)),
}


def parse_grid(texts: dict[str, str]) -> dict[str, list]:
    """{'lr': '0.001 0.01', …} → {'lr': [0.001, 0.01], …}; ValueError naming the field and word."""
    grid = {}
    for key, text in texts.items():
        label, read, _ = FIELDS[key]
        try:
            grid[key] = [read(word) for word in text.split()]
        except Exception:  # argparse's and float's errors alike: one message for the field
            raise ValueError(f"{label.lower()}: {text!r} is not a list of values separated by spaces") from None
        if not grid[key]:
            raise ValueError(f"{label.lower()}: give at least one value")
    return grid


class SweepDialog(QDialog):
    """Every combination of the values given is trained, ``workers`` at a time."""

    def __init__(self, base: Experiment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sweep")
        self.edits = {key: QLineEdit(write(base), objectName=f"sweep_{key}") for key, (_, _, write) in FIELDS.items()}
        self.workers = QSpinBox(objectName="sweepWorkers", minimum=1, maximum=64, value=os.cpu_count() or 1)
        self.workers.setToolTip("trials trained at once, each in its own process (the machine's cores by default)")
        self.error = QLabel(objectName="sweepError", wordWrap=True)
        self.error.setStyleSheet("color: #c0392b;")
        form = QFormLayout(self)
        form.addRow(
            QLabel("Values separated by spaces; every combination is a run. The other settings are the form's.")
        )
        for key, edit in self.edits.items():
            form.addRow(FIELDS[key][0], edit)
        form.addRow("Workers", self.workers)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def grid(self) -> dict[str, list]:
        """The values given (ValueError when one is not a value)."""
        return parse_grid({key: edit.text() for key, edit in self.edits.items()})

    def _check_and_accept(self) -> None:
        try:
            self.grid()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.accept()
