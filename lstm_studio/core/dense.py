"""Fully connected output layer: y = h · Wᵀ + b (PyTorch's ``nn.Linear`` layout)."""

from __future__ import annotations

import numpy as np

from lstm_studio.core.initializers import xavier_uniform


class Dense:
    """Affine map from the top LSTM layer's last hidden state to the outputs."""

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator, dtype: np.dtype) -> None:
        self.params: dict[str, np.ndarray] = {
            "weight": xavier_uniform(rng, out_features, in_features, dtype),  # (out, in)
            "bias": np.zeros(out_features, dtype=dtype),  # (out,)
        }
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self._h: np.ndarray | None = None

    def forward(self, h: np.ndarray) -> np.ndarray:
        """(B, in) -> (B, out)."""
        self._h = h
        return h @ self.params["weight"].T + self.params["bias"]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Set ``grads`` from dL/dy (B, out); return dL/dh (B, in)."""
        if self._h is None:
            raise RuntimeError("backward() called before forward()")
        np.matmul(dy.T, self._h, out=self.grads["weight"])
        np.sum(dy, axis=0, out=self.grads["bias"])
        return dy @ self.params["weight"]
