"""Opening a weights file as a whole: the model, its experiment, its predictor and its data.

The command line's ``predict`` and ``evaluate`` and the window's Load all open files this one
way, so a file is trusted, refused or located the same everywhere. Everything a file records
is checked before it is used, and evaluation uses the normalisation the file records: it
measures exactly the model that ``predict`` runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_studio.core import LSTMModel
from lstm_studio.training.csv_series import CsvError
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.experiment import Experiment
from lstm_studio.training.metrics import evaluate
from lstm_studio.training.predictor import Predictor
from lstm_studio.training.records import read_object, read_str
from lstm_studio.training.session import Outcome
from lstm_studio.training.sources import file_sha256
from lstm_studio.training.tasks import CSV_TASK
from lstm_studio.weights import WeightsError, load_weights

METRICS = ("train_loss", "val_loss", "val_accuracy", "val_rmse", "val_mae")


class MissingDataError(ValueError):
    """The CSV a weights file was trained on is not where the file says (or has changed)."""


@dataclass(frozen=True)
class SavedModel:
    """A weights file, opened and checked."""

    path: Path
    model: LSTMModel
    meta: dict
    experiment: Experiment
    predictor: Predictor

    @property
    def metrics(self) -> dict[str, float]:
        """The recorded metrics (checked to be numbers when the file was opened)."""
        return {k: v for k, v in self.meta.get("metrics", {}).items() if k in METRICS and v is not None}


def open_saved(path: str | Path) -> SavedModel:
    """Load and check a weights file; WeightsError with one line naming the file and the problem."""
    path = Path(path)
    model, meta = load_weights(path)
    try:
        experiment = Experiment.from_meta(meta, saved_in=path.parent)
        experiment.check_model(model)
        predictor = Predictor.from_meta(model, meta)
        _check_consistent(experiment, predictor, meta)
    except ValueError as exc:
        raise WeightsError(f"{path}: {exc}") from None
    return SavedModel(path, model, meta, experiment, predictor)


def _check_consistent(experiment: Experiment, predictor: Predictor, meta: dict) -> None:
    """The parts of a record must tell one story (a crafted file may mix them)."""
    task, normalizer = experiment.task_spec, predictor.normalizer
    if predictor.seq_len != experiment.settings.seq_len:
        raise ValueError("meta.seq_len differs from the recorded task settings")
    if (experiment.difference != "auto" and normalizer.difference != (experiment.difference == "on")) or (
        not task.series and normalizer.relative_to_last != task.relative_to_last
    ):
        raise ValueError("meta.normalization does not fit the recorded task")
    metrics = read_object(meta, "metrics", "meta") if "metrics" in meta else {}
    for key in METRICS:
        value = metrics.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"meta.metrics.{key} must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"meta.metrics.{key} must be finite")


def recorded_data(saved: SavedModel, csv: str | None = None, column: str | None = None) -> Dataset:
    """The data the model was validated on, with the normalisation it was trained with.

    ``csv`` and ``column`` name another file or column to measure a csv-task model on.
    Without them the recorded CSV is looked for where the weights file says, and read only
    when its contents are the ones trained on (``sources``). ValueError (MissingDataError
    when the file is missing or has changed) with one line.
    """
    experiment = saved.experiment
    if csv or column:
        experiment = experiment.with_changes(csv_path=csv or experiment.csv_path, column=column or experiment.column)
    elif experiment.task == CSV_TASK:
        _check_recorded_csv(saved)
        try:
            return experiment.make_dataset(normalizer=saved.predictor.normalizer)
        except CsvError:  # the file is not the one trained on: never echo what it holds
            raise MissingDataError(
                f"{Path(experiment.csv_path).name} beside {saved.path.name} is not readable as the series it was "
                "trained on"
            ) from None
    return experiment.make_dataset(normalizer=saved.predictor.normalizer)


def _check_recorded_csv(saved: SavedModel) -> None:
    csv = Path(saved.experiment.csv_path)
    if not csv.is_file():
        raise MissingDataError(f"{saved.path.name} was trained on {csv.name}, which is not at {csv}")
    series = saved.meta.get("series", {})
    recorded = read_str(series, "sha256", "meta.series") if "sha256" in series else ""
    if recorded and file_sha256(csv) != recorded:
        raise MissingDataError(f"{csv} has changed since {saved.path.name} was trained on it")


@dataclass(frozen=True)
class OpenedModel:
    """A weights file with its data and how the model does on it, or why there is no data."""

    saved: SavedModel
    data: Dataset | None
    outcome: Outcome | None
    missing: str = ""  # why the data could not be made (the model can still be tried)


def open_with_data(path: str | Path) -> OpenedModel:
    """Open a weights file, rebuild its data and measure the model on it (for the window's
    Load, in a worker thread); WeightsError when the file itself is unusable."""
    saved = open_saved(path)
    try:
        data = recorded_data(saved)
    except ValueError as exc:
        return OpenedModel(saved, None, None, str(exc))
    with np.errstate(over="ignore", invalid="ignore"):
        return OpenedModel(saved, data, Outcome.of(saved.model, data, evaluate(saved.model, data)))
