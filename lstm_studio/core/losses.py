"""Loss functions: each returns the batch-mean loss and its gradient w.r.t. the outputs.

Both match PyTorch's defaults (``nn.MSELoss()``, ``nn.CrossEntropyLoss()``, reduction="mean").
"""

from __future__ import annotations

import numpy as np

from lstm_studio.core.activations import log_softmax

LOSSES = ("mse", "cross_entropy")


def mse(y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error: the mean (over batch AND outputs, no 1/2) of (y - target)².

    y, target: (B, O). Returns (loss, dL/dy).
    """
    diff = y - target
    loss = float(np.mean(diff**2))
    return loss, diff * (2.0 / diff.size)


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy, the mean over the batch of -log p(target class).

    logits: (B, K); target: (B,) integer class indices. Returns (loss, dL/dlogits).
    Uses log-sum-exp so that large logits never overflow.
    """
    B = logits.shape[0]
    rows = np.arange(B)
    logp = log_softmax(logits)
    loss = float(-np.mean(logp[rows, target]))
    dlogits = np.exp(logp)
    dlogits[rows, target] -= 1.0
    dlogits /= B
    return loss, dlogits
