"""Content-based k-NN: items compared by their text, ratings aggregated as in item-KNN.

Each item becomes a vector from its title, genres, description and tags:
TF-IDF (``content-tfidf``, scikit-learn) or a sentence embedding
(``content-sbert``, all-MiniLM-L6-v2, computed once per text). Similarity is
the cosine of those vectors; the rating estimate for (u, i) is the
similarity-weighted mean of u's ratings of the ``k`` rated items most similar
to i (positive similarities only). With no such item the estimate falls back
to the user's mean rating (documented, and counted as a fall-back by
``predict_indices`` only where the user has no ratings at all).

Unlike collaborative models, content models can score an item nobody has
rated, and a new user described by a sentence.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..dataset import Dataset
from .params import Param
from .base import Recommender
from .knn import KNN


class ContentKNN(KNN):
    name = "content-tfidf"
    family = "Content-based"
    representation = "tfidf"
    reads_text = True
    has_item_embeddings = True
    has_user_embeddings = True  # each user as the mean vector of the items they liked (user_embeddings)
    similarity_needs_support = False  # text similarity needs no co-raters
    forgets_users = False  # KNN's incremental path is for user-based co-rating similarities; this one refits
    formula = (
        r"\hat r_{ui} = \frac{\sum_{j \in N_u^k(i)} \cos(x_i, x_j)\, r_{uj}}{\sum_{j \in N_u^k(i)} \cos(x_i, x_j)},"
        r"\quad x_i = \text{TF-IDF}(\text{text}_i)"
    )
    explanation = (
        "Items are described by the words of their title, genres, description and tags, weighted by TF-IDF "
        "(frequent in this item, rare in the catalogue). Your predicted rating for an item is the average of your "
        "ratings of the k items whose text is most similar to it. It needs no other users, so it works for items "
        "nobody rated yet."
    )
    params = (
        Param("k", "Number of your rated items, most similar to the target, that are averaged.", kind="int",
              low=1, high=1000, step=5, search=(5, 100)),
        Param("min_k", "Fewer positive-similarity neighbours and the estimate falls back to your mean rating.",
              kind="int", low=1, high=100, step=1),
    )

    def __init__(self, k: int = 40, min_k: int = 1, max_dense: int = 6000, max_neighbours: int = 200,
                 random_state: int = 0):
        super().__init__(k=k, min_k=min_k, similarity="cosine", user_based=False,
                         max_dense=max_dense, max_neighbours=max_neighbours, random_state=random_state)

    def get_params(self):
        return {key: getattr(self, key) for key in ("k", "min_k", "max_dense", "max_neighbours", "random_state")}

    # ------------------------------------------------------------- vectors
    def _item_vectors(self, dataset: Dataset):
        from ..text import tfidf_vectors

        vectors, vectorizer = tfidf_vectors(list(dataset.item_text()))
        self.vectorizer_ = vectorizer
        return vectors

    def text_vector(self, text: str) -> np.ndarray:
        """A free-text query in the same space as the items (1 x dim, dense)."""
        self.check_fitted()
        vector = self.vectorizer_.transform([text])
        return np.asarray(vector.toarray())

    def _fit(self, dataset: Dataset) -> None:
        self.item_vectors_ = self._item_vectors(dataset)
        self.unit_vectors_ = None
        super()._fit(dataset)

    def _similarity_rows(self, rows: np.ndarray) -> np.ndarray:
        """Cosine of the given items' text vectors to every item's (KNN builds the dense or top-M matrix)."""
        if getattr(self, "unit_vectors_", None) is None:
            self.unit_vectors_ = _unit_rows(self.item_vectors_)
        unit = self.unit_vectors_
        if sp.issparse(unit):
            # TF-IDF stays sparse: its cosine is a sparse product, far cheaper than densifying the terms.
            return np.ascontiguousarray((unit[rows] @ unit.T).toarray())
        return np.ascontiguousarray(unit[rows] @ unit.T)

    # --------------------------------------------------------------- score
    # Pairs go through full score rows, where the user-mean fall-back lives.
    _predict_pairs = Recommender._predict_pairs

    def _score_users(self, user_idx):
        scores = super()._score_users(user_idx)
        # Fallback: the user's mean rating where no similar rated item exists (the user is known).
        user_means = self._user_means()[user_idx]
        known = self.known_y_[user_idx]
        fill = np.where(known, user_means, np.nan)[:, None]
        scores = np.where(np.isnan(scores), fill, scores)
        return scores

    # Unlike item-KNN, content can score items nobody rated.
    _mask_unknown_items = False

    def _user_means(self) -> np.ndarray:
        if not hasattr(self, "user_means_"):
            counts = np.diff(self.y_indptr_)
            # bincount over each rating's owner, not np.add.reduceat: reduceat fails on a start index equal to
            # the array length, which is what users without training ratings at the end of a fold produce.
            owners = np.repeat(np.arange(len(counts)), counts)
            sums = np.bincount(owners, weights=self.y_ratings_, minlength=len(counts))
            self.user_means_ = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        return self.user_means_

    def fold_in_with_support(self, item_idx, ratings):
        item_idx = np.asarray(item_idx, dtype=np.int64)
        ratings = np.asarray(ratings, dtype=np.float64)
        support: list = []
        block, columns = self._member_block(item_idx)
        scores = self._aggregate(block, None, columns, ratings, item_idx, np.arange(self.n_x_), None,
                                 support=support)
        return np.where(np.isnan(scores), ratings.mean(), scores), support[0]

    # ----------------------------------------------------------- vectors out
    def _instance_capabilities(self):
        return {}  # the text vectors exist whatever the k-NN settings (KNN's similarity-row rule does not apply)

    def item_embeddings(self):
        return self.item_vectors_

    def item_similarity_rows(self, item_idx):
        return self._sim_rows(np.asarray(item_idx))

    def user_embeddings(self):
        """Each user as the mean vector of the items they rated above their own mean."""
        dataset = self.check_fitted()
        matrix = dataset.matrix
        means = self._user_means()
        coo = matrix.tocoo()
        liked = coo.data >= np.nan_to_num(means[coo.row], nan=np.inf)
        weights = sp.csr_matrix((np.ones(liked.sum()), (coo.row[liked], coo.col[liked])), shape=matrix.shape)
        counts = np.maximum(np.asarray(weights.sum(axis=1)).ravel(), 1)
        profile = sp.diags(1.0 / counts) @ weights @ self.item_vectors_
        return profile.toarray() if sp.issparse(profile) else np.asarray(profile)


class ContentSBERT(ContentKNN):
    name = "content-sbert"
    representation = "sbert"
    reports_progress = True
    fit_note = ("loads a language model and encodes every item text: the first time takes about a minute, "
                "later runs reuse the cached vectors.")
    formula = (
        r"\hat r_{ui} = \frac{\sum_{j \in N_u^k(i)} \cos(e_i, e_j)\, r_{uj}}{\sum_{j \in N_u^k(i)} \cos(e_i, e_j)},"
        r"\quad e_i = \text{MiniLM}(\text{text}_i) \in \mathbb{R}^{384}"
    )
    explanation = (
        "Like the TF-IDF content model, but each item's text is turned into a 384-dimensional sentence embedding "
        "by the all-MiniLM-L6-v2 language model, so 'starship' and 'spacecraft' count as similar even though "
        "they share no word. Embeddings are computed once per text and cached."
    )

    def _item_vectors(self, dataset: Dataset):
        from ..text import encode_texts as encode

        def progress(done: int, total: int) -> None:
            self._report(done / max(total, 1), f"encoding item texts {done:,} of {total:,} (first time only)")

        return encode(list(dataset.item_text()), progress=progress)

    def text_vector(self, text: str) -> np.ndarray:
        from ..text import encode_texts as encode

        self.check_fitted()
        return np.asarray(encode([text]))

    def _top_neighbour_dense_blocks(self, keep: int):
        """Each item's ``keep`` most similar items: exact blocks, or the approximate index from
        :data:`recsys_core.ann.EXACT_BELOW` items on (n x n cosines are ~1.4 TFLOP at 60k items).

        Same pieces as the exact path (positive similarities, columns ascending,
        the item itself at 1.0); similar items and scoring read them from ``sim_``.
        """
        from .. import ann

        n = self.n_x_
        if n < ann.EXACT_BELOW:
            yield from super()._top_neighbour_dense_blocks(keep)
            return
        seed = self.seed
        index = ann.VectorIndex.build(self.item_vectors_, seed=seed)
        block = 4096
        for start in range(0, n, block):
            rows = np.arange(start, min(start + block, n))
            ids, sims = index.query(self.item_vectors_[rows], keep)
            sims = sims.astype(np.float64)
            # The item itself, at 1.0 as on the exact path; where the index missed it, in place of the last.
            is_self = ids == rows[:, None]
            missed = ~is_self.any(axis=1)
            ids[missed, -1] = rows[missed]
            is_self[missed, -1] = True
            sims[is_self] = 1.0
            valid = (ids >= 0) & (sims > 0)
            columns = np.where(valid, ids, n)
            order = np.argsort(columns, axis=1, kind="stable")
            columns, sims, valid = (np.take_along_axis(a, order, axis=1) for a in (columns, sims, valid))
            self._report(rows[-1] / n, f"neighbours of {rows[-1] + 1:,} of {n:,} (approximate index)")
            yield valid.sum(axis=1), columns[valid], sims[valid]


def _unit_rows(vectors):
    """Rows scaled to unit length (zero rows stay zero), in float64 for the compiled k-NN kernel."""
    if sp.issparse(vectors):
        vectors = sp.csr_matrix(vectors, dtype=np.float64)
        norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return (sp.diags(1.0 / norms) @ vectors).tocsr()
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    return vectors / norms[:, None]
