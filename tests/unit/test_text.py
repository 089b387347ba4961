"""Text vectors: TF-IDF space and the cached sentence encoder."""
from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest
import scipy.sparse as sp

import recsys_core.text as text
from recsys_core.errors import DataValidationError
from recsys_core.projection import nearest_neighbours
from recsys_core.text import SentenceEncoder, default_cache_dir, tfidf_transform, tfidf_vectors

ITEM_TEXTS = [
    "Star Voyage. Sci-Fi. A starship crew explores a distant planet",
    "Red Planet. Sci-Fi. Astronauts land on Mars and explore the planet",
    "Wedding Bells. Romance, Comedy. Two rivals fall in love at a wedding",
    "Love Actually Maybe. Romance. A love story at a wedding in Paris",
    "Deep Crime. Thriller. A detective hunts a killer in the city",
]


# ------------------------------------------------------------------ TF-IDF
def test_tfidf_rows_are_unit_length_and_neighbours_share_words():
    vectors, vectorizer = tfidf_vectors(ITEM_TEXTS)
    assert sp.isspmatrix_csr(vectors) and vectors.shape[0] == 5
    assert vectors.shape[1] == len(vectorizer.vocabulary_)
    np.testing.assert_allclose(sp.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    assert "the" not in vectorizer.vocabulary_  # English stop words
    assert "distant planet" in vectorizer.vocabulary_  # bigrams
    assert nearest_neighbours(vectors, 0, n=1)[0][0] == 1
    assert nearest_neighbours(vectors, 2, n=1)[0][0] == 3


def test_tfidf_transform_puts_a_new_sentence_in_the_same_space():
    vectors, vectorizer = tfidf_vectors(ITEM_TEXTS)
    query = tfidf_transform(vectorizer, "I love a good wedding comedy")
    assert query.shape == (1, vectors.shape[1])
    similarity = (vectors @ query.T).toarray().ravel()
    assert similarity.argmax() == 2
    # Only unknown words: an all-zero row, not an error.
    assert tfidf_transform(vectorizer, ["zyxxy quokka"]).nnz == 0


def test_tfidf_params_override_defaults_and_missing_text_is_empty():
    vectors, vectorizer = tfidf_vectors(ITEM_TEXTS + [None], ngram_range=(1, 1), max_features=10)
    assert vectors.shape == (6, 10) and vectors[5].nnz == 0
    assert all(" " not in term for term in vectorizer.vocabulary_)


def test_tfidf_without_any_word_raises_a_readable_error():
    with pytest.raises(DataValidationError, match="None of the 2 item texts holds a word"):
        tfidf_vectors(["", "the and of"])


# -------------------------------------------------------- sentence encoder
class CountingModel:
    """Stands in for SentenceTransformer: a fixed unit vector per text, counting texts seen."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts, batch_size, normalize_embeddings, convert_to_numpy, show_progress_bar):
        assert normalize_embeddings and len(texts) <= batch_size
        self.calls.append(list(texts))
        rows = []
        for value in texts:
            seed = int(hashlib.sha1(value.encode()).hexdigest()[:8], 16)
            row = np.random.default_rng(seed).normal(size=text.SENTENCE_DIMENSION)
            rows.append(row / np.linalg.norm(row))
        return np.array(rows)

    @property
    def seen(self) -> list[str]:
        return [value for call in self.calls for value in call]


@pytest.fixture
def counting_model(monkeypatch) -> CountingModel:
    model = CountingModel()
    monkeypatch.setattr(text, "_load_model", lambda: model)
    return model


def test_encode_shape_dtype_and_each_text_encoded_once(counting_model, tmp_path):
    encoder = SentenceEncoder(tmp_path, batch_size=4)
    texts = [f"text {i}" for i in range(10)] + ["text 3"]  # a duplicate
    first = encoder.encode(texts)
    assert first.shape == (11, 384) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(first[3], first[10])
    assert sorted(counting_model.seen) == sorted(set(texts)) and len(counting_model.calls) == 3
    # Again, reordered and with one new text: only the new one reaches the model.
    again = encoder.encode(["new text", *reversed(texts)])
    assert counting_model.seen[10:] == ["new text"]
    np.testing.assert_array_equal(again[1:], first[::-1])
    assert encoder.n_encoded == 11


def test_progress_counts_texts_from_cached_to_total(counting_model, tmp_path):
    encoder = SentenceEncoder(tmp_path, batch_size=4)
    encoder.encode(["a", "b"])
    calls = []
    encoder.encode(["a", "b", "c", "d", "e", "f", "g"], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(2, 7), (6, 7), (7, 7), (7, 7)]


def test_disk_cache_serves_a_new_process_without_the_model(counting_model, tmp_path, monkeypatch):
    texts = ["a starship", "a wedding", "a detective", ""]
    first = SentenceEncoder(tmp_path, batch_size=2).encode(texts)
    assert len(list(tmp_path.glob("*.npz"))) == 2 and not list(tmp_path.glob("*.tmp"))
    monkeypatch.setattr(text, "_load_model", lambda: pytest.fail("model called for cached texts"))
    fresh = SentenceEncoder(tmp_path)  # empty memory, as in a new process
    np.testing.assert_array_equal(fresh.encode(texts[::-1]), first[::-1])
    assert fresh.n_encoded == 0


def test_memory_only_and_unwritable_cache(counting_model, tmp_path):
    memory_only = SentenceEncoder(tmp_path / "unused", disk_cache=False)
    memory_only.encode(["x"])
    assert not (tmp_path / "unused").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    encoder = SentenceEncoder(blocker / "cache")
    with pytest.warns(UserWarning, match="in this process only"):
        vectors = encoder.encode(["x", "y"])
    assert vectors.shape == (2, 384) and not encoder.disk_cache


def test_empty_input_does_not_load_the_model(monkeypatch, tmp_path):
    monkeypatch.setattr(text, "_load_model", lambda: pytest.fail("model loaded for no text"))
    assert SentenceEncoder(tmp_path).encode([]).shape == (0, 384)


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RECSYS_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "embeddings" / "all-MiniLM-L6-v2"
    monkeypatch.delenv("RECSYS_CACHE_DIR")
    assert default_cache_dir() == text.Path.home() / ".cache" / "recsys-lab" / "embeddings" / "all-MiniLM-L6-v2"


def test_real_model_places_similar_meanings_together(tmp_path):
    # Loads all-MiniLM-L6-v2 from the installed package (a few seconds), offline.
    vectors = SentenceEncoder(tmp_path).encode(
        [
            "a starship crew explores a distant planet",
            "astronauts travel through space",
            "a romantic comedy about a wedding",
        ]
    )
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    space, romance = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert space > romance + 0.2, (space, romance)
