"""Whether a series is learned as its values or as its changes, decided from the training part alone.

A plain LSTM reads values through saturating gates: on a trending series (CO2, prices, populations)
the validation part lies above anything seen in training and the model flattens out. Learning the
changes (differencing) fixes that, but on a series that swings around a level (sunspots, river flow)
it throws the level away and does worse. The rule: the training part has a trend when a straight
line through it explains at least half of its variance (R² ≥ 0.5). Only values the training windows
use are looked at, so nothing of the validation part decides how the model is trained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIFFERENCE_MODES = ("auto", "on", "off")  # auto: decided by ``decide``; on/off: as the user asked
TREND_R2 = 0.5  # a straight line explains at least this share of the variance: a trend


@dataclass(frozen=True)
class TrendDecision:
    """Whether to learn the changes, and the reason in one line for the user."""

    difference: bool
    reason: str


def line_r2(values: np.ndarray) -> float:
    """The share of the variance of ``values`` that a straight line through them (least squares
    over their positions) explains: 0 for no trend, 1 for a straight line."""
    y = np.asarray(values, dtype=np.float64)
    if len(y) < 3:
        return 0.0
    t = np.arange(len(y), dtype=np.float64)
    t -= t.mean()
    with np.errstate(over="ignore", invalid="ignore"):  # values too large to square: no trend to speak of
        centred = y - y.mean()
        total = float(centred @ centred)
        if total == 0.0 or not np.isfinite(total):
            return 0.0
        explained = float(t @ centred) ** 2 / float(t @ t)
    if not np.isfinite(explained):
        return 0.0
    return min(max(explained / total, 0.0), 1.0)


def decide(mode: str, training_values: np.ndarray) -> TrendDecision:
    """The decision for ``mode`` (one of ``DIFFERENCE_MODES``) on the values the training windows use."""
    if mode not in DIFFERENCE_MODES:
        raise ValueError(f"difference must be one of {', '.join(DIFFERENCE_MODES)}, got {mode!r}")
    if mode != "auto":
        learning = "the changes" if mode == "on" else "the values"
        return TrendDecision(mode == "on", f"differencing {mode}, as asked: learning {learning}")
    r2 = line_r2(training_values)
    share = f"a straight line explains {r2:.0%} of its variance"
    if r2 >= TREND_R2:
        return TrendDecision(True, f"trend detected in the training part ({share}): learning the changes")
    return TrendDecision(False, f"no trend in the training part ({share}): learning the values")


def recorded_mode(value: object, where: str = "difference") -> str:
    """The mode a record holds: a mode name, or the boolean older files and settings wrote."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str) and value in DIFFERENCE_MODES:
        return value
    raise ValueError(f"{where} must be {', '.join(DIFFERENCE_MODES)} or a boolean, got {str(value)[:40]!r}")
