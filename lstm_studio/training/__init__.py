"""Tasks, datasets, the mini-batch trainer and predictions: everything between the network and a user (no Qt)."""

from lstm_studio.training.csv_series import CsvError, Series, read_columns, read_series
from lstm_studio.training.dataset import Dataset, make_dataset
from lstm_studio.training.experiment import Experiment, experiment_from_json, experiment_to_json, run_meta
from lstm_studio.training.forecast import forecast
from lstm_studio.training.metrics import Evaluation, evaluate
from lstm_studio.training.normalization import Normalizer
from lstm_studio.training.predictor import Prediction, Predictor
from lstm_studio.training.tasks import CLASSIFICATION, CSV_TASK, REGRESSION, TASKS, Task, TaskSettings, get_task
from lstm_studio.training.trainer import (
    COMPLETED,
    CRASHED,
    DIVERGED,
    EARLY_STOPPED,
    FAILED,
    NO_DATA,
    STOPPED,
    BatchEnd,
    EpochEnd,
    Event,
    RunEnd,
    TrainConfig,
    train,
)

__all__ = [
    "CLASSIFICATION",
    "COMPLETED",
    "CRASHED",
    "CSV_TASK",
    "DIVERGED",
    "EARLY_STOPPED",
    "FAILED",
    "NO_DATA",
    "REGRESSION",
    "STOPPED",
    "TASKS",
    "BatchEnd",
    "CsvError",
    "Dataset",
    "EpochEnd",
    "Evaluation",
    "Event",
    "Experiment",
    "Normalizer",
    "Prediction",
    "Predictor",
    "RunEnd",
    "Series",
    "Task",
    "TaskSettings",
    "TrainConfig",
    "evaluate",
    "experiment_from_json",
    "experiment_to_json",
    "forecast",
    "get_task",
    "make_dataset",
    "read_columns",
    "read_series",
    "run_meta",
    "train",
]
