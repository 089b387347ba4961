"""The sparse top-neighbour kernel against plain-Python references: same similarities bit for bit, same ties.

The kernel has two ways through a row (a heavy row adds without bookkeeping and
scans every accumulator; a light row lists what it touched) and selects the top
``keep`` with or without a sampled pre-filter; each is checked here on data that
takes it.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_core.models._neighbours import MEASURES, top_similar

_select_top = pytest.importorskip("recsys_core.models._neighbours")._select_top


def reference_similarity(ratings: np.ndarray, measure: str, min_support: int, shrinkage: float) -> np.ndarray:
    """x x x similarity from a dense matrix (NaN = not rated): each pair's sums in ascending y order."""
    n_x = ratings.shape[0]
    rated = ~np.isnan(ratings)
    sims = np.zeros((n_x, n_x))
    for a in range(n_x):
        for b in range(n_x):
            common = np.flatnonzero(rated[a] & rated[b])
            if a == b:
                sims[a, b] = 1.0
                continue
            if len(common) == 0:
                continue
            f = prods = sq_a = sq_b = sum_a = sum_b = 0.0
            for y in common:
                r, v = float(ratings[a, y]), float(ratings[b, y])
                f += 1.0
                if measure == "msd":
                    prods += (r - v) * (r - v)
                else:
                    prods += r * v
                    sq_a += r * r
                    sq_b += v * v
                    sum_a += r
                    sum_b += v
            if measure == "msd":
                sim = 1.0 / (prods / f + 1.0) if f >= min_support else 0.0
            elif measure == "cosine":
                denominator = math.sqrt(sq_a * sq_b)
                sim = prods / denominator if f >= min_support and denominator > 0 else 0.0
            elif measure == "pearson":
                denominator = math.sqrt((f * sq_a - sum_a * sum_a) * (f * sq_b - sum_b * sum_b))
                sim = (f * prods - sum_a * sum_b) / denominator if f >= min_support and denominator > 0 else 0.0
            else:
                denominator = math.sqrt(sq_a * sq_b)
                if f >= max(2, min_support) and denominator > 0:
                    sim = prods / denominator * ((f - 1) / (f - 1 + shrinkage))
                else:
                    sim = 0.0
            sims[a, b] = sim
    return sims


def reference_top(row: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns (ascending) and values of the ``keep`` largest positive entries; ties: lowest column first."""
    order = np.lexsort((np.arange(len(row)), -row))[:keep]
    order = np.sort(order[row[order] > 0])
    return order, row[order]


def mixed_ratings(seed: int, grid: bool) -> np.ndarray:
    """120 x-rows: the first 80 rate 3 popular y's (heavy rows), the last 40 a niche y or two (light rows)."""
    rng = np.random.default_rng(seed)
    n_x, n_y = 120, 40
    ratings = np.full((n_x, n_y), np.nan)
    values = (lambda size: rng.integers(2, 11, size) / 2) if grid else (lambda size: rng.normal(0.0, 1.2, size))
    ratings[:80, :3] = values((80, 3))
    for a in range(80):
        niche = rng.choice(np.arange(3, n_y), rng.integers(0, 6), replace=False)
        ratings[a, niche] = values(len(niche))
    for a in range(80, 118):  # rows 118 and 119 rate nothing: the diagonal alone
        niche = rng.choice(np.arange(3, n_y), rng.integers(1, 3), replace=False)
        ratings[a, niche] = values(len(niche))
    return ratings


def run_kernel(ratings: np.ndarray, measure: str, min_support: int, shrinkage: float, keep: int,
               start: int, stop: int):
    coo = sp.coo_matrix(np.nan_to_num(ratings, nan=0.0))
    rated = ~np.isnan(ratings)
    x_of, y_of = np.nonzero(rated)  # row-major: ascending y within each x
    values = ratings[x_of, y_of]
    x = sp.csr_matrix((values, (x_of, y_of)), shape=ratings.shape)
    assert coo.shape == x.shape
    order = np.lexsort((np.arange(len(values)), y_of))
    y_indptr = np.concatenate([[0], np.cumsum(np.bincount(y_of, minlength=ratings.shape[1]))])
    return top_similar(x.indptr, x.indices, x.data, y_indptr, x_of[order], values[order], measure, min_support,
                       shrinkage, keep, start, stop)


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("grid", [True, False])
@pytest.mark.parametrize("keep", [1, 3, 7, 200])
def test_kernel_keeps_the_reference_top_similarities_bit_for_bit(measure, grid, keep):
    ratings = mixed_ratings(seed=keep, grid=grid)
    min_support, shrinkage = 2 if measure == "cosine" else 1, 10.0
    reference = reference_similarity(ratings, measure, min_support, shrinkage)
    start, stop = 5, ratings.shape[0]
    counts, index, value = run_kernel(ratings, measure, min_support, shrinkage, keep, start, stop)
    for row, a in enumerate(range(start, stop)):
        columns, sims = reference_top(reference[a], keep)
        np.testing.assert_array_equal(index[row, :counts[row]], columns)
        # Bit for bit, not within a tolerance: the sparse mode must equal the dense Surprise-semantics one.
        np.testing.assert_array_equal(value[row, :counts[row]].view(np.int64), sims.view(np.int64))


@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize("case", ["random", "all tied", "sampled positions high", "few distinct"])
@pytest.mark.parametrize("keep", [1, 5, 20])
def test_selection_equals_sorting_with_lowest_index_ties(case, keep, ascending):
    rng = np.random.default_rng(keep)
    n = 20_000  # > 16 x keep: the sampled pre-filter runs
    if case == "random":
        values = rng.random(n)
    elif case == "all tied":  # every candidate >= the sample's threshold: the pre-filter gives up
        values = np.full(n, 0.5)
    elif case == "sampled positions high":  # the sample overestimates: at keep=20, too few >= its threshold
        values = np.full(n, 0.1) + rng.random(n) * 1e-3
        values[: 18 * (n // 1024) : n // 1024] = 0.9
    else:
        values = rng.integers(1, 5, n) / 4
    index = np.arange(n, dtype=np.int64) * 3
    if not ascending:
        permutation = rng.permutation(n)
        index, values = index[permutation], values[permutation]
    picked_index, picked_value = np.empty(keep, np.int64), np.empty(keep)
    n_out = _select_top(index, values, n, keep, ascending, np.empty(n + 1), np.empty(n, np.int64), picked_index,
                        picked_value)
    dense = np.zeros(3 * n)
    dense[index] = values
    columns, sims = reference_top(dense, keep)
    order = np.argsort(picked_index[:n_out])
    np.testing.assert_array_equal(picked_index[:n_out][order], columns)
    np.testing.assert_array_equal(picked_value[:n_out][order], sims)


def test_grouped_sums_read_by_member_equal_the_row_reads_on_a_symmetric_matrix():
    from recsys_core.models._neighbours import grouped_select_sums

    rng = np.random.default_rng(5)
    n = 60
    sims = rng.integers(-2, 6, (n, n)) / 4.0  # ties and non-positive similarities
    sims = np.triu(sims) + np.triu(sims, 1).T  # symmetric
    lengths = rng.integers(0, 50, 25)  # groups of 0 to 49 members (k below and above)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    members = np.concatenate([rng.choice(n, size, replace=False) for size in lengths])
    values = rng.integers(1, 6, len(members)).astype(float)
    groups = rng.permutation(25)
    for k in (1, 5, 40):
        by_member = grouped_select_sums(sims, np.arange(n), indptr, members, values, groups, k, symmetric=True)
        by_row = grouped_select_sums(sims, np.arange(n), indptr, members, values, groups, k, symmetric=False)
        for a, b in zip(by_member, by_row):
            np.testing.assert_array_equal(a, b)
