"""Which rows to keep of repeated (user, item) pairs: one linear pass, compiled with numba.

Rows are visited user by user (a counting sort of the user codes, so each
user's rows stay in file order); an array over the items remembers, for the
user being visited, the row kept so far for each item. A later row replaces
it unless its time is earlier: the latest by time, and the last line on equal
times (or without times). Linear in the rows, where sorting the pairs took
most of the load time of a large file (see benchmarks/load_memory.py).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _kept(user_codes, item_codes, times, n_users, n_items, has_times):  # pragma: no cover - compiled
    n = user_codes.shape[0]
    start = np.zeros(n_users + 1, np.int64)
    for r in range(n):
        start[user_codes[r] + 1] += 1
    for u in range(n_users):
        start[u + 1] += start[u]
    fill = start[:-1].copy()
    order = np.empty(n, np.int64)
    for r in range(n):
        u = user_codes[r]
        order[fill[u]] = r
        fill[u] += 1
    keep = np.ones(n, np.bool_)
    owner = np.full(n_items, -1, np.int64)  # the user whose row kept[item] holds
    kept = np.empty(n_items, np.int64)
    repeats = 0
    for u in range(n_users):
        for p in range(start[u], start[u + 1]):
            r = order[p]
            i = item_codes[r]
            if owner[i] != u:
                owner[i] = u
                kept[i] = r
                continue
            repeats += 1
            previous = kept[i]  # earlier in the file than r
            if has_times and times[r] < times[previous]:
                keep[r] = False
            else:
                keep[previous] = False
                kept[i] = r
    return keep, repeats


def latest_rows(user_codes: np.ndarray, item_codes: np.ndarray, times: np.ndarray | None) -> np.ndarray | None:
    """Mask of the rows to keep (one per (user, item): the latest, then the last line), or ``None`` if no pair repeats.

    ``user_codes`` / ``item_codes`` are dense non-negative integers per row;
    ``times`` the rows' times, or ``None``.
    """
    n_users = int(user_codes.max()) + 1 if len(user_codes) else 0
    n_items = int(item_codes.max()) + 1 if len(item_codes) else 0
    has_times = times is not None
    # One compiled signature: int32 codes (a no-op for large files) and int64 times.
    keep, repeats = _kept(user_codes.astype(np.int32, copy=False), item_codes.astype(np.int32, copy=False),
                          times.astype(np.int64, copy=False) if has_times else np.zeros(1, np.int64),
                          n_users, n_items, has_times)
    return keep if repeats else None
