"""Scale: vectorised top-k, the sparse neighbour kernel and the memory estimates (small, fast data)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_core.dataset import Dataset
from recsys_core.errors import ModelMemoryError
from recsys_core.models import make_model, memory
from recsys_core.models._neighbours import top_k_rows
from recsys_core.models.knn import KNN
from recsys_core.models.ranking import top_k_sparse

ML25M = (162_541, 59_047, 25_000_095)


def per_row_top_k(block: np.ndarray, k: int) -> np.ndarray:
    """Reference: per row, sort by (value descending, column ascending), keep the first k positive ones."""
    out = np.zeros_like(block)
    for r, row in enumerate(block):
        order = np.lexsort((np.arange(len(row)), -row))[:k]
        order = order[row[order] > 0]
        out[r, order] = row[order]
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 3, 7, 12, 20])
def test_vectorised_top_k_equals_the_per_row_reference_with_ties(seed, k):
    rng = np.random.default_rng(seed)
    # Few distinct values: many ties at every threshold, zeros and negatives too.
    block = rng.integers(-2, 5, (30, 12)).astype(np.float64) / 2
    block[rng.random(block.shape) < 0.3] = 0.0
    counts, columns, values = top_k_rows(block, k)
    rows = np.repeat(np.arange(block.shape[0]), counts)
    got = np.zeros_like(block)
    got[rows, columns] = values
    np.testing.assert_array_equal(got, per_row_top_k(block, k))
    assert (np.diff(columns)[np.diff(rows) == 0] > 0).all()  # columns ascending within a row


def test_top_k_sparse_builds_the_csr_from_blocks():
    rng = np.random.default_rng(9)
    dense = rng.integers(0, 4, (25, 10)).astype(np.float64)
    blocks = ((start, dense[start:start + 7]) for start in range(0, 25, 7))
    result = top_k_sparse(25, 10, 3, blocks)
    assert isinstance(result, sp.csr_matrix) and result.shape == (25, 10)
    np.testing.assert_array_equal(result.toarray(), per_row_top_k(dense, 3))


@pytest.mark.parametrize("similarity", ["msd", "cosine", "pearson", "pearson_baseline"])
@pytest.mark.parametrize("user_based", [True, False])
def test_sparse_kernel_keeps_the_dense_similarities_top_k(similarity, user_based):
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"user": rng.integers(0, 30, n), "item": rng.integers(0, 40, n),
                          "rating": rng.integers(1, 6, n).astype(float)}).drop_duplicates(["user", "item"])
    dataset = Dataset.from_frames(frame, rating_scale=(1, 5))
    dense = make_model("knn-basic", similarity=similarity, user_based=user_based).fit(dataset)
    sparse = make_model("knn-basic", similarity=similarity, user_based=user_based, max_dense=5,
                        max_neighbours=6).fit(dataset)
    assert sparse.sparse_ and not dense.sparse_
    reference = dense.sim_.copy()
    reference[reference <= 0] = 0.0  # similarity <= 0 never enters a sum: not kept
    np.testing.assert_allclose(sparse.sim_.toarray(), per_row_top_k(reference, 6), atol=1e-12)


def test_sparse_estimate_at_movielens_25m_fits_under_12_gb():
    for name, params in [("knn-basic", {"user_based": False}), ("knn-basic", {"user_based": True}),
                         ("item-knn-cosine", {}), ("rp3beta", {})]:
        estimate = make_model(name, **params).memory_estimate(*ML25M)
        assert 0.5 * 1024**3 < estimate < 12 * 1024**3, (name, params, estimate)
    # The dense mode would need the 59k x 59k float64 matrix alone: 28 GB.
    dense = make_model("knn-basic", user_based=False, max_dense=100_000).memory_estimate(*ML25M)
    assert dense > 8 * ML25M[1] ** 2


def test_dense_mode_at_60k_items_is_refused_with_the_estimate(monkeypatch):
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 16 * 1024**3)
    fitted = []
    monkeypatch.setattr(KNN, "_fit", lambda self, dataset: fitted.append(dataset))
    n_items = 60_000
    frame = pd.DataFrame({"user": ["a", "a", "b"], "item": ["0", "1", "1"], "rating": [4.0, 3.0, 5.0]})
    dataset = Dataset.from_frames(frame, rating_scale=(1, 5), item_ids=np.array([str(i) for i in range(n_items)]))
    model = make_model("knn-basic", user_based=False, max_dense=100_000)
    expected = memory.gib(model.memory_estimate(dataset.n_users, n_items, dataset.n_ratings))
    with pytest.raises(ModelMemoryError, match=re.escape(f"would need about {expected}")) as refusal:
        model.fit(dataset)
    assert "60,000 items" in str(refusal.value) and "16.0 GiB" in str(refusal.value)
    assert not fitted and not model.is_fitted
    # The sparse mode (the default above 6,000 items) plans far less and is let through.
    make_model("knn-basic", user_based=False).fit(dataset)
    assert fitted
