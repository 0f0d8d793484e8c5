"""Validation metrics in raw units: what a user can compare with the data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstm_studio.core import LSTMModel
from lstm_studio.core.losses import cross_entropy, mse
from lstm_studio.training.dataset import Dataset, Inputs
from lstm_studio.training.limits import eval_chunk


@dataclass
class Evaluation:
    """How the model does on the validation part."""

    loss: float
    predictions: np.ndarray  # raw next values (N,), or predicted class indices (N,)
    targets: np.ndarray  # raw next values (N,), or true class indices (N,)
    rmse: float | None = None  # regression, raw units, over every predicted step
    mae: float | None = None
    accuracy: float | None = None  # classification
    confusion: np.ndarray | None = None  # (K, K): rows true class, columns predicted

    def summary(self) -> dict[str, float]:
        """The scalar metrics, for the weights file and the command line."""
        out = {"val_loss": self.loss}
        if self.accuracy is not None:
            out["val_accuracy"] = self.accuracy
        if self.rmse is not None:
            out["val_rmse"] = self.rmse
            out["val_mae"] = self.mae
        return out


def model_outputs(model: LSTMModel, x: Inputs) -> np.ndarray:
    """Raw model outputs for many windows, in chunks whose buffers stay within a bound (and, for a
    series, whose windows are encoded chunk by chunk: see ``windows.EncodedWindows``)."""
    chunk = eval_chunk(model.input_size, model.hidden_sizes, x.shape[1], model.dtype.itemsize)
    return np.concatenate([model.forward(x[i : i + chunk]) for i in range(0, len(x), chunk)])


def confusion_matrix(true: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (true, pred), 1)
    return matrix


def evaluate(model: LSTMModel, data: Dataset) -> Evaluation:
    """Loss on the validation part, plus accuracy or RMSE/MAE in raw units."""
    outputs = model_outputs(model, data.x_val)
    if data.task.is_classification:
        y_val = np.asarray(data.y_val)
        loss, _ = cross_entropy(outputs, y_val)
        pred = outputs.argmax(axis=1)
        return Evaluation(
            loss=loss,
            predictions=pred,
            targets=y_val,
            accuracy=float(np.mean(pred == y_val)),
            confusion=confusion_matrix(y_val, pred, model.output_size),
        )
    # the targets are as large as the outputs (N_val, horizon): one array, so the loss is summed as before
    loss, _ = mse(outputs, np.array(data.y_val, dtype=outputs.dtype))
    raw = data.normalizer.decode(outputs, data.val_windows)  # (N, horizon)
    targets = np.array(data.val_targets, dtype=np.float64).reshape(raw.shape)  # a series' is a view: copied
    err = raw - targets
    return Evaluation(
        loss=loss,
        predictions=raw[:, 0],
        targets=targets[:, 0],
        rmse=float(np.sqrt(np.mean(err**2))),
        mae=float(np.mean(np.abs(err))),
    )


def baselines(data: Dataset) -> dict[str, float]:
    """RMSE of two forecasts that need no learning, on the same validation windows:
    repeat the last value (persistence) and always say the training mean.
    """
    targets = np.asarray(data.val_targets, dtype=np.float64).reshape(len(data.val_windows), -1)
    persistence = data.val_windows[:, -1:] - targets
    mean = float(np.mean(data.train_targets)) - targets
    return {
        "persistence_rmse": float(np.sqrt(np.mean(persistence**2))),
        "mean_rmse": float(np.sqrt(np.mean(mean**2))),
    }
