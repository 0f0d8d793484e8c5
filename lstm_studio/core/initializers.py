"""Weight initialisation."""

from __future__ import annotations

import numpy as np


def xavier_uniform(rng: np.random.Generator, fan_out: int, fan_in: int, dtype: np.dtype) -> np.ndarray:
    """Glorot/Xavier uniform matrix of shape (fan_out, fan_in).

    Keeps the variance of activations and gradients roughly equal across
    layers, so deep stacks neither saturate nor vanish at the start.
    """
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_out, fan_in)).astype(dtype)


def xavier_gates(rng: np.random.Generator, hidden: int, fan_in: int, dtype: np.dtype) -> np.ndarray:
    """Four Xavier blocks stacked as (4·hidden, fan_in), one per gate (i, f, g, o).

    Each gate is its own (hidden × fan_in) map, so each gets its own Glorot scale
    rather than one computed for the fused 4·hidden rows.
    """
    return np.concatenate([xavier_uniform(rng, hidden, fan_in, dtype) for _ in range(4)])
