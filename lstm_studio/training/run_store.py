"""The runs directory: where it is, whether it can be written, and what a user does to the runs in
it besides reading them (rename, delete, export the histories of several as one CSV).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from lstm_studio.training.process_identity import process_gone
from lstm_studio.training.run_format import (
    HISTORY_FILE,
    MAX_NAME,
    RUN_FILE,
    RUNNING,
    WEIGHTS_FILE,
    RunFileError,
    RunStoreError,
    csv_text,
    read_record,
    record_lock,
    write_atomically,
    write_record,
)
from lstm_studio.training.run_reader import RunInfo, read_run

RUNS_ENV = "LSTM_STUDIO_RUNS"
RUN_FOLDER_FILES = frozenset({RUN_FILE, HISTORY_FILE, WEIGHTS_FILE})


def default_runs_dir() -> Path:
    """The user's data folder for the app, platform convention (e.g. ~/.local/share/lstm-studio/runs)."""
    import platformdirs  # only when no directory was given: tests and scripts never need it

    return platformdirs.user_data_path("lstm-studio") / "runs"


def resolve_runs_dir(given: str | os.PathLike | None = None) -> Path:
    """``given`` (``--runs-dir``), else $LSTM_STUDIO_RUNS, else the user's data folder."""
    if given:
        return Path(given).expanduser()
    if os.environ.get(RUNS_ENV):
        return Path(os.environ[RUNS_ENV]).expanduser()
    return default_runs_dir()


def ensure_runs_dir(runs_dir: str | os.PathLike) -> Path:
    """Create ``runs_dir`` if needed and prove that a file can be written in it; RunStoreError
    with one clear reason (not a folder, permission, read-only, disk full) otherwise."""
    runs_dir = Path(runs_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=runs_dir)
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        raise RunStoreError(f"cannot use {runs_dir} as the runs directory: it is a file, not a folder") from None
    except OSError as exc:
        raise RunStoreError(f"cannot write runs to {runs_dir}: {exc.strerror or exc}") from exc
    return runs_dir


def rename_run(folder: str | os.PathLike, name: str) -> RunInfo:
    """Give the run in ``folder`` a new display name (its folder keeps its name); RunStoreError
    for an unreadable run or an unusable name."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise RunStoreError(f"a run's name must have 1 to {MAX_NAME} characters")
    folder = Path(folder)
    info = read_run(folder)
    if not info.readable:
        raise RunStoreError(f"cannot rename {folder.name}: {info.message}")
    with record_lock(folder):  # the run may be writing its record meanwhile
        try:
            record = read_record(folder)
        except RunFileError as exc:
            raise RunStoreError(f"cannot rename {folder.name}: {exc}") from None
        write_record(folder, {**record, "name": name})
    return read_run(folder)


def delete_run(folder: str | os.PathLike, runs_dir: str | os.PathLike) -> None:
    """Remove a run folder. Refused (RunStoreError) for anything but a folder directly inside
    ``runs_dir`` that holds nothing but run files, and for a run whose process still runs."""
    folder, runs_dir = Path(folder), Path(runs_dir)
    if folder.is_symlink() or not folder.is_dir():
        raise RunStoreError(f"refusing to delete {folder}: not a run folder")
    if folder.resolve().parent != runs_dir.resolve():
        raise RunStoreError(f"refusing to delete {folder}: it is not in the runs directory {runs_dir}")
    entries = [entry.name for entry in os.scandir(folder)]
    strangers = [n for n in entries if n not in RUN_FOLDER_FILES and not (n.startswith(".") and n.endswith(".tmp"))]
    if strangers or not entries:
        what = f"it holds {strangers[0]!r}, which no run writes" if strangers else "it is empty"
        raise RunStoreError(f"refusing to delete {folder}: {what}")
    try:
        record = read_record(folder)
    except RunFileError:
        record = {}
    if record.get("status") == RUNNING and not process_gone(record.get("process")):
        raise RunStoreError(f"{folder.name} is still running: stop it before deleting it")
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise RunStoreError(f"cannot delete {folder}: {exc.strerror or exc}") from exc


def export_histories(folders: Sequence[str | os.PathLike], target: str | os.PathLike) -> Path:
    """Write the histories of several runs as one CSV in long format: ``run`` (the folder's
    name), ``name``, then every column any of them has (empty where a run lacks it). RunStoreError
    naming a run whose history cannot be read, or a target that cannot be written."""
    infos = [read_run(folder) for folder in folders]
    columns: list[str] = []
    rows: list[list[object]] = []
    for info in infos:
        try:
            history = info.history()
        except ValueError as exc:
            raise RunStoreError(f"cannot export {info.folder.name}: {exc}") from None
        columns += [c for c in history.columns if c not in columns]
        rows += [[info.folder.name, info.title, row] for row in history.rows()]
    table = [[run, name, *(row.get(c) for c in columns)] for run, name, row in rows]
    target = Path(target)
    write_atomically(target, csv_text(["run", "name", *columns], table))
    return target
