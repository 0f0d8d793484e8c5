"""Backpropagation through time against central finite differences, in float64."""

import numpy as np
import pytest

from lstm_studio.core import LSTMModel
from tests.gradcheck import numeric_gradients, relative_error

SHAPES = [  # (input_size, hidden_sizes, output_size, batch, time)
    (1, [3], 1, 2, 4),
    (2, [4, 3], 3, 3, 5),
    (3, [2, 5, 3], 2, 2, 6),
    (1, [1, 2], 2, 1, 1),  # one sample, one step, one hidden unit: every buffer at its edge
]


def perturbed_model(input_size, hidden, output, loss, rng) -> LSTMModel:
    """A model whose biases and weights are all non-trivial, so no gradient is checked at a special point."""
    model = LSTMModel(input_size, hidden, output, loss=loss, seed=3)
    for p in model.parameters().values():
        p += rng.normal(0.0, 0.3, size=p.shape)
    return model


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize(("input_size", "hidden", "output", "batch", "time"), SHAPES)
def test_every_gradient_matches_finite_differences(loss, input_size, hidden, output, batch, time, rng):
    model = perturbed_model(input_size, hidden, output, loss, rng)
    x = rng.normal(size=(batch, time, input_size))
    target = rng.normal(size=(batch, output)) if loss == "mse" else rng.integers(0, output, size=batch)
    _, grads = model.loss_and_gradients(x, target)
    analytic = {name: g.copy() for name, g in grads.items()}
    numeric = numeric_gradients(model, x, target)
    assert analytic.keys() == model.state_dict().keys()
    for name in analytic:
        assert relative_error(analytic[name], numeric[name]) < 1e-6, name


def test_gradients_are_keyed_and_shaped_like_the_state_dict():
    model = LSTMModel(2, [5, 4], 3, loss="cross_entropy")
    _, grads = model.loss_and_gradients(np.ones((2, 3, 2)), np.array([0, 2]))
    state = model.state_dict()
    assert list(grads) == list(state)
    assert all(grads[k].shape == state[k].shape and grads[k].dtype == state[k].dtype for k in state)


def test_float32_gradients_agree_with_float64():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 7, 2))
    t = rng.normal(size=(4, 1))
    m64 = LSTMModel(2, [6, 5], 1, seed=2, dtype=np.float64)
    m32 = LSTMModel(2, [6, 5], 1, seed=2, dtype=np.float32)
    m32.load_state_dict({k: v.astype(np.float32) for k, v in m64.state_dict().items()})
    loss64, g64 = m64.loss_and_gradients(x, t)
    loss32, g32 = m32.loss_and_gradients(x, t)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for name in g64:
        assert g32[name].dtype == np.float32
        assert relative_error(g32[name].astype(np.float64), g64[name]) < 1e-4, name


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_gradients_hold_when_backward_works_one_step_per_chunk(loss, rng, monkeypatch):
    """Large sequences prepare the backward factors chunk by chunk; a 1-byte budget forces one step a chunk."""
    import lstm_studio.core.lstm_layer as lstm_layer

    monkeypatch.setattr(lstm_layer, "CHUNK_BYTES", 1)
    model = perturbed_model(2, [3, 4], 2, loss, rng)
    x = rng.normal(size=(3, 7, 2))
    target = rng.normal(size=(3, 2)) if loss == "mse" else rng.integers(0, 2, size=3)
    _, grads = model.loss_and_gradients(x, target)
    analytic = {name: g.copy() for name, g in grads.items()}
    assert len(model.layers[0]._cache.backward["E"]) == 1
    numeric = numeric_gradients(model, x, target)
    for name in analytic:
        assert relative_error(analytic[name], numeric[name]) < 1e-6, name


def test_buffers_are_reused_and_results_do_not_depend_on_earlier_calls(rng):
    model = LSTMModel(2, [5, 3], 1, seed=4)
    x_a, x_b = rng.normal(size=(4, 6, 2)), rng.normal(size=(3, 9, 2))
    t_a, t_b = rng.normal(size=(4, 1)), rng.normal(size=(3, 1))
    first_loss, first = model.loss_and_gradients(x_a, t_a)
    first = {k: v.copy() for k, v in first.items()}
    model.loss_and_gradients(x_b, t_b)  # another shape in between
    model.forward(rng.normal(size=(4, 6, 2)))  # and a forward pass of the same shape
    again_loss, again = model.loss_and_gradients(x_a, t_a)
    assert again_loss == first_loss
    for name in first:
        np.testing.assert_array_equal(again[name], first[name])
