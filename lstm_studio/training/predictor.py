"""Answers for raw sequences typed by a person: the next value, or the class and its probabilities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_studio.core import LSTMModel
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.limits import MAX_SEQ_LEN
from lstm_studio.training.normalization import Normalizer
from lstm_studio.training.records import MAX_TEXT, read_int, read_object, read_str
from lstm_studio.training.tasks import Task, get_task


@dataclass(frozen=True)
class Prediction:
    """A model's answer in the user's units."""

    values: tuple[float, ...] = ()  # regression: raw next value(s)
    label: str | None = None  # classification: the most probable class
    probabilities: dict[str, float] | None = None  # classification: {label: p}

    def to_json(self) -> dict:
        """Contract 3's ``predict --json`` object."""
        if self.label is not None:
            return {"prediction": self.label, "probabilities": self.probabilities}
        return {"prediction": list(self.values)}


class AnswerError(ValueError):
    """The model's answer is not a finite number (extreme weights or inputs): never printed as one."""


class Predictor:
    """Turns raw values into a prediction with the normalisation recorded at training time."""

    def __init__(
        self, model: LSTMModel, task: Task, normalizer: Normalizer, classes: Sequence[str], seq_len: int
    ) -> None:
        self.model = model
        self.task = task  # what kind of answer the model gives: ``task.is_classification``
        self.normalizer = normalizer
        self.classes = list(classes)  # the labels of the model's outputs, as recorded
        self.seq_len = seq_len  # values the model reads: fewer are refused, of more the last are read

    @property
    def kind(self) -> str:
        """The task's kind, REGRESSION or CLASSIFICATION (ask ``task.is_classification`` to branch)."""
        return self.task.kind

    @classmethod
    def for_data(cls, model: LSTMModel, data: Dataset) -> Predictor:
        """For a model trained on ``data``: its task and classes, its normalisation."""
        return cls(model, data.task, data.normalizer, data.task.classes, data.settings.seq_len)

    @classmethod
    def from_meta(cls, model: LSTMModel, meta: dict) -> Predictor:
        """Build from a weights file's ``meta``; ValueError naming what it lacks or what does not fit."""
        missing = [key for key in ("kind", "normalization") if key not in meta]
        if missing:
            raise ValueError(f"the weights file does not record its {' and '.join(missing)}")
        kind = read_str(meta, "kind", "meta")
        classes = meta.get("classes") or []
        if not isinstance(classes, list) or not all(isinstance(c, str) and len(c) <= MAX_TEXT for c in classes):
            raise ValueError("meta.classes must be a list of labels")
        task = get_task(read_str(meta, "task", "meta"))
        if kind != task.kind:
            raise ValueError(f"meta.kind {kind!r} is not the kind of task {task.name!r}")
        if task.is_classification:
            if model.loss != task.loss or len(classes) != model.output_size:
                raise ValueError(f"the model's {model.output_size} outputs do not fit its {len(classes)} classes")
        elif model.loss != task.loss:
            raise ValueError("a regression model must be trained with mse")
        normalizer = Normalizer.from_meta(read_object(meta, "normalization", "meta"))
        if model.input_size != 1 + len(normalizer.inputs):
            raise ValueError(
                f"the model reads {model.input_size} values per step, but its record names "
                f"{1 + len(normalizer.inputs)} (its column and {len(normalizer.inputs)} others)"
            )
        return cls(model, task, normalizer, classes, read_int(meta, "seq_len", "meta", 2, MAX_SEQ_LEN))

    @property
    def input_columns(self) -> tuple[str, ...]:
        """The other columns the model reads beside the sequence (their values are needed too)."""
        return self.normalizer.input_columns

    def predict(self, values: Sequence[float], inputs: Mapping[str, Sequence[float]] | None = None) -> Prediction:
        """The model's answer for a raw sequence (its last ``seq_len`` values) and, for a model that
        reads other columns, theirs over the same steps (``inputs``: {column: values}); ValueError
        when values are missing, too few or not finite, AnswerError when the answer is not finite."""
        window = self._last(values, "")
        inputs = inputs or {}
        unknown = [name for name in inputs if name not in self.input_columns]
        if unknown:
            reads = ", ".join(self.input_columns) or "no other column"
            raise ValueError(f"the model reads no column {unknown[0]!r} (it reads {reads})")
        covariates = None
        if self.input_columns:
            absent = [name for name in self.input_columns if name not in inputs]
            if absent:
                raise ValueError(f"the model also reads column {absent[0]!r}: give its last {self.seq_len} values too")
            covariates = np.stack([self._last(inputs[name], name)[0] for name in self.input_columns], axis=1)[None]
        with np.errstate(over="ignore", invalid="ignore"):
            x = self.normalizer.encode(window, covariates)
            if not np.all(np.isfinite(x)):
                raise AnswerError("the values are too large for this model's normalisation")
            outputs = self.model.forward(x)
            if not np.all(np.isfinite(outputs)):
                raise AnswerError("the model's answer is not a finite number (its weights overflow on these values)")
            if self.task.is_classification:
                p = self.model.predict(x)[0]
                probabilities = {label: float(pi) for label, pi in zip(self.classes, p, strict=True)}
                return Prediction(label=self.classes[int(np.argmax(p))], probabilities=probabilities)
            raw = self.normalizer.decode(outputs, window)[0]
        if not np.all(np.isfinite(raw)):
            raise AnswerError("the model's answer is not a finite number in raw units (it overflows when scaled back)")
        return Prediction(values=tuple(float(v) for v in raw))

    def _last(self, values: Sequence[float], column: str) -> np.ndarray:
        """The last ``seq_len`` of ``values`` as a (1, seq_len) array; ValueError for too few or non-finite."""
        window = np.asarray(values, dtype=np.float64).reshape(1, -1)
        of = f" of column {column!r}" if column else ""
        if window.shape[1] < self.seq_len:
            raise ValueError(f"the model reads {self.seq_len} values{of}: give {self.seq_len}, not {window.shape[1]}")
        if not np.all(np.isfinite(window)):
            raise ValueError(f"every value{of} must be a finite number")
        return window[:, -self.seq_len :]
