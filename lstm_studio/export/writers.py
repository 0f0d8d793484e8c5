"""Writing the export formats: the functions the command line and the window's Export call.

Each checks its target with ``lstm_studio.weights.check_target`` (a new name or a regular file,
never a folder, a device, a FIFO, nor a file it reads), writes a temporary file beside it and
renames it into place, so a failure leaves nothing half-written. Every refusal is one
ExportError line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path

from lstm_studio.training.predictor import Predictor
from lstm_studio.training.saved import SavedModel, open_saved
from lstm_studio.weights import PathLike, WeightsError, check_target, write_atomically

ONNX_EXTRA = 'pip install "lstm-studio[onnx]"'
NUMPY_TEMPLATE = "predict_template.py"  # in this package; copied as it is


class ExportError(ValueError):
    """An export that cannot be made: the message says why, in one line."""


def onnx_available() -> str | None:
    """None when ONNX export works here, else why not and what to install (for the window's Export)."""
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        missing = exc.name or "onnx"
        return f"ONNX export needs the onnx package ({missing} is not installed): {ONNX_EXTRA}"
    return None


def export_onnx(source: SavedModel | Predictor | PathLike, out: PathLike, inputs: Iterable[PathLike] = ()) -> Path:
    """Write the ONNX model of ``source`` (a weights file's path, an opened file, or the window's
    current predictor) to ``out``; return the path written. ``inputs`` are further files never to
    write over (a weights file given as ``source`` is always one)."""
    predictor, inputs = _predictor(source, inputs)
    problem = onnx_available()
    if problem:
        raise ExportError(problem)
    target = _target(out, inputs)
    from lstm_studio.export.onnx_graph import build_onnx  # imports onnx: only when it is there

    data = build_onnx(predictor).SerializeToString()
    _write(target, data, inputs)
    return target


def export_numpy_script(out: PathLike, inputs: Iterable[PathLike] = ()) -> Path:
    """Write the NumPy-only prediction script (``python predict.py weights.npz V1 V2 ...``) to ``out``;
    return the path written. It serves any weights file, so it needs none; ``inputs`` (the weights
    file it is exported beside, say) are never written over."""
    template = files(__package__) / NUMPY_TEMPLATE
    inputs = [*inputs, str(template)]
    target = _target(out, inputs)
    _write(target, template.read_bytes(), inputs)
    return target


def _predictor(source: SavedModel | Predictor | PathLike, inputs: Iterable[PathLike]) -> tuple[Predictor, list]:
    """The predictor to export and the files not to write over."""
    inputs = list(inputs)
    if isinstance(source, Predictor):
        return source, inputs
    if not isinstance(source, SavedModel):
        try:
            source = open_saved(source)
        except WeightsError as exc:
            raise ExportError(str(exc)) from None
    return source.predictor, [*inputs, source.path]


def _target(out: PathLike, inputs: list[PathLike]) -> Path:
    for source in inputs:
        if _same_file(out, source):
            raise ExportError(f"refusing to write over {os.fsdecode(out)}: the export reads that file")
    try:
        return check_target(out, inputs)
    except WeightsError as exc:
        raise ExportError(str(exc)) from None


def _same_file(a: PathLike, b: PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _write(target: Path, data: bytes, inputs: list[PathLike]) -> None:
    try:
        write_atomically(target, lambda f: f.write(data), inputs)
    except WeightsError as exc:
        raise ExportError(str(exc)) from None
