"""Surprise's SVD fit (Funk SVD by SGD) compiled with numba, on arrays instead of a Trainset.

Reproduces ``surprise.SVD.fit`` on the trainset that
:func:`~recsys_core.models._surprise.build_trainset` builds from the same rows,
to the last bit:

* inner ids: users and items numbered in order of first appearance in the rows
  (``Dataset.construct_trainset``);
* visiting order: ``Trainset.all_ratings()``, i.e. users in inner-id order and
  each user's ratings in row order (a stable grouping of the rows by user);
* global mean: ``np.mean`` over the ratings in that order;
* initialisation: ``get_rng(random_state)`` then ``pu`` and ``qi`` drawn with
  ``rng.normal(init_mean, init_std_dev, (n, n_factors))``, biases zero;
* updates: the expressions of ``SVD.sgd`` in ``matrix_factorization.pyx`` in the
  same floating-point order (numba, like Cython, neither reorders the dot product
  nor fuses multiply-adds without ``fastmath``).

Memory is the arrays alone (about 16 bytes a rating plus the factors) instead of
Surprise's Python dicts of tuples (~250 bytes a rating), and there is no
per-rating Python generator in the loop.
"""
from __future__ import annotations

import numbers
from typing import Callable, NamedTuple

import numpy as np

try:  # numba compiles on first use (cached on disk next to this module)
    from numba import njit
except ImportError:  # pragma: no cover - numba ships with umap-learn
    njit = None

#: Whether the compiled fit can run here (else callers fall back to Surprise).
AVAILABLE = njit is not None

#: Bytes per rating the fit holds: inner user and item id (int32 each) and the rating (float64)
#: in visiting order, plus the per-row inner ids and counting-sort cursor while ordering.
BYTES_PER_RATING = 32


class SGDFit(NamedTuple):
    """A fitted SVD in Surprise's inner-id order, with our index of each inner id."""

    users: np.ndarray  # our user index of each inner user id
    items: np.ndarray  # our item index of each inner item id
    global_mean: float
    bu: np.ndarray
    bi: np.ndarray
    pu: np.ndarray
    qi: np.ndarray


if njit is not None:

    @njit(cache=True, nogil=True)
    def _first_appearance(index, size):  # pragma: no cover - compiled
        """Inner id of each row (numbered by first appearance) and our index of each inner id."""
        inner_of = np.full(size, -1, dtype=np.int32)
        row_inner = np.empty(len(index), dtype=np.int32)
        raw_of_inner = np.empty(size, dtype=np.int64)
        count = 0
        for row in range(len(index)):
            value = index[row]
            inner = inner_of[value]
            if inner < 0:
                inner = count
                inner_of[value] = inner
                raw_of_inner[inner] = value
                count += 1
            row_inner[row] = inner
        return row_inner, raw_of_inner[:count].copy()

    @njit(cache=True, nogil=True)
    def _all_ratings_order(row_user, row_item, ratings, n_inner_users):  # pragma: no cover - compiled
        """Rows grouped by inner user id, row order kept within a user (a stable counting sort)."""
        starts = np.zeros(n_inner_users + 1, dtype=np.int64)
        for row in range(len(row_user)):
            starts[row_user[row] + 1] += 1
        for user in range(n_inner_users):
            starts[user + 1] += starts[user]
        users = np.empty(len(row_user), dtype=np.int32)
        items = np.empty(len(row_user), dtype=np.int32)
        values = np.empty(len(row_user), dtype=np.float64)
        for row in range(len(row_user)):
            user = row_user[row]
            position = starts[user]
            starts[user] = position + 1
            users[position] = user
            items[position] = row_item[row]
            values[position] = ratings[row]
        return users, items, values

    @njit(cache=True, nogil=True)
    def _sgd_epoch(users, items, ratings, global_mean, bu, bi, pu, qi, biased,
                   lr_bu, lr_bi, lr_pu, lr_qi, reg_bu, reg_bi, reg_pu, reg_qi):  # pragma: no cover - compiled
        """One pass of Surprise's ``SVD.sgd`` over the ratings, updating the arrays in place."""
        n_factors = pu.shape[1]
        for k in range(len(ratings)):
            u = users[k]
            i = items[k]
            r = ratings[k]
            dot = 0.0
            for f in range(n_factors):
                dot += qi[i, f] * pu[u, f]
            err = r - (global_mean + bu[u] + bi[i] + dot)
            if biased:
                bu[u] += lr_bu * (err - reg_bu * bu[u])
                bi[i] += lr_bi * (err - reg_bi * bi[i])
            for f in range(n_factors):
                puf = pu[u, f]
                qif = qi[i, f]
                pu[u, f] += lr_pu * (err * qif - reg_pu * puf)
                qi[i, f] += lr_qi * (err * puf - reg_qi * qif)


def surprise_rng(random_state) -> np.random.RandomState:
    """Surprise's ``utils.get_rng``: the global RNG for None, a new seeded one for an int, or the RNG given."""
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, (numbers.Integral, np.integer)):
        return np.random.RandomState(random_state)
    if isinstance(random_state, np.random.RandomState):
        return random_state
    raise ValueError(f"Wrong random state. Expecting None, an int or a numpy RandomState instance, "
                     f"got a {type(random_state)}")


def fit_svd(
    user_idx: np.ndarray,
    item_idx: np.ndarray,
    ratings: np.ndarray,
    n_users: int,
    n_items: int,
    *,
    n_factors: int = 100,
    n_epochs: int = 20,
    biased: bool = True,
    init_mean: float = 0.0,
    init_std_dev: float = 0.1,
    lr_all: float = 0.005,
    reg_all: float = 0.02,
    lr_bu: float | None = None,
    lr_bi: float | None = None,
    lr_pu: float | None = None,
    lr_qi: float | None = None,
    reg_bu: float | None = None,
    reg_bi: float | None = None,
    reg_pu: float | None = None,
    reg_qi: float | None = None,
    random_state=None,
    progress: Callable[[int], None] | None = None,
) -> SGDFit:
    """Fit Surprise's SVD on rating rows given as index arrays, with Surprise's parameters and defaults.

    Parameters
    ----------
    user_idx, item_idx : ndarray of int
        Our user and item index of each rating row, in the order Surprise would read the rows.
    ratings : ndarray of float
        The rating of each row.
    n_users, n_items : int
        Sizes of the index spaces (indices must be below them).
    progress : callable, optional
        Called with the number of epochs done after each epoch.

    Returns
    -------
    SGDFit
        ``bu``, ``bi``, ``pu``, ``qi`` equal to ``surprise.SVD(...).fit(trainset)``'s, in inner-id order.
    """
    if njit is None:  # pragma: no cover - numba ships with umap-learn
        raise RuntimeError("numba is not available")
    lr = {name: (value if value is not None else lr_all)
          for name, value in (("bu", lr_bu), ("bi", lr_bi), ("pu", lr_pu), ("qi", lr_qi))}
    reg = {name: (value if value is not None else reg_all)
           for name, value in (("bu", reg_bu), ("bi", reg_bi), ("pu", reg_pu), ("qi", reg_qi))}
    row_user, users = _first_appearance(np.ascontiguousarray(user_idx, dtype=np.int64), int(n_users))
    row_item, items = _first_appearance(np.ascontiguousarray(item_idx, dtype=np.int64), int(n_items))
    inner_users, inner_items, values = _all_ratings_order(
        row_user, row_item, np.ascontiguousarray(ratings, dtype=np.float64), len(users))
    del row_user, row_item
    # Trainset.global_mean: np.mean of the ratings in all_ratings() order (pairwise summation).
    global_mean = float(np.mean(values)) if len(values) else float("nan")
    rng = surprise_rng(random_state)
    bu = np.zeros(len(users), dtype=np.float64)
    bi = np.zeros(len(items), dtype=np.float64)
    pu = np.ascontiguousarray(rng.normal(init_mean, init_std_dev, size=(len(users), n_factors)), dtype=np.float64)
    qi = np.ascontiguousarray(rng.normal(init_mean, init_std_dev, size=(len(items), n_factors)), dtype=np.float64)
    mean_in_loop = global_mean if biased else 0.0
    for epoch in range(n_epochs):
        _sgd_epoch(inner_users, inner_items, values, mean_in_loop, bu, bi, pu, qi, bool(biased),
                   float(lr["bu"]), float(lr["bi"]), float(lr["pu"]), float(lr["qi"]),
                   float(reg["bu"]), float(reg["bi"]), float(reg["pu"]), float(reg["qi"]))
        if progress is not None:
            progress(epoch + 1)
    return SGDFit(users, items, global_mean, bu, bi, pu, qi)


def warm_up() -> None:
    """Compile (or load from the on-disk cache) the SGD kernels on a tiny input."""
    if njit is None:  # pragma: no cover
        return
    fit_svd(np.array([0, 1, 1]), np.array([1, 0, 1]), np.array([4.0, 3.0, 5.0]), 2, 2,
            n_factors=2, n_epochs=1, random_state=0)
