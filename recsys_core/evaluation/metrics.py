"""Evaluation metrics: pure functions of arrays, like :mod:`sklearn.metrics`.

Representations
---------------
recommended : int ndarray, shape (n_users, n_slots)
    Row ``u`` is user ``u``'s ranked list of item indices, best first, as
    ``Recommender.recommend_indices`` returns it; ``-1`` marks an empty slot
    (a model with fewer candidates than slots). A list holds distinct items.
relevant : scipy.sparse matrix, shape (n_users, n_items)
    Row ``u`` marks user ``u``'s relevant test items (any stored nonzero is
    relevant; values are otherwise ignored). Rows are aligned with
    ``recommended``: build it for all users with :func:`relevant_items` and
    select ``relevant[user_idx]`` for the users that were recommended to.
    For small literal cases a sequence of per-user collections of item
    indices (``[{3, 7}, {1}, ...]``) is accepted too and converted.

Ranking metrics return one value per user (the caller averages, or averages
per activity bucket with :func:`activity_buckets`). Only the first ``k``
slots count; a list shorter than ``k`` (fewer columns or ``-1`` padding) is
treated as padded with empty slots, which never hit. Recall, NDCG and AP are
undefined for a user without relevant items and come back as NaN: callers
evaluate only users with at least one relevant test item (``np.nanmean``
would also skip them).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from ..vectors import row_norms, unit_rows
from ..dataset import Dataset, default_relevance_threshold  # the threshold's one home is dataset.py

Relevance = sp.spmatrix | sp.sparray | Sequence[Iterable[int]]


# ------------------------------------------------------------ rating accuracy
def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length ({len(y_true)} vs {len(y_pred)}).")
    if len(y_true) == 0:
        raise ValueError("Prediction list is empty.")
    return y_true, y_pred


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error, as ``surprise.accuracy.rmse``.

    .. math:: \\mathrm{RMSE} = \\sqrt{\\tfrac{1}{n} \\sum_i (r_i - \\hat r_i)^2}

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (n,)
        True and estimated ratings of the same (user, item) pairs.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the inputs are empty or differ in length.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error, as ``surprise.accuracy.mae``.

    .. math:: \\mathrm{MAE} = \\tfrac{1}{n} \\sum_i |r_i - \\hat r_i|

    Parameters
    ----------
    y_true, y_pred : array-like of float, shape (n,)
        True and estimated ratings of the same (user, item) pairs.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the inputs are empty or differ in length.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


# ----------------------------------------------------------------- relevance
def relevant_items(test: Dataset, threshold: float | None = None) -> sp.csr_matrix:
    """Relevant test items of every user, as a boolean CSR matrix.

    For explicit data a test item is relevant when its rating is ``>= threshold``;
    the default threshold is :func:`default_relevance_threshold` of the data
    set's rating scale (4.0 on 1-5). For implicit data every test interaction
    is relevant by default; a ``threshold`` then is a minimum count (plays,
    clicks) or summed event weight (an event log: e.g. 5 keeps the pairs with
    a purchase under the default weights).

    Parameters
    ----------
    test : Dataset
        The test part of a split (its indices agree with the train part).
    threshold : float, optional
        Rating (explicit data) or minimum count / event weight (implicit data)
        from which a test item is relevant.

    Returns
    -------
    csr_matrix of bool, shape (test.n_users, test.n_items)
        Row ``u`` marks user ``u``'s relevant items; select
        ``matrix[user_idx]`` to align it with a ``recommended`` array.
    """
    frame = test.interactions
    keep = np.ones(len(frame), dtype=bool)
    if not test.implicit:
        if threshold is None:
            threshold = default_relevance_threshold(test.rating_scale)
        keep = frame["rating"].to_numpy() >= threshold
    elif threshold is not None:
        keep = frame["rating"].to_numpy() >= threshold
    matrix = sp.csr_matrix(
        (
            np.ones(int(keep.sum()), dtype=bool),
            (frame["user_idx"].to_numpy()[keep], frame["item_idx"].to_numpy()[keep]),
        ),
        shape=(test.n_users, test.n_items),
    )
    matrix.sum_duplicates()
    return matrix


def liked_items(train: Dataset, user_idx: np.ndarray, threshold: float | None = None) -> sp.csr_matrix:
    """The training items each user liked: what calibration matches a list to (Steck 2018 kept ratings >= 4).

    Explicit data: items rated at or above ``threshold`` (default :func:`default_relevance_threshold`, the
    same rule as a relevant test item); a user who liked none keeps all their training items. Implicit data:
    every training item. Rows aligned with ``user_idx``; values are 1.
    """
    rows = sp.csr_matrix(train.matrix[np.asarray(user_idx, dtype=np.int64)], dtype=np.float64, copy=True)
    if not train.implicit:
        if threshold is None:
            threshold = default_relevance_threshold(train.rating_scale)
        liked = rows.copy()
        liked.data = (liked.data >= threshold).astype(np.float64)
        liked.eliminate_zeros()
        none = np.diff(liked.indptr) == 0
        if none.any():
            liked = sp.csr_matrix(sp.diags((~none).astype(np.float64)) @ liked + sp.diags(none.astype(np.float64)) @ rows)
        rows = liked
    rows.data = np.ones_like(rows.data)
    return rows


def _relevance_csr(relevant: Relevance, n_users: int, min_items: int) -> sp.csr_matrix:
    """Relevance as a binary CSR matrix with sorted indices and no duplicates."""
    if sp.issparse(relevant):
        matrix = sp.csr_matrix(relevant, copy=True)
        matrix.eliminate_zeros()
        matrix.data = np.ones_like(matrix.data, dtype=bool)
    else:
        rows = [np.fromiter(items, dtype=np.int64) for items in relevant]
        lengths = np.array([len(row) for row in rows], dtype=np.int64)
        columns = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        n_cols = max(min_items, int(columns.max()) + 1 if len(columns) else 0)
        matrix = sp.csr_matrix(
            (np.ones(len(columns), dtype=bool), (np.repeat(np.arange(len(rows)), lengths), columns)),
            shape=(len(rows), n_cols),
        )
    if matrix.shape[0] != n_users:
        raise ValueError(
            f"relevant has {matrix.shape[0]} rows but recommended has {n_users}: "
            "select the rows of the users that were recommended to."
        )
    matrix.sum_duplicates()  # also sorts the indices
    return matrix


def _hits(recommended: np.ndarray, relevant: Relevance, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``hits[u, p]``: the item in slot ``p`` (< k) of user ``u``'s list is relevant; and ``|rel_u|``."""
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1; got k={k}.")
    recommended = np.asarray(recommended, dtype=np.int64)
    if recommended.ndim != 2:
        raise ValueError("recommended must be a 2-D array (n_users, n_slots).")
    n_users = recommended.shape[0]
    top = np.full((n_users, k), -1, dtype=np.int64)
    width = min(k, recommended.shape[1])
    top[:, :width] = recommended[:, :width]
    matrix = _relevance_csr(relevant, n_users, int(top.max(initial=-1)) + 1)
    n_items = max(matrix.shape[1], int(top.max(initial=-1)) + 1)
    # One int64 key per (user, item) pair; CSR order makes the relevant keys sorted.
    relevant_keys = np.repeat(np.arange(n_users, dtype=np.int64), np.diff(matrix.indptr)) * n_items + matrix.indices
    keys = np.arange(n_users, dtype=np.int64)[:, None] * n_items + top
    position = np.minimum(np.searchsorted(relevant_keys, keys), max(len(relevant_keys) - 1, 0))
    hits = (top >= 0) & (len(relevant_keys) > 0)
    if len(relevant_keys):
        hits &= relevant_keys[position] == keys
    return hits, np.diff(matrix.indptr)


def _discounts(k: int) -> np.ndarray:
    """``1 / log2(p + 1)`` for ranks ``p = 1 .. k``."""
    return 1.0 / np.log2(np.arange(2, k + 2))


def _undefined_without_relevant(values: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    return np.where(n_relevant > 0, values, np.nan)


def precision_at_k(recommended: np.ndarray, relevant: Relevance, k: int) -> np.ndarray:
    """Precision@K per user: ``hits in the top K / K``.

    The denominator is always ``K``, also when the list has fewer than ``K``
    items (empty slots count as misses).

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.
    relevant : sparse matrix (n_users, n_items) or sequence of collections
        Relevant items of each user (see the module docstring).
    k : int
        Cut-off.

    Returns
    -------
    ndarray of float, shape (n_users,)
    """
    hits, _ = _hits(recommended, relevant, k)
    return hits.sum(axis=1) / int(k)


def recall_at_k(recommended: np.ndarray, relevant: Relevance, k: int) -> np.ndarray:
    """Recall@K per user: ``hits in the top K / |relevant|``.

    Can stay below 1 for a perfect list when ``|relevant| > K``. NaN for users
    without relevant items (callers exclude them).

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.
    relevant : sparse matrix (n_users, n_items) or sequence of collections
        Relevant items of each user (see the module docstring).
    k : int
        Cut-off.

    Returns
    -------
    ndarray of float, shape (n_users,)
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    return _undefined_without_relevant(hits.sum(axis=1) / np.maximum(n_relevant, 1), n_relevant)


def ndcg_at_k(recommended: np.ndarray, relevant: Relevance, k: int) -> np.ndarray:
    """NDCG@K per user with binary relevance.

    .. math::
        \\mathrm{DCG} = \\sum_{p \\in \\text{hits}} \\frac{1}{\\log_2(p + 1)}, \\quad
        \\mathrm{IDCG} = \\sum_{p=1}^{\\min(|rel|, K)} \\frac{1}{\\log_2(p + 1)}, \\quad
        \\mathrm{NDCG} = \\mathrm{DCG} / \\mathrm{IDCG}

    with 1-based ranks ``p`` within the top ``K``. NaN for users without
    relevant items (callers exclude them).

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.
    relevant : sparse matrix (n_users, n_items) or sequence of collections
        Relevant items of each user (see the module docstring).
    k : int
        Cut-off.

    Returns
    -------
    ndarray of float, shape (n_users,)
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    discounts = _discounts(int(k))
    dcg = hits @ discounts
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(n_relevant, int(k))]
    return _undefined_without_relevant(dcg / np.where(ideal > 0, ideal, 1.0), n_relevant)


def average_precision_at_k(recommended: np.ndarray, relevant: Relevance, k: int) -> np.ndarray:
    """AP@K per user (its mean over users is MAP@K).

    .. math::
        \\mathrm{AP@K} = \\frac{1}{\\min(|rel|, K)} \\sum_{p \\in \\text{hits}} \\mathrm{precision@}p

    where ``precision@p`` = hits among the first ``p`` slots / ``p``. NaN for
    users without relevant items (callers exclude them).

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.
    relevant : sparse matrix (n_users, n_items) or sequence of collections
        Relevant items of each user (see the module docstring).
    k : int
        Cut-off.

    Returns
    -------
    ndarray of float, shape (n_users,)
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    precision_at_p = np.cumsum(hits, axis=1) / np.arange(1, int(k) + 1)
    summed = np.where(hits, precision_at_p, 0.0).sum(axis=1)
    return _undefined_without_relevant(summed / np.maximum(np.minimum(n_relevant, int(k)), 1), n_relevant)


def hit_rate_at_k(recommended: np.ndarray, relevant: Relevance, k: int) -> np.ndarray:
    """HitRate@K per user: 1 if any of the top K items is relevant, else 0.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.
    relevant : sparse matrix (n_users, n_items) or sequence of collections
        Relevant items of each user (see the module docstring).
    k : int
        Cut-off.

    Returns
    -------
    ndarray of float, shape (n_users,)
    """
    hits, _ = _hits(recommended, relevant, k)
    return hits.any(axis=1).astype(np.float64)


def reciprocal_rank_at_k(recommended: np.ndarray, relevant: Relevance, k: int) -> np.ndarray:
    """Reciprocal rank@K per user (its mean over users is MRR@K).

    ``1 / p`` for the 1-based rank ``p`` of the first relevant item within
    the top K, 0 if there is none.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.
    relevant : sparse matrix (n_users, n_items) or sequence of collections
        Relevant items of each user (see the module docstring).
    k : int
        Cut-off.

    Returns
    -------
    ndarray of float, shape (n_users,)
    """
    hits, _ = _hits(recommended, relevant, k)
    first = np.argmax(hits, axis=1) + 1
    return np.where(hits.any(axis=1), 1.0 / first, 0.0)




# ------------------------------------------------------------ beyond accuracy
def _list_matrix(recommended: np.ndarray, n_items: int) -> sp.csr_matrix:
    """Binary user x item CSR of the recommended lists (-1 slots dropped)."""
    recommended = np.asarray(recommended, dtype=np.int64)
    rows, slots = np.nonzero(recommended >= 0)
    items = recommended[rows, slots]
    matrix = sp.csr_matrix(
        (np.ones(len(items)), (rows, items)), shape=(recommended.shape[0], n_items)
    )
    matrix.sum_duplicates()
    return matrix


def catalog_coverage(recommended: np.ndarray, n_items: int) -> float:
    """Share of the catalogue that appears in at least one list.

    ``|distinct items recommended (ignoring -1)| / n_items``.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.
    n_items : int
        Catalogue size.

    Returns
    -------
    float
    """
    recommended = np.asarray(recommended)
    distinct = np.unique(recommended[recommended >= 0])
    return float(len(distinct) / n_items) if n_items > 0 else float("nan")


def novelty(recommended: np.ndarray, item_popularity: np.ndarray, n_users: int) -> float:
    """Mean self-information of the recommended items (higher: less popular).

    For item ``i`` with ``p_i = count_i / n_users`` (``count_i``: training
    users who interacted with ``i``, e.g. ``train.item_counts``), a list's
    novelty is the mean of ``-log2(p_i)`` over its items (-1 slots ignored);
    the result is the mean over users with a non-empty list. An item no
    training user saw is counted as seen once (``count_i = 1``), giving the
    largest finite value ``log2(n_users)`` instead of infinity.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.
    item_popularity : int ndarray, shape (n_items,)
        Number of training users per item index.
    n_users : int
        Number of training users (the denominator of ``p_i``).

    Returns
    -------
    float
        NaN when every list is empty.
    """
    recommended = np.asarray(recommended, dtype=np.int64)
    counts = np.maximum(np.asarray(item_popularity, dtype=np.float64), 1.0)
    information = -np.log2(counts / float(n_users))
    valid = recommended >= 0
    per_slot = np.where(valid, information[np.where(valid, recommended, 0)], 0.0)
    lengths = valid.sum(axis=1)
    if not lengths.any():
        return float("nan")
    per_user = per_slot.sum(axis=1)[lengths > 0] / lengths[lengths > 0]
    return float(per_user.mean())


def intra_list_diversity(recommended: np.ndarray, item_vectors: np.ndarray | sp.spmatrix) -> np.ndarray:
    """Intra-list diversity per user: mean ``1 - cos(v_i, v_j)`` over the list's distinct pairs.

    .. math::
        \\mathrm{ILD}(L) = \\frac{2}{|L|(|L| - 1)} \\sum_{i < j \\in L} \\bigl(1 - \\cos(v_i, v_j)\\bigr)

    A zero vector has cosine 0 with everything. Computed without forming the
    pairs: with unit vectors ``u``, ``sum_{i<j} u_i . u_j = (|sum u|^2 -
    sum |u|^2) / 2``.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot (ignored).
    item_vectors : ndarray or sparse matrix, shape (n_items, n_features)
        One vector per item index: genre one-hot, text embedding, or a
        model's ``item_embeddings()``.

    Returns
    -------
    ndarray of float, shape (n_users,)
        NaN for lists with fewer than two items.
    """
    unit = unit_rows(item_vectors)
    lists = _list_matrix(recommended, unit.shape[0])
    summed = lists @ unit  # (n_users, n_features): sum of each list's unit vectors
    if sp.issparse(summed):
        squared_sum = np.asarray(summed.multiply(summed).sum(axis=1)).ravel()
    else:
        squared_sum = np.einsum("ij,ij->i", summed, summed)
    self_terms = lists @ (row_norms(item_vectors) > 0).astype(np.float64)  # |u_i|^2 is 1, or 0 for a zero vector
    length = np.asarray(lists.sum(axis=1)).ravel()
    pairs = length * (length - 1) / 2
    similarity = (squared_sum - self_terms) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, 1.0 - similarity / np.where(pairs > 0, pairs, 1.0), np.nan)


def personalization(recommended: np.ndarray) -> float:
    """How different users' lists are: 1 - mean cosine similarity over distinct user pairs.

    As in the recmetrics library: each list is a binary item vector ``x_u``
    and ``personalization = 1 - mean_{u < v} x_u . x_v / (|x_u| |x_v|)``
    (for lists of equal length ``K`` the cosine is the overlap / K). 0 when
    everyone gets the same list, 1 when no two lists share an item. Users
    with an empty list are left out.

    Uses ``sum_{u<v} c_uv = (|sum_u x_u / |x_u||^2 - m) / 2`` for ``m``
    non-empty lists, so it is linear in the number of recommendations, not
    quadratic in users.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.

    Returns
    -------
    float
        NaN with fewer than two non-empty lists.
    """
    recommended = np.asarray(recommended, dtype=np.int64)
    n_items = int(recommended.max(initial=-1)) + 1
    lists = _list_matrix(recommended, n_items)
    lengths = np.asarray(lists.sum(axis=1)).ravel()
    lists = lists[lengths > 0]
    lengths = lengths[lengths > 0]
    n_lists = len(lengths)
    if n_lists < 2:
        return float("nan")
    summed = np.asarray(lists.T @ (1.0 / np.sqrt(lengths))).ravel()
    mean_similarity = (summed @ summed - n_lists) / (n_lists * (n_lists - 1))
    return float(1.0 - mean_similarity)


# ---------------------------------------------------------- popularity bias
#: Share of all training interactions the "head" items hold; every other item is in the long tail.
HEAD_SHARE = 0.8
#: Steck's (2018) smoothing of the list's genre distribution, so the KL divergence stays finite.
CALIBRATION_ALPHA = 0.01


def head_items(item_popularity: np.ndarray, head_share: float = HEAD_SHARE) -> np.ndarray:
    """The short head: the most popular items that together hold ``head_share`` of the interactions.

    Items are sorted by training count, most popular first (ties by index); the head is the shortest
    prefix whose counts sum to at least ``head_share`` of all counts (Abdollahpouri et al. 2019: the
    short head holds 80% of the ratings, the long tail the rest). Items never interacted with are tail.

    Parameters
    ----------
    item_popularity : int ndarray, shape (n_items,)
        Training interactions per item (``train.item_counts``).
    head_share : float, default 0.8

    Returns
    -------
    ndarray of bool, shape (n_items,)
        True for head items; ``~head_items(...)`` is the long tail.
    """
    counts = np.asarray(item_popularity, dtype=np.float64)
    head = np.zeros(len(counts), dtype=bool)
    total = counts.sum()
    if total <= 0:
        return head
    order = np.argsort(-counts, kind="stable")
    cumulative = np.cumsum(counts[order])
    size = int(np.searchsorted(cumulative, head_share * total - 1e-9 * total)) + 1
    head[order[:min(size, len(counts))]] = True
    return head


def _valid_slots(recommended: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    recommended = np.asarray(recommended, dtype=np.int64)
    valid = recommended >= 0
    return recommended, valid, valid.sum(axis=1)


def average_recommendation_popularity(recommended: np.ndarray, item_popularity: np.ndarray) -> np.ndarray:
    """ARP per user: the mean training count of the items in the list (Abdollahpouri et al. 2019).

    .. math:: \\mathrm{ARP}(L_u) = \\frac{1}{|L_u|} \\sum_{i \\in L_u} \\phi(i)

    with :math:`\\phi(i)` the number of training interactions of item ``i``. The mean over users is the
    ARP of a model; lower: less popularity bias.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot (ignored).
    item_popularity : int ndarray, shape (n_items,)

    Returns
    -------
    ndarray of float, shape (n_users,)
        NaN for an empty list.
    """
    recommended, valid, lengths = _valid_slots(recommended)
    counts = np.asarray(item_popularity, dtype=np.float64)
    summed = np.where(valid, counts[np.where(valid, recommended, 0)], 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lengths > 0, summed / np.maximum(lengths, 1), np.nan)


def long_tail_share(recommended: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Per user: the share of the list's items that are in the long tail (``tail = ~head_items(...)``).

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot (ignored).
    tail : bool ndarray, shape (n_items,)

    Returns
    -------
    ndarray of float, shape (n_users,)
        NaN for an empty list.
    """
    recommended, valid, lengths = _valid_slots(recommended)
    tail = np.asarray(tail, dtype=bool)
    summed = np.where(valid, tail[np.where(valid, recommended, 0)], False).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lengths > 0, summed / np.maximum(lengths, 1), np.nan)


def gini_index(recommended: np.ndarray, n_items: int) -> float:
    """Gini index of item exposure over the whole catalogue (aggregate: one value for all lists).

    With :math:`x_{(1)} \\le \\dots \\le x_{(n)}` the number of lists each of the ``n_items`` items appears
    in (0 for items never recommended),

    .. math:: G = \\frac{\\sum_{j=1}^{n} (2j - n - 1)\\, x_{(j)}}{n \\sum_j x_{(j)}}

    0 when every item is shown equally often, :math:`1 - 1/n` when one item takes all the exposure.
    Not a per-user value: it has no paired test.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
        Ranked item indices, -1 for an empty slot.
    n_items : int
        Catalogue size.

    Returns
    -------
    float
        NaN when every list is empty.
    """
    recommended = np.asarray(recommended, dtype=np.int64)
    exposure = np.sort(np.bincount(recommended[recommended >= 0], minlength=int(n_items)).astype(np.float64))
    n, total = len(exposure), exposure.sum()
    if n == 0 or total == 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * exposure).sum() / (n * total))


def aggregate_diversity(recommended: np.ndarray) -> int:
    """Aggregate diversity: the number of distinct items in all lists together (Adomavicius & Kwon 2012).

    ``catalog_coverage`` is this count over the catalogue size. Aggregate: no per-user value, no paired test.
    """
    recommended = np.asarray(recommended)
    return int(len(np.unique(recommended[recommended >= 0])))


def genre_distributions(item_genres: np.ndarray | sp.spmatrix) -> np.ndarray:
    """``p(g | i)``: each item's genres as a distribution (an item with genres g1, g2 gives each 1/2).

    Rows without a genre stay zero. Dense float64, shape (n_items, n_genres).
    """
    dense = item_genres.toarray() if sp.issparse(item_genres) else np.asarray(item_genres)
    dense = (np.asarray(dense, dtype=np.float64) > 0).astype(np.float64)
    mass = dense.sum(axis=1, keepdims=True)
    return np.divide(dense, mass, out=np.zeros_like(dense), where=mass > 0)


def history_genre_distribution(history: sp.spmatrix, item_distribution: np.ndarray) -> np.ndarray:
    """``p(g | u)`` (Steck 2018): the mean of ``p(g | i)`` over the items in each user's history row.

    ``history`` is any (n_users, n_items) sparse matrix whose stored entries are the items the user
    interacted with (values ignored). Items without genres add nothing; a user with none gets zeros.
    """
    rows = sp.csr_matrix(history, copy=True)
    rows.data = np.ones_like(rows.data, dtype=np.float64)
    summed = np.asarray(rows @ item_distribution)
    mass = summed.sum(axis=1, keepdims=True)
    return np.divide(summed, mass, out=np.zeros_like(summed), where=mass > 0)


def kl_divergence(p: np.ndarray, q: np.ndarray, alpha: float = CALIBRATION_ALPHA) -> np.ndarray:
    """Steck's calibration KL over the last axis: ``sum_g p(g) log(p(g) / q~(g))``, ``q~ = (1 - a) q + a p``.

    Terms with ``p(g) = 0`` are 0; broadcasting over leading axes (the re-ranker evaluates every candidate).
    """
    p = np.asarray(p, dtype=np.float64)
    smoothed = (1.0 - alpha) * np.asarray(q, dtype=np.float64) + alpha * p
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(smoothed > 0, smoothed, 1.0)), 0.0)
    return terms.sum(axis=-1)


def list_genre_distribution(recommended: np.ndarray, item_distribution: np.ndarray) -> np.ndarray:
    """``q(g | L_u)``: the mean of ``p(g | i)`` over each list's items (equal weights; -1 slots ignored)."""
    recommended, valid, _ = _valid_slots(recommended)
    per_slot = item_distribution[np.where(valid, recommended, 0)] * valid[..., None]
    summed = per_slot.sum(axis=1)
    mass = summed.sum(axis=1, keepdims=True)
    return np.divide(summed, mass, out=np.zeros_like(summed), where=mass > 0)


def calibration_kl(recommended: np.ndarray, history: sp.spmatrix, item_genres: np.ndarray | sp.spmatrix,
                   alpha: float = CALIBRATION_ALPHA) -> np.ndarray:
    """Miscalibration per user (Steck 2018): KL divergence of the list's genre mix from the history's.

    .. math::
        C_{KL}(p, q) = \\sum_g p(g|u) \\log \\frac{p(g|u)}{\\tilde q(g|u)}, \\quad
        \\tilde q = (1 - \\alpha)\\, q(g|u) + \\alpha\\, p(g|u)

    with ``p(g|u)`` the mean genre distribution of the user's history (the runner passes the training items
    they liked, :func:`liked_items`), ``q(g|u)`` that of the
    list's items (each item's genres share it equally) and ``alpha = 0.01``. 0: the list has the genre mix
    of the history; lower is better.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
    history : sparse matrix, shape (n_users, n_items)
        The same users' history items (rows aligned with ``recommended``; stored entries count, values not).
    item_genres : ndarray or sparse matrix, shape (n_items, n_genres)
        Multi-hot genres.
    alpha : float, default 0.01

    Returns
    -------
    ndarray of float, shape (n_users,)
        NaN for users without a genre in their history or an empty list.
    """
    distribution = genre_distributions(item_genres)
    p = history_genre_distribution(history, distribution)
    q = list_genre_distribution(recommended, distribution)
    values = kl_divergence(p, q, alpha)
    defined = (p.sum(axis=1) > 0) & ((np.asarray(recommended) >= 0).sum(axis=1) > 0)
    return np.where(defined, values, np.nan)


def serendipity(recommended: np.ndarray, relevant: Relevance, expected: np.ndarray, k: int) -> np.ndarray:
    """Serendipity@K per user: the share of the top K that is relevant *and* not expected.

    .. math:: \\mathrm{Ser@K}(u) = \\frac{|\\{ i \\in L_u^K : i \\in \\mathrm{rel}_u,\\ i \\notin E_u \\}|}{K}

    ``E_u`` is what an obvious recommender would have shown the user: the popularity baseline's top-K
    list for that user (Ge et al. 2010; Murakami et al. 2008 call it the primitive recommender). A hit
    that the most-popular list also contains is no surprise.

    Parameters
    ----------
    recommended : int ndarray, shape (n_users, n_slots)
    relevant : sparse matrix (n_users, n_items) or sequence of collections
    expected : int ndarray, shape (n_users, n_expected)
        The baseline's lists for the same users (-1 for an empty slot).
    k : int

    Returns
    -------
    ndarray of float, shape (n_users,)
        NaN for users without relevant items (as precision's callers exclude them).
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    top = np.full(hits.shape, -1, dtype=np.int64)
    width = min(int(k), np.asarray(recommended).shape[1])
    top[:, :width] = np.asarray(recommended, dtype=np.int64)[:, :width]
    expected = np.asarray(expected, dtype=np.int64)
    obvious = (top[:, :, None] == expected[:, None, :]).any(axis=2) & (top >= 0)
    return _undefined_without_relevant((hits & ~obvious).sum(axis=1) / int(k), n_relevant)


# ------------------------------------------------------------------- buckets
#: Upper edges of the user-activity buckets (training ratings per user): ≤5, 6–20, >20.
BUCKET_EDGES: tuple[int, ...] = (5, 20)


def activity_bucket_labels(edges: Sequence[int] = BUCKET_EDGES) -> list[str]:
    """Bucket labels for the given edges, in order: ``["≤5", "6–20", ">20"]``."""
    edges = [int(edge) for edge in edges]
    if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"edges must be a non-empty increasing sequence of integers; got {edges}.")
    labels = [f"≤{edges[0]}"]
    for low, high in zip(edges, edges[1:]):
        labels.append(f"{high}" if high == low + 1 else f"{low + 1}–{high}")
    labels.append(f">{edges[-1]}")
    return labels


def activity_buckets(train_counts: np.ndarray, edges: Sequence[int] = BUCKET_EDGES) -> np.ndarray:
    """Activity bucket of each user from their number of training interactions.

    With edges ``e1 < e2 < ... < en`` the buckets are ``count <= e1``,
    ``e1 < count <= e2``, ..., ``count > en``, labelled ``"≤e1"``,
    ``"{e1+1}–{e2}"``, ..., ``">en"`` (default: ``"≤5"``, ``"6–20"``,
    ``">20"``).

    Parameters
    ----------
    train_counts : int array-like, shape (n_users,)
        Training interactions per user (e.g. ``train.user_counts[user_idx]``).
    edges : sequence of int, default (5, 20)
        Upper bounds (inclusive) of all buckets but the last.

    Returns
    -------
    ndarray of str (object), shape (n_users,)
        Labels in the order given by :func:`activity_bucket_labels`.
    """
    labels = np.array(activity_bucket_labels(edges), dtype=object)
    bucket = np.searchsorted(np.asarray([int(edge) for edge in edges]), np.asarray(train_counts), side="left")
    return labels[bucket]


# ------------------------------------------------------------------ registry
@dataclass(frozen=True)
class Metric:
    """Everything said about a metric, in its one home: the runner, the CLI, the reading and the pages read this.

    ``kind``: "rating" (needs predicted ratings), "ranking" (top-K lists vs relevant test items), "beyond"
    (beyond accuracy), "diagnostic" (descriptive) or "time". ``higher_is_better`` is None for descriptive
    metrics. ``per_user`` is the per-user function of ranking metrics.
    """

    name: str
    label: str
    kind: str
    higher_is_better: bool | None
    k_dependent: bool
    meaning: str
    unit: str = ""
    fmt: str = "{:.3f}"
    per_user: Callable | None = None


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("rmse", "RMSE", "rating", False, False,
           "Root mean squared error of the predicted ratings, in rating points (stars). Lower is better."),
    Metric("mae", "MAE", "rating", False, False,
           "Mean absolute error of the predicted ratings, in rating points. Lower is better."),
    Metric("fallback_rate", "Fallback rate", "diagnostic", False, False,
           "Share of test ratings the model could not predict (the global mean stood in), or for ranking-only "
           "models the share of test users served by its fall-back list. Lower is better.", fmt="{:.1%}"),
    Metric("precision", "Precision", "ranking", True, True,
           "Share of the top-K items the user rated highly in the test set (0–1).", per_user=precision_at_k),
    Metric("recall", "Recall", "ranking", True, True,
           "Share of the user's highly rated test items that made it into the top K (0–1).", per_user=recall_at_k),
    Metric("ndcg", "NDCG", "ranking", True, True,
           "Ranking quality: relevant items count more the nearer they are to the top (0–1).", per_user=ndcg_at_k),
    Metric("map", "MAP", "ranking", True, True, "Mean average precision over the top K (0–1).",
           per_user=average_precision_at_k),
    Metric("hit_rate", "Hit rate", "ranking", True, True,
           "Share of users with at least one relevant item in their top K (0–1).", per_user=hit_rate_at_k),
    Metric("mrr", "MRR", "ranking", True, True, "Mean of 1 / rank of the first relevant item (0–1).",
           per_user=reciprocal_rank_at_k),
    Metric("coverage", "Coverage", "beyond", True, True,
           "Share of the catalogue that appears in at least one user's top K.", fmt="{:.1%}"),
    Metric("novelty", "Novelty", "beyond", True, True,
           "Mean self-information −log₂(share of users who rated the item) of the recommended items, in bits. "
           "Higher: less popular items.", unit="bits", fmt="{:.2f}"),
    Metric("diversity", "Diversity", "beyond", True, True,
           "How different the genres within one list are: 1 − mean genre similarity of the pairs in a list (0–1)."),
    Metric("personalization", "Personalization", "beyond", True, True,
           "How different users' lists are: 1 − mean overlap between two users' lists (0–1)."),
    Metric("arp", "ARP", "beyond", False, True,
           "Average recommendation popularity: mean number of training ratings of the items in a list. Lower: "
           "less popularity bias.", unit="ratings", fmt="{:,.1f}"),
    Metric("long_tail_share", "Long-tail share", "beyond", True, True,
           "Share of a list's items from the long tail: outside the most popular items that together hold 80% "
           "of the training ratings.", fmt="{:.1%}"),
    Metric("gini", "Gini (exposure)", "beyond", False, True,
           "Gini index of how often each catalogue item is recommended: 0 every item equally often, near 1 a "
           "few items take all the exposure. One value for all lists (no per-user test)."),
    Metric("aggregate_diversity", "Aggregate diversity", "beyond", True, True,
           "Number of distinct items in all users' top K together. One value for all lists (no per-user test).",
           unit="items", fmt="{:,.0f}"),
    Metric("calibration_kl", "Calibration KL", "beyond", False, True,
           "How far a list's genre mix is from the genres of the user's history: KL divergence (Steck 2018, "
           "smoothing 0.01). 0: the same mix. Lower is better."),
    Metric("serendipity", "Serendipity", "beyond", True, True,
           "Share of the top K that the user rated highly in the test set and that the most-popular list would "
           "not have shown them (0–1): relevant and unexpected."),
    Metric("median_popularity", "Median popularity", "diagnostic", None, True,
           "Median number of training ratings of the recommended items. Low: the lists are full of obscure items.",
           unit="ratings", fmt="{:,.0f}"),
    Metric("fit_seconds", "Fit time", "time", False, False, "Seconds to fit the model on the training part.",
           unit="s", fmt="{:.2f}"),
    Metric("score_seconds", "Score time", "time", False, False,
           "Seconds to predict the test ratings and rank the whole catalogue for every test user.", unit="s",
           fmt="{:.2f}"),
)}


def metric_names(kind: str) -> tuple[str, ...]:
    """Registered metric names of one kind, in registry order."""
    return tuple(name for name, metric in METRICS.items() if metric.kind == kind)


#: Ranking metric name (as the runner's tidy table spells it) -> per-user function (from the registry).
RANKING_METRICS = {name: METRICS[name].per_user for name in metric_names("ranking")}
