"""Inside the network (Contract 5): every gate, cell and hidden state of every step, and the gradient that
reaches each hidden state — computed apart from training, so that looking never disturbs learning.

A plain step-by-step LSTM, batch-major, on its own arrays; it reads the parameters and writes nothing
else. The fast training path (``lstm_layer``) keeps its own buffers and layout; this one is written
to be read. For every layer and time step t (PyTorch's equations and gate order i, f, g, o):

    Z_t          = x_t · W_ihᵀ + b_ih + h_{t-1} · W_hhᵀ + b_hh     (B, 4H), blocks Z_i, Z_f, Z_g, Z_o
    Gi, Gf, Go   = σ(Z_i), σ(Z_f), σ(Z_o)                         input, forget and output gates
    Cc           = tanh(Z_g)                                       candidate cell
    C_t, h_t     = Gf ⊙ C_{t-1} + Gi ⊙ Cc,  Go ⊙ tanh(C_t)         cell and hidden state

with h_{-1} = C_{-1} = 0, and x_t the layer below's h_t (the network's input for the bottom layer).

Backward, from the last step to the first, dh_t is the TOTAL dL/dh_t: what arrives from above (the
dense layer at the last step of the top layer; the layer above's dL/dZ_t · W_ih otherwise) plus what
returns from step t+1 through its pre-activations, dL/dZ_{t+1} · W_hh:

    dC_t = dC_{t+1} ⊙ Gf_{t+1} + dh_t ⊙ Go ⊙ (1 - tanh² C_t)     total dL/dC_t
    dZ_i = dC_t ⊙ Cc ⊙ Gi (1 - Gi)       dZ_f = dC_t ⊙ C_{t-1} ⊙ Gf (1 - Gf)
    dZ_g = dC_t ⊙ Gi ⊙ (1 - Cc²)         dZ_o = dh_t ⊙ tanh C_t ⊙ Go (1 - Go)

Shapes: B sequences, T steps, H units of the layer, n_in its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_studio.core.activations import sigmoid

Params = Mapping[str, np.ndarray]  # one layer's weight_ih (4H, n_in), weight_hh (4H, H), bias_ih, bias_hh (4H,)


@dataclass(frozen=True)
class LayerTrace:
    """One LSTM layer's activations at every step, each (B, T, H), in the model's dtype (Contract 5)."""

    input_gate: np.ndarray  # Gi = i_t, after σ
    forget_gate: np.ndarray  # Gf = f_t, after σ
    candidate: np.ndarray  # Cc = g_t, after tanh
    output_gate: np.ndarray  # Go = o_t, after σ
    cell: np.ndarray  # C_t
    hidden: np.ndarray  # h_t


@dataclass(frozen=True)
class LayerGradients:
    """One layer's backward pass: the total dL/dh_t, (B, T, H), and dL/dZ_t, (B, T, 4H) in blocks i, f, g, o."""

    hidden: np.ndarray
    gates: np.ndarray


def trace_layers(params: Sequence[Params], x: np.ndarray) -> list[LayerTrace]:
    """Run the stack over x (B, T, n_in) step by step; one trace per layer, bottom first."""
    traces = []
    for p in params:
        traces.append(trace_layer(p, x))
        x = traces[-1].hidden  # the next layer reads this one's hidden states
    return traces


def trace_layer(p: Params, x: np.ndarray) -> LayerTrace:
    """One layer over x (B, T, n_in): the equations above, one step at a time, every activation kept."""
    B, T, _ = x.shape
    H = p["weight_hh"].shape[1]
    Zx = x @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])  # (B, T, 4H): the input's part, every step at once
    W_hh_T = p["weight_hh"].T  # (H, 4H)
    gates = np.empty((B, T, 4 * H), x.dtype)  # Gi, Gf, Cc, Go side by side
    C, h = np.empty((B, T, H), x.dtype), np.empty((B, T, H), x.dtype)
    h_prev = C_prev = np.zeros((B, H), x.dtype)  # h_{-1} = C_{-1} = 0
    for t in range(T):
        Z = Zx[:, t] + h_prev @ W_hh_T  # (B, 4H)
        G = sigmoid(Z)  # Gi, Gf and Go; the g block is replaced next
        G[:, 2 * H : 3 * H] = np.tanh(Z[:, 2 * H : 3 * H])  # Cc
        Gi, Gf, Cc, Go = G[:, :H], G[:, H : 2 * H], G[:, 2 * H : 3 * H], G[:, 3 * H :]
        C_t = Gf * C_prev + Gi * Cc
        h_t = Go * np.tanh(C_t)
        gates[:, t], C[:, t], h[:, t] = G, C_t, h_t
        h_prev, C_prev = h_t, C_t
    Gi, Gf, Cc, Go = (np.ascontiguousarray(gates[:, :, k * H : (k + 1) * H]) for k in range(4))
    return LayerTrace(input_gate=Gi, forget_gate=Gf, candidate=Cc, output_gate=Go, cell=C, hidden=h)


def backprop_layers(
    params: Sequence[Params], traces: Sequence[LayerTrace], dh_last: np.ndarray
) -> list[LayerGradients]:
    """The backward pass of the whole stack, bottom first, from dh_last = dL/dh_{T-1} of the top layer (B, H),
    the only gradient the dense layer sends."""
    B, T, H = traces[-1].hidden.shape
    dh_above = np.zeros((B, T, H), dh_last.dtype)  # what the loss sends to each of the top layer's h_t
    dh_above[:, -1] = dh_last
    grads: list[LayerGradients] = []
    for p, trace in zip(reversed(params), reversed(traces), strict=True):
        grads.append(backprop_layer(p, trace, dh_above))
        dh_above = grads[-1].gates @ p["weight_ih"]  # (B, T, n_in): dL/dx_t, what the layer below's h_t receives
    return grads[::-1]


def backprop_layer(p: Params, trace: LayerTrace, dh_above: np.ndarray) -> LayerGradients:
    """One layer backward through time (the equations above), given dh_above (B, T, H): the gradient that
    reaches each h_t from outside the layer.

    What does not depend on the recurrence is worked out for every step at once; the loop over time
    keeps only what passes from step to step (dh, dC).
    """
    B, T, H = trace.hidden.shape
    Gi, Gf, Cc, Go = trace.input_gate, trace.forget_gate, trace.candidate, trace.output_gate
    tanhC = np.tanh(trace.cell)
    C_prev = np.concatenate([np.zeros_like(trace.cell[:, :1]), trace.cell[:, :-1]], axis=1)  # C_{t-1}
    # dL/dZ = dC_t ⊙ dZ_by_dC for i, f, g, and dh_t ⊙ dZo_by_dh for o; dC_t gains dh_t ⊙ dC_by_dh
    dZ_by_dC = np.stack([Cc * Gi * (1.0 - Gi), C_prev * Gf * (1.0 - Gf), Gi * (1.0 - Cc**2)], axis=2)  # (B, T, 3, H)
    dZo_by_dh = tanhC * Go * (1.0 - Go)
    dC_by_dh = Go * (1.0 - tanhC**2)
    dh_all = np.empty((B, T, H), dh_above.dtype)
    dZ = np.empty((B, T, 4, H), dh_above.dtype)  # blocks i, f, g, o
    dh_next = dC_next = np.zeros((B, H), dh_above.dtype)  # dL/dh_t via step t+1; dL/dC_t via C_{t+1}
    for t in reversed(range(T)):
        dh = dh_above[:, t] + dh_next  # the total dL/dh_t
        dh_all[:, t] = dh
        dC = dC_next + dh * dC_by_dh[:, t]  # the total dL/dC_t
        dZ[:, t, :3] = dZ_by_dC[:, t] * dC[:, None]
        dZ[:, t, 3] = dh * dZo_by_dh[:, t]
        dh_next = dZ[:, t].reshape(B, 4 * H) @ p["weight_hh"]  # on to h_{t-1}, (B, H)
        dC_next = dC * Gf[:, t]  # on to C_{t-1}
    return LayerGradients(hidden=dh_all, gates=dZ.reshape(B, T, 4 * H))


def step_norms(dh: np.ndarray) -> np.ndarray:
    """‖dh[:, t]‖ for every step t of dh (B, T, H), (T,) float64: the Frobenius norm over batch and units.

    Each step is scaled by its largest entry before squaring, so that a gradient that has faded to
    1e-200 over a long sequence reads as 1e-200, not as 0 (its square would underflow).
    """
    dh = np.asarray(dh, np.float64)
    scale = np.abs(dh).max(axis=(0, 2))  # (T,)
    unit = np.where(scale > 0, scale, 1.0)[:, None]  # an all-zero step stays 0
    return scale * np.sqrt(np.sum((dh / unit) ** 2, axis=(0, 2)))
