"""One run's full recipe (task, data, model, optimiser) and the record it leaves in a weights file."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from lstm_studio.core import DTYPES, LSTMModel
from lstm_studio.core.model import parameter_shapes
from lstm_studio.training import limits
from lstm_studio.training.covariates import with_inputs
from lstm_studio.training.csv_series import MISSING_MODES, Series, read_series
from lstm_studio.training.dataset import (
    Dataset,
    check_val_split,
    make_dataset,
    make_series_dataset,
    series_window_counts,
    split_sizes,
)
from lstm_studio.training.experiment_record import experiment_fields
from lstm_studio.training.gaps import fill_gaps
from lstm_studio.training.metrics import Evaluation
from lstm_studio.training.normalization import MAX_INPUTS, Normalizer
from lstm_studio.training.sources import file_sha256, portable_path
from lstm_studio.training.tasks import Task, TaskSettings, get_task
from lstm_studio.training.trainer import TrainConfig
from lstm_studio.training.trend import DIFFERENCE_MODES, TrendDecision, decide


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
    difference: str = "auto"  # learn the changes between values: auto (a trend in the training part), on, off
    inputs: tuple[str, ...] = ()  # other columns of the CSV read beside the target's history (covariates)
    missing: str = "error"  # a gap in the column: refused ("error") or filled ("interpolate", ``gaps``)

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
        """Raise ValueError naming the first impossible setting. The task's settings, the split and
        the training settings each have their one check (``TaskSettings.validate``, ``split_sizes``,
        ``TrainConfig.validate``), which ``make_dataset`` and ``train`` call again on their own."""
        task = self.task_spec  # raises for an unknown task
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise ValueError(f"every layer size must be a positive integer, got {list(self.hidden_sizes)}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        try:  # the limits a weights file is loaded under: never train what could not be opened again
            parameter_shapes(self.model_config())
        except ValueError as exc:
            raise ValueError(f"the model is too large: {exc}") from None
        self.settings.validate(generated=not task.series)
        if task.series:
            if not self.series_path:
                raise ValueError("the csv task needs a file (--csv FILE) and a column (--column NAME)")
            if not self.column:
                raise ValueError("the csv task needs a column (--column NAME)")
            if not 1 <= self.horizon <= limits.MAX_HORIZON:
                raise ValueError(f"horizon must lie between 1 and {limits.MAX_HORIZON:,}, got {self.horizon:,}")
            check_val_split(self.val_split)  # the windows, and so the split, are known once the file is read
            if self.difference not in DIFFERENCE_MODES:
                raise ValueError(f"difference must be one of {', '.join(DIFFERENCE_MODES)}, got {self.difference!r}")
            self._check_inputs()
            if self.missing not in MISSING_MODES:
                raise ValueError(f"missing must be one of {', '.join(MISSING_MODES)}, got {self.missing!r}")
        elif self.inputs:
            raise ValueError("other input columns apply to series tasks (sunspots, csv)")
        else:
            split_sizes(self.settings.n_samples, self.val_split)
        self.train.validate()
        if not task.series:  # last: the estimate needs every size valid
            self.check_size(self.settings.n_samples)

    def _check_inputs(self) -> None:
        if len(self.inputs) > MAX_INPUTS:
            raise ValueError(f"at most {MAX_INPUTS} other input columns, got {len(self.inputs)}")
        for name in self.inputs:
            if name == self.column:
                raise ValueError(f"column {name!r} is the one predicted: its history is read already")
            if name == self.time_column:
                raise ValueError(f"column {name!r} is the time column, not an input")
            if self.inputs.count(name) > 1:
                raise ValueError(f"input column {name!r} is given twice")

    def model_config(self) -> dict:
        """The description ``LSTMModel.config()`` will give of this experiment's network."""
        inputs, outputs, loss = self.make_model_shape()
        return {"input_size": inputs, "hidden_sizes": list(self.hidden_sizes), "output_size": outputs,
                "loss": loss, "dtype": self.dtype}  # fmt: skip

    def check_size(self, n_windows: int) -> None:
        """ValueError when a run over ``n_windows`` windows would not fit in memory."""
        inputs, _, _ = self.make_model_shape()
        limits.check_run_size(
            inputs,
            self.hidden_sizes,
            self.settings.seq_len,
            self.train.batch_size,
            self.dtype,
            n_windows,
            views=self.task_spec.series,  # a series' windows are views of it (``windows``), not copies
        )

    @property
    def series_path(self) -> str:
        """The CSV file a series task reads ('' for generated tasks)."""
        return self.task_spec.data_path or self.csv_path

    def read_series(self, progress: Callable[[float], None] | None = None) -> Series:
        """The series task's column (CsvError naming the line and column of any bad cell); ``progress``
        is told the share of the file read now and then."""
        return read_series(self.series_path, self.column, self.time_column or None, self.missing, progress)

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
        return 1 + len(self.inputs), self.horizon if task.series else task.output_size, task.loss

    def make_dataset(self, series: Series | None = None, normalizer: Normalizer | None = None) -> Dataset:
        """The run's data, the same every time for the same experiment (and file). A given
        ``normalizer`` (a trained model's) is used instead of one fitted on the data."""
        task = self.task_spec
        if task.series:
            series = self.filled(series if series is not None else self.read_series())
            n_windows = len(series.values) - self.settings.seq_len - self.horizon + 1
            self.check_size(max(n_windows, 0))
            difference = normalizer.difference if normalizer else self.trend_decision(series).difference
            data = make_series_dataset(
                task, self.settings, series, self.horizon, self.val_split, difference, normalizer
            )
            notes = self._reading_notes(series)
            if self.inputs:
                data, input_notes = self._with_inputs(data, series, normalizer)
                notes += input_notes
            return replace(data, source_sha256=file_sha256(series.path), notes=tuple(notes))
        return make_dataset(task, self.settings, self.val_split, self.train.seed, normalizer)

    def _with_inputs(self, data: Dataset, series: Series, normalizer: Normalizer | None) -> tuple[Dataset, list[str]]:
        """``data`` reading the other input columns too (gaps filled as the series' are), and the notes of
        their reading."""
        columns = [read_series(series.path, name, None, self.missing, target=False) for name in self.inputs]
        values = np.stack([self.filled(column).values for column in columns], axis=1)
        notes = [note for column in columns for note in self._reading_notes(column, encoding=False)]
        return with_inputs(data, self.inputs, values, self.training_length(series), normalizer), notes

    def training_length(self, series: Series) -> int:
        """How many of the series' first values the training windows use; the rest only validation reads."""
        T, horizon = self.settings.seq_len, self.horizon
        _, n_fit, _ = series_window_counts(series, T, horizon, self.val_split)
        return n_fit - 1 + T + horizon

    def filled(self, series: Series) -> Series:
        """``series`` with its gaps filled (``gaps.fill_gaps``: never from the validation part's future)."""
        if not series.missing or not np.isnan(series.values).any():
            return series
        values, _ = fill_gaps(series.values, self.training_length(series))
        return replace(series, values=values)

    def trend_decision(self, series: Series) -> TrendDecision:
        """Whether this series task learns the changes of ``series``, and why: as asked, or (``auto``)
        decided on the values its training windows use (``trend``)."""
        return decide(self.difference, series.values[: self.training_length(series)])

    def data_notes(self, data: Dataset) -> list[str]:
        """What the user should know of how a series task's data was read and learned, one line each."""
        if data.series is None:
            return []
        return [*data.notes, self.difference_reason(data)]

    @staticmethod
    def _reading_notes(series: Series, encoding: bool = True) -> list[str]:
        """The encoding a column was read in (when not UTF-8) and the gaps filled in it."""
        notes = []
        if encoding and series.encoding != "utf-8":
            notes.append(f"{Path(series.path).name} is not UTF-8: read as {series.encoding}")
        if series.missing:
            notes.append(
                f"filled {series.missing:,} missing value{'s' * (series.missing > 1)} of column {series.column!r}: "
                "between their neighbours in the training part, the last value carried forward after it"
            )
        return notes

    def difference_preview(self, series: Series) -> str:
        """What a run of this experiment will learn of ``series`` (as read, gaps not yet filled), values or
        changes, and why, in one line: the form shows it before Train. ValueError when too short."""
        return self.trend_decision(self.filled(series)).reason

    def difference_reason(self, data: Dataset) -> str:
        """Why ``data`` (a series task's) is learned as changes or as values, in one line."""
        decision = self.trend_decision(data.series)
        if decision.difference == data.normalizer.difference:
            return decision.reason
        learning = "the changes" if data.normalizer.difference else "the values"
        return f"learning {learning}, as the trained model does"

    def make_model(self) -> LSTMModel:
        """Fresh weights drawn from the experiment's seed."""
        return LSTMModel.from_config(self.model_config(), seed=self.train.seed)

    def to_meta(self, saved_in: Path | None = None) -> dict:
        """The JSON record of this experiment (without the model part and metrics). In a
        weights file in folder ``saved_in``, the CSV is recorded relative to it or by name
        (``sources``); elsewhere (the window's settings) as it is."""
        csv = portable_path(self.csv_path, saved_in) if saved_in is not None and self.csv_path else self.csv_path
        return {
            "task": self.task,
            "task_settings": asdict(self.settings),
            "seq_len": self.settings.seq_len,
            "val_split": self.val_split,
            "seed": self.train.seed,
            "training": asdict(self.train),
            "series": {
                "csv": csv,
                "column": self.column,
                "time_column": self.time_column,
                "horizon": self.horizon,
                "difference": self.difference,
                "inputs": list(self.inputs),
                "missing": self.missing,
            },
        }

    @classmethod
    def from_meta(cls, meta: dict, saved_in: Path | None = None) -> Experiment:
        """Inverse of ``to_meta`` (the model part supplies the layer sizes and dtype); ValueError
        naming the first field that is missing, of the wrong type or out of range. The result
        is validated: it is safe to build its data and model."""
        try:
            experiment = cls(**experiment_fields(meta, saved_in))
            experiment.validate()
        except ValueError as exc:
            raise ValueError(f"the weights file does not record a usable experiment: {exc}") from exc
        return experiment


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
    return Experiment.from_meta(record)


def run_meta(
    experiment: Experiment,
    data: Dataset,
    evaluation: Evaluation | None,
    train_loss: float | None,
    saved_in: Path | None = None,
) -> dict:
    """What a weights file in folder ``saved_in`` records besides the arrays and the model
    description (Contract 2)."""
    metrics: dict[str, float | None] = {"train_loss": train_loss}
    metrics.update(evaluation.summary() if evaluation else {"val_loss": None})
    record = experiment.to_meta(saved_in)
    if data.source_sha256:
        record["series"]["sha256"] = data.source_sha256
    if data.series is not None:  # the mode asked for, what the model does, and why
        record["series"]["difference_mode"] = experiment.difference
        record["series"]["difference"] = data.normalizer.difference
        record["series"]["trend"] = experiment.difference_reason(data)
    return {
        **record,
        "kind": data.task.kind,
        "normalization": data.normalizer.to_meta(),
        "classes": list(data.task.classes),
        "metrics": metrics,
    }
