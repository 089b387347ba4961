"""Top-10 for every user: the project's bulk scoring versus Surprise's per-pair predict loop.

Fits ``svd`` and an item-based ``knn-basic`` on a generated 100k-rating data
set, then, in the same run, ranks the whole catalogue for every user both ways
(each user's training items excluded; ties broken by the same seeded rule;
pairs Surprise cannot predict rank last, as in the project). Prints timings,
the speed-up, and whether the lists are identical. Last line:

    min speedup: N.Nx; identical top-10 lists: yes|no

Run: python benchmarks/topn.py [--ratings 100000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import surprise

from _data import generated_dataset
from recsys_core.models import make_model, rank_top_n
from recsys_core.models.base import RANK_DECIMALS
from recsys_core.models._surprise import build_trainset


def surprise_top_n(algo, dataset, tie_break, n=10):
    """Rank every unseen item for every user with Surprise's own predict()."""
    seen = dataset.matrix
    out = np.full((dataset.n_users, n), -1, dtype=np.int64)
    scores = np.empty(dataset.n_items)
    for user in range(dataset.n_users):
        for item in range(dataset.n_items):
            prediction = algo.predict(user, item)
            scores[item] = np.nan if prediction.details.get("was_impossible") else prediction.est
        exclude = np.zeros((1, dataset.n_items), dtype=bool)
        exclude[0, seen.indices[seen.indptr[user]:seen.indptr[user + 1]]] = True
        # The project's ranking rule: round away summation-order noise, then seeded tie-break.
        out[user] = rank_top_n(np.round(scores[None, :], RANK_DECIMALS), n, tie_break, exclude)[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratings", type=int, default=100_000)
    args = parser.parse_args()
    dataset = generated_dataset(n_ratings=args.ratings)
    print(f"data: {dataset.n_users} users, {dataset.n_items} items, {dataset.n_ratings} ratings")
    trainset = build_trainset(dataset)
    cases = [
        ("svd", {}, surprise.SVD(random_state=0, verbose=False)),
        ("knn-basic (item-based)", {"user_based": False}, surprise.KNNBasic(sim_options={"user_based": False}, verbose=False)),
    ]
    speedups, identical = [], True
    for label, params, algo in cases:
        name = label.split()[0]
        model = make_model(name, **params).fit(dataset)
        algo.fit(trainset)
        users = np.arange(dataset.n_users)
        model.recommend_indices(users[:1], n=10)  # warm-up: numba's one-off compile is not per-call cost
        start = time.perf_counter()
        ours = model.recommend_indices(users, n=10)
        ours_seconds = time.perf_counter() - start
        start = time.perf_counter()
        theirs = surprise_top_n(algo, dataset, model.tie_break_)
        theirs_seconds = time.perf_counter() - start
        same = np.array_equal(ours, theirs)
        differing = int((ours != theirs).any(axis=1).sum())
        identical &= same
        speedups.append(theirs_seconds / ours_seconds)
        print(f"{label:24s} project {ours_seconds:7.2f} s   surprise predict loop {theirs_seconds:7.2f} s   "
              f"speedup {theirs_seconds / ours_seconds:6.1f}x   users with different lists: {differing}")
    print(f"min speedup: {min(speedups):.1f}x; identical top-10 lists: {'yes' if identical else 'no'}")


if __name__ == "__main__":
    main()
