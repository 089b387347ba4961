"""The accuracy / beyond-accuracy trade-off of a re-ranker: one fitted model, its strength swept over a grid.

For every value of the re-ranker's parameter (11 by default, from its neutral value -- the model's own
lists -- to the other end) the test users' top-K lists are re-ranked from the same candidates and measured
with the same functions as the runner: NDCG@K and every beyond-accuracy metric. The model is scored once;
only the re-ranking is repeated.
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import pandas as pd

from .. import reranking as R
from ..models import Recommender
from . import metrics as M
from .runner import _beyond_rows, item_feature_vectors, popularity_baseline_lists
from .splits import Split

#: Columns of :func:`tradeoff_curve`'s frame (then one column per metric).
CURVE_COLUMNS = ["reranker", "parameter", "value", "label"]


def tradeoff_curve(model: Recommender, split: Split, reranker: str, *, values: Sequence[float] | None = None,
                   k: int = 10, similarity: str = "genres", n_candidates: int = R.N_CANDIDATES,
                   relevance_threshold: float | None = None) -> pd.DataFrame:
    """NDCG@K and every beyond-accuracy metric of ``model``'s re-ranked lists, one row per parameter value.

    Parameters
    ----------
    model : Recommender
        Fitted on ``split.train``.
    split : Split
    reranker : str
        A name in :data:`recsys_core.reranking.RERANKERS`.
    values : sequence of float, optional
        Parameter values (default: 11 from the neutral value to the other end, ``ReRanker.sweep()``).
    k, similarity, n_candidates, relevance_threshold
        List length, MMR's item similarity, candidates per user, the test rating that counts as relevant.

    Returns
    -------
    DataFrame
        :data:`CURVE_COLUMNS` then ``ndcg``, ``precision``, ``recall`` and the beyond-accuracy metrics,
        plus ``seconds`` (re-ranking and measuring that point); ``attrs["candidate_seconds"]`` is the time
        spent scoring the candidates once.
    """
    spec = R.get(reranker)
    grid = spec.sweep() if values is None else np.asarray([spec.check(v) for v in values], dtype=np.float64)
    train = split.train
    relevant = M.relevant_items(split.test, threshold=relevance_threshold)
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    if not len(users):
        raise ValueError("No test user has a relevant test item: there is nothing to measure the trade-off on.")
    start = time.perf_counter()
    context = R.ReRankContext(model, similarity)
    cands = R.candidates(model, users, max(int(n_candidates), int(k)))
    candidate_seconds = time.perf_counter() - start
    relevant_rows = relevant[users]
    features = item_feature_vectors(train)
    expected = popularity_baseline_lists(train, users, k)
    buckets = np.full(len(users), "all", dtype=object)
    rows = []
    for value in grid:
        start = time.perf_counter()
        top = R.rerank(cands, context, spec, float(value), int(k))
        measured: dict[str, float] = {}

        def add(metric: str, number: float, metric_k=None, bucket: str = "all") -> None:
            if bucket == "all":
                measured[metric] = float(number)

        for metric in ("ndcg", "precision", "recall"):
            measured[metric] = float(np.nanmean(M.RANKING_METRICS[metric](top, relevant_rows, k)))
        measured["coverage"] = M.catalog_coverage(top, train.n_items)
        measured["novelty"] = M.novelty(top, train.item_counts, train.n_users)
        measured["personalization"] = M.personalization(top)
        _beyond_rows(top, int(k), users, buckets, [], train, relevant_rows, features, expected, add)
        rows.append({"reranker": spec.name, "parameter": spec.parameter, "value": float(value),
                     "label": f"{spec.parameter}={float(value):g}", **measured,
                     "seconds": time.perf_counter() - start})
    frame = pd.DataFrame(rows)
    frame.attrs["candidate_seconds"] = candidate_seconds
    return frame
