"""Central finite differences for every parameter of a model."""

import numpy as np

from lstm_studio.core import LSTMModel


def numeric_gradients(model: LSTMModel, x: np.ndarray, target: np.ndarray, eps: float = 1e-6) -> dict:
    """dL/dθ for every parameter entry by (L(θ+ε) - L(θ-ε)) / 2ε."""
    numeric = {}
    for name, p in model.parameters().items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            plus, _ = model.loss_and_gradients(x, target)
            p[i] = old - eps
            minus, _ = model.loss_and_gradients(x, target)
            p[i] = old
            g[i] = (plus - minus) / (2 * eps)
        numeric[name] = g
    return numeric


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| relative to the larger of the two arrays' scales."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12))
