"""Reading an experiment back from a weights file's record (or the window's saved settings): every
field checked for its type and range before anything is built from it, and older files' fields read
the way they were meant."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from lstm_studio.training import limits
from lstm_studio.training.csv_series import MISSING_MODES
from lstm_studio.training.normalization import MAX_INPUTS
from lstm_studio.training.records import read_float, read_int, read_object, read_str
from lstm_studio.training.sources import recorded_path
from lstm_studio.training.tasks import TASKS, TaskSettings
from lstm_studio.training.trainer import TrainConfig
from lstm_studio.training.trend import recorded_mode


def experiment_fields(meta: dict, saved_in: Path | None) -> dict[str, object]:
    """The keyword arguments of ``Experiment`` that ``meta`` records (the model part supplies the layer
    sizes and dtype); ValueError naming the first field that is missing, of the wrong type or out of range."""
    task = read_str(meta, "task", "meta")
    if task not in TASKS:
        raise ValueError(f"unknown task {task[:40]!r}")
    model = read_object(meta, "model", "meta")
    hidden = model.get("hidden_sizes")
    if not isinstance(hidden, list) or not hidden:
        raise ValueError("meta.model.hidden_sizes must be a list of layer sizes")
    sizes = tuple(read_int({"size": h}, "size", "meta.model.hidden_sizes", 1) for h in hidden)
    dtype = read_str(model, "dtype", "meta.model")
    settings = _typed(TaskSettings, read_object(meta, "task_settings", "meta"), "meta.task_settings")
    if read_int(meta, "seq_len", "meta") != settings.seq_len:
        raise ValueError("meta.seq_len differs from meta.task_settings.seq_len")
    series = read_object(meta, "series", "meta") if "series" in meta else {}
    recorded_csv = read_str(series, "csv", "meta.series") if "csv" in series else ""
    csv_path = str(recorded_path(recorded_csv, saved_in)) if recorded_csv and saved_in is not None else recorded_csv
    return dict(
        task=task,
        settings=settings,
        hidden_sizes=sizes,
        dtype=dtype,
        val_split=read_float(meta, "val_split", "meta", 0.0, 1.0),
        train=_typed(TrainConfig, read_object(meta, "training", "meta"), "meta.training"),
        csv_path=csv_path,
        column=read_str(series, "column", "meta.series") if "column" in series else "",
        time_column=read_str(series, "time_column", "meta.series") if "time_column" in series else "",
        horizon=read_int(series, "horizon", "meta.series", 1, limits.MAX_HORIZON) if "horizon" in series else 1,
        difference=_difference_mode(series),
        inputs=_input_columns(series),
        missing=_missing_mode(series),
    )


def _difference_mode(series: dict) -> str:
    """The recorded differencing mode: ``difference_mode`` where a weights file records the decision
    beside it, else ``difference`` (a mode, or the boolean of older files); ``off`` when absent."""
    key = "difference_mode" if "difference_mode" in series else "difference"
    return recorded_mode(series.get(key, False), f"meta.series.{key}")


def _missing_mode(series: dict) -> str:
    """How gaps were handled ("error" in files from before gaps could be filled)."""
    mode = read_str(series, "missing", "meta.series") if "missing" in series else "error"
    if mode not in MISSING_MODES:
        raise ValueError(f"meta.series.missing must be one of {', '.join(MISSING_MODES)}, got {mode[:40]!r}")
    return mode


def _input_columns(series: dict) -> tuple[str, ...]:
    """The other columns a model reads (none in files from before covariates)."""
    names = series.get("inputs", [])
    if not isinstance(names, list) or len(names) > MAX_INPUTS or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"meta.series.inputs must be a list of at most {MAX_INPUTS} column names")
    return tuple(read_str({"name": n}, "name", "meta.series.inputs") for n in names)


def _typed(kind: type, record: dict, where: str) -> object:
    """``kind(**record)`` after checking that every recorded field has its declared type
    (a field an older file lacks takes its default)."""
    unknown = set(record) - {f.name for f in fields(kind)}
    if unknown:
        raise ValueError(f"unknown field {where}.{sorted(unknown)[0][:40]}")
    readers = {"int": read_int, "float": read_float}  # annotations are strings here
    return kind(**{f.name: readers[f.type](record, f.name, where) for f in fields(kind) if f.name in record})
