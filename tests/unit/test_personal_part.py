"""Cold start for rating-prediction models ranked by the new user's personal part (issue 18, item 6)."""
from __future__ import annotations

import numpy as np
import pytest

from recsys_core import cold_start, data
from recsys_core.models import make_model


@pytest.fixture(scope="module")
def sample():
    return data.load_sample()


@pytest.fixture(scope="module")
def svd(sample):
    return make_model("svd").fit(sample)


def seeds_of(sample, genre: str, count: int = 5) -> dict:
    truth = sample.items["genre_truth"].to_numpy()
    picked = [i for i in np.argsort(-sample.item_counts, kind="stable") if truth[i] == genre][:count]
    return {sample.item_ids[i]: 5.0 for i in picked}


def test_the_personal_ranking_is_the_prediction_minus_the_item_bias(sample, svd):
    given = seeds_of(sample, "Romance")
    answer = cold_start.from_ratings(svd, given, n=10, rank_by="personal")
    items, values = cold_start.ratings_to_indices(sample, given)
    predicted = svd.fold_in(items, values)
    personal = predicted - svd.item_bias_
    candidates = np.setdiff1d(np.arange(sample.n_items), items)
    expected = candidates[np.argsort(-personal[candidates], kind="stable")][:10]
    top = sample.item_indices(answer.recommendations["item"])
    np.testing.assert_allclose(np.sort(personal[top])[::-1], personal[expected], rtol=1e-9)
    np.testing.assert_allclose(answer.recommendations["personal part"], personal[top], rtol=1e-9)
    assert "Ranked by the personal part" in answer.note
    plain = cold_start.from_ratings(svd, given, n=10)
    assert "personal part" not in plain.recommendations.columns
    assert not set(plain.recommendations["item"]) == set(answer.recommendations["item"])


def test_on_the_sample_the_personal_part_follows_the_seeds_genre_where_the_plain_rating_does_not(sample, svd):
    truth = sample.items["genre_truth"].to_numpy()
    shares = {"prediction": [], "personal": []}
    for genre in sorted(set(truth))[:8]:
        given = seeds_of(sample, genre)
        for rank_by in shares:
            frame = cold_start.from_ratings(svd, given, n=10, rank_by=rank_by).recommendations
            shares[rank_by].append(np.mean(truth[sample.item_indices(frame["item"])] == genre))
    # Measured: 0.10 of the ten in the seeds' genre on average by the plain rating, 0.31 by the personal part.
    assert np.mean(shares["personal"]) >= np.mean(shares["prediction"]) + 0.1, shares


def test_models_without_a_personal_split_say_so(sample):
    given = seeds_of(sample, "Comedy")
    baseline = make_model("baseline").fit(sample)
    answer = cold_start.from_ratings(baseline, given, rank_by="personal")
    assert answer.recommendations is None and "has no personal part" in answer.note
    knn = make_model("knn-basic", user_based=False).fit(sample)
    answer = cold_start.from_ratings(knn, given, rank_by="personal")
    plain = cold_start.from_ratings(knn, given)
    assert "no learnt item biases" in answer.note
    assert answer.recommendations["item"].tolist() == plain.recommendations["item"].tolist()
    with pytest.raises(ValueError, match="rank_by is one of prediction, personal"):
        cold_start.from_ratings(knn, given, rank_by="bias")


def test_a_re_ranker_at_its_neutral_value_keeps_the_personal_order(sample, svd):
    """The personal part is not a rating: re-ranking must not clip it to the scale (that would tie it)."""
    from recsys_core import reranking

    answer = cold_start.from_ratings(svd, seeds_of(sample, "Romance"), n=10, rank_by="personal")
    assert answer.on_rating_scale is False
    neutral = reranking.RERANKERS["popularity"].neutral
    frame = reranking.rerank_new_user(svd, answer.scores, answer.liked, "popularity", neutral, 10,
                                      on_rating_scale=answer.on_rating_scale)
    assert frame["item"].tolist() == answer.recommendations["item"].tolist()
