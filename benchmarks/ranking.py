"""Ranking quality and speed of every ranking model beside "popular", measured in the same run.

Protocol (the issue's, as for the published MovieLens-100k references): one
per-rating random 80/20 split (seed 0), relevant = test rating >= 75% up the
scale (4 on 1-5), candidates = the whole catalogue minus the user's training
items, mean over users with at least one relevant test item.

For each model: NDCG@10, coverage@10, the ratio of NDCG@10 to "popular"'s,
and fit + full-catalogue top-10 for every user in seconds. Then a tuning run
(Optuna, on a validation hold-out of the *training* part only) and the tuned
model's test NDCG@10.

Run:
    python benchmarks/ranking.py                       # bundled sample + a MovieLens-100k-shaped generated set
    python benchmarks/ranking.py --ratings u.data [--items u.item]   # any ratings file (e.g. MovieLens-100k)
    python benchmarks/ranking.py --trials 30 --tune ease,als
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from _data import generated_dataset
from recsys_core import data
from recsys_core.evaluation.runner import ModelSpec, evaluate, summarise
from recsys_core.evaluation.splits import make_splits
from recsys_core.evaluation.tuning import tune

MODELS = ["popular", "svd", "item-knn-cosine", "rp3beta", "ease", "als", "bpr", "lightfm"]


def top10_for_everyone(name: str, train, params=None) -> float:
    """Fit + top-10 over the whole catalogue for every user, seconds."""
    from recsys_core.models import make_model

    start = time.perf_counter()
    model = make_model(name, **(params or {})).fit(train)
    model.recommend_indices(np.arange(train.n_users), n=10)
    return time.perf_counter() - start


def run(dataset, models: list[str], tune_models: list[str], trials: int) -> None:
    split = make_splits(dataset, "random", test_size=0.2, seed=0)
    print(f"\n== {dataset.name}: {dataset.n_users:,} users, {dataset.n_items:,} items, {dataset.n_ratings:,} ratings")
    result = evaluate(dataset, models, splits=split, ks=(10,))
    table = summarise(result.table)
    reference = table.loc["popular", "ndcg@10"]
    timings = {name: top10_for_everyone(name, split[0].train) for name in table.index}
    print(f"{'model':16s} {'NDCG@10':>8s} {'x popular':>9s} {'coverage@10':>11s} {'fit+top10 s':>11s}")
    for name, row in table.sort_values("ndcg@10", ascending=False).iterrows():
        print(f"{name:16s} {row['ndcg@10']:8.4f} {row['ndcg@10'] / reference:9.2f} {row['coverage@10']:11.3f} "
              f"{timings[name]:11.2f}")
    for name, message in result.errors.items():
        print(f"{name} failed: {message}")
    best = table.drop(index="popular")["ndcg@10"].idxmax()
    print(f"best default: {best} NDCG@10 {table.loc[best, 'ndcg@10']:.4f} = {table.loc[best, 'ndcg@10'] / reference:.2f}x "
          f"popular ({reference:.4f}), coverage@10 {table.loc[best, 'coverage@10']:.3f}")
    for name in tune_models:
        start = time.perf_counter()
        tuned = tune(split[0].train, name, n_trials=trials, seed=0)
        seconds = time.perf_counter() - start
        after = evaluate(dataset, [ModelSpec(name, tuned.best_params, f"{name} tuned")], splits=split, ks=(10,))
        value = summarise(after.table)["ndcg@10"].iloc[0]
        print(f"tuned {name}: {trials} trials in {seconds:.1f} s (validation NDCG@10 {tuned.best_value:.4f}); "
              f"test NDCG@10 {value:.4f} vs default {table.loc[name, 'ndcg@10']:.4f}; params {tuned.best_params}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings")
    parser.add_argument("--items")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--tune", default="ease,als")
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    models = args.models.split(",")
    tune_models = [m for m in args.tune.split(",") if m]
    if args.ratings:
        datasets = [data.load_dataset(args.ratings, items=args.items)]
    else:
        datasets = [data.load_sample(), generated_dataset()]
    for dataset in datasets:
        run(dataset, models, tune_models, args.trials)


if __name__ == "__main__":
    main()
