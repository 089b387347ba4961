"""Loading a 100k-row ratings CSV: recsys_core.data.read_ratings versus a bare pandas.read_csv
of the same file measured in the same run (the loader adds detection, validation and clean-up).

Run: python benchmarks/load.py
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import _data  # noqa: F401  (puts the project on sys.path)
from recsys_core.data import read_ratings


def best_of(function, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(7)
    n = 100_000
    frame = pd.DataFrame({"userId": rng.integers(1, 700, n), "movieId": rng.integers(1, 9000, n),
                          "rating": rng.integers(1, 11, n) / 2, "timestamp": rng.integers(900_000_000, 1_500_000_000, n)})
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ratings.csv"
        frame.to_csv(path, index=False)
        bare = best_of(lambda: pd.read_csv(path))
        ours = best_of(lambda: read_ratings(path))
    print(f"pandas.read_csv {bare:.3f} s; read_ratings {ours:.3f} s; ratio {ours / bare:.1f}x; goal: read_ratings < 1 s: {'met' if ours < 1 else 'missed'}")


if __name__ == "__main__":
    main()
