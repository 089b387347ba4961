"""From a data set to the feedback matrix ranking models learn from: the one home of feedback and weighting.

Ranking models (ALS, BPR, EASE, item-KNN cosine, RP3beta, the hybrid) learn
from *which* items a person interacted with, and how strongly. Two visible
parameters decide the matrix they read:

``feedback`` -- which rows count (explicit ratings only):

* ``"all"`` -- every rating is an interaction (rating a film means having
  watched it; on MovieLens this ranks best, because what people choose to
  watch is most of the signal);
* ``"positive"`` -- only ratings at or above ``threshold`` count (default:
  the evaluation's relevance threshold, 75% up the rating scale).

``weighting`` -- the value of each kept cell :math:`x_{ui}` (the rating, or the
count: plays, clicks), with :math:`N` items, :math:`n_u` the number of items
user :math:`u` has, :math:`L_i = \\sum_u x_{ui}` and :math:`\\bar L` its mean
over items (items are the documents and users the terms, as in the
``implicit`` package's ``BM25Recommender``, ``TFIDFRecommender`` and its
Last.fm example):

* ``"binary"`` -- :math:`w = 1` (what was taken, not how much);
* ``"raw"`` -- :math:`w = x` (the count itself: a few heavy listeners dominate);
* ``"log1p"`` -- :math:`w = \\log(1 + x)`: the confidence of Hu, Koren &
  Volinsky (2008), :math:`1 + \\alpha \\log(1 + x/\\varepsilon)` with
  :math:`\\varepsilon = 1` (ALS adds the 1 and multiplies by ``alpha``);
* ``"bm25"`` -- :math:`w = x (K_1 + 1) / (K_1 ((1 - B) + B L_i/\\bar L) + x)
  \\cdot (\\log N - \\log(1 + n_u))` with :math:`K_1 = 100, B = 0.8`: counts
  saturate, heavy users and very popular items weigh less (Robertson &
  Zaragoza 2009; ``implicit.nearest_neighbours.bm25_weight``);
* ``"tfidf"`` -- :math:`w = \\sqrt{x}\\,(\\log N - \\log(1 + n_u))`
  (``implicit.nearest_neighbours.tfidf_weight``);
* ``"auto"`` (the default) -- ``log1p`` for counts, ``binary`` for ratings and
  unary files (where every value is 1 and weighting changes nothing but the scale).
  Measured on the bundled sample's play counts (random 80/20, NDCG@10):
  log1p was the best or within 0.01 of the best weighting for als, ease,
  item-knn-cosine and rp3beta, BM25 0.01-0.07 below it
  (``benchmarks/implicit_feedback.py``).

Every weighting but ``binary`` is then divided by its mean over the stored
cells, so a typical interaction weighs 1 whatever the weighting: ALS's
``alpha`` and ``regularization``, the cosine's ``shrink`` and EASE's ``reg``
mean what they mean on 0/1 data (``implicit``'s functions leave the scale as
it is; the tests compare with them after the same division).

Rating-prediction models (SVD, the k-NN models, co-clustering, the
baselines, content k-NN) average or fit the values as ratings; on counts a
"rating" of 352,698 plays is nonsense, and on unary data every value is 1,
so they refuse both (:func:`check_feedback_kind`) with a sentence saying
which models fit.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..dataset import Dataset, default_relevance_threshold
from ..errors import FeedbackKindError

FEEDBACK_MODES = ("all", "positive")
WEIGHTINGS = ("auto", "binary", "raw", "log1p", "bm25", "tfidf")
#: What each weighting means, for forms and the CLI.
WEIGHTING_LABELS = {
    "auto": "automatic (log(1 + count) for counts, 0/1 otherwise)",
    "binary": "0/1 (taken or not)",
    "raw": "the value itself",
    "log1p": "log(1 + value)",
    "bm25": "BM25 (saturating, idf-weighted)",
    "tfidf": "TF-IDF (sqrt value x idf)",
}
#: BM25's saturation (K1) and length normalisation (B): the ``implicit`` package's defaults.
BM25_K1, BM25_B = 100.0, 0.8


def positive_threshold(dataset: Dataset, threshold: float | None) -> float:
    """The rating from which an interaction is positive (``None``: the relevance threshold)."""
    return default_relevance_threshold(dataset.rating_scale) if threshold is None else float(threshold)


def resolve_weighting(dataset: Dataset, weighting: str = "auto") -> str:
    """The weighting ``auto`` stands for on this data set (``log1p`` for counts, else ``binary``); others as given."""
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}, not {weighting!r}.")
    if weighting == "auto":
        return "log1p" if dataset.feedback_kind == "counts" else "binary"
    return weighting


def weigh(matrix: sp.spmatrix, weighting: str, k1: float = BM25_K1, b: float = BM25_B) -> sp.csr_matrix:
    """``matrix`` (users x items, the kept values) with its stored values weighted (float32 CSR).

    ``weighting`` is one of ``binary``, ``raw``, ``log1p``, ``bm25``, ``tfidf`` (see the module docstring;
    resolve ``auto`` with :func:`resolve_weighting` first).
    """
    out = sp.csr_matrix(matrix, dtype=np.float64, copy=True)
    out.sum_duplicates()
    values = out.data
    if weighting == "binary":
        values[:] = 1.0
    elif weighting == "raw":
        pass
    elif weighting == "log1p":
        np.log1p(values, out=values)
    elif weighting in ("bm25", "tfidf"):
        n_items = float(out.shape[1])
        user_items = np.diff(out.indptr)  # n_u: the "document frequency" of user u over the item documents
        idf = np.log(n_items) - np.log1p(user_items)
        row_of = np.repeat(np.arange(out.shape[0]), user_items)
        if weighting == "tfidf":
            out.data = np.sqrt(values) * idf[row_of]
        else:
            lengths = np.bincount(out.indices, weights=values, minlength=out.shape[1])  # L_i per item
            norm = (1.0 - b) + b * lengths / lengths.mean()
            out.data = values * (k1 + 1.0) / (k1 * norm[out.indices] + values) * idf[row_of]
    else:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS[1:])}, not {weighting!r}.")
    if weighting != "binary" and out.nnz:
        # Mean 1 over the stored cells: the models' additive hyper-parameters (ALS's alpha and regularisation,
        # the cosine's shrink, EASE's lambda) keep the meaning they have on 0/1 data. Unscaled, BM25 values in
        # the hundreds made a shrink of 10 negligible and items with one listener everyone's nearest neighbour.
        out.data /= out.data.mean()
    return out.astype(np.float32)


def interaction_matrix(dataset: Dataset, feedback: str = "all", threshold: float | None = None,
                       weighting: str = "binary") -> sp.csr_matrix:
    """Users x items matrix (float32) of the interactions that count as feedback, weighted.

    Parameters
    ----------
    dataset : Dataset
    feedback : {"all", "positive"}
    threshold : float, optional
        With ``feedback="positive"``: ratings ``>= threshold`` count.
    weighting : {"auto", "binary", "raw", "log1p", "bm25", "tfidf"}, default "binary"
        Value of each kept cell (see the module docstring).
    """
    if feedback not in FEEDBACK_MODES:
        raise ValueError(f"feedback must be one of {', '.join(FEEDBACK_MODES)}, not {feedback!r}.")
    weighting = resolve_weighting(dataset, weighting)
    matrix = dataset.matrix
    keep = np.ones(matrix.nnz, dtype=bool)
    if feedback == "positive" and not dataset.implicit:
        keep = matrix.data >= positive_threshold(dataset, threshold)
    coo = matrix.tocoo()
    kept = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=matrix.shape)
    return weigh(kept, weighting)


def fold_in_weight(feedback: sp.csr_matrix) -> float:
    """The value a new user's chosen item gets in their feedback row: the mean weight of the training cells.

    A new user has no counts the training weights could be computed from (BM25's idf is per user), so each of
    their items weighs what a typical training interaction weighs; with 0/1 feedback that is 1.
    """
    return float(feedback.data.mean()) if feedback.nnz else 1.0


def ratings_to_row(dataset: Dataset, item_idx: np.ndarray, ratings: np.ndarray, feedback: str = "all",
                   threshold: float | None = None, weight: float = 1.0) -> sp.csr_matrix:
    """A new user's ratings as a 1 x items feedback row, by the same rule as :func:`interaction_matrix`.

    Every kept item gets ``weight`` (see :func:`fold_in_weight`).
    """
    item_idx = np.asarray(item_idx, dtype=np.int64)
    ratings = np.asarray(ratings, dtype=np.float64)
    keep = np.ones(len(item_idx), dtype=bool)
    if feedback == "positive" and not dataset.implicit:
        keep = ratings >= positive_threshold(dataset, threshold)
    items = np.unique(item_idx[keep])
    return sp.csr_matrix((np.full(len(items), weight, dtype=np.float32), (np.zeros(len(items), dtype=np.int64), items)),
                         shape=(1, dataset.n_items))


#: The default models for implicit data (counts, unary lists, event logs): ranking models only, the reference
#: first. Read by the Train page and the CLI (one home).
DEFAULT_IMPLICIT_MODELS = ("popular", "ease", "als", "item-knn-cosine", "rp3beta", "bpr")


def implicit_models_sentence(dataset: Dataset, chosen: list[str]) -> str | None:
    """What implicit data means for the chosen models, in one paragraph (None for explicit ratings).

    Names the chosen models that predict ratings (a capability, read from the registry) and what happens
    to them on this kind: they refuse with a sentence (counts are no ratings; unary values are all 1) and
    the others' results stand.
    """
    if not dataset.implicit:
        return None
    from . import REGISTRY

    rating_models = [name for name in chosen if name in REGISTRY and REGISTRY[name].predicts_ratings]
    kind = "counts" if dataset.feedback_kind == "counts" else "implicit feedback"
    text = (f"This data holds {kind}: the default models are the ranking models "
            f"({', '.join(DEFAULT_IMPLICIT_MODELS)}), which learn which items people pick; every held-out "
            "interaction counts as relevant, and no RMSE/MAE is computed.")
    if not rating_models:
        return text
    verb = f"{', '.join(rating_models)} predict{'s' * (len(rating_models) == 1)} ratings"
    if dataset.feedback_kind == "counts":
        return (f"{text} {verb}: on counts they refuse with a sentence (a mean of play counts is no rating) and "
                "the other models' results stand.")
    return (f"{text} {verb}: here every interaction has the same value, so there is no rating to fit; they "
            "refuse with a sentence and the other models' results stand.")


def check_feedback_kind(model, dataset: Dataset) -> None:
    """Refuse implicit data for a model that predicts ratings, with a sentence saying why and what fits instead.

    On counts a mean or a rating scale of plays is nonsense; on unary data every value is 1, so a rating
    model has nothing to fit and ranks by noise (measured on the sample read as unary: svd 0.006 NDCG@10,
    knn-basic 0.045, baseline 0.011, against popular's 0.21).

    Raises
    ------
    FeedbackKindError
        When ``model`` predicts ratings and ``dataset`` holds counts or unary interactions.
    """
    if dataset.feedback_kind not in ("counts", "unary") or not getattr(model, "predicts_ratings_on", lambda _: model.predicts_ratings)(dataset):
        return
    low, high = dataset.rating_scale
    name = dataset.name.split(" [")[0]  # a split's part is named "data [hold-out train]": name the data
    if dataset.feedback_kind == "unary":
        raise FeedbackKindError(
            f"{model.name} predicts ratings, but '{name}' holds interactions without a value (one line, one "
            "interaction: every value is 1), so there is no rating to fit and its ranking would be noise. Use a "
            "ranking model (" + ", ".join(DEFAULT_IMPLICIT_MODELS) + ", lightfm, ...), which learn which items "
            "people pick, or load a value column with feedback 'ratings' if the file has ratings."
        )
    raise FeedbackKindError(
        f"{model.name} predicts ratings, but '{name}' holds counts ({low:g} to {high:g}: plays, clicks or "
        "quantities), which are interaction strengths, not ratings: a mean or a rating scale of them would score "
        "nonsense. Use a ranking model (" + ", ".join(DEFAULT_IMPLICIT_MODELS) + ", lightfm, ...), which weigh "
        "counts by their 'weighting' parameter, or load the file with feedback 'ratings' if the values are ratings."
    )
