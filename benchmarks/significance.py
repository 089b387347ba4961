"""Time of the paired statistics: every pair, interval and effect size of 8 models x 10 metrics x 5 user groups.

Protocol: one seeded random 80/20 split; 8 models evaluated with per-user values kept
(``evaluate(..., per_user=True)``) at K = 10 with four activity buckets (<=5, 6-20, 21-50, >50) plus all
users; the 10 metrics are RMSE, MAE (rating models), precision, recall, NDCG, MAP, hit rate, MRR, and
HR / NDCG against 100 sampled negatives. Then :func:`recsys_core.evaluation.significance.compare` runs
with its defaults (Wilcoxon, Holm, 1,000 bootstrap resamples) and is timed alone (goal: < 3 s on 2 cores).

Run:
    python benchmarks/significance.py                        # bundled sample + MovieLens-100k-shaped generated set
    python benchmarks/significance.py --ratings u.data       # any ratings file
"""
from __future__ import annotations

import argparse
import io
import time

import pandas as pd

from _data import generated_dataset
from recsys_core import data
from recsys_core.evaluation import significance as S
from recsys_core.evaluation.runner import evaluate
from recsys_core.evaluation.splits import make_splits

MODELS = ["popular", "baseline", "svd", "item-knn-cosine", "rp3beta", "ease", "als", "bpr"]
EDGES = (5, 20, 50)


def run(dataset, label: str, repeats: int = 3) -> None:
    splits = make_splits(dataset, "random", seed=0)
    start = time.perf_counter()
    result = evaluate(dataset, MODELS, splits=splits, ks=(10,), bucket_edges=EDGES, per_user=True)
    evaluate_seconds = time.perf_counter() - start
    sampled = [S.sampled_metrics(model, splits[-1], ks=(10,), n_negatives=100, label=name, bucket_edges=EDGES)
               for name, model in result.models.items()]
    per_user = pd.concat([result.per_user, *sampled], ignore_index=True)
    n_users = per_user["user"].nunique()
    metrics = sorted(per_user["metric"].unique())
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        stats = S.compare(per_user)
        timings.append(time.perf_counter() - start)
    groups = stats.pairwise.groupby(["metric", "bucket"]).ngroups
    buffer = io.BytesIO()
    per_user.to_csv(buffer, index=False)
    print(f"{label}: {len(result.models)} models, {n_users} users, {len(metrics)} metrics "
          f"({', '.join(metrics)}), {groups} metric x user-group cells, {len(stats.pairwise)} paired tests, "
          f"{len(stats.intervals)} intervals")
    if result.errors:
        print(f"  failed: {result.errors}")
    print(f"  evaluate with per-user values: {evaluate_seconds:.1f} s")
    print(f"  statistics (Wilcoxon, Holm, 1,000 resamples): best {min(timings):.2f} s, "
          f"median {sorted(timings)[len(timings) // 2]:.2f} s of {repeats} (goal < 3 s)")
    print(f"  per-user CSV: {len(per_user):,} rows, {buffer.tell() / 1e6:.1f} MB")
    for sentence in S.reading(stats, "ndcg", 10, reference="popular", limit=3):
        print(f"  - {sentence}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", help="a ratings file (default: the bundled sample and a generated set)")
    parser.add_argument("--items")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.ratings:
        run(data.load_dataset(args.ratings, items=args.items), args.ratings, args.repeats)
        return
    run(data.load_sample(), "bundled sample", args.repeats)
    run(generated_dataset(), "generated (943 users x 1,682 items, 100k ratings)", args.repeats)


if __name__ == "__main__":
    main()
