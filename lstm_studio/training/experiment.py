"""One run's full recipe (task, data, model, optimiser) and the record it leaves in a weights file."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace

from lstm_studio.core import DTYPES, LSTMModel
from lstm_studio.training.csv_series import Series, read_series
from lstm_studio.training.dataset import Dataset, make_dataset, make_series_dataset, split_sizes
from lstm_studio.training.metrics import Evaluation
from lstm_studio.training.tasks import Task, TaskSettings, get_task
from lstm_studio.training.trainer import TrainConfig


@dataclass(frozen=True)
class Experiment:
    """Everything that decides a run: the command line and the window both build one."""

    task: str = "next-number"
    settings: TaskSettings = field(default_factory=TaskSettings)
    hidden_sizes: tuple[int, ...] = (32,)
    dtype: str = "float64"
    val_split: float = 0.2
    train: TrainConfig = field(default_factory=TrainConfig)
    # series tasks (a CSV column): where the data is and how it is windowed
    csv_path: str = ""  # the csv task's file (the shipped tasks know their own)
    column: str = ""
    time_column: str = ""
    horizon: int = 1  # values predicted after each window
    difference: bool = False  # learn the changes between values, for series with a trend

    @classmethod
    def for_task(cls, name: str) -> Experiment:
        """The task's own defaults: the settings under which it is known to learn."""
        task = get_task(name)
        d = task.defaults
        return cls(
            task=name,
            settings=task.settings,
            hidden_sizes=d.hidden_sizes,
            val_split=d.val_split,
            train=TrainConfig(lr=d.lr, epochs=d.epochs, batch_size=d.batch_size, clip=d.clip, patience=d.patience),
            column=task.column,
            time_column=task.time_column,
        )

    def with_changes(self, **changes: object) -> Experiment:
        """A copy with top-level fields, task settings (``seq_len``, ``n_samples``, ``noise``)
        or training fields (``lr``, ``epochs``, …) replaced by name.
        """
        settings_keys = TaskSettings.__dataclass_fields__.keys() & changes.keys()
        train_keys = TrainConfig.__dataclass_fields__.keys() & changes.keys()
        settings = replace(self.settings, **{k: changes.pop(k) for k in settings_keys})
        train = replace(self.train, **{k: changes.pop(k) for k in train_keys})
        return replace(self, settings=settings, train=train, **changes)

    @property
    def task_spec(self) -> Task:
        """The built-in task this experiment runs."""
        return get_task(self.task)

    def validate(self) -> None:
        """Raise ValueError naming the first impossible setting."""
        self.task_spec  # noqa: B018 - raises for an unknown task
        if not 0 <= self.train.seed < 2**31:
            raise ValueError(f"seed must lie between 0 and 2147483647, got {self.train.seed}")
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise ValueError(f"every layer size must be a positive integer, got {list(self.hidden_sizes)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        if self.settings.seq_len < 2:
            raise ValueError(f"sequence length must be at least 2, got {self.settings.seq_len}")
        if self.task_spec.series:
            if not self.series_path:
                raise ValueError("the csv task needs a file (--csv FILE) and a column (--column NAME)")
            if not self.column:
                raise ValueError("the csv task needs a column (--column NAME)")
            if self.horizon < 1:
                raise ValueError(f"horizon must be at least 1, got {self.horizon}")
            if not 0.0 < self.val_split < 1.0:
                raise ValueError(f"val-split must lie strictly between 0 and 1, got {self.val_split}")
        else:
            if not (math.isfinite(self.settings.noise) and self.settings.noise >= 0):
                raise ValueError(f"noise must be 0 or positive, got {self.settings.noise}")
            split_sizes(self.settings.n_samples, self.val_split)
        self.train.validate()

    @property
    def series_path(self) -> str:
        """The CSV file a series task reads ('' for generated tasks)."""
        return self.task_spec.data_path or self.csv_path

    def read_series(self) -> Series:
        """The series task's column (CsvError naming the line and column of any bad cell)."""
        return read_series(self.series_path, self.column, self.time_column or None)

    def makes_same_model_and_data(self, other: Experiment) -> bool:
        """Whether ``other`` builds the same network and data, so a model trained under one may
        go on training under the other (only the optimisation settings, seed aside, differ)."""
        return replace(self, train=TrainConfig(seed=self.train.seed)) == replace(
            other, train=TrainConfig(seed=other.train.seed)
        )

    def check_model(self, model: LSTMModel) -> None:
        """ValueError unless ``model`` has the inputs, outputs and loss this experiment needs."""
        fresh = self.make_model_shape()
        if (model.input_size, model.output_size, model.loss) != fresh:
            raise ValueError(
                f"the model (inputs {model.input_size}, outputs {model.output_size}, loss {model.loss}) does not "
                f"fit task {self.task} (inputs {fresh[0]}, outputs {fresh[1]}, loss {fresh[2]})"
            )

    def make_model_shape(self) -> tuple[int, int, str]:
        """(inputs, outputs, loss) of this experiment's network."""
        task = self.task_spec
        return 1, self.horizon if task.series else task.output_size, task.loss

    def make_dataset(self, series: Series | None = None) -> Dataset:
        """The run's data, the same every time for the same experiment (and file)."""
        task = self.task_spec
        if task.series:
            series = series if series is not None else self.read_series()
            return make_series_dataset(task, self.settings, series, self.horizon, self.val_split, self.difference)
        return make_dataset(task, self.settings, self.val_split, self.train.seed)

    def make_model(self) -> LSTMModel:
        """Fresh weights drawn from the experiment's seed."""
        inputs, outputs, loss = self.make_model_shape()
        return LSTMModel(inputs, self.hidden_sizes, outputs, loss, self.train.seed, DTYPES[self.dtype])

    def to_meta(self) -> dict:
        """The JSON record of this experiment (without the model part and metrics)."""
        return {
            "task": self.task,
            "task_settings": asdict(self.settings),
            "seq_len": self.settings.seq_len,
            "val_split": self.val_split,
            "seed": self.train.seed,
            "training": asdict(self.train),
            "series": {
                "csv": self.csv_path,
                "column": self.column,
                "time_column": self.time_column,
                "horizon": self.horizon,
                "difference": self.difference,
            },
        }

    @classmethod
    def from_meta(cls, meta: dict) -> Experiment:
        """Inverse of ``to_meta`` (the model part supplies the layer sizes and dtype)."""
        try:
            model = meta["model"]
            series = meta.get("series") or {}
            return cls(
                task=str(meta["task"]),
                settings=_typed(TaskSettings, meta["task_settings"]),
                hidden_sizes=tuple(int(h) for h in model["hidden_sizes"]),
                dtype=str(model["dtype"]),
                val_split=float(meta["val_split"]),
                train=_typed(TrainConfig, meta["training"]),
                csv_path=str(series.get("csv", "")),
                column=str(series.get("column", "")),
                time_column=str(series.get("time_column", "")),
                horizon=int(series.get("horizon", 1)),
                difference=bool(series.get("difference", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"the weights file does not record its experiment: {exc}") from exc


def _typed(kind: type, record: object) -> object:
    """``kind(**record)`` after checking that every field has its declared type (int, float)."""
    if not isinstance(record, dict):
        raise ValueError(f"{kind.__name__} must be a JSON object")
    fields = kind.__dataclass_fields__
    unknown = set(record) - set(fields)
    if unknown:
        raise ValueError(f"unknown {kind.__name__} field {sorted(unknown)[0]}")
    for name, value in record.items():
        expected = fields[name].type  # "int" or "float" (annotations are strings here)
        number_types = int if expected == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, number_types):
            raise ValueError(f"{kind.__name__}.{name} must be {expected}, got {value!r}")
    return kind(**record)


def experiment_to_json(experiment: Experiment) -> str:
    """The experiment as one JSON text (for saved window settings)."""
    model = {"hidden_sizes": list(experiment.hidden_sizes), "dtype": experiment.dtype}
    return json.dumps({**experiment.to_meta(), "model": model})


def experiment_from_json(text: str) -> Experiment:
    """Inverse of ``experiment_to_json``; ValueError on anything malformed or impossible."""
    try:
        record = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not an experiment record: {exc}") from exc
    if not isinstance(record, dict):
        raise ValueError("not an experiment record")
    experiment = Experiment.from_meta(record)
    experiment.validate()
    return experiment


def run_meta(experiment: Experiment, data: Dataset, evaluation: Evaluation | None, train_loss: float | None) -> dict:
    """What the weights file records besides the arrays and the model description (Contract 2)."""
    metrics: dict[str, float | None] = {"train_loss": train_loss}
    metrics.update(evaluation.summary() if evaluation else {"val_loss": None})
    return {
        **experiment.to_meta(),
        "kind": data.task.kind,
        "normalization": data.normalizer.to_meta(),
        "classes": list(data.task.classes),
        "metrics": metrics,
    }
