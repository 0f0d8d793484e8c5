"""One LSTM layer over a whole sequence, forward and backpropagation through time.

Gate equations (PyTorch's gate order i, f, g, o), for every time step t:

    Z_t = W_ih · x_t + b_ih + W_hh · h_{t-1} + b_hh      pre-activations, (4H, B)
    Gi  = σ(Z_i)        input gate
    Gf  = σ(Z_f)        forget gate
    Cc  = tanh(Z_g)     candidate cell
    Go  = σ(Z_o)        output gate
    C_t = Gf ⊙ C_{t-1} + Gi ⊙ Cc
    h_t = Go ⊙ tanh(C_t)

Sequences are stored feature-major, (features, T, B): one step is a (features, B) block, so
every gate of a step is a contiguous block of rows, and one matrix product over the whole
sequence gives the weight gradients. Every array lives in buffers allocated once per shape.
"""

from __future__ import annotations

import numpy as np

from lstm_studio.core.initializers import xavier_gates

FORGET_BIAS = 1.0  # start by remembering: gradients flow through C from the first epoch
MAX_CACHED_SHAPES = 4  # training batches, the last smaller batch, validation: a few shapes recur
# The backward pass prepares everything that does not depend on the recurrence for a chunk of
# steps at once (fewer Python calls), in chunks small enough that the chunk's buffers and the
# recurrent weights stay in a core's L2 cache (2 MB here): 512 KB measured 2 % faster than 1 MB.
CHUNK_BYTES = 1 << 19
# Whole-sequence rows are padded by 64 bytes: rows a multiple of 2 KiB apart would put one
# step's slice of every row into the same few cache sets.
ROW_PAD = 16

# Inside, the gates are ordered o, i, f, g (PyTorch's blocks 3, 0, 1, 2): the three σ gates
# are then one block of rows, and so are the three gates the cell gradient drives.
GATE_ORDER = (3, 0, 1, 2)
OUTPUT, INPUT, FORGET, CANDIDATE = range(4)  # gate indices, in that internal order


def buffer_bytes(T: int, B: int, n_in: int, H: int, itemsize: int, backward: bool = True) -> int:
    """Bytes one layer's buffers take for a batch of B sequences of T steps (what ``_Buffers``
    allocates), so a run too large for the machine can be refused before it starts."""
    K = n_in + H + 1
    forward = K * (T + 1) * B + 4 * H * T * B + H * (T + 1) * B + H * T * B + 4 * H * K
    if backward:
        forward += 4 * H * T * B + n_in * T * B + 4 * H * K + 2 * CHUNK_BYTES // itemsize
    return forward * itemsize


class _Buffers:
    """Everything one sequence shape needs, allocated once and reused batch after batch."""

    def __init__(self, T: int, B: int, n_in: int, H: int, dtype: np.dtype) -> None:
        K = n_in + H + 1
        # The stacked inputs of every step: x_t, h_{t-1} and a row of ones (for the bias), so
        # one product gives a step's pre-activations. h_t is written to column block t + 1.
        self.XH = _padded_rows(K, T + 1, B, dtype)
        self.XH[-1] = 1.0
        self.G = np.empty((T, 4, H, B), dtype)  # pre-activations, then activations Go, Gi, Gf, Cc
        self.Cs = np.zeros((T + 1, H, B), dtype)  # Cs[t] is C_{t-1}; Cs[0] stays 0
        self.tanhC = np.empty((T, H, B), dtype)
        self.tmp = np.empty((H, B), dtype)
        self.W = np.empty((4 * H, K), dtype)  # [W_ih | W_hh | b] in gate order o, i, f, g
        self.shape = (T, B, n_in, H, dtype)
        self.backward: dict[str, np.ndarray] | None = None  # allocated on the first backward pass

    def backward_buffers(self) -> dict[str, np.ndarray]:
        if self.backward is None:
            T, B, n_in, H, dtype = self.shape
            chunk = min(T, max(1, CHUNK_BYTES // (4 * H * B * np.dtype(dtype).itemsize)))
            self.backward = {
                "dZ": _padded_rows(4 * H, T, B, dtype),  # dL/dZ, every step
                "E": np.empty((chunk, 4, H, B), dtype),  # dZ / (dh, dC, dC, dC), a chunk of steps
                "dZ_chunk": np.empty((chunk, 4, H, B), dtype),  # dL/dZ of a chunk of steps, contiguous
                "GoDtanh": np.empty((chunk, H, B), dtype),  # Go ⊙ (1 - tanh²C): how h_t moves C_t
                "dC": np.empty((H, B), dtype),
                "dh": np.empty((H, B), dtype),
                "dW": np.empty((4 * H, n_in + H + 1), dtype),
                "dX": np.empty((n_in, T, B), dtype),
            }
        return self.backward


def _padded_rows(rows: int, T: int, B: int, dtype: np.dtype) -> np.ndarray:
    """A zeroed (rows, T, B) array whose rows lie ROW_PAD elements further apart than T·B."""
    storage = np.zeros((rows, T * B + ROW_PAD), dtype)
    return _reshaped(storage[:, : T * B], rows, T, B)


def _reshaped(a: np.ndarray, *shape: int) -> np.ndarray:
    """``a`` under a new shape, always a view: a silent copy would lose what is written to it."""
    view = a.reshape(shape)
    if not np.may_share_memory(view, a):
        raise ValueError(f"a reshape to {shape} would copy")
    return view


def _flat(seq: np.ndarray) -> np.ndarray:
    """(rows, T, B) → (rows, T·B), as a view."""
    rows, T, B = seq.shape
    return _reshaped(seq, rows, T * B)


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
        self._rows = np.concatenate([np.arange(H) + k * H for k in GATE_ORDER])  # internal row → PyTorch row
        self._buffers: dict[tuple[int, int], _Buffers] = {}
        self._cache: _Buffers | None = None

    def _buffers_for(self, T: int, B: int, dtype: np.dtype) -> _Buffers:
        buf = self._buffers.pop((T, B), None)
        if buf is None:
            buf = _Buffers(T, B, self.input_size, self.hidden_size, dtype)
            if len(self._buffers) >= MAX_CACHED_SHAPES:
                self._buffers.pop(next(iter(self._buffers)))  # the least recently used shape
        self._buffers[(T, B)] = buf
        return buf

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Run the layer over ``X`` (in, T, B); return every hidden state, (H, T, B).

        Keeps what backward needs. The returned array is a view of a buffer the next forward
        pass of the same shape overwrites.
        """
        n_in, T, B = X.shape
        H = self.hidden_size
        p, rows = self.params, self._rows
        buf = self._buffers_for(T, B, X.dtype)
        XH, W, G, Cs, tanhC, tmp = buf.XH, buf.W, buf.G, buf.Cs, buf.tanhC, buf.tmp
        XH[:n_in, :T] = X
        W[:, :n_in] = p["weight_ih"][rows]
        W[:, n_in:-1] = p["weight_hh"][rows]
        np.add(p["bias_ih"][rows], p["bias_hh"][rows], out=W[:, -1])
        # σ(z) = 0.5·tanh(z/2) + 0.5: with the σ gates' rows halved, one tanh covers all four gates.
        W[: 3 * H] *= 0.5
        Zs = G.reshape(T, 4 * H, B)  # G is contiguous: a view
        for t in range(T):
            Z, gates = Zs[t], G[t]
            np.matmul(W, XH[:, t], out=Z)
            np.tanh(Z, out=Z)
            sigmoids = Z[: 3 * H]
            sigmoids *= 0.5
            sigmoids += 0.5
            np.multiply(gates[FORGET], Cs[t], out=Cs[t + 1])
            np.multiply(gates[INPUT], gates[CANDIDATE], out=tmp)
            Cs[t + 1] += tmp
            np.tanh(Cs[t + 1], out=tanhC[t])
            np.multiply(gates[OUTPUT], tanhC[t], out=XH[n_in:-1, t + 1])
        self._cache = buf
        return XH[n_in:-1, 1:]

    def backward(
        self, dHs: np.ndarray | None = None, dh_last: np.ndarray | None = None, input_grad: bool = True
    ) -> np.ndarray | None:
        """Backpropagate through time; set ``self.grads``.

        The loss gradient reaches the hidden states either at every step, ``dHs`` (H, T, B),
        or only at the last one, ``dh_last`` (H, B). Returns the gradient with respect to
        the input sequence, (in, T, B), unless ``input_grad`` is False (the bottom layer).
        """
        buf = self._cache
        if buf is None:
            raise RuntimeError("backward() called before forward()")
        T, B, n_in, H, _ = buf.shape
        b = buf.backward_buffers()
        dZ, E, GoDtanh, dC, dh, tmp = b["dZ"], b["E"], b["GoDtanh"], b["dC"], b["dh"], buf.tmp
        G, Cs, tanhC = buf.G, buf.Cs, buf.tanhC
        D = b["dZ_chunk"]
        W_hh_T = np.ascontiguousarray(self.params["weight_hh"][self._rows].T)  # (H, 4H), internal order
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
                    dh += dHs[:, t]
                # dL/dC_t: from h_t through Go ⊙ tanh'(C_t), and from C_{t+1} through its forget gate
                np.multiply(dh, GoDtanh[k], out=tmp)
                dC += tmp
                np.multiply(E[k, OUTPUT], dh, out=D[k, OUTPUT])  # o: driven by dh
                np.multiply(E[k, INPUT:], dC, out=D[k, INPUT:])  # i, f, g: driven by dC
                dC *= G[t, FORGET]  # on to C_{t-1}
                np.matmul(W_hh_T, D[k].reshape(4 * H, B), out=dh)  # on to h_{t-1}
            # Written a chunk at a time: one step's rows lie T·B apart, too far apart to write one by one.
            dZ[:, start:end] = D[: end - start].reshape(end - start, 4 * H, B).transpose(1, 0, 2)
        # One whole-sequence product gives [dW_ih | dW_hh | db]; then back to PyTorch's row order.
        dZ2, dW, g, rows = _flat(dZ), b["dW"], self.grads, self._rows
        np.matmul(dZ2, _flat(buf.XH[:, :T]).T, out=dW)
        g["weight_ih"][rows] = dW[:, :n_in]
        g["weight_hh"][rows] = dW[:, n_in:-1]
        g["bias_ih"][rows] = dW[:, -1]
        g["bias_hh"][...] = g["bias_ih"]
        if not input_grad:
            return None
        dX = b["dX"]
        np.matmul(self.params["weight_ih"][rows].T, dZ2, out=_flat(dX))
        return dX


def _backward_factors(G: np.ndarray, C_prev: np.ndarray, tanhC: np.ndarray, E: np.ndarray, GoDtanh: np.ndarray) -> None:
    """For n steps (G: (n, 4, H, B)), what turns dh and dC into dL/dZ, none of it recurrent.

    E ← activation derivative × what the gate multiplies in the forward pass:
        o: σ'(Z_o) ⊙ tanh C_t,  i: σ'(Z_i) ⊙ Cc,  f: σ'(Z_f) ⊙ C_{t-1},  g: tanh'(Z_g) ⊙ Gi
    so dL/dZ = E ⊙ (dh, dC, dC, dC). GoDtanh ← Go ⊙ (1 - tanh² C_t). Uses only E[:n], GoDtanh[:n].
    """
    n = len(G)
    E, GoDtanh = E[:n], GoDtanh[:n]
    sigmoids, sigmoid_grads = G[:, :CANDIDATE], E[:, :CANDIDATE]
    np.multiply(sigmoids, sigmoids, out=sigmoid_grads)
    np.subtract(sigmoids, sigmoid_grads, out=sigmoid_grads)  # σ' = s - s²
    np.multiply(G[:, CANDIDATE], G[:, CANDIDATE], out=E[:, CANDIDATE])
    np.subtract(1.0, E[:, CANDIDATE], out=E[:, CANDIDATE])  # tanh' = 1 - g²
    E[:, OUTPUT] *= tanhC
    E[:, INPUT] *= G[:, CANDIDATE]
    E[:, FORGET] *= C_prev
    E[:, CANDIDATE] *= G[:, INPUT]
    np.multiply(tanhC, tanhC, out=GoDtanh)
    np.subtract(1.0, GoDtanh, out=GoDtanh)
    GoDtanh *= G[:, OUTPUT]
