"""The k-NN inner loop, compiled with numba (a dependency of umap-learn).

For each target row of a similarity block, choose the ``k`` largest
similarities among the given member columns exactly as ``heapq.nlargest``
does (ties at the threshold: earlier members first), then sum the positive
ones and their weighted values. One pass per row with a small buffer, instead
of numpy's partition + cumsum over the whole (targets x members) block.

``select_sums_numpy`` is the same computation in numpy; it is the reference
the tests compare against and the fall-back where numba cannot load.
"""
from __future__ import annotations

import numpy as np

try:  # numba compiles on first use (cached on disk next to this module)
    from numba import njit
except ImportError:  # pragma: no cover - numba ships with umap-learn
    njit = None


def select_sums_numpy(sims: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum of chosen positive similarities, of similarity x value, and their count, per row."""
    n_cols = sims.shape[1]
    if n_cols <= k:
        chosen = np.ones(sims.shape, dtype=bool)
    else:
        kth = -np.partition(-sims, k - 1, axis=1)[:, k - 1 : k]
        greater = sims > kth
        equal = sims == kth
        room = k - greater.sum(axis=1, keepdims=True)
        chosen = greater | (equal & (np.cumsum(equal, axis=1) <= room))
    chosen &= sims > 0
    weights = np.where(chosen, sims, 0.0)
    return weights.sum(axis=1), weights @ values, chosen.sum(axis=1)


if njit is not None:

    @njit(cache=True, nogil=True)
    def _kth_largest(scratch, n, k):  # pragma: no cover - compiled
        """k-th largest of scratch[:n] by in-place quickselect (Hoare); scratch is scrambled."""
        target = n - k
        low, high = 0, n - 1
        while low < high:
            pivot = scratch[(low + high) >> 1]
            i, j = low, high
            while i <= j:
                while scratch[i] < pivot:
                    i += 1
                while scratch[j] > pivot:
                    j -= 1
                if i <= j:
                    scratch[i], scratch[j] = scratch[j], scratch[i]
                    i += 1
                    j -= 1
            if target <= j:
                high = j
            elif target >= i:
                low = i
            else:
                return scratch[target]
        return scratch[target]

    @njit(cache=True, nogil=True)
    def _select_sums(sims, rows, members, values, k):  # pragma: no cover - compiled
        n_rows = rows.shape[0]
        n_members = members.shape[0]
        sum_w = np.zeros(n_rows)
        sum_wv = np.zeros(n_rows)
        count = np.zeros(n_rows, dtype=np.int64)
        buffer = np.empty(n_members)
        scratch = np.empty(n_members)
        for r in range(n_rows):
            row = rows[r]
            n_positive = 0
            for p in range(n_members):
                s = sims[row, members[p]]
                buffer[p] = s
                if s > 0:
                    n_positive += 1
            if n_positive <= k:
                # Every positive similarity is among the k largest: no selection needed.
                for p in range(n_members):
                    s = buffer[p]
                    if s > 0:
                        sum_w[r] += s
                        sum_wv[r] += s * values[p]
                count[r] = n_positive
                continue
            scratch[:] = buffer
            kth = _kth_largest(scratch, n_members, k)
            room = k
            for p in range(n_members):
                if buffer[p] > kth:
                    room -= 1
            for p in range(n_members):
                s = buffer[p]
                take = s > kth
                if not take and s == kth and room > 0:
                    take = True
                    room -= 1
                if take and s > 0:
                    sum_w[r] += s
                    sum_wv[r] += s * values[p]
                    count[r] += 1
        return sum_w, sum_wv, count


def select_sums(sims: np.ndarray, rows: np.ndarray | None, members: np.ndarray, values: np.ndarray,
                k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each ``rows`` entry of ``sims``: the k-NN sums over the ``members`` columns.

    Returns ``(sum of similarities, sum of similarity x value, number of neighbours)``
    over the chosen neighbours with positive similarity.
    """
    if rows is None:
        rows = np.arange(sims.shape[0])
    if njit is None or not sims.flags.c_contiguous:
        return select_sums_numpy(sims[rows][:, members], values, k)
    return _select_sums(sims, np.asarray(rows, np.int64), np.asarray(members, np.int64),
                        np.ascontiguousarray(values, dtype=np.float64), int(k))
