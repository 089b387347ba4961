"""Next-item models (gru4rec, sasrec) beside popular, ease and als on the same split by time, in one run.

Protocol: leave-last-out by timestamp (each user's latest interaction is the test part, ties by file order),
the whole catalogue minus each user's training items, every held-out interaction relevant for the ranking
metrics (the next item is what the user took, whatever its rating), NDCG@10 and HR@10 over the test users.
No sampled negatives: published next-item numbers often rank the true item against 100 sampled ones, which
inflates HR@10 to ~0.8 and can reorder models; the last column shows that figure for each model (the
``sampled`` column: HR@10 against 100 sampled negatives, ``recsys_core.evaluation.significance``) so the gap
is visible. Models trained per epoch get their validation part from the training part (each user's latest
training interaction), as the runner always gives them.

For each model: NDCG@10, HR@10, the sampled HR@10, fit seconds and epochs, the next items for every user in
seconds, one ordered cold-start query (five items) in milliseconds.

Data sets:
  * the bundled sample (planted order: sittings of one genre, by release year);
  * a MovieLens-100k-shaped generated set with the same planted order, and the same set with each user's
    order shuffled (``shuffled``: the same pairs, no sequential signal) -- where the sequence models should
    lose their edge, which shows the gain comes from the order and not from the network;
  * any ratings file with timestamps given by path.

Run:
    python benchmarks/sequences.py                        # sample + generated (ordered and shuffled)
    python benchmarks/sequences.py --ratings u.data       # a file of yours (needs a timestamp column)
    python benchmarks/sequences.py --skip-generated --models sasrec
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from _data import generated_dataset
from recsys_core import cold_start, data
from recsys_core.dataset import Dataset
from recsys_core.evaluation import significance
from recsys_core.evaluation.runner import evaluate, summarise
from recsys_core.evaluation.splits import make_splits

REFERENCES = ["popular", "ease", "als"]
SEQUENCE = ["gru4rec", "sasrec"]


def shuffled_order(dataset: Dataset, seed: int = 0) -> Dataset:
    """The same interactions with each user's timestamps permuted among their own rows (order destroyed)."""
    frame = dataset.interactions.copy()
    users = frame["user_idx"].to_numpy()
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(frame)), users))  # per user, a random order of their rows
    by_time = np.lexsort((frame["timestamp"].to_numpy(), users))  # per user, their rows by time
    times = frame["timestamp"].to_numpy().copy()
    times[order] = frame["timestamp"].to_numpy()[by_time]
    frame["timestamp"] = times
    return Dataset.from_frames(frame[["user", "item", "rating", "timestamp"]], name=f"{dataset.name} (shuffled)",
                               rating_scale=dataset.rating_scale, items=dataset.items, users=dataset.users)


def timings(model, train) -> tuple[float, float]:
    """Next items for every user (s) and one ordered cold-start query of five items (ms)."""
    start = time.perf_counter()
    model.recommend_indices(np.arange(train.n_users), n=10)
    every = time.perf_counter() - start
    ids = list(train.item_ids[np.argsort(-train.item_counts)[:5]])
    cold_start.from_sequence(model, ids)  # warm (the network is rebuilt once from its stored tables)
    start = time.perf_counter()
    cold_start.from_sequence(model, ids)
    return every, 1000 * (time.perf_counter() - start)


def run(dataset: Dataset, models: list[str]) -> None:
    split = make_splits(dataset, "leave-last-out", n=1)
    names = REFERENCES + models
    start = time.perf_counter()
    # Every held-out interaction is the next item: relevant whatever its rating (threshold below the scale).
    result = evaluate(dataset, names, splits=split, ks=(10,), relevance_threshold=dataset.rating_scale[0] - 1)
    for label, error in result.errors.items():
        print(f"  {label}: FAILED {error}")
    table = summarise(result.table)
    best_other = table.loc[[n for n in REFERENCES if n in table.index], "ndcg@10"].max()
    epochs = result.history.groupby("model")["epoch"].max() if len(result.history) else {}
    print(f"{dataset.name}: {dataset.n_users:,} users x {dataset.n_items:,} items, {dataset.n_ratings:,} "
          f"interactions; leave-last-out, {split[0].test.n_ratings:,} test users ({time.perf_counter() - start:.0f} s)")
    print(f"  {'model':<10}{'NDCG@10':>9}{'/best':>7}{'HR@10':>8}{'sampled':>9}{'fit s':>8}{'epochs':>7}"
          f"{'all users s':>12}{'query ms':>9}")
    for label, row in table.iterrows():
        model = result.models.get(label)
        every, query = timings(model, split[0].train) if model is not None else (np.nan, np.nan)
        sampled = significance.sampled_metrics(model, split[0], ks=(10,), n_negatives=100, seed=0,
                                               relevance_threshold=dataset.rating_scale[0] - 1)
        hr = sampled[sampled["metric"] == "hit_rate_sampled"]["value"]
        print(f"  {label:<10}{row['ndcg@10']:>9.4f}{row['ndcg@10'] / best_other:>7.2f}{row['hit_rate@10']:>8.4f}"
              f"{(hr.mean() if len(hr) else np.nan):>9.4f}{row['fit_seconds']:>8.1f}"
              f"{int(epochs[label]) if label in epochs else 0:>7}{every:>12.2f}{query:>9.1f}")
    print(f"  (/best: NDCG@10 over the best of {', '.join(REFERENCES)}; sampled: HR@10 against 100 sampled "
          "negatives, the figure many papers report)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", help="a ratings file with a timestamp column")
    parser.add_argument("--items")
    parser.add_argument("--models", default=",".join(SEQUENCE))
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--skip-generated", action="store_true")
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.ratings:
        run(data.load_dataset(args.ratings, items=args.items), models)
        return
    if not args.skip_sample:
        run(data.load_sample(), models)
    if not args.skip_generated:
        generated = generated_dataset()
        run(generated, models)
        run(shuffled_order(generated), models)


if __name__ == "__main__":
    main()
