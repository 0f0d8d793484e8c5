"""What a model went through while it trained: per batch and per epoch, every run of it.

Kept outside any view so that every view (and later the run records on disk) reads the same
history; views read the arrays as they are, without copies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstm_studio.training.trainer import BatchEnd, EpochEnd


class Points:
    """(x, y) points appended one at a time or in blocks; ``x``/``y`` are views, no copies.
    Storage grows by doubling, so appending stays cheap for long runs."""

    def __init__(self, capacity: int = 256) -> None:
        self._data = np.empty((2, capacity))
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, x: float, y: float) -> None:
        """Add one point."""
        self.extend([x], [y])

    def extend(self, xs: Sequence[float] | np.ndarray, ys: Sequence[float] | np.ndarray) -> None:
        """Add many points."""
        k = len(xs)
        if self._n + k > self._data.shape[1]:
            grown = np.empty((2, max(2 * self._data.shape[1], self._n + k)))
            grown[:, : self._n] = self._data[:, : self._n]
            self._data = grown
        self._data[0, self._n : self._n + k] = xs
        self._data[1, self._n : self._n + k] = ys
        self._n += k

    @property
    def x(self) -> np.ndarray:
        """The x values so far."""
        return self._data[0, : self._n]

    @property
    def y(self) -> np.ndarray:
        """The y values so far."""
        return self._data[1, : self._n]


class History:
    """Every batch and epoch of one model, on one epoch axis that goes on from run to run
    (the second run of a model starts where the first ended)."""

    def __init__(self, layer_names: Sequence[str], classification: bool) -> None:
        self.layer_names = list(layer_names)  # the LSTM layers, then the dense layer
        self.classification = classification  # the metric is accuracy, else RMSE
        self.batch_loss = Points(4096)  # at fractional epochs
        self.train_loss = Points()
        self.val_loss = Points()
        self.metric = Points()  # validation accuracy or RMSE (raw units)
        self.grad_norms = [Points() for _ in self.layer_names]  # mean pre-clip norm per layer and epoch
        self.seconds = Points()  # seconds into its run, per epoch
        self.offset = 0  # epochs of earlier runs: added to the run's own epoch numbers

    @property
    def epochs(self) -> int:
        """Epochs recorded so far, over all runs."""
        return len(self.train_loss)

    def add_batches(self, batches: Sequence[BatchEnd]) -> None:
        """Batch losses, at their fractional epoch."""
        if batches:
            self.batch_loss.extend(
                [self.offset + b.epoch - 1 + b.batch / b.batches for b in batches], [b.loss for b in batches]
            )

    def add_epoch(self, e: EpochEnd) -> None:
        """One finished epoch."""
        x = self.offset + e.epoch
        self.train_loss.append(x, e.train_loss)
        self.val_loss.append(x, e.val_loss)
        self.metric.append(x, e.evaluation.accuracy if self.classification else e.evaluation.rmse)
        for points, norm in zip(self.grad_norms, e.layer_grad_norms, strict=False):
            points.append(x, norm)
        self.seconds.append(x, e.elapsed)

    def end_run(self) -> None:
        """The run is over: the next one's epochs come after every epoch so far."""
        self.offset = self.epochs
