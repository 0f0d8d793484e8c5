"""Turning raw sequences into model inputs and model outputs back into raw values."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Normalizer:
    """Affine scaling of a window: ``(x - ref) / scale``, with ``ref`` either a fixed
    ``offset`` or, when ``relative_to_last``, each window's own last value.

    Relative scaling makes the network see the shape of a window, not its level, so a
    model that learned the step of [0..9] knows it for [15..24] too.
    """

    offset: float = 0.0
    scale: float = 1.0
    relative_to_last: bool = False

    def __post_init__(self) -> None:
        if not (np.isfinite(self.offset) and np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"normalisation needs a finite offset and positive scale, got {self}")

    @classmethod
    def fit(cls, windows: np.ndarray, relative_to_last: bool = False) -> Normalizer:
        """Statistics from training windows (N, T) only, so validation never leaks in."""
        if relative_to_last:
            centred = windows - windows[:, -1:]
            return cls(0.0, float(np.std(centred)) or 1.0, True)
        return cls(float(np.mean(windows)), float(np.std(windows)) or 1.0, False)

    def _reference(self, windows: np.ndarray) -> np.ndarray | float:
        return windows[:, -1:] if self.relative_to_last else self.offset

    def encode(self, windows: np.ndarray) -> np.ndarray:
        """Raw windows (N, T) -> model inputs (N, T, 1)."""
        windows = np.asarray(windows, dtype=np.float64)
        return ((windows - self._reference(windows)) / self.scale)[:, :, None]

    def encode_target(self, targets: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """Raw next values (N,) or (N, O) -> model targets (N, O)."""
        targets = np.asarray(targets, dtype=np.float64).reshape(len(windows), -1)
        return (targets - self._reference(windows)) / self.scale

    def decode(self, outputs: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """Model outputs (N, O) -> raw values (N, O)."""
        return np.asarray(outputs, dtype=np.float64) * self.scale + self._reference(
            np.asarray(windows, dtype=np.float64)
        )

    def to_meta(self) -> dict:
        """Plain JSON-able values for the weights file."""
        return asdict(self)

    @classmethod
    def from_meta(cls, meta: dict) -> Normalizer:
        """Inverse of ``to_meta``; raises ValueError on anything malformed."""
        try:
            return cls(float(meta["offset"]), float(meta["scale"]), bool(meta["relative_to_last"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad normalisation record: {exc}") from exc
