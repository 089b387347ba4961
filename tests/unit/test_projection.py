"""Projections: shapes, seeds, planted clusters, neighbours, frames and the cache."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_core.dataset import Dataset
from recsys_core.errors import RecsysError
from recsys_core.projection import (
    NoEmbeddingsError,
    ProjectionError,
    clear_projection_cache,
    fitted_rows,
    item_projection,
    nearest_neighbours,
    project,
    project_cached,
    user_projection,
)

GENRES = ("Action", "Comedy", "Drama")


def planted(n_per: int = 20, dim: int = 16, n_groups: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Vectors in ``n_groups`` tight groups around random directions, and their group labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_groups, dim)) * 4
    labels = np.repeat(np.arange(n_groups), n_per)
    return centres[labels] + rng.normal(size=(len(labels), dim)), labels


def separation(coords: np.ndarray, labels: np.ndarray) -> float:
    """Smallest distance between group means over the largest within-group spread."""
    means = np.array([coords[labels == g].mean(axis=0) for g in np.unique(labels)])
    spread = max(np.linalg.norm(coords[labels == g] - means[g], axis=1).max() for g in np.unique(labels))
    gaps = [np.linalg.norm(means[a] - means[b]) for a in range(len(means)) for b in range(a + 1, len(means))]
    return min(gaps) / spread


class FakeModel:
    """Just the embedding side of the model contract."""

    name = "fake-factors"

    def __init__(self, items: np.ndarray | None, users: np.ndarray | None) -> None:
        self._items, self._users = items, users

    def item_embeddings(self):
        return self._items

    def user_embeddings(self):
        return self._users


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    # 12 items, 4 per genre; 8 users in 2 segments; item i rated by users 0 .. (12 - i) // 2, u7 rates i11.
    items = pd.DataFrame(
        {
            "item": [f"i{i}" for i in range(12)],
            "title": [f"Title {i}" for i in range(12)],
            "genres": [f"{GENRES[i // 4]}|{GENRES[(i // 4 + 1) % 3]}" for i in range(11)] + [""],
            "genre_truth": [GENRES[i // 4] for i in range(12)],
        }
    )
    users = pd.DataFrame({"user": [f"u{u}" for u in range(8)], "segment": ["a", "b"] * 4, "age": range(20, 28)})
    rows = [(f"u{u}", f"i{i}", 1.0 + (u + i) % 5) for i in range(12) for u in range((12 - i) // 2 + 1)]
    rows.append(("u7", "i11", 3.0))
    frame = pd.DataFrame(rows, columns=["user", "item", "rating"])
    return Dataset.from_frames(frame, name="tiny", items=items, users=users)


# ------------------------------------------------------------------ project
@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_project_shape_and_seed_determinism(method):
    vectors, _ = planted()
    first = project(vectors, method, seed=3)
    assert first.shape == (60, 2) and first.dtype == np.float64
    np.testing.assert_array_equal(first, project(vectors, method, seed=3))


def test_project_accepts_method_spellings_and_rejects_unknown():
    vectors, _ = planted(n_per=5)
    np.testing.assert_array_equal(project(vectors, "t-SNE", seed=0), project(vectors, "tsne", seed=0))
    with pytest.raises(ProjectionError, match="choose one of: PCA, t-SNE, UMAP"):
        project(vectors, "mds")


def test_pca_separates_planted_clusters():
    vectors, labels = planted(n_per=25, dim=32)
    coords = project(vectors, "pca")
    assert separation(coords, labels) > 1.0


def test_tsne_separates_planted_clusters():
    vectors, labels = planted(n_per=25, dim=32)
    coords = project(vectors, "tsne", seed=0)
    # Every point's nearest 2-D neighbour is in its own group.
    distance = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    assert (labels[distance.argmin(axis=1)] == labels).all()


def test_umap_small_run_is_seeded_and_separates():
    # One UMAP test only: the first fit compiles numba code (~10 s).
    vectors, labels = planted(n_per=15, dim=8)
    coords = project(vectors, "umap", seed=0)
    assert coords.shape == (45, 2)
    np.testing.assert_array_equal(coords, project(vectors, "umap", seed=0))
    assert separation(coords, labels) > 1.0


def test_pca_normalises_rows_so_length_does_not_matter():
    vectors, _ = planted(n_per=10)
    scaled = vectors * np.random.default_rng(1).uniform(0.1, 10, size=(len(vectors), 1))
    np.testing.assert_allclose(project(vectors, "pca"), project(scaled, "pca"), atol=1e-9)
    assert not np.allclose(project(vectors, "pca", normalize=False), project(scaled, "pca", normalize=False))


def test_sparse_input_projects_without_densifying_for_pca_and_via_lsa_for_tsne():
    vectors, labels = planted(n_per=15, dim=40)
    sparse = sp.csr_matrix(np.where(vectors > 2, vectors, 0.0))
    coords = project(sparse, "pca")
    dense_coords = project(sparse.toarray(), "pca")
    # Same PCA up to the sign of each axis.
    np.testing.assert_allclose(np.abs(coords), np.abs(dense_coords), atol=1e-8)
    assert project(sparse, "tsne", seed=0).shape == (45, 2)


def test_edge_sizes():
    assert project(np.zeros((0, 4)), "tsne").shape == (0, 2)
    np.testing.assert_array_equal(project(np.ones((1, 4)), "pca"), np.zeros((1, 2)))
    # One-dimensional vectors: second axis is zero.
    coords = project(np.arange(6, dtype=float)[:, None] - 2.5, "pca", normalize=False)
    assert coords.shape == (6, 2) and (coords[:, 1] == 0).all()
    with pytest.raises(ProjectionError, match="at least 5 points"):
        project(np.eye(4), "tsne")
    with pytest.raises(ProjectionError, match="NaN"):
        project(np.array([[1.0, np.nan], [0.0, 1.0]]), "pca")


def test_above_max_points_fits_a_seeded_sample_and_places_the_rest_near_their_group():
    vectors, labels = planted(n_per=40, dim=16)
    fitted = fitted_rows(len(vectors), "tsne", seed=0, max_points=60)
    assert len(fitted) == 60 and np.array_equal(fitted, fitted_rows(len(vectors), "tsne", seed=0, max_points=60))
    assert len(fitted_rows(len(vectors), "pca", max_points=60)) == len(vectors)
    coords = project(vectors, "tsne", seed=0, max_points=60)
    assert coords.shape == (120, 2)
    rest = np.setdiff1d(np.arange(120), fitted)
    means = np.array([coords[fitted][labels[fitted] == g].mean(axis=0) for g in range(3)])
    closest = np.linalg.norm(coords[rest][:, None] - means[None], axis=2).argmin(axis=1)
    assert (closest == labels[rest]).all()


# ------------------------------------------------------------------- cache
def test_project_cached_returns_the_same_read_only_array_without_recomputing(monkeypatch):
    clear_projection_cache()
    vectors, _ = planted(n_per=5)
    first = project_cached("fp-1:svd", vectors, "pca", 0)
    import recsys_core.projection as projection

    monkeypatch.setattr(projection, "project", lambda *a, **k: pytest.fail("recomputed a cached projection"))
    again = project_cached("fp-1:svd", vectors, "pca", 0)
    assert again is first and not again.flags.writeable
    # Content-hash key when none is given; a different seed is a different entry.
    monkeypatch.undo()
    assert project_cached(None, vectors, "pca", 0) is project_cached(None, vectors.copy(), "pca", 0)
    assert project_cached("fp-1:svd", vectors, "pca", 1) is not first


# -------------------------------------------------------------- neighbours
def test_nearest_neighbours_by_cosine_in_original_space():
    vectors = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [-1.0, 0.0], [2.0, 0.0], [0.0, 0.0]])
    indices, similarities = nearest_neighbours(vectors, 0, n=3)
    # Row 4 is parallel (cosine 1) though farther in Euclidean terms; self is left out.
    np.testing.assert_array_equal(indices, [4, 1, 2])
    np.testing.assert_allclose(similarities, [1.0, 10 / np.sqrt(101), 0.0])
    # The zero row and row 2 tie at 0: the lower index first.
    indices, _ = nearest_neighbours(vectors, 0, n=10)
    np.testing.assert_array_equal(indices, [4, 1, 2, 5, 3])
    sparse_indices, sparse_similarities = nearest_neighbours(sp.csr_matrix(vectors), 0, n=3)
    np.testing.assert_array_equal(sparse_indices, [4, 1, 2])
    np.testing.assert_allclose(sparse_similarities, similarities[:3])
    with pytest.raises(IndexError):
        nearest_neighbours(vectors, 6)


def test_nearest_neighbours_skips_rows_without_a_vector():
    vectors = np.array([[1.0, 0.0], [np.nan, np.nan], [1.0, 0.1]])
    indices, _ = nearest_neighbours(vectors, 0, n=5)
    np.testing.assert_array_equal(indices, [2])


# ------------------------------------------------------------------ frames
def test_item_projection_frame(dataset):
    vectors, _ = planted(n_per=4, dim=8)
    vectors[5] = np.nan  # an item the model has no vector for
    frame = item_projection(FakeModel(vectors, None), dataset, "pca", seed=0)
    assert list(frame.columns) == [
        "x", "y", "item_idx", "item", "title", "genres", "genre", "genre_truth",
        "popularity", "popularity_bucket", "cluster", "interpolated",
    ]  # fmt: skip
    assert len(frame) == 11 and 5 not in frame["item_idx"].to_numpy()
    row = frame.set_index("item")
    assert row.loc["i0", "title"] == "Title 0"
    assert row.loc["i0", "genres"] == "Action|Comedy" and row.loc["i0", "genre"] == "Action"
    assert row.loc["i11", "genre"] == "(none)" and row.loc["i11", "genre_truth"] == "Drama"
    np.testing.assert_array_equal(frame["popularity"], dataset.item_counts[frame["item_idx"]])
    # Most rated items are head, least rated tail.
    assert row.loc["i0", "popularity_bucket"] == "head" and row.loc["i11", "popularity_bucket"] == "tail"
    assert set(frame["popularity_bucket"]) == {"head", "mid", "tail"}
    # k = number of genres = 3, and the planted groups are the clusters.
    assert frame["cluster"].nunique() == 3
    assert frame.groupby("genre_truth")["cluster"].nunique().eq(1).all()
    assert not frame["interpolated"].any()


def test_user_projection_frame(dataset):
    vectors, _ = planted(n_per=4, n_groups=2, dim=6)
    frame = user_projection(FakeModel(None, vectors), dataset, "tsne", seed=0)
    assert list(frame.columns) == [
        "x", "y", "user_idx", "user", "n_ratings", "activity_bucket", "segment", "age", "cluster", "interpolated",
    ]  # fmt: skip
    assert len(frame) == 8
    np.testing.assert_array_equal(frame["n_ratings"], dataset.user_counts)
    assert frame.loc[frame["user"] == "u0", "activity_bucket"].item() == "heavy"
    assert frame["cluster"].nunique() == 2  # k = number of segments
    np.testing.assert_array_equal(frame[["x", "y"]], user_projection(FakeModel(None, vectors), dataset, "tsne")[["x", "y"]])


def test_models_without_vectors_raise_a_readable_error(dataset):
    with pytest.raises(NoEmbeddingsError, match="fake-factors learns no item vectors; choose SVD, ALS, a content model") as caught:
        item_projection(FakeModel(None, None), dataset, "pca")
    assert isinstance(caught.value, RecsysError) and isinstance(caught.value, NotImplementedError)
    with pytest.raises(NoEmbeddingsError, match="learns no user vectors"):
        user_projection(FakeModel(None, None), dataset, "pca")


def test_vectors_of_another_data_set_are_rejected(dataset):
    with pytest.raises(ProjectionError, match="has 5 item vectors but the data set has 12 items"):
        item_projection(FakeModel(np.ones((5, 3)), None), dataset, "pca")
