"""Answers for raw sequences typed by a person: the next value, or the class and its probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lstm_studio.core import LSTMModel
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.normalization import Normalizer
from lstm_studio.training.tasks import CLASSIFICATION, REGRESSION


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


class Predictor:
    """Turns raw values into a prediction with the normalisation recorded at training time."""

    def __init__(self, model: LSTMModel, kind: str, normalizer: Normalizer, classes: Sequence[str]) -> None:
        self.model = model
        self.kind = kind
        self.normalizer = normalizer
        self.classes = list(classes)

    @classmethod
    def for_data(cls, model: LSTMModel, data: Dataset) -> Predictor:
        """For a model trained on ``data``: its task's kind and classes, its normalisation."""
        return cls(model, data.task.kind, data.normalizer, data.task.classes)

    @classmethod
    def from_meta(cls, model: LSTMModel, meta: dict) -> Predictor:
        """Build from a weights file's ``meta``; ValueError naming what it lacks."""
        missing = [key for key in ("kind", "normalization") if key not in meta]
        if missing:
            raise ValueError(f"the weights file does not record its {' and '.join(missing)}")
        kind, classes = meta["kind"], meta.get("classes") or []
        if model.input_size != 1:
            raise ValueError(f"the model reads {model.input_size} values per step; predictions take one")
        if kind == CLASSIFICATION:
            if model.loss != "cross_entropy" or len(classes) != model.output_size:
                raise ValueError(f"the model's {model.output_size} outputs do not fit its {len(classes)} classes")
        elif kind == REGRESSION:
            if model.loss != "mse":
                raise ValueError("a regression model must be trained with mse")
        else:
            raise ValueError(f"unknown kind of task {kind!r}")
        return cls(model, kind, Normalizer.from_meta(meta["normalization"]), [str(c) for c in classes])

    def predict(self, values: Sequence[float]) -> Prediction:
        """The model's answer for one raw sequence; ValueError if it is empty or not finite."""
        window = np.asarray(values, dtype=np.float64).reshape(1, -1)
        needed = 2 if self.normalizer.difference else 1
        if window.shape[1] < needed:
            raise ValueError(f"give at least {needed} value{'s' if needed > 1 else ''}")
        if not np.all(np.isfinite(window)):
            raise ValueError("every value must be a finite number")
        x = self.normalizer.encode(window)
        if self.kind == CLASSIFICATION:
            p = self.model.predict(x)[0]
            probabilities = {label: float(pi) for label, pi in zip(self.classes, p, strict=True)}
            return Prediction(label=self.classes[int(np.argmax(p))], probabilities=probabilities)
        raw = self.normalizer.decode(self.model.forward(x), window)[0]
        return Prediction(values=tuple(float(v) for v in raw))
