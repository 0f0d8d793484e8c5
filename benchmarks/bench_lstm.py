"""How fast is the NumPy LSTM? Side by side with PyTorch's CPU LSTM, plus training-level figures.

    python benchmarks/bench_lstm.py [--repeats 15] [--quick]

For each shape (batch, time, input, layers × hidden), float32, forward + backward
(``loss_and_gradients``): our median time, PyTorch's (``nn.LSTM(num_layers=2, batch_first=True)``
+ ``nn.Linear`` on the last step + MSE + ``backward()``, ``torch.set_num_threads(2)``), measured
interleaved in one process, and the ratio PyTorch time / ours (above 1: ours is faster). Without
PyTorch installed, only our side is printed. Then: the machine's float32 GEMM rate and the share
of it our large shape reaches, one whole training step (with Adam and clipping), the time to
reach the seed's examples on the default task, and the peak memory of one large step.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from lstm_studio.core import Adam, LSTMModel, clip_by_global_norm
from lstm_studio.training import EpochEnd, Experiment, Predictor, train

SHAPES = {  # name: (batch, time, input, hidden sizes)
    "small": (32, 10, 1, (32, 32)),
    "mid": (64, 50, 8, (128, 128)),
    "large": (128, 100, 32, (256, 256)),
}


def lstm_flops(batch: int, time_steps: int, inputs: int, hidden: tuple[int, ...]) -> float:
    """Multiply-add FLOPs of forward + backward, counting the matrix products only."""
    flops, n_in = 0.0, inputs
    for k, h in enumerate(hidden):
        rows = batch * time_steps
        forward = 2 * rows * 4 * h * (n_in + h)  # input projection + recurrent products
        backward = 2 * rows * 4 * h * h * 2 + 2 * rows * 4 * h * n_in  # dh recurrence, dW_hh; dW_ih
        if k > 0:
            backward += 2 * rows * 4 * h * n_in  # dX for the layer below
        flops += forward + backward
        n_in = h
    return flops


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm up: buffers, caches, BLAS threads
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def model_and_batch(shape: tuple) -> tuple[LSTMModel, np.ndarray, np.ndarray]:
    """A float32 model of ``shape`` and one random batch (x, y) for it."""
    batch, steps, inputs, hidden = shape
    rng = np.random.default_rng(0)
    model = LSTMModel(inputs, hidden, 1, dtype=np.float32)
    x = rng.normal(size=(batch, steps, inputs)).astype(np.float32)
    y = rng.normal(size=(batch, 1)).astype(np.float32)
    return model, x, y


def ours(shape: tuple) -> Callable[[], object]:
    model, x, y = model_and_batch(shape)
    return lambda: model.loss_and_gradients(x, y)


def theirs(shape: tuple):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    batch, steps, inputs, hidden = shape
    lstm = torch.nn.LSTM(inputs, hidden[0], num_layers=len(hidden), batch_first=True)
    dense = torch.nn.Linear(hidden[-1], 1)
    loss_fn = torch.nn.MSELoss()
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(batch, steps, inputs)).astype(np.float32))
    y = torch.from_numpy(rng.normal(size=(batch, 1)).astype(np.float32))
    params = [*lstm.parameters(), *dense.parameters()]

    def step():
        for p in params:
            p.grad = None
        out, _ = lstm(x)
        loss = loss_fn(dense(out[:, -1]), y)
        loss.backward()
        return loss

    return step


def interleaved(a: Callable, b: Callable, repeats: int) -> tuple[list[float], list[float]]:
    """Seconds of a and b, run alternately so the machine's drift hits both alike.

    Each turn starts with one untimed call: both libraries' thread pools spin for a while
    after they finish, and that would otherwise be charged to whichever side runs next.
    """
    ta, tb = [], []
    for _ in range(repeats):
        for fn, times in ((a, ta), (b, tb)):
            fn()
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return ta, tb


def quartiles(values: list[float]) -> tuple[float, float, float]:
    """(25th percentile, median, 75th percentile)."""
    q1, q2, q3 = np.percentile(values, [25, 50, 75])
    return float(q1), float(q2), float(q3)


def gemm_seconds(n: int = 1024) -> Callable[[], object]:
    """One float32 n×n by n×n matrix product, the machine's reference rate."""
    rng = np.random.default_rng(0)
    a, b = (rng.normal(size=(n, n)).astype(np.float32) for _ in range(2))
    out = np.empty((n, n), dtype=np.float32)
    return lambda: np.matmul(a, b, out=out)


def gemm_share(shape: tuple, pairs: int, n: int = 1024) -> tuple[float, float, float]:
    """(GEMM rate, our rate on shape, our share of the GEMM rate), GFLOP/s.

    Measured in alternating pairs, a few reference products then one of our steps, and the
    share is the median of the per-pair shares, so that the machine's drift cancels out.
    """
    step, product = ours(shape), gemm_seconds(n)
    flops = lstm_flops(*shape)
    rates, ours_rates, shares = [], [], []
    for _ in range(pairs):
        reference = 2 * n**3 / median_seconds(product, 5) / 1e9
        mine = flops / median_seconds(step, 1) / 1e9
        rates.append(reference)
        ours_rates.append(mine)
        shares.append(mine / reference)
    return statistics.median(rates), statistics.median(ours_rates), statistics.median(shares)


def training_step(shape: tuple) -> Callable[[], object]:
    """One optimiser step as the trainer takes it: gradients, clipping, Adam."""
    model, x, y = model_and_batch(shape)
    adam = Adam(1e-3)
    params = model.parameters()

    def step():
        _, grads = model.loss_and_gradients(x, y)
        clip_by_global_norm(grads, 5.0)
        adam.step(params, grads)

    return step


def time_to_seed_examples(dtype: str) -> tuple[float, int]:
    """Seconds and epochs of the default next-number run until [0..9] → 10 and [15..24] → 25 (±0.1)."""
    experiment = Experiment.for_task("next-number").with_changes(dtype=dtype)
    start = time.perf_counter()
    data, model = experiment.make_dataset(), experiment.make_model()
    predictor = Predictor.for_data(model, data)
    for event in train(model, data, experiment.train):
        if isinstance(event, EpochEnd):
            answers = [predictor.predict(ex).values[0] for ex in data.task.examples]
            if abs(answers[0] - 10) <= 0.1 and abs(answers[1] - 25) <= 0.1:
                return time.perf_counter() - start, event.epoch
    return float("nan"), experiment.train.epochs


def peak_memory_mb(shape: tuple) -> float:
    step = ours(shape)
    step()
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke test")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats

    print("forward + backward, float32; medians of interleaved runs, and of the ratio within each pair")
    header = f"{'shape':<7}{'(B, T, in, layers×H)':<24}{'ours ms':>9}{'torch ms':>10}"
    print(f"{header}{'torch/ours':>12}{'(quartiles)':>16}")
    times = {}
    for name, shape in SHAPES.items():
        mine, torch_step = ours(shape), theirs(shape)
        n = max(5, repeats // 2) if name == "large" else repeats  # a large pair takes a second
        b, t, i, h = shape
        label = f"({b}, {t}, {i}, {len(h)}×{h[0]})"
        if torch_step is None:
            times[name] = median_seconds(mine, n)
            print(f"{name:<7}{label:<24}{times[name] * 1e3:>9.2f}{'(no torch)':>22}")
            continue
        ta, tb = interleaved(mine, torch_step, n)
        times[name] = statistics.median(ta)
        q1, q2, q3 = quartiles([theirs_s / ours_s for ours_s, theirs_s in zip(ta, tb, strict=True)])
        print(
            f"{name:<7}{label:<24}{times[name] * 1e3:>9.2f}{statistics.median(tb) * 1e3:>10.2f}"
            f"{q2:>12.2f}{f'({q1:.2f}–{q3:.2f})':>16}"
        )

    rate, large_rate, share = gemm_share(SHAPES["large"], max(3, repeats // 3))
    print(
        f"\nfloat32 GEMM rate (1024³): {rate:.1f} GFLOP/s; large shape reaches {large_rate:.1f} GFLOP/s; "
        f"share within each pair: {share:.0%}"
    )
    step_s = median_seconds(training_step(SHAPES["small"]), repeats)
    print(f"one training step, small shape (gradients + clip + Adam): {step_s * 1e3:.2f} ms")
    for dtype in ("float32", "float64"):
        seconds, epochs = time_to_seed_examples(dtype)
        print(f"default next-number run, {dtype}: seed's examples within ±0.1 after {epochs} epochs, {seconds:.2f} s")
    print(f"peak memory of one large forward + backward: {peak_memory_mb(SHAPES['large']):.0f} MiB")


if __name__ == "__main__":
    main()
