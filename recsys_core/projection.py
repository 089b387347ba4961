"""2-D coordinates of any model's item or user vectors, for the embedding maps.

Three projections, all seeded and pure functions of their input:

* PCA (``"pca"``) -- the linear view; any number of points, fast.
* t-SNE (``"tsne"``, van der Maaten & Hinton 2008) -- keeps local
  neighbourhoods; distances between far-apart clusters mean little.
* UMAP (``"umap"``, McInnes, Healy & Melville 2018) -- like t-SNE, keeps
  somewhat more global structure. Its first fit in a process spends ~10 s
  compiling numba code; with a ``random_state`` it runs single-threaded.

Geometry is cosine throughout, as the models' similar-item lists are: rows are
L2-normalised before projecting (``normalize=True``), UMAP uses the cosine
metric, and :func:`nearest_neighbours` ranks by cosine in the *original*
space, never in 2-D. Sparse input (TF-IDF) is projected by PCA without
densifying, and reduced to 50 dimensions by truncated SVD (LSA) before t-SNE
or UMAP.

t-SNE and UMAP cost grows faster than linearly, so above ``max_points``
(default 5,000) they are fitted on a seeded sample and every other point is
placed at the similarity-weighted mean position of its 5 most similar sampled
points (cosine, original space). The frames mark such points with
``interpolated``.
"""
from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Callable, Hashable, Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA, TruncatedSVD
from threadpoolctl import threadpool_limits  # a scikit-learn dependency

from .dataset import Dataset
from .errors import RecsysError
from .vectors import unit_rows

METHODS = ("pca", "tsne", "umap")
METHOD_LABELS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
#: Points above which t-SNE and UMAP are fitted on a seeded sample.
MAX_POINTS = 5_000
#: Fewest points t-SNE and UMAP can say anything about.
MIN_POINTS = 5
#: Dimensions sparse input is reduced to before t-SNE / UMAP.
SPARSE_COMPONENTS = 50
#: Bucket labels in display order (for legends).
POPULARITY_BUCKETS = ("head", "mid", "tail")
ACTIVITY_BUCKETS = ("heavy", "medium", "light")
#: Share of items (users) in the top bucket, and in top + middle buckets.
BUCKET_QUANTILES = (0.8, 0.5)
NO_GENRE = "(none)"

_NEIGHBOURS_FOR_PLACEMENT = 5
_BLOCK_ROWS = 2048
_OPENMP_LOCK = threading.Lock()


class ProjectionError(RecsysError, ValueError):
    """The vectors cannot be projected as asked (the message says why and what to do)."""


class NoEmbeddingsError(RecsysError, NotImplementedError):
    """The model learns no vectors of this kind, so there is nothing to draw."""


# ----------------------------------------------------------------- project
def project(
    vectors: np.ndarray | sp.spmatrix,
    method: str = "pca",
    seed: int = 0,
    *,
    normalize: bool = True,
    max_points: int = MAX_POINTS,
    **params: Any,
) -> np.ndarray:
    """2-D coordinates of the rows of ``vectors``.

    Parameters
    ----------
    vectors : ndarray or sparse matrix, shape (n, d)
        Finite values; all-zero rows are allowed (they stay at the origin's
        image).
    method : {"pca", "tsne", "umap"}
    seed : int
        Random state of the method (and of the sample above ``max_points``).
    normalize : bool
        L2-normalise rows first, so the map shows cosine geometry (item
        popularity often lives in a vector's length, and would otherwise
        dominate PCA).
    max_points : int
        Above this many rows, t-SNE and UMAP are fitted on a seeded sample and
        the rest placed by their nearest sampled neighbours (module notes).
    **params
        Passed on to :class:`~sklearn.decomposition.PCA`,
        :class:`~sklearn.manifold.TSNE` or :class:`umap.UMAP`, overriding
        the defaults (t-SNE: ``perplexity=min(30, (n-1)/3)``, ``init="pca"``;
        UMAP: ``n_neighbors=min(15, n-1)``, ``min_dist=0.1``,
        ``metric="cosine"``).

    Returns
    -------
    ndarray of float64, shape (n, 2)

    Raises
    ------
    ProjectionError
        Unknown method, non-finite values, or fewer than :data:`MIN_POINTS`
        rows for t-SNE / UMAP.
    """
    method = _check_method(method)
    vectors = _as_matrix(vectors)
    n = vectors.shape[0]
    if n == 0:
        return np.zeros((0, 2))
    if normalize:
        vectors = unit_rows(vectors)
    if method == "pca":
        return _pca(vectors, seed, **params)
    if n < MIN_POINTS:
        raise ProjectionError(
            f"{METHOD_LABELS[method]} needs at least {MIN_POINTS} points to place; there are {n}. "
            "Use PCA for so few."
        )
    if sp.issparse(vectors):
        vectors = _reduce_sparse(vectors, seed)
    fitted = fitted_rows(n, method, seed, max_points)
    coords = np.empty((n, 2))
    fit = _tsne if method == "tsne" else _umap
    coords[fitted] = fit(vectors[fitted], seed, **params)
    if len(fitted) < n:
        rest = np.setdiff1d(np.arange(n), fitted)
        coords[rest] = _place_by_neighbours(vectors[rest], vectors[fitted], coords[fitted])
    return coords


def fitted_rows(n: int, method: str, seed: int = 0, max_points: int = MAX_POINTS) -> np.ndarray:
    """Row positions the method is fitted on (all rows, or the seeded sample), sorted."""
    if _check_method(method) == "pca" or n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng([int(seed), 104_729])
    return np.sort(rng.choice(n, size=int(max_points), replace=False))


def _check_method(method: str) -> str:
    key = str(method).lower().replace("-", "").replace("_", "")
    if key not in METHODS:
        raise ProjectionError(f"Unknown projection '{method}'; choose one of: PCA, t-SNE, UMAP.")
    return key


def _as_matrix(vectors: Any) -> np.ndarray | sp.csr_matrix:
    if sp.issparse(vectors):
        matrix = sp.csr_matrix(vectors, dtype=np.float64)
        values = matrix.data
    else:
        matrix = np.asarray(vectors, dtype=np.float64)
        if matrix.ndim == 1:
            matrix = matrix[:, None]
        values = matrix
    if matrix.ndim != 2:
        raise ProjectionError(f"Expected one vector per row (a 2-D array); got shape {matrix.shape}.")
    if not np.isfinite(values).all():
        raise ProjectionError(
            "The vectors hold NaN or infinite values; drop those rows before projecting "
            "(item_projection and user_projection do)."
        )
    return matrix





def _pca(vectors: np.ndarray | sp.csr_matrix, seed: int, **params: Any) -> np.ndarray:
    n, d = vectors.shape
    components = min(2, n, d)
    coords = np.zeros((n, 2))
    if n < 2 or components < 1:
        return coords
    if sp.issparse(vectors):
        if min(n, d) > 2:
            # arpack centres sparse input implicitly: a true PCA without densifying.
            params = {"svd_solver": "arpack", **params}
        else:
            vectors = vectors.toarray()
    model = PCA(n_components=components, random_state=seed, **params)
    coords[:, :components] = model.fit_transform(vectors)
    return coords


def _reduce_sparse(vectors: sp.csr_matrix, seed: int) -> np.ndarray:
    """LSA: truncated SVD to at most 50 dimensions, rows re-normalised (cosine kept)."""
    components = min(SPARSE_COMPONENTS, vectors.shape[1] - 1, vectors.shape[0] - 1)
    if components < 2:
        return vectors.toarray()
    reduced = TruncatedSVD(n_components=components, random_state=seed).fit_transform(vectors)
    return unit_rows(reduced)


@contextmanager
def _one_openmp_thread() -> Iterator[None]:
    """Run scikit-learn's OpenMP loops (t-SNE gradient, k-means) on one thread.

    Measured on the 2-core box the dashboard runs on, shared with the server
    and model fits: t-SNE of 600 points took 4-6 s on one thread and 18-55 s
    on two, whose OpenMP workers spin waiting for a busy core. The limit is
    process-wide while it lasts, so one lock keeps concurrent sessions from
    restoring each other's settings out of order.
    """
    with _OPENMP_LOCK, threadpool_limits(limits=1, user_api="openmp"):
        yield


def _tsne(vectors: np.ndarray, seed: int, **params: Any) -> np.ndarray:
    from sklearn.manifold import TSNE

    n = vectors.shape[0]
    # On unit rows Euclidean distance is a monotone function of cosine.
    # 500 iterations instead of scikit-learn's 1,000: the map is settled for a dashboard view, in half the time.
    options = {"perplexity": min(30.0, (n - 1) / 3), "init": "pca", "random_state": seed, "max_iter": 500, **params}
    with _one_openmp_thread():
        return TSNE(n_components=2, **options).fit_transform(vectors)


def _umap(vectors: np.ndarray, seed: int, **params: Any) -> np.ndarray:
    import umap  # numba-compiled: slow first import and first fit

    n = vectors.shape[0]
    options = {
        "n_neighbors": min(15, n - 1),
        "min_dist": 0.1,
        "metric": "cosine",
        "random_state": seed,
        "n_jobs": 1,  # a random_state forces 1 anyway; saying so avoids umap's warning
        **params,
    }
    with warnings.catch_warnings():
        # Tiny or disconnected graphs make umap fall back from spectral to random
        # initialisation with a warning; the map is still drawn and seeded.
        warnings.filterwarnings("ignore", message=".*[Ss]pectral initiali[sz]ation failed.*")
        warnings.filterwarnings("ignore", message=".*Graph is not fully connected.*")
        return np.asarray(umap.UMAP(n_components=2, **options).fit_transform(vectors), dtype=np.float64)


def _place_by_neighbours(rest: np.ndarray, anchors: np.ndarray, anchor_coords: np.ndarray) -> np.ndarray:
    """Similarity-weighted mean position of each row's most similar anchors (by cosine)."""
    k = min(_NEIGHBOURS_FOR_PLACEMENT, anchors.shape[0])
    rest, anchors = unit_rows(rest), unit_rows(anchors)
    out = np.empty((rest.shape[0], 2))
    for start in range(0, rest.shape[0], _BLOCK_ROWS):
        similarity = rest[start : start + _BLOCK_ROWS] @ anchors.T
        best = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        weights = np.clip(np.take_along_axis(similarity, best, axis=1), 0.0, None) + 1e-6
        weights /= weights.sum(axis=1, keepdims=True)
        out[start : start + _BLOCK_ROWS] = np.einsum("rk,rkc->rc", weights, anchor_coords[best])
    return out


# ------------------------------------------------------------------ cache
_CACHE: OrderedDict[tuple, np.ndarray] = OrderedDict()
_CACHE_LOCK = threading.Lock()
#: Projections kept by :func:`project_cached` (each n x 2 floats: small).
CACHE_SIZE = 32


def vectors_key(vectors: np.ndarray | sp.spmatrix) -> str:
    """Content hash of a vector matrix (a few ms for thousands of rows)."""
    digest = hashlib.sha1()
    if sp.issparse(vectors):
        matrix = sp.csr_matrix(vectors)
        digest.update(repr(("csr", matrix.shape, matrix.dtype.str)).encode())
        for part in (matrix.data, matrix.indices, matrix.indptr):
            digest.update(np.ascontiguousarray(part).tobytes())
    else:
        array = np.ascontiguousarray(vectors)
        digest.update(repr(("dense", array.shape, array.dtype.str)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def project_cached(
    key: Hashable | None,
    vectors: np.ndarray | sp.spmatrix,
    method: str = "pca",
    seed: int = 0,
    **params: Any,
) -> np.ndarray:
    """:func:`project` through a small process-wide LRU, so switching back is instant.

    ``key`` names the vectors (e.g. dataset fingerprint + model + parameters);
    ``None`` uses their content hash. The entry is keyed on (key, method,
    seed, shape, params). The array returned is read-only because it is
    shared; copy it to change it. Projections are pure functions of their
    input, so sharing them between sessions is safe.
    """
    method = _check_method(method)
    if key is None:
        key = vectors_key(vectors)
    entry = (key, method, int(seed), tuple(vectors.shape), tuple(sorted((k, repr(v)) for k, v in params.items())))
    return _memoised(entry, lambda: project(vectors, method, seed, **params))


def _memoised(entry: tuple, compute: Callable[[], np.ndarray]) -> np.ndarray:
    with _CACHE_LOCK:
        if entry in _CACHE:
            _CACHE.move_to_end(entry)
            return _CACHE[entry]
    # Computed outside the lock: two sessions asking at once may both compute.
    result = compute()
    result.setflags(write=False)
    with _CACHE_LOCK:
        _CACHE[entry] = result
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def clear_projection_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


# -------------------------------------------------------------- neighbours
def nearest_neighbours(
    vectors: np.ndarray | sp.spmatrix, index: int, n: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` rows most similar to row ``index`` by cosine in the original space.

    The row itself is left out; ties go to the lower row index; zero rows have
    similarity 0 to everything, rows with NaN are never returned.

    Returns
    -------
    indices : ndarray of int64, shape (<= n,)
    similarities : ndarray of float64, same shape, best first
    """
    n_rows = vectors.shape[0]
    index = int(index)
    if not 0 <= index < n_rows:
        raise IndexError(f"Row {index} is outside the {n_rows} vectors.")
    if sp.issparse(vectors):
        matrix = sp.csr_matrix(vectors, dtype=np.float64)
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        similarity = np.asarray((matrix @ matrix[index].T).todense()).ravel()
        valid = np.ones(matrix.shape[0], dtype=bool)
    else:
        matrix = np.asarray(vectors, dtype=np.float64)
        valid = np.isfinite(matrix).all(axis=1)
        matrix = np.where(valid[:, None], matrix, 0.0)
        norms = np.linalg.norm(matrix, axis=1)
        similarity = matrix @ matrix[index]
    query_norm = norms[index] if norms[index] > 0 else 1.0
    similarity = similarity / (np.where(norms > 0, norms, 1.0) * query_norm)
    valid[index] = False
    candidates = np.flatnonzero(valid)
    # lexsort: last key primary -> by similarity descending, then by index.
    order = candidates[np.lexsort((candidates, -similarity[candidates]))][: max(0, int(n))]
    return order.astype(np.int64), similarity[order]


# ------------------------------------------------------------------ frames
def item_projection(
    model: Any, dataset: Dataset, method: str = "pca", seed: int = 0, *, n_clusters: int | None = None
) -> pd.DataFrame:
    """A map of the items the model has vectors for, one row per item.

    Columns: ``x``, ``y``, ``item_idx``, ``item``, ``title``, ``genres``
    (pipe-joined, "" if unknown), ``genre`` (the first genre, or "(none)"),
    ``genre_truth`` (when the data set has it), ``popularity`` (interactions
    in ``dataset``), ``popularity_bucket`` (head = top 20% of items by
    popularity, tail = bottom 50%, mid between), ``cluster`` (k-means on the
    normalised original vectors, k = number of genres unless given) and
    ``interpolated`` (placed by neighbours rather than fitted, see module
    notes).

    Items whose vector is missing (NaN) or all zero are left out.

    Raises
    ------
    NoEmbeddingsError
        The model learns no item vectors.
    """
    rows, vectors, coords = _project_rows(
        model, model.item_embeddings(), dataset.n_items, "item", method, seed,
        "choose SVD, ALS, a content model (TF-IDF or sentence embeddings) or another model that learns item "
        "vectors to see an item map.")
    items = dataset.items
    genres = items["genres"].fillna("").astype(str).to_numpy()[rows] if "genres" in items else np.full(len(rows), "")
    frame = pd.DataFrame(
        {
            "x": coords[:, 0],
            "y": coords[:, 1],
            "item_idx": rows,
            "item": dataset.item_ids[rows].astype(str),
            "title": items["title"].to_numpy()[rows],
            "genres": genres,
            "genre": [_first_genre(value) for value in genres],
        }
    )
    if "genre_truth" in items.columns:
        frame["genre_truth"] = items["genre_truth"].to_numpy()[rows]
    counts = dataset.item_counts
    frame["popularity"] = counts[rows]
    frame["popularity_bucket"] = _buckets(counts, POPULARITY_BUCKETS)[rows]
    if n_clusters is None:
        n_clusters = len({genre for value in genres for genre in value.split("|") if genre.strip()})
    return _with_clusters(frame, vectors, n_clusters, method, seed)


def user_projection(
    model: Any, dataset: Dataset, method: str = "pca", seed: int = 0, *, n_clusters: int | None = None
) -> pd.DataFrame:
    """A map of the users the model has vectors for, one row per user.

    Columns: ``x``, ``y``, ``user_idx``, ``user``, ``n_ratings``,
    ``activity_bucket`` (heavy = top 20% of users by ratings, light = bottom
    50%, medium between), every user metadata column of the data set (e.g.
    ``segment``, age, gender; a name that clashes with the columns here gets
    a ``_meta`` suffix), ``cluster`` (k-means on the normalised original
    vectors, k = number of segments, else of genres, unless given) and
    ``interpolated``.

    Raises
    ------
    NoEmbeddingsError
        The model learns no user vectors.
    """
    rows, vectors, coords = _project_rows(
        model, model.user_embeddings(), dataset.n_users, "user", method, seed,
        "choose SVD, ALS or another factor model that learns a vector per user to see a user map.")
    counts = dataset.user_counts
    frame = pd.DataFrame(
        {
            "x": coords[:, 0],
            "y": coords[:, 1],
            "user_idx": rows,
            "user": dataset.user_ids[rows].astype(str),
            "n_ratings": counts[rows],
            "activity_bucket": _buckets(counts, ACTIVITY_BUCKETS)[rows],
        }
    )
    reserved = set(frame.columns) | {"cluster", "interpolated"}
    for column in dataset.users.columns:
        if column == "user":
            continue
        name = f"{column}_meta" if column in reserved else column
        frame[name] = dataset.users[column].to_numpy()[rows]
    if n_clusters is None:
        if "segment" in dataset.users.columns:
            n_clusters = dataset.users["segment"].nunique()
        elif "genres" in dataset.items.columns:
            n_clusters = len({g for value in dataset.items["genres"].dropna() for g in str(value).split("|") if g})
        else:
            n_clusters = 0
    return _with_clusters(frame, vectors, n_clusters, method, seed)


def _project_rows(model: Any, vectors: Any, expected: int, kind: str, method: str, seed: int, advice: str):
    """The skeleton both maps share: usable rows of the model's vectors and their 2-D coordinates."""
    if vectors is None:
        raise NoEmbeddingsError(f"{_model_name(model)} learns no {kind} vectors; {advice}")
    rows, vectors = _usable_rows(vectors, expected, kind, model)
    return rows, vectors, project_cached(vectors_key(vectors), vectors, method, seed)


def _with_clusters(frame: pd.DataFrame, vectors: Any, n_clusters: int, method: str, seed: int) -> pd.DataFrame:
    frame["cluster"] = _clusters(vectors, n_clusters, seed)
    frame["interpolated"] = _interpolated(len(frame), method, seed)
    return frame


def _model_name(model: Any) -> str:
    return getattr(model, "name", "") or type(model).__name__


def _usable_rows(vectors: Any, expected: int, kind: str, model: Any) -> tuple[np.ndarray, Any]:
    """Positions with a usable vector (finite, not all zero) and those vectors."""
    if sp.issparse(vectors):
        matrix = sp.csr_matrix(vectors, dtype=np.float64)
        finite = np.ones(matrix.shape[0], dtype=bool)
        bad_rows = np.unique(np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))[~np.isfinite(matrix.data)])
        finite[bad_rows] = False
        nonzero = np.diff(matrix.indptr) > 0
    else:
        matrix = np.asarray(vectors, dtype=np.float64)
        finite = np.isfinite(matrix).all(axis=1)
        nonzero = (np.where(np.isfinite(matrix), matrix, 0.0) != 0).any(axis=1)
    if matrix.shape[0] != expected:
        raise ProjectionError(
            f"{_model_name(model)} has {matrix.shape[0]} {kind} vectors but the data set has "
            f"{expected} {kind}s; fit the model on this data set (or a split of it) first."
        )
    rows = np.flatnonzero(finite & nonzero)
    return rows, matrix[rows]


def _first_genre(genres: str) -> str:
    for genre in genres.split("|"):
        if genre.strip():
            return genre.strip()
    return NO_GENRE


def _buckets(counts: np.ndarray, labels: tuple[str, str, str]) -> np.ndarray:
    """Top / middle / bottom label per entry by quantiles; equal counts share a label."""
    counts = np.asarray(counts)
    out = np.full(len(counts), labels[2], dtype=object)
    if len(counts) == 0:
        return out
    high, low = np.quantile(counts, BUCKET_QUANTILES)
    out[counts > low] = labels[1]
    out[(counts >= high) & (counts > low)] = labels[0]
    return out


def _clusters(vectors: Any, n_clusters: int, seed: int) -> np.ndarray:
    n = vectors.shape[0]
    if not n_clusters:
        # Nothing to match the clusters to: a common rule of thumb, sqrt(n / 2).
        n_clusters = round(np.sqrt(n / 2))
    k = int(min(max(2, n_clusters), 30, n))
    if n < 2 or k < 2:
        return np.zeros(n, dtype=np.int64)

    def fit() -> np.ndarray:
        # On unit rows k-means groups by cosine, the geometry the map shows.
        model = KMeans(n_clusters=k, n_init=4, random_state=seed)
        with _one_openmp_thread():
            return model.fit_predict(unit_rows(vectors)).astype(np.int64)

    return _memoised((vectors_key(vectors), "kmeans", k, int(seed)), fit)


def _interpolated(n: int, method: str, seed: int) -> np.ndarray:
    placed = np.ones(n, dtype=bool)
    placed[fitted_rows(n, method, seed)] = False
    return placed
