"""One LSTM layer over a whole sequence, forward and backpropagation through time.

Gate equations (gate order i, f, g, o as in PyTorch), for every time step t:

    Z_t = W_ih · x_t + b_ih + W_hh · h_{t-1} + b_hh      pre-activations, (B, 4H)
    Gi  = σ(Z_i)        input gate
    Gf  = σ(Z_f)        forget gate
    Cc  = tanh(Z_g)     candidate cell
    Go  = σ(Z_o)        output gate
    C_t = Gf ⊙ C_{t-1} + Gi ⊙ Cc
    h_t = Go ⊙ tanh(C_t)

Sequences are stored time-major, (T, B, ·), so every step reads and writes contiguous
slices, and every per-step array lives in buffers allocated once per sequence shape.
"""

from __future__ import annotations

import numpy as np

from lstm_studio.core.initializers import xavier_gates

FORGET_BIAS = 1.0  # start by remembering: gradients flow through C from the first epoch
MAX_CACHED_SHAPES = 4  # training batches, the last smaller batch, validation: a few shapes recur

# σ(z) = 0.5·tanh(z/2) + 0.5: with the σ gates' weights halved, one tanh over all four gates
# followed by one scale and one shift gives every activation. Rows: i, f, g, o.
_GATE_SCALE = np.array([[0.5], [0.5], [1.0], [0.5]])
_GATE_SHIFT = np.array([[0.5], [0.5], [0.0], [0.5]])


class _Buffers:
    """Everything one sequence shape needs, allocated once and reused batch after batch."""

    def __init__(self, T: int, B: int, n_in: int, H: int, dtype: np.dtype) -> None:
        self.G = np.empty((T, B, 4 * H), dtype)  # pre-activations, then activations Gi, Gf, Cc, Go
        self.Hs = np.zeros((T + 1, B, H), dtype)  # Hs[t] is h_{t-1}; Hs[0] stays 0
        self.Cs = np.zeros((T + 1, B, H), dtype)  # Cs[t] is C_{t-1}; Cs[0] stays 0
        self.tanhC = np.empty((T, B, H), dtype)
        self.step = np.empty((B, 4 * H), dtype)  # h_{t-1} · W_hhᵀ of one step
        self.tmp = np.empty((B, H), dtype)
        self.shape = (T, B, n_in, H, dtype)
        self.backward: dict[str, np.ndarray] | None = None  # allocated on the first backward pass

    def backward_buffers(self) -> dict[str, np.ndarray]:
        if self.backward is None:
            T, B, n_in, H, dtype = self.shape
            self.backward = {
                "dZ": np.empty((T, B, 4 * H), dtype),  # dL/dZ, every step
                "D": np.empty((B, 4 * H), dtype),  # activation derivatives of one step
                "dC": np.empty((B, H), dtype),
                "dh": np.empty((B, H), dtype),
                "dX": np.empty((T, B, n_in), dtype),
            }
        return self.backward


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
        self._row_scale = np.repeat(_GATE_SCALE[:, 0], H).astype(dtype)[:, None]  # (4H, 1)
        self._scale = _GATE_SCALE.astype(dtype)
        self._shift = _GATE_SHIFT.astype(dtype)
        self._buffers: dict[tuple[int, int], _Buffers] = {}
        self._cache: tuple[np.ndarray, _Buffers] | None = None

    def _buffers_for(self, T: int, B: int, dtype: np.dtype) -> _Buffers:
        buf = self._buffers.pop((T, B), None)
        if buf is None:
            buf = _Buffers(T, B, self.input_size, self.hidden_size, dtype)
            if len(self._buffers) >= MAX_CACHED_SHAPES:
                self._buffers.pop(next(iter(self._buffers)))  # the least recently used shape
        self._buffers[(T, B)] = buf
        return buf

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Run the layer over ``X`` (T, B, in); return every hidden state, (T, B, H).

        Keeps what backward needs. The returned array is a buffer the next forward pass of
        the same shape overwrites.
        """
        T, B, _ = X.shape
        H = self.hidden_size
        p = self.params
        buf = self._buffers_for(T, B, X.dtype)
        W_ih = p["weight_ih"] * self._row_scale  # σ gates' rows halved (see _GATE_SCALE)
        W_hh_T = (p["weight_hh"] * self._row_scale).T  # (H, 4H)
        bias = (p["bias_ih"] + p["bias_hh"]) * self._row_scale[:, 0]
        G = buf.G
        # One input projection for all time steps; the loop adds only the recurrent part.
        np.matmul(X.reshape(T * B, -1), W_ih.T, out=G.reshape(T * B, 4 * H))
        G += bias
        gates = G.reshape(T, B, 4, H)
        Hs, Cs, tanhC, step, tmp = buf.Hs, buf.Cs, buf.tanhC, buf.step, buf.tmp
        for t in range(T):
            Z = G[t]  # (B, 4H)
            np.matmul(Hs[t], W_hh_T, out=step)
            Z += step
            np.tanh(Z, out=Z)
            Gt = gates[t]  # (B, 4, H): Gi, Gf, Cc, Go after the next two lines
            Gt *= self._scale
            Gt += self._shift
            np.multiply(Gt[:, 1], Cs[t], out=Cs[t + 1])
            np.multiply(Gt[:, 0], Gt[:, 2], out=tmp)
            Cs[t + 1] += tmp
            np.tanh(Cs[t + 1], out=tanhC[t])
            np.multiply(Gt[:, 3], tanhC[t], out=Hs[t + 1])
        self._cache = (X, buf)
        return Hs[1:]

    def backward(
        self, dHs: np.ndarray | None = None, dh_last: np.ndarray | None = None, input_grad: bool = True
    ) -> np.ndarray | None:
        """Backpropagate through time; set ``self.grads``.

        The loss gradient reaches the hidden states either at every step, ``dHs`` (T, B, H),
        or only at the last one, ``dh_last`` (B, H). Returns the gradient with respect to
        the input sequence, (T, B, in), unless ``input_grad`` is False (the bottom layer).
        """
        if self._cache is None:
            raise RuntimeError("backward() called before forward()")
        X, buf = self._cache
        T, B, _ = X.shape
        H = self.hidden_size
        b = buf.backward_buffers()
        dZ, D, dC, dh, tmp = b["dZ"], b["D"], b["dC"], b["dh"], buf.tmp
        G, Cs, tanhC = buf.G, buf.Cs, buf.tanhC
        gates = G.reshape(T, B, 4, H)
        Dg = D.reshape(B, 4, H)[:, 2]
        dC.fill(0.0)
        if dh_last is not None:
            dh[...] = dh_last
        else:
            dh.fill(0.0)
        W_hh = self.params["weight_hh"]
        for t in reversed(range(T)):
            if dHs is not None:
                dh += dHs[t]
            Gt, dZt = gates[t], dZ[t].reshape(B, 4, H)
            # Activation derivatives of this step, while its gates are in cache:
            # σ' = s - s², tanh' = 1 - g².
            np.multiply(G[t], G[t], out=D)
            np.subtract(G[t], D, out=D)
            np.multiply(Gt[:, 2], Gt[:, 2], out=Dg)
            np.subtract(1.0, Dg, out=Dg)
            # dL/dC_t: from h_t through Go ⊙ tanh'(C_t), and from C_{t+1} through its forget gate
            np.multiply(tanhC[t], tanhC[t], out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            tmp *= Gt[:, 3]
            tmp *= dh
            dC += tmp
            np.multiply(dC, Gt[:, 2], out=dZt[:, 0])  # dL/dGi = dC ⊙ Cc
            np.multiply(dC, Cs[t], out=dZt[:, 1])  # dL/dGf = dC ⊙ C_{t-1}
            np.multiply(dC, Gt[:, 0], out=dZt[:, 2])  # dL/dCc = dC ⊙ Gi
            np.multiply(dh, tanhC[t], out=dZt[:, 3])  # dL/dGo = dh ⊙ tanh C_t
            dZ[t] *= D  # through the activations: dL/dZ_t
            dC *= Gt[:, 1]  # on to C_{t-1}
            np.matmul(dZ[t], W_hh, out=dh)  # on to h_{t-1}
        # Weight gradients as whole-sequence matrix products, not sums of per-step ones.
        dZ2 = dZ.reshape(T * B, 4 * H)
        g = self.grads
        np.matmul(dZ2.T, X.reshape(T * B, -1), out=g["weight_ih"])
        np.matmul(dZ2.T, buf.Hs[:-1].reshape(T * B, H), out=g["weight_hh"])
        np.sum(dZ2, axis=0, out=g["bias_ih"])
        g["bias_hh"][...] = g["bias_ih"]
        if not input_grad:
            return None
        dX = b["dX"]
        np.matmul(dZ2, self.params["weight_ih"], out=dX.reshape(T * B, -1))
        return dX
