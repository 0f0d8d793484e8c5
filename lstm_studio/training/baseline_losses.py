"""The validation loss two forecasts that learn nothing would have, in the units of the loss curves.

A loss curve alone does not say whether a model is any good; drawn beside the loss of "repeat the last
value" (persistence) and "always say the training mean", the moment the validation curve crosses under
them is the moment the model starts to earn its keep. Both are measured exactly as the model's
validation loss is: the raw forecasts go through the same normalisation, and the mean squared error
is taken against the same targets.
"""

from __future__ import annotations

import numpy as np

from lstm_studio.training.dataset import Dataset

PERSISTENCE, TRAINING_MEAN = "persistence", "training mean"


def baseline_losses(data: Dataset) -> dict[str, float]:
    """``{"persistence": loss, "training mean": loss}`` on the validation part of a regression task's
    data; empty for classification (its loss has no such reference)."""
    if data.task.is_classification:
        return {}
    last = np.asarray(data.val_windows[:, -1:], dtype=np.float64)  # all the normalisation needs of a window
    targets = np.asarray(data.val_targets, dtype=np.float64).reshape(len(last), -1)
    encode = data.normalizer.encode_target
    truth = encode(targets, last)

    def loss(forecast: np.ndarray) -> float:
        return float(np.mean((encode(forecast, last) - truth) ** 2))

    mean = float(np.mean(data.train_targets))
    return {
        PERSISTENCE: loss(np.repeat(last, targets.shape[1], axis=1)),
        TRAINING_MEAN: loss(np.full_like(targets, mean)),
    }
