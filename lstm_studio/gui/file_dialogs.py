"""The file dialogs of Export (three formats) and Load, and the one question Export may have to ask."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from lstm_studio.export import onnx_available

WEIGHTS, ONNX, SCRIPT = "weights", "onnx", "script"
FORMATS = {  # format: (dialog filter, suffix)
    WEIGHTS: ("Weights, for LSTM Studio, NumPy and PyTorch (*.npz)", ".npz"),
    ONNX: ("ONNX model, for onnxruntime and other runtimes (*.onnx)", ".onnx"),
    SCRIPT: ("NumPy-only prediction script (*.py)", ".py"),
}


def ask_export_path(parent: QWidget) -> tuple[str, str] | None:
    """Where to export and in which format (weights, ONNX or the NumPy script), with the format's
    suffix; None when the person cancels. ONNX's entry says what to install when the extra is missing."""
    filters = {fmt: text for fmt, (text, _) in FORMATS.items()}
    missing = onnx_available()
    if missing:
        filters[ONNX] = f"{filters[ONNX][: filters[ONNX].index(' (')]} — {missing} (*.onnx)"
    path, chosen = QFileDialog.getSaveFileName(
        parent, "Export", "lstm-weights.npz", ";;".join(filters.values()), filters[WEIGHTS]
    )
    if not path:
        return None
    fmt = next((f for f, text in filters.items() if text == chosen), _format_of(path))
    suffix = FORMATS[fmt][1]
    if not path.endswith(suffix):
        path += suffix  # the dialog asked about overwriting the name as typed, not this one
        if Path(path).exists():
            answer = QMessageBox.question(parent, "Export", f"{Path(path).name} exists. Replace it?")
            if answer != QMessageBox.StandardButton.Yes:
                return None
    return path, fmt


def _format_of(path: str) -> str:
    """The format a file name's suffix names (weights when it names none)."""
    return next((fmt for fmt, (_, suffix) in FORMATS.items() if path.endswith(suffix)), WEIGHTS)


def ask_weights_to_open(parent: QWidget) -> str | None:
    """A weights file to open; None when the person cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, "Load weights", "", "Weights (*.npz);;All files (*)")
    return path or None
