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
    def _row_sums(sims, row, members, values, start, stop, k, buffer, scratch):  # pragma: no cover - compiled
        """The k-NN sums of one target row over members[start:stop] (heapq.nlargest ties)."""
        n_members = stop - start
        n_positive = 0
        for p in range(n_members):
            s = sims[row, members[start + p]]
            buffer[p] = s
            if s > 0:
                n_positive += 1
        sum_w = 0.0
        sum_wv = 0.0
        count = 0
        if n_positive <= k:
            # Every positive similarity is among the k largest: no selection needed.
            for p in range(n_members):
                s = buffer[p]
                if s > 0:
                    sum_w += s
                    sum_wv += s * values[start + p]
            return sum_w, sum_wv, n_positive
        for p in range(n_members):
            scratch[p] = buffer[p]
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
                sum_w += s
                sum_wv += s * values[start + p]
                count += 1
        return sum_w, sum_wv, count

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
            sum_w[r], sum_wv[r], count[r] = _row_sums(sims, rows[r], members, values, 0, n_members, k,
                                                      buffer, scratch)
        return sum_w, sum_wv, count

    @njit(cache=True, nogil=True)
    def _grouped_select_sums(sims, rows, indptr, members, values, groups, k):  # pragma: no cover - compiled
        n_groups = groups.shape[0]
        n_rows = rows.shape[0]
        sum_w = np.zeros((n_groups, n_rows))
        sum_wv = np.zeros((n_groups, n_rows))
        count = np.zeros((n_groups, n_rows), dtype=np.int64)
        longest = 0
        for g in range(n_groups):
            longest = max(longest, indptr[groups[g] + 1] - indptr[groups[g]])
        buffer = np.empty(longest)
        scratch = np.empty(longest)
        for g in range(n_groups):
            start, stop = indptr[groups[g]], indptr[groups[g] + 1]
            if stop == start:
                continue
            for r in range(n_rows):
                sum_w[g, r], sum_wv[g, r], count[g, r] = _row_sums(sims, rows[r], members, values, start, stop, k,
                                                                   buffer, scratch)
        return sum_w, sum_wv, count

    @njit(cache=True, nogil=True)
    def _csr_select_sums(indptr, columns, data, values, k):  # pragma: no cover - compiled
        n_rows = indptr.shape[0] - 1
        sum_w = np.zeros(n_rows)
        sum_wv = np.zeros(n_rows)
        count = np.zeros(n_rows, dtype=np.int64)
        longest = 0
        for r in range(n_rows):
            longest = max(longest, indptr[r + 1] - indptr[r])
        buffer = np.empty(longest)
        scratch = np.empty(longest)
        order = np.arange(longest)
        for r in range(n_rows):
            start, stop = indptr[r], indptr[r + 1]
            if stop > start:
                # The row's stored entries play the members; unstored ones are 0 and never add to a sum.
                sum_w[r], sum_wv[r], count[r] = _row_sums(data[start:stop].reshape(1, -1), 0, order,
                                                          values[columns[start:stop]], 0, stop - start, k,
                                                          buffer, scratch)
        return sum_w, sum_wv, count


def csr_select_sums(block, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`select_sums` over a sparse (targets x members) block with sorted column indices.

    Only stored entries are candidates; an entry that is not stored has
    similarity 0, which never enters a sum, so the result equals the dense one.
    Work follows the stored entries instead of targets x members.
    """
    block = block.tocsr()
    block.sort_indices()
    values = np.ascontiguousarray(values, dtype=np.float64)
    if njit is None:
        return select_sums_numpy(block.toarray(), values, k)
    return _csr_select_sums(block.indptr.astype(np.int64), block.indices.astype(np.int64),
                            np.ascontiguousarray(block.data, dtype=np.float64), values, int(k))


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


def grouped_select_sums(sims: np.ndarray, rows: np.ndarray, indptr: np.ndarray, members: np.ndarray,
                        values: np.ndarray, groups: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`select_sums` for many member lists at once, in one compiled call.

    Group ``g`` has members ``members[indptr[g]:indptr[g + 1]]`` with ``values``
    alike (a CSR layout). Returns three ``(len(groups), len(rows))`` arrays.
    """
    rows = np.asarray(rows, np.int64)
    groups = np.asarray(groups, np.int64)
    if njit is None or not sims.flags.c_contiguous:
        out = [np.zeros((len(groups), len(rows))) for _ in range(3)]
        for position, group in enumerate(groups):
            start, stop = indptr[group], indptr[group + 1]
            if stop > start:
                for part, value in zip(out, select_sums_numpy(sims[rows][:, members[start:stop]], values[start:stop], k)):
                    part[position] = value
        return out[0], out[1], out[2].astype(np.int64)
    return _grouped_select_sums(sims, rows, np.asarray(indptr, np.int64), np.asarray(members, np.int64),
                                np.ascontiguousarray(values, dtype=np.float64), groups, int(k))


def warm_up() -> None:
    """Compile (or load from the on-disk cache) every kernel on tiny inputs.

    The dashboard calls this in a background thread at start, so the first
    k-NN fit on a fresh machine does not wait ~5 s for numba.
    """
    import scipy.sparse as sp

    sims = np.eye(3)
    rows = np.arange(3)
    values = np.ones(3)
    select_sums(sims, rows, rows, values, 1)
    grouped_select_sums(sims, rows, np.array([0, 3]), rows, values, np.array([0]), 1)
    csr_select_sums(sp.csr_matrix(sims), values, 1)
