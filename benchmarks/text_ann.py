"""Free-text queries on large catalogues: the approximate index against exact search, same run.

Vectors: 2,000 item texts from ``recsys_core.synthetic`` are encoded once with
the real sentence model (all-MiniLM-L6-v2; cached on disk by the project's
encoder, so later runs take no model time). A catalogue of 60k (and 120k)
items is then made from them cheaply: each item is a noisy mixture of one to
three of those real embeddings (Dirichlet weights, Gaussian noise), scaled to
unit length, so neighbourhoods have the cluster structure of real text
embeddings without encoding 120k texts on 2 cores. Queries are 1,000 fresh
mixtures (not catalogue items), asked one at a time as a person typing a
sentence would.

Per size it prints the index build time, single-query p50/p95 latency and
recall@10 of the approximate index against exact search, and exact search's
latency over the same queries in the same run as the baseline (ratio), plus
the cost of the two ways the project uses the index (500 candidates for a
cold-start sentence; every item's 200 neighbours for ``content-sbert``).
Last line:

    worst p95: N.NN ms (goal < 50); worst recall@10: 0.NNN (goal >= 0.95)

Run: python benchmarks/text_ann.py [--sizes 60000 120000] [--queries 1000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import _data  # noqa: F401  (puts the project on sys.path)
from recsys_core import synthetic
from recsys_core.ann import VectorIndex, clear_cache
from recsys_core.dataset import Dataset
from recsys_core.text import SentenceEncoder

N_REAL_TEXTS = 2000
K = 10


def real_embeddings(n_texts: int = N_REAL_TEXTS) -> np.ndarray:
    """Sentence vectors of the synthetic catalogue's item texts (encoded once; then from the disk cache)."""
    ratings, items, users = synthetic.generate(n_users=400, n_items=n_texts, n_ratings=10 * n_texts, seed=0)
    dataset = Dataset.from_frames(ratings, rating_scale=(1, 5), items=items, users=users, name="text-ann")
    encoder = SentenceEncoder()
    start = time.perf_counter()
    vectors = encoder.encode(list(dataset.item_text()))
    how = f"{encoder.n_encoded:,} encoded by the model" if encoder.n_encoded else "all from the disk cache"
    print(f"real item texts: {n_texts:,} ({how}, {time.perf_counter() - start:.1f} s)")
    return vectors


def mixtures(base: np.ndarray, n: int, seed: int, noise: float = 0.02) -> np.ndarray:
    """``n`` unit vectors, each a Dirichlet mix of 1-3 rows of ``base`` plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    parts = rng.integers(1, 4, size=n)
    picks = rng.integers(0, len(base), size=(n, 3))
    weights = rng.dirichlet(np.ones(3), size=n) * (np.arange(3)[None, :] < parts[:, None])
    weights /= weights.sum(axis=1, keepdims=True)
    out = np.einsum("nk,nkd->nd", weights.astype(np.float32), base[picks])
    out += noise * rng.standard_normal(out.shape, dtype=np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def single_query_latencies(index: VectorIndex, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Seconds per query, one query at a time, and the ids returned."""
    index.query(queries[:1], k)  # warm-up
    seconds = np.empty(len(queries))
    ids = np.empty((len(queries), k), dtype=np.int64)
    for row, query in enumerate(queries):
        start = time.perf_counter()
        ids[row] = index.query(query, k)[0][0]
        seconds[row] = time.perf_counter() - start
    return seconds, ids


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(np.intersect1d(a, b)) / truth.shape[1] for a, b in zip(found, truth)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60_000, 120_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--skip-neighbours", action="store_true", help="skip the all-items top-200 timing")
    args = parser.parse_args()

    base = real_embeddings()
    print("catalogue: noisy mixtures of 1-3 real item embeddings (Dirichlet weights, noise 0.02/dim), unit length;")
    print(f"queries: {args.queries:,} fresh mixtures, asked one at a time")
    worst_p95, worst_recall = 0.0, 1.0
    for size in args.sizes:
        vectors = mixtures(base, size, seed=1)
        queries = mixtures(base, args.queries, seed=2)
        clear_cache()
        start = time.perf_counter()
        exact = VectorIndex.build(vectors, exact_below=size + 1)
        exact_build = time.perf_counter() - start
        exact_seconds, truth = single_query_latencies(exact, queries, K)

        start = time.perf_counter()
        index = VectorIndex.build(vectors, seed=0)
        build = time.perf_counter() - start
        start = time.perf_counter()
        again = VectorIndex.build(vectors, seed=0)
        cached = time.perf_counter() - start
        assert again is index
        seconds, found = single_query_latencies(index, queries, K)
        recall = recall_at(found, truth)
        candidates, _ = single_query_latencies(index, queries[:200], 500)

        p50, p95 = np.percentile(seconds, [50, 95]) * 1e3
        e50, e95 = np.percentile(exact_seconds, [50, 95]) * 1e3
        worst_p95, worst_recall = max(worst_p95, p95), min(worst_recall, recall)
        print(f"\n{size:,} items x {vectors.shape[1]} dims  (IVF-Flat, {index.n_lists} cells, {index.n_probe} probed)")
        print(f"  build {build:6.2f} s   (cached rebuild: {cached:.2f} s; exact 'index': {exact_build:.2f} s)")
        print(f"  approximate top-{K}: p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  recall@{K} {recall:.3f}")
        print(f"  exact top-{K}:       p50 {e50:6.2f} ms  p95 {e95:6.2f} ms  (baseline, same queries)")
        print(f"  speed-up at p95: {e95 / p95:.1f}x; top-500 candidates (cold start): "
              f"p95 {np.percentile(candidates, 95) * 1e3:.2f} ms")
        if not args.skip_neighbours:
            start = time.perf_counter()
            index.query(vectors, 200)
            approximate_all = time.perf_counter() - start
            # Exact search for every item is long: time the first rows and scale up (labelled as such).
            rows = min(size, 3000)
            start = time.perf_counter()
            exact.query(vectors[:rows], 200)
            exact_all = (time.perf_counter() - start) * size / rows
            print(f"  every item's 200 neighbours (content-sbert fit): {approximate_all:.1f} s; "
                  f"exact: {exact_all:.1f} s (extrapolated from {rows:,} items)")
    print(f"\nworst p95: {worst_p95:.2f} ms (goal < 50); worst recall@{K}: {worst_recall:.3f} (goal >= 0.95)")


if __name__ == "__main__":
    main()
