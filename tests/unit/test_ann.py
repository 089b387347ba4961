"""Nearest neighbours of sentence vectors: the approximate index, its wiring, and the on-disk text cache."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from recsys_core import ann, cold_start, synthetic, text
from recsys_core.ann import VectorIndex
from recsys_core.dataset import Dataset
from recsys_core.models import make_model


def clustered(n: int, seed: int, dimension: int = 64, n_centres: int = 200) -> np.ndarray:
    """Points around 200 fixed random centres (the same centres for every seed)."""
    centres = np.random.default_rng(0).standard_normal((n_centres, dimension))
    rng = np.random.default_rng(seed)
    return centres[rng.integers(0, n_centres, n)] + 0.5 * rng.standard_normal((n, dimension))


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(np.intersect1d(a, b)) / truth.shape[1] for a, b in zip(found, truth)]))


@pytest.fixture(autouse=True)
def fresh_index_cache():
    ann.clear_cache()
    yield
    ann.clear_cache()


@pytest.fixture(scope="module")
def catalogue_20k():
    return clustered(20_000, seed=1), clustered(200, seed=2)


# ------------------------------------------------------------------ the index
def test_approximate_top10_recall_against_exact_on_20k_clustered_vectors(catalogue_20k):
    vectors, queries = catalogue_20k
    index = VectorIndex.build(vectors, seed=0)
    exact = VectorIndex.build(vectors, exact_below=len(vectors) + 1)
    assert not index.exact and exact.exact and 0 < index.n_probe < index.n_lists
    ids, sims = index.query(queries, 10)
    truth, truth_sims = exact.query(queries, 10)
    assert recall(ids, truth) >= 0.95
    # Returned similarities are the real cosines of the returned items, most similar first.
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = np.einsum("qd,qkd->qk", queries / np.linalg.norm(queries, axis=1, keepdims=True), unit[ids])
    np.testing.assert_allclose(sims, cosines, atol=1e-5)
    assert (np.diff(sims, axis=1) <= 1e-6).all()
    np.testing.assert_allclose(truth_sims[:, 0], sims[:, 0], atol=1e-5)  # the best match is found


def test_same_vectors_and_seed_give_the_same_index_and_answers():
    vectors, queries = clustered(5000, seed=8), clustered(100, seed=9)
    first = VectorIndex.build(vectors, seed=3, exact_below=1000).query(queries, 10)
    ann.clear_cache()  # a real rebuild, not the cached object
    second = VectorIndex.build(vectors, seed=3, exact_below=1000).query(queries, 10)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_built_index_is_reused_for_the_same_vectors_and_parameters():
    vectors = clustered(500, seed=4)
    index = VectorIndex.build(vectors, seed=0)
    assert VectorIndex.build(vectors.copy(), seed=0) is index  # keyed by the bytes, not the object
    assert VectorIndex.build(vectors, seed=1) is not index
    changed = vectors.copy()
    changed[0, 0] += 1.0
    assert VectorIndex.build(changed, seed=0) is not index
    ann.clear_cache()
    assert VectorIndex.build(vectors, seed=0) is not index


def test_below_the_threshold_search_is_exact_with_ties_to_the_lower_row():
    vectors = clustered(300, seed=5, dimension=16)
    vectors[7] = vectors[3] * 2.0  # same direction as row 3: equal cosine to any query
    index = VectorIndex.build(vectors)
    assert index.exact and len(vectors) < ann.EXACT_BELOW
    queries = np.vstack([vectors[3], clustered(20, seed=6, dimension=16)])
    ids, sims = index.query(queries, 5)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ unit.T
    np.testing.assert_array_equal(ids, np.argsort(-np.round(cosines, 5), axis=1, kind="stable")[:, :5])
    assert list(ids[0, :2]) == [3, 7]
    # Asking for more than there is pads with -1 / -inf; a single vector is one query.
    ids, sims = index.query(vectors[0], 302)
    assert ids.shape == (1, 302) and list(ids[0, -2:]) == [-1, -1] and np.isneginf(sims[0, -2:]).all()


def test_queries_of_the_wrong_width_are_refused():
    index = VectorIndex.build(clustered(50, seed=7, dimension=8))
    with pytest.raises(ValueError, match="8"):
        index.query(np.ones(9), 3)


# ------------------------------------------------- text vectors: encoded once
class CountingModel:
    """Stands in for the sentence model: a fixed unit vector per text, counting the texts it encodes."""

    def __init__(self) -> None:
        self.n_texts = 0

    def encode(self, texts, batch_size, normalize_embeddings, convert_to_numpy, show_progress_bar):
        self.n_texts += len(texts)
        rows = [np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)).normal(size=384)
                for t in texts]
        return np.array([row / np.linalg.norm(row) for row in rows])


@pytest.fixture
def counting_model(monkeypatch, tmp_path):
    """The fake model behind a process-wide encoder whose disk cache is in ``tmp_path``."""
    model = CountingModel()
    monkeypatch.setattr(text, "_load_model", lambda: model)
    monkeypatch.setenv("RECSYS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(text, "_ENCODER", None)
    monkeypatch.setattr(cold_start, "_MEANING_CACHE", {})
    monkeypatch.setattr(cold_start, "_MEANING_INDEX", {})
    return model


@pytest.fixture(scope="module")
def dataset():
    ratings, items, users = synthetic.generate(n_users=200, n_items=400, n_ratings=8000, seed=11)
    return Dataset.from_frames(ratings, rating_scale=(1, 5), items=items, users=users, name="ann")


def test_a_refit_after_a_restart_reads_item_vectors_from_disk_not_the_model(counting_model, dataset, monkeypatch):
    progress = []
    first = make_model("content-sbert").fit(dataset, progress=lambda e: progress.append(e.message))
    assert counting_model.n_texts == dataset.n_items
    assert any("encoding item texts" in message for message in progress)
    # A new process: no encoder, nothing in memory; the same cache directory.
    monkeypatch.setattr(text, "_ENCODER", None)
    again = make_model("content-sbert").fit(dataset)
    assert counting_model.n_texts == dataset.n_items, "the model was called again for cached texts"
    assert text.get_encoder().n_encoded == 0
    np.testing.assert_array_equal(again.item_vectors_, first.item_vectors_)


# ------------------------------------------------------ wiring above the threshold
def test_meaning_scores_on_a_large_catalogue_score_only_the_indexed_candidates(counting_model, dataset, monkeypatch):
    sentence = "a starship crew far from home"
    exact, how = cold_start.meaning_scores(dataset, sentence)
    assert how == "meaning" and np.isfinite(exact).all()
    monkeypatch.setattr(ann, "EXACT_BELOW", 100)  # 400 items now count as large
    monkeypatch.setattr(cold_start, "MEANING_CANDIDATES", 20)
    approximate, how = cold_start.meaning_scores(dataset, sentence)
    scored = np.flatnonzero(np.isfinite(approximate))
    assert how == "meaning" and 20 < len(scored) <= 40 and np.isneginf(approximate[~np.isfinite(approximate)]).all()
    np.testing.assert_allclose(approximate[scored], exact[scored], rtol=1e-12)
    # Every cell is probed at this size, so both ends are the exact ones.
    order = np.argsort(-exact, kind="stable")
    assert set(order[:20]) | set(order[-20:]) == set(scored)


def test_free_text_cold_start_is_unchanged_when_the_index_finds_both_ends(counting_model, dataset, monkeypatch):
    model = make_model("svd").fit(dataset)  # needs contrast: the least close items are folded in as disliked
    assert model.fold_in_needs_contrast
    sentence = "a quiet family drama"
    exact = cold_start.from_text(model, sentence, n=10)
    monkeypatch.setattr(ann, "EXACT_BELOW", 100)
    monkeypatch.setattr(cold_start, "MEANING_CANDIDATES", 30)
    approximate = cold_start.from_text(model, sentence, n=10)
    assert exact.recommendations is not None and approximate.note == exact.note
    assert approximate.recommendations.equals(exact.recommendations)


def test_content_sbert_neighbours_from_the_index_match_exact_search(counting_model, dataset, monkeypatch):
    exact = make_model("content-sbert", max_dense=50, max_neighbours=30).fit(dataset)
    assert exact.sparse_
    monkeypatch.setattr(ann, "EXACT_BELOW", 100)
    messages = []
    approximate = make_model("content-sbert", max_dense=50, max_neighbours=30).fit(
        dataset, progress=lambda e: messages.append(e.message))
    assert any("approximate index" in message for message in messages)
    assert approximate.sim_.nnz == exact.sim_.nnz
    np.testing.assert_array_equal(approximate.sim_.indices, exact.sim_.indices)
    np.testing.assert_allclose(approximate.sim_.data, exact.sim_.data, atol=1e-6)
    for item in dataset.item_ids[:5]:
        assert list(approximate.similar_items(item, n=10)["item"]) == list(exact.similar_items(item, n=10)["item"])
