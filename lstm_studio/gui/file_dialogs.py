"""The file dialogs of Export and Load, and the one question Export may have to ask."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

WEIGHTS_SUFFIX = ".npz"


def ask_export_path(parent: QWidget) -> str | None:
    """Where to export the weights, with the .npz suffix; None when the person cancels."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export weights", "lstm-weights.npz", "Weights (*.npz)")
    if not path:
        return None
    if not path.endswith(WEIGHTS_SUFFIX):
        path += WEIGHTS_SUFFIX  # the dialog asked about overwriting the name as typed, not this one
        if Path(path).exists():
            answer = QMessageBox.question(parent, "Export weights", f"{Path(path).name} exists. Replace it?")
            if answer != QMessageBox.StandardButton.Yes:
                return None
    return path


def ask_weights_to_open(parent: QWidget) -> str | None:
    """A weights file to open; None when the person cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, "Load weights", "", "Weights (*.npz);;All files (*)")
    return path or None
