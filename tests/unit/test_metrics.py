"""Metrics against values worked out by hand on literal fixtures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from surprise import accuracy
from surprise.prediction_algorithms.predictions import Prediction

from recsys_core.dataset import Dataset
from recsys_core.evaluation.metrics import (
    RANKING_METRICS,
    activity_bucket_labels,
    activity_buckets,
    average_precision_at_k,
    catalog_coverage,
    default_relevance_threshold,
    hit_rate_at_k,
    intra_list_diversity,
    mae,
    ndcg_at_k,
    novelty,
    personalization,
    precision_at_k,
    recall_at_k,
    reciprocal_rank_at_k,
    relevant_items,
    rmse,
)

# Discounts 1/log2(p + 1) for ranks p = 1..6.
D1, D2, D3, D4, D5, D6 = 1.0, 1 / np.log2(3), 1 / np.log2(4), 1 / np.log2(5), 1 / np.log2(6), 1 / np.log2(7)

RECOMMENDED = np.array(
    [
        [3, 1, 7, 5],  # user 0: relevant {3, 7, 9} -> hits at ranks 1 and 3
        [2, 4, -1, -1],  # user 1: relevant {4} -> hit at rank 2; two empty slots
        [6, 8, 0, 1],  # user 2: relevant {5} -> no hit
        [1, 2, 3, 4],  # user 3: relevant {1..6}, more than K -> hits at ranks 1..4
    ]
)
RELEVANT = [{3, 7, 9}, {4}, {5}, {1, 2, 3, 4, 5, 6}]


# ------------------------------------------------------------ rating accuracy
def test_rmse_and_mae_by_hand_and_as_surprise() -> None:
    y_true, y_pred = [4.0, 3.0, 5.0], [3.5, 3.0, 3.0]
    # errors 0.5, 0, 2: MSE = (0.25 + 0 + 4) / 3 = 1.416667, RMSE = 1.190238; MAE = 2.5 / 3 = 0.833333
    assert rmse(y_true, y_pred) == pytest.approx(1.190238, abs=1e-6)
    assert mae(y_true, y_pred) == pytest.approx(0.833333, abs=1e-6)
    predictions = [Prediction("u", "i", t, p, {}) for t, p in zip(y_true, y_pred)]
    assert rmse(y_true, y_pred) == accuracy.rmse(predictions, verbose=False)
    assert mae(y_true, y_pred) == accuracy.mae(predictions, verbose=False)


def test_rating_metrics_reject_empty_or_mismatched_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        rmse([], [])
    with pytest.raises(ValueError, match="length"):
        mae([1.0, 2.0], [1.0])


# ------------------------------------------------------------ ranking metrics
def test_precision_at_k() -> None:
    # 2/4, 1/4 (empty slots are misses), 0/4, 4/4
    np.testing.assert_allclose(precision_at_k(RECOMMENDED, RELEVANT, 4), [0.5, 0.25, 0.0, 1.0])
    # K=2: user 0 hits rank 1 only -> 1/2; user 1 hits rank 2 -> 1/2; user 3 -> 2/2
    np.testing.assert_allclose(precision_at_k(RECOMMENDED, RELEVANT, 2), [0.5, 0.5, 0.0, 1.0])
    # K=6 is wider than the lists: still divided by K -> 2/6, 1/6, 0, 4/6
    np.testing.assert_allclose(precision_at_k(RECOMMENDED, RELEVANT, 6), [2 / 6, 1 / 6, 0.0, 4 / 6])


def test_recall_at_k() -> None:
    # 2/3, 1/1, 0/1, 4/6 (relevant set larger than K caps recall below 1)
    np.testing.assert_allclose(recall_at_k(RECOMMENDED, RELEVANT, 4), [2 / 3, 1.0, 0.0, 4 / 6])
    # K=1: only rank 1 counts -> 1/3, 0, 0, 1/6
    np.testing.assert_allclose(recall_at_k(RECOMMENDED, RELEVANT, 1), [1 / 3, 0.0, 0.0, 1 / 6])


def test_ndcg_at_k() -> None:
    expected = [
        (D1 + D3) / (D1 + D2 + D3),  # hits at 1, 3; IDCG over min(3, 4) = 3 ranks: 1.5 / 2.130930 = 0.703918
        D2 / D1,  # hit at 2; IDCG over 1 rank: 0.630930
        0.0,  # no hit
        1.0,  # ranks 1..4 all hit; IDCG over min(6, 4) = 4 ranks
    ]
    np.testing.assert_allclose(ndcg_at_k(RECOMMENDED, RELEVANT, 4), expected)
    assert expected[0] == pytest.approx(0.703918, abs=1e-6)
    # K=6: user 3 has DCG over ranks 1..4 (2.561606), IDCG over min(6, 6) = 6 ranks (3.304666) -> 0.775148
    assert ndcg_at_k(RECOMMENDED, RELEVANT, 6)[3] == pytest.approx(0.775148, abs=1e-6)
    # K=2: user 0 hits rank 1 only; IDCG over min(3, 2) = 2 ranks: 1 / 1.630930 = 0.613147
    assert ndcg_at_k(RECOMMENDED, RELEVANT, 2)[0] == pytest.approx(0.613147, abs=1e-6)


def test_average_precision_at_k() -> None:
    expected = [
        (1 / 1 + 2 / 3) / 3,  # hits at ranks 1 and 3, min(|rel|=3, K=4) = 3: 0.555556
        (1 / 2) / 1,  # hit at rank 2
        0.0,
        (1 + 1 + 1 + 1) / 4,  # relevant set larger than K: divided by K
    ]
    np.testing.assert_allclose(average_precision_at_k(RECOMMENDED, RELEVANT, 4), expected)
    # K=6: user 3 has four hits (precision 1 at each) over min(6, 6) = 6 -> 4/6
    assert average_precision_at_k(RECOMMENDED, RELEVANT, 6)[3] == pytest.approx(4 / 6)
    # K=2: user 0 hits rank 1: 1 / min(3, 2) = 0.5
    assert average_precision_at_k(RECOMMENDED, RELEVANT, 2)[0] == pytest.approx(0.5)


def test_hit_rate_and_reciprocal_rank_at_k() -> None:
    np.testing.assert_allclose(hit_rate_at_k(RECOMMENDED, RELEVANT, 4), [1, 1, 0, 1])
    # first hits at ranks 1, 2, none, 1
    np.testing.assert_allclose(reciprocal_rank_at_k(RECOMMENDED, RELEVANT, 4), [1.0, 0.5, 0.0, 1.0])
    # K=1: user 1's hit at rank 2 falls outside
    np.testing.assert_allclose(hit_rate_at_k(RECOMMENDED, RELEVANT, 1), [1, 0, 0, 1])
    np.testing.assert_allclose(reciprocal_rank_at_k(RECOMMENDED, RELEVANT, 1), [1, 0, 0, 1])


def test_all_padding_and_users_without_relevant_items() -> None:
    recommended = np.array([[-1, -1, -1], [0, 1, 2]])
    relevant = [{0}, set()]  # user 0 gets an empty list; user 1 has nothing relevant
    np.testing.assert_allclose(precision_at_k(recommended, relevant, 3), [0.0, 0.0])
    np.testing.assert_allclose(hit_rate_at_k(recommended, relevant, 3), [0.0, 0.0])
    np.testing.assert_allclose(reciprocal_rank_at_k(recommended, relevant, 3), [0.0, 0.0])
    # Undefined without relevant items: NaN, so callers exclude those users.
    for metric in (recall_at_k, ndcg_at_k, average_precision_at_k):
        values = metric(recommended, relevant, 3)
        assert values[0] == 0.0 and np.isnan(values[1])


def test_sparse_relevance_matrix_gives_the_same_values_as_lists() -> None:
    rows = np.repeat(np.arange(4), [len(r) for r in RELEVANT])
    cols = np.concatenate([sorted(r) for r in RELEVANT])
    # Wider than any item in the lists; a stored explicit zero is not relevant.
    matrix = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(4, 12))
    matrix = matrix + sp.csr_matrix(([0.0], ([2], [6])), shape=(4, 12))
    for name, metric in RANKING_METRICS.items():
        np.testing.assert_allclose(metric(RECOMMENDED, matrix, 4), metric(RECOMMENDED, RELEVANT, 4), err_msg=name)


def test_ranking_metrics_check_shapes() -> None:
    with pytest.raises(ValueError, match="rows"):
        precision_at_k(RECOMMENDED, RELEVANT[:3], 4)
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(RECOMMENDED, RELEVANT, 0)


# ---------------------------------------------------------------- relevance
def test_relevant_items_threshold_and_implicit() -> None:
    frame = pd.DataFrame(
        {"user": ["u", "u", "u", "v"], "item": ["a", "b", "c", "a"], "rating": [4.0, 3.5, 5.0, 2.0]}
    )
    explicit = Dataset.from_frames(frame, rating_scale=(1, 5))
    # default threshold 1 + 0.75 * 4 = 4.0: u's a (4.0) and c (5.0) are relevant, b (3.5) and v's a are not
    assert default_relevance_threshold((1, 5)) == 4.0
    assert default_relevance_threshold((0.5, 5)) == 3.875  # 0.5 + 0.75 * 4.5
    matrix = relevant_items(explicit)
    assert matrix.shape == (2, 3)
    assert matrix.toarray().tolist() == [[True, False, True], [False, False, False]]
    assert relevant_items(explicit, threshold=2.0).toarray().tolist() == [[True, True, True], [True, False, False]]
    implicit = Dataset.from_frames(frame.assign(rating=1.0), implicit=True)
    # implicit: every test interaction is relevant
    assert relevant_items(implicit).toarray().tolist() == [[True, True, True], [True, False, False]]


# ---------------------------------------------------------- beyond accuracy
def test_catalog_coverage_ignores_padding() -> None:
    # distinct items {0, 1, 2} out of 10
    assert catalog_coverage(np.array([[0, 1, -1], [1, 2, -1]]), 10) == pytest.approx(0.3)


def test_novelty() -> None:
    popularity = np.array([4, 2, 1, 0])  # training users per item, 4 users
    recommended = np.array([[0, 1], [2, 3], [-1, -1]])
    # -log2(p): item 0: -log2(4/4) = 0; item 1: -log2(2/4) = 1; item 2: -log2(1/4) = 2;
    # item 3 unseen, counted once: -log2(1/4) = 2. Lists: (0 + 1)/2 = 0.5, (2 + 2)/2 = 2, empty list left out.
    # Mean over users: (0.5 + 2) / 2 = 1.25
    assert novelty(recommended, popularity, 4) == pytest.approx(1.25)
    assert np.isnan(novelty(np.array([[-1]]), popularity, 4))


@pytest.mark.parametrize("sparse", [False, True])
def test_intra_list_diversity(sparse: bool) -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    recommended = np.array([[0, 1, 2], [0, 2, -1], [0, 3, -1], [1, -1, -1]])
    c = 1 / np.sqrt(2)  # cos([1, 0], [1, 1]) = cos([0, 1], [1, 1])
    expected = [
        ((1 - 0) + (1 - c) + (1 - c)) / 3,  # pairs (0,1), (0,2), (1,2): (1 + 2 * 0.292893) / 3 = 0.528595
        1 - c,  # one pair (0,2): 0.292893
        1.0,  # a zero vector has cosine 0 with everything
        np.nan,  # a single item has no pairs
    ]
    item_vectors = sp.csr_matrix(vectors) if sparse else vectors
    np.testing.assert_allclose(intra_list_diversity(recommended, item_vectors), expected)
    assert expected[0] == pytest.approx(0.528595, abs=1e-6)


def test_personalization_by_hand() -> None:
    # A = {0, 1}, B = {0, 2}, C = {3, 4}: cos(A, B) = 1 / 2, cos(A, C) = cos(B, C) = 0
    # mean over the 3 pairs = 1/6 -> personalization = 5/6
    assert personalization(np.array([[0, 1], [0, 2], [3, 4]])) == pytest.approx(5 / 6)
    assert personalization(np.array([[0, 1], [1, 0], [0, 1]])) == pytest.approx(0.0)  # same sets
    # Padding: {0, 1} vs {0}: cos = 1 / sqrt(2 * 1) = 0.707107 -> 0.292893; an empty list is left out
    assert personalization(np.array([[0, 1], [0, -1], [-1, -1]])) == pytest.approx(1 - 1 / np.sqrt(2))
    assert np.isnan(personalization(np.array([[0, 1], [-1, -1]])))


def test_personalization_matches_pairwise_cosine() -> None:
    rng = np.random.default_rng(0)
    recommended = np.array([rng.choice(15, size=5, replace=False) for _ in range(30)])
    recommended[::7, 3:] = -1
    binary = np.zeros((30, 15))
    rows, slots = np.nonzero(recommended >= 0)
    binary[rows, recommended[rows, slots]] = 1
    unit = binary / np.linalg.norm(binary, axis=1, keepdims=True)
    cosine = unit @ unit.T
    upper = cosine[np.triu_indices(30, k=1)]
    assert personalization(recommended) == pytest.approx(1 - upper.mean())


# ------------------------------------------------------------------ buckets
def test_activity_buckets() -> None:
    counts = np.array([0, 5, 6, 20, 21, 100])
    assert activity_buckets(counts).tolist() == ["≤5", "≤5", "6–20", "6–20", ">20", ">20"]
    assert activity_bucket_labels() == ["≤5", "6–20", ">20"]
    # a one-value bucket is labelled by its value
    assert activity_bucket_labels((1, 2, 10)) == ["≤1", "2", "3–10", ">10"]
    assert activity_buckets(np.array([1, 2, 3, 11]), edges=(1, 2, 10)).tolist() == ["≤1", "2", "3–10", ">10"]
    with pytest.raises(ValueError):
        activity_bucket_labels((20, 5))
