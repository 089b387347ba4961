"""Ranking-first models for implicit feedback: item neighbourhoods, EASE, ALS and BPR.

They learn which items a person will pick among the whole catalogue, not
which rating they would give one of them; this is why they beat the
rating-prediction models (SVD, k-NN with Surprise's semantics) on top-K
metrics while predicting no ratings. All read their input through
:func:`recsys_core.models.feedback.interaction_matrix` (``feedback`` and
``threshold`` parameters) and score a user as a row of the 0/1 matrix ``X``:

* ``item-knn-cosine`` -- :math:`s_{ij} = x_i^\\top x_j / (\\|x_i\\|\\|x_j\\| + h)`,
  each item keeps its ``k`` most similar items; score :math:`X_u S`
  (Sarwar et al. 2001; Deshpande & Karypis 2004 for the sum of similarities).
* ``rp3beta`` -- random walk user -> item -> user -> item with transition
  probabilities raised to ``alpha`` and the landing item's popularity
  divided out by :math:`\\deg(j)^\\beta` (Paudel et al. 2017).
* ``ease`` -- the closed-form shallow autoencoder of Steck (2019):
  :math:`P = (X^\\top X + \\lambda I)^{-1}`, :math:`B_{ij} = -P_{ij}/P_{jj}`,
  :math:`B_{jj}=0`; score :math:`X_u B`.
* ``als`` -- implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008),
  fitted by the ``implicit`` package: an observed cell weighs
  :math:`c_{ui} = \\alpha x_{ui}` (implicit >= 0.5 scales the matrix by alpha), every
  other cell 1.
* ``bpr`` -- Bayesian personalised ranking (Rendle et al. 2009), SGD on
  sampled (user, seen item, unseen item) triples, fitted by ``implicit``.

A user with no feedback at all (every rating below the threshold, or none in
the training part) cannot be personalised: they get the most popular items
and ``fallback_users_`` counts them.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..dataset import Dataset
from ..system import DEFAULT_CONTEXT, blas_single_thread, blas_threads
from . import memory
from .base import FactorVectors, Recommender
from .feedback import fold_in_weight, interaction_matrix, ratings_to_row, resolve_weighting
from ._neighbours import top_k_rows
from .params import Param, factors_param, feedback_params, weighting_param

class RankingModel(Recommender):
    """Shared part: feedback matrix, scores as rows, popularity for users with no feedback, fold-in."""

    family = "Ranking (implicit feedback)"
    predicts_ratings = False
    folds_in = True
    has_similar_items = True
    explains_by = "neighbours"

    def _fit(self, dataset: Dataset) -> None:
        # Subclasses without a ``weighting`` parameter keep the 0/1 matrix they were written for.
        self.feedback_ = interaction_matrix(dataset, self.feedback, self.threshold,
                                            getattr(self, "weighting", "binary"))
        self.fold_in_weight_ = fold_in_weight(self.feedback_)
        self.popularity_ = np.asarray(self.feedback_.sum(axis=0)).ravel().astype(np.float64)
        self.fallback_users_ = int((np.diff(self.feedback_.indptr) == 0).sum())
        self._fit_matrix(self.feedback_)

    def _fit_matrix(self, feedback: sp.csr_matrix) -> None:
        raise NotImplementedError

    def _instance_capabilities(self):
        # Incremental forgetting assumes 0/1 feedback: the other weightings are scaled to mean 1 over every
        # stored cell (and BM25/TF-IDF weigh by counts over all users), so removing one user changes every cell.
        if not type(self).forgets_users or not self.is_fitted:
            return {}
        return {"forgets_users": resolve_weighting(self.dataset_, getattr(self, "weighting", "binary")) == "binary"}

    def _forget(self, dataset, removed, keep):
        old = self.feedback_
        self.feedback_ = interaction_matrix(dataset, self.feedback, self.threshold,
                                            getattr(self, "weighting", "binary"))
        self.fold_in_weight_ = fold_in_weight(self.feedback_)
        self.popularity_ = np.asarray(self.feedback_.sum(axis=0)).ravel().astype(np.float64)
        self.fallback_users_ = int((np.diff(self.feedback_.indptr) == 0).sum())
        self._forget_matrix(old[removed], removed, keep)

    def _forget_matrix(self, gone: sp.csr_matrix, removed: np.ndarray, keep: np.ndarray) -> None:
        """Update the learnt state given the removed users' feedback rows ``gone`` (``feedback_`` is the new one)."""
        raise NotImplementedError

    def _score_rows(self, rows: sp.csr_matrix, user_idx: np.ndarray | None) -> np.ndarray:
        """Scores of every item for feedback rows (``user_idx``: the training users they belong to, if any)."""
        raise NotImplementedError

    def _score_users(self, user_idx):
        rows = self.feedback_[user_idx]
        scores = np.asarray(self._score_rows(rows, user_idx), dtype=np.float64)
        return self._popular_where_empty(rows, scores)

    def _popular_where_empty(self, rows: sp.csr_matrix, scores: np.ndarray) -> np.ndarray:
        empty = np.diff(rows.indptr) == 0
        if empty.any():
            scores[empty] = self.popularity_ / max(self.popularity_.max(), 1.0)
        return scores

    def fallback_users(self, user_idx):
        """Users without any feedback row (e.g. every rating below the positive threshold): served "popular"."""
        rows = self.feedback_[np.asarray(user_idx, dtype=np.int64)]
        return np.diff(rows.indptr) == 0

    def fold_in(self, item_idx, ratings):
        row = ratings_to_row(self.check_fitted(), item_idx, ratings, self.feedback, self.threshold,
                             getattr(self, "fold_in_weight_", 1.0))
        return self._popular_where_empty(row, np.asarray(self._fold_in_row(row), dtype=np.float64).reshape(1, -1))[0]

    def _fold_in_row(self, row: sp.csr_matrix) -> np.ndarray:
        return self._score_rows(row, None)

    def fold_in_with_support(self, item_idx, ratings):
        scores = self.fold_in(item_idx, ratings)
        return scores, None

    def cannot_personalise(self, item_idx, ratings) -> str | None:
        """Why a new user's list would not depend on their input, or None when it does."""
        row = ratings_to_row(self.check_fitted(), item_idx, ratings, self.feedback, self.threshold,
                             getattr(self, "fold_in_weight_", 1.0))
        if row.nnz == 0:
            return (f"none of the given ratings counts as positive feedback for {self.name} "
                    f"(feedback='{self.feedback}'): it shows the most popular items instead.")
        return None


class _ItemNeighbourhood(RankingModel):
    """Score = X_u W for an item x item weight matrix W (sparse top-k or dense)."""

    def memory_estimate(self, n_users, n_items, n_ratings):
        """Dense similarity blocks while building, k entries per item kept (twice: rows and transpose).

        Blocks: two 8M-cell float64 blocks in flight (one computed ahead) and, for the one being
        reduced, the transform's and top-k's temporaries: about eight block-sized arrays.
        """
        block = 8 * 8 * 8_000_000
        return block + 2 * memory.CSR_BYTES * min(int(self.k), n_items) * n_items + 4 * memory.CSR_BYTES * n_ratings

    def _score_rows(self, rows, user_idx):
        product = rows @ self.weights_
        return product.toarray() if sp.issparse(product) else np.asarray(product)

    def item_similarity_rows(self, item_idx):
        rows = self.weights_[np.asarray(item_idx)]
        return rows.toarray() if sp.issparse(rows) else np.array(rows)


def top_k_sparse_rows(block: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`top_k_rows` for a sparse block: the same entries, ties and order, without a dense copy.

    Unstored cells are 0 and never kept (only positive entries are). Entries are sorted by (row, value
    descending, column ascending) and the first ``k`` of each row kept, then put back in column order.
    """
    block = block.tocsr()
    n_rows = block.shape[0]
    rows = np.repeat(np.arange(n_rows), np.diff(block.indptr))
    positive = block.data > 0
    rows, columns, values = rows[positive], block.indices[positive].astype(np.int64), block.data[positive]
    order = np.lexsort((columns, -values, rows))
    rows, columns, values = rows[order], columns[order], values[order]
    first = np.searchsorted(rows, np.arange(n_rows))
    chosen = np.arange(len(rows)) - first[rows] < int(k)
    rows, columns, values = rows[chosen], columns[chosen], values[chosen]
    order = np.lexsort((columns, rows))
    return (np.bincount(rows, minlength=n_rows).astype(np.int64), columns[order],
            values[order].astype(np.float64))


def top_k_sparse(n_rows: int, n_cols: int, k: int, blocks) -> sp.csr_matrix:
    """Keep the ``k`` largest positive entries per row of row blocks (bounded memory).

    ``blocks`` yields ``(row_start, block)`` in row order, each block dense or sparse; the result is
    a CSR matrix. Each block is reduced at once (no loop over rows); ties at a
    row's k-th value keep the lowest column indices.
    """
    counts, indices, data = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    for _start, block in blocks:
        kept, columns, values = top_k_sparse_rows(block, k) if sp.issparse(block) else top_k_rows(block, k)
        counts.append(kept)
        indices.append(columns)
        data.append(values)
    counts = np.concatenate(counts)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    index_dtype = np.int32 if max(n_cols, len(indptr)) < 2**31 else np.int64
    return sp.csr_matrix((np.concatenate(data), np.concatenate(indices).astype(index_dtype),
                          indptr.astype(index_dtype)), shape=(n_rows, n_cols))


#: A block's product is kept sparse (transformed on its stored entries, reduced by sorting) below this share
#: of stored cells: on Last.fm's 17.6k artists the item x item products hold 3% of the cells, and reducing
#: 310M mostly-zero dense cells took 74 s (item-knn-cosine) and 113 s (rp3beta) against 2-4 s sparse.
#: Denser products (MovieLens: most item pairs share a rater) stay dense, where a partition beats a sort.
SPARSE_BLOCK_SHARE = 0.2


def _item_blocks(left: sp.csr_matrix, right: sp.csr_matrix, transform, block_cells: int = 8_000_000,
                 sparse_transform=None):
    """Yield (start, block of ``transform(start, stop, left[start:stop] @ right)``) with bounded memory.

    A block is dense unless ``sparse_transform`` is given and the product stores fewer than
    :data:`SPARSE_BLOCK_SHARE` of its cells; then it stays CSR and ``sparse_transform(start, stop, rows,
    columns, values)`` returns the new values of its stored entries (the same expression as ``transform``,
    so the two routes agree to the last bit). Sparse blocks take 8x the rows of dense ones (their size is
    the stored entries). The next block's sparse product runs in a second thread while the caller
    reduces the current one (scipy's sparse kernels release the GIL): two
    blocks in memory at most, about twice as fast on two cores.
    """
    from concurrent.futures import ThreadPoolExecutor

    n_rows, n_cols = left.shape[0], right.shape[1]
    step = max(1, block_cells // max(1, n_cols))
    if sparse_transform is not None:
        # Rows x stored pairs per row: the product's size is bounded by the left rows' co-occurrence counts.
        step *= 8
    starts = list(range(0, n_rows, step))

    def compute(start):
        stop = min(n_rows, start + step)
        product = (left[start:stop] @ right).tocsr()
        if sparse_transform is None:
            return "dense", transform(start, stop, product.toarray())
        if product.nnz < SPARSE_BLOCK_SHARE * (stop - start) * n_cols:
            rows = np.repeat(np.arange(start, stop), np.diff(product.indptr))
            product.data = sparse_transform(start, stop, rows, product.indices, product.data)
            return "sparse", product
        return "raw", product  # dense after all: made dense a dense-sized piece at a time, below

    def pieces(start, kind, product):
        if kind != "raw":
            yield start, product
            return
        dense_rows = max(1, step // 8)
        for a in range(0, product.shape[0], dense_rows):
            b = min(product.shape[0], a + dense_rows)
            yield start + a, transform(start + a, start + b, product[a:b].toarray())

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(compute, starts[0]) if starts else None
        for position, start in enumerate(starts):
            kind, block = pending.result()
            pending = pool.submit(compute, starts[position + 1]) if position + 1 < len(starts) else None
            yield from pieces(start, kind, block)
            del block


class ItemKNNCosine(_ItemNeighbourhood):
    """Item-based neighbourhood on the interaction matrix: shrunk cosine, sum of similarities."""

    name = "item-knn-cosine"
    formula = (
        r"s_{ij} = \frac{x_i^\top x_j}{\|x_i\|\,\|x_j\| + h},\qquad "
        r"\mathrm{score}(u, j) = \sum_{i \in I_u} s_{ij}\ \text{over } j\text{'s } k \text{ nearest items}"
    )
    explanation = (
        "Two items are similar when the same people interacted with both (cosine of their columns in the "
        "user x item 0/1 matrix); the shrink term h damps pairs seen together only a few times. An item's score "
        "is the sum of its similarities to everything you interacted with, so items close to many of yours win. "
        "No ratings are predicted: it ranks."
    )
    params = (
        Param("k", "Neighbours kept per item (the rest count as 0).", kind="int", low=1, high=2000, step=10,
              search=(10, 400), log=True),
        Param("shrink", "h: added to the cosine's denominator, so pairs with little co-occurrence score less.",
              low=0.0, high=1000.0, step=5.0, search=(0.0, 200.0)),
        *feedback_params(),
        weighting_param(),
    )

    def __init__(self, k: int = 100, shrink: float = 10.0, feedback: str = "all", threshold: float | None = None,
                 weighting: str = "auto", random_state: int = 0):
        self.k = k
        self.shrink = shrink
        self.feedback = feedback
        self.threshold = threshold
        self.weighting = weighting
        self.random_state = random_state

    def _fit_matrix(self, feedback):
        items = feedback.T.tocsr().astype(np.float64)
        norms = np.sqrt(np.asarray(items.multiply(items).sum(axis=1)).ravel())
        n_items = items.shape[0]

        def transform(start, stop, block):
            block = block / (norms[start:stop, None] * norms[None, :] + self.shrink + 1e-12)
            block[np.arange(stop - start), np.arange(start, stop)] = 0.0
            return block

        def sparse_transform(start, stop, rows, columns, values):  # transform's expression on stored cells
            values = values / (norms[rows] * norms[columns] + self.shrink + 1e-12)
            values[rows == columns] = 0.0
            return values

        # Row i: item i's own k nearest items (what "similar items" shows).
        self.neighbours_ = top_k_sparse(n_items, n_items, int(self.k),
                                        _item_blocks(items, items.T.tocsr(), transform,
                                                     sparse_transform=sparse_transform))
        # Scoring sums, for a target j, the similarities of j's k nearest items that the user took:
        # W[i, j] = s_ij where i is among j's neighbours, i.e. the transpose.
        self.weights_ = self.neighbours_.T.tocsr()

    forgets_users = True
    forget_explanation = (
        "the removed users leave the co-occurrence counts and item norms; the similarity rows of the items they "
        "took are recomputed, and every other row only in those items' columns (its other entries cannot "
        "change: a smaller norm only raises those similarities), then each row keeps its k best again. "
        "Exact: equal to a refit. 0/1 feedback only; with count weightings it refits.")

    def _forget_matrix(self, gone, removed, keep):
        touched = np.unique(gone.indices)
        if not len(touched):
            return
        items = self.feedback_.T.tocsr().astype(np.float64)
        norms = np.sqrt(np.asarray(items.multiply(items).sum(axis=1)).ravel())
        n_items = items.shape[0]
        # Columns of the touched items in every row (their norms changed), and the touched rows in full; the
        # expression is _fit_matrix's to the last rounding, so ties at a row's k-th value fall the same way.
        columns = (items @ items[touched].T).toarray()
        columns = columns / (norms[:, None] * norms[touched][None, :] + self.shrink + 1e-12)
        columns[touched, np.arange(len(touched))] = 0.0
        rows = (items[touched] @ items.T).toarray()
        rows = rows / (norms[touched][:, None] * norms[None, :] + self.shrink + 1e-12)
        rows[np.arange(len(touched)), touched] = 0.0
        self.neighbours_ = _top_k_after_forgetting(self.neighbours_, touched, columns, rows, int(self.k))
        self.weights_ = self.neighbours_.T.tocsr()

    def item_similarity_rows(self, item_idx):
        return self.neighbours_[np.asarray(item_idx)].toarray()


def _top_k_after_forgetting(kept: sp.csr_matrix, touched: np.ndarray, columns: np.ndarray, rows: np.ndarray,
                            k: int) -> sp.csr_matrix:
    """Each row's ``k`` largest positive entries again, after the rows and columns of ``touched`` were recomputed.

    ``kept`` is the old top-k matrix; ``columns`` (n x len(touched)) the new values in the touched columns of
    every row, ``rows`` (len(touched) x n) the touched rows in full. Exact when an untouched row's other
    entries are unchanged and its touched columns can only rise (item-knn-cosine: a smaller norm; rp3beta: a
    smaller popularity penalty), since then nothing the old top-k left out can come back. Ties keep the
    lowest columns (``top_k_rows``' rule), sorted without a dense n x n block.
    """
    n = kept.shape[0]
    is_touched = np.zeros(n, dtype=bool)
    is_touched[touched] = True
    old = kept.tocoo()
    stay = ~is_touched[old.row] & ~is_touched[old.col]
    column_rows, column_cols = np.nonzero((columns > 0) & ~is_touched[:, None])
    row_rows, row_cols = np.nonzero(rows > 0)
    row = np.concatenate([old.row[stay], column_rows, touched[row_rows]])
    col = np.concatenate([old.col[stay], touched[column_cols], row_cols])
    value = np.concatenate([old.data[stay], columns[column_rows, column_cols], rows[row_rows, row_cols]])
    order = np.lexsort((col, -value, row))
    row, col, value = row[order], col[order], value[order]
    chosen = np.arange(len(row)) - np.searchsorted(row, np.arange(n))[row] < int(k)
    out = sp.csr_matrix((value[chosen], (row[chosen], col[chosen])), shape=(n, n))
    out.sort_indices()
    return out


class RP3beta(_ItemNeighbourhood):
    """Three-step random walk with popularity penalty (Paudel, Christoffel, Newell & Bernstein 2017)."""

    name = "rp3beta"
    formula = (
        r"W_{ij} = \frac{\big(\sum_u P_{iu}^{\alpha} P_{uj}^{\alpha}\big)}{\deg(j)^{\beta}},\quad "
        r"P_{ui} = \frac{x_{ui}}{\deg(u)},\ P_{iu} = \frac{x_{ui}}{\deg(i)},\qquad "
        r"\mathrm{score}(u, j) = \sum_{i \in I_u} W_{ij}"
    )
    explanation = (
        "A random walk on the bipartite user-item graph: from an item you interacted with, to a person who also "
        "took it, to another item of theirs. Transition probabilities are sharpened by alpha, and the landing "
        "item's popularity is divided out by deg(j)^beta, so the walk does not always end on the blockbusters. "
        "Each item keeps its k strongest links."
    )
    params = (
        Param("k", "Links kept per item.", kind="int", low=1, high=2000, step=10, search=(10, 400), log=True),
        Param("alpha", "Exponent on the transition probabilities (1: plain random walk).", low=0.0, high=3.0,
              step=0.05, search=(0.2, 1.5)),
        Param("beta", "Popularity penalty: 0 none, 1 divides fully by the landing item's popularity.", low=0.0,
              high=1.0, step=0.05, search=(0.0, 0.9)),
        *feedback_params(),
        weighting_param(),
    )

    def __init__(self, k: int = 200, alpha: float = 0.8, beta: float = 0.6, feedback: str = "all",
                 threshold: float | None = None, weighting: str = "auto", random_state: int = 0):
        self.k = k
        self.alpha = alpha
        self.beta = beta
        self.feedback = feedback
        self.threshold = threshold
        self.weighting = weighting
        self.random_state = random_state

    def _fit_matrix(self, feedback):
        x = feedback.astype(np.float64)
        user_degree = np.asarray(x.sum(axis=1)).ravel()
        item_degree = np.asarray(x.sum(axis=0)).ravel()
        p_ui = (sp.diags(1.0 / np.maximum(user_degree, 1)) @ x).tocsr()
        p_iu = (sp.diags(1.0 / np.maximum(item_degree, 1)) @ x.T).tocsr()
        p_ui.data **= self.alpha
        p_iu.data **= self.alpha
        penalty = np.power(np.maximum(item_degree, 1), -self.beta)
        n_items = x.shape[1]

        def transform(start, stop, block):
            block = block * penalty[None, :]
            block[np.arange(stop - start), np.arange(start, stop)] = 0.0
            return block

        def sparse_transform(start, stop, rows, columns, values):  # transform's expression on stored cells
            values = values * penalty[columns]
            values[rows == columns] = 0.0
            return values

        self.weights_ = top_k_sparse(n_items, n_items, int(self.k),
                                     _item_blocks(p_iu, p_ui, transform, sparse_transform=sparse_transform))

    forgets_users = True
    forget_explanation = (
        "the removed users leave the walk: the items they took lose degree, so those items' rows are recomputed "
        "and every other row only in their columns (a smaller degree there only lowers the popularity penalty, "
        "raising those links), then each row keeps its k strongest links again. Exact: equal to a refit. 0/1 "
        "feedback only; with count weightings it refits.")

    def _forget_matrix(self, gone, removed, keep):
        touched = np.unique(gone.indices)
        if not len(touched):
            return
        x = self.feedback_.astype(np.float64)
        user_degree = np.asarray(x.sum(axis=1)).ravel()
        item_degree = np.asarray(x.sum(axis=0)).ravel()
        p_ui = (sp.diags(1.0 / np.maximum(user_degree, 1)) @ x).tocsr()
        p_iu = (sp.diags(1.0 / np.maximum(item_degree, 1)) @ x.T).tocsr()
        p_ui.data **= self.alpha
        p_iu.data **= self.alpha
        penalty = np.power(np.maximum(item_degree, 1), -self.beta)
        # _fit_matrix's expressions, so every entry is the refit's to the last rounding (ties fall alike).
        rows = (p_iu[touched] @ p_ui).toarray() * penalty[None, :]
        rows[np.arange(len(touched)), touched] = 0.0
        columns = (p_iu @ p_ui[:, touched]).toarray() * penalty[touched][None, :]
        columns[touched, np.arange(len(touched))] = 0.0
        self.weights_ = _top_k_after_forgetting(self.weights_, touched, columns, rows, int(self.k))


class EASE(_ItemNeighbourhood):
    """Embarrassingly shallow autoencoder (Steck 2019): closed form, dense item x item weights."""

    name = "ease"
    finite_state = ("weights_",)
    formula = (
        r"\min_B \|X - XB\|_F^2 + \lambda\|B\|_F^2\ \text{s.t. } \operatorname{diag}(B)=0"
        r"\ \Rightarrow\ P = (X^\top X + \lambda I)^{-1},\ B_{ij} = -\frac{P_{ij}}{P_{jj}}"
    )
    explanation = (
        "A linear model that reconstructs each person's row of the 0/1 matrix from the rest of the row, with the "
        "rule that an item may not predict itself. The solution is one matrix inversion, no iterations; weights can "
        "be negative (taking one item makes another less likely). lambda regularises: larger values trust frequent "
        "co-occurrences only. Memory grows with the square of the number of items."
    )
    params = (
        Param("reg", "lambda: L2 regularisation added to the diagonal of X^T X.", low=1.0, high=100_000.0, step=50.0,
              fmt="%.1f", search=(10.0, 5000.0), log=True),
        Param("min_item_interactions", "Items with fewer interactions in training are left out (never "
              "recommended, no weights): memory grows with the square of the kept items, time with their cube. "
              "1 keeps every item.", kind="int", low=1, high=10_000, step=1),
        *feedback_params(),
        weighting_param(),
    )

    def __init__(self, reg: float = 250.0, feedback: str = "all", threshold: float | None = None,
                 weighting: str = "auto", min_item_interactions: int = 1, random_state: int = 0):
        self.reg = reg
        self.feedback = feedback
        self.threshold = threshold
        self.weighting = weighting
        self.min_item_interactions = min_item_interactions
        self.random_state = random_state

    def fit_size(self, dataset):
        """Users, the items with at least ``min_item_interactions`` interactions, and their interactions."""
        if int(self.min_item_interactions) <= 1:
            return dataset.n_users, dataset.n_items, dataset.n_ratings
        per_item = np.bincount(dataset.matrix.indices, minlength=dataset.n_items)
        kept = per_item >= int(self.min_item_interactions)
        return dataset.n_users, int(kept.sum()), int(per_item[kept].sum())

    def pruning_to_fit(self, dataset, budget_bytes: float) -> tuple[int, int] | None:
        """The smallest ``min_item_interactions`` whose fit needs at most ``budget_bytes``, and the items kept.

        None when even keeping only the most-taken items does not fit. Read by the Train page and the CLI
        when the estimate is over the machine.
        """
        per_item = np.bincount(dataset.matrix.indices, minlength=dataset.n_items)
        for threshold in np.unique(np.concatenate([[1], per_item[per_item > 0]])):
            kept = per_item >= threshold
            if kept.sum() and self.memory_estimate(dataset.n_users, int(kept.sum()),
                                                    int(per_item[kept].sum())) <= budget_bytes:
                return int(threshold), int(kept.sum())
        return None

    memory_advice = ("EASE keeps an items x items matrix: prune the catalogue to items with at least a few "
                     "interactions (the Train page offers it), or use item-knn-cosine or rp3beta (sparse, top-k) or als.")

    #: From this many items the weights are kept (and the items x items inverse formed) in float32: half the
    #: memory and, for the Cholesky route, about half the time. The tests state the tolerance: scores equal to
    #: the float64 solution to 1e-4 relative to the largest score, and the same top-10 lists.
    float32_from_items = 5_000

    def _weights_dtype(self, n_items: int):
        return np.float32 if n_items >= self.float32_from_items else np.float64

    def _by_users(self, n_users: int, n_items: int) -> bool:
        """Whether the inverse is formed through the users x users system (Woodbury): fewer users than items."""
        return n_users < n_items

    def memory_estimate(self, n_users, n_items, n_ratings):
        """One items x items matrix (P, turned into B in place), plus the route's temporaries.

        Through the users (fewer users than items): the users x users system and ``M X`` (users x items,
        float64) and one float64 column block of P; through Cholesky: the Gram matrix is factorised and
        inverted in place (one matrix) with a float64 copy of X^T X in sparse form. Plus the feedback matrix.
        """
        n_users, n_items = int(n_users), int(n_items)
        cells = n_items ** 2 * np.dtype(self._weights_dtype(n_items)).itemsize
        if self._by_users(n_users, n_items):  # the users x users system, X and M X dense, two row blocks
            extra = 8 * (n_users ** 2 + 2 * n_users * n_items + 2 * n_items * min(n_items, self._BLOCK_ROWS))
        else:  # one column block of X^T X, sparse (at worst every pair) then dense
            extra = (memory.CSR_BYTES + 8) * n_items * min(n_items, _GRAM_BLOCK)
        # The block passes' index arrays and temporaries (the mirrored triangle, the diagonal): a few MiB.
        return cells + extra + 4 * memory.CSR_BYTES * n_ratings + 16 * 1024**2

    def time_estimate(self, n_users, n_items, n_ratings, threads: int = 1) -> float:
        """Seconds the fit should take on this machine, from its flop count (measured rates, see README).

        Cholesky route: n^3/3 + 2n^3/3 flops (potrf + potri); through the users: m^3 for the users x users
        system plus one multiply-add per stored rating and item for X^T (M X).
        """
        n_users, n_items, n_ratings = int(n_users), int(n_items), int(n_ratings)
        if self._by_users(n_users, n_items):
            dense = float(n_users) ** 3
            sparse = 2.0 * n_ratings * n_items + 2.0 * n_ratings * n_users
            return dense / (self._DENSE_FLOPS * threads) + sparse / (self._SPARSE_FLOPS * threads) + \
                n_items ** 2 / self._CELLS_PER_SECOND
        speed = 2.0 if self._weights_dtype(n_items) == np.float32 else 1.0
        return float(n_items) ** 3 / (self._DENSE_FLOPS * threads * speed) + n_items ** 2 / self._CELLS_PER_SECOND

    #: Measured on the 2-core test machine under load (one thread, float64): LAPACK potrf+potri (3,000 items:
    #: 1.0 s), scipy's sparse x dense product, and the element-wise passes over the items x items matrix.
    _DENSE_FLOPS = 2e10
    _SPARSE_FLOPS = 4e8
    _CELLS_PER_SECOND = 1.5e8
    _BLOCK_ROWS = 2048

    def _fit_matrix(self, feedback):
        self.kept_items_ = None
        if int(self.min_item_interactions) > 1:
            per_item = np.bincount(feedback.indices, minlength=feedback.shape[1])
            kept = np.flatnonzero(per_item >= int(self.min_item_interactions))
            if len(kept) < feedback.shape[1]:
                if not len(kept):
                    raise ValueError(f"no item has {self.min_item_interactions} interactions or more: lower "
                                     f"min_item_interactions (the most-taken item has {int(per_item.max())}).")
                self.kept_items_ = kept
                self.notes_.append(f"ease kept the {len(kept):,} of {feedback.shape[1]:,} items with at least "
                                   f"{self.min_item_interactions} interactions; the others are never recommended.")
                feedback = feedback[:, kept].tocsr()
        n_users, n_items = feedback.shape
        dtype = self._weights_dtype(n_items)
        threads = getattr(self, "context_", DEFAULT_CONTEXT).dense_threads
        # The same numbers whatever else the process runs (see recsys_core.system.BLAS_LOCK).
        with blas_threads(threads):
            if self._by_users(n_users, n_items):
                inverse = _inverse_through_users(feedback, self.reg, dtype, threads, self._BLOCK_ROWS)
            else:
                inverse = _inverse_by_cholesky(feedback, self.reg, dtype)
        diagonal = np.diag(inverse).astype(np.float64)
        self.inverse_diagonal_ = diagonal  # with B, all of P: what forgetting a user updates
        inverse /= (-diagonal).astype(dtype)[None, :]  # B = -P / diag(P), in place
        inverse[np.diag_indices(n_items)] = 0.0
        self.weights_ = inverse

    forgets_users = True
    forget_explanation = (
        "the Gram matrix loses the removed users' rows, G' = G - U^T U, and its inverse is updated by the "
        "Woodbury identity, P' = P + P U^T (I - U P U^T)^{-1} U P (P is rebuilt from B and its diagonal): "
        "n_items^2 x users work instead of an n_items^3 inversion. Exact up to rounding (equal to a refit to 1e-6).")

    def _instance_capabilities(self):
        capabilities = super()._instance_capabilities()
        if self.is_fitted and (not hasattr(self, "inverse_diagonal_")  # pickled before it was kept
                               or getattr(self, "kept_items_", None) is not None):  # pruned: refit instead
            capabilities["forgets_users"] = False
        return capabilities

    def _score_rows(self, rows, user_idx):
        kept = getattr(self, "kept_items_", None)
        if kept is None:
            return super()._score_rows(rows, user_idx)
        scores = np.full((rows.shape[0], rows.shape[1]), np.nan)  # pruned items: no score, ranked last
        scores[:, kept] = np.asarray(rows[:, kept] @ self.weights_)
        return scores

    def item_similarity_rows(self, item_idx):
        kept = getattr(self, "kept_items_", None)
        if kept is None:
            return super().item_similarity_rows(item_idx)
        item_idx = np.atleast_1d(np.asarray(item_idx))
        position = np.full(self.dataset_.n_items, -1)
        position[kept] = np.arange(len(kept))
        out = np.zeros((len(item_idx), self.dataset_.n_items))
        inside = position[item_idx] >= 0
        out[np.ix_(np.flatnonzero(inside), kept)] = self.weights_[position[item_idx[inside]]]
        return out

    def _forget_matrix(self, gone, removed, keep):
        if not gone.nnz:
            return
        n_items = self.weights_.shape[0]
        dtype = self.weights_.dtype  # kept as fitted (float32 for large catalogues); the update runs in float64
        diagonal = self.inverse_diagonal_
        inverse = self.weights_.astype(np.float64) * (-diagonal)[None, :]
        inverse[np.diag_indices(n_items)] = diagonal
        rows = gone.astype(np.float64)
        with blas_single_thread():
            up = np.asarray((rows @ inverse))  # U P, users x items (P is symmetric: P U^T is its transpose)
            middle = np.eye(rows.shape[0]) - np.asarray(up @ rows.T.toarray())
            inverse += up.T @ np.linalg.solve(middle, up)
        del up
        diagonal = np.diag(inverse).copy()
        inverse /= (-diagonal)[None, :]
        inverse[np.diag_indices(n_items)] = 0.0
        self.inverse_diagonal_ = diagonal
        self.weights_ = inverse.astype(dtype, copy=False)


def _inverse_by_cholesky(feedback: sp.csr_matrix, reg: float, dtype) -> np.ndarray:
    """(X^T X + reg I)^{-1} by LAPACK's Cholesky factorisation and inverse (potrf, potri), in place.

    Half the flops of a general inverse (n^3 against 2n^3) on the one n x n matrix: the Gram matrix is
    built in Fortran order in ``dtype``, factorised and inverted where it lies; potri fills the lower
    triangle, mirrored to the upper one. The Gram matrix is symmetric positive definite for reg > 0.
    """
    from scipy.linalg import lapack

    n_items = feedback.shape[1]
    x = feedback.astype(np.float64).tocsc()
    rows = x.T.tocsr()
    # X^T X made dense a block of columns at a time, straight into the Fortran-ordered matrix LAPACK takes
    # (the whole sparse X^T X is never held: on dense catalogues it is as large as the matrix).
    gram = np.empty((n_items, n_items), dtype=dtype, order="F")
    for start in range(0, n_items, _GRAM_BLOCK):
        stop = min(n_items, start + _GRAM_BLOCK)
        gram[:, start:stop] = (rows @ x[:, start:stop]).toarray()
    gram[np.diag_indices(n_items)] += dtype(reg)
    potrf, potri = (lapack.spotrf, lapack.spotri) if dtype == np.float32 else (lapack.dpotrf, lapack.dpotri)
    factor, info = potrf(gram, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"the Gram matrix is not positive definite (potrf info {info})")
    inverse, info = potri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"the Cholesky factor is singular (potri info {info})")
    del gram, factor
    _mirror_lower_triangle(inverse)  # potri leaves the upper triangle as it was
    return inverse.T  # symmetric: the C-ordered view of the same array


#: Columns of X^T X made dense at once (EASE's Cholesky route) and of the triangle mirrored at once.
_GRAM_BLOCK = 512


def _mirror_lower_triangle(matrix: np.ndarray, block: int = _GRAM_BLOCK) -> None:
    """Copy the lower triangle onto the upper one in place, a block of columns at a time (bounded memory)."""
    n = matrix.shape[0]
    for start in range(0, n, block):
        stop = min(n, start + block)
        matrix[:start, start:stop] = matrix[start:stop, :start].T
        square = matrix[start:stop, start:stop]
        upper = np.triu_indices(stop - start, 1)
        square[upper] = square.T[upper]


def _inverse_through_users(feedback: sp.csr_matrix, reg: float, dtype, threads: int = 1,
                           block_rows: int = 2048) -> np.ndarray:
    """(X^T X + reg I)^{-1} through the users x users system, for fewer users than items (Woodbury).

    (reg I + X^T X)^{-1} = (I - X^T M X) / reg with M = (reg I + X X^T)^{-1}: one m x m Cholesky inverse
    (m users), ``M X`` as a sparse product, then X^T (M X) a block of rows at a time (sparse rows times the
    dense users x items ``M X``, float64; each block written into the result in ``dtype``). Exact, not an
    approximation: on Last.fm's 1.9k users x 17.6k items it replaces a 17.6k^3 inversion by a 1.9k^3 one
    and one multiply-add per stored rating and item.
    """
    from concurrent.futures import ThreadPoolExecutor
    from scipy.linalg import lapack

    n_users, n_items = feedback.shape
    x = feedback.astype(np.float64).tocsr()
    system = np.asfortranarray((x @ x.T).toarray())
    system[np.diag_indices(n_users)] += reg
    factor, info = lapack.dpotrf(system, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"the users x users system is not positive definite (potrf info {info})")
    small_inverse, info = lapack.dpotri(factor, lower=1, overwrite_c=1)
    del system, factor
    _mirror_lower_triangle(small_inverse)
    transposed = x.T.tocsr()  # items x users
    solved = np.ascontiguousarray((transposed @ small_inverse).T)  # M X, users x items (M is symmetric)
    del small_inverse
    inverse = np.empty((n_items, n_items), dtype=dtype)
    diagonal = 1.0 / reg

    def block(start):
        stop = min(n_items, start + block_rows)
        part = np.asarray(transposed[start:stop] @ solved)  # rows start:stop of X^T M X
        part *= -diagonal
        rows = np.arange(stop - start)
        part[rows, rows + start] += diagonal
        inverse[start:stop] = part  # disjoint row blocks: threads never write the same cells

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(block, range(0, n_items, block_rows)))
    return inverse


class _ImplicitFactorModel(FactorVectors, RankingModel):
    """Shared part of the two models fitted by the ``implicit`` package."""

    finite_state = ("user_factors_", "item_factors_")

    def memory_estimate(self, n_users, n_items, n_ratings):
        """Factors (float32 in implicit, float64 copies here) and the feedback matrix both ways."""
        return 12 * (int(self.factors) + 1) * (n_users + n_items) + 4 * memory.CSR_BYTES * n_ratings + 8 * 4_000_000

    has_item_embeddings = True
    has_user_embeddings = True
    reports_progress = True
    explains_by = "factors"

    def _score_rows(self, rows, user_idx):
        if user_idx is not None:
            return self.user_factors_[user_idx] @ self.item_factors_.T
        return np.vstack([self._fold_in_row(rows[r]) for r in range(rows.shape[0])])

    def _progress_callback(self, iterations: int):
        def callback(iteration, elapsed, *details):  # ALS passes the loss, BPR the correct/skipped shares
            loss = details[0] if details and isinstance(details[0], (int, float)) else None
            self._report((iteration + 1) / max(iterations, 1), f"iteration {iteration + 1} of {iterations}",
                         epoch=iteration + 1, n_epochs=iterations,
                         loss=None if loss is None else float(loss))

        return callback

    # Embeddings are the learnt factors and similar items their cosine: FactorVectors and the base class.


class ALS(_ImplicitFactorModel):
    """Implicit-feedback ALS through ``implicit.cpu.als.AlternatingLeastSquares``."""

    name = "als"
    family = "Ranking (implicit feedback)"
    formula = (
        r"\min_{p,q} \sum_{u,i} c_{ui}\,(p_{ui} - p_u^\top q_i)^2 + \lambda\big(\sum_u\|p_u\|^2 + \sum_i\|q_i\|^2\big),"
        r"\quad p_{ui} = [x_{ui} > 0],\ c_{ui} = \begin{cases}\alpha x_{ui} & x_{ui} > 0\\ 1 & \text{otherwise}\end{cases}"
    )
    explanation = (
        "Matrix factorisation for implicit feedback: every cell of the user x item matrix is a target (1 where you "
        "interacted, 0 elsewhere), cells you interacted with weigh alpha (the others 1). Alternating least squares solves "
        "all users, then all items, exactly, a few times. Scores are dot products; a new user is solved against "
        "the fixed item vectors."
    )
    params = (
        factors_param(),
        Param("regularization", "lambda: L2 penalty on the vectors.", low=0.0, high=100.0, step=0.01, fmt="%.3f",
              search=(0.001, 10.0), log=True),
        Param("alpha", "Confidence of an observed interaction, c = alpha x (unobserved cells weigh 1).", low=0.01,
              high=1000.0, step=1.0,
              search=(0.5, 50.0), log=True),
        Param("iterations", "ALS sweeps (users then items).", kind="int", low=1, high=100, step=1, search=(5, 30)),
        *feedback_params(),
        weighting_param(),
    )

    def __init__(self, factors: int = 64, regularization: float = 10.0, alpha: float = 1.0, iterations: int = 15,
                 feedback: str = "all", threshold: float | None = None, weighting: str = "auto",
                 random_state: int = 0):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.feedback = feedback
        self.threshold = threshold
        self.weighting = weighting
        self.random_state = random_state

    def implicit_model(self):
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(factors=int(self.factors), regularization=float(self.regularization),
                                       alpha=float(self.alpha), iterations=int(self.iterations),
                                       random_state=self.seed, num_threads=0)

    def _fit_matrix(self, feedback):
        with blas_single_thread():
            model = self.implicit_model()
            model.fit(feedback, show_progress=False, callback=self._progress_callback(int(self.iterations)))
        self.model_ = model
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float64)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float64)

    forgets_users = True
    forgets_exactly = False
    forget_explanation = (
        "the removed users' vectors are dropped and every item vector is solved again, exactly (implicit's "
        "Cholesky least squares, float32), against the remaining users' fixed vectors: one ALS half-step. "
        "Equal to that solve done in numpy to 1e-4 (float32). The other users' vectors are kept as fitted, so "
        "the removed users' influence through them stays (second order); a refit from scratch lands on another "
        "factorisation and is compared by its lists, not its scores. 0/1 feedback only; with count weightings it refits.")

    def _forget_matrix(self, gone, removed, keep):
        import copy

        model = self.model_ = copy.copy(self.model_)  # its factor attributes are replaced below, not changed
        model.user_factors = np.ascontiguousarray(np.asarray(model.user_factors)[keep])
        model._XtX = model._YtY = model._user_norms = model._item_norms = None
        with blas_single_thread():
            items = np.arange(self.feedback_.shape[1])
            model.item_factors = np.ascontiguousarray(
                model.recalculate_item(items, self.feedback_.T.tocsr().astype(np.float32)), dtype=model.dtype)
        model._XtX = model._YtY = model._user_norms = model._item_norms = None
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float64)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float64)

    def _fold_in_row(self, row):
        # implicit's own user recalculation: one least-squares solve against the fixed item factors.
        with blas_single_thread():
            vector = self.model_.recalculate_user(0, sp.csr_matrix(row, dtype=np.float32))
        return np.asarray(vector, dtype=np.float64).ravel() @ self.item_factors_.T


class BPR(_ImplicitFactorModel):
    """Bayesian personalised ranking through ``implicit.cpu.bpr.BayesianPersonalizedRanking``.

    Fitted on one thread: implicit's multi-threaded BPR updates shared vectors
    without locks (Hogwild), which makes the result depend on thread timing;
    one thread makes it reproducible with a seed.
    """

    name = "bpr"
    family = "Ranking (implicit feedback)"
    formula = (
        r"\max \sum_{(u,i,j)} \ln \sigma\big(p_u^\top q_i + b_i - p_u^\top q_j - b_j\big)"
        r" - \lambda\,\|\Theta\|^2,\quad i \in I_u,\ j \notin I_u"
    )
    explanation = (
        "Learns vectors so that, for each person, an item they took scores above an item they did not. Training "
        "samples (person, taken item, random other item) triples and nudges the vectors by stochastic gradient "
        "ascent on the log-likelihood of the right order. A new user's vector is fitted the same way against "
        "fixed item vectors."
    )
    params = (
        factors_param(),
        Param("learning_rate", "SGD step size.", low=0.0001, high=1.0, step=0.005, fmt="%.4f",
              search=(0.005, 0.2), log=True),
        Param("regularization", "L2 penalty on the vectors.", low=0.0, high=1.0, step=0.001, fmt="%.4f",
              search=(0.0001, 0.1), log=True),
        Param("iterations", "Passes over the interactions.", kind="int", low=1, high=1000, step=10,
              search=(20, 300), log=True),
        *feedback_params(),
        weighting_param(),
    )

    def __init__(self, factors: int = 64, learning_rate: float = 0.01, regularization: float = 0.01,
                 iterations: int = 100, feedback: str = "all", threshold: float | None = None,
                 weighting: str = "auto", random_state: int = 0):
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.feedback = feedback
        self.threshold = threshold
        self.weighting = weighting
        self.random_state = random_state

    def implicit_model(self):
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(factors=int(self.factors), learning_rate=float(self.learning_rate),
                                           regularization=float(self.regularization),
                                           iterations=int(self.iterations), random_state=self.seed,
                                           num_threads=1)

    def _fit_matrix(self, feedback):
        with blas_single_thread():
            model = self.implicit_model()
            model.fit(feedback, show_progress=False, callback=self._progress_callback(int(self.iterations)))
        self.model_ = model
        # implicit appends the item bias as the last factor (users carry a constant 1 there).
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float64)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float64)

    def item_embeddings(self):
        return self.item_factors_[:, :-1]

    def user_embeddings(self):
        return self.user_factors_[:, :-1]

    def item_similarity_rows(self, item_idx):
        from .base import cosine_rows

        return cosine_rows(self.item_factors_[:, :-1], np.asarray(item_idx))

    def _fold_in_row(self, row):
        """SGD on the BPR objective for the new user's vector only, item vectors fixed (seeded)."""
        items = row.indices
        factors = self.item_factors_
        rng = np.random.default_rng([self.seed, len(items)])
        vector = np.zeros(factors.shape[1])
        vector[-1] = 1.0  # the bias slot stays 1, as in implicit
        if len(items) == 0:
            return vector @ factors.T
        seen = np.zeros(factors.shape[0], dtype=bool)
        seen[items] = True
        rate, reg = float(self.learning_rate), float(self.regularization)
        for _ in range(max(50, int(self.iterations))):
            positive = rng.choice(items, size=len(items))
            negative = rng.integers(0, factors.shape[0], size=len(items))
            keep = ~seen[negative]
            for i, j in zip(positive[keep], negative[keep]):
                diff = factors[i] - factors[j]
                z = 1.0 / (1.0 + np.exp(vector @ diff))
                step = rate * (z * diff - reg * vector)
                step[-1] = 0.0
                vector += step
        return vector @ factors.T
