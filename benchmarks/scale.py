"""Scale benchmark: the project's models and Surprise's on MovieLens-25M-shaped data, per size.

Generates Zipf-popularity ratings at 1M, 5M and 25M (25M: 162,541 users x
59,047 items, MovieLens-25M's shape; users and items scale proportionally
below) and, for each model in its own subprocess (so peak memory is that
model's alone), prints fit seconds, top-10 seconds for a sample of 1,000
users, the process's peak resident memory, the project's memory estimate and
a status. Surprise runs in the same table up to where it still fits: its
KNNBasic builds dense n x n arrays, so its memory is estimated first and the
row says "out of memory (estimate X GB)" instead of running it.

Surprise ranks by calling ``predict`` per (user, item): at these sizes a
1,000-user sample would take hours, so its top-10 is timed on
``--surprise-users`` users (default 100) and scaled to 1,000 (marked "~").

The rating models in ``HOLDOUT`` ("svd" and "surprise SVD") are fitted on
the same seeded 90 % of the rows and scored by RMSE on the other 10 %; after
the table, a line per size compares the two: fit seconds and their ratio,
both RMSEs and the largest difference between their hold-out predictions
(the project's SVD reproduces Surprise's SGD, so it should be 0).

Run: python benchmarks/scale.py --size 1M [--size 5M] [--models "svd,surprise SVD"]
The 25M row takes up to an hour on 2 cores and is not run in CI.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: MovieLens-25M's shape.
FULL_USERS, FULL_ITEMS, FULL_RATINGS = 162_541, 59_047, 25_000_095
SIZES = {"1M": 1_000_000, "5M": 5_000_000, "25M": 25_000_000}
#: Popularity exponents (rank^-a), chosen so the most popular item is rated by
#: about half the users and the most active user rates about a third of the
#: catalogue, as in MovieLens-25M (a = 1 would put more ratings on the top
#: item than there are users).
ITEM_EXPONENT, USER_EXPONENT = 0.6, 0.5
SAMPLE_USERS = 1_000
GIB = 1024**3

#: label -> (engine, registry name or Surprise class, parameters)
MODELS = {
    "knn-basic item": ("project", "knn-basic", {"user_based": False}),
    "knn-basic user": ("project", "knn-basic", {"user_based": True}),
    "item-knn-cosine": ("project", "item-knn-cosine", {}),
    "rp3beta": ("project", "rp3beta", {}),
    "als": ("project", "als", {}),
    "svd": ("project", "svd", {}),
    "ease": ("project", "ease", {}),
    "surprise KNNBasic item": ("surprise", "KNNBasic", {"user_based": False}),
    "surprise KNNBasic user": ("surprise", "KNNBasic", {"user_based": True}),
    "surprise SVD": ("surprise", "SVD", {}),
}
#: Labels fitted on 90 % of the rows and scored by RMSE on the same 10 % hold-out.
HOLDOUT = ("svd", "surprise SVD")
HOLDOUT_SHARE, HOLDOUT_SEED = 0.1, 2024


def shape(n_ratings: int) -> tuple[int, int]:
    """Users and items for ``n_ratings``, scaled proportionally from MovieLens-25M."""
    scale = n_ratings / FULL_RATINGS
    return max(10, round(FULL_USERS * scale)), max(10, round(FULL_ITEMS * scale))


def generate(n_ratings: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_ratings`` distinct (user, item, rating) triples with Zipf user activity and item popularity.

    Pairs are drawn independently from the two popularity laws, duplicates
    dropped, and the surplus removed at random. Ratings 1..5: a global mean,
    user and item offsets, and noise, rounded.
    """
    n_users, n_items = shape(n_ratings)
    rng = np.random.default_rng(seed)
    user_p = np.arange(1, n_users + 1, dtype=np.float64) ** -USER_EXPONENT
    item_p = np.arange(1, n_items + 1, dtype=np.float64) ** -ITEM_EXPONENT
    user_cdf, item_cdf = np.cumsum(user_p), np.cumsum(item_p)
    user_cdf /= user_cdf[-1]
    item_cdf /= item_cdf[-1]
    user_of_rank, item_of_rank = rng.permutation(n_users), rng.permutation(n_items)
    keys = np.zeros(0, np.int64)
    draw = int(n_ratings * 1.3)
    while len(keys) < n_ratings:
        # Inverse-CDF sampling: much faster than rng.choice(p=...) at 30M draws.
        users = user_of_rank[np.minimum(np.searchsorted(user_cdf, rng.random(draw)), n_users - 1)]
        items = item_of_rank[np.minimum(np.searchsorted(item_cdf, rng.random(draw)), n_items - 1)]
        keys = np.unique(np.concatenate([keys, users.astype(np.int64) * n_items + items]))
        draw = int((n_ratings - len(keys)) * 2) + 1000
    keys = np.sort(keys[rng.permutation(len(keys))[:n_ratings]])
    users, items = keys // n_items, keys % n_items
    user_offset = rng.normal(0, 0.4, n_users)
    item_offset = rng.normal(0, 0.5, n_items)
    raw = 3.5 + user_offset[users] + item_offset[items] + rng.normal(0, 0.9, n_ratings)
    ratings = np.clip(np.round(raw), 1, 5)
    return users.astype(np.int32), items.astype(np.int32), ratings.astype(np.float32)


def surprise_knn_bytes(n_x: int, n_ratings: int) -> float:
    """Surprise's KNNBasic (msd): freq, squared differences and the similarity, each n x n float64/int64,
    plus its Trainset (Python dicts of tuples)."""
    from recsys_core.models import memory

    return 3 * 8 * n_x**2 + memory.SURPRISE_BYTES_PER_RATING * n_ratings


def holdout_split(n_ratings: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train rows, test rows), each in row order: the same split for every model of a size."""
    order = np.random.default_rng(HOLDOUT_SEED).permutation(n_ratings)
    n_test = int(round(HOLDOUT_SHARE * n_ratings))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def predictions_path(data_path: str, label: str) -> str:
    return f"{data_path}.{label.replace(' ', '_')}.predictions.npy"


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB


def rss_gib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / GIB


# ------------------------------------------------------------------ child
def run_one(label: str, data_path: str, surprise_users: int) -> dict:
    """Fit and rank with one model in this process; returns the row's measurements."""
    import pandas as pd

    from recsys_core.dataset import Dataset
    from recsys_core.errors import ModelMemoryError
    from recsys_core.models import memory

    engine, name, params = MODELS[label]
    arrays = np.load(data_path)
    users, items, ratings = arrays["users"], arrays["items"], arrays["ratings"]
    frame = pd.DataFrame({"user": users, "item": items, "rating": ratings})
    dataset = Dataset.from_frames(frame, rating_scale=(1, 5), name="scale")
    del frame, arrays
    sample = np.random.default_rng(1).choice(dataset.n_users, min(SAMPLE_USERS, dataset.n_users), replace=False)
    row = {"users": dataset.n_users, "items": dataset.n_items, "ratings": dataset.n_ratings}
    test = None
    if label in HOLDOUT:
        train_rows, test_rows = holdout_split(dataset.n_ratings)
        frame = dataset.interactions
        test = (frame["user_idx"].to_numpy()[test_rows], frame["item_idx"].to_numpy()[test_rows],
                frame["rating"].to_numpy(dtype=np.float64)[test_rows])
        dataset = dataset.subset(train_rows, name="scale-train")  # keeps the vocabularies
        del frame, train_rows, test_rows
    before = rss_gib()
    row["rss_before"] = before
    if engine == "project":
        from recsys_core.models import make_model, warm_up_kernels

        warm_up_kernels()  # numba's one-off compile is not fit time
        row["rss_before"] = rss_gib()  # nor fit memory
        model = make_model(name, **params)
        row["estimate"] = model.memory_estimate(dataset.n_users, dataset.n_items, dataset.n_ratings) / GIB
        start = time.perf_counter()
        try:
            model.fit(dataset)
        except ModelMemoryError:
            row["status"] = f"refused: estimate {row['estimate']:.1f} GB"
            return row
        row["fit"] = time.perf_counter() - start
        start = time.perf_counter()
        model.recommend_indices(sample, n=10)
        row["top10"] = time.perf_counter() - start
        row["status"] = "ok" + (" (sparse top-k)" if getattr(model, "sparse_", False) else "")
        if test is not None:
            estimates, _ = model.predict_indices(test[0], test[1])
            score_holdout(row, estimates, test[2], predictions_path(data_path, label))
        return row
    import surprise

    from recsys_core.models._surprise import build_trainset
    from recsys_core.models.base import RANK_DECIMALS, rank_top_n

    user_based = params.get("user_based", True)
    if name == "KNNBasic":
        need = surprise_knn_bytes(dataset.n_users if user_based else dataset.n_items, dataset.n_ratings)
        row["estimate"] = need / GIB
        if not memory.fits(need):
            row["status"] = f"out of memory (estimate {need / GIB:.1f} GB)"
            return row
        algo = surprise.KNNBasic(sim_options={"user_based": user_based}, verbose=False)
    else:
        row["estimate"] = (memory.SURPRISE_BYTES_PER_RATING * dataset.n_ratings) / GIB
        algo = surprise.SVD(random_state=0, verbose=False)
    start = time.perf_counter()
    trainset = build_trainset(dataset)
    algo.fit(trainset)
    row["fit"] = time.perf_counter() - start
    # Surprise ranks by predict() per pair: time a smaller sample, scale to SAMPLE_USERS.
    timed = sample[:surprise_users]
    seen = dataset.matrix
    tie_break = np.arange(dataset.n_items)
    scores = np.empty(dataset.n_items)
    start = time.perf_counter()
    for user in timed:
        for item in range(dataset.n_items):
            prediction = algo.predict(int(user), int(item))
            scores[item] = np.nan if prediction.details.get("was_impossible") else prediction.est
        exclude = np.zeros((1, dataset.n_items), dtype=bool)
        exclude[0, seen.indices[seen.indptr[user]:seen.indptr[user + 1]]] = True
        rank_top_n(np.round(scores[None, :], RANK_DECIMALS), 10, tie_break, exclude)
    row["top10"] = (time.perf_counter() - start) * len(sample) / max(1, len(timed))
    row["top10_scaled"] = len(timed) < len(sample)
    row["status"] = "ok"
    if test is not None:
        estimates = np.array([algo.predict(int(user), int(item)).est for user, item in zip(test[0], test[1])])
        score_holdout(row, estimates, test[2], predictions_path(data_path, label))
    return row


def score_holdout(row: dict, estimates: np.ndarray, ratings: np.ndarray, path: str) -> None:
    """RMSE on the hold-out into the row; the predictions to ``path`` for the parent's comparison."""
    row["rmse"] = float(np.sqrt(np.mean((estimates - ratings) ** 2)))
    row["test_ratings"] = len(ratings)
    row["status"] += f", RMSE {row['rmse']:.4f} on {HOLDOUT_SHARE:.0%} hold-out (fit on the rest)"
    np.save(path, estimates)


def compare_holdout(size: str, rows: dict, data_path: str) -> str | None:
    """One line: fit seconds, ratio and RMSE of the HOLDOUT models, and their largest prediction gap."""
    ours, theirs = (rows.get(label, {}) for label in HOLDOUT)
    if "rmse" not in ours or "rmse" not in theirs:
        return None
    gap = np.abs(np.load(predictions_path(data_path, HOLDOUT[0])) - np.load(predictions_path(data_path, HOLDOUT[1])))
    return (f"<!-- {size}: {HOLDOUT[0]} fit {ours['fit']:,.1f} s vs {HOLDOUT[1]} {theirs['fit']:,.1f} s "
            f"({theirs['fit'] / ours['fit']:.1f}x faster); RMSE {ours['rmse']:.6f} vs {theirs['rmse']:.6f} on "
            f"{ours['test_ratings']:,} hold-out ratings; max |prediction difference| {gap.max():.3g} -->")


# ----------------------------------------------------------------- parent
def format_row(size: str, label: str, row: dict) -> str:
    def seconds(key):
        if key not in row:
            return "-"
        mark = "~" if key == "top10" and row.get("top10_scaled") else ""
        return f"{mark}{row[key]:,.1f}"

    peak = f"{row['peak']:.2f}" if "peak" in row else "-"
    delta = f"{row['peak'] - row['rss_before']:.2f}" if "peak" in row and "rss_before" in row else "-"
    estimate = f"{row['estimate']:.2f}" if "estimate" in row else "-"
    return (f"| {label:22s} | {size:>4s} | {seconds('fit'):>8s} | {seconds('top10'):>9s} | {peak:>7s} | "
            f"{delta:>8s} | {estimate:>7s} | {row.get('status', '?')} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", choices=sorted(SIZES), help="repeatable; default 1M")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated labels of MODELS")
    parser.add_argument("--surprise-users", type=int, default=100)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        row = run_one(args.child, args.data, args.surprise_users)
        row["peak"] = peak_gib()
        print("RESULT " + json.dumps(row))
        return
    labels = [label.strip() for label in args.models.split(",") if label.strip()]
    unknown = [label for label in labels if label not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    print("| model                  | size |    fit s | top-10 s | peak GB | fit Δ GB |  est GB | status |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for size in args.size or ["1M"]:
            start = time.perf_counter()
            users, items, ratings = generate(SIZES[size])
            path = os.path.join(directory, f"{size}.npz")
            np.savez(path, users=users, items=items, ratings=ratings)
            print(f"<!-- {size}: {users.max() + 1:,} users x {items.max() + 1:,} items x {len(ratings):,} ratings, "
                  f"generated in {time.perf_counter() - start:.1f} s -->", flush=True)
            del users, items, ratings
            rows = {}
            for label in labels:
                command = [sys.executable, __file__, "--child", label, "--data", path,
                           "--surprise-users", str(args.surprise_users)]
                done = subprocess.run(command, capture_output=True, text=True)
                lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
                if lines:
                    row = json.loads(lines[-1][len("RESULT "):])
                else:  # killed (e.g. by the kernel's OOM killer) or crashed
                    tail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
                    row = {"status": f"failed: {tail[:120]}"}
                rows[label] = row
                print(format_row(size, label, row), flush=True)
            comparison = compare_holdout(size, rows, path)
            if comparison:
                print(comparison, flush=True)


if __name__ == "__main__":
    main()
