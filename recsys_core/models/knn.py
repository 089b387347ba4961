"""Memory-based collaborative filtering with Surprise's semantics (Sarwar et al. 2001; Koren 2010).

User-based, the estimate for (u, i) aggregates the ratings of i by the ``k``
users most similar to u among those who rated i; item-based, the ratings of u
on the ``k`` items most similar to i among those u rated:

* ``knn-basic``    :math:`\\hat r_{ui} = \\sum_v s_{uv} r_{vi} / \\sum_v s_{uv}`
* ``knn-means``    :math:`\\hat r_{ui} = \\mu_u + \\sum_v s_{uv} (r_{vi}-\\mu_v) / \\sum_v s_{uv}`
* ``knn-baseline`` :math:`\\hat r_{ui} = b_{ui} + \\sum_v s_{uv} (r_{vi}-b_{vi}) / \\sum_v s_{uv}`

exactly as Surprise computes them: neighbours are chosen among *all* raters by
similarity (ties: the rating that came first in the training data wins, like
``heapq.nlargest``), then only positive similarities enter the average; fewer
than ``min_k`` of those makes knn-basic's prediction impossible (NaN here,
the global mean in ``predict_indices``) and reduces the others to their mean or
baseline. Similarities (msd, cosine, pearson, pearson_baseline) follow
``surprise.similarities`` and are computed with sparse matrix products.

Memory: with at most ``max_dense`` users (items, when item-based) the full
similarity matrix is kept and results equal Surprise's. Above it, only each
row's ``max_neighbours`` most similar neighbours are kept (a sparse matrix
built block by block); neighbours outside that list count as similarity 0,
an approximation that Surprise's dense n x n matrix could not even hold.

Implicit data (every interaction stored as 1): a weighted mean of ones is
always one, so the score is the summed similarity of the chosen neighbours.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from ..dataset import Dataset
from ._neighbours import csr_select_sums, grouped_select_sums, select_sums, top_k_rows, top_similar
from . import memory
from .params import Param
from .base import Recommender

SIMILARITIES = ("msd", "cosine", "pearson", "pearson_baseline")
_BLOCK_CELLS = 2_000_000
#: Entries (rows x kept neighbours) per call of the sparse similarity kernel.
_KERNEL_BLOCK_ENTRIES = 400_000


def similarity_block(
    rows: sp.csr_matrix,
    matrix: sp.csr_matrix,
    measure: str,
    min_support: int = 1,
    shrinkage: float = 100,
    rows_residual: sp.csr_matrix | None = None,
    residual: sp.csr_matrix | None = None,
) -> np.ndarray:
    """Similarity of each row of ``rows`` to each row of ``matrix`` (dense, len(rows) x n).

    Both are x-by-y rating matrices (users x items when user-based). Only
    co-rated y's count, as in ``surprise.similarities``; pairs with fewer than
    ``min_support`` of them get 0. ``pearson_baseline`` needs the residuals
    r - b (same sparsity) in ``rows_residual`` / ``residual``.
    """
    indicator = matrix.copy()
    indicator.data[:] = 1.0
    rows_indicator = rows.copy()
    rows_indicator.data[:] = 1.0
    freq = (rows_indicator @ indicator.T).toarray()
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "pearson_baseline":
            prods = (rows_residual @ residual.T).toarray()
            sq_i = (rows_residual.multiply(rows_residual) @ indicator.T).toarray()
            sq_j = (rows_indicator @ residual.multiply(residual).T).toarray()
            denominator = np.sqrt(sq_i * sq_j)
            sim = prods / denominator * ((freq - 1) / (freq - 1 + shrinkage))
            valid = (freq >= max(2, min_support)) & (denominator > 0)
        else:
            prods = (rows @ matrix.T).toarray()
            sq_i = (rows.multiply(rows) @ indicator.T).toarray()
            sq_j = (rows_indicator @ matrix.multiply(matrix).T).toarray()
            valid = freq >= min_support
            if measure == "msd":
                sim = 1.0 / ((sq_i + sq_j - 2.0 * prods) / freq + 1.0)
            elif measure == "cosine":
                denominator = np.sqrt(sq_i * sq_j)
                sim = prods / denominator
                valid &= denominator > 0
            elif measure == "pearson":
                sum_i = (rows @ indicator.T).toarray()
                sum_j = (rows_indicator @ matrix.T).toarray()
                numerator = freq * prods - sum_i * sum_j
                denominator = np.sqrt((freq * sq_i - sum_i**2) * (freq * sq_j - sum_j**2))
                sim = numerator / denominator
                valid &= denominator > 0
            else:
                raise ValueError(f"Unknown similarity '{measure}'; choose one of {', '.join(SIMILARITIES)}.")
    return np.where(valid, sim, 0.0)


class KNN(Recommender):
    """Shared engine of the three k-NN variants; see the module docstring."""

    # The similarity rows are the closest analogue of vectors: user rows when user-based, item rows when
    # item-based (dense similarity only); the class may do either, an instance does one (see below).
    has_user_embeddings = True
    has_item_embeddings = True
    has_similar_items = True
    similarity_needs_support = True
    folds_in = True
    explains_by = "neighbours"

    variant: ClassVar[str] = "basic"
    family = "Memory-based CF"
    params = (
        Param("k", "Maximum number of neighbours averaged (Surprise default 40).", kind="int", low=1, high=1000,
              step=5, search=(5, 200), log=True),
        Param("min_k", "Fewer positive-similarity neighbours than this and the neighbour term is dropped.",
              kind="int", low=1, high=100, step=1, search=(1, 5)),
        Param("similarity", "msd (1 / (mean squared difference + 1)), cosine, pearson, or pearson_baseline (shrunk).",
              kind="choice", choices=SIMILARITIES, search=SIMILARITIES),
        Param("user_based", "True: similar users; False: similar items (item-based, Sarwar et al. 2001).",
              kind="choice", choices=(True, False),
              labels={True: "similar users (user-based)", False: "similar items (item-based)"}, search=(True, False)),
        Param("min_support", "Minimum number of common ratings for a non-zero similarity.", kind="int", low=1,
              high=100, step=1, search=(1, 10)),
        Param("shrinkage", "pearson_baseline only: shrinks similarities of pairs with few common ratings.",
              low=0.0, high=1000.0, step=10.0),
    )

    def __init__(
        self,
        k: int = 40,
        min_k: int = 1,
        similarity: str = "msd",
        user_based: bool = True,
        min_support: int = 1,
        shrinkage: float = 100,
        max_dense: int = 6000,
        max_neighbours: int = 200,
        random_state: int = 0,
    ):
        self.k = k
        self.min_k = min_k
        self.similarity = similarity
        self.user_based = user_based
        self.min_support = min_support
        self.shrinkage = shrinkage
        self.max_dense = max_dense
        self.max_neighbours = max_neighbours
        self.random_state = random_state

    memory_advice = ("Neighbourhood models compare every pair of users (items, when item-based): try the item-based "
                     "variant if there are fewer items than users, lower max_dense so only the top neighbours are "
                     "kept, or a ranking model (item-knn-cosine, als).")

    def memory_estimate(self, n_users, n_items, n_ratings):
        """The similarity (dense n x n up to ``max_dense``, else top ``max_neighbours`` per row), ratings, blocks.

        Sparse mode, measured at 1M and 5M ratings: the top-k entries as CSR, its
        CSC copy and the block pieces concatenated once (4 x 12 bytes an entry);
        per rating, the two layouts, the kernel's int64 copies, the neighbour
        values and (user-based scoring) each entry's slot in the item layout
        with its sort temporaries (~96 bytes); per thread, one length-n
        accumulator row set.
        """
        n_x = n_users if self.user_based else n_items
        surprise = memory.SURPRISE_BYTES_PER_RATING * n_ratings if self._needs_baselines() else 0
        if n_x <= self.max_dense:
            return 8 * n_x * n_x + 6 * 8 * _BLOCK_CELLS + 6 * memory.CSR_BYTES * n_ratings + surprise
        keep = min(int(self.max_neighbours), n_x)
        similarity = 4 * memory.CSR_BYTES * n_x * keep
        accumulators = 2 * 10 * 8 * n_x
        return similarity + 96 * n_ratings + accumulators + 6 * 8 * _BLOCK_CELLS + surprise

    # ------------------------------------------------------------------ fit
    def _needs_baselines(self) -> bool:
        return self.variant == "baseline" or self.similarity == "pearson_baseline"

    def bsl_options(self) -> dict:
        return {"method": "als", "n_epochs": 10, "reg_u": 15, "reg_i": 10}

    def _fit(self, dataset: Dataset) -> None:
        if self.similarity not in SIMILARITIES:
            raise ValueError(f"Unknown similarity '{self.similarity}'; choose one of {', '.join(SIMILARITIES)}.")
        self._fit_ratings(dataset)
        if self._needs_baselines():
            # The same baselines the `baseline` model fits (Surprise's BaselineOnly, KNNBaseline's defaults).
            from .baselines import BaselineOnly

            options = self.bsl_options()
            baseline = BaselineOnly(method=options["method"], n_epochs=options["n_epochs"], reg_u=options["reg_u"],
                                    reg_i=options["reg_i"]).fit(dataset)
            user_bias, item_bias = baseline.user_bias_, baseline.item_bias_
            self.x_bias_, self.y_bias_ = (user_bias, item_bias) if self.user_based else (item_bias, user_bias)
            self.x_residual_ = self._residual(self.x_matrix_, self.y_bias_)
        else:
            self.x_bias_ = self.y_bias_ = self.x_residual_ = None
        self.sim_ = self._similarities()
        self.sim_symmetric_ = None  # checked on first use by item-based scoring

    forgets_users = True  # a pairwise similarity on the dense matrix, no baselines (see _forgets)
    forget_explanation = (
        "with msd, cosine or pearson a similarity depends only on the two rows' common ratings. User-based: the "
        "removed users' rows and columns leave the similarity matrix. Item-based: only pairs of items the removed "
        "users both rated change, so the rows and columns of the items they rated are recomputed. The ratings, "
        "means and neighbour lists are rebuilt without them (a pass over the ratings). Exact: equal to a refit.")

    def _forgets(self) -> bool:
        """Whether an update can forget exactly: a pairwise similarity, no baselines, the dense matrix, Surprise's."""
        return (not self._needs_baselines() and not getattr(self, "sparse_", False)
                and type(self)._similarity_rows is KNN._similarity_rows)

    def _forget(self, dataset, removed, keep):
        if self.user_based:
            similarity = self.sim_[np.ix_(keep, keep)]
            self._fit_ratings(dataset)
        else:
            touched = np.unique(self.x_matrix_.tocsc()[:, removed].indices)  # items the removed users rated
            self._fit_ratings(dataset)
            similarity = self.sim_.copy()
            if len(touched):
                rows = self._similarity_rows(touched)
                # Each entry as a refit computes it: row i of the matrix against every other row.
                columns = similarity_block(self.x_matrix_, self.x_matrix_[touched], self.similarity,
                                           self.min_support, self.shrinkage)
                similarity[touched] = rows
                similarity[:, touched] = columns
                similarity[touched, touched] = 1.0
        self.sim_ = similarity
        self.sim_symmetric_ = None

    def _fit_ratings(self, dataset: Dataset) -> None:
        """Everything but the similarities and baselines: the rating layouts, members per y, means."""
        frame = dataset.interactions
        users = frame["user_idx"].to_numpy(np.int64)
        items = frame["item_idx"].to_numpy(np.int64)
        ratings = frame["rating"].to_numpy(np.float64)
        x_of_row, y_of_row = (users, items) if self.user_based else (items, users)
        self.n_x_ = dataset.n_users if self.user_based else dataset.n_items
        self.n_y_ = dataset.n_items if self.user_based else dataset.n_users
        self.x_matrix_ = sp.csr_matrix((ratings, (x_of_row, y_of_row)), shape=(self.n_x_, self.n_y_))
        # Members of each y in training-row order: Surprise's yr[y] order, which decides ties.
        order = np.lexsort((np.arange(len(ratings)), y_of_row))
        self.y_indptr_ = np.concatenate([[0], np.cumsum(np.bincount(y_of_row, minlength=self.n_y_))])
        self.y_members_ = x_of_row[order]
        self.y_ratings_ = ratings[order]
        counts_x = np.bincount(x_of_row, minlength=self.n_x_)
        self.known_x_ = counts_x > 0
        self.known_y_ = np.diff(self.y_indptr_) > 0
        self.x_means_ = np.bincount(x_of_row, weights=ratings, minlength=self.n_x_) / np.maximum(counts_x, 1)
        self.global_mean_ = dataset.global_mean
        self.implicit_ = dataset.implicit
        self.entry_values_ = None

    def _residual(self, rows: sp.csr_matrix, y_bias: np.ndarray, x_bias: np.ndarray | None = None) -> sp.csr_matrix:
        """r - (mu + b_x + b_y) on the sparsity pattern of ``rows``."""
        x_bias = self.x_bias_ if x_bias is None else x_bias
        coo = rows.tocoo()
        data = coo.data - (self.global_mean_ + x_bias[coo.row] + y_bias[coo.col])
        return sp.csr_matrix((data, (coo.row, coo.col)), shape=rows.shape)

    def _similarity_rows(self, rows: np.ndarray) -> np.ndarray:
        residual = self.x_residual_
        return similarity_block(
            self.x_matrix_[rows], self.x_matrix_, self.similarity, self.min_support, self.shrinkage,
            residual[rows] if residual is not None else None, residual,
        )

    def _similarities(self) -> np.ndarray | sp.csr_matrix:
        n = self.n_x_
        if n <= self.max_dense:
            sim = self._similarity_rows(np.arange(n))
            np.fill_diagonal(sim, 1.0)
            self.sparse_ = False
            return sim
        # Too many rows for n x n: keep each row's top neighbours only (see module docstring).
        self.sparse_ = True
        keep = min(self.max_neighbours, n)
        if type(self)._similarity_rows is KNN._similarity_rows:
            parts = self._top_neighbour_blocks(keep)
        else:  # a subclass's own similarity (content vectors): dense row blocks, top-k of each
            parts = self._top_neighbour_dense_blocks(keep)
        counts, indices, values = (np.concatenate(part) for part in zip(*parts))
        indptr = np.concatenate([[0], np.cumsum(counts)])
        sim = sp.csr_matrix((values, indices.astype(np.int32), indptr), shape=(n, n))
        self.sim_columns_ = sim.tocsc()
        return sim

    def _top_neighbour_blocks(self, keep: int):
        """Yield ``(counts, columns, values)`` per block of rows from the co-occurrence kernel.

        Memory stays at the ratings (both layouts), a few length-n accumulators
        per thread and ``block x keep`` entries, whatever n is: 162k users or
        59k items of MovieLens-25M never materialise an n x n block.
        """
        x = self.x_matrix_
        x_indptr = x.indptr.astype(np.int64)
        x_columns = x.indices.astype(np.int64)
        x_values, y_values = x.data, self.y_ratings_
        if self.similarity == "pearson_baseline":
            # Residuals r - (mu + b_x + b_y) on both layouts, as _residual gives them.
            x_of_entry = np.repeat(np.arange(self.n_x_), np.diff(x_indptr))
            x_values = x.data - (self.global_mean_ + self.x_bias_[x_of_entry] + self.y_bias_[x_columns])
            y_of_entry = np.repeat(np.arange(self.n_y_), np.diff(self.y_indptr_))
            y_values = self.y_ratings_ - (self.global_mean_ + self.x_bias_[self.y_members_]
                                          + self.y_bias_[y_of_entry])
        n = self.n_x_
        block = max(1, _KERNEL_BLOCK_ENTRIES // max(1, keep))
        for start in range(0, n, block):
            stop = min(start + block, n)
            counts, index, value = top_similar(
                x_indptr, x_columns, x_values, self.y_indptr_, self.y_members_, y_values, self.similarity,
                self.min_support, self.shrinkage, keep, start, stop)
            kept = np.arange(keep)[None, :] < counts[:, None]
            self._report(stop / n, f"neighbours of {stop:,} of {n:,}")
            yield counts, index[kept], value[kept]

    def _top_neighbour_dense_blocks(self, keep: int):
        """Yield ``(counts, columns, values)`` per block of dense similarity rows (``_similarity_rows``)."""
        n = self.n_x_
        block = max(1, _BLOCK_CELLS // n)
        for start in range(0, n, block):
            rows = np.arange(start, min(start + block, n))
            sims = self._similarity_rows(rows)
            sims[np.arange(len(rows)), rows] = 1.0
            yield top_k_rows(sims, keep)

    def _sim_rows(self, x_idx: np.ndarray) -> np.ndarray:
        return self.sim_[x_idx].toarray() if self.sparse_ else self.sim_[x_idx]

    def _sim_columns(self, x_idx: np.ndarray) -> np.ndarray:
        """sim[:, x_idx]: every x's similarity to the given neighbours."""
        return self.sim_columns_[:, x_idx].toarray() if self.sparse_ else self.sim_[:, x_idx]

    # ---------------------------------------------------------------- score
    def _member_block(self, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A block whose columns ``columns`` hold every x's similarity to ``members``.

        Dense: the symmetric matrix itself (no copy). Sparse: those columns, densified.
        """
        if self.sparse_:
            return self._sim_columns(members), np.arange(len(members))
        return self.sim_, members

    def _values(self, ratings, members, y_bias):
        """What each neighbour contributes, before weighting: r, r - mean, or r - baseline."""
        if self.variant == "basic" or self.implicit_:
            return ratings
        if self.variant == "means":
            return ratings - self.x_means_[members]
        return ratings - (self.global_mean_ + self.x_bias_[members] + y_bias)

    def _finish(self, sum_sim, weighted, count, target_means, target_bias, y_bias):
        """Estimates from the neighbour sums (arrays broadcast: rows x targets)."""
        if self.implicit_:
            # Every rating is 1, so any weighted mean is 1: rank by the summed
            # similarity of the neighbours instead (the usual implicit k-NN score).
            return np.where(count > 0, sum_sim, np.nan)
        enough = (count >= self.min_k) & (sum_sim > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            term = weighted / sum_sim
        if self.variant == "basic":
            return np.where(enough, term, np.nan)
        if self.variant == "means":
            return target_means + np.where(enough, term, 0.0)
        return self.global_mean_ + target_bias + y_bias + np.where(enough, term, 0.0)

    def _aggregate(self, block, rows, columns, ratings, members, targets, y, target_means=None,
                   target_bias=None, y_bias=None, support=None):
        """Estimates for the target x's (``rows`` of ``block``; None: all) from neighbours ``members``.

        ``block[rows][:, columns]`` are the similarities of the targets to the
        members, who rated ``y`` with ``ratings`` (in training-row order).
        ``support``, a list, receives the summed similarity of the neighbours used.
        """
        if self.variant == "baseline" and y_bias is None:
            y_bias = self.y_bias_[y]
        sum_sim, weighted, count = select_sums(block, rows, columns, self._values(ratings, members, y_bias), self.k)
        if support is not None:
            support.append(sum_sim)
        if self.variant == "means" and target_means is None:
            target_means = self.x_means_[targets]
        if self.variant == "baseline" and target_bias is None:
            target_bias = self.x_bias_[targets]
        return self._finish(sum_sim, weighted, count, target_means, target_bias, y_bias)

    def _entry_values(self) -> np.ndarray:
        """_values for every training rating at once, in the y-grouped layout."""
        if getattr(self, "entry_values_", None) is None:
            y_of_entry = np.repeat(np.arange(self.n_y_), np.diff(self.y_indptr_))
            y_bias = self.y_bias_[y_of_entry] if self.variant == "baseline" else None
            self.entry_values_ = self._values(self.y_ratings_, self.y_members_, y_bias)
        return self.entry_values_

    def _members(self, y: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.y_indptr_[y], self.y_indptr_[y + 1]
        return self.y_members_[start:stop], self.y_ratings_[start:stop]

    def _predict_pairs(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        """Estimates of the given pairs only, grouped by the y they share (no full score rows)."""
        x, y = (user_idx, item_idx) if self.user_based else (item_idx, user_idx)
        out = np.full(len(x), np.nan)
        if self.variant == "baseline":
            # Surprise: the side it does not know contributes no bias, and no neighbour term.
            out = (self.global_mean_ + np.where(self.known_x_[x], self.x_bias_[x], 0.0)
                   + np.where(self.known_y_[y], self.y_bias_[y], 0.0))
        order = np.argsort(y, kind="stable")
        groups, starts = np.unique(y[order], return_index=True)
        for group, positions in zip(groups, np.split(order, starts[1:])):
            positions = positions[self.known_x_[x[positions]]]
            if not self.known_y_[group] or len(positions) == 0:
                continue
            members, ratings = self._members(group)
            targets = x[positions]
            if self.sparse_:
                out[positions] = self._aggregate(self._sim_rows(targets), None, members, ratings, members, targets, group)
            else:
                out[positions] = self._aggregate(self.sim_, targets, members, ratings, members, targets, group)
        return out

    #: Items without training ratings cannot be scored (content models override: their text can).
    _mask_unknown_items = True

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        if self.user_based:
            return self._score_user_based(user_idx)
        return self._score_item_based(user_idx)

    def _grouped(self, block, rows, groups, symmetric=False):
        return grouped_select_sums(block, rows, self.y_indptr_, self.y_members_, self._entry_values(), groups, self.k,
                                   symmetric)

    def _score_user_based(self, user_idx):
        scores = np.full((len(user_idx), self.n_y_), np.nan)
        items = np.flatnonzero(self.known_y_)
        if self.sparse_:
            sums = [part[items] for part in self._sparse_user_sums(user_idx)]
        else:
            target_sims = np.ascontiguousarray(self._sim_rows(user_idx))
            # One compiled call: for every item (group), every target user (row).
            sums = self._grouped(target_sims, np.arange(len(user_idx)), items)
        means = self.x_means_[user_idx][None, :] if self.variant == "means" else None
        bias = self.x_bias_[user_idx][None, :] if self.variant == "baseline" else None
        y_bias = self.y_bias_[items][:, None] if self.variant == "baseline" else None
        scores[:, items] = self._finish(*sums, means, bias, y_bias).T
        known_user = self.known_x_[user_idx]
        if self.variant == "baseline":
            # Surprise: unknown side contributes no bias, and no neighbour term.
            partial = self.global_mean_ + np.where(known_user, self.x_bias_[user_idx], 0.0)[:, None]
            partial = partial + np.where(self.known_y_, self.y_bias_, 0.0)[None, :]
            unknown = ~known_user[:, None] | ~self.known_y_[None, :]
            scores[unknown] = partial[unknown]
        else:
            scores[~known_user] = np.nan
        return scores

    def _sparse_user_sums(self, user_idx):
        """User-based sparse mode: the k-NN sums, ``(n_items, len(user_idx))`` each, from stored neighbours only.

        An unstored neighbour has similarity 0 and never enters a sum, so only
        the items rated by a user's (at most ``max_neighbours``) neighbours are
        visited -- not every rating of every item. Candidates are put in each
        item's training-row order, so ties pick the same neighbours as the dense path.
        """
        if getattr(self, "y_position_", None) is None:
            # Where each CSR entry of x_matrix_ sits in the y-grouped layout (its training-row rank within y).
            coo = self.x_matrix_.tocoo()
            order = np.lexsort((coo.row, coo.col))  # by y, then x -- matched below to the layout's order
            position = np.empty(len(order), np.int64)
            grouped = np.lexsort((self.y_members_, np.repeat(np.arange(self.n_y_), np.diff(self.y_indptr_))))
            position[order] = grouped
            self.y_position_ = position
        values = self._entry_values()
        x = self.x_matrix_
        out = [np.zeros((self.n_y_, len(user_idx))), np.zeros((self.n_y_, len(user_idx))),
               np.zeros((self.n_y_, len(user_idx)), np.int64)]
        for column, user in enumerate(user_idx):
            start, stop = self.sim_.indptr[user], self.sim_.indptr[user + 1]
            neighbours, sims = self.sim_.indices[start:stop], self.sim_.data[start:stop]
            lengths = x.indptr[neighbours + 1] - x.indptr[neighbours]
            entries = np.repeat(x.indptr[neighbours] - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
            slots = self.y_position_[entries]
            order = np.argsort(slots, kind="stable")
            slots = slots[order]
            candidate_items = x.indices[entries[order]]
            indptr = np.concatenate([[0], np.cumsum(np.bincount(candidate_items, minlength=self.n_y_))])
            block = sp.csr_matrix((np.repeat(sims, lengths)[order], np.arange(len(slots)), indptr),
                                  shape=(self.n_y_, len(slots)))
            for part, value in zip(out, csr_select_sums(block, values[slots], self.k, sort=False)):
                part[:, column] = value
        return out

    def _score_item_based(self, user_idx):
        n_items = self.n_x_
        if self.sparse_:  # columns of a sparse top-neighbour matrix: one user at a time
            return (np.vstack([self._score_item_based_one(u) for u in user_idx]) if len(user_idx)
                    else np.zeros((0, n_items)))
        scores = np.full((len(user_idx), n_items), np.nan)
        known = self.known_y_[user_idx]
        users = user_idx[known]
        if len(users):
            means = self.x_means_[None, :] if self.variant == "means" else None
            bias = self.x_bias_[None, :] if self.variant == "baseline" else None
            y_bias = self.y_bias_[users][:, None] if self.variant == "baseline" else None
            # Similarity measures are symmetric; checked on the matrix itself, so a future one that is not
            # still reads its rows as given.
            if getattr(self, "sim_symmetric_", None) is None:
                self.sim_symmetric_ = bool(np.array_equal(self.sim_, self.sim_.T))
            sums = self._grouped(self.sim_, np.arange(n_items), users, self.sim_symmetric_)
            scores[known] = self._finish(*sums, means, bias, y_bias)
        return self._mask_item_based(scores, user_idx)

    def _mask_item_based(self, scores, user_idx):
        """Unknown users and items: NaN, or Surprise's partial baseline."""
        known = self.known_y_[user_idx]
        if self.variant == "baseline":
            scores[~known] = self.global_mean_ + np.where(self.known_x_, self.x_bias_, 0.0)[None, :]
            if self._mask_unknown_items:
                unknown_items = np.flatnonzero(~self.known_x_)
                scores[np.ix_(np.flatnonzero(known), unknown_items)] = (
                    self.global_mean_ + self.y_bias_[user_idx[known]][:, None])
        else:
            scores[~known] = np.nan
            if self._mask_unknown_items:
                scores[:, ~self.known_x_] = np.nan
        return scores

    def _score_item_based_one(self, user: int) -> np.ndarray:
        """Sparse mode: only the stored neighbours of each item among the user's items are candidates."""
        scores = np.full((1, self.n_x_), np.nan)
        if self.known_y_[user]:
            members, ratings = self._members(user)
            y_bias = self.y_bias_[user] if self.variant == "baseline" else None
            sums = csr_select_sums(self.sim_columns_[:, members], self._values(ratings, members, y_bias), self.k)
            means = self.x_means_ if self.variant == "means" else None
            bias = self.x_bias_ if self.variant == "baseline" else None
            scores[0] = self._finish(*sums, means, bias, y_bias)
        return self._mask_item_based(scores, np.array([user]))[0]

    # ------------------------------------------------------- introspection
    def item_similarity_rows(self, item_idx):
        if not self.user_based:
            return self._sim_rows(np.asarray(item_idx))
        # User-based: compare items with the same measure on the item x user matrix.
        items = self.x_matrix_.T.tocsr()
        residual = None
        if self.similarity == "pearson_baseline":
            residual = self._residual(items, self.x_bias_, x_bias=self.y_bias_)
        sims = similarity_block(items[item_idx], items, self.similarity, self.min_support, self.shrinkage,
                                residual[item_idx] if residual is not None else None, residual)
        sims[np.arange(len(item_idx)), item_idx] = 1.0
        return sims

    def _instance_capabilities(self):
        dense = not getattr(self, "sparse_", False)
        return {"user_embeddings": bool(self.user_based) and dense,
                "item_embeddings": (not self.user_based) and dense,
                "similar_items": True,
                "forgets_users": self._forgets()}

    def item_embeddings(self):
        # A memory-based model learns no vectors; its similarity rows are the closest analogue.
        if not self.user_based and not self.sparse_:
            return self.sim_
        return None

    def user_embeddings(self):
        if self.user_based and not self.sparse_:
            return self.sim_
        return None

    # ----------------------------------------------------------- cold start
    def fold_in(self, item_idx, ratings):
        return self.fold_in_with_support(item_idx, ratings)[0]

    def fold_in_with_support(self, item_idx, ratings):
        item_idx = np.asarray(item_idx, dtype=np.int64)
        ratings = np.asarray(ratings, dtype=np.float64)
        # The given order plays the part of training-row order: it decides ties between neighbours.
        mean = ratings.mean()
        new_bias = None
        if self._needs_baselines():
            item_bias = self.x_bias_ if not self.user_based else self.y_bias_
            # One ALS step for the new user's bias against fixed item biases (reg_u = 15).
            new_bias = (ratings - self.global_mean_ - item_bias[item_idx]).sum() / (15 + len(ratings))
        if not self.user_based:
            n_items = self.n_x_
            support: list = []
            block, columns = self._member_block(item_idx)
            scores = self._aggregate(block, None, columns, ratings, item_idx, np.arange(n_items), None,
                                     y_bias=new_bias if new_bias is not None else 0.0, support=support)
            if self.variant == "baseline":
                scores[~self.known_x_] = self.global_mean_ + new_bias
            return scores, support[0]
        row = sp.csr_matrix((ratings, (np.zeros(len(item_idx), int), item_idx)), shape=(1, self.n_y_))
        row_residual = None
        if self.similarity == "pearson_baseline":
            row_residual = self._residual(row, self.y_bias_, x_bias=np.array([new_bias]))
        sims = similarity_block(row, self.x_matrix_, self.similarity, self.min_support, self.shrinkage,
                                row_residual, self.x_residual_)
        scores = np.full(self.n_y_, np.nan)
        evidence = np.zeros(self.n_y_)
        for item in np.flatnonzero(self.known_y_):
            members, item_ratings = self._members(item)
            support: list = []
            scores[item] = self._aggregate(sims, None, members, item_ratings, members, None, item,
                                           target_means=np.array([mean]),
                                           target_bias=np.array([new_bias]) if new_bias is not None else None,
                                           support=support)[0]
            evidence[item] = support[0][0]
        if self.variant == "baseline":
            scores[~self.known_y_] = self.global_mean_ + new_bias
        return scores, evidence


class KNNBasic(KNN):
    name = "knn-basic"
    variant = "basic"
    formula = r"\hat r_{ui} = \frac{\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)\, r_{vi}}{\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)}"
    explanation = (
        "Find the k users most similar to you among those who rated the item, and average their ratings "
        "weighted by similarity (or, item-based, average your own ratings of the k items most similar to it)."
    )


class KNNWithMeans(KNN):
    name = "knn-means"
    variant = "means"
    formula = r"\hat r_{ui} = \mu_u + \frac{\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)\,(r_{vi} - \mu_v)}{\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)}"
    explanation = (
        "Like k-NN basic, but neighbours vote with how far their rating is above or below their own average, "
        "added to your average: a strict rater's 4 counts as enthusiasm."
    )


class KNNBaseline(KNN):
    name = "knn-baseline"
    variant = "baseline"
    formula = r"\hat r_{ui} = b_{ui} + \frac{\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)\,(r_{vi} - b_{vi})}{\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)},\quad b_{ui} = \mu + b_u + b_i"
    explanation = (
        "Starts from the baseline estimate (global mean plus user and item biases) and lets the neighbours "
        "correct it. Koren (2010) recommends it with the shrunk pearson_baseline similarity."
    )
