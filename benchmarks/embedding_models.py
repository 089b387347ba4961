"""The embedding models beside popular, ease and als (and fm's RMSE beside svd's), measured in the same run.

Protocol (as benchmarks/ranking.py): one random 80/20 split (seed 0), relevant = test rating >= 75% up the
scale, the whole catalogue minus each user's training items, NDCG@10 over users with a relevant test item.
Models trained per epoch get their validation part from the training part (one interaction per user), as the
runner always gives them. For each model: NDCG@10, its ratio to als's and to popular's, fit seconds (with the
epochs early stopping kept), top-10 for every user in seconds, and one new user's fold-in in milliseconds.

Run:
    python benchmarks/embedding_models.py                        # bundled sample + a MovieLens-100k-shaped set
    python benchmarks/embedding_models.py --ratings u.data [--items u.item --users u.user]
    python benchmarks/embedding_models.py --models lightgcn,fm --skip-generated
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from _data import generated_dataset
from recsys_core import data
from recsys_core.evaluation.runner import ModelSpec, evaluate, summarise
from recsys_core.evaluation.splits import make_splits

REFERENCES = ["popular", "ease", "als"]
EMBEDDING = ["mf-bce", "ncf", "two-tower", "lightgcn", "fm", "item2vec"]


def timings(model, train) -> tuple[float, float]:
    """Top-10 for every user (s) and one new user's fold-in from five items (ms)."""
    start = time.perf_counter()
    model.recommend_indices(np.arange(train.n_users), n=10)
    top = time.perf_counter() - start
    items = np.argsort(-train.item_counts)[:5]
    model.fold_in(items, np.full(5, train.rating_scale[1]))  # warm
    start = time.perf_counter()
    model.fold_in(items, np.full(5, train.rating_scale[1]))
    return top, 1000 * (time.perf_counter() - start)


def run(dataset, models: list[str]) -> None:
    split = make_splits(dataset, "random", seed=0)
    specs = [ModelSpec(name, {"task": "ranking"} if name == "fm" else {}) for name in REFERENCES + models]
    if not dataset.implicit:
        specs += [ModelSpec("fm", {"task": "ratings"}, label="fm (ratings)"), ModelSpec("svd")]
    result = evaluate(dataset, specs, splits=split, ks=(10,))
    for label, error in result.errors.items():
        print(f"  {label}: FAILED {error}")
    table = summarise(result.table)
    als, popular = table.loc["als", "ndcg@10"], table.loc["popular", "ndcg@10"]
    epochs = result.history.groupby("model")["epoch"].max() if len(result.history) else {}
    print(f"{dataset.name}: {dataset.n_users:,} users x {dataset.n_items:,} items, {dataset.n_ratings:,} ratings")
    print(f"  {'model':<14}{'NDCG@10':>9}{'/als':>7}{'/popular':>9}{'RMSE':>8}{'fit s':>8}{'epochs':>7}"
          f"{'top-10 s':>9}{'fold-in ms':>11}")
    for label, row in table.iterrows():
        model = result.models.get(label)
        top, fold = timings(model, split[0].train) if model is not None else (np.nan, np.nan)
        rmse = row.get("rmse", np.nan)
        print(f"  {label:<14}{row['ndcg@10']:>9.4f}{row['ndcg@10'] / als:>7.2f}{row['ndcg@10'] / popular:>9.2f}"
              f"{rmse:>8.4f}{row['fit_seconds']:>8.1f}{str(epochs.get(label, '')):>7}{top:>9.2f}{fold:>11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings")
    parser.add_argument("--items")
    parser.add_argument("--users")
    parser.add_argument("--models", default=",".join(EMBEDDING))
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument("--skip-sample", action="store_true")
    args = parser.parse_args()
    models = [name for name in args.models.split(",") if name]
    if args.ratings:
        run(data.load_dataset(args.ratings, items=args.items, users=args.users), models)
        return
    if not args.skip_sample:
        run(data.load_sample(), models)
    if not args.skip_generated:
        run(generated_dataset(), models)


if __name__ == "__main__":
    main()
