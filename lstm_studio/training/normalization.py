"""Turning raw sequences into model inputs and model outputs back into raw values."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from lstm_studio.training.records import MAX_TEXT, read_bool, read_float, read_str

MAX_INPUTS = 64  # other columns a model may read beside its target's history


@dataclass(frozen=True)
class InputScale:
    """How another column (a covariate) enters the model: z-scored on the training part, ``(x - offset) / scale``."""

    column: str
    offset: float
    scale: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.offset) and np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"column {self.column!r} cannot be scaled: offset {self.offset:g}, scale {self.scale:g}")

    @classmethod
    def fit(cls, column: str, values: np.ndarray) -> InputScale:
        """Statistics of the training part of the column."""
        values = np.asarray(values, dtype=np.float64)
        try:
            return cls(column, _mean(values), _spread(values))
        except ValueError:
            raise ValueError(f"the values of column {column!r} are too large to scale") from None


@dataclass(frozen=True)
class Normalizer:
    """Affine scaling of a window, ``(x - ref) / scale``, in one of three modes:

    - plain: ``ref`` is a fixed ``offset`` (the training mean);
    - ``relative_to_last``: ``ref`` is each window's own last value, so the network sees the
      shape of a window, not its level (a model that learned [0..9] knows [15..24] too);
    - ``difference``: the network reads the changes between neighbouring values and predicts
      the next changes, which are added back to the last value. For series with a trend,
      whose later values lie outside anything seen in training.
    """

    offset: float = 0.0
    scale: float = 1.0
    relative_to_last: bool = False
    difference: bool = False
    inputs: tuple[InputScale, ...] = ()  # other columns read beside the target's history, in model order

    def __post_init__(self) -> None:
        if not (np.isfinite(self.offset) and np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(
                f"normalisation needs a finite offset and a positive scale, got offset {self.offset:g}, "
                f"scale {self.scale:g}"
            )

    @classmethod
    def fit(cls, windows: np.ndarray, relative_to_last: bool = False) -> Normalizer:
        """Statistics from training windows (N, T) only, so validation never leaks in."""
        if relative_to_last:
            return cls(0.0, _spread(windows - windows[:, -1:]), True)
        return cls(_mean(windows), _spread(windows), False)

    @classmethod
    def fit_series(cls, values: np.ndarray, difference: bool = False) -> Normalizer:
        """Statistics from the training part of a series (values or their changes)."""
        values = np.asarray(values, dtype=np.float64)
        data = np.diff(values) if difference else values
        try:
            return cls(_mean(data), _spread(data), False, difference)
        except ValueError:
            largest = int(np.argmax(np.abs(values)))
            raise ValueError(
                f"the values are too large to scale: value {largest + 1} of the training part is "
                f"{values[largest]:g}, and their spread overflows a float"
            ) from None

    def _reference(self, windows: np.ndarray) -> np.ndarray | float:
        return windows[:, -1:] if self.relative_to_last else self.offset

    @property
    def input_columns(self) -> tuple[str, ...]:
        """The other columns the model reads, in order."""
        return tuple(scale.column for scale in self.inputs)

    def encode(self, windows: np.ndarray, covariates: np.ndarray | None = None) -> np.ndarray:
        """Raw windows (N, T) -> model inputs (N, T, 1), or (N, T - 1, 1) when differencing; with
        ``inputs``, the raw other columns over the same steps (N, T, k) follow as k more features
        (when differencing, those of the later value of each change)."""
        windows = np.asarray(windows, dtype=np.float64)
        if self.difference:
            own = ((np.diff(windows, axis=1) - self.offset) / self.scale)[:, :, None]
        else:
            own = ((windows - self._reference(windows)) / self.scale)[:, :, None]
        if not self.inputs:
            return own
        if covariates is None or covariates.shape != (*windows.shape, len(self.inputs)):
            raise ValueError(f"the model also reads {', '.join(self.input_columns)}: give their values too")
        offsets = np.array([s.offset for s in self.inputs])
        scales = np.array([s.scale for s in self.inputs])
        others = (np.asarray(covariates, dtype=np.float64)[:, windows.shape[1] - own.shape[1] :] - offsets) / scales
        return np.concatenate([own, others], axis=2)

    def encode_target(self, targets: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """Raw next values (N,) or (N, O) -> model targets (N, O)."""
        windows = np.asarray(windows, dtype=np.float64)
        targets = np.asarray(targets, dtype=np.float64).reshape(len(windows), -1)
        if self.difference:
            previous = np.concatenate([windows[:, -1:], targets[:, :-1]], axis=1)
            return (targets - previous - self.offset) / self.scale
        return (targets - self._reference(windows)) / self.scale

    def decode(self, outputs: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """Model outputs (N, O) -> raw values (N, O)."""
        outputs = np.asarray(outputs, dtype=np.float64)
        windows = np.asarray(windows, dtype=np.float64)
        if self.difference:
            return windows[:, -1:] + np.cumsum(outputs * self.scale + self.offset, axis=1)
        return outputs * self.scale + self._reference(windows)

    def to_meta(self) -> dict:
        """Plain JSON-able values for the weights file (``inputs`` only when there are some)."""
        meta = asdict(self)
        meta["inputs"] = [asdict(scale) for scale in self.inputs]
        if not self.inputs:
            del meta["inputs"]
        return meta

    @classmethod
    def from_meta(cls, meta: dict) -> Normalizer:
        """Inverse of ``to_meta``; ValueError naming the field that is missing or of the wrong type."""
        where = "meta.normalization"
        return cls(
            read_float(meta, "offset", where),
            read_float(meta, "scale", where),
            read_bool(meta, "relative_to_last", where),
            read_bool(meta, "difference", where) if isinstance(meta, dict) and "difference" in meta else False,
            _read_inputs(meta.get("inputs", []) if isinstance(meta, dict) else []),
        )


def _read_inputs(records: object) -> tuple[InputScale, ...]:
    where = "meta.normalization.inputs"
    if not isinstance(records, list) or len(records) > MAX_INPUTS:
        raise ValueError(f"{where} must be a list of at most {MAX_INPUTS} columns")
    scales = []
    for k, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(f"{where}[{k}] must be an object")
        column = read_str(record, "column", f"{where}[{k}]")
        if not column or len(column) > MAX_TEXT:
            raise ValueError(f"{where}[{k}].column must name a column")
        scales.append(InputScale(column, read_float(record, "offset", where), read_float(record, "scale", where)))
    return tuple(scales)


def _mean(values: np.ndarray) -> float:
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(values))


def _spread(values: np.ndarray) -> float:
    """The standard deviation, or 1 for constant values (nothing to scale). Computed on the values divided
    by their largest magnitude, so that the squares of tiny values (1e-200) do not underflow to 0."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        largest = float(np.max(np.abs(values))) if np.size(values) else 0.0
        if largest == 0.0 or not np.isfinite(largest):
            return float(np.std(values)) or 1.0
        return float(np.std(np.asarray(values) / largest) * largest) or 1.0
