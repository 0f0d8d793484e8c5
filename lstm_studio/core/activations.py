"""Numerically stable activations, written to work in place on preallocated buffers."""

from __future__ import annotations

import numpy as np


def sigmoid_(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid of ``x`` in place, via 0.5 * (1 + tanh(x / 2)).

    The tanh form never overflows (``exp(-x)`` does for large negative x) and
    needs no temporary arrays.
    """
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid of ``x`` as a new array."""
    return sigmoid_(np.array(x, dtype=np.result_type(x, np.float32), copy=True))


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log of the softmax over the last axis, stable for any logits (log-sum-exp trick)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable for any logits."""
    return np.exp(log_softmax(logits))
