"""Answers people believe: on the bundled sample, text queries and similar items follow the planted genres."""
from __future__ import annotations

import re

import numpy as np
import pytest

from recsys_core import cold_start, data
from recsys_core.models import make_model

QUERY = "space exploration aboard a starship, distant planets and alien worlds"
GENRE = "Space Sci-Fi"


@pytest.fixture(scope="module")
def sample():
    return data.load_sample()


@pytest.fixture(scope="module")
def fitted(sample):
    names = {"svd": {}, "ease": {}, "item-knn-cosine": {}, "als": {}, "knn-basic": {"user_based": False},
             "baseline": {}, "coclustering": {}, "content-sbert": {}, "popular": {}}
    return {name: make_model(name, **params).fit(sample) for name, params in names.items()}


def genre_share(sample, frame) -> float:
    truth = sample.items["genre_truth"].to_numpy()[sample.item_indices(frame["item"])]
    return float(np.mean(truth == GENRE))


# content-tfidf answers by shared words only (its definition), so a sentence in other words than the items'
# descriptions can miss; content-sbert reads meaning. Every other model starts from items close in meaning.
@pytest.mark.parametrize("name", ["svd", "ease", "item-knn-cosine", "als", "knn-basic", "content-sbert"])
def test_a_free_text_query_for_a_planted_genre_returns_mostly_that_genre(sample, fitted, name):
    answer = cold_start.from_text(fitted[name], QUERY, n=10)
    assert answer.recommendations is not None, answer.note
    assert genre_share(sample, answer.recommendations) >= 0.6, answer.recommendations[["title", "genres"]]
    for reason in answer.recommendations["reason"]:
        assert not re.search(r"similarity -?0\.00\b", reason), reason


def test_collaborative_models_start_from_items_close_in_meaning(sample, fitted):
    answer = cold_start.from_text(fitted["svd"], QUERY, n=10)
    assert "closest in meaning" in answer.note
    scores, how = cold_start.meaning_scores(sample, QUERY)
    assert how == "meaning"
    seeds = np.argsort(-scores)[:5]
    assert np.mean(sample.items["genre_truth"].to_numpy()[seeds] == GENRE) >= 0.8


@pytest.mark.parametrize("name", ["knn-basic", "item-knn-cosine", "ease", "als"])
def test_similar_items_come_from_the_items_own_genre_with_real_support(sample, fitted, name):
    counts = sample.item_counts
    truth = sample.items["genre_truth"].to_numpy()
    # The most-rated items of the planted genre: their neighbours should share it, with evidence.
    anchors = [i for i in np.argsort(-counts) if truth[i] == GENRE][:3]
    for anchor in anchors:
        frame = fitted[name].similar_items(sample.item_ids[anchor], n=10)
        shares = truth[sample.item_indices(frame["item"])] == GENRE
        assert shares.mean() >= 0.6, (name, frame[["title", "genres", "similarity", "support"]])
        assert (frame["support"] >= 3).all(), (name, frame[["title", "similarity", "support"]])


def test_knn_similarities_are_weighted_by_evidence(sample, fitted):
    model = fitted["knn-basic"]
    anchor = sample.item_ids[int(np.argmax(sample.item_counts))]
    raw = model.similar_items(anchor, n=10, shrinkage=0)
    weighted = model.similar_items(anchor, n=10)
    # Without the evidence weight, items with a handful of common raters float to the top.
    assert raw["support"].median() < weighted["support"].median()
    rows = model.item_similarity_rows(np.array([sample.item_index(anchor)]))[0]
    support = model.co_raters(sample.item_index(anchor))
    first = sample.item_index(weighted["item"].iloc[0])
    assert weighted["similarity"].iloc[0] == pytest.approx(rows[first] * support[first] / (support[first] + 10))


def test_models_that_cannot_personalise_say_so(sample, fitted):
    rated = {sample.item_ids[0]: 5.0, sample.item_ids[1]: 1.0}
    for name in ("popular", "baseline"):
        answer = cold_start.from_ratings(fitted[name], rated)
        assert "same list" in answer.note
    answer = cold_start.from_ratings(fitted["coclustering"], rated)
    assert "co-clustering put this user in user cluster" in answer.note
    assert cold_start.from_ratings(fitted["svd"], rated).note is None


def test_reasons_name_a_rated_item_with_its_real_similarity(sample, fitted):
    liked = [sample.item_ids[i] for i in np.argsort(-sample.item_counts)[:3]]
    answer = cold_start.from_ratings(fitted["item-knn-cosine"], {item: 5.0 for item in liked})
    reasons = answer.recommendations["reason"]
    assert reasons.str.startswith("because you rated").all()
    values = reasons.str.extract(r"similarity (\d\.\d\d)")[0].astype(float)
    assert (values > 0).all()


# The bar for every other model that answers a sentence: at least 5 of 10 of the asked genre. nmf is the
# known exception (README: unbiased non-negative factors rank by the items' factor length, 3 of 10); the torch
# next-item models pass too (gru4rec 10, sasrec 8 of 10, measured) but a fit each costs a minute here.
@pytest.mark.parametrize("name", ["knn-means", "knn-baseline", "rp3beta", "bpr", "lightfm", "fm", "item2vec"])
def test_every_other_model_that_answers_a_sentence_gives_at_least_half_its_genre(sample, name):
    answer = cold_start.from_text(make_model(name).fit(sample), QUERY, n=10)
    assert answer.recommendations is not None, answer.note
    assert genre_share(sample, answer.recommendations) >= 0.5, answer.recommendations[["title", "genres"]]
