"""Numerically stable softmax and log-softmax (the LSTM layer computes its own σ and tanh in place)."""

from __future__ import annotations

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log of the softmax over the last axis, stable for any logits (log-sum-exp trick)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable for any logits."""
    return np.exp(log_softmax(logits))
