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
# The backward pass prepares everything that does not depend on the recurrence for a chunk of
# steps at once (fewer Python calls), in chunks small enough to stay in the CPU cache.
CHUNK_BYTES = 1 << 20

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
            chunk = min(T, max(1, CHUNK_BYTES // (B * 4 * H * np.dtype(dtype).itemsize)))
            self.backward = {
                "dZ": np.empty((T, B, 4 * H), dtype),  # dL/dZ, every step
                "E": np.empty((chunk, B, 4 * H), dtype),  # dZ / (dC, dC, dC, dh), a chunk of steps
                "GoDtanh": np.empty((chunk, B, H), dtype),  # Go ⊙ (1 - tanh²C): how h_t moves C_t
                "dC": np.empty((B, H), dtype),
                "dh": np.empty((B, H), dtype),
                "dX": np.empty((T, B, n_in), dtype),
                "ones": np.ones(T * B, dtype),
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
        # One value per gate column: a vector along contiguous rows multiplies faster than (4, 1) broadcasting.
        self._scale = np.repeat(_GATE_SCALE[:, 0], H).astype(dtype)  # (4H,)
        self._shift = np.repeat(_GATE_SHIFT[:, 0], H).astype(dtype)
        self._row_scale = self._scale[:, None]  # (4H, 1): the same factors, for the weight matrices' rows
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
        # σ gates' rows halved (see _GATE_SCALE); transposed copies, since BLAS multiplies by a
        # contiguous right-hand matrix about 10 % faster than by a transposed view.
        W_ih_T = np.ascontiguousarray((p["weight_ih"] * self._row_scale).T)  # (in, 4H)
        W_hh_T = np.ascontiguousarray((p["weight_hh"] * self._row_scale).T)  # (H, 4H)
        bias = (p["bias_ih"] + p["bias_hh"]) * self._row_scale[:, 0]
        G = buf.G
        # One input projection for all time steps; the loop adds only the recurrent part.
        np.matmul(X.reshape(T * B, -1), W_ih_T, out=G.reshape(T * B, 4 * H))
        G += bias
        gates = G.reshape(T, B, 4, H)
        Hs, Cs, tanhC, step, tmp = buf.Hs, buf.Cs, buf.tanhC, buf.step, buf.tmp
        for t in range(T):
            Z = G[t]  # (B, 4H)
            np.matmul(Hs[t], W_hh_T, out=step)
            Z += step
            np.tanh(Z, out=Z)
            Z *= self._scale
            Z += self._shift
            Gt = gates[t]  # (B, 4, H): Gi, Gf, Cc, Go
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
        dZ, E, GoDtanh, dC, dh, tmp = b["dZ"], b["E"], b["GoDtanh"], b["dC"], b["dh"], buf.tmp
        G, Cs, tanhC = buf.G, buf.Cs, buf.tanhC
        gates = G.reshape(T, B, 4, H)
        W_hh = self.params["weight_hh"]
        dC.fill(0.0)
        if dh_last is not None:
            dh[...] = dh_last
        else:
            dh.fill(0.0)
        chunk = len(E)
        for end in range(T, 0, -chunk):
            start = max(0, end - chunk)
            _backward_factors(G[start:end], Cs[start:end], tanhC[start:end], E, GoDtanh)
            for t in reversed(range(start, end)):
                k = t - start
                if dHs is not None:
                    dh += dHs[t]
                # dL/dC_t: from h_t through Go ⊙ tanh'(C_t), and from C_{t+1} through its forget gate
                np.multiply(dh, GoDtanh[k], out=tmp)
                dC += tmp
                dZt, Ek = dZ[t].reshape(B, 4, H), E[k].reshape(B, 4, H)
                np.multiply(Ek[:, :3], dC[:, None, :], out=dZt[:, :3])  # i, f, g: all driven by dC
                np.multiply(Ek[:, 3], dh, out=dZt[:, 3])  # o: driven by dh
                dC *= gates[t, :, 1]  # on to C_{t-1}
                np.matmul(dZ[t], W_hh, out=dh)  # on to h_{t-1}
        # Weight gradients as whole-sequence matrix products, not sums of per-step ones.
        dZ2 = dZ.reshape(T * B, 4 * H)
        g = self.grads
        np.matmul(dZ2.T, X.reshape(T * B, -1), out=g["weight_ih"])
        np.matmul(dZ2.T, buf.Hs[:-1].reshape(T * B, H), out=g["weight_hh"])
        np.matmul(b["ones"], dZ2, out=g["bias_ih"])  # the sum over rows, as a BLAS product (4× np.sum)
        g["bias_hh"][...] = g["bias_ih"]
        if not input_grad:
            return None
        dX = b["dX"]
        np.matmul(dZ2, self.params["weight_ih"], out=dX.reshape(T * B, -1))
        return dX


def _backward_factors(G: np.ndarray, C_prev: np.ndarray, tanhC: np.ndarray, E: np.ndarray, GoDtanh: np.ndarray) -> None:
    """For n steps (G: (n, B, 4H)), what turns dC and dh into dL/dZ, none of it recurrent.

    E ← activation derivative × what the gate multiplies in the forward pass:
        i: σ'(Z_i) ⊙ Cc,  f: σ'(Z_f) ⊙ C_{t-1},  g: tanh'(Z_g) ⊙ Gi,  o: σ'(Z_o) ⊙ tanh C_t
    so dL/dZ = E ⊙ (dC, dC, dC, dh). GoDtanh ← Go ⊙ (1 - tanh² C_t). Uses only E[:n], GoDtanh[:n].
    """
    n, _, four_h = G.shape
    H = four_h // 4
    E, GoDtanh = E[:n], GoDtanh[:n]
    gates, Ev = G.reshape(n, -1, 4, H), E.reshape(n, -1, 4, H)
    np.multiply(G, G, out=E)
    np.subtract(G, E, out=E)  # σ' = s - s²
    np.multiply(gates[:, :, 2], gates[:, :, 2], out=Ev[:, :, 2])
    np.subtract(1.0, Ev[:, :, 2], out=Ev[:, :, 2])  # tanh' = 1 - g²
    Ev[:, :, 0] *= gates[:, :, 2]
    Ev[:, :, 1] *= C_prev
    Ev[:, :, 2] *= gates[:, :, 0]
    Ev[:, :, 3] *= tanhC
    np.multiply(tanhC, tanhC, out=GoDtanh)
    np.subtract(1.0, GoDtanh, out=GoDtanh)
    GoDtanh *= gates[:, :, 3]
