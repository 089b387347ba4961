"""Long-tail catalogues: similar items weighted by evidence for every collaborative model; text seeds that the
model knows. On the bundled sample (12% of its items have one rating) with a planted obscure decoy."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_core import cold_start, data
from recsys_core.dataset import Dataset
from recsys_core.models import make_model

QUERY = "space exploration aboard a starship, distant planets and alien worlds"
GENRE = "Space Sci-Fi"


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return data.load_sample()


@pytest.fixture(scope="module")
def fitted(sample):
    return {name: make_model(name).fit(sample) for name in ("svd", "als", "bpr", "coclustering", "nmf")}


@pytest.mark.parametrize("name", ["svd", "als", "bpr", "nmf", "coclustering"])
def test_factor_models_similar_items_are_weighted_by_evidence(sample, fitted, name):
    model = fitted[name]
    anchors = np.argsort(-sample.item_counts, kind="stable")[:5]
    raw_support, weighted_support = [], []
    for anchor in anchors:
        raw = model.similar_items(sample.item_ids[anchor], n=10, shrinkage=0)
        weighted = model.similar_items(sample.item_ids[anchor], n=10)
        raw_support.append(raw["support"].to_numpy())
        weighted_support.append(weighted["support"].to_numpy())
        # The default is the cosine times n / (n + 10), n = raters the two items share.
        rows = model.item_similarity_rows(np.array([anchor]))[0]
        shared = model.co_raters(int(anchor))
        first = sample.item_index(weighted["item"].iloc[0])
        assert weighted["similarity"].iloc[0] == pytest.approx(rows[first] * shared[first] / (shared[first] + 10))
        assert (weighted["support"] >= 3).all(), (name, weighted[["title", "similarity", "support"]])
    # Without the weight, items sharing a handful of raters with the anchor are among the neighbours (0-3
    # shared raters on the sample). ALS's regularisation (10) already pulls rarely seen items' vectors to 0 here.
    if name != "als":
        assert np.concatenate(raw_support).min() <= 3 < np.concatenate(weighted_support).min()


def test_an_item_with_one_rater_is_nobodys_nearest_neighbour(sample, fitted):
    lonely = set(np.flatnonzero(sample.item_counts == 1))
    assert len(lonely) > 100  # the sample's long tail
    for name, model in fitted.items():
        if not model.can("similar_items"):
            continue
        for anchor in np.argsort(-sample.item_counts, kind="stable")[:10]:
            frame = model.similar_items(sample.item_ids[anchor], n=10)
            assert not lonely & set(sample.item_indices(frame["item"])), (name, frame[["title", "support"]])


@pytest.fixture(scope="module")
def with_decoy(sample) -> tuple[Dataset, int]:
    """The sample with one obscure item (a single rating, not science fiction) described by the query itself."""
    truth = sample.items["genre_truth"].to_numpy()
    decoy = int(next(i for i in np.flatnonzero(sample.item_counts == 1) if truth[i] != GENRE))
    items = sample.items.copy()
    items.loc[decoy, "title"] = "Starship to the Alien Worlds (1959)"
    items.loc[decoy, "genres"] = GENRE
    items.loc[decoy, "description"] = "A voyage of space exploration aboard a starship to distant planets and alien worlds."
    frame = sample.interactions[["user", "item", "rating", "timestamp"]].astype({"user": str, "item": str})
    dataset = Dataset.from_frames(frame, name="sample+decoy", rating_scale=sample.rating_scale,
                                  items=items, users=sample.users)
    return dataset, dataset.item_index(sample.item_ids[decoy])


def test_text_seeds_skip_an_obscure_decoy_that_a_text_only_finder_picks(with_decoy):
    dataset, decoy = with_decoy
    matches, how = cold_start.meaning_scores(dataset, QUERY)
    assert how == "meaning"
    assert decoy in np.argsort(-matches)[:2]  # by text alone the decoy is among the first seeds
    seeds = cold_start.text_seeds(dataset, matches, 5)
    assert decoy not in seeds and len(seeds) == 5
    truth = dataset.items["genre_truth"].to_numpy()
    assert np.mean(truth[seeds] == GENRE) >= 0.8
    assert dataset.item_counts[seeds].min() >= 5  # items the collaborative models know


@pytest.mark.parametrize("name", ["svd", "als", "item-knn-cosine"])
def test_a_sentence_still_gets_its_genre_with_the_decoy_planted(with_decoy, name):
    dataset, decoy = with_decoy
    answer = cold_start.from_text(make_model(name).fit(dataset), QUERY, n=10)
    assert answer.recommendations is not None, answer.note
    truth = dataset.items["genre_truth"].to_numpy()[dataset.item_indices(answer.recommendations["item"])]
    assert np.mean(truth == GENRE) >= 0.6, answer.recommendations[["title", "genres"]]
    assert "enough people interacted with" in answer.note
