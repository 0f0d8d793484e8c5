"""Numerically stable σ, softmax and log-softmax (the LSTM layer's training path computes its own σ and tanh
in place, in its buffers)."""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^{-z}), computed as 0.5·tanh(z/2) + 0.5: never overflows, and the same
    formula the training path uses, so both give the same gates."""
    return 0.5 * np.tanh(0.5 * z) + 0.5


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log of the softmax over the last axis, stable for any logits (log-sum-exp trick)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, stable for any logits."""
    return np.exp(log_softmax(logits))
