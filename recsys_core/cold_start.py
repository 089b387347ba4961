"""Cold start: recommendations for people and items the models were not fitted on.

A new user can be described by

* **a few ratings** -- folded into each fitted model without refitting
  (:meth:`Recommender.fold_in`): SVD solves the user's bias and factors
  against the fixed item factors, k-NN and content models use the ratings
  directly as neighbours, co-clustering assigns the nearest user cluster,
  BaselineOnly fits the user's bias;
* **a sentence of free text** -- content models compare it with every item's
  text; the other models take the items that best match the sentence (by
  TF-IDF) as if the user had rated them highly, and fold those in;
* **demographics only** -- the training users with the same attributes
  stand in: each model's scores are averaged over them.

A new item is placed by its text among the catalogue's items.
Every answer carries a short reason per recommendation, and a model that
cannot serve a query says why (:class:`~recsys_core.errors.ColdStartError`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from .dataset import Dataset
from .errors import ColdStartError, DataValidationError
from .models import Recommender
from .models.base import rank_top_n


@dataclass
class ColdStartAnswer:
    """One model's answer: ranked recommendations with reasons, or why it cannot answer."""

    model: str
    recommendations: pd.DataFrame | None
    note: str | None = None


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


def _because_of_rated(model: Recommender, top: np.ndarray, rated: np.ndarray) -> list[str] | None:
    """For each recommended item, the rated item closest to it in the model's item space."""
    dataset = model.dataset_
    try:
        similarity = model.item_similarity_rows(rated)
    except (NotImplementedError, ColdStartError):
        similarity = None
    if similarity is None:
        return None
    similarity = np.asarray(similarity)[:, top]
    closest = np.argmax(similarity, axis=0)
    titles = dataset.titles(rated[closest])
    return [f"like “{title}” (similarity {value:.2f})" for title, value in zip(titles, similarity[closest, np.arange(len(top))])]


def _reasons(model: Recommender, top: np.ndarray, rated: np.ndarray, rated_values: np.ndarray,
             scores: np.ndarray) -> list[str]:
    dataset = model.dataset_
    if model.name == "popular":
        return [f"rated by {dataset.item_counts[i]} users" for i in top]
    if model.name == "global-mean":
        return ["every item gets the global mean" for _ in top]
    if model.name == "baseline":
        return ["high item bias (liked by most raters)" for _ in top]
    if model.name == "coclustering":
        cluster = model.nearest_user_cluster(rated, rated_values)[0] if len(rated) else "?"
        return [f"your nearest user cluster ({cluster}) rates item cluster {model.item_cluster_[i]} highly" for i in top]
    reasons = _because_of_rated(model, top, rated) if len(rated) else None
    return reasons or [f"predicted {scores[i]:.2f}" for i in top]


def _answer(model: Recommender, label: str, scores: np.ndarray, n: int, rated: np.ndarray,
            rated_values: np.ndarray, support: np.ndarray | None = None) -> ColdStartAnswer:
    top = _rank(model, scores, n, rated, support)
    if len(top) == 0:
        return ColdStartAnswer(label, None, "This model could not score any item for this user.")
    frame = model._frame(top, np.clip(scores[top], *model.dataset_.rating_scale) if model.predicts_ratings else scores[top])
    frame["reason"] = _reasons(model, top, rated, rated_values, scores)
    return ColdStartAnswer(label, frame)


def from_ratings(model: Recommender, ratings: Mapping[object, float], n: int = 10, label: str | None = None) -> ColdStartAnswer:
    """Recommendations for a new user who gave ``ratings`` (raw item id -> rating)."""
    label = label or model.name
    dataset = model._check_fitted()
    items, values = ratings_to_indices(dataset, ratings)
    try:
        scores, support = model.fold_in_with_support(items, values)
    except ColdStartError as error:
        return ColdStartAnswer(label, None, str(error))
    return _answer(model, label, np.asarray(scores, dtype=float), n, items, values, support)


def text_scores(dataset: Dataset, text: str, model: Recommender | None = None) -> np.ndarray:
    """Similarity of a sentence to every item: in a content model's space, else by TF-IDF."""
    if not text or not text.strip():
        raise ColdStartError("Type a sentence describing what the new user likes.")
    if model is not None and hasattr(model, "text_vector"):
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
    vectors, vectorizer = _catalogue_tfidf(dataset)
    query = vectorizer.transform([text])
    return np.asarray((vectors @ query.T).toarray()).ravel()


_TFIDF_CACHE: dict[str, tuple] = {}


def _catalogue_tfidf(dataset: Dataset):
    """TF-IDF of the catalogue's text, once per data set (a pure function of it)."""
    if dataset.fingerprint not in _TFIDF_CACHE:
        from .text import tfidf_vectors

        if len(_TFIDF_CACHE) > 8:
            _TFIDF_CACHE.clear()
        _TFIDF_CACHE[dataset.fingerprint] = tfidf_vectors(list(dataset.item_text()))
    return _TFIDF_CACHE[dataset.fingerprint]


def from_text(model: Recommender, text: str, n: int = 10, label: str | None = None, seeds: int = 5) -> ColdStartAnswer:
    """Recommendations for a new user described by a sentence of taste."""
    label = label or model.name
    dataset = model._check_fitted()
    if hasattr(model, "text_vector"):
        scores = text_scores(dataset, text, model)
        top = _rank(_Unclipped(model), scores, n, np.array([], dtype=np.int64))
        frame = model._frame(top, scores[top], score_name="score")
        frame["reason"] = [f"text similarity {scores[i]:.2f}" + _shared_words(text, dataset, i) for i in top]
        return ColdStartAnswer(label, frame)
    matches = text_scores(dataset, text)
    if not np.any(matches > 0):
        return ColdStartAnswer(label, None, "No item's text shares a word with this sentence, so there is nothing to start from.")
    seed_items = np.argsort(-matches, kind="stable")[:seeds]
    seed_items = seed_items[matches[seed_items] > 0]
    high = dataset.rating_scale[1]
    seed_ratings = np.full(len(seed_items), high)
    try:
        scores, support = model.fold_in_with_support(seed_items, seed_ratings)
    except ColdStartError as error:
        return ColdStartAnswer(label, None, str(error))
    answer = _answer(model, label, np.asarray(scores, float), n, seed_items, seed_ratings, support)
    if answer.recommendations is not None:
        titles = ", ".join(f"“{t}”" for t in dataset.titles(seed_items[:3]))
        answer.note = f"{label} cannot read text: it treats the best text matches ({titles}…) as rated {high:g}."
    return answer


class _Unclipped:
    """Adapter so similarity scores are ranked without clipping to the rating scale."""

    predicts_ratings = False

    def __init__(self, model: Recommender):
        self.tie_break_ = model.tie_break_
        self.dataset_ = model.dataset_


def _shared_words(text: str, dataset: Dataset, item: int) -> str:
    import re

    words = {w for w in re.findall(r"[a-z]{4,}", text.lower())}
    item_words = set(re.findall(r"[a-z]{4,}", str(dataset.item_text().iloc[item]).lower()))
    shared = sorted(words & item_words)[:4]
    return f"; shares “{', '.join(shared)}”" if shared else ""


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
            mask &= np.abs(ages - float(value)) <= 5
        else:
            mask &= users[column].astype(str).str.lower().to_numpy() == str(value).lower()
    mask &= dataset.user_counts > 0
    return np.flatnonzero(mask)


def from_demographics(model: Recommender, demographics: Mapping[str, object], n: int = 10,
                      label: str | None = None, max_users: int = 200) -> ColdStartAnswer:
    """Recommendations for a new user known only by attributes: the mean scores of look-alike users."""
    label = label or model.name
    dataset = model._check_fitted()
    peers = matching_users(dataset, demographics)
    if len(peers) == 0:
        return ColdStartAnswer(label, None, "No training user has these attributes; widen the description.")
    peers = peers[:max_users]
    with np.errstate(all="ignore"):
        scores = np.nanmean(model.score_users(peers), axis=0)
    description = ", ".join(f"{k} {v}" for k, v in demographics.items() if v not in (None, ""))
    top = _rank(model, scores, n, np.array([], dtype=np.int64))
    if len(top) == 0:
        return ColdStartAnswer(label, None, "This model could not score any item for these users.")
    frame = model._frame(top, scores[top])
    likers = (dataset.matrix[peers][:, top] >= dataset.rating_scale[0] + 0.75 * (dataset.rating_scale[1] - dataset.rating_scale[0])).sum(axis=0)
    frame["reason"] = [f"{int(c)} of {len(peers)} users like you ({description}) rated it highly" for c in np.asarray(likers).ravel()]
    return ColdStartAnswer(label, frame)


def similar_to_new_item(model: Recommender, text: str, n: int = 10) -> pd.DataFrame:
    """Catalogue items closest to a new item described by ``text`` (content models, else TF-IDF)."""
    dataset = model._check_fitted()
    scores = text_scores(dataset, text, model if hasattr(model, "text_vector") else None)
    top = _rank(_Unclipped(model), scores, n, np.array([], dtype=np.int64))
    return model._frame(top, scores[top], score_name="similarity")
