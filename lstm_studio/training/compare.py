"""Comparing runs: which settings tell them apart, and curves smoothed as TensorBoard smooths them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstm_studio.training.experiment import Experiment

# (label, how to read it off an experiment): the settings a comparison may name
SETTINGS = (
    ("task", lambda e: e.task),
    ("layers", lambda e: ",".join(map(str, e.hidden_sizes))),
    ("lr", lambda e: f"{e.train.lr:g}"),
    ("batch", lambda e: str(e.train.batch_size)),
    ("seq", lambda e: str(e.settings.seq_len)),
    ("epochs", lambda e: str(e.train.epochs)),
    ("clip", lambda e: f"{e.train.clip:g}"),
    ("seed", lambda e: str(e.train.seed)),
    ("dtype", lambda e: e.dtype),
)


def settings_of(experiment: Experiment) -> dict[str, str]:
    """The comparable settings of one run, as short texts."""
    return {label: read(experiment) for label, read in SETTINGS}


def differing_labels(experiments: Sequence[Experiment | None]) -> list[str]:
    """A legend label per run naming only the settings that differ between them ('lr 0.01, layers 32'),
    so two curves are told apart by what was changed."""
    known = [settings_of(e) if e is not None else {} for e in experiments]
    differing = [label for label, _ in SETTINGS if len({k.get(label) for k in known}) > 1]
    return [", ".join(f"{label} {k[label]}" for label in differing if label in k) for k in known]


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """Exponential moving average with TensorBoard's debiasing (the first points are not pulled
    towards zero); ``weight`` 0 leaves the values as they are. NaNs are skipped, not spread."""
    values = np.asarray(values, dtype=np.float64)
    if weight <= 0 or len(values) == 0:
        return values
    out = np.empty_like(values)
    last, count = 0.0, 0
    for i, value in enumerate(values):
        if not np.isfinite(value):
            out[i] = value
            continue
        last, count = last * weight + (1 - weight) * value, count + 1
        out[i] = last / (1 - weight**count)
    return out
