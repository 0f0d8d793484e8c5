"""How much memory does reading a big CSV column take? Peak memory of ``read_series`` per million rows.

    python benchmarks/bench_csv_memory.py [--rows 10000000] [--file big.csv]

Writes (or reuses, with --file) a two-column file ``date,value`` (a minute timestamp such as 2020-01-01T00:00 and a
value with four decimals, ~28 bytes a row, ~280 MB for ten million rows), then reads it in a fresh process per case
and prints, per case: seconds, the peak resident memory the read added (the high-water mark VmHWM after the read
minus the resident size before it), in MB and in MB per million rows, that peak over the values' own size (8 bytes
a row), and what stays resident with the Series. Linux only (/proc). To measure another version of the package,
put its folder first on PYTHONPATH.

Cases: the value column alone; with the time column; with the time column and the plot axis asked for.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

CHUNK = 1_000_000

# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec, so a child
# would report the benchmark's own peak (writing the file) whenever its read takes less
MEASURE = r"""
import json, sys, time
import lstm_studio
from lstm_studio.training import read_series

def status_mb(key):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(key + ":")) / 1024

path, time_column, axis = sys.argv[1], sys.argv[2] or None, sys.argv[3] == "axis"
before = status_mb("VmRSS")
started = time.perf_counter()
series = read_series(path, "value", time_column)
if axis:
    series.axis
seconds = time.perf_counter() - started
print(json.dumps({"rows": len(series.values), "seconds": seconds, "peak_mb": status_mb("VmHWM") - before,
                  "kept_mb": status_mb("VmRSS") - before, "package": lstm_studio.__file__}))
"""


def write_file(path: str, rows: int) -> None:
    """``rows`` rows of ``date,value``, written a million at a time."""
    start = np.datetime64("2020-01-01T00:00")
    rng = np.random.default_rng(0)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("date,value\n")
        for first in range(0, rows, CHUNK):
            k = np.arange(first, min(rows, first + CHUNK))
            dates = np.datetime_as_string(start + k.astype("timedelta64[m]"), unit="m")
            values = np.char.mod("%.4f", 100 + np.cumsum(rng.normal(size=len(k))))
            f.write("".join(f"{d},{v}\n" for d, v in zip(dates.tolist(), values.tolist(), strict=True)))


def measure(path: str, time_column: str, axis: bool) -> dict:
    """One read in a fresh process: its rows, seconds and the peak memory it added."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, os.path.abspath(path), time_column, "axis" if axis else ""],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # not the work tree: the package is the installed one, or PYTHONPATH's
    )
    if out.returncode:
        raise SystemExit(f"reading {path} failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--file", help="the CSV to read; written first when it does not exist")
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    path = args.file or os.path.join(folder, "big.csv")
    if not os.path.exists(path):
        started = time.perf_counter()
        write_file(path, args.rows)
        print(f"wrote {path} in {time.perf_counter() - started:.0f} s")
    size_mb = os.path.getsize(path) / 2**20
    print(f"file: {size_mb:.0f} MB")
    print(f"{'case':<22} {'rows':>11} {'seconds':>8} {'peak MB':>8} {'MB/M rows':>9} {'x values':>8} {'kept MB':>8}")
    for label, time_column, axis in [
        ("value", "", False),
        ("value + date", "date", False),
        ("value + date + axis", "date", True),
    ]:
        result = measure(path, time_column, axis)
        rows, peak = result["rows"], result["peak_mb"]
        per_million = peak / (rows / 1e6)
        values_mb = rows * 8 / 2**20
        print(
            f"{label:<22} {rows:>11,} {result['seconds']:>8.1f} {peak:>8.0f} {per_million:>9.1f} "
            f"{peak / values_mb:>8.1f} {result['kept_mb']:>8.0f}"
        )
    print(f"package measured: {result['package']}")
    if not args.file:
        os.remove(path)
        os.rmdir(folder)


if __name__ == "__main__":
    main()
