"""The weights file (Contract 2): an ``.npz`` of PyTorch-named arrays plus a JSON ``meta``.

Writes are atomic and refuse non-finite weights; loads never unpickle and check every
name, shape, dtype and value before a model is built from them.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from lstm_studio.core import LSTMModel

META_KEY = "meta"
FORMAT = {"name": "lstm-studio-weights", "version": 1}


class WeightsError(ValueError):
    """A weights file that cannot be written or read; the message names what is wrong."""


def save_weights(path: str | os.PathLike, model: LSTMModel, meta: dict | None = None) -> Path:
    """Write ``model`` and ``meta`` to ``path`` atomically; return the path written.

    The ``format`` and ``model`` entries of ``meta`` are always set from the model, so a
    file can never describe a different network than the one it holds.
    """
    path = Path(path)
    state = model.state_dict()
    bad = [name for name, array in state.items() if not np.all(np.isfinite(array))]
    if bad:
        raise WeightsError(f"refusing to save non-finite weights ({', '.join(bad)})")
    record = {**(meta or {}), "format": dict(FORMAT), "model": model.config()}
    try:
        text = json.dumps(record, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise WeightsError(f"meta cannot be stored as JSON: {exc}") from exc
    if not path.parent.is_dir():
        raise WeightsError(f"cannot write {path}: folder {path.parent} does not exist")
    # A temporary file in the same folder, then a rename: a crash never leaves half a file.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as an ordinary new file: mkstemp's are private (0600)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **state, **{META_KEY: np.array(text)})
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise WeightsError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_weights(path: str | os.PathLike) -> tuple[LSTMModel, dict]:
    """Read a weights file into a new model; WeightsError with one clear reason otherwise."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise WeightsError(f"{path}: not a weights file (truncated or not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        not_arrays = [name for name, value in arrays.items() if not isinstance(value, np.ndarray)]
        if not_arrays:
            raise WeightsError(f"{path}: {not_arrays[0]} is not an array (a foreign file in the archive)")
    except (zipfile.BadZipFile, EOFError) as exc:
        raise WeightsError(f"{path}: not a weights file (truncated or not an .npz archive)") from exc
    except ValueError as exc:
        if "pickle" in str(exc):
            raise WeightsError(f"{path}: holds object arrays, which are never loaded (allow_pickle=False)") from exc
        raise WeightsError(f"{path}: not a readable .npz archive ({exc})") from exc
    except OSError as exc:
        raise WeightsError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    meta = _read_meta(path, arrays.pop(META_KEY, None))
    model = _build_model(path, meta)
    _check_arrays(path, model, arrays)
    model.load_state_dict(arrays)
    return model, meta


def _read_meta(path: Path, raw: np.ndarray | None) -> dict:
    if raw is None:
        raise WeightsError(f"{path}: no '{META_KEY}' record; not an LSTM Studio weights file")
    if raw.shape != () or raw.dtype.kind != "U":
        raise WeightsError(f"{path}: '{META_KEY}' must be a 0-d unicode array holding JSON")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{path}: '{META_KEY}' is not valid JSON ({exc.msg})") from exc
    if not isinstance(meta, dict):
        raise WeightsError(f"{path}: '{META_KEY}' must be a JSON object")
    fmt = meta.get("format")
    if not isinstance(fmt, dict) or fmt.get("name") != FORMAT["name"]:
        raise WeightsError(f"{path}: not an LSTM Studio weights file (format {fmt!r})")
    if fmt.get("version") != FORMAT["version"]:
        raise WeightsError(
            f"{path}: format version {fmt.get('version')!r} is not supported (this build reads {FORMAT['version']})"
        )
    return meta


def _build_model(path: Path, meta: dict) -> LSTMModel:
    config = meta.get("model")
    try:
        return LSTMModel(
            input_size=int(config["input_size"]),
            hidden_sizes=[int(h) for h in config["hidden_sizes"]],
            output_size=int(config["output_size"]),
            loss=str(config["loss"]),
            dtype=str(config["dtype"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{path}: the model description in meta is invalid ({exc})") from exc


def _check_arrays(path: Path, model: LSTMModel, arrays: dict[str, np.ndarray]) -> None:
    expected = model.parameters()
    missing = [name for name in expected if name not in arrays]
    if missing:
        raise WeightsError(f"{path}: missing array {missing[0]}")
    unexpected = [name for name in arrays if name not in expected]
    if unexpected:
        raise WeightsError(f"{path}: unexpected array {unexpected[0]}")
    for name, want in expected.items():
        got = arrays[name]
        if got.shape != want.shape:
            raise WeightsError(f"{path}: {name} has shape {got.shape}, the model needs {want.shape}")
        if got.dtype != want.dtype:
            raise WeightsError(f"{path}: {name} is {got.dtype}, the model is {want.dtype}")
        if not np.all(np.isfinite(got)):
            raise WeightsError(f"{path}: {name} holds NaN or infinite values")
