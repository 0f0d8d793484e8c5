"""Does our LSTM forecast real-looking series as well as PyTorch's, and better than repeating the last value?

    python benchmarks/bench_forecast_parity.py [--seeds 0 1] [--threads 1] [--check]

The issue "Real data as it comes" asks (Must hold): on held-out series of both kinds, trending and swinging
around a level, with default settings our model beats persistence on each and stays within 1.15x of an
identically configured PyTorch LSTM. For each series below this script trains

- **ours**: ``Experiment.for_task("csv")`` on the series' CSV (column ``value``), every setting its default
  (``difference`` "auto": decided on the training part), ``train`` until its ``RunEnd``; the validation RMSE
  in raw units of the best epoch's weights, which the run ends holding;
- **PyTorch**: ``nn.LSTM(num_layers=len(hidden), batch_first=True)`` + ``nn.Linear`` on the last step, in
  float64, starting from the same weights (our fresh model's ``state_dict()``), fed the same encoded windows in
  the same batches in the same order (``np.random.default_rng(seed).permutation`` each epoch, as the trainer
  draws them), ``MSELoss``, ``clip_grad_norm_`` at the same clip, ``torch.optim.Adam`` with our Adam's lr, betas
  and eps, the same epochs, validation after every epoch, the same early stopping and best-epoch restore; its
  outputs turned into raw values by our normaliser;
- **persistence**: the last value of each validation window (``metrics.baselines``).

The series: a CO2-like monthly series (480 months, trend and a 12-month season), a trending daily series
with a 7-day cycle, an AR(2) series swinging around a level (quasi-cycles of about 11 steps), each
generated from a fixed seed and written to a temporary CSV (``t,value``), and the shipped sunspots.
Validation is the last 20 % of each series' windows in time: held out from training (both sides also pick
their best epoch on it, as the app does; persistence picks nothing). The seed changes the initial weights and
the batch order, not the series.

The table gives, per series and seed: whether the changes or the values were learned, our RMSE, PyTorch's,
ours/PyTorch (must be at most 1.15), persistence's RMSE, ours/persistence (must be below 1), the best epoch
of each, how far the two runs' validation losses drift apart (Δval), and seconds. Δexact is a control: a
third run, in PyTorch with Adam written as ours (``adam_as_ours``), agrees with ours to rounding (~1e-15),
so the drift of Δval (~1e-4) is all Adam's eps placement. Before training, both networks' outputs on the
validation windows are compared (they must agree to rounding: otherwise the weights were not copied right).
Without PyTorch installed, only our side is printed. ``--check`` exits 1 when a Must-hold ratio fails.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_studio.core import Adam, LSTMModel
from lstm_studio.training import Dataset, EpochEnd, Experiment, RunEnd, TrainConfig, train
from lstm_studio.training.metrics import baselines, model_outputs

MAX_TORCH_RATIO = 1.15  # ours / PyTorch, validation RMSE


# ---------------------------------------------------------------- the series


def co2_like(rng: np.random.Generator) -> np.ndarray:
    """480 months: 315 + 0.12 t + 3 sin(2πt/12) + N(0, 0.3), like Mauna Loa's record."""
    t = np.arange(480, dtype=np.float64)
    return 315 + 0.12 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, t.size)


def weekly_trend(rng: np.random.Generator) -> np.ndarray:
    """600 days: a rising level (200 + 0.25 t, bending up slowly), a 7-day cycle of amplitude 6, noise N(0, 2)."""
    t = np.arange(600, dtype=np.float64)
    return 200 + 0.25 * t + 1e-4 * t**2 + 6 * np.sin(2 * np.pi * t / 7 + 0.7) + rng.normal(0, 2.0, t.size)


def ar2_cycles(rng: np.random.Generator) -> np.ndarray:
    """600 steps of x_t = 1.6 x_{t-1} - 0.9 x_{t-2} + N(0, 1) around a level of 50: quasi-cycles of about
    11 steps whose size and phase wander, so no trend and no fixed season."""
    n, burn = 600, 200
    e = rng.normal(0, 1.0, n + burn)
    x = np.zeros(n + burn)
    for i in range(2, n + burn):
        x[i] = 1.6 * x[i - 1] - 0.9 * x[i - 2] + e[i]
    return 50 + x[burn:]


GENERATED = {  # name: (what it is, generator, its seed)
    "co2-like monthly": ("trending", co2_like, 1),
    "daily, 7-day cycle": ("trending", weekly_trend, 2),
    "AR(2) quasi-cycles": ("level", ar2_cycles, 3),
}


def write_csv(path: Path, values: np.ndarray) -> None:
    """One ``t,value`` row per value."""
    lines = ["t,value", *(f"{i},{v:.6f}" for i, v in enumerate(values))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def experiments(folder: Path) -> list[tuple[str, str, Experiment]]:
    """(name, kind, experiment with default settings) per series; the generated ones written to ``folder``."""
    out = []
    for name, (kind, make, seed) in GENERATED.items():
        path = folder / f"{name.split()[0].lower().replace('(', '').replace(')', '')}.csv"
        write_csv(path, make(np.random.default_rng(seed)))
        out.append((name, kind, Experiment.for_task("csv").with_changes(csv_path=str(path), column="value")))
    out.append(("sunspots (shipped)", "level", Experiment.for_task("sunspots")))
    return out


# ---------------------------------------------------------------- one run each


@dataclass
class Result:
    rmse: float
    best_epoch: int
    epochs_run: int
    seconds: float
    val_losses: list[float]  # per epoch


def run_ours(model: LSTMModel, data: Dataset, config: TrainConfig) -> Result:
    """Our trainer, as the command line and the window run it."""
    started = time.perf_counter()
    val_losses = []
    for event in train(model, data, config):
        if isinstance(event, EpochEnd):
            val_losses.append(event.val_loss)
    end = event
    assert isinstance(end, RunEnd) and end.evaluation is not None, end
    return Result(end.evaluation.rmse, end.best_epoch, end.epochs_run, time.perf_counter() - started, val_losses)


def torch_model(torch, state: dict[str, np.ndarray], hidden: list[int]):
    """``nn.LSTM`` + ``nn.Linear`` holding ``state`` (our names are PyTorch's: Contract 1)."""
    nn = torch.nn
    if len(set(hidden)) != 1:
        raise SystemExit(f"nn.LSTM stacks layers of one size; hidden sizes {hidden} differ")

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            input_size = state["lstm.weight_ih_l0"].shape[1]
            self.lstm = nn.LSTM(input_size, hidden[0], num_layers=len(hidden), batch_first=True)
            self.dense = nn.Linear(hidden[0], state["dense.weight"].shape[0])

        def forward(self, x):
            out, _ = self.lstm(x)  # (B, T, H)
            return self.dense(out[:, -1])  # (B, O)

    net = Net().double()
    net.load_state_dict({name: torch.from_numpy(np.array(value, dtype=np.float64)) for name, value in state.items()})
    return net


def adam_as_ours(torch):
    """``torch.optim.Adam``'s signature, with our Adam's update (``core/optim.py``): the bias corrections folded
    into the step size, ``lr·√(1-β2ᵗ)/(1-β1ᵗ) · m / (√v + eps)``, where PyTorch divides by ``√v/√(1-β2ᵗ) + eps``.
    The two differ only in eps: ours acts as PyTorch's with eps/√(1-β2ᵗ) (3e-7 at the first step)."""

    class AdamAsOurs(torch.optim.Optimizer):
        def __init__(self, params, lr: float, betas: tuple[float, float], eps: float) -> None:
            super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})
            self.t = 0

        @torch.no_grad()
        def step(self) -> None:
            self.t += 1
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                lr_t = group["lr"] * math.sqrt(1.0 - beta2**self.t) / (1.0 - beta1**self.t)
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
                    m, v = state["m"], state["v"]
                    m.mul_(beta1).add_((1.0 - beta1) * p.grad)
                    v.mul_(beta2).add_((1.0 - beta2) * (p.grad * p.grad))
                    p.sub_(lr_t * m / (v.sqrt() + group["eps"]))

    return AdamAsOurs


def run_torch(
    torch, state: dict[str, np.ndarray], hidden: list[int], data: Dataset, config: TrainConfig, exact: bool = False
) -> Result:
    """The trainer's loop (``training/trainer.py``) written again in PyTorch, step for step; ``exact``: with
    Adam written as ours (``adam_as_ours``) instead of ``torch.optim.Adam``."""
    started = time.perf_counter()
    net = torch_model(torch, state, hidden)
    x = torch.from_numpy(np.asarray(data.x_train, dtype=np.float64))
    y = torch.from_numpy(np.asarray(data.y_train, dtype=np.float64))
    x_val = torch.from_numpy(np.asarray(data.x_val, dtype=np.float64))
    y_val = torch.from_numpy(np.asarray(data.y_val, dtype=np.float64))
    ours = Adam(config.lr)  # its betas and eps
    adam = adam_as_ours(torch) if exact else torch.optim.Adam
    optimizer = adam(net.parameters(), lr=ours.lr, betas=(ours.beta1, ours.beta2), eps=ours.eps)
    loss_fn = torch.nn.MSELoss()
    rng = np.random.default_rng(config.seed)
    n = len(x)
    batches = math.ceil(n / config.batch_size)
    best_state = {k: v.clone() for k, v in net.state_dict().items()}
    best_loss, best_epoch, epoch, val_losses = math.inf, 0, 0, []
    for epoch in range(1, config.epochs + 1):
        order = rng.permutation(n)
        net.train()
        for batch in range(batches):
            idx = torch.from_numpy(order[batch * config.batch_size : (batch + 1) * config.batch_size])
            optimizer.zero_grad()
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            if config.clip > 0:
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.clip)
            optimizer.step()
        with torch.no_grad():
            val_loss = float(loss_fn(net(x_val), y_val))
        if not math.isfinite(val_loss):
            break
        val_losses.append(val_loss)
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        if config.patience and epoch - best_epoch >= config.patience:
            break
    net.load_state_dict(best_state)
    with torch.no_grad():
        outputs = net(x_val).numpy()
    rmse = raw_rmse(data, outputs)
    return Result(rmse, best_epoch, epoch, time.perf_counter() - started, val_losses)


def raw_rmse(data: Dataset, outputs: np.ndarray) -> float:
    """Validation RMSE in raw units of model outputs (N, horizon), as ``metrics.evaluate`` measures it."""
    raw = data.normalizer.decode(outputs, data.val_windows)
    targets = np.asarray(data.val_targets, dtype=np.float64).reshape(raw.shape)
    return float(np.sqrt(np.mean((raw - targets) ** 2)))


def same_start(torch, model: LSTMModel, hidden: list[int], data: Dataset) -> float:
    """Largest difference between the two fresh networks' outputs on the validation windows."""
    net = torch_model(torch, model.state_dict(), hidden)
    with torch.no_grad():
        theirs = net(torch.from_numpy(np.asarray(data.x_val, dtype=np.float64))).numpy()
    return float(np.max(np.abs(model_outputs(model, data.x_val) - theirs)))


def largest_gap(a: list[float], b: list[float]) -> float:
    """The largest relative difference between two runs' validation losses, epoch by epoch (inf when
    they ran a different number of epochs)."""
    if len(a) != len(b):
        return math.inf
    return max(abs(u - v) / max(abs(u), abs(v), 1e-300) for u, v in zip(a, b, strict=True))


# ---------------------------------------------------------------- the table

COLUMNS = (  # title, width
    ("series", -19), ("kind", -8), ("seed", 4), ("learns", -7), ("ours", 8), ("torch", 8), ("ours/torch", 10),
    ("persist", 8), ("ours/pers", 9), ("best ep", 7), ("Δval", 7), ("Δexact", 7), ("s ours", 6), ("s torch", 7),
)  # fmt: skip


def line(cells: list[str]) -> str:
    """One row of the table: negative widths align left."""
    return " ".join(f"{c:<{-w}}" if w < 0 else f"{c:>{w}}" for c, (_, w) in zip(cells, COLUMNS, strict=True))


def measure(torch, name: str, kind: str, e: Experiment) -> tuple[list[str], float, float]:
    """Train ours and PyTorch's on one series: the table's cells, ours/torch (nan without PyTorch) and
    ours/persistence."""
    data = e.make_dataset()
    model = e.make_model()
    hidden, start = list(e.hidden_sizes), model.state_dict()
    persistence = baselines(data)["persistence_rmse"]
    if torch is not None:
        gap = same_start(torch, model, hidden, data)
        if gap > 1e-10:
            raise SystemExit(f"{name}: the fresh networks' outputs differ by {gap:.3g}: the weights were not copied")
    ours = run_ours(model, data, e.train)
    learns = "changes" if data.normalizer.difference else "values"
    cells = [name, kind, str(e.train.seed), learns, f"{ours.rmse:.4g}"]
    if torch is None:
        ratio = math.nan
        cells += ["-", "-", f"{persistence:.4g}", f"{ours.rmse / persistence:.3f}", str(ours.best_epoch), "-", "-"]
        cells += [f"{ours.seconds:.1f}", "-"]
    else:
        theirs = run_torch(torch, start, hidden, data, e.train)
        exact = run_torch(torch, start, hidden, data, e.train, exact=True)
        ratio = ours.rmse / theirs.rmse
        cells += [f"{theirs.rmse:.4g}", f"{ratio:.3f}", f"{persistence:.4g}", f"{ours.rmse / persistence:.3f}"]
        gaps = [largest_gap(ours.val_losses, run.val_losses) for run in (theirs, exact)]
        cells += [f"{ours.best_epoch}/{theirs.best_epoch}", *(f"{g:.0e}" for g in gaps)]
        cells += [f"{ours.seconds:.1f}", f"{theirs.seconds:.1f}"]
    return cells, ratio, ours.rmse / persistence


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="the experiments' seeds (default: 0 1)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch's threads (default: 1)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a Must-hold ratio fails")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
        print("PyTorch is not installed: only our side is measured (pip install torch for the comparison)\n")
    else:
        torch.set_num_threads(args.threads)

    header = line([title for title, _ in COLUMNS])
    print(header)
    print("-" * len(header))
    failures, ratios = [], []
    with tempfile.TemporaryDirectory() as folder:
        for name, kind, base in experiments(Path(folder)):
            for seed in args.seeds:
                cells, ratio, vs_persistence = measure(torch, name, kind, base.with_changes(seed=seed))
                print(line(cells), flush=True)
                ratios.append(ratio)
                if not vs_persistence < 1:
                    failures.append(f"{name} (seed {seed}): ours/persistence {vs_persistence:.3f} is not below 1")
                if ratio > MAX_TORCH_RATIO:
                    failures.append(f"{name} (seed {seed}): ours/torch {ratio:.3f} is above {MAX_TORCH_RATIO}")

    print(
        "\nRMSE: the validation part (the last 20 % of the windows), raw units. learns: what difference 'auto'\n"
        "decided from the training part. best ep: the best epoch, ours/torch (each run ends holding its weights).\n"
        "Δval: the largest relative difference of the two runs' validation losses over the epochs; Δexact: the\n"
        "same against a PyTorch run whose Adam is written as ours (eps added before the bias correction of v)."
    )
    if torch is not None:
        print(f"ours/torch: worst {max(ratios):.3f}, geometric mean {math.exp(np.mean(np.log(ratios))):.4f}")
    if failures:
        print("\nMust hold FAILS:\n  " + "\n  ".join(failures))
    else:
        within = f", and within {MAX_TORCH_RATIO}x of PyTorch," if torch is not None else ""
        print(f"\nMust hold: with default settings every series beats persistence{within} on every seed.")
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
