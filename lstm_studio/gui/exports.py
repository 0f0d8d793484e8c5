"""Export's other formats for the model the window holds: ONNX and the NumPy-only script."""

from __future__ import annotations

from pathlib import Path

from lstm_studio.export import ExportError, export_numpy_script, export_onnx
from lstm_studio.gui.file_dialogs import ONNX, SCRIPT, WEIGHTS
from lstm_studio.training.session import Session

EXPORTED = {WEIGHTS: "weights", ONNX: "ONNX model", SCRIPT: "NumPy prediction script (run it with a weights file)"}


def export_other(session: Session, path: str | Path, fmt: str) -> Path:
    """Write the session's model as ONNX, or the NumPy script that runs any weights file."""
    if fmt == SCRIPT:  # serves any weights file: there need not be a model
        if session.running:
            raise ExportError("wait until the run ends (or stop it) before exporting")
        return export_numpy_script(path, inputs=session.input_files())
    problem = session.export_problem()
    if problem:
        raise ExportError(problem)
    return export_onnx(session.predictor(), path, inputs=session.input_files())
