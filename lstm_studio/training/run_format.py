"""The run folder on disk (Contract 6): its file names, its status words, the history's columns,
and the two operations every writer and reader of a run shares (an atomic write, a strict read).

A run folder holds ``run.json`` (what ran and how it ended), ``history.csv`` (one row per epoch)
and, once an epoch finished, ``weights.npz`` (the best epoch's weights, Contract 2). Each file is
replaced whole (temporary file, fsync, rename), so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from lstm_studio.training.trainer import COMPLETED, FAILED, STOPPED, EpochEnd

RUN_FILE, HISTORY_FILE, WEIGHTS_FILE = "run.json", "history.csv", "weights.npz"
RUN_FORMAT = {"name": "lstm-studio-run", "version": 1}
RUNNING = "running"
STATUSES = (RUNNING, COMPLETED, STOPPED, FAILED)  # what run.json may say
UNREADABLE = "unreadable"  # what a reader says of a folder it cannot read
MAX_RUN_JSON = 1 << 20  # bytes; a run record is a few kilobytes
MAX_HISTORY = 64 << 20  # bytes; a million epochs of a deep model's rows
FIRST_COLUMNS = ("epoch", "train_loss", "val_loss")
MAX_NAME = 200  # characters of a display name


class RunStoreError(Exception):
    """A run folder or runs directory that cannot be written or changed; the message says why."""


class RunFileError(ValueError):
    """A run file that cannot be read as one; the message is the reason a list shows."""


# ----- history.csv ---------------------------------------------------------------------------
def history_columns(lstm_layers: int, classification: bool) -> list[str]:
    """epoch, train_loss, val_loss, the task's metric, one gradient norm per layer, seconds."""
    metric = "val_accuracy" if classification else "val_rmse"
    grads = [f"grad_norm_lstm_l{k}" for k in range(lstm_layers)] + ["grad_norm_dense"]
    return [*FIRST_COLUMNS, metric, *grads, "seconds"]


def history_row(e: EpochEnd, classification: bool) -> list[float]:
    """The values of ``history_columns`` for one finished epoch."""
    metric = e.evaluation.accuracy if classification else e.evaluation.rmse
    return [e.epoch, e.train_loss, e.val_loss, metric, *e.layer_grad_norms, e.elapsed]


def csv_text(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A header and rows as CSV; floats keep every digit (``repr``), empty cells stay empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[_cell(value) for value in row] for row in rows])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    return repr(float(value)) if isinstance(value, float | np.floating) else str(value)


@dataclass(frozen=True)
class RunHistory:
    """The epochs of one run: ``values[i, j]`` is column ``columns[j]`` of the i-th epoch."""

    columns: tuple[str, ...]
    values: np.ndarray  # (epochs, columns), float64

    def __len__(self) -> int:
        return len(self.values)

    @property
    def metric(self) -> str:
        """The task's metric column: ``val_accuracy`` or ``val_rmse``."""
        return self.columns[len(FIRST_COLUMNS)]

    def column(self, name: str) -> np.ndarray:
        """One column over every epoch (KeyError for a column this run does not have)."""
        return self.values[:, self.columns.index(name)]

    def rows(self, start: int = 0) -> list[dict[str, float]]:
        """Epochs from index ``start`` on, each as {column: value} (the epoch an int)."""
        rows = [dict(zip(self.columns, map(float, row), strict=True)) for row in self.values[start:]]
        return [{**row, "epoch": int(row["epoch"])} for row in rows]


def parse_history(text: str) -> RunHistory:
    """A history.csv's text as numbers; RunFileError naming the first line that is not a row of it."""
    lines = list(csv.reader(io.StringIO(text)))
    if not lines or tuple(lines[0][: len(FIRST_COLUMNS)]) != FIRST_COLUMNS or len(lines[0]) < 6:
        raise RunFileError(f"{HISTORY_FILE} does not start with the columns {','.join(FIRST_COLUMNS)},<metric>,…")
    columns = tuple(lines[0])
    values = np.empty((len(lines) - 1, len(columns)))
    for i, cells in enumerate(lines[1:]):
        if len(cells) != len(columns):
            raise RunFileError(f"{HISTORY_FILE} line {i + 2} has {len(cells)} cells, the header {len(columns)}")
        try:
            values[i] = [float(cell) for cell in cells]
        except ValueError:
            raise RunFileError(f"{HISTORY_FILE} line {i + 2} holds something that is not a number") from None
    if len(values) and not np.array_equal(values[:, 0], np.arange(1, len(values) + 1)):
        raise RunFileError(f"{HISTORY_FILE}: the epochs are not 1, 2, 3, …")
    return RunHistory(columns, values)


def read_history(folder: Path) -> RunHistory:
    """The history of the run in ``folder``; RunFileError (a ValueError) with the reason otherwise."""
    return parse_history(read_text(folder / HISTORY_FILE, MAX_HISTORY))


# ----- files ---------------------------------------------------------------------------------
def read_text(path: Path, limit: int) -> str:
    """A small UTF-8 file's text; RunFileError when it is missing, not a file, too large or not text."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise RunFileError(f"{path.name} is missing") from None
    except IsADirectoryError:
        raise RunFileError(f"{path.name} is a folder, not a file") from None
    except OSError as exc:
        raise RunFileError(f"{path.name} cannot be read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise RunFileError(f"{path.name} is larger than {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RunFileError(f"{path.name} is not UTF-8 text") from None


def read_record(folder: Path) -> dict:
    """``run.json`` as a JSON object (strict: no NaN); RunFileError with the reason otherwise."""
    text = read_text(folder / RUN_FILE, MAX_RUN_JSON)
    try:
        record = json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise RunFileError(f"{RUN_FILE} is nested too deeply") from None
    except ValueError as exc:
        raise RunFileError(f"{RUN_FILE} is not valid JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(record, dict):
        raise RunFileError(f"{RUN_FILE} does not hold a JSON object")
    return record


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    """A JSON number, refused when it is too large for a float (1e999 would read as infinity)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is too large a number")
    return value


@contextmanager
def record_lock(folder: Path) -> Iterator[None]:
    """Hold the run folder's lock while run.json is read, changed and written back, so a rename in the
    window and the run writing its record in another thread or process never write over each other's
    news (a rename as the run ended had put back the record of its last epoch). Where there is no
    ``fcntl`` (Windows), or the folder cannot be opened, it holds nothing: the write then says what is wrong."""
    if fcntl is None:
        yield
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):  # a filesystem without locks: go on without one
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # which releases the lock


def write_record(folder: Path, record: dict, sync: bool = True) -> None:
    """Replace ``run.json`` atomically; RunStoreError when it cannot be written."""
    write_atomically(folder / RUN_FILE, json.dumps(record, indent=1, allow_nan=False) + "\n", sync)


def write_atomically(path: Path, text: str, sync: bool = True) -> None:
    """Replace ``path`` by ``text`` through a temporary file in the same folder, so a crash of the
    process leaves the old file or the new one, never a torn one. ``sync`` also forces it to the
    disk before the rename (against a power cut): for a run's last word, not for every epoch, where
    it cost a fast run a tenth of its time."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "x", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise RunStoreError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise
