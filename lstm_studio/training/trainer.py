"""The training loop: a plain generator of small progress events, no threads and no printing.

The command line prints the events; the window forwards them from a worker thread. Both
stop a run by making ``should_stop`` return True, which is checked before every batch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_studio.core import Adam, LSTMModel, clip_by_global_norm, global_norm
from lstm_studio.training import limits
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.metrics import Evaluation, evaluate

COMPLETED, EARLY_STOPPED, STOPPED, FAILED = "completed", "early-stopped", "stopped", "failed"
# Why a FAILED run failed, as data (``RunEnd.failure``), so nobody has to match message strings.
DIVERGED = "diverged"  # the loss or the gradients became NaN or infinite: lower the learning rate
NO_DATA = "no-data"  # the run's data could not be made (an unreadable CSV, a series too short)
CRASHED = "crashed"  # an internal error (a bug, or the machine ran out of memory)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of one run."""

    lr: float = 0.01  # Adam step size
    epochs: int = 40  # passes over the training part
    batch_size: int = 32  # windows per gradient step
    clip: float = 5.0  # largest global gradient norm; 0 switches clipping off
    patience: int = 0  # epochs without a better validation loss before stopping; 0 = never
    seed: int = 0  # shuffling order of the mini-batches

    def validate(self) -> None:
        """Raise ValueError naming the first impossible setting."""
        if not 0 <= self.seed < 2**31:
            raise ValueError(f"seed must lie between 0 and 2147483647, got {self.seed}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {self.lr}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        if self.batch_size > limits.MAX_BATCH:
            raise ValueError(f"batch size must be at most {limits.MAX_BATCH:,}, got {self.batch_size:,}")
        if not (math.isfinite(self.clip) and self.clip >= 0):
            raise ValueError(f"gradient clip must be 0 (off) or positive, got {self.clip}")
        if self.patience < 0:
            raise ValueError(f"patience must be 0 (off) or positive, got {self.patience}")


@dataclass(frozen=True)
class BatchEnd:
    """One optimiser step was taken."""

    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    batches: int  # per epoch
    loss: float
    grad_norm: float  # global norm before clipping


@dataclass(frozen=True)
class EpochEnd:
    """An epoch finished and was validated."""

    epoch: int
    epochs: int
    train_loss: float  # mean of the epoch's batch losses
    val_loss: float
    evaluation: Evaluation
    layer_grad_norms: tuple[float, ...]  # mean pre-clip norm per LSTM layer, then the dense layer
    samples_per_second: float
    elapsed: float  # seconds since the run started
    best_val_loss: float
    best_epoch: int


@dataclass(frozen=True)
class RunEnd:
    """The run is over; the model holds its best-validated weights (never non-finite ones)."""

    status: str  # COMPLETED, EARLY_STOPPED, STOPPED or FAILED
    message: str
    epochs_run: int
    best_epoch: int  # 0 when no epoch finished
    evaluation: Evaluation | None  # of the weights the model now holds
    train_loss: float | None  # mean batch loss of the best epoch
    elapsed: float
    failure: str | None = None  # FAILED runs: DIVERGED, NO_DATA or CRASHED; None otherwise


Event = BatchEnd | EpochEnd | RunEnd


def _layer_groups(model: LSTMModel) -> list[list[str]]:
    """Parameter names per layer: one list per LSTM layer, then the dense layer."""
    names = list(model.parameters())
    groups = [[n for n in names if n.startswith("lstm.") and n.endswith(f"_l{k}")] for k in range(len(model.layers))]
    return [*groups, [n for n in names if n.startswith("dense.")]]


def _diverged(what: str, loss: float, epoch: int, norms: Sequence[float] = ()) -> str:
    """'loss became NaN at epoch 3: lower the learning rate', or 'infinite', or 'gradients became …'."""
    value = loss if not math.isfinite(loss) else next(v for v in norms if not math.isfinite(v))
    if math.isfinite(loss):
        what = "gradients"
    return f"{what} became {'NaN' if math.isnan(value) else 'infinite'} at epoch {epoch}: lower the learning rate"


class _Best:
    """The best-validated epoch so far: a run ends holding its weights (or the starting ones)."""

    def __init__(self, model: LSTMModel, started: float) -> None:
        self.model, self.started = model, started
        self.state, self.loss, self.epoch = model.state_dict(), math.inf, 0
        self.evaluation: Evaluation | None = None
        self.train_loss: float | None = None

    def offer(self, epoch: int, evaluation: Evaluation, train_loss: float) -> None:
        """Keep the model's weights if ``evaluation`` is the best validation loss yet."""
        if evaluation.loss < self.loss:
            self.state, self.loss, self.epoch = self.model.state_dict(), evaluation.loss, epoch
            self.evaluation, self.train_loss = evaluation, train_loss

    def end(self, status: str, message: str, epochs_run: int, failure: str | None = None) -> RunEnd:
        """Restore the best weights and say how the run ended."""
        self.model.load_state_dict(self.state)
        elapsed = time.perf_counter() - self.started
        return RunEnd(status, message, epochs_run, self.epoch, self.evaluation, self.train_loss, elapsed, failure)


def train(
    model: LSTMModel,
    data: Dataset,
    config: TrainConfig,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[Event]:
    """Train ``model`` on ``data`` with shuffled mini-batches, Adam and clipping, yielding
    progress events; the last event is always a ``RunEnd``.
    """
    config.validate()  # train() may be called on its own: the one check of its settings
    started = time.perf_counter()
    params = model.parameters()
    optimizer = Adam(config.lr)
    rng = np.random.default_rng(config.seed)
    groups = _layer_groups(model)
    # A generated task's arrays; a series' windows, encoded (into the model's dtype) batch by batch as indexed
    x, y = data.x_train.astype(model.dtype), data.y_train
    n = len(x)
    batches = math.ceil(n / config.batch_size)
    best = _Best(model, started)
    for epoch in range(1, config.epochs + 1):
        order = rng.permutation(n)
        epoch_started = time.perf_counter()
        loss_sum, norm_sums = 0.0, np.zeros(len(groups))
        for batch in range(1, batches + 1):
            # stop check: cooperative, once per batch
            if should_stop():
                yield best.end(STOPPED, f"stopped by the user in epoch {epoch}", epoch - 1)
                return
            idx = order[(batch - 1) * config.batch_size : batch * config.batch_size]
            # forward and backward; overflow shows up as a non-finite loss, reported below in words
            with np.errstate(over="ignore", invalid="ignore"):
                loss, grads = model.loss_and_gradients(x[idx], y[idx])
            layer_norms = [global_norm({name: grads[name] for name in group}) for group in groups]
            if not (math.isfinite(loss) and all(map(math.isfinite, layer_norms))):
                yield best.end(FAILED, _diverged("loss", loss, epoch, layer_norms), epoch - 1, DIVERGED)
                return
            # clip, then step
            norm = clip_by_global_norm(grads, config.clip)
            optimizer.step(params, grads)
            # log
            loss_sum += loss
            norm_sums += layer_norms
            yield BatchEnd(epoch, batch, batches, loss, norm)
        train_seconds = time.perf_counter() - epoch_started
        # validate, keep the best weights
        with np.errstate(over="ignore", invalid="ignore"):
            evaluation = evaluate(model, data)
        if not math.isfinite(evaluation.loss):
            yield best.end(FAILED, _diverged("validation loss", evaluation.loss, epoch), epoch - 1, DIVERGED)
            return
        best.offer(epoch, evaluation, loss_sum / batches)
        yield EpochEnd(
            epoch=epoch,
            epochs=config.epochs,
            train_loss=loss_sum / batches,
            val_loss=evaluation.loss,
            evaluation=evaluation,
            layer_grad_norms=tuple(float(s) for s in norm_sums / batches),
            samples_per_second=n / max(train_seconds, 1e-9),
            elapsed=time.perf_counter() - started,
            best_val_loss=best.loss,
            best_epoch=best.epoch,
        )
        # early stopping
        if config.patience and epoch - best.epoch >= config.patience:
            message = f"early stop after epoch {epoch}: no better validation loss for {config.patience} epochs"
            yield best.end(EARLY_STOPPED, message, epoch)
            return
    yield best.end(COMPLETED, f"finished {config.epochs} epochs", config.epochs)
