"""Contract 1: copying ``state_dict()`` into torch.nn.LSTM + torch.nn.Linear gives the same numbers.

Skipped when PyTorch is not installed (it is not a dependency).
"""

import numpy as np
import pytest

from lstm_studio.core import LSTMModel

torch = pytest.importorskip("torch")


class TorchTwin(torch.nn.Module):
    """The network Contract 1 describes, in PyTorch."""

    def __init__(self, input_size, hidden_sizes, output_size):
        super().__init__()
        self.lstm = torch.nn.ModuleList(
            torch.nn.LSTM(n_in, h, batch_first=True)
            for n_in, h in zip([input_size, *hidden_sizes[:-1]], hidden_sizes, strict=True)
        )
        self.dense = torch.nn.Linear(hidden_sizes[-1], output_size)

    def load(self, state):
        for k, layer in enumerate(self.lstm):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(layer, f"{name}_l0").data = torch.from_numpy(state[f"lstm.{name}_l{k}"].copy())
        self.dense.weight.data = torch.from_numpy(state["dense.weight"].copy())
        self.dense.bias.data = torch.from_numpy(state["dense.bias"].copy())

    def grads(self):
        out = {}
        for k, layer in enumerate(self.lstm):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                out[f"lstm.{name}_l{k}"] = getattr(layer, f"{name}_l0").grad.numpy()
        out["dense.weight"] = self.dense.weight.grad.numpy()
        out["dense.bias"] = self.dense.bias.grad.numpy()
        return out

    def forward(self, x):
        for layer in self.lstm:
            x, _ = layer(x)
        return self.dense(x[:, -1])


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("hidden", [[8], [6, 5], [4, 7, 3]])
def test_same_outputs_loss_and_gradients_as_pytorch(loss, hidden):
    rng = np.random.default_rng(7)
    model = LSTMModel(3, hidden, 4, loss=loss, seed=11)
    x = rng.normal(size=(5, 9, 3))
    target = rng.normal(size=(5, 4)) if loss == "mse" else rng.integers(0, 4, size=5)
    twin = TorchTwin(3, hidden, 4).double()
    twin.load(model.state_dict())

    ours_loss, ours_grads = model.loss_and_gradients(x, target)
    out = twin(torch.from_numpy(x))
    criterion = torch.nn.MSELoss() if loss == "mse" else torch.nn.CrossEntropyLoss()
    theirs_loss = criterion(out, torch.from_numpy(target))
    theirs_loss.backward()

    np.testing.assert_allclose(model.forward(x), out.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert ours_loss == pytest.approx(theirs_loss.item(), rel=1e-10)
    theirs = twin.grads()
    for name, g in ours_grads.items():
        np.testing.assert_allclose(g, theirs[name], rtol=1e-8, atol=1e-12, err_msg=name)


def test_single_torch_lstm_with_num_layers_reads_the_same_state():
    """A two-layer ``nn.LSTM(num_layers=2)`` takes the names without any renaming."""
    model = LSTMModel(2, [5, 5], 1, seed=1)
    lstm = torch.nn.LSTM(2, 5, num_layers=2, batch_first=True).double()
    dense = torch.nn.Linear(5, 1).double()
    state = model.state_dict()
    for module, prefix in ((lstm, "lstm."), (dense, "dense.")):
        part = {k.removeprefix(prefix): torch.from_numpy(v) for k, v in state.items() if k.startswith(prefix)}
        module.load_state_dict(part)
    x = np.random.default_rng(0).normal(size=(3, 6, 2))
    out, _ = lstm(torch.from_numpy(x))
    np.testing.assert_allclose(model.forward(x), dense(out[:, -1]).detach().numpy(), rtol=1e-10)
