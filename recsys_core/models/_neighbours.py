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
    from numba import get_num_threads, njit, prange
except ImportError:  # pragma: no cover - numba ships with umap-learn
    njit = None
    prange = range

#: Similarity measures of the sparse top-neighbour kernel, by code.
MEASURES = ("msd", "cosine", "pearson", "pearson_baseline")


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

    @njit(cache=True, nogil=True, parallel=True)
    def _grouped_select_sums(sims, rows, indptr, members, values, groups, k, n_threads):  # pragma: no cover
        # Groups are independent: threads take every n_threads-th group (heavy groups spread out),
        # each with its own buffers, so the numbers do not depend on the thread count.
        n_groups = groups.shape[0]
        n_rows = rows.shape[0]
        sum_w = np.zeros((n_groups, n_rows))
        sum_wv = np.zeros((n_groups, n_rows))
        count = np.zeros((n_groups, n_rows), dtype=np.int64)
        longest = 0
        for g in range(n_groups):
            longest = max(longest, indptr[groups[g] + 1] - indptr[groups[g]])
        for thread in prange(n_threads):
            buffer = np.empty(longest)
            scratch = np.empty(longest)
            for g in range(thread, n_groups, n_threads):
                start, stop = indptr[groups[g]], indptr[groups[g] + 1]
                if stop == start:
                    continue
                for r in range(n_rows):
                    sum_w[g, r], sum_wv[g, r], count[g, r] = _row_sums(sims, rows[r], members, values, start, stop,
                                                                       k, buffer, scratch)
        return sum_w, sum_wv, count

    @njit(cache=True, nogil=True, parallel=True)
    def _grouped_select_sums_by_member(by_member, n_rows, indptr, members, values, groups, k, n_threads,
                                       longest):  # pragma: no cover - compiled
        """:func:`_grouped_select_sums` over all rows, reading similarities by member: ``by_member[m, r]``
        is row r's similarity to member m (for a symmetric matrix, the matrix itself).

        Each group's members are copied once into a (rows x members) block from
        their contiguous rows, so the selection reads the block in order instead
        of a scattered element per (row, member) of the whole matrix. Same
        values in the same order: the same sums, bit for bit.
        """
        n_groups = groups.shape[0]
        sum_w = np.zeros((n_groups, n_rows))
        sum_wv = np.zeros((n_groups, n_rows))
        count = np.zeros((n_groups, n_rows), dtype=np.int64)
        for thread in prange(n_threads):
            block = np.empty(n_rows * longest)
            local = np.arange(longest)
            buffer = np.empty(longest)
            scratch = np.empty(longest)
            for g in range(thread, n_groups, n_threads):
                start, stop = indptr[groups[g]], indptr[groups[g] + 1]
                n_members = stop - start
                if n_members == 0:
                    continue
                sims = block[: n_rows * n_members].reshape((n_rows, n_members))
                for p in range(n_members):
                    m = members[start + p]
                    for r in range(n_rows):
                        sims[r, p] = by_member[m, r]
                group_values = values[start:stop]
                for r in range(n_rows):
                    sum_w[g, r], sum_wv[g, r], count[g, r] = _row_sums(sims, r, local, group_values, 0, n_members,
                                                                       k, buffer, scratch)
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


    @njit(cache=True, nogil=True)
    def _accumulate(acc, measure, x_columns, x_values, lo, hi, y_indptr, y_members, y_values):  # pragma: no cover
        """Add one x row's co-rated sums into acc, every co-occurrence, no bookkeeping of who was touched.

        One loop per measure, so the innermost loop has no branch: it is the whole fit's hot path.
        """
        if measure == 0:
            for p in range(lo, hi):
                y = x_columns[p]
                r = x_values[p]
                for q in range(y_indptr[y], y_indptr[y + 1]):
                    b = y_members[q]
                    v = y_values[q]
                    acc[b, 0] += 1.0
                    acc[b, 1] += (r - v) * (r - v)
        elif measure == 2:
            for p in range(lo, hi):
                y = x_columns[p]
                r = x_values[p]
                for q in range(y_indptr[y], y_indptr[y + 1]):
                    b = y_members[q]
                    v = y_values[q]
                    acc[b, 0] += 1.0
                    acc[b, 1] += r * v
                    acc[b, 2] += r * r
                    acc[b, 3] += v * v
                    acc[b, 4] += r
                    acc[b, 5] += v
        else:
            for p in range(lo, hi):
                y = x_columns[p]
                r = x_values[p]
                for q in range(y_indptr[y], y_indptr[y + 1]):
                    b = y_members[q]
                    v = y_values[q]
                    acc[b, 0] += 1.0
                    acc[b, 1] += r * v
                    acc[b, 2] += r * r
                    acc[b, 3] += v * v

    @njit(cache=True, nogil=True)
    def _accumulate_touched(acc, touched, measure, x_columns, x_values, lo, hi, y_indptr, y_members,
                            y_values):  # pragma: no cover - compiled
        """:func:`_accumulate` for a light row: also lists each x it touches (first touch order); returns how many."""
        width = acc.shape[1]
        n_touched = 0
        for p in range(lo, hi):
            y = x_columns[p]
            r = x_values[p]
            for q in range(y_indptr[y], y_indptr[y + 1]):
                b = y_members[q]
                v = y_values[q]
                if acc[b, 0] == 0.0:
                    touched[n_touched] = b
                    n_touched += 1
                acc[b, 0] += 1.0
                if measure == 0:
                    acc[b, 1] += (r - v) * (r - v)
                else:
                    acc[b, 1] += r * v
                    acc[b, 2] += r * r
                    acc[b, 3] += v * v
                    if width == 6:
                        acc[b, 4] += r
                        acc[b, 5] += v
        return n_touched

    @njit(cache=True, nogil=True)
    def _similarity(acc, b, measure, min_support, shrinkage):  # pragma: no cover - compiled
        """The formulas of similarity_block from one x's co-rated sums. msd sums (r - v)^2 directly:
        equal to sq_i + sq_j - 2 prods exactly for ratings on a half-star grid."""
        f = acc[b, 0]
        if measure == 0:
            return 1.0 / (acc[b, 1] / f + 1.0) if f >= min_support else 0.0
        if measure == 1:
            denominator = np.sqrt(acc[b, 2] * acc[b, 3])
            return acc[b, 1] / denominator if f >= min_support and denominator > 0 else 0.0
        if measure == 2:
            sum_i, sum_j = acc[b, 4], acc[b, 5]
            denominator = np.sqrt((f * acc[b, 2] - sum_i ** 2) * (f * acc[b, 3] - sum_j ** 2))
            if f >= min_support and denominator > 0:
                return (f * acc[b, 1] - sum_i * sum_j) / denominator
            return 0.0
        denominator = np.sqrt(acc[b, 2] * acc[b, 3])
        if f >= max(2, min_support) and denominator > 0:
            return acc[b, 1] / denominator * ((f - 1) / (f - 1 + shrinkage))
        return 0.0

    @njit(cache=True, nogil=True, error_model="numpy")
    def _scan(acc, first, last, measure, min_support, shrinkage, cand_index, cand_value, n_cand):  # pragma: no cover
        """Similarities of x's first..last from their sums, appended to the candidates where > 0; resets acc.

        Branch-free over every x in the range (most are touched in a heavy row):
        an untouched x gives 0/0 = NaN, which is not > 0. The formulas and
        their operation order are those of :func:`_similarity`, so the values are too.
        """
        if measure == 0:
            for b in range(first, last):
                f = acc[b, 0]
                sim = 1.0 / (acc[b, 1] / f + 1.0)
                sim = sim if f >= min_support else 0.0
                cand_index[n_cand] = b
                cand_value[n_cand] = sim
                n_cand += sim > 0
                acc[b, 0] = 0.0
                acc[b, 1] = 0.0
        elif measure == 2:
            for b in range(first, last):
                f = acc[b, 0]
                sum_i, sum_j = acc[b, 4], acc[b, 5]
                denominator = np.sqrt((f * acc[b, 2] - sum_i ** 2) * (f * acc[b, 3] - sum_j ** 2))
                sim = (f * acc[b, 1] - sum_i * sum_j) / denominator
                sim = sim if f >= min_support and denominator > 0 else 0.0
                cand_index[n_cand] = b
                cand_value[n_cand] = sim
                n_cand += sim > 0
                for w in range(6):
                    acc[b, w] = 0.0
        else:
            support = min_support if measure == 1 else max(2, min_support)
            for b in range(first, last):
                f = acc[b, 0]
                denominator = np.sqrt(acc[b, 2] * acc[b, 3])
                sim = acc[b, 1] / denominator
                if measure == 3:
                    sim = sim * ((f - 1) / (f - 1 + shrinkage))
                sim = sim if f >= support and denominator > 0 else 0.0
                cand_index[n_cand] = b
                cand_value[n_cand] = sim
                n_cand += sim > 0
                for w in range(4):
                    acc[b, w] = 0.0
        return n_cand

    @njit(cache=True, nogil=True)
    def _select_top(cand_index, cand_value, n_cand, keep, ascending, scratch, tied, picked_index,
                    picked_value):  # pragma: no cover - compiled
        """The ``keep`` largest of cand_value[:n_cand] into picked_*; ties at the threshold: lowest index first.

        ``ascending``: cand_index is sorted, so tied candidates come lowest first.
        A many-candidate row first finds, on a strided sample, a value t with
        (probably) a few times ``keep`` candidates >= t, and selects among
        those only; the k-th largest overall is >= t whenever at least
        ``keep`` candidates are >= t, so the result is the same (else: all).
        """
        if n_cand <= keep:
            for c in range(n_cand):
                picked_index[c] = cand_index[c]
                picked_value[c] = cand_value[c]
            return n_cand
        n_pool = n_cand
        pool_index, pool_value = cand_index, cand_value
        if n_cand > 16 * keep:
            n_sample = min(1024, n_cand)
            step = n_cand // n_sample
            for j in range(n_sample):
                scratch[j] = cand_value[j * step]
            rank = min(n_sample, 2 * keep * n_sample // n_cand + 16)
            t = _kth_largest(scratch, n_sample, rank)
            # Compact the candidates >= t (order kept) into the back half of scratch / tied.
            n_pool = 0
            base = n_cand // 2 + 1
            for c in range(n_cand):
                if cand_value[c] >= t:
                    if n_pool < n_cand - base:
                        scratch[base + n_pool] = cand_value[c]
                        tied[base + n_pool] = cand_index[c]
                    n_pool += 1
            if n_pool >= keep and n_pool <= n_cand - base:
                pool_index, pool_value = tied[base:base + n_pool], scratch[base:base + n_pool]
            else:
                n_pool = n_cand
        for c in range(n_pool):
            scratch[c] = pool_value[c]
        kth = _kth_largest(scratch, n_pool, keep)
        n_out = 0
        n_tied = 0
        for c in range(n_pool):
            if pool_value[c] > kth:
                picked_index[n_out] = pool_index[c]
                picked_value[n_out] = pool_value[c]
                n_out += 1
            elif pool_value[c] == kth:
                tied[n_tied] = pool_index[c]
                n_tied += 1
        ties = tied[:n_tied] if ascending else np.sort(tied[:n_tied])
        for c in range(keep - n_out):
            picked_index[n_out + c] = ties[c]
            picked_value[n_out + c] = kth
        return keep

    @njit(cache=True, nogil=True, parallel=True)
    def _top_similar(x_indptr, x_columns, x_values, y_indptr, y_members, y_values, measure, min_support,
                     shrinkage, keep, start, stop, n_threads):  # pragma: no cover - compiled
        """Rows start..stop of the x x x similarity, each reduced to its ``keep`` largest positive entries.

        Co-rated sums are accumulated over co-occurrences only (x -> its y's ->
        their other raters), so the work follows the data, not n x n; each
        thread owns one set of length-n accumulators. A heavy row (more
        co-occurrences than n / 2, most rows under Zipf popularity) adds
        without bookkeeping and then scans all n accumulators in order; a light
        row lists what it touched and visits only those. Either way each pair's
        sums are added in the row's y order, so the values are the same.
        """
        n_x = x_indptr.shape[0] - 1
        n_rows = stop - start
        out_index = np.empty((n_rows, keep), np.int32)
        out_value = np.empty((n_rows, keep))
        out_count = np.zeros(n_rows, np.int64)
        # One interleaved row of accumulators per x (one cache line per co-occurrence):
        # msd needs count and sum of squared differences, the others count, products and squares.
        width = 2 if measure == 0 else (6 if measure == 2 else 4)
        for thread in prange(n_threads):
            acc = np.zeros((n_x, width))
            touched = np.empty(n_x, np.int64)
            cand_index = np.empty(n_x + 1, np.int64)
            cand_value = np.empty(n_x + 1)
            scratch = np.empty(n_x + 1)
            picked_index = np.empty(keep, np.int64)
            picked_value = np.empty(keep)
            for a in range(start + thread, stop, n_threads):
                lo, hi = x_indptr[a], x_indptr[a + 1]
                work = 0
                for p in range(lo, hi):
                    work += y_indptr[x_columns[p] + 1] - y_indptr[x_columns[p]]
                # Candidates (x, similarity > 0); the diagonal is 1 (also for a row without ratings).
                n_cand = 0
                dense = 2 * work > n_x
                if dense:
                    _accumulate(acc, measure, x_columns, x_values, lo, hi, y_indptr, y_members, y_values)
                    n_cand = _scan(acc, 0, a, measure, min_support, shrinkage, cand_index, cand_value, n_cand)
                    cand_index[n_cand] = a  # a heavy row has ratings: its diagonal is there
                    cand_value[n_cand] = 1.0
                    n_cand += 1
                    for w in range(width):
                        acc[a, w] = 0.0
                    n_cand = _scan(acc, a + 1, n_x, measure, min_support, shrinkage, cand_index, cand_value, n_cand)
                else:
                    n_touched = _accumulate_touched(acc, touched, measure, x_columns, x_values, lo, hi, y_indptr,
                                                    y_members, y_values)
                    for t in range(n_touched):
                        b = touched[t]
                        sim = 1.0 if b == a else _similarity(acc, b, measure, min_support, shrinkage)
                        if sim > 0:
                            cand_index[n_cand] = b
                            cand_value[n_cand] = sim
                            n_cand += 1
                        for w in range(width):
                            acc[b, w] = 0.0
                    if hi == lo:  # a row without ratings still keeps its diagonal 1
                        cand_index[n_cand] = a
                        cand_value[n_cand] = 1.0
                        n_cand += 1
                n_out = _select_top(cand_index, cand_value, n_cand, keep, dense, scratch, touched, picked_index,
                                    picked_value)
                # Column-sorted output (canonical CSR).
                row = a - start
                order = np.argsort(picked_index[:n_out])
                for c in range(n_out):
                    out_index[row, c] = picked_index[order[c]]
                    out_value[row, c] = picked_value[order[c]]
                out_count[row] = n_out
        return out_index, out_value, out_count


def top_similar(x_indptr: np.ndarray, x_columns: np.ndarray, x_values: np.ndarray, y_indptr: np.ndarray,
                y_members: np.ndarray, y_values: np.ndarray, measure: str, min_support: int, shrinkage: float,
                keep: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``start:stop`` of the x x x similarity, top ``keep`` per row.

    ``x_indptr`` / ``x_columns`` / ``x_values`` are the x by y ratings in CSR
    layout; ``y_indptr`` / ``y_members`` / ``y_values`` are the same ratings grouped by
    y (each y's raters and their values). Values are ratings, or residuals
    r - b for ``pearson_baseline``. Only positive similarities are kept (a
    neighbour with similarity <= 0 never enters a k-NN sum); the diagonal is 1.
    Returns ``(counts, indices, values)``: row ``r`` keeps ``counts[r]``
    column-sorted entries at the front of ``indices[r]`` / ``values[r]``.
    """
    code = MEASURES.index(measure)
    if njit is None:  # pragma: no cover - numba ships with umap-learn
        raise RuntimeError("The sparse neighbour kernel needs numba.")
    # Pass int64 / float64 arrays: anything else is copied here, once per call.
    index, value, count = _top_similar(
        np.asarray(x_indptr, np.int64), np.asarray(x_columns, np.int64),
        np.ascontiguousarray(x_values, dtype=np.float64), np.asarray(y_indptr, np.int64),
        np.asarray(y_members, np.int64), np.ascontiguousarray(y_values, dtype=np.float64), code,
        float(min_support), float(shrinkage), int(keep), int(start), int(stop), int(get_num_threads()))
    return count, index, value


def csr_select_sums(block, values: np.ndarray, k: int, sort: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`select_sums` over a sparse (targets x members) block with sorted column indices.

    Only stored entries are candidates; an entry that is not stored has
    similarity 0, which never enters a sum, so the result equals the dense one.
    Work follows the stored entries instead of targets x members.
    """
    block = block.tocsr()
    if sort:  # sort=False: the stored order within each row is the tie order (earlier wins)
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


#: Largest (rows x members) block, in bytes, each thread copies a group's similarities into.
_BLOCK_BYTES = 64 * 1024**2


def grouped_select_sums(sims: np.ndarray, rows: np.ndarray, indptr: np.ndarray, members: np.ndarray,
                        values: np.ndarray, groups: np.ndarray, k: int,
                        symmetric: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`select_sums` for many member lists at once, in one compiled call.

    Group ``g`` has members ``members[indptr[g]:indptr[g + 1]]`` with ``values``
    alike (a CSR layout). Returns three ``(len(groups), len(rows))`` arrays.
    ``symmetric`` (``sims`` equals its transpose and ``rows`` are all its
    rows): each member's similarities are read from its own contiguous row.
    """
    rows = np.asarray(rows, np.int64)
    groups = np.asarray(groups, np.int64)
    indptr = np.asarray(indptr, np.int64)
    if (njit is not None and symmetric and sims.flags.c_contiguous and sims.shape[0] == sims.shape[1]
            and np.array_equal(rows, np.arange(sims.shape[0])) and len(groups)):
        longest = int(np.max(indptr[groups + 1] - indptr[groups]))
        if 0 < longest and 8 * len(rows) * longest <= _BLOCK_BYTES:
            return _grouped_select_sums_by_member(
                sims, len(rows), indptr, np.asarray(members, np.int64), np.ascontiguousarray(values, dtype=np.float64),
                groups, int(k), int(get_num_threads()), longest)
    if njit is None or not sims.flags.c_contiguous:
        out = [np.zeros((len(groups), len(rows))) for _ in range(3)]
        for position, group in enumerate(groups):
            start, stop = indptr[group], indptr[group + 1]
            if stop > start:
                for part, value in zip(out, select_sums_numpy(sims[rows][:, members[start:stop]], values[start:stop], k)):
                    part[position] = value
        return out[0], out[1], out[2].astype(np.int64)
    return _grouped_select_sums(sims, rows, indptr, np.asarray(members, np.int64),
                                np.ascontiguousarray(values, dtype=np.float64), groups, int(k),
                                int(get_num_threads()))


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
    for symmetric in (False, True):
        grouped_select_sums(sims, rows, np.array([0, 3]), rows, values, np.array([0]), 1, symmetric)
    csr_select_sums(sp.csr_matrix(sims), values, 1)
    # The sparse-mode similarity kernel (large data sets): 2 x-rows rating 2 y's.
    ratings = sp.csr_matrix(np.array([[5.0, 3.0], [4.0, 2.0]]))
    by_y = ratings.T.tocsr()
    top_similar(ratings.indptr, ratings.indices, ratings.data, by_y.indptr, by_y.indices, by_y.data,
                MEASURES[0], 1, 100.0, 1, 0, 2)


def top_k_rows(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` largest positive entries of each row of a dense block, vectorised.

    Ties at a row's k-th value go to the lowest column indices (deterministic,
    unlike ``argpartition``). Returns ``(counts, columns, values)``: row-major,
    columns ascending within a row, ``counts[r]`` entries for row ``r`` -- the
    pieces of a CSR matrix. Extra memory: about one copy of the block.
    """
    block = np.asarray(block, dtype=np.float64)
    n_rows, n_cols = block.shape
    take = min(int(k), n_cols)
    if take <= 0 or n_rows == 0:
        return np.zeros(n_rows, np.int64), np.zeros(0, np.int64), np.zeros(0)
    if take == n_cols:
        chosen = block > 0
    else:
        # k-th largest = the (n - k)-th smallest; no negated copy.
        kth = np.partition(block, n_cols - take, axis=1)[:, n_cols - take]
        chosen = block > np.maximum(kth, 0.0)[:, None]
        # A positive threshold leaves room for (some of) the entries equal to it: lowest columns first.
        tie_rows = np.flatnonzero(kth > 0)
        if len(tie_rows):
            room = take - chosen[tie_rows].sum(axis=1)
            equal = block[tie_rows] == kth[tie_rows, None]
            excess = equal.sum(axis=1) > room
            if excess.any():
                crowded = equal[excess]
                equal[excess] = crowded & (np.cumsum(crowded, axis=1) <= room[excess, None])
            chosen[tie_rows] |= equal
    rows, columns = np.nonzero(chosen)
    return chosen.sum(axis=1), columns.astype(np.int64), block[rows, columns]
