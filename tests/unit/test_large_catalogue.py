"""Large catalogues (issue 18, item 5): EASE's two exact routes and float32, the item-item models' sparse route.

Tolerances stated here are the ones the README quotes: EASE in float32 scores equal to float64 to 1e-4
relative to the largest score, and the same top-10 lists; the sparse route of item-knn-cosine and rp3beta
gives the dense route's weights bit for bit.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from recsys_core.dataset import Dataset
from recsys_core.models import make_model, ranking
from recsys_core.models._neighbours import top_k_rows
from recsys_core.system import FitContext


def counts_dataset(n_users: int, n_items: int, density: float, seed: int = 0) -> Dataset:
    """Random play counts with a popularity skew (a few items taken by many, most by few)."""
    rng = np.random.default_rng(seed)
    popularity = rng.pareto(1.2, n_items) + 0.05
    probability = np.minimum(1.0, density * popularity / popularity.mean())
    taken = rng.random((n_users, n_items)) < probability[None, :]
    taken[np.arange(n_users), rng.integers(0, n_items, n_users)] = True  # everyone has something
    users, items = np.nonzero(taken)
    plays = np.ceil(rng.lognormal(3.0, 1.2, len(users)))
    frame = pd.DataFrame({"user": users.astype(str), "item": items.astype(str), "rating": plays})
    return Dataset.from_frames(frame, implicit=True, name="counts")


def closed_form(model) -> np.ndarray:
    x = model.feedback_.astype(np.float64).toarray()
    p = np.linalg.inv(x.T @ x + model.reg * np.eye(x.shape[1]))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


@pytest.mark.parametrize("shape", [(40, 150), (150, 40)], ids=["fewer users (Woodbury)", "fewer items (Cholesky)"])
def test_both_routes_of_ease_equal_the_numpy_inverse(shape):
    data = counts_dataset(*shape, density=0.1)
    model = make_model("ease", reg=5.0).fit(data)
    assert model._by_users(data.n_users, data.n_items) is (shape[0] < shape[1])
    assert model.weights_.dtype == np.float64
    np.testing.assert_allclose(model.weights_, closed_form(model), atol=1e-10)
    x = model.feedback_.astype(np.float64).toarray()
    np.testing.assert_allclose(model.inverse_diagonal_, np.diag(np.linalg.inv(x.T @ x + 5.0 * np.eye(data.n_items))),
                               rtol=1e-10)


@pytest.mark.parametrize("shape", [(120, 400), (400, 120)], ids=["Woodbury", "Cholesky"])
def test_ease_in_float32_ranks_as_float64(monkeypatch, shape):
    data = counts_dataset(*shape, density=0.05, seed=1)
    exact = make_model("ease").fit(data)
    monkeypatch.setattr(ranking.EASE, "float32_from_items", 1)
    single = make_model("ease").fit(data)
    assert exact.weights_.dtype == np.float64 and single.weights_.dtype == np.float32
    users = np.arange(data.n_users)
    a, b = exact.score_users(users), single.score_users(users)
    assert np.abs(a - b).max() <= 1e-4 * np.abs(a).max()
    top_a, top_b = exact.recommend_indices(users, 10), single.recommend_indices(users, 10)
    np.testing.assert_array_equal(top_a, top_b)


def test_ease_on_two_threads_gives_the_same_numbers_run_after_run():
    data = counts_dataset(60, 300, density=0.08, seed=2)
    context = FitContext(n_threads=2)
    first = make_model("ease").fit(data, context=context)
    again = make_model("ease").fit(data, context=context)
    np.testing.assert_array_equal(first.weights_, again.weights_)
    one = make_model("ease").fit(data, context=FitContext(n_threads=1))
    np.testing.assert_allclose(first.weights_, one.weights_, atol=1e-12)


@pytest.mark.parametrize("shape", [(200, 3000), (3000, 600)], ids=["Woodbury", "Cholesky"])
def test_ease_memory_estimate_covers_what_the_fit_allocates(monkeypatch, shape):
    monkeypatch.setattr(ranking.EASE, "float32_from_items", 500)
    data = counts_dataset(*shape, density=0.01, seed=3)
    model = make_model("ease")
    estimate = model.memory_estimate(data.n_users, data.n_items, data.n_ratings)
    tracemalloc.start()
    try:
        model.fit(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert model.weights_.dtype == np.float32
    assert peak <= estimate <= 2 * peak + 16 * 1024**2, (peak, estimate)


def test_ease_time_estimate_grows_with_the_route_that_is_taken():
    model = make_model("ease")
    lastfm = model.time_estimate(1892, 17_632, 92_834)
    assert 1 < lastfm < 90  # through the 1.9k users, not a 17.6k^3 inversion
    assert model.time_estimate(100_000, 17_632, 10**7) > 10 * lastfm  # more users than items: Cholesky
    assert model.time_estimate(1892, 17_632, 92_834, threads=2) < lastfm


def test_sparse_top_k_equals_the_dense_one_with_ties():
    import scipy.sparse as sp

    rng = np.random.default_rng(4)
    block = rng.integers(0, 4, (30, 50)).astype(float) * (rng.random((30, 50)) < 0.3)
    block[3, :] = 0.0  # a row with nothing
    block[5, :20] = 2.0  # ties at the k-th value
    for k in (1, 3, 10, 60):
        dense = top_k_rows(block, k)
        sparse = ranking.top_k_sparse_rows(sp.csr_matrix(block), k)
        for left, right in zip(dense, sparse):
            np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize("name", ["item-knn-cosine", "rp3beta"])
def test_item_models_take_the_sparse_route_on_a_sparse_catalogue_and_give_the_same_weights(monkeypatch, name):
    data = counts_dataset(150, 900, density=0.004, seed=5)
    taken = []
    original = ranking.top_k_sparse_rows
    monkeypatch.setattr(ranking, "top_k_sparse_rows", lambda block, k: taken.append(block.nnz) or original(block, k))
    sparse = make_model(name).fit(data)
    assert taken, "the sparse route was not taken on a 0.4%-dense catalogue"
    monkeypatch.setattr(ranking, "SPARSE_BLOCK_SHARE", 0.0)  # every block dense
    taken.clear()
    dense = make_model(name).fit(data)
    assert not taken
    assert (sparse.weights_ != dense.weights_).nnz == 0
    assert sparse.weights_.nnz == dense.weights_.nnz > 0


def test_ease_pruned_to_items_with_enough_interactions_equals_ease_on_those_items():
    data = counts_dataset(80, 300, density=0.03, seed=6)
    per_item = np.bincount(data.matrix.indices, minlength=data.n_items)
    kept = np.flatnonzero(per_item >= 3)
    assert 0 < len(kept) < data.n_items
    pruned = make_model("ease", min_item_interactions=3).fit(data)
    assert pruned.fit_size(data) == (data.n_users, len(kept), int(per_item[kept].sum()))
    assert any("never recommended" in note for note in pruned.fit_notes())
    assert not pruned.can("forgets_users")
    scores = pruned.score_users(np.arange(data.n_users))
    assert np.isnan(np.delete(scores, kept, axis=1)).all() and np.isfinite(scores[:, kept]).all()
    x = pruned.feedback_[:, kept].astype(np.float64).toarray()
    p = np.linalg.inv(x.T @ x + pruned.reg * np.eye(len(kept)))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    np.testing.assert_allclose(scores[:, kept], x @ b, atol=1e-10)
    top = pruned.recommend_indices(np.arange(data.n_users), 10)
    assert np.isin(top[top >= 0], kept).all()  # a pruned item is never recommended
    similar = pruned.item_similarity_rows(np.array([kept[0], np.delete(np.arange(data.n_items), kept)[0]]))
    np.testing.assert_allclose(similar[0, kept], b[0], atol=1e-10)
    assert (similar[1] == 0).all()


def test_pruning_to_fit_finds_the_smallest_threshold_under_the_budget():
    data = counts_dataset(80, 300, density=0.03, seed=6)
    model = make_model("ease")
    per_item = np.bincount(data.matrix.indices, minlength=data.n_items)
    budget = model.memory_estimate(data.n_users, int((per_item >= 4).sum()), int(per_item[per_item >= 4].sum()))
    threshold, n_kept = model.pruning_to_fit(data, budget)
    assert threshold <= 4 and n_kept == (per_item >= threshold).sum()
    assert model.memory_estimate(data.n_users, n_kept, int(per_item[per_item >= threshold].sum())) <= budget
    below = per_item >= threshold - 1
    assert threshold == 1 or model.memory_estimate(data.n_users, int(below.sum()),
                                                   int(per_item[below].sum())) > budget
    assert model.pruning_to_fit(data, 10) is None
