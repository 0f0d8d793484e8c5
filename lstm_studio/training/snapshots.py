"""What the inside view keeps of every epoch, so a run can be replayed at human speed afterwards.

A snapshot holds the weights after an epoch, that epoch's validation predictions, the gradient
flow through time on a fixed small batch of validation windows, and the gates, cell and hidden
states of the window the user looks at. The worker takes one per epoch; the session keeps them
within a memory budget: every epoch until the budget is reached, then every second one, then
every fourth, … (evenly thinned, the newest always kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.sharedctypes import RawValue

import numpy as np

from lstm_studio.core import LSTMModel
from lstm_studio.core.inside import LayerTrace
from lstm_studio.training.dataset import Dataset
from lstm_studio.training.metrics import Evaluation
from lstm_studio.training.predictor import Predictor

FLOW_BATCH = 8  # validation windows the gradient flow is measured on (its cost grows with them)
SNAPSHOT_BUDGET = 64 << 20  # bytes of snapshots kept per model


class Probe:
    """Which validation windows the inside view looks at. The GUI thread sets ``chosen`` and the run
    reads it at its next epoch, also from a forked training process: it lives in shared memory."""

    def __init__(self, chosen: int = 0) -> None:
        self._chosen = RawValue("q", chosen)

    @property
    def chosen(self) -> int:
        """The validation window traced for the inside view."""
        return self._chosen.value

    @chosen.setter
    def chosen(self, window: int) -> None:
        self._chosen.value = window

    @staticmethod
    def flow_batch(n_windows: int) -> np.ndarray:
        """Indices of the fixed batch the gradient flow is measured on: evenly spread over validation."""
        return np.unique(np.linspace(0, n_windows - 1, min(FLOW_BATCH, n_windows)).round().astype(int))


@dataclass(frozen=True)
class Trace:
    """The activations of one window, with the window as the user knows it."""

    window: int  # index among the validation windows, or -1 for a sequence typed into Try it
    raw: np.ndarray  # the values the model read, raw units (T,)
    layers: list[LayerTrace]  # each array (1, T', H); T' = T - 1 when the model reads differences


@dataclass(frozen=True)
class Snapshot:
    """The model after one epoch, as the inside view and a replay need it."""

    epoch: int  # on the model's epoch axis
    state: dict[str, np.ndarray]
    evaluation: Evaluation
    flow: list[np.ndarray]  # ‖∂L/∂h_t‖ per layer, bottom first
    trace: Trace

    @property
    def nbytes(self) -> int:
        """Memory the snapshot holds."""
        arrays = [*self.state.values(), self.evaluation.predictions, self.evaluation.targets, *self.flow]
        arrays += [a for layer in self.trace.layers for a in vars(layer).values()]
        return sum(a.nbytes for a in arrays)


def trace_window(model: LSTMModel, data: Dataset, window: int) -> Trace:
    """The activations of validation window ``window`` (clamped to the windows there are)."""
    window = min(max(window, 0), len(data.x_val) - 1)
    return Trace(window, data.val_windows[window], model.trace(data.x_val[window : window + 1]))


def take_snapshot(model: LSTMModel, data: Dataset, probe: Probe, epoch: int, evaluation: Evaluation,
                  state: dict[str, np.ndarray]) -> Snapshot:  # fmt: skip
    """Measure ``model`` (holding ``state``, the weights after ``epoch``) for the inside view."""
    batch = Probe.flow_batch(len(data.x_val))
    with np.errstate(over="ignore", invalid="ignore"):
        flow = model.gradient_flow(data.x_val[batch], data.y_val[batch])
        trace = trace_window(model, data, probe.chosen)
    return Snapshot(epoch, state, evaluation, flow, trace)


class SnapshotStore:
    """The snapshots of one model, thinned evenly to stay within ``budget`` bytes."""

    def __init__(self, budget: int = SNAPSHOT_BUDGET) -> None:
        self.budget = budget
        self.items: list[Snapshot] = []
        self.taken = 0  # snapshots received, kept or not
        self.stride = 1  # every stride-th epoch is kept
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self.items)

    def add(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` (the newest is always kept until the next one arrives)."""
        self.taken += 1
        if self.items and self.items[-1].epoch % self.stride:  # the previous newest was kept only for now
            self.nbytes -= self.items.pop().nbytes
        self.items.append(snapshot)
        self.nbytes += snapshot.nbytes
        while self.nbytes > self.budget and len(self.items) > 2:
            self.stride *= 2
            kept = [s for s in self.items[:-1] if s.epoch % self.stride == 0] + [self.items[-1]]
            self.items, self.nbytes = kept, sum(s.nbytes for s in kept)

    def at(self, position: int) -> Snapshot:
        """The snapshot at slider ``position`` (0 = the oldest kept)."""
        return self.items[position]

    def describe(self) -> str:
        """'12 epochs kept (every epoch), 0.8 MB' — for the view and the README's promise."""
        every = "every epoch" if self.stride == 1 else f"every {self.stride}th epoch"
        return f"{len(self.items)} of {self.taken} epochs kept ({every}), {self.nbytes / 2**20:.1f} MB"


def unit_order(trace: LayerTrace) -> np.ndarray:
    """Units ordered by activity (mean |h| over time, most active first), so patterns show, not noise."""
    return np.argsort(-np.mean(np.abs(trace.hidden[0]), axis=0), kind="stable")


def worst_window(evaluation: Evaluation, classification: bool) -> int:
    """The validation window the model gets most wrong: the largest error, or the first misclassified."""
    if classification:
        wrong = np.flatnonzero(evaluation.predictions != evaluation.targets)
        return int(wrong[0]) if len(wrong) else 0
    return int(np.argmax(np.abs(evaluation.predictions - evaluation.targets)))


def inspect(model: LSTMModel, data: Dataset | None, window: int, typed: tuple[Predictor, list[float]] | None = None
            ) -> tuple[Trace, list[np.ndarray] | None]:  # fmt: skip
    """The activations the inside view shows for ``model`` (a trace of validation ``window``, or of the
    values typed into Try it, read through ``typed``'s predictor) and, where there is data, the
    gradient flow on the fixed batch. For a worker thread: nothing here is quick enough for the GUI."""
    with np.errstate(over="ignore", invalid="ignore"):
        if typed is not None and not typed[0].input_columns:  # a model of several columns: its data's window
            predictor, values = typed
            raw = np.asarray(values[-predictor.seq_len :], dtype=np.float64)
            trace = Trace(-1, raw, model.trace(predictor.normalizer.encode(raw[None, :])))
        else:
            trace = trace_window(model, data, window)
        if data is None:
            return trace, None
        batch = Probe.flow_batch(len(data.x_val))
        return trace, model.gradient_flow(data.x_val[batch], data.y_val[batch])
