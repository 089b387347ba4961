"""Beyond accuracy, measured: one function per section, each printing ratios against a baseline of the same run.

Sections (``--section``, default all):

* ``rerank`` -- MMR re-ranking of top-100 candidates to top-10 for every user (goal < 1 s on 100k ratings)
  beside the model's own top-10; the 11-point trade-off curve (goal < 15 s); calibrated re-ranking over a
  grid of λ: calibration KL and NDCG@10 relative to the model's own lists (goal: KL halved, NDCG down < 10%).
* ``forget`` -- forgetting one user (the issue's goal: < 1 s for the models that forget incrementally),
  timed against a full refit of the same model without that user in the same run; the largest score
  difference to that refit, and the share of the other users whose top-10 changed.

    python benchmarks/beyond_accuracy.py                         # sample + 100k generated
    python benchmarks/beyond_accuracy.py --section forget --ratings u.data --users-file u.user
    python benchmarks/beyond_accuracy.py --section forget --forget 3   # three users at once

A new section is a function ``(dataset, args) -> None`` added to ``SECTIONS``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _data import generated_dataset

from recsys_core import data
from recsys_core.dataset import Dataset
from recsys_core.forget import forget_model
from recsys_core.models import make_model

#: Incremental models first, then one that refits (its "forget" is the refit).
FORGET_MODELS = "popular,ease,item-knn-cosine,rp3beta,als,knn-basic,knn-basic-item,svd"
#: Labels for a model with other settings than its defaults.
VARIANTS = {"knn-basic-item": ("knn-basic", {"user_based": False})}


def forget_section(dataset: Dataset, args: argparse.Namespace) -> None:
    """Fit each model on all of ``dataset``, forget ``args.forget`` users of median activity, time both ways."""
    counts = dataset.user_counts
    order = np.argsort(np.abs(counts - np.median(counts)), kind="stable")
    users = [str(u) for u in dataset.user_ids[order[: args.forget]]]
    print(f"\n== forget: {len(users)} user(s) with {', '.join(str(counts[i]) for i in order[:args.forget])} "
          f"ratings from {dataset.name} ({dataset.n_users:,} users x {dataset.n_items:,} items, "
          f"{dataset.n_ratings:,} ratings)")
    rows = []
    for name in args.models.split(","):
        started = time.perf_counter()
        registered, params = VARIANTS.get(name, (name, {}))
        model = make_model(registered, **params).fit(dataset)
        fit_seconds = time.perf_counter() - started
        outcome = forget_model(model, users, label=name, compare_refit=True)
        refit_seconds = outcome.refit_seconds if outcome.refit_seconds is not None else outcome.seconds
        rows.append({
            "model": name, "method": outcome.method, "forget s": round(outcome.seconds, 3),
            "refit s": round(refit_seconds, 3), "first fit s": round(fit_seconds, 3),
            "speed-up": round(refit_seconds / max(outcome.seconds, 1e-9), 1) if outcome.method == "incremental" else 1.0,
            "< 1 s": outcome.seconds < 1.0,
            "max |score - refit|": outcome.refit_max_difference,
            "top-10 changed": f"{outcome.changed_share:.1%}",
            "top-10 differs from refit": (None if outcome.refit_changed_share is None
                                          else f"{outcome.refit_changed_share:.1%}"),
        })
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(pd.DataFrame(rows).to_string(index=False))
    print("refit s: a full refit without the user(s), timed in this run (for refitting models it *is* the forget).")


def rerank_section(dataset: Dataset, args: argparse.Namespace) -> None:
    """Re-ranking: MMR for every user, the 11-point trade-off curve, calibrated re-ranking's KL and NDCG cost.

    One random 80/20 split (seed 0); the model (``--rerank-model``, default als) is fitted on its training
    part. Timings are printed beside the model's own top-10 for the same users, timed in this run.
    """
    from recsys_core import reranking as R
    from recsys_core.evaluation.splits import make_splits
    from recsys_core.evaluation.tradeoff import tradeoff_curve

    split = make_splits(dataset, "random", seed=0)[0]
    model = make_model(args.rerank_model).fit(split.train)
    users = np.arange(split.train.n_users)
    print(f"\n== rerank: {args.rerank_model} on {dataset.name} ({dataset.n_users:,} users x {dataset.n_items:,} "
          f"items, {dataset.n_ratings:,} ratings); random 80/20 split, seed 0")
    started = time.perf_counter()
    model.recommend_indices(users, n=10)
    own = time.perf_counter() - started
    started = time.perf_counter()
    cands = R.candidates(model, users, R.N_CANDIDATES)
    candidate_seconds = time.perf_counter() - started
    print(f"  the model's own top-10 for all {len(users):,} users: {own:.3f} s; its top-{R.N_CANDIDATES} candidates "
          f"with scores: {candidate_seconds:.3f} s")
    for similarity in R.SIMILARITIES:
        try:
            context = R.ReRankContext(model, similarity)
            R.rerank(cands.rows(np.arange(min(8, len(users)))), context, "mmr", 0.5, 10)  # first call: features
            started = time.perf_counter()
            R.rerank(cands, context, "mmr", 0.5, 10)
            seconds = time.perf_counter() - started
        except Exception as error:  # noqa: BLE001 -- a missing similarity source is reported, the rest goes on
            print(f"  MMR by {similarity}: {error}")
            continue
        print(f"  MMR top-{R.N_CANDIDATES} -> top-10, all users, similarity {similarity}: {seconds:.3f} s "
              f"({seconds / own:.1f}x the model's own top-10; goal < 1 s: {'yes' if seconds < 1 else 'NO'})")
    for name in ("mmr", "calibrated"):
        started = time.perf_counter()
        curve = tradeoff_curve(model, split, name)
        seconds = time.perf_counter() - started
        print(f"  11-point trade-off curve of {name} (score candidates once, re-rank and measure 11 times): "
              f"{seconds:.2f} s (goal < 15 s: {'yes' if seconds < 15 else 'NO'})")
    grid = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99]
    curve = tradeoff_curve(model, split, "calibrated", values=grid)
    base_kl, base_ndcg = curve["calibration_kl"].iloc[0], curve["ndcg"].iloc[0]
    curve["KL / λ=0"] = curve["calibration_kl"] / base_kl
    curve["NDCG / λ=0"] = curve["ndcg"] / base_ndcg
    curve["goal met"] = (curve["KL / λ=0"] <= 0.5) & (curve["NDCG / λ=0"] > 0.9)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format):
        print(curve[["value", "ndcg", "calibration_kl", "diversity", "KL / λ=0", "NDCG / λ=0", "goal met"]]
              .rename(columns={"value": "λ"}).to_string(index=False))
    met = curve[curve["goal met"]]
    default = R.RERANKERS["calibrated"].default
    print(f"  calibrated goal (KL at most half, NDCG@10 down < 10%): met for λ in "
          f"{', '.join(f'{v:g}' for v in met['value']) or 'none'}; the registry's default λ is {default:g}")


SECTIONS = {"forget": forget_section, "rerank": rerank_section}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", choices=list(SECTIONS), action="append",
                        help="run only this section (repeatable; default: all)")
    parser.add_argument("--ratings", help="a ratings file to measure on as well")
    parser.add_argument("--items")
    parser.add_argument("--users-file", help="user metadata of --ratings")
    parser.add_argument("--models", default=FORGET_MODELS)
    parser.add_argument("--forget", type=int, default=1, help="users forgotten at once (default 1)")
    parser.add_argument("--rerank-model", default="als", help="the model the rerank section re-ranks (default als)")
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--skip-generated", action="store_true")
    args = parser.parse_args()
    sets = []
    if args.ratings:
        sets.append(lambda: data.load_dataset(args.ratings, items=args.items, users=args.users_file))
    if not args.skip_sample:
        sets.append(data.load_sample)
    if not args.skip_generated:
        sets.append(generated_dataset)
    for make in sets:
        dataset = make()
        for section in args.section or list(SECTIONS):
            SECTIONS[section](dataset, args)


if __name__ == "__main__":
    main()
