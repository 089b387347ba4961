"""Cold start: new users from ratings, text or demographics; each answer explains itself."""
from __future__ import annotations

import numpy as np
import pytest

from recsys_core import cold_start, synthetic
from recsys_core.dataset import Dataset
from recsys_core.errors import ColdStartError
from recsys_core.models import make_model


@pytest.fixture(scope="module")
def dataset():
    ratings, items, users = synthetic.generate(n_users=300, n_items=400, n_ratings=12000, seed=7)
    return Dataset.from_frames(ratings, rating_scale=(1, 5), items=items, users=users, name="cold")


@pytest.fixture(scope="module")
def fitted(dataset):
    return {name: make_model(name).fit(dataset) for name in ("content-tfidf", "svd", "knn-basic", "coclustering", "popular")}


def space_items(dataset, n):
    mask = dataset.items["genre_truth"].to_numpy() == "Space Sci-Fi"
    return dataset.item_ids[mask][:n]


def share_of_space(frame, dataset):
    truth = dataset.items.set_index("item")["genre_truth"]
    return (truth.loc[frame["item"]] == "Space Sci-Fi").mean()


def test_content_model_follows_a_few_ratings(dataset, fitted):
    liked = {item: 5.0 for item in space_items(dataset, 4)}
    answer = cold_start.from_ratings(fitted["content-tfidf"], liked, n=10)
    frame = answer.recommendations
    assert len(frame) == 10 and answer.note is None
    assert not set(frame["item"]) & set(liked), "rated items are not recommended back"
    assert share_of_space(frame, dataset) >= 0.8
    assert frame["reason"].str.startswith("because you rated “").all()


def test_every_model_answers_a_ratings_query_with_reasons(dataset, fitted):
    liked = {item: 5.0 for item in space_items(dataset, 3)}
    for name, model in fitted.items():
        answer = cold_start.from_ratings(model, liked, n=5, label=name)
        assert answer.model == name
        assert len(answer.recommendations) == 5, name
        assert answer.recommendations["reason"].str.len().gt(0).all(), name


def test_sentence_of_taste(dataset, fitted):
    answer = cold_start.from_text(fitted["content-tfidf"], "a starship captain lost near a wormhole at the edge of the galaxy")
    assert share_of_space(answer.recommendations, dataset) >= 0.8
    assert answer.recommendations["reason"].str.contains("text similarity").all()
    # A model that cannot read text seeds itself with the best text matches, and says so.
    answer = cold_start.from_text(fitted["svd"], "a starship captain lost near a wormhole")
    assert "cannot read text" in answer.note
    assert len(answer.recommendations) == 10
    with pytest.raises(ColdStartError):
        cold_start.from_text(fitted["svd"], "   ")


def test_demographics_use_look_alike_users(dataset, fitted):
    users = dataset.users
    row = users.iloc[0]
    answer = cold_start.from_demographics(fitted["svd"], {"gender": row["gender"], "occupation": row["occupation"]})
    assert len(answer.recommendations) == 10
    assert answer.recommendations["reason"].str.contains("users like you").all()
    nobody = cold_start.from_demographics(fitted["svd"], {"occupation": "astronaut-on-mars"})
    assert nobody.recommendations is None and "No training user" in nobody.note
    with pytest.raises(ColdStartError):
        cold_start.from_demographics(fitted["svd"], {"shoe_size": 44})


def test_bad_cold_start_input_is_explained(dataset, fitted):
    with pytest.raises(ColdStartError, match="not in the catalogue"):
        cold_start.from_ratings(fitted["svd"], {"no-such-item": 4.0})
    with pytest.raises(ColdStartError, match="at least one"):
        cold_start.from_ratings(fitted["svd"], {})


def test_new_item_from_text(dataset, fitted):
    frame = cold_start.similar_to_new_item(fitted["content-tfidf"], "A weary starship captain steers through a wormhole.")
    assert share_of_space(frame, dataset) >= 0.8
    assert (np.diff(frame["similarity"].to_numpy()) <= 1e-12).all()
