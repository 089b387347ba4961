"""From explicit ratings to implicit feedback: the one place ranking models read their input.

Ranking models (ALS, BPR, EASE, item-KNN cosine, RP3beta, the hybrid) learn
from *which* items a person interacted with, not how they rated them. How a
ratings file becomes that 0/1 matrix is one documented, visible parameter:

* ``feedback="all"`` -- every rating is an interaction (rating a film means
  having watched it; on MovieLens this ranks best, because what people choose
  to watch is most of the signal);
* ``feedback="positive"`` -- only ratings at or above ``threshold`` count
  (default: the evaluation's relevance threshold, 75% up the rating scale).

Implicit files (no rating column) are taken as they are. ALS additionally
weighs the observed cells by ``alpha * x`` (its own parameter; unobserved cells weigh 1).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..dataset import Dataset, default_relevance_threshold

FEEDBACK_MODES = ("all", "positive")


def positive_threshold(dataset: Dataset, threshold: float | None) -> float:
    """The rating from which an interaction is positive (``None``: the relevance threshold)."""
    return default_relevance_threshold(dataset.rating_scale) if threshold is None else float(threshold)


def interaction_matrix(dataset: Dataset, feedback: str = "all", threshold: float | None = None) -> sp.csr_matrix:
    """Users x items 0/1 matrix (float32) of the interactions that count as feedback.

    Parameters
    ----------
    dataset : Dataset
    feedback : {"all", "positive"}
    threshold : float, optional
        With ``feedback="positive"``: ratings ``>= threshold`` count.
    """
    if feedback not in FEEDBACK_MODES:
        raise ValueError(f"feedback must be one of {', '.join(FEEDBACK_MODES)}, not {feedback!r}.")
    matrix = dataset.matrix
    keep = np.ones(matrix.nnz, dtype=bool)
    if feedback == "positive" and not dataset.implicit:
        keep = matrix.data >= positive_threshold(dataset, threshold)
    coo = matrix.tocoo()
    out = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (coo.row[keep], coo.col[keep])),
        shape=matrix.shape,
    )
    out.sum_duplicates()
    return out


def ratings_to_row(dataset: Dataset, item_idx: np.ndarray, ratings: np.ndarray, feedback: str = "all",
                   threshold: float | None = None) -> sp.csr_matrix:
    """A new user's ratings as a 1 x items feedback row, by the same rule as :func:`interaction_matrix`."""
    item_idx = np.asarray(item_idx, dtype=np.int64)
    ratings = np.asarray(ratings, dtype=np.float64)
    keep = np.ones(len(item_idx), dtype=bool)
    if feedback == "positive" and not dataset.implicit:
        keep = ratings >= positive_threshold(dataset, threshold)
    items = np.unique(item_idx[keep])
    return sp.csr_matrix((np.ones(len(items), dtype=np.float32), (np.zeros(len(items), dtype=np.int64), items)),
                         shape=(1, dataset.n_items))
