"""The words the window says about runs and models: pure functions, tested without a window."""

from __future__ import annotations

from lstm_studio.gui.status import format_seconds
from lstm_studio.training import COMPLETED, DIVERGED, FAILED, NO_DATA, RunEnd

METRIC_NAMES = {
    "train_loss": "train loss",
    "val_loss": "val loss",
    "val_accuracy": "val accuracy",
    "val_rmse": "val RMSE",
    "val_mae": "val MAE",
    "persistence_rmse": "RMSE of repeating the last value",
    "mean_rmse": "RMSE of the training mean",
}


def run_end_message(result: RunEnd) -> tuple[str, bool]:
    """What to tell about a finished run, and whether it is an error."""
    if result.status == FAILED:
        if result.failure == NO_DATA:
            return result.message, True
        if result.failure == DIVERGED:
            return f"{result.message}. The weights are those of the best epoch before it.", True
        return f"{result.message}. Reset for new weights.", True
    kept = (
        f"the model keeps the best epoch ({result.best_epoch})"
        if result.best_epoch
        else "the weights are back to where the run started"
    )
    took = format_seconds(result.elapsed)
    return f"{result.message} {'in' if result.status == COMPLETED else 'after'} {took}; {kept}", False


def metrics_text(metrics: dict[str, float | None]) -> str:
    """'Best weights: train loss … · val RMSE … · …' for the metrics line."""
    parts = []
    for key, label in METRIC_NAMES.items():
        value = metrics.get(key)
        if value is not None:
            parts.append(f"{label} {value:.2%}" if key == "val_accuracy" else f"{label} {value:.4g}")
    return "Best weights: " + " · ".join(parts) if parts else ""
