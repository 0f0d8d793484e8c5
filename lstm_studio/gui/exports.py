"""Export's other formats for the model the window holds: ONNX and the NumPy-only script."""

from __future__ import annotations

from pathlib import Path

from lstm_studio.export import ExportError, export_numpy_script, export_onnx
from lstm_studio.gui.file_dialogs import ONNX, SCRIPT, WEIGHTS
from lstm_studio.training.session import Session

EXPORTED = {WEIGHTS: "weights", ONNX: "ONNX model", SCRIPT: "NumPy prediction script (run it with a weights file)"}


def export_other(session: Session, path: str | Path, fmt: str) -> Path:
    """Write the session's model as ONNX, or the NumPy script that runs any weights file."""
    if session.running:
        raise ExportError("wait until the run ends (or stop it) before exporting")
    inputs = [session.data.series.path] if session.data is not None and session.data.series is not None else []
    if fmt == SCRIPT:
        return export_numpy_script(path, inputs=inputs)
    predictor = session.predictor()
    if predictor is None:
        raise ExportError("nothing to export yet: train or load a model first")
    return export_onnx(predictor, path, inputs=inputs)
