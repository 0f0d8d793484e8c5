"""The network's parts: activations, initialisation, optimiser, clipping, state and input checks."""

import warnings

import numpy as np
import pytest

from lstm_studio.core import Adam, LSTMModel, clip_by_global_norm, global_norm
from lstm_studio.core.activations import log_softmax, softmax
from lstm_studio.core.losses import cross_entropy, mse


def saturated_model(z: float, dtype) -> LSTMModel:
    """One layer of two units whose gate pre-activations are ±z for an input of ones (weights z·1, no bias):
    unit 0 has every gate open (i = f = o = 1, g = 1), unit 1 forgets and hides (f = o = 0, i = g = 1)."""
    model = LSTMModel(1, [2], 2, seed=0, dtype=dtype)
    state = {name: np.zeros_like(value) for name, value in model.state_dict().items()}
    #                 i      f      g     o   (PyTorch's gate order), one row per unit
    gates = np.array([[z, z], [z, -z], [z, z], [z, -z]])  # (4, H)
    state["lstm.weight_ih_l0"][:, 0] = gates.reshape(-1)
    state["dense.weight"][...] = np.eye(2)  # the outputs are the last hidden states
    model.load_state_dict(state)
    return model


def expected_outputs(z: float, T: int) -> list[float]:
    """The two units' last hidden states, from the gate equations with σ(±z) computed without overflow."""
    up, down = 1 / (1 + np.exp(-z)), np.exp(-z) / (1 + np.exp(-z))  # σ(z), σ(-z) for z > 0
    g, c_open, c_shut = np.tanh(z), 0.0, 0.0
    for _ in range(T):
        c_open = up * c_open + up * g  # f = i = σ(z)
        c_shut = down * c_shut + up * g  # f = σ(-z), i = σ(z)
    return [up * np.tanh(c_open), down * np.tanh(c_shut)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("z", [1.0, 800.0, 1e4])
def test_the_layers_sigmoid_is_exact_and_saturates_without_overflow(z, dtype):
    # σ(±z) far past exp's range: a naive 1 / (1 + exp(-z)) overflows at z = 800 in float64, 89 in float32
    model, T = saturated_model(z, dtype), 3
    x = np.ones((2, T, 1))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y = model.forward(x)
        loss, grads = model.loss_and_gradients(x, np.zeros((2, 2)))
    np.testing.assert_allclose(y, [expected_outputs(z, T)] * 2, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values())
    if z > 100:
        # saturated: h_T = 1·tanh(T) and 0·tanh(1), exactly 0 (no tiny σ(-z) leaking the cell), and the
        # gates pass no gradient to their weights: σ'(±z) = σ(1 - σ) and tanh'(z) are exactly 0
        assert y[0, 1] == 0.0 and y[0, 0] == pytest.approx(np.tanh(T))
        np.testing.assert_array_equal(grads["lstm.weight_ih_l0"], 0.0)


def test_softmax_and_log_softmax_survive_huge_logits():
    logits = np.array([[1000.0, 1000.0, -1000.0], [-5.0, 0.0, 5.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = softmax(logits)
        logp = log_softmax(logits)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], [0.5, 0.5, 0.0], atol=1e-300)
    assert np.all(np.isfinite(logp[1]))


def test_losses_are_batch_means_like_pytorch():
    y = np.array([[1.0, 2.0], [3.0, 5.0]])
    t = np.array([[0.0, 2.0], [3.0, 3.0]])
    loss, grad = mse(y, t)
    assert loss == pytest.approx((1 + 0 + 0 + 4) / 4)  # mean over batch AND outputs, no 1/2
    np.testing.assert_allclose(grad, 2 * (y - t) / 4)
    logits = np.array([[2.0, 0.0], [0.0, 0.0]])
    loss, _ = cross_entropy(logits, np.array([0, 1]))
    assert loss == pytest.approx((np.log(1 + np.exp(-2.0)) + np.log(2.0)) / 2)


def test_xavier_init_and_forget_bias():
    model = LSTMModel(4, [16, 8], 2, seed=0)
    layer = model.layers[0]
    w = layer.params["weight_ih"]
    limit = np.sqrt(6 / (4 + 16))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.8 * limit
    b = layer.params["bias_ih"] + layer.params["bias_hh"]
    np.testing.assert_array_equal(b[16:32], 1.0)  # forget gate starts open
    np.testing.assert_array_equal(np.delete(b, np.s_[16:32]), 0.0)


def test_same_seed_same_weights_different_seed_different_weights():
    a, b, c = (LSTMModel(1, [8], 1, seed=s).state_dict() for s in (5, 5, 6))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["lstm.weight_hh_l0"], c["lstm.weight_hh_l0"])


def test_state_names_and_shapes_follow_pytorch():
    state = LSTMModel(3, [5, 7], 2).state_dict()
    assert {k: v.shape for k, v in state.items()} == {
        "lstm.weight_ih_l0": (20, 3), "lstm.weight_hh_l0": (20, 5),
        "lstm.bias_ih_l0": (20,), "lstm.bias_hh_l0": (20,),
        "lstm.weight_ih_l1": (28, 5), "lstm.weight_hh_l1": (28, 7),
        "lstm.bias_ih_l1": (28,), "lstm.bias_hh_l1": (28,),
        "dense.weight": (2, 7), "dense.bias": (2,),
    }  # fmt: skip


def test_from_config_draws_the_seeds_weights_and_copy_is_an_independent_twin():
    model = LSTMModel(2, [5, 3], 4, loss="cross_entropy", seed=7, dtype=np.float32)
    rebuilt = LSTMModel.from_config(model.config(), seed=7)
    seeded = model.state_dict()
    assert all(np.array_equal(value, seeded[name]) for name, value in rebuilt.state_dict().items())
    model.parameters()["dense.bias"][...] = 0.5  # weights the seed does not give
    twin = model.copy()
    assert twin.config() == model.config() and twin.seed == model.seed
    x = np.random.default_rng(0).normal(size=(3, 6, 2))
    np.testing.assert_array_equal(twin.forward(x), model.forward(x))
    twin.parameters()["dense.bias"][...] = 0.0  # the twin's weights are its own
    assert np.all(model.parameters()["dense.bias"] == 0.5)


def test_state_dict_is_a_copy_and_load_state_dict_restores_it():
    model = LSTMModel(1, [4], 1, seed=0)
    x = np.random.default_rng(0).normal(size=(2, 5, 1))
    before, state = model.forward(x), model.state_dict()
    state["dense.bias"] += 1.0
    np.testing.assert_array_equal(model.forward(x), before)  # editing the copy changes nothing
    model.load_state_dict(state)
    np.testing.assert_allclose(model.forward(x), before + 1.0)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.pop("dense.bias"), "missing dense.bias"),
        (lambda s: s.update(extra=np.zeros(1)), "unexpected extra"),
        (lambda s: s.update({"lstm.weight_hh_l0": np.zeros((3, 3))}), "lstm.weight_hh_l0 has shape"),
    ],
)
def test_load_state_dict_rejects_mismatches_clearly(edit, message):
    model = LSTMModel(1, [4], 1)
    state = model.state_dict()
    edit(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)


@pytest.mark.parametrize(
    "kwargs",
    [dict(hidden_sizes=[]), dict(hidden_sizes=[0]), dict(input_size=0), dict(loss="hinge"), dict(dtype=np.int32)],
)
def test_impossible_models_are_refused(kwargs):
    args = dict(input_size=1, hidden_sizes=[4], output_size=1) | kwargs
    with pytest.raises(ValueError):
        LSTMModel(**args)


def test_forward_checks_input_shape_and_predict_gives_probabilities():
    model = LSTMModel(2, [4], 3, loss="cross_entropy")
    with pytest.raises(ValueError, match=r"\(batch, time, 2\)"):
        model.forward(np.zeros((3, 5)))
    p = model.predict(np.zeros((3, 5, 2)))
    assert p.shape == (3, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_float32_model_computes_in_float32():
    model = LSTMModel(1, [4, 4], 1, dtype=np.float32)
    assert model.forward(np.zeros((2, 3, 1))).dtype == np.float32
    assert all(p.dtype == np.float32 for p in model.state_dict().values())


def test_cross_entropy_targets_are_checked():
    model = LSTMModel(1, [4], 3, loss="cross_entropy")
    with pytest.raises(ValueError, match="class indices"):
        model.loss_and_gradients(np.zeros((2, 3, 1)), np.array([0, 3]))


def test_clip_by_global_norm_scales_all_arrays_together():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    norm = clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    assert global_norm(grads) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(grads["a"] / grads["b"][0, 0], [0.75, 0.0])  # direction kept
    small = {"a": np.array([0.1])}
    clip_by_global_norm(small, 1.0)
    np.testing.assert_array_equal(small["a"], [0.1])  # below the threshold: untouched


def test_adam_first_step_moves_each_weight_by_lr_and_minimises_a_quadratic():
    params = {"w": np.array([5.0, -3.0])}
    adam = Adam(lr=0.1)
    adam.step(params, {"w": 2 * params["w"]})
    np.testing.assert_allclose(params["w"], [4.9, -2.9], rtol=1e-6)  # bias correction: step = lr·sign
    for _ in range(500):
        adam.step(params, {"w": 2 * params["w"]})
    np.testing.assert_allclose(params["w"], 0.0, atol=1e-2)


def test_num_parameters_counts_every_weight_like_pytorch():
    # nn.LSTM(3, 5) + nn.LSTM(5, 7) + nn.Linear(7, 2)
    expected = (20 * 3 + 20 * 5 + 40) + (28 * 5 + 28 * 7 + 56) + (2 * 7 + 2)
    assert LSTMModel(3, [5, 7], 2).num_parameters() == expected
