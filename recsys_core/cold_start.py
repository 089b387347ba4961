"""Cold start: recommendations for people and items the models were not fitted on.

A new user can be described by

* **a few ratings** -- folded into each fitted model without refitting
  (:meth:`Recommender.fold_in`): SVD solves the user's bias and factors
  against the fixed item factors, k-NN and content models use the ratings
  directly as neighbours, co-clustering assigns the nearest user cluster,
  BaselineOnly fits the user's bias;
* **a sentence of free text** -- models that read text (``reads_text``)
  compare it with every item's text in their own space; the others take the
  items whose text is closest *in meaning* to the sentence (sentence
  embeddings of title, genres, tags and description, all-MiniLM-L6-v2; TF-IDF
  only where the sentence model is not installed) as if the user had rated
  them highly, and fold those in;
* **demographics only** -- the training users with the same attributes
  stand in: each model's scores are averaged over them.

A new item is placed by its text among the catalogue's items.
Every answer carries a short reason per recommendation (each model's own
``explain`` hook), a model that cannot serve a query says why
(:class:`~recsys_core.errors.ColdStartError`), and a model whose list would
not depend on the input says so (``cannot_personalise``). Nothing here asks
which model it holds, only what it can do.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from . import ann
from .ann import VectorIndex
from .dataset import Dataset, default_relevance_threshold
from .errors import ColdStartError, DataValidationError
from .models import Recommender
from .models.base import rank_top_n


@dataclass
class ColdStartAnswer:
    """One model's answer: ranked recommendations with reasons, or why it cannot answer."""

    model: str
    recommendations: pd.DataFrame | None
    note: str | None = None
    #: The model's score of every catalogue item for this new user, and the items they liked (what a
    #: re-ranker needs to re-order the list: :func:`recsys_core.reranking.rerank_new_user`); None for items.
    scores: np.ndarray | None = None
    liked: np.ndarray | None = None
    #: False when ``scores`` is not a predicted rating (text similarity, the personal part, a placement from
    #: attributes): the answer ranked it unclipped, and a re-ranker must too (clipping would tie it).
    on_rating_scale: bool = True


def ratings_to_indices(dataset: Dataset, ratings: Mapping[object, float]) -> tuple[np.ndarray, np.ndarray]:
    """Raw item id -> rating into index and rating arrays, checked against the catalogue and scale."""
    if not ratings:
        raise ColdStartError("Rate at least one item to describe the new user.")
    items = dataset.item_indices(list(ratings))
    unknown = [raw for raw, idx in zip(ratings, items) if idx < 0]
    if unknown:
        raise ColdStartError(f"Items not in the catalogue: {', '.join(map(str, unknown[:5]))}.")
    values = np.array([float(v) for v in ratings.values()])
    low, high = dataset.rating_scale
    if ((values < low) | (values > high)).any():
        raise DataValidationError(f"Ratings must lie between {low:g} and {high:g}.")
    return np.asarray(items, dtype=np.int64), values


def _rank(model: Recommender, scores: np.ndarray, n: int, exclude: np.ndarray,
          support: np.ndarray | None = None) -> np.ndarray:
    """Top-n by score; equal scores by more evidence (``support``), then the model's seeded tie-break."""
    mask = np.zeros((1, len(scores)), dtype=bool)
    mask[0, exclude] = True
    if model.predicts_ratings:
        scores = np.clip(scores, *model.dataset_.rating_scale)
    tie_break = model.tie_break_
    if support is not None:
        order = np.lexsort((model.tie_break_, -np.nan_to_num(support, nan=0.0)))
        tie_break = np.empty_like(order)
        tie_break[order] = np.arange(len(order))
    top = rank_top_n(scores[None, :], n, tie_break, mask)[0]
    return top[(top >= 0) & np.isfinite(scores[np.maximum(top, 0)])]


#: How a rating-prediction model's list for a new user is ordered (one home: the page's choice and the CLI).
RANK_BY = {
    "prediction": "the predicted rating",
    "personal": "the personal part (the prediction minus the item's bias)",
}
RANK_BY_EXPLANATION = (
    "A rating-prediction model such as svd predicts mean + your bias + the item's bias + a personal part. "
    "Folded in from a few seeds, the item's bias (what everybody rates highly) often outweighs the personal "
    "part, so the plain ranking shows the same well-liked items to everyone. Ranking by the personal part "
    "leaves the item's bias out and keeps what the model learnt about your taste; your own bias is the same "
    "for every item and changes no order. Only models with learnt item biases have that split (svd, svdpp; "
    "a baseline has no personal part at all); the others rank by the predicted rating and say so.")


def personal_scores(model: Recommender, scores: np.ndarray) -> np.ndarray | None:
    """A new user's predicted ratings minus the model's item biases (the personal part, up to the user's
    constant), or None for a model without learnt item biases."""
    biases = model.item_biases()
    return None if biases is None else np.asarray(scores, dtype=np.float64) - np.asarray(biases, dtype=np.float64)


def _answer(model: Recommender, label: str, scores: np.ndarray, n: int, rated: np.ndarray,
            rated_values: np.ndarray, support: np.ndarray | None = None,
            rank_by: str = "prediction") -> ColdStartAnswer:
    if rank_by not in RANK_BY:
        raise ValueError(f"rank_by is one of {', '.join(RANK_BY)}, not {rank_by!r}.")
    part = personal_scores(model, scores) if rank_by == "personal" and model.predicts_ratings else None
    personal = part is not None
    if personal:
        finite = part[np.isfinite(part)]
        if len(finite) and np.ptp(finite) < 1e-9:
            return ColdStartAnswer(label, None, f"{label} has no personal part: with the item biases left out, "
                                   "every item scores the same for a new user.")
        top = _rank(_Unclipped(model), part, n, rated, support)
    else:
        top = _rank(model, scores, n, rated, support)
    if len(top) == 0:
        return ColdStartAnswer(label, None, "This model could not score any item for this user.")
    frame = model.items_frame(top, np.clip(scores[top], *model.dataset_.rating_scale) if model.predicts_ratings else scores[top])
    if personal:
        frame["personal part"] = part[top]
    frame["reason"] = model.explain(top, rated, rated_values, scores)
    note = model.cannot_personalise(rated, rated_values)
    ranked = None
    if personal:
        ranked = "Ranked by the personal part: the prediction minus the model's item biases."
    elif rank_by == "personal" and model.predicts_ratings:
        ranked = f"{label} has no learnt item biases to leave out: ranked by the predicted rating."
    if ranked:
        note = f"{ranked} {note}" if note else ranked
    return ColdStartAnswer(label, frame, note, scores=part if personal else scores,
                           liked=_liked(model.dataset_, rated, rated_values), on_rating_scale=not personal)


def _liked(dataset: Dataset, rated: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The given items the new user liked (at the relevance threshold; all of them when none is)."""
    rated = np.asarray(rated, dtype=np.int64)
    if dataset.implicit or not len(rated):
        return rated
    liked = rated[np.asarray(values) >= default_relevance_threshold(dataset.rating_scale)]
    return liked if len(liked) else rated


def from_ratings(model: Recommender, ratings: Mapping[object, float], n: int = 10, label: str | None = None,
                 rank_by: str = "prediction") -> ColdStartAnswer:
    """Recommendations for a new user who gave ``ratings`` (raw item id -> rating).

    ``rank_by``: a key of :data:`RANK_BY`; ``"personal"`` orders a rating-prediction model's list by the
    prediction minus the item biases (other models rank as they do).
    """
    label = label or model.name
    dataset = model.check_fitted()
    items, values = ratings_to_indices(dataset, ratings)
    try:
        scores, support = model.fold_in_with_support(items, values)
    except ColdStartError as error:
        return ColdStartAnswer(label, None, str(error))
    return _answer(model, label, np.asarray(scores, dtype=float), n, items, values, support, rank_by)


def text_scores(dataset: Dataset, text: str, model: Recommender | None = None) -> np.ndarray:
    """Similarity of a sentence to every item: in a content model's space, else by TF-IDF."""
    if not text or not text.strip():
        raise ColdStartError("Type a sentence describing what the new user likes.")
    if model is not None and model.reads_text:
        query = np.asarray(model.text_vector(text), dtype=float)
        vectors = model.item_embeddings()
        import scipy.sparse as sp

        if sp.issparse(vectors):
            norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
            raw = np.asarray(vectors @ query.ravel()).ravel()
        else:
            norms = np.linalg.norm(vectors, axis=1)
            raw = vectors @ query.ravel()
        norms[norms == 0] = 1.0
        return raw / (norms * max(np.linalg.norm(query), 1e-12))
    return meaning_scores(dataset, text)[0]


def meaning_scores(dataset: Dataset, text: str) -> tuple[np.ndarray, str]:
    """Cosine of a sentence to every item's text by meaning, and how it was measured.

    Sentence embeddings (all-MiniLM-L6-v2) of each item's title + genres + tags
    + description, computed once per text and cached on disk; where the
    sentence model is not installed, TF-IDF word overlap (``"words"``).

    From :data:`recsys_core.ann.EXACT_BELOW` items on, only the
    :data:`MEANING_CANDIDATES` items an approximate index finds closest to the
    sentence, and as many it finds least close, get their cosine; every other
    item gets ``-inf`` (see :func:`_meaning_candidates`).
    """
    if not text or not text.strip():
        raise ColdStartError("Type a sentence describing what the new user likes.")
    try:
        vectors = _catalogue_meaning(dataset)
    except ImportError:
        vectors = None
    if vectors is None:
        tfidf, vectorizer = _catalogue_tfidf(dataset)
        return np.asarray((tfidf @ vectorizer.transform([text]).T).toarray()).ravel(), "words"
    from .text import encode_texts

    query = np.asarray(encode_texts([text]), dtype=np.float64).ravel()
    if len(vectors) >= ann.EXACT_BELOW:
        return _meaning_candidates(dataset, vectors, query), "meaning"
    norms = np.linalg.norm(vectors, axis=1)
    norms[norms == 0] = 1.0
    return vectors @ query / (norms * max(np.linalg.norm(query), 1e-12)), "meaning"


#: Items given a score by meaning_scores on large catalogues, at each end (closest and least close).
MEANING_CANDIDATES = 500


def _meaning_candidates(dataset: Dataset, vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Cosine of the sentence to the approximate index's closest and least close items, ``-inf`` elsewhere.

    The least close are the nearest neighbours of ``-query`` (a cosine is an
    inner product of unit vectors): models that need contrast fold them in as
    disliked. Candidates' cosines are computed exactly, as below the threshold.
    """
    index = _MEANING_INDEX.get(dataset.fingerprint)
    if index is None:
        # Kept per data set: VectorIndex.build hashes all vectors, too slow to repeat per sentence.
        if len(_MEANING_INDEX) > 8:
            _MEANING_INDEX.clear()
        index = _MEANING_INDEX[dataset.fingerprint] = VectorIndex.build(vectors, seed=0)
    ids, _ = index.query(np.stack([query, -query]), MEANING_CANDIDATES)
    ids = np.unique(ids[ids >= 0])
    norms = np.linalg.norm(vectors[ids], axis=1)
    norms[norms == 0] = 1.0
    scores = np.full(len(vectors), -np.inf)
    scores[ids] = vectors[ids] @ query / (norms * max(np.linalg.norm(query), 1e-12))
    return scores


_TFIDF_CACHE: dict[str, tuple] = {}
_MEANING_CACHE: dict[str, np.ndarray] = {}
_MEANING_INDEX: dict[str, VectorIndex] = {}


def _catalogue_meaning(dataset: Dataset) -> np.ndarray:
    """Sentence embeddings of the catalogue's texts, once per data set (the encoder also caches per text)."""
    if dataset.fingerprint not in _MEANING_CACHE:
        from .text import encode_texts

        if len(_MEANING_CACHE) > 8:
            _MEANING_CACHE.clear()
        _MEANING_CACHE[dataset.fingerprint] = np.asarray(encode_texts(list(dataset.item_text())), dtype=np.float64)
    return _MEANING_CACHE[dataset.fingerprint]


def _catalogue_tfidf(dataset: Dataset):
    """TF-IDF of the catalogue's text, once per data set (a pure function of it)."""
    if dataset.fingerprint not in _TFIDF_CACHE:
        from .text import tfidf_vectors

        if len(_TFIDF_CACHE) > 8:
            _TFIDF_CACHE.clear()
        _TFIDF_CACHE[dataset.fingerprint] = tfidf_vectors(list(dataset.item_text()))
    return _TFIDF_CACHE[dataset.fingerprint]


def from_text(model: Recommender, text: str, n: int = 10, label: str | None = None, seeds: int = 5,
              rank_by: str = "prediction") -> ColdStartAnswer:
    """Recommendations for a new user described by a sentence of taste (``rank_by`` as for :func:`from_ratings`)."""
    label = label or model.name
    dataset = model.check_fitted()
    if model.reads_text:
        scores = text_scores(dataset, text, model)
        top = _rank(_Unclipped(model), scores, n, np.array([], dtype=np.int64))
        frame = model.items_frame(top, scores[top], score_name="score")
        frame["reason"] = [f"text similarity {scores[i]:.2f}" + _what_matched(text, dataset, i) for i in top]
        return ColdStartAnswer(label, frame, scores=np.where(np.isfinite(scores), scores, np.nan), on_rating_scale=False,
                               liked=np.zeros(0, dtype=np.int64))
    matches, how = meaning_scores(dataset, text)
    order = np.argsort(-matches, kind="stable")
    liked = text_seeds(dataset, matches, seeds * (2 if model.fold_in_needs_contrast else 1))
    if not len(liked):
        return ColdStartAnswer(label, None, "No item's text is close to this sentence, so there is nothing to start from.")
    low, high = dataset.rating_scale
    # A model that needs contrast also gets the least similar items as disliked (see fold_in_needs_contrast);
    # on large catalogues only candidates have a score (meaning_scores), the rest are -inf and not "least close".
    scored = order[np.isfinite(matches[order])]
    disliked = scored[::-1][: len(liked)] if model.fold_in_needs_contrast else order[:0]
    seed_items = np.concatenate([liked, disliked])
    seed_ratings = np.concatenate([np.full(len(liked), high), np.full(len(disliked), low)])
    try:
        scores, support = model.fold_in_with_support(seed_items, seed_ratings)
    except ColdStartError as error:
        return ColdStartAnswer(label, None, str(error))
    answer = _answer(model, label, np.asarray(scores, float), n, seed_items, seed_ratings, support, rank_by)
    if answer.recommendations is not None:
        titles = ", ".join(f"“{t}” ({matches[i]:.2f})" for t, i in zip(dataset.titles(seed_items[:3]), seed_items[:3]))
        closeness = "closest in meaning" if how == "meaning" else "sharing the most words"
        note = (f"{label} cannot read text: it starts from the {len(liked)} items whose descriptions are {closeness} "
                f"to the sentence among those enough people interacted with ({titles}…), as if rated {high:g}"
                + (f", and the {len(disliked)} least close as if rated {low:g}." if len(disliked) else "."))
        answer.note = f"{note} {answer.note}" if answer.note else note
    return answer


#: Seeds of a sentence for models that cannot read text are picked among this many times as many items
#: closest in meaning, ...
SEED_POOL = 3  # wider pools reach the blockbusters, whose k-NN neighbours cross genres (knn-basic item-based)
#: ... by meaning x evidence n / (n + SEED_EVIDENCE), n the item's number of training interactions.
SEED_EVIDENCE = 10.0


def text_seeds(dataset: Dataset, matches: np.ndarray, count: int) -> np.ndarray:
    """The items a collaborative model starts from for a sentence: close in meaning *and* known to the model.

    An obscure item whose text fits the sentence best (one rater, a 1959 "Journey to the Center of the Earth"
    for "space exploration") has a barely trained vector and noise for neighbours; weighting the meaning of
    the ``SEED_POOL * count`` closest items by ``n / (n + SEED_EVIDENCE)`` lets the well-known ones of them
    lead. Items without a positive match are never seeds.
    """
    order = np.argsort(-matches, kind="stable")
    pool = order[: max(1, int(count)) * SEED_POOL]
    pool = pool[np.isfinite(matches[pool]) & (matches[pool] > 0)]
    evidence = dataset.item_counts[pool] / (dataset.item_counts[pool] + SEED_EVIDENCE)
    return pool[np.argsort(-(matches[pool] * evidence), kind="stable")][: int(count)]


class _Unclipped:
    """Adapter so similarity scores are ranked without clipping to the rating scale."""

    predicts_ratings = False

    def __init__(self, model: Recommender):
        self.tie_break_ = model.tie_break_
        self.dataset_ = model.dataset_


def _what_matched(text: str, dataset: Dataset, item: int) -> str:
    """The query's words found in an item's genres, tags or text, else the item's genres."""
    import re

    words = {w for w in re.findall(r"[a-z]{4,}", text.lower())}
    genres = str(dataset.items["genres"].iloc[item]) if "genres" in dataset.items.columns else ""
    genres = "" if genres in ("nan", "None") else genres
    item_words = set(re.findall(r"[a-z]{4,}", str(dataset.item_text().iloc[item]).lower()))
    shared = sorted(words & item_words)[:4]
    if shared:
        return f"; shares “{', '.join(shared)}”"
    return f"; close in meaning (genres: {genres.replace('|', ', ')})" if genres else "; close in meaning"


DEMOGRAPHIC_COLUMNS = ("age", "gender", "occupation")


def matching_users(dataset: Dataset, demographics: Mapping[str, object]) -> np.ndarray:
    """Training users who match the given attributes (age within 5 years; others equal)."""
    users = dataset.users
    if not demographics:
        raise ColdStartError("Choose at least one attribute (age, gender, occupation...).")
    missing = [c for c in demographics if c not in users.columns]
    if missing:
        raise ColdStartError(f"The data set has no user attribute {', '.join(missing)}.")
    mask = np.ones(len(users), dtype=bool)
    for column, value in demographics.items():
        if value is None or value == "":
            continue
        if column == "age":
            ages = pd.to_numeric(users[column], errors="coerce").to_numpy()
            try:
                age = float(value)
            except (TypeError, ValueError):
                raise ColdStartError(f"Age must be a number of years, not {value!r}.") from None
            if not np.isfinite(age):
                raise ColdStartError(f"Age must be a number of years, not {value!r}.")
            mask &= np.abs(ages - age) <= 5
        else:
            mask &= users[column].astype(str).str.lower().to_numpy() == str(value).lower()
    mask &= dataset.user_counts > 0
    return np.flatnonzero(mask)


def from_demographics(model: Recommender, demographics: Mapping[str, object], n: int = 10,
                      label: str | None = None, max_users: int = 200) -> ColdStartAnswer:
    """Recommendations for a new user known only by attributes: the mean scores of look-alike users."""
    label = label or model.name
    dataset = model.check_fitted()
    description = ", ".join(f"{k} {v}" for k, v in demographics.items() if v not in (None, ""))
    fallback = None
    if model.can("new_user_features"):
        # The model places the user from the attributes themselves (its user features), not from look-alikes.
        try:
            scores = np.asarray(model.demographic_scores(demographics), dtype=np.float64)
        except ColdStartError as error:
            fallback = f"{error} Training users with the same attributes stand in."
        else:
            top = _rank(_Unclipped(model), scores, n, np.array([], dtype=np.int64))
            frame = model.items_frame(top, scores[top])
            frame["reason"] = f"placed from your attributes ({description}) by the model's user features"
            return ColdStartAnswer(label, frame, None, scores=scores, liked=np.zeros(0, dtype=np.int64),
                                   on_rating_scale=False)
    peers = matching_users(dataset, demographics)
    if len(peers) == 0:
        return ColdStartAnswer(label, None, "No training user has these attributes; widen the description.")
    peers = peers[:max_users]
    with np.errstate(all="ignore"):
        scores = np.nanmean(model.score_users(peers), axis=0)
    top = _rank(model, scores, n, np.array([], dtype=np.int64))
    if len(top) == 0:
        return ColdStartAnswer(label, None, "This model could not score any item for these users.")
    frame = model.items_frame(top, scores[top])
    likers = (dataset.matrix[peers][:, top] >= default_relevance_threshold(dataset.rating_scale)).sum(axis=0)
    frame["reason"] = [f"{int(c)} of {len(peers)} users like you ({description}) rated it highly" for c in np.asarray(likers).ravel()]
    return ColdStartAnswer(label, frame, fallback if model.personalises else
                           f"{label} gives everyone the same list; the look-alike users do not change it.",
                           scores=scores, liked=np.zeros(0, dtype=np.int64))


def similar_to_new_item(model: Recommender, text: str, n: int = 10) -> pd.DataFrame:
    """Catalogue items closest to a new item described by ``text`` (content models, else TF-IDF)."""
    dataset = model.check_fitted()
    scores = text_scores(dataset, text, model if model.reads_text else None)
    top = _rank(_Unclipped(model), scores, n, np.array([], dtype=np.int64))
    return model.items_frame(top, scores[top], score_name="similarity")


def from_sequence(model: Recommender, item_ids, n: int = 10, label: str | None = None) -> ColdStartAnswer:
    """Recommendations for a new user given as what they just took, in order (oldest first).

    A model that reads order (``uses_order``: GRU4Rec, SASRec) runs the list through its network and answers
    what comes *next*; every other model that folds in takes the same items as an unordered set, each as if
    rated at the top of the scale, so the two answers side by side show what the order adds.
    """
    label = label or model.name
    dataset = model.check_fitted()
    item_ids = list(item_ids)
    if not item_ids:
        raise ColdStartError("Pick at least one item, in the order they were watched.")
    items = dataset.item_indices(item_ids)
    unknown = [raw for raw, idx in zip(item_ids, items) if idx < 0]
    if unknown:
        raise ColdStartError(f"Items not in the catalogue: {', '.join(map(str, unknown[:5]))}.")
    items = np.asarray(list(dict.fromkeys(np.asarray(items, dtype=np.int64).tolist())), dtype=np.int64)
    high = dataset.rating_scale[1]
    values = np.full(len(items), float(high))
    if model.can("uses_order"):
        try:
            scores = np.asarray(model.fold_in_sequence(items), dtype=float)
        except ColdStartError as error:
            return ColdStartAnswer(label, None, str(error))
        answer = _answer(model, label, scores, n, items, values)
        last = dataset.titles(items[-1:])[0]
        note = f"Read in order: what comes after “{last}”."
        truncated = model.sequence_note(len(items))
        note = f"{note} {truncated}" if truncated else note
    else:
        try:
            scores, support = model.fold_in_with_support(items, values)
        except ColdStartError as error:
            return ColdStartAnswer(label, None, str(error))
        answer = _answer(model, label, np.asarray(scores, dtype=float), n, items, values, support)
        note = (f"{label} does not read order: the {len(items)} items are one unordered set (each as if rated "
                f"{high:g}), so any order of them gives this same list.")
    answer.note = f"{note} {answer.note}" if answer.note else note
    return answer
