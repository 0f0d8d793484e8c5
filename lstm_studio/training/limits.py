"""How large a run may be: refused up front with the limit, instead of running into memory.

A sequence length of a million or a billion samples is typed in a second and would take the
machine's whole memory before failing; the numbers below are far beyond anything the app's
tasks need, and the memory estimate catches the combinations that are each fine alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from lstm_studio.core.lstm_layer import buffer_bytes

MAX_SEQ_LEN = 10_000  # steps a network reads
MAX_SAMPLES = 1_000_000  # windows a generated task makes
MAX_BATCH = 65_536
MAX_HORIZON = 1_000
FALLBACK_MEMORY = 8 << 30  # bytes assumed when the machine does not say
EVAL_CHUNK_BYTES = 64 << 20  # buffers of one validation forward pass
EVAL_CHUNK_MAX = 2048  # windows per validation forward pass
DATA_COPIES = 4  # raw windows, their encoding, the model's dtype copy, targets and predictions


def memory_limit() -> int:
    """Half of the machine's physical memory: the most one run may plan to use."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 2 * FALLBACK_MEMORY
    return total // 2


def layer_inputs(input_size: int, hidden_sizes: Sequence[int]) -> list[tuple[int, int]]:
    """(inputs, units) of every LSTM layer, bottom first."""
    return list(zip([input_size, *hidden_sizes[:-1]], hidden_sizes, strict=True))


def eval_chunk(input_size: int, hidden_sizes: Sequence[int], T: int, itemsize: int) -> int:
    """Windows per validation forward pass, so its buffers stay within ``EVAL_CHUNK_BYTES``."""
    per_window = sum(
        buffer_bytes(T, 1, n_in, H, itemsize, backward=False) for n_in, H in layer_inputs(input_size, hidden_sizes)
    )
    return int(max(1, min(EVAL_CHUNK_MAX, EVAL_CHUNK_BYTES // max(per_window, 1))))


def run_bytes(
    input_size: int, hidden_sizes: Sequence[int], T: int, batch: int, dtype: str, n_windows: int, views: bool = False
) -> int:
    """Bytes a run needs: its data, the training batch's buffers, a validation pass's buffers,
    and the weights with their gradients and Adam's two moments. With ``views`` (a series' windows,
    ``windows``) the data holds a few values per window, not a copy of each window."""
    itemsize = np.dtype(dtype).itemsize
    layers = layer_inputs(input_size, hidden_sizes)
    train = sum(buffer_bytes(T, batch, n_in, H, itemsize) for n_in, H in layers)
    chunk = eval_chunk(input_size, hidden_sizes, T, itemsize)
    validate = sum(buffer_bytes(T, chunk, n_in, H, itemsize, backward=False) for n_in, H in layers)
    weights = sum(4 * H * (n_in + H + 2) for n_in, H in layers) * itemsize * 4
    data = DATA_COPIES * n_windows * (input_size if views else T) * 8
    return train + validate + weights + data


def check_run_size(
    input_size: int, hidden_sizes: Sequence[int], T: int, batch: int, dtype: str, n_windows: int, views: bool = False
) -> None:
    """ValueError when the run would need more than ``memory_limit()``, saying what to shrink."""
    need, limit = run_bytes(input_size, hidden_sizes, T, batch, dtype, n_windows, views), memory_limit()
    if need > limit:
        raise ValueError(
            f"this run would need about {_gigabytes(need)} of memory ({n_windows:,} windows of {T} steps, "
            f"batch {batch}, layers {list(hidden_sizes)}); the limit is {_gigabytes(limit)}, half of this "
            "machine's memory: use fewer samples, shorter sequences, smaller batches or layers"
        )


def _gigabytes(n: int) -> str:
    return f"{n / 2**30:.1f} GB"
