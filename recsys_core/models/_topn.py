"""Top-n selection per row, compiled with numba: one pass over each row with an n-long sorted buffer.

The rule is :func:`recsys_core.models.base.rank_top_n`'s (higher score first,
then lower tie-break; NaN after every score; excluded and -inf entries never;
-1 padding). The numpy version there makes a dozen full-size temporaries per
block of scores; at 300k users x 60k items that was most of an evaluation's
time. ``base.rank_top_n_numpy`` stays as the reference the tests compare with.
"""
from __future__ import annotations

import numpy as np

try:  # numba compiles on first use (cached on disk next to this module)
    from numba import njit, prange
except ImportError:  # pragma: no cover - numba ships with umap-learn
    njit = None
    prange = range

if njit is not None:

    @njit(cache=True, nogil=True, parallel=True)
    def _top_rows(scores, tie_break, exclude, has_exclude, take, unscored):  # pragma: no cover - compiled
        n_rows, n_cols = scores.shape
        out = np.full((n_rows, take), -1, np.int64)
        keys = np.empty((n_rows, take))
        ranks = np.empty((n_rows, take), np.int64)
        columns = np.empty((n_rows, take), np.int64)
        for row in prange(n_rows):
            count = 0
            for col in range(n_cols):
                if has_exclude and exclude[row, col]:
                    continue
                score = scores[row, col]
                key = unscored if np.isnan(score) else -score
                if key == np.inf:  # a score of -inf is never a candidate, as in the numpy rule
                    continue
                rank = tie_break[col]
                if count == take:
                    worst_key = keys[row, take - 1]
                    if key > worst_key or (key == worst_key and rank >= ranks[row, take - 1]):
                        continue
                    position = take - 1
                else:
                    position = count
                    count += 1
                while position > 0 and (keys[row, position - 1] > key
                                        or (keys[row, position - 1] == key and ranks[row, position - 1] > rank)):
                    keys[row, position] = keys[row, position - 1]
                    ranks[row, position] = ranks[row, position - 1]
                    columns[row, position] = columns[row, position - 1]
                    position -= 1
                keys[row, position] = key
                ranks[row, position] = rank
                columns[row, position] = col
            for c in range(count):
                out[row, c] = columns[row, c]
        return out


def top_rows(scores: np.ndarray, take: int, tie_break: np.ndarray, exclude: np.ndarray | None,
             unscored: float) -> np.ndarray | None:
    """``(n_rows, take)`` column indices, or ``None`` where numba is missing (the caller then uses numpy)."""
    if njit is None:  # pragma: no cover - numba ships with umap-learn
        return None
    has_exclude = exclude is not None
    return _top_rows(np.ascontiguousarray(scores, dtype=np.float64), np.asarray(tie_break, dtype=np.int64),
                     np.ascontiguousarray(exclude) if has_exclude else np.zeros((1, 1), np.bool_),
                     has_exclude, int(take), float(unscored))


def warm_up() -> None:
    """Compile (or load from the disk cache) the kernel on a tiny input."""
    top_rows(np.array([[1.0, np.nan]]), 1, np.arange(2), np.zeros((1, 2), bool), 1e300)
    top_rows(np.array([[1.0, np.nan]]), 1, np.arange(2), None, 1e300)
