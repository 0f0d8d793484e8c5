"""Contract 5: ``model.trace`` and ``model.gradient_flow``.

Checked against an LSTM written here from PyTorch's documented ``nn.LSTM`` equations (with a point to inject a
change of any h_t, for finite differences), against ``loss_and_gradients``, and against PyTorch where it is
installed; and read-only: parameters, gradients and the training path's buffers stay as they were.
"""

import time
import warnings

import numpy as np
import pytest

from lstm_studio.core import Adam, LayerTrace, LSTMModel, clip_by_global_norm
from lstm_studio.core.inside import step_norms
from tests.gradcheck import relative_error
from tests.test_core import saturated_model
from tests.test_gradients import SHAPES, perturbed_model

FIELDS = ("input_gate", "forget_gate", "candidate", "output_gate", "cell", "hidden")
LOSSES = ("mse", "cross_entropy")


# ----- an independent LSTM, from PyTorch's documentation -------------------------------------------------------
def reference_forward(state: dict, x: np.ndarray, bump: dict | None = None) -> tuple[list[dict], np.ndarray]:
    """nn.LSTM (batch_first) + nn.Linear on the last step, per the PyTorch docs; per layer {field: (B, T, H)}.

    ``bump[(k, t)]`` (B, H) is added to layer k's h_t as soon as it is computed, before anything reads it, so
    that (L(h_t + ε) - L(h_t - ε)) / 2ε is the total dL/dh_t.
    """
    bump = bump or {}
    layers, inputs, k = [], x, 0
    while f"lstm.weight_ih_l{k}" in state:
        W_ii, W_if, W_ig, W_io = np.split(state[f"lstm.weight_ih_l{k}"], 4)
        W_hi, W_hf, W_hg, W_ho = np.split(state[f"lstm.weight_hh_l{k}"], 4)
        b_i, b_f, b_g, b_o = np.split(state[f"lstm.bias_ih_l{k}"] + state[f"lstm.bias_hh_l{k}"], 4)
        B, T, _ = inputs.shape
        h = c = np.zeros((B, len(b_i)))
        steps = {name: [] for name in FIELDS}
        for t in range(T):
            x_t = inputs[:, t]
            i = 1 / (1 + np.exp(-(x_t @ W_ii.T + h @ W_hi.T + b_i)))
            f = 1 / (1 + np.exp(-(x_t @ W_if.T + h @ W_hf.T + b_f)))
            g = np.tanh(x_t @ W_ig.T + h @ W_hg.T + b_g)
            o = 1 / (1 + np.exp(-(x_t @ W_io.T + h @ W_ho.T + b_o)))
            c = f * c + i * g
            h = o * np.tanh(c) + bump.get((k, t), 0.0)
            for name, value in zip(FIELDS, (i, f, g, o, c, h), strict=True):
                steps[name].append(value)
        layers.append({name: np.stack(values, axis=1) for name, values in steps.items()})
        inputs, k = layers[-1]["hidden"], k + 1
    return layers, inputs[:, -1] @ state["dense.weight"].T + state["dense.bias"]


def reference_loss(y: np.ndarray, target: np.ndarray, loss: str) -> float:
    """nn.MSELoss() / nn.CrossEntropyLoss(): means over the batch (and outputs, for MSE)."""
    if loss == "mse":
        return float(np.mean((y - target) ** 2))
    logp = y - y.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    return float(-np.mean(logp[np.arange(len(target)), target]))


def numeric_hidden_gradients(state, x, target, loss, eps=1e-6) -> list[np.ndarray]:
    """dL/dh_t of every layer, (B, T, H) each, by central differences on the reference."""
    layers, _ = reference_forward(state, x)
    numeric = []
    for k, layer in enumerate(layers):
        dh = np.zeros_like(layer["hidden"])
        for b, t, j in np.ndindex(dh.shape):
            e = np.zeros(dh[:, t].shape)
            e[b, j] = eps
            plus = reference_loss(reference_forward(state, x, {(k, t): e})[1], target, loss)
            minus = reference_loss(reference_forward(state, x, {(k, t): -e})[1], target, loss)
            dh[b, t, j] = (plus - minus) / (2 * eps)
        numeric.append(dh)
    return numeric


def problem(loss, input_size, hidden, output, batch, time_steps, rng):
    """A float64 model with non-trivial weights, a batch and its targets."""
    model = perturbed_model(input_size, hidden, output, loss, rng)
    x = rng.normal(size=(batch, time_steps, input_size))
    target = rng.normal(size=(batch, output)) if loss == "mse" else rng.integers(0, output, size=batch)
    return model, x, target


# ----- traces --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("input_size", "hidden", "output", "batch", "time_steps"), SHAPES)
def test_traces_match_a_step_by_step_recomputation(input_size, hidden, output, batch, time_steps, rng):
    model, x, _ = problem("mse", input_size, hidden, output, batch, time_steps, rng)
    traces = model.trace(x)
    expected, _ = reference_forward(model.state_dict(), x)
    assert len(traces) == len(hidden)
    for k, (trace, reference) in enumerate(zip(traces, expected, strict=True)):
        assert isinstance(trace, LayerTrace)
        for name in FIELDS:
            value = getattr(trace, name)
            assert value.shape == (batch, time_steps, hidden[k]) and value.dtype == np.float64, name
            np.testing.assert_allclose(value, reference[name], rtol=1e-12, atol=1e-14, err_msg=f"layer {k} {name}")


@pytest.mark.parametrize("hidden", [[4], [3, 5], [2, 6, 3]])
def test_the_top_layers_last_hidden_state_is_what_the_dense_layer_reads(hidden, rng):
    model, x, _ = problem("mse", 2, hidden, 3, 4, 7, rng)
    h_last = model.trace(x)[-1].hidden[:, -1]
    dense = model.state_dict()
    np.testing.assert_allclose(model.forward(x), h_last @ dense["dense.weight"].T + dense["dense.bias"], rtol=1e-12)


# ----- gradient flow -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("input_size", "hidden", "output", "batch", "time_steps"), SHAPES)
def test_gradient_flow_matches_finite_differences(loss, input_size, hidden, output, batch, time_steps, rng):
    model, x, target = problem(loss, input_size, hidden, output, batch, time_steps, rng)
    numeric = numeric_hidden_gradients(model.state_dict(), x, target, loss)
    analytic = model.gradients_through_time(x, target)
    flows = model.gradient_flow(x, target)
    assert len(flows) == len(hidden)
    for k, (flow, grads, dh) in enumerate(zip(flows, analytic, numeric, strict=True)):
        assert flow.shape == (time_steps,) and flow.dtype == np.float64
        assert relative_error(grads.hidden, dh) < 1e-6, f"layer {k}"
        np.testing.assert_allclose(flow, np.linalg.norm(dh, axis=(0, 2)), rtol=1e-6, err_msg=f"layer {k}")


@pytest.mark.parametrize("loss", LOSSES)
def test_one_layers_last_step_receives_exactly_the_dense_layers_gradient(loss, rng):
    model, x, target = problem(loss, 2, [5], 3, 4, 6, rng)
    state = model.state_dict()
    y = model.forward(x)
    if loss == "mse":
        dy = 2 * (y - target) / y.size
    else:
        p = np.exp(y - y.max(axis=1, keepdims=True))
        dy = (p / p.sum(axis=1, keepdims=True) - np.eye(3)[target]) / len(target)
    (flow,) = model.gradient_flow(x, target)
    assert flow[-1] == pytest.approx(np.linalg.norm(dy @ state["dense.weight"]), rel=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("input_size", "hidden", "output", "batch", "time_steps"), SHAPES)
def test_per_step_gate_gradients_give_loss_and_gradients_weight_gradients(
    loss, input_size, hidden, output, batch, time_steps, rng
):
    model, x, target = problem(loss, input_size, hidden, output, batch, time_steps, rng)
    traces, flows = model.trace(x), model.gradients_through_time(x, target)
    _, grads = model.loss_and_gradients(x, target)
    inputs = [x] + [trace.hidden for trace in traces[:-1]]
    for k, (trace, dZ, x_k) in enumerate(zip(traces, (g.gates for g in flows), inputs, strict=True)):
        h_prev = np.concatenate([np.zeros_like(trace.hidden[:, :1]), trace.hidden[:, :-1]], axis=1)
        recomputed = {
            "weight_ih": np.einsum("btg,bti->gi", dZ, x_k),  # Σ over batch and steps of dL/dZ_t x_tᵀ
            "weight_hh": np.einsum("btg,bti->gi", dZ, h_prev),
            "bias_ih": dZ.sum(axis=(0, 1)),
            "bias_hh": dZ.sum(axis=(0, 1)),
        }
        for name, g in recomputed.items():
            np.testing.assert_allclose(g, grads[f"lstm.{name}_l{k}"], rtol=1e-10, atol=1e-14, err_msg=f"{name} {k}")


def test_step_norms_measure_gradients_far_below_the_square_root_of_the_smallest_float():
    dh = np.zeros((2, 3, 4))
    dh[:, 0] = 3e-200  # its square underflows to 0
    dh[0, 1, 0] = -1.0
    np.testing.assert_allclose(step_norms(dh), [3e-200 * np.sqrt(8), 1.0, 0.0], rtol=1e-14)


# ----- read-only -----------------------------------------------------------------------------------------------
def training_state(model: LSTMModel) -> dict:
    """Bytes of every array a training step owns (parameters, gradients, each layer's buffers of every shape,
    the dense layer's input), plus which buffers are cached, in which order, and which the last step used."""
    arrays = {f"parameter {n}": p for n, p in model.parameters().items()}
    arrays |= {f"gradient {n}": g for n, g in model.gradients().items()}
    for k, layer in enumerate(model.layers):
        for shape, buf in layer._buffers.items():
            owned = {**vars(buf), **(buf.backward or {})}
            arrays |= {f"layer {k} {shape} {n}": a for n, a in owned.items() if isinstance(a, np.ndarray)}
    arrays["dense input"] = model.dense._h
    state = {name: (a.dtype, a.shape, a.tobytes()) for name, a in arrays.items()}
    state["cached shapes"] = [list(layer._buffers) for layer in model.layers]
    state["last used"] = [id(layer._cache) for layer in model.layers] + [id(model.dense._h)]
    return state


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trace_and_gradient_flow_leave_parameters_gradients_and_buffers_untouched(loss, dtype, rng):
    model = LSTMModel(2, [5, 4], 3, loss=loss, seed=2, dtype=dtype)
    batches = [problem(loss, 2, [5, 4], 3, batch, steps, rng)[1:] for batch, steps in ((4, 6), (3, 9), (4, 6))]
    for x, target in batches[1:]:
        model.loss_and_gradients(x, target)  # two shapes in the cache, the (4, 6) one used last
    before = training_state(model)
    for x, target in batches:  # the shape of the last step, another cached shape, and new shapes
        model.trace(x)
        model.gradient_flow(x, target)
    model.trace(rng.normal(size=(1, 2, 2)))
    model.gradient_flow(rng.normal(size=(5, 3, 2)), batches[0][1][:1].repeat(5, axis=0))
    after = training_state(model)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], name


@pytest.mark.parametrize("loss", LOSSES)
def test_looking_inside_between_batches_changes_no_training_step(loss, rng):
    """Two twins trained alike, one inspected between its gradients and its optimiser step: the same weights."""
    twins = [LSTMModel(2, [5, 4], 3, loss=loss, seed=5) for _ in range(2)]
    optimisers = [Adam(lr=0.05), Adam(lr=0.05)]
    batches = [problem(loss, 2, [5, 4], 3, 4, 6, rng)[1:] for _ in range(3)]
    for x, target in batches:
        for model, optimiser in zip(twins, optimisers, strict=True):
            _, grads = model.loss_and_gradients(x, target)
            if model is twins[1]:
                snapshot = {name: g.copy() for name, g in grads.items()}
                model.trace(x)
                model.gradient_flow(x, target)
                for name, g in model.gradients().items():
                    np.testing.assert_array_equal(g, snapshot[name], err_msg=name)
            clip_by_global_norm(grads, 1.0)
            optimiser.step(model.parameters(), grads)
    for name, p in twins[0].parameters().items():
        np.testing.assert_array_equal(twins[1].parameters()[name], p, err_msg=name)


# ----- dtypes, edges, checks, speed ----------------------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES)
def test_float32_traces_stay_float32_and_agree_with_float64(loss, rng):
    model64, x, target = problem(loss, 2, [5, 3], 3, 4, 8, rng)
    model32 = LSTMModel(2, [5, 3], 3, loss=loss, dtype=np.float32)
    model32.load_state_dict(model64.state_dict())
    for t32, t64 in zip(model32.trace(x), model64.trace(x), strict=True):
        for name in FIELDS:
            assert getattr(t32, name).dtype == np.float32, name
            np.testing.assert_allclose(getattr(t32, name), getattr(t64, name), rtol=1e-5, atol=1e-6, err_msg=name)
    for f32, f64 in zip(model32.gradient_flow(x, target), model64.gradient_flow(x, target), strict=True):
        assert f32.dtype == np.float64
        np.testing.assert_allclose(f32, f64, rtol=1e-4)


@pytest.mark.parametrize("z", [1.0, 800.0, 1e4])
def test_saturated_gates_give_finite_traces_and_flows_without_warnings(z):
    model, x = saturated_model(z, np.float64), np.ones((2, 3, 1))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        traces = model.trace(x)
        (flow,) = model.gradient_flow(x, np.zeros((2, 2)))
    assert all(np.all(np.isfinite(getattr(trace, name))) for trace in traces for name in FIELDS)
    assert np.all(np.isfinite(flow))


def test_inputs_and_targets_are_checked_like_loss_and_gradients():
    model = LSTMModel(2, [4], 3, loss="cross_entropy")
    with pytest.raises(ValueError, match=r"\(batch, time, 2\)"):
        model.trace(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"\(batch, time, 2\)"):
        model.gradient_flow(np.zeros((3, 5, 1)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="class indices"):
        model.gradient_flow(np.zeros((2, 3, 2)), np.array([0, 3]))


def test_a_look_inside_a_small_model_takes_milliseconds(rng):
    model = LSTMModel(1, [32, 32], 1)
    x, target = rng.normal(size=(16, 20, 1)), rng.normal(size=(16, 1))
    times = []
    for _ in range(7):
        start = time.perf_counter()
        model.trace(x)
        model.gradient_flow(x, target)
        times.append(time.perf_counter() - start)
    assert np.median(times) < 0.05  # a few ms measured; the margin is for a busy machine


# ----- PyTorch -------------------------------------------------------------------------------------------------
def torch_unrolled(state: dict, x: np.ndarray, target: np.ndarray, loss: str) -> tuple[list[dict], list[list]]:
    """The network step by step in PyTorch: one nn.LSTMCell per layer with the state's weights, the gates from
    the cell's own weights, the loss backpropagated by autograd with every h_t's gradient kept."""
    torch = pytest.importorskip("torch")
    inputs = list(torch.from_numpy(x).unbind(1))
    layers, hidden_states, k = [], [], 0
    while f"lstm.weight_ih_l{k}" in state:
        H = state[f"lstm.weight_hh_l{k}"].shape[1]
        cell = torch.nn.LSTMCell(inputs[0].shape[1], H).double()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).data = torch.from_numpy(state[f"lstm.{name}_l{k}"].copy())
        h = c = torch.zeros(len(x), H, dtype=torch.float64)
        steps = {name: [] for name in FIELDS}
        for x_t in inputs:
            with torch.no_grad():
                z = x_t @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
                i, f, g, o = z.chunk(4, dim=1)
            h, c = cell(x_t, (h, c))
            h.retain_grad()
            for name, value in zip(FIELDS, (i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid(), c, h), strict=True):
                steps[name].append(value)
        layers.append({name: torch.stack(values, dim=1).detach().numpy() for name, values in steps.items()})
        hidden_states.append(steps["hidden"])
        inputs, k = steps["hidden"], k + 1
    y = inputs[-1] @ torch.from_numpy(state["dense.weight"]).T + torch.from_numpy(state["dense.bias"])
    criterion = torch.nn.MSELoss() if loss == "mse" else torch.nn.CrossEntropyLoss()
    criterion(y, torch.from_numpy(target)).backward()
    return layers, [[h.grad.numpy() for h in steps] for steps in hidden_states]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("hidden", [[8], [6, 5], [4, 7, 3]])
def test_traces_and_flows_match_pytorch(loss, hidden, rng):
    torch = pytest.importorskip("torch")
    model, x, target = problem(loss, 3, hidden, 4, 5, 9, rng)
    state = model.state_dict()
    layers, hidden_grads = torch_unrolled(state, x, target, loss)
    lstm_out = torch.from_numpy(x)
    for k, (trace, theirs) in enumerate(zip(model.trace(x), layers, strict=True)):
        for name in FIELDS:
            np.testing.assert_allclose(getattr(trace, name), theirs[name], rtol=1e-10, atol=1e-13, err_msg=name)
        lstm = torch.nn.LSTM(lstm_out.shape[2], hidden[k], batch_first=True).double()
        lstm.load_state_dict(
            {
                f"{n}_l0": torch.from_numpy(state[f"lstm.{n}_l{k}"])
                for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
        )
        lstm_out, _ = lstm(lstm_out)
        np.testing.assert_allclose(trace.hidden, lstm_out.detach().numpy(), rtol=1e-10, atol=1e-13)
    ours = model.gradients_through_time(x, target)
    for k, (flow, grads, theirs) in enumerate(zip(model.gradient_flow(x, target), ours, hidden_grads, strict=True)):
        dh = np.stack(theirs, axis=1)
        np.testing.assert_allclose(grads.hidden, dh, rtol=1e-8, atol=1e-14, err_msg=f"layer {k}")
        np.testing.assert_allclose(flow, np.linalg.norm(dh, axis=(0, 2)), rtol=1e-8, err_msg=f"layer {k}")
