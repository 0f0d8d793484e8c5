"""One LSTM layer over a whole sequence, forward and backpropagation through time.

Gate equations (gate order i, f, g, o as in PyTorch), for every time step t:

    Z_t = W_ih · x_t + b_ih + W_hh · h_{t-1} + b_hh      pre-activations, (B, 4H)
    Gi  = σ(Z_i)        input gate
    Gf  = σ(Z_f)        forget gate
    Cc  = tanh(Z_g)     candidate cell
    Go  = σ(Z_o)        output gate
    C_t = Gf ⊙ C_{t-1} + Gi ⊙ Cc
    h_t = Go ⊙ tanh(C_t)

Sequences are stored time-major, (T, B, ·), so that every step reads and writes
contiguous slices.
"""

from __future__ import annotations

import numpy as np

from lstm_studio.core.activations import sigmoid_
from lstm_studio.core.initializers import xavier_gates

FORGET_BIAS = 1.0  # start by remembering: gradients flow through C from the first epoch


class LSTMLayer:
    """A single LSTM layer with PyTorch's parameter names and layouts.

    ``params`` and ``grads`` are two dicts with the same keys
    (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``).
    """

    def __init__(self, input_size: int, hidden_size: int, rng: np.random.Generator, dtype: np.dtype) -> None:
        self.input_size = input_size
        self.hidden_size = hidden_size
        H = hidden_size
        bias_ih = np.zeros(4 * H, dtype=dtype)
        bias_ih[H : 2 * H] = FORGET_BIAS
        self.params: dict[str, np.ndarray] = {
            "weight_ih": xavier_gates(rng, H, input_size, dtype),  # (4H, in)
            "weight_hh": xavier_gates(rng, H, H, dtype),  # (4H, H)
            "bias_ih": bias_ih,  # (4H,)
            "bias_hh": np.zeros(4 * H, dtype=dtype),  # (4H,)
        }
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self._cache: dict[str, np.ndarray] | None = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Run the layer over ``X`` (T, B, in); return every hidden state, (T, B, H).

        Keeps what backward needs. The returned array is a view into that cache.
        """
        T, B, _ = X.shape
        H = self.hidden_size
        p = self.params
        # One input projection for all time steps; the loop adds only the recurrent part.
        G = (X.reshape(T * B, -1) @ p["weight_ih"].T).reshape(T, B, 4 * H)  # (T, B, 4H)
        G += p["bias_ih"] + p["bias_hh"]
        Hs = np.zeros((T + 1, B, H), dtype=X.dtype)  # Hs[t] is h_{t-1}
        Cs = np.zeros((T + 1, B, H), dtype=X.dtype)  # Cs[t] is C_{t-1}
        tanhC = np.empty((T, B, H), dtype=X.dtype)
        W_hh_T = p["weight_hh"].T
        for t in range(T):
            Z = G[t]
            Z += Hs[t] @ W_hh_T
            _gate_activations_(Z, H)  # Z now holds Gi, Gf, Cc, Go
            np.multiply(Z[:, H : 2 * H], Cs[t], out=Cs[t + 1])
            Cs[t + 1] += Z[:, :H] * Z[:, 2 * H : 3 * H]
            np.tanh(Cs[t + 1], out=tanhC[t])
            np.multiply(Z[:, 3 * H :], tanhC[t], out=Hs[t + 1])
        self._cache = {"X": X, "G": G, "Hs": Hs, "Cs": Cs, "tanhC": tanhC}
        return Hs[1:]

    def backward(self, dHs: np.ndarray) -> np.ndarray:
        """Backpropagate through time.

        ``dHs`` (T, B, H) is the loss gradient with respect to each returned hidden
        state. Sets ``self.grads`` and returns the gradient with respect to the
        input sequence, (T, B, in).
        """
        if self._cache is None:
            raise RuntimeError("backward() called before forward()")
        X, G, Hs, Cs, tanhC = (self._cache[k] for k in ("X", "G", "Hs", "Cs", "tanhC"))
        T, B, H = dHs.shape
        W_hh = self.params["weight_hh"]
        dZ = np.empty_like(G)  # (T, B, 4H)
        dh_next = np.zeros((B, H), dtype=dHs.dtype)
        dC = np.zeros((B, H), dtype=dHs.dtype)
        for t in reversed(range(T)):
            Gi, Gf, Cc, Go = G[t, :, :H], G[t, :, H : 2 * H], G[t, :, 2 * H : 3 * H], G[t, :, 3 * H :]
            dh = dHs[t] + dh_next
            dC += dh * Go * (1.0 - tanhC[t] ** 2)
            dZt = dZ[t]
            np.multiply(dC * Cc, Gi * (1.0 - Gi), out=dZt[:, :H])
            np.multiply(dC * Cs[t], Gf * (1.0 - Gf), out=dZt[:, H : 2 * H])
            np.multiply(dC * Gi, 1.0 - Cc**2, out=dZt[:, 2 * H : 3 * H])
            np.multiply(dh * tanhC[t], Go * (1.0 - Go), out=dZt[:, 3 * H :])
            dC *= Gf
            dh_next = dZt @ W_hh  # (B, H)
        # Weight gradients as whole-sequence matrix products, not sums of per-step ones.
        dZ2 = dZ.reshape(T * B, 4 * H)
        g = self.grads
        np.matmul(dZ2.T, X.reshape(T * B, -1), out=g["weight_ih"])
        np.matmul(dZ2.T, Hs[:-1].reshape(T * B, H), out=g["weight_hh"])
        np.sum(dZ2, axis=0, out=g["bias_ih"])
        g["bias_hh"][...] = g["bias_ih"]
        return (dZ2 @ self.params["weight_ih"]).reshape(T, B, -1)


def _gate_activations_(Z: np.ndarray, H: int) -> None:
    """Apply σ to the i, f, o blocks and tanh to the g block of ``Z`` (B, 4H), in place."""
    sigmoid_(Z[:, : 2 * H])
    np.tanh(Z[:, 2 * H : 3 * H], out=Z[:, 2 * H : 3 * H])
    sigmoid_(Z[:, 3 * H :])
