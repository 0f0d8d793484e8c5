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


KINDS = {"val_rmse": "regression (MSE loss, RMSE)", "val_accuracy": "classification (cross-entropy, accuracy)"}


def of_one_kind(metrics: Sequence[str]) -> tuple[list[int], str]:
    """Which runs one plot may show together, given each run's metric column: those measured as the first
    is (a regression's MSE and RMSE share no axis with a classifier's cross-entropy and accuracy), and
    what to tell the user of the others ('' when none is left out)."""
    if not metrics:
        return [], ""
    kept = [k for k, metric in enumerate(metrics) if metric == metrics[0]]
    left_out = len(metrics) - len(kept)
    if not left_out:
        return kept, ""
    others = sorted({KINDS.get(m, m) for m in metrics if m != metrics[0]})
    runs = f"{left_out} ticked run{'s' * (left_out > 1)}"
    return kept, (
        f"{runs} not drawn: {', '.join(others)} does not share an axis with {KINDS.get(metrics[0], metrics[0])}; "
        "tick runs of one kind to compare them"
    )


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
