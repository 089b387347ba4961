"""Beyond accuracy, measured: one function per section, each printing ratios against a baseline of the same run.

Sections (``--section``, default all):

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

#: Incremental models first, then two that refit (their "forget" is the refit).
FORGET_MODELS = "popular,ease,item-knn-cosine,als,knn-basic,rp3beta,svd"


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
        model = make_model(name).fit(dataset)
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


SECTIONS = {"forget": forget_section}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--section", choices=list(SECTIONS), action="append",
                        help="run only this section (repeatable; default: all)")
    parser.add_argument("--ratings", help="a ratings file to measure on as well")
    parser.add_argument("--items")
    parser.add_argument("--users-file", help="user metadata of --ratings")
    parser.add_argument("--models", default=FORGET_MODELS)
    parser.add_argument("--forget", type=int, default=1, help="users forgotten at once (default 1)")
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
