"""A 5-model comparison on 100k ratings: one random split, rating and ranking metrics at K=10.

Baseline measured in the same run: Surprise alone fitting the same models on
the same split and predicting the test pairs (rating metrics only, no ranking).
Goal: the full comparison, ranking over the whole catalogue included, in
under 20 s on a 2-core machine.

Run: python benchmarks/compare.py
"""
from __future__ import annotations

import time

import surprise

from _data import generated_dataset
from recsys_core.evaluation.runner import evaluate, summarise
from recsys_core.evaluation.splits import make_splits
from recsys_core.models._surprise import build_trainset

MODELS = ["svd", "knn-basic", "coclustering", "baseline", "popular"]


def main() -> None:
    dataset = generated_dataset()
    splits = make_splits(dataset, "random", test_size=0.2, seed=0)
    print(f"data: {dataset.n_users} users, {dataset.n_items} items, {dataset.n_ratings} ratings; models: {', '.join(MODELS)}")

    start = time.perf_counter()
    result = evaluate(dataset, MODELS, splits=splits, ks=(10,))
    project_seconds = time.perf_counter() - start

    # Baseline: Surprise fit + test on the same split, rating predictions only.
    train, test = splits[0].train, splits[0].test
    start = time.perf_counter()
    trainset = build_trainset(train)
    testset = list(zip(test.interactions.user_idx.tolist(), test.interactions.item_idx.tolist(), test.interactions.rating.tolist()))
    for algo in (surprise.SVD(random_state=0, verbose=False), surprise.KNNBasic(verbose=False),
                 surprise.CoClustering(random_state=0, verbose=False), surprise.BaselineOnly(verbose=False)):
        algo.fit(trainset).test(testset)
    surprise_seconds = time.perf_counter() - start

    table = summarise(result.table)
    print(table[["rmse", "mae", "precision@10", "ndcg@10", "coverage@10", "median_popularity@10", "fit_seconds", "score_seconds"]].round(4).to_string())
    print(f"errors: {result.errors or 'none'}")
    print(f"surprise fit+test (rating metrics only): {surprise_seconds:.1f} s")
    print(f"project full comparison (rating + ranking over the catalogue): {project_seconds:.1f} s "
          f"({project_seconds / surprise_seconds:.2f}x the Surprise-only run); goal < 20 s: {'met' if project_seconds < 20 else 'missed'}")


if __name__ == "__main__":
    main()
