"""What the commands print besides reports: strict JSON and a prediction as text."""

from __future__ import annotations

import json


def to_json(record: dict) -> str:
    """Strict JSON: a NaN or an infinity is an error here, never ``NaN`` in the output."""
    return json.dumps(record, allow_nan=False)


def format_prediction(prediction: object) -> str:
    """Regression values to four decimals, a class label as it is."""
    if isinstance(prediction, list):
        return ", ".join(f"{v:.4f}" for v in prediction)
    return str(prediction)
