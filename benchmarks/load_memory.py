"""Peak memory and time of loading a large ratings file: recsys_core.data.load_dataset in a fresh process.

Writes user,item,rating,timestamp lines (users uniform, items Zipf-distributed
as in real catalogues, half-star ratings, unix times; about a fifth of the
(user, item) pairs drawn twice, so the de-duplication is part of the work) to
a temporary folder, then loads it in a subprocess and reads that process's
peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``). The
same measurement of a process that only imports recsys_core is the baseline,
so the loader's own share is shown too. The same file is also loaded with the
columnar fast path switched off (``--compare``): the text parser every file
went through before, as the baseline of the ratios.

Goals: issue 9, a 200 MB file: peak below 5x the file size and below 1 GB;
issue 11, a 25M-row file (about 650 MB): under 60 s and below 4 GB.

Run: python benchmarks/load_memory.py [--size-mb 200 | --size-mb 650] [--compare] [--keep] [--file F]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

# Runs in the child: peak RSS of this process (KiB on Linux) after importing, then after loading.
_CHILD = """
import json, resource, sys, time
from recsys_core.data import load_dataset
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if sys.argv[1] == "text":  # the careful text parser only, as before the columnar fast path
    import recsys_core.data.ratings as ratings
    ratings._read_head = lambda *args, **kwargs: None
if sys.argv[1] in ("load", "text"):
    start = time.perf_counter()
    dataset = load_dataset(sys.argv[2])
    seconds = time.perf_counter() - start
    ratings = dataset.n_ratings
else:
    seconds, ratings = 0.0, 0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kib": peak, "import_kib": before, "ratings": ratings}))
"""


def write_ratings(path: Path, size_mb: float, seed: int = 0) -> int:
    """Append chunks of ratings until the file reaches ``size_mb``; returns the number of lines."""
    rng = np.random.default_rng(seed)
    n_users, n_items = 300_000, 60_000
    item_weights = 1.0 / np.arange(1, n_items + 1) ** 1.1  # Zipf: a few blockbusters, a long tail
    item_weights /= item_weights.sum()
    target, lines, chunk = size_mb * 1_000_000, 0, 1_000_000
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("user,item,rating,timestamp\n")
        while handle.tell() < target:
            frame = pd.DataFrame({
                "user": rng.integers(1, n_users + 1, chunk),
                "item": rng.choice(n_items, chunk, p=item_weights) + 1,
                "rating": rng.integers(1, 11, chunk) / 2,
                "timestamp": rng.integers(946_684_800, 1_700_000_000, chunk),
            })
            frame.to_csv(handle, header=False, index=False)
            lines += chunk
    return lines


def measure(*args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=200.0)
    parser.add_argument("--file", help="load this ratings file instead of writing one")
    parser.add_argument("--compare", action="store_true",
                        help="also load with the text parser only (the path every file took before pyarrow)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="load-memory-"))
    path = Path(args.file) if args.file else folder / "ratings.csv"
    try:
        if not args.file:
            start = time.perf_counter()
            lines = write_ratings(path, args.size_mb)
            print(f"wrote {path} ({path.stat().st_size / 1e6:,.0f} MB, {lines:,} lines) "
                  f"in {time.perf_counter() - start:.0f} s")
        size = path.stat().st_size
        baseline = measure("import")
        base = baseline["peak_kib"] * 1024
        print(f"file size:        {size / 1e6:8,.0f} MB")
        print(f"import baseline:  {base / 1e6:8,.0f} MB  (a process that only imports recsys_core)")
        runs = [("load", "columnar fast path")] + ([("text", "text parser only")] if args.compare else [])
        results = {}
        for mode, label in runs:
            loaded = measure(mode, str(path))
            results[mode] = loaded
            peak = loaded["peak_kib"] * 1024
            print(f"{label}:")
            print(f"  load seconds:   {loaded['seconds']:8,.1f} s  ({loaded['ratings']:,} ratings after de-duplication)")
            print(f"  peak RSS:       {peak / 1e6:8,.0f} MB  ({peak / size:.2f}x the file size)")
            print(f"  loader's share: {(peak - base) / 1e6:8,.0f} MB  ({(peak - base) / size:.2f}x the file size)")
        if args.compare:
            fast, text = results["load"], results["text"]
            print(f"text parser / fast path: {text['seconds'] / fast['seconds']:.2f}x the time, "
                  f"{text['peak_kib'] / fast['peak_kib']:.2f}x the peak memory")
        fast = results["load"]
        peak, seconds, ratings = fast["peak_kib"] * 1024, fast["seconds"], fast["ratings"]
        if size < 400e6:
            ok = peak < 5 * size and peak < 1e9
            print(f"goal, issue 9 (< 5x the file size and < 1 GB): {'met' if ok else 'NOT met'}")
        else:
            ok = seconds < 60 and peak < 4e9
            print(f"goal, issue 11 (a ~25M-row file in < 60 s and < 4 GB): {'met' if ok else 'NOT met'} "
                  f"({ratings:,} ratings)")
        return 0 if ok else 1
    finally:
        if args.keep and not args.file:
            print(f"kept {path}")
        elif not args.file:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
