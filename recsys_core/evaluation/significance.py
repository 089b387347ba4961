"""Is model A really better than model B? Per-user paired statistics, intervals and protocol checks.

Pure functions of the per-user table the runner keeps (``evaluate(..., per_user=True)`` or
:func:`recsys_core.evaluation.runner.per_user_metrics`): columns ``model, fold, metric, k, user, bucket,
value``, one row per model, fold, metric, cut-off and evaluated test user.

The unit of evidence is the user. Under k-fold cross-validation a user is tested once per fold; their
value is the mean over the folds they were tested in, so every user counts once. Two models are paired
on the users both were evaluated on; they must have been evaluated on the same split and users (the same
``(fold, user)`` pairs), or no paired test is made and the sentence says why (each model's own interval
is still given).

* **Tests** (:data:`TESTS`): the Wilcoxon signed-rank test (default; two-sided, users with equal values
  under both models are counted as ties and left out of the ranks, as Wilcoxon 1945 does) and the paired
  t-test. Their p-values agree with :func:`scipy.stats.wilcoxon` / :func:`scipy.stats.ttest_rel`: exact
  for up to 50 users without tied magnitudes, else the normal approximation with tie correction
  (computed here, so a table of a thousand comparisons takes about a second).
* **Corrections** (:data:`CORRECTIONS`) across all the pairs of one metric, cut-off and user group:
  Holm (default), Bonferroni, Benjamini–Hochberg; they agree with ``statsmodels.stats.multitest``.
* **Intervals**: seeded percentile bootstrap (users resampled, 1,000 resamples by default) of each
  model's mean and of each paired difference; the same resamples serve every model of a group, so the
  difference's interval is paired. Vectorised: resample counts times values, one matrix product.
* **Effect sizes**: the matched-pairs rank-biserial correlation (Kerby 2014) for Wilcoxon, Cohen's
  :math:`d_z` (mean difference over the standard deviation of the differences) for the t-test.

Protocol checks: :func:`time_leakage` (test interactions older than training ones, per user and overall),
:func:`split_losses` (users and items the split leaves without training data or relevant test items),
:func:`sampled_per_user` (HR/NDCG against sampled negatives, beside the full-catalogue numbers),
:func:`tuning_note` (a tuned model beside untuned ones) and :func:`seed_spread` (how much a metric moves
when only a model's own seed changes).
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import special, stats

from ..dataset import TIMESTAMP
from ..models.base import RANK_DECIMALS
from . import metrics as M
from .runner import PER_USER_COLUMNS, ModelSpec, evaluate_fold  # PER_USER_COLUMNS: the per-user table's one home
#: Paired tests: name -> how it is called in a sentence.
TESTS = {"wilcoxon": "Wilcoxon signed-rank", "ttest": "paired t-test"}
#: Corrections for many comparisons: name -> how it is called in a sentence.
CORRECTIONS = {"holm": "Holm", "bonferroni": "Bonferroni", "fdr_bh": "Benjamini–Hochberg", "none": "no"}
#: Fewer users than this in a group: no test ("too few users to tell").
MIN_USERS = 10
N_RESAMPLES = 1000
ALPHA = 0.05
#: Up to this many non-tied users scipy's Wilcoxon is called (exact where it applies); above, the normal
#: approximation with tie correction is computed here on arrays (the same formula scipy uses there).
_EXACT_WILCOXON_UP_TO = 50
#: Resample counts are built in blocks of at most this many cells (resamples x users) to bound memory.
_BLOCK_CELLS = 4_000_000

PAIRWISE_COLUMNS = [
    "metric", "k", "bucket", "model_a", "model_b", "n_users", "n_ties", "mean_a", "mean_b", "difference",
    "ci_low", "ci_high", "statistic", "p_value", "p_adjusted", "significant", "effect_size", "effect_name",
    "test", "correction", "note",
]
INTERVAL_COLUMNS = ["metric", "k", "bucket", "model", "n_users", "mean", "ci_low", "ci_high"]


# ------------------------------------------------------------------ corrections
def adjust_pvalues(p_values: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """p-values corrected for many comparisons, as ``statsmodels.stats.multitest.multipletests``.

    Parameters
    ----------
    p_values : array-like of float
        One p-value per comparison; NaN (no test was made) stays NaN and does not count as a comparison.
    method : {"holm", "bonferroni", "fdr_bh", "none"}
        Holm's step-down (controls the family-wise error, never less powerful than Bonferroni),
        Bonferroni, or Benjamini–Hochberg's false discovery rate.

    Returns
    -------
    ndarray of float, the same shape, each value in [0, 1].
    """
    if method not in CORRECTIONS:
        raise ValueError(f"Unknown correction {method!r}; choose one of {', '.join(map(repr, CORRECTIONS))}.")
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    if not len(finite):
        return out
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("p-values must lie between 0 and 1.")
    values, m = p[finite], len(finite)
    if method == "none":
        adjusted = values
    elif method == "bonferroni":
        adjusted = np.minimum(values * m, 1.0)
    elif method == "holm":
        order = np.argsort(values, kind="mergesort")
        stepped = np.maximum.accumulate(values[order] * (m - np.arange(m)))
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(stepped, 1.0)
    else:  # Benjamini-Hochberg: p_(i) m / i, made monotone from the largest down
        order = np.argsort(values, kind="mergesort")
        scaled = values[order] * m / np.arange(1, m + 1)
        stepped = np.minimum.accumulate(scaled[::-1])[::-1]
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(stepped, 1.0)
    out[finite] = adjusted
    return out


# ------------------------------------------------------------------ paired tests
@dataclass(frozen=True)
class PairedTest:
    """One paired comparison of ``a`` against ``b`` (``difference`` is mean of ``a - b``)."""

    test: str
    n_users: int
    n_ties: int
    difference: float
    statistic: float
    p_value: float
    effect_size: float
    effect_name: str
    note: str = ""


def rank_biserial(differences: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation of paired differences (Kerby 2014).

    :math:`r = (R^+ - R^-) / (R^+ + R^-)`, with :math:`R^\\pm` the sums of the ranks of
    :math:`|d|` over the positive and negative differences (zeros left out, ties given mean ranks):
    +1 when ``a`` is higher on every non-tied user, -1 when lower, 0 when balanced. NaN without non-zero
    differences.
    """
    d = np.asarray(differences, dtype=np.float64)
    d = d[d != 0]
    if not len(d):
        return float("nan")
    return _rank_biserial(d, _ranks(np.abs(d))[0])


def _ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ranks (1-based, ties averaged: ``scipy.stats.rankdata``'s default) and the sizes of the tie groups."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    edges = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    sizes = np.diff(edges)
    mean_rank = (edges[:-1] + edges[1:] + 1) / 2.0  # mean of the 1-based ranks start+1 .. end
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(mean_rank, sizes)
    return ranks, sizes


def _rank_biserial(d: np.ndarray, ranks: np.ndarray) -> float:
    plus = ranks[d > 0].sum()
    return float((2 * plus - ranks.sum()) / ranks.sum())


def cohens_dz(differences: np.ndarray) -> float:
    """Cohen's :math:`d_z`: mean paired difference over its standard deviation (``ddof=1``).

    NaN with fewer than two users or when every difference is the same (no spread to scale by).
    """
    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2:
        return float("nan")
    sd = d.std(ddof=1)
    return float(d.mean() / sd) if sd > 0 else float("nan")


def _wilcoxon(d: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Two-sided Wilcoxon signed-rank statistic (the smaller rank sum) and p-value; zeros already removed.

    Up to 50 differences without tied magnitudes: the exact distribution (``scipy.stats.wilcoxon(d,
    method="exact")``). Otherwise the normal approximation with scipy's tie correction, no continuity
    correction: equal to ``scipy.stats.wilcoxon(d, method="approx")``. (scipy's default for small tied
    samples is a randomised permutation test, slow and not reproducible, so it is not used.) Also returns
    the ranks of ``|d|``.
    """
    n = len(d)
    ranks, tie_counts = _ranks(np.abs(d))
    if n <= _EXACT_WILCOXON_UP_TO and tie_counts.max() == 1:
        result = stats.wilcoxon(d, method="exact")
        return float(result.statistic), float(result.pvalue), ranks
    plus = ranks[d > 0].sum()
    statistic = min(plus, n * (n + 1) / 2 - plus)
    variance = (n * (n + 1) * (2 * n + 1) - 0.5 * np.sum(tie_counts ** 3 - tie_counts)) / 24.0
    z = (statistic - n * (n + 1) / 4.0) / math.sqrt(variance)
    return float(statistic), float(min(1.0, 2.0 * special.ndtr(-abs(z)))), ranks


def _paired_t(d: np.ndarray) -> tuple[float, float]:
    """t statistic and two-sided p-value of the mean of ``d`` against 0 (as ``scipy.stats.ttest_rel``)."""
    n = len(d)
    sd = d.std(ddof=1)
    if sd == 0:
        return float("nan"), float("nan")
    t = d.mean() / (sd / math.sqrt(n))
    return float(t), float(min(1.0, 2.0 * special.stdtr(n - 1, -abs(t))))


def paired_test(a: np.ndarray, b: np.ndarray, test: str = "wilcoxon", min_users: int = MIN_USERS) -> PairedTest:
    """Compare two models' per-user values on the same users.

    Parameters
    ----------
    a, b : array-like of float, shape (n_users,)
        The two models' values of one metric, user for user (NaN in either: the user is left out).
    test : {"wilcoxon", "ttest"}
    min_users : int
        Fewer users than this: no test (``p_value`` NaN, ``note`` "too few users to tell").

    Returns
    -------
    PairedTest
        ``n_ties`` users have equal values under both models: they are counted in ``n_users``; the
        signed-rank test leaves them out of its ranks, the t-test keeps them (their difference is 0).
        When every difference is 0 there is nothing to test: ``p_value`` is NaN and the note says so.
    """
    if test not in TESTS:
        raise ValueError(f"Unknown test {test!r}; choose one of {', '.join(map(repr, TESTS))}.")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"Paired values must be user for user: {len(a)} values against {len(b)}.")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    d = a - b
    n, ties = len(d), int(np.sum(d == 0))
    effect_name = "rank-biserial r" if test == "wilcoxon" else "Cohen's d"
    difference = float(d.mean()) if n else float("nan")
    nan = float("nan")
    if n < min_users:
        return PairedTest(test, n, ties, difference, nan, nan, nan, effect_name, "too few users to tell")
    if ties == n:
        constant = np.ptp(a) == 0 and np.ptp(b) == 0
        note = "no difference to test" if constant else "the same value for every user: no difference"
        return PairedTest(test, n, ties, difference, nan, nan, nan, effect_name, note)
    if test == "wilcoxon":
        nonzero = d[d != 0]
        if len(nonzero) < min_users:
            return PairedTest(test, n, ties, difference, nan, nan, rank_biserial(d), effect_name,
                              f"only {len(nonzero)} users differ: too few to tell")
        statistic, p, ranks = _wilcoxon(nonzero)
        return PairedTest(test, n, ties, difference, statistic, p, _rank_biserial(nonzero, ranks), effect_name)
    statistic, p = _paired_t(d)
    return PairedTest(test, n, ties, difference, statistic, p, cohens_dz(d), effect_name)


# ------------------------------------------------------------------ bootstrap
def _rng(seed: int, *key: object) -> np.random.Generator:
    """A generator seeded by ``seed`` and a label (the same label gets the same resamples in any order)."""
    label = "|".join(str(part) for part in key)
    return np.random.default_rng([int(seed), zlib.crc32(label.encode("utf-8"))])


def bootstrap_means(values: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """Means of users resampled with replacement, the same resamples for every row.

    Parameters
    ----------
    values : ndarray, shape (n_models, n_users) or (n_users,)
        Per-user values without NaN (rows are models evaluated on the same users).
    n_resamples : int
    seed : int
        Seeds the resampling (ignored when ``rng`` is given).

    Returns
    -------
    ndarray, shape (n_models, n_resamples) (or (n_resamples,) for 1-D input)
        Row ``m``, column ``r``: model ``m``'s mean over resample ``r``. A difference of two rows is the
        paired bootstrap of the mean difference.
    """
    values = np.asarray(values, dtype=np.float64)
    flat = values.ndim == 1
    matrix = values[None, :] if flat else values
    n = matrix.shape[1]
    if n == 0:
        raise ValueError("No users to resample.")
    if np.isnan(matrix).any():
        raise ValueError("Per-user values for the bootstrap must not contain NaN.")
    if int(n_resamples) < 1:
        raise ValueError(f"n_resamples must be at least 1; got {n_resamples}.")
    rng = rng if rng is not None else np.random.default_rng(int(seed))
    out = np.empty((matrix.shape[0], int(n_resamples)))
    for start, counts in _resample_counts(n, int(n_resamples), rng):
        # How often each user is drawn in each resample, then one matrix product for every model.
        out[:, start:start + len(counts)] = (counts @ matrix.T).T / n
    return out[0] if flat else out


def _resample_counts(n: int, n_resamples: int, rng: np.random.Generator):
    """Yield ``(first resample, counts)`` blocks: counts[r, u] is how often user ``u`` is drawn in resample ``r``."""
    block = max(1, _BLOCK_CELLS // n)
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        picks = rng.integers(0, n, size=(size, n), dtype=np.int64)
        counts = np.bincount((picks + n * np.arange(size)[:, None]).ravel(), minlength=size * n).reshape(size, n)
        yield start, counts.astype(np.float64)


#: Resample counts up to this many cells are kept during one :func:`compare` and reused by every metric
#: measured on the same users (the ranking metrics of one user group share their users).
_CACHED_CELLS = 2_000_000


def _shared_bootstrap(values: np.ndarray, users: np.ndarray, n_resamples: int, seed: int, bucket: str,
                      cache: dict) -> np.ndarray:
    """:func:`bootstrap_means` of ``values`` (models x users) with resamples keyed on the users, not the metric.

    Every metric of a user group is resampled the same way (the same resampled users), seeded by
    ``seed``, the group and the users, so the intervals do not depend on which metrics are asked for.
    """
    key = (bucket, users.tobytes())
    rng = _rng(seed, bucket, zlib.crc32(key[1]))
    n = values.shape[1]
    if n * n_resamples > _CACHED_CELLS:
        return bootstrap_means(values, n_resamples, rng=rng)
    counts = cache.get(key)
    if counts is None:
        counts = cache[key] = next(_resample_counts(n, n_resamples, rng))[1]
    return (counts @ values.T).T / n


def percentile_interval(resampled: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap replicates (percentile method)."""
    low, high = percentile_intervals(np.asarray(resampled, dtype=np.float64)[None, :], level)[0]
    return float(low), float(high)


def percentile_intervals(resampled: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Per row of replicates ``(n_rows, n_resamples)``, the central ``level`` interval: ``(n_rows, 2)``."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1; got {level}.")
    tail = (1 - level) / 2
    return np.quantile(resampled, [tail, 1 - tail], axis=1).T


def bootstrap_ci(values: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaN left out)."""
    values = np.asarray(values, dtype=np.float64)
    return percentile_interval(bootstrap_means(values[~np.isnan(values)], n_resamples, seed), level)


def paired_bootstrap_ci(a: np.ndarray, b: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0,
                        level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``a - b``, users resampled in pairs."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    keep = ~(np.isnan(a) | np.isnan(b))
    return bootstrap_ci(a[keep] - b[keep], n_resamples, seed, level)


# ------------------------------------------------------------------ the comparison table
@dataclass
class Significance:
    """Every model's interval and every pair's test, per metric, cut-off and user group.

    ``intervals`` has :data:`INTERVAL_COLUMNS`, ``pairwise`` :data:`PAIRWISE_COLUMNS` (one row per
    unordered pair, ``model_a`` before ``model_b`` in the order the models were given; ``difference`` is
    ``mean_a - mean_b``). ``significant`` is True where the corrected p-value is below ``alpha`` and the
    interval of the difference excludes 0.
    """

    intervals: pd.DataFrame
    pairwise: pd.DataFrame
    test: str = "wilcoxon"
    correction: str = "holm"
    alpha: float = ALPHA
    level: float = 0.95
    n_resamples: int = N_RESAMPLES
    seed: int = 0

    def pairs(self, metric: str, k: int | None = None, bucket: str = "all") -> pd.DataFrame:
        """The pairwise rows of one metric, cut-off and user group."""
        return _select(self.pairwise, metric, k, bucket)

    def interval(self, metric: str, k: int | None = None, bucket: str = "all") -> pd.DataFrame:
        return _select(self.intervals, metric, k, bucket)


def _select(frame: pd.DataFrame, metric: str, k: int | None, bucket: str) -> pd.DataFrame:
    part = frame[(frame["metric"] == metric) & (frame["bucket"] == bucket)]
    part = part[part["k"].isna()] if k is None else part[part["k"] == k]
    return part.reset_index(drop=True)


def check_per_user(per_user: pd.DataFrame) -> pd.DataFrame:
    """The per-user table with the columns and types the statistics need, or a ValueError saying what is missing."""
    missing = [c for c in PER_USER_COLUMNS if c not in per_user.columns]
    if missing:
        raise ValueError(
            f"The per-user table lacks the column(s) {', '.join(missing)}: evaluate with per_user=True "
            f"(columns {', '.join(PER_USER_COLUMNS)}).")
    frame = per_user[PER_USER_COLUMNS].copy()
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["k"] = frame["k"].astype("Int64")
    return frame


@dataclass
class _Group:
    """One metric, cut-off and user group as arrays: users x models (mean over folds) and who was tested."""

    metric: str
    k: int | None
    bucket: str
    means: np.ndarray          # (n_users, n_models), NaN where a model has no value for a user
    users: np.ndarray          # (n_users,) user indices of the rows of ``means``
    tested: list[np.ndarray]   # per model, the sorted (fold, user) codes it was evaluated on


def _groups(frame: pd.DataFrame, order: list[str], buckets: bool) -> list[_Group]:
    """Split the per-user table into groups, in numpy (pandas per group cost most of the time)."""
    frame = frame[frame["value"].notna()]
    position = {model: i for i, model in enumerate(order)}
    model = frame["model"].astype(str).map(position).to_numpy()
    metric_codes, metric_names = pd.factorize(frame["metric"].astype(str), sort=False)
    k = frame["k"].to_numpy(dtype=np.float64, na_value=np.nan)
    bucket_codes, bucket_names = pd.factorize(frame["bucket"].astype(str), sort=False)
    users = frame["user"].to_numpy(dtype=np.int64)
    folds = frame["fold"].to_numpy(dtype=np.int64)
    values = frame["value"].to_numpy(dtype=np.float64)
    n_models = len(order)
    code = folds * (int(users.max()) + 1 if len(users) else 1) + users
    k_key = np.where(np.isnan(k), -1, k).astype(np.int64)
    keys = pd.DataFrame({"metric": metric_codes, "k": k_key, "bucket": bucket_codes})
    plans = [("all", keys.groupby(["metric", "k"], sort=False).indices)]
    if buckets:
        plans.append(("bucket", keys.groupby(["metric", "k", "bucket"], sort=False).indices))
    out = []
    for kind, indices in plans:
        for key, rows in indices.items():
            metric_code, k_value = int(key[0]), int(key[1])
            bucket = "all" if kind == "all" else str(bucket_names[int(key[2])])
            if kind == "bucket" and bucket == "all":
                continue
            user_ids, user_pos = np.unique(users[rows], return_inverse=True)
            cell = user_pos * n_models + model[rows]
            sums = np.bincount(cell, values[rows], minlength=len(user_ids) * n_models)
            counts = np.bincount(cell, minlength=len(user_ids) * n_models)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = (sums / counts).reshape(len(user_ids), n_models)
            tested = [np.unique(code[rows][model[rows] == m]) for m in range(n_models)]
            out.append(_Group(str(metric_names[metric_code]), None if k_value < 0 else k_value, bucket, means,
                              user_ids, tested))
    return out


def compare(per_user: pd.DataFrame, *, models: Sequence[str] | None = None, test: str = "wilcoxon",
            correction: str = "holm", alpha: float = ALPHA, level: float = 0.95,
            n_resamples: int = N_RESAMPLES, seed: int = 0, min_users: int = MIN_USERS,
            metrics: Sequence[str] | None = None, buckets: bool = True) -> Significance:
    """Intervals of every model and paired tests of every pair, per metric, cut-off and user group.

    Parameters
    ----------
    per_user : DataFrame
        :data:`PER_USER_COLUMNS` (``evaluate(..., per_user=True).per_user``).
    models : sequence of str, optional
        Which models, in this order (default: all, in the order they appear).
    test : {"wilcoxon", "ttest"}
    correction : {"holm", "bonferroni", "fdr_bh", "none"}
        Applied across the pairs of each metric, cut-off and user group (the pairs one matrix shows).
    alpha, level : float
        Significance level of the corrected p-values; coverage of the bootstrap intervals.
    n_resamples, seed : int
        Bootstrap resamples and their seed (the same seed gives the same intervals).
    min_users : int
        Groups with fewer users get no test ("too few users to tell").
    metrics : sequence of str, optional
        Restrict to these metrics.
    buckets : bool
        Also compare within each user-activity bucket (default), not only over all users.
    """
    if test not in TESTS:
        raise ValueError(f"Unknown test {test!r}; choose one of {', '.join(map(repr, TESTS))}.")
    if correction not in CORRECTIONS:
        raise ValueError(f"Unknown correction {correction!r}; choose one of {', '.join(map(repr, CORRECTIONS))}.")
    frame = check_per_user(per_user)
    if metrics is not None:
        frame = frame[frame["metric"].isin(list(metrics))]
    order = [str(m) for m in models] if models is not None else [str(m) for m in pd.unique(frame["model"])]
    frame = frame[frame["model"].astype(str).isin(order)]
    intervals, pairwise, cache = [], [], {}
    for group in _groups(frame, order, buckets):
        i_rows, p_rows = _compare_group(group, order, test, level, n_resamples, seed, min_users, cache)
        intervals += i_rows
        if p_rows:
            adjusted = adjust_pvalues([row["p_value"] for row in p_rows], correction)
            for row, p in zip(p_rows, adjusted):
                row["p_adjusted"] = p
                row["correction"] = correction
                row["significant"] = bool(not math.isnan(p) and p < alpha
                                          and not (row["ci_low"] <= 0 <= row["ci_high"]))
            pairwise += p_rows
    return Significance(
        intervals=pd.DataFrame(intervals, columns=INTERVAL_COLUMNS).astype({"k": "Int64"}),
        pairwise=pd.DataFrame(pairwise, columns=PAIRWISE_COLUMNS).astype({"k": "Int64"}),
        test=test, correction=correction, alpha=alpha, level=level, n_resamples=n_resamples, seed=seed)


def _compare_group(group: _Group, order: list[str], test: str, level: float, n_resamples: int, seed: int,
                   min_users: int, cache: dict | None = None) -> tuple[list[dict], list[dict]]:
    metric, k, bucket = group.metric, group.k, group.bucket
    cache = {} if cache is None else cache
    present = [i for i in range(len(order)) if len(group.tested[i])]
    # Models evaluated on the same (fold, user) pairs are resampled together: their differences are paired.
    clusters: dict[bytes, list[int]] = {}
    for m in present:
        clusters.setdefault(group.tested[m].tobytes(), []).append(m)
    means, boot = {}, {}
    for members in clusters.values():
        values = group.means[:, members]
        complete = ~np.isnan(values).any(axis=1)
        values = values[complete].T
        if values.shape[1] == 0:
            continue
        replicates = _shared_bootstrap(values, group.users[complete], n_resamples, seed, bucket, cache)
        for m, row, mean in zip(members, replicates, values.mean(axis=1)):
            boot[m], means[m] = row, float(mean)
    pairs = [(a, b) for i, a in enumerate(present) for b in present[i + 1:]]
    # One quantile call for every model's and every paired difference's replicates.
    rows = [boot[m] for m in present if m in boot]
    paired = [(a, b) for a, b in pairs if a in boot and b in boot and np.array_equal(group.tested[a], group.tested[b])]
    rows += [boot[a] - boot[b] for a, b in paired]
    bounds = percentile_intervals(np.vstack(rows), level) if rows else np.empty((0, 2))
    model_bounds = dict(zip([m for m in present if m in boot], bounds))
    pair_bounds = dict(zip(paired, bounds[len(model_bounds):]))
    interval_rows = []
    for m in present:
        low, high = model_bounds.get(m, (math.nan, math.nan))
        interval_rows.append({"metric": metric, "k": k, "bucket": bucket, "model": order[m],
                              "n_users": int((~np.isnan(group.means[:, m])).sum()),
                              "mean": means.get(m, math.nan), "ci_low": float(low), "ci_high": float(high)})
    pair_rows = []
    for a, b in pairs:
        row = {"metric": metric, "k": k, "bucket": bucket, "model_a": order[a], "model_b": order[b],
               "test": test, "mean_a": means.get(a, math.nan), "mean_b": means.get(b, math.nan)}
        if not np.array_equal(group.tested[a], group.tested[b]):
            row.update(n_users=0, n_ties=0, difference=row["mean_a"] - row["mean_b"], ci_low=math.nan,
                       ci_high=math.nan, statistic=math.nan, p_value=math.nan, effect_size=math.nan,
                       effect_name="", note=_different_users(order[a], order[b], group.tested[a], group.tested[b]))
        else:
            result = paired_test(group.means[:, a], group.means[:, b], test, min_users)
            low, high = pair_bounds.get((a, b), (math.nan, math.nan))
            row.update(n_users=result.n_users, n_ties=result.n_ties, difference=result.difference,
                       ci_low=float(low), ci_high=float(high), statistic=result.statistic, p_value=result.p_value,
                       effect_size=result.effect_size, effect_name=result.effect_name, note=result.note)
        pair_rows.append(row)
    return interval_rows, pair_rows


def _different_users(a: str, b: str, tested_a: np.ndarray, tested_b: np.ndarray) -> str:
    shared = len(np.intersect1d(tested_a, tested_b, assume_unique=True))
    return (f"{a} and {b} were evaluated on different splits or users ({len(tested_a):,} and {len(tested_b):,} "
            f"user tests, {shared:,} shared): a paired test needs the same split and users, so compare their own "
            "intervals")


# ------------------------------------------------------------------ sentences
def metric_label(metric: str, k: int | None) -> str:
    info = M.METRICS.get(metric)
    label = info.label if info else metric
    return f"{label}@{k}" if k is not None and not pd.isna(k) else label


def format_p(p: float) -> str:
    if p is None or math.isnan(p):
        return "p not computed"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _number(value: float) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.3f}".replace("-", "−")


def describe_pair(row: Mapping[str, Any], correction: str | None = None, bold: Callable[[str], str] = str,
                  level: float = 0.95, alpha: float = ALPHA) -> str:
    """One pairwise row in plain words.

    "ease beats popular on NDCG@10 by 0.210 (95% CI 0.190 to 0.230, p < 0.001 after Holm's correction,
    921 users, 15 tied; rank-biserial r = 0.84)", or "als and ease cannot be told apart on NDCG@10 ...".
    ``bold`` wraps model names (e.g. in markdown ``**...**``, escaped by the caller).
    """
    a, b = str(row["model_a"]), str(row["model_b"])
    label = metric_label(row["metric"], row["k"])
    where = "" if row.get("bucket", "all") == "all" else f" among users with {row['bucket']} training ratings"
    note = str(row.get("note") or "")
    if row.get("n_users", 0) == 0 and note:
        return f"{bold(a)} and {bold(b)} on {label}{where}: {note}."
    difference = float(row["difference"])
    correction = correction or row.get("correction") or "holm"
    if note:
        return f"{bold(a)} and {bold(b)} on {label}{where}: {note} ({row['n_users']:,} users)."
    higher = M.METRICS[row["metric"]].higher_is_better if row["metric"] in M.METRICS else True
    p_text = format_p(float(row["p_adjusted"]))
    if correction != "none":
        p_text += f" after {CORRECTIONS[correction]}'s correction" if correction != "fdr_bh" else \
            " after Benjamini–Hochberg's correction"
    ties = f", {row['n_ties']:,} tied" if row["n_ties"] else ""
    low, high, effect_size = float(row["ci_low"]), float(row["ci_high"]), float(row["effect_size"])
    if row["significant"]:
        a_first = (difference > 0) == bool(higher)  # the winner first
    else:
        a_first = a.lower() <= b.lower()  # no winner: alphabetical, so the sentence does not suggest one
    first, second = (a, b) if a_first else (b, a)
    if not a_first:  # every signed number of the sentence is "first minus second"
        difference, low, high, effect_size = -difference, -high, -low, -effect_size
    if row["significant"] and not higher:  # lower is better: the winner "beats by" a positive amount
        difference, low, high, effect_size = -difference, -high, -low, -effect_size
    level = round(100 * level)
    ci = f"{level}% CI {_number(low)} to {_number(high)}"
    effect = ""
    if not math.isnan(effect_size):
        effect = f"; {'r' if row['test'] == 'wilcoxon' else 'd'} = {_number(effect_size)}"
    evidence = f"{p_text}, {row['n_users']:,} users{ties}{effect}"
    if row["significant"]:
        return (f"{bold(first)} beats {bold(second)} on {label}{where} by {_number(difference)} "
                f"({level}% CI {_number(low)} to {_number(high)}, {evidence}).")
    if float(row["p_adjusted"]) < alpha:
        return (f"{bold(first)} and {bold(second)} differ on {label}{where} user by user ({evidence}), but the "
                f"interval of the mean difference ({_number(difference)}, {ci}) includes 0: not a clear difference "
                "in the mean.")
    return (f"{bold(first)} and {bold(second)} cannot be told apart on {label}{where} "
            f"(difference {_number(difference)}, {ci}, {evidence}).")


def reading(result: Significance, metric: str, k: int | None, bucket: str = "all", reference: str | None = None,
            bold: Callable[[str], str] = str, limit: int = 4) -> list[str]:
    """A few sentences on one metric: the best model against the runner-up and against ``reference``.

    The best model is the one with the best mean over users; the sentences say whether it is *really*
    ahead (corrected test and interval), and how many users the claim rests on.
    """
    pairs = result.pairs(metric, k, bucket)
    intervals = result.interval(metric, k, bucket).dropna(subset=["mean"])
    if not len(pairs) or len(intervals) < 2:
        return []
    higher = M.METRICS[metric].higher_is_better if metric in M.METRICS else True
    ranked = intervals.sort_values("mean", ascending=not higher)["model"].tolist()
    best = ranked[0]
    wanted = [(best, ranked[1])]
    if reference and reference in ranked and reference not in (best, ranked[1]):
        wanted.append((best, reference))
    wanted += [(best, other) for other in ranked[2:] if other != reference]
    sentences = []
    for a, b in wanted[:limit]:
        match = pairs[((pairs["model_a"] == a) & (pairs["model_b"] == b)) |
                      ((pairs["model_a"] == b) & (pairs["model_b"] == a))]
        if len(match):
            sentences.append(describe_pair(match.iloc[0].to_dict(), result.correction, bold, result.level,
                                           result.alpha))
    return sentences


# ------------------------------------------------------------------ protocol: time leakage
@dataclass(frozen=True)
class Leakage:
    """How much of a split's test part happened before its training part (all folds summed).

    ``before_user_newest``: test interactions older than the newest training interaction of the same user
    (the model learnt that user's future); ``before_newest``: older than the newest training interaction
    of anyone (the model learnt the world's future). A global time split has 0 for both.
    """

    n_test: int
    before_user_newest: int
    before_newest: int
    has_timestamps: bool = True

    @property
    def leaks(self) -> bool:
        return self.before_newest > 0

    def sentence(self) -> str:
        if not self.has_timestamps:
            return ("The data has no timestamps, so whether the test part comes after the training part cannot be "
                    "checked.")
        if not self.n_test:
            return "The split has no test interactions."
        share_user = self.before_user_newest / self.n_test
        share = self.before_newest / self.n_test
        if not self.leaks:
            return (f"No leakage in time: all {self.n_test:,} test interactions come at or after the newest training "
                    "interaction.")
        return (f"Leakage in time: {self.before_user_newest:,} of {self.n_test:,} test interactions "
                f"({share_user:.0%}) are older than the same user's newest training interaction, and "
                f"{self.before_newest:,} ({share:.0%}) older than the newest training interaction overall, so the "
                "models learnt from the future of what they are tested on. A global time split (every test "
                "interaction after every training one) measures what a deployed model would face.")


def _times(frame: pd.DataFrame) -> np.ndarray:
    column = frame[TIMESTAMP]
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy().astype("datetime64[ns]").astype(np.int64)
    return column.to_numpy().astype(np.float64)


def time_leakage(splits: Sequence[Any]) -> Leakage:
    """Count test interactions that precede training ones, per user and overall, over all folds.

    Parameters
    ----------
    splits : sequence of Split
        Each with ``train`` and ``test`` data sets sharing vocabularies.
    """
    splits = list(splits)
    if not splits or not all(s.train.has_timestamps and s.test.has_timestamps for s in splits):
        return Leakage(sum(s.test.n_ratings for s in splits), 0, 0, has_timestamps=False)
    n_test = before_user = before_all = 0
    for split in splits:
        train, test = split.train.interactions, split.test.interactions
        train_times, test_times = _times(train), _times(test)
        n_test += len(test)
        if not len(test) or not len(train):
            continue
        newest_of_user = np.full(split.train.n_users, -np.inf)
        np.maximum.at(newest_of_user, train["user_idx"].to_numpy(), train_times)
        before_user += int(np.sum(test_times < newest_of_user[test["user_idx"].to_numpy()]))
        before_all += int(np.sum(test_times < train_times.max()))
    return Leakage(n_test, before_user, before_all)


# ------------------------------------------------------------------ protocol: what the split leaves out
@dataclass(frozen=True)
class SplitLosses:
    """Who cannot be evaluated, and why (all folds summed; users counted once per fold)."""

    n_test_users: int
    users_without_training: int
    n_test: int
    interactions_of_unseen_items: int
    users_without_relevant: int
    ranked_users: int
    users_never_tested: int

    def sentences(self) -> list[str]:
        out = [f"Ranking metrics are measured over {self.ranked_users:,} user tests (users with at least one "
               "relevant test item, summed over folds)."]
        if self.users_without_relevant:
            out.append(f"{self.users_without_relevant:,} test users have no relevant test item (none rated at or "
                       "above the relevance threshold) and are left out of the ranking metrics.")
        if self.users_without_training:
            out.append(f"{self.users_without_training:,} test users have no training interactions: only a fall-back "
                       "(e.g. the most popular items) can serve them.")
        if self.interactions_of_unseen_items:
            out.append(f"{self.interactions_of_unseen_items:,} of {self.n_test:,} test interactions are of items "
                       "with no training interaction: no collaborative model can recommend those items.")
        if self.users_never_tested:
            out.append(f"{self.users_never_tested:,} users are in no test part at all.")
        return out


def split_losses(splits: Sequence[Any], threshold: float | None = None) -> SplitLosses:
    """Users and items a split leaves without training data or relevant test items."""
    totals = dict(n_test_users=0, users_without_training=0, n_test=0, interactions_of_unseen_items=0,
                  users_without_relevant=0, ranked_users=0)
    tested = None
    for split in splits:
        train, test = split.train, split.test
        test_users = test.user_counts > 0
        has_relevant = np.diff(M.relevant_items(test, threshold=threshold).indptr) > 0
        totals["n_test_users"] += int(test_users.sum())
        totals["users_without_training"] += int((test_users & (train.user_counts == 0)).sum())
        totals["n_test"] += test.n_ratings
        items = test.interactions["item_idx"].to_numpy()
        totals["interactions_of_unseen_items"] += int(np.sum(train.item_counts[items] == 0))
        totals["users_without_relevant"] += int((test_users & ~has_relevant).sum())
        totals["ranked_users"] += int(has_relevant.sum())
        tested = test_users if tested is None else tested | test_users
    never = int((~tested).sum()) if tested is not None else 0
    return SplitLosses(users_never_tested=never, **totals)


# ------------------------------------------------------------------ protocol: sampled metrics
def sampled_per_user(score_rows: Callable[[np.ndarray], np.ndarray], seen: sp.csr_matrix, relevant: sp.csr_matrix,
                     users: np.ndarray, ks: Sequence[int] = (10,), n_negatives: int = 100, seed: int = 0,
                     tie_break: np.ndarray | None = None) -> dict[tuple[str, int], np.ndarray]:
    """HR@K and NDCG@K against sampled negatives: the protocol many papers report (He et al. 2017).

    Each relevant test item of a user (a positive) is ranked among ``n_negatives`` items drawn uniformly
    without replacement from the items the user never interacted with (neither in ``seen`` nor in
    ``relevant``); its rank ``r`` (0-based, the number of negatives placed above it) gives a hit when
    ``r < K`` and a gain of :math:`1 / \\log_2(r + 2)`. A user's value is the mean over their positives.
    Ties are broken as the full-catalogue lists break them (``tie_break``, lower first; default: the
    positive loses ties, the pessimistic reading); unscorable (NaN) items rank last.

    Parameters
    ----------
    score_rows : callable(user_idx) -> ndarray (len(user_idx), n_items)
        The model's scores (``model.score_users``).
    seen : csr_matrix (n_users, n_items)
        Training interactions (never drawn as negatives).
    relevant : csr_matrix (n_users, n_items)
        Relevant test items (the positives).
    users : int array
        Users to evaluate (each with at least one relevant item).
    ks : sequence of int
    n_negatives : int
        Negatives per positive (at most the number of items the user never interacted with; fewer are
        drawn when fewer exist).
    seed : int

    Returns
    -------
    dict
        ``("hit_rate", k)`` and ``("ndcg", k)`` -> per-user values aligned with ``users``.
    """
    if int(n_negatives) < 1:
        raise ValueError(f"n_negatives must be at least 1; got {n_negatives}.")
    users = np.asarray(users, dtype=np.int64)
    seen, relevant = sp.csr_matrix(seen, dtype=bool), sp.csr_matrix(relevant, dtype=bool)
    n_items = seen.shape[1]
    rng = np.random.default_rng([int(seed), 7919])
    out = {(name, int(k)): np.full(len(users), np.nan) for name in ("hit_rate", "ndcg") for k in ks}
    block = max(1, 2_000_000 // max(1, n_items))
    for start in range(0, len(users), block):
        rows = users[start:start + block]
        scores = np.asarray(score_rows(rows), dtype=np.float64)
        scores = np.where(np.isnan(scores), -np.inf, scores)
        for local, user in enumerate(rows):
            positives = relevant.indices[relevant.indptr[user]:relevant.indptr[user + 1]]
            if not len(positives):
                continue
            touched = np.zeros(n_items, dtype=bool)
            touched[seen.indices[seen.indptr[user]:seen.indptr[user + 1]]] = True
            touched[positives] = True
            pool = np.flatnonzero(~touched)
            take = min(int(n_negatives), len(pool))
            # One independent draw of negatives per positive, as the protocol prescribes.
            keys = rng.random((len(positives), len(pool))) if take else np.empty((len(positives), 0))
            negatives = pool[np.argpartition(keys, take - 1, axis=1)[:, :take]] if take else \
                np.empty((len(positives), 0), dtype=np.int64)
            row = scores[local]
            pos_score, neg_score = row[positives][:, None], row[negatives]
            above = neg_score > pos_score
            if tie_break is None:
                above |= neg_score == pos_score
            else:
                above |= (neg_score == pos_score) & (tie_break[negatives] < tie_break[positives][:, None])
            rank = above.sum(axis=1)
            for k in ks:
                hit = rank < int(k)
                out[("hit_rate", int(k))][start + local] = hit.mean()
                out[("ndcg", int(k))][start + local] = np.where(hit, 1.0 / np.log2(rank + 2.0), 0.0).mean()
    return out


def sampled_metrics(model: Any, fold: Any, ks: Sequence[int] = (10,), n_negatives: int = 100, seed: int = 0,
                    relevance_threshold: float | None = None, label: str | None = None,
                    bucket_edges: Sequence[int] = M.BUCKET_EDGES) -> pd.DataFrame:
    """Sampled HR/NDCG of a fitted model on one fold, as per-user rows (:data:`PER_USER_COLUMNS`).

    Metrics are named ``hit_rate_sampled`` and ``ndcg_sampled`` so they sit beside the full-catalogue
    ``hit_rate`` and ``ndcg`` of the same users in one table. Scores are rounded as the model's own ranking
    rounds them, and ties broken by its ``tie_break_``.
    """
    relevant = M.relevant_items(fold.test, threshold=relevance_threshold)
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    values = sampled_per_user(lambda rows: np.round(model.score_users(rows), RANK_DECIMALS), fold.train.matrix,
                              relevant, users, ks, n_negatives, seed, getattr(model, "tie_break_", None))
    buckets = M.activity_buckets(fold.train.user_counts, edges=tuple(bucket_edges))[users]
    frames = [pd.DataFrame({"model": label or getattr(model, "name", "model"), "fold": fold.fold,
                            "metric": f"{name}_sampled", "k": k, "user": users, "bucket": buckets, "value": v})
              for (name, k), v in values.items()]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PER_USER_COLUMNS)
    frame["k"] = frame["k"].astype("Int64")
    return frame


def ranking_agreement(full: Mapping[str, float], sampled: Mapping[str, float], higher_is_better: bool = True) -> str:
    """A sentence comparing the order of models under full-catalogue and sampled metrics."""
    models = [m for m in full if m in sampled and not math.isnan(full[m]) and not math.isnan(sampled[m])]
    if len(models) < 2:
        return ""
    by_full = sorted(models, key=lambda m: full[m], reverse=higher_is_better)
    by_sampled = sorted(models, key=lambda m: sampled[m], reverse=higher_is_better)
    inflation = np.mean([sampled[m] / full[m] for m in models if full[m] > 0]) if any(full[m] > 0 for m in models) \
        else float("nan")
    size = f" (on average {inflation:.1f}× the full-catalogue value)" if not math.isnan(inflation) else ""
    if by_full == by_sampled:
        return (f"Sampled metrics are higher{size} but order the models the same way: "
                f"{' > '.join(by_full)}. The full-catalogue numbers are the honest ones: a deployed model ranks "
                "every item, not 100 random ones.")
    return (f"The sampled metrics reorder the models: full catalogue {' > '.join(by_full)}, sampled "
            f"{' > '.join(by_sampled)}{size}. Trust the full-catalogue order: a deployed model ranks every item, "
            "and sampled metrics are known to disagree with it (Krichene & Rendle 2020).")


# ------------------------------------------------------------------ protocol: tuning parity
@dataclass(frozen=True)
class TuningInfo:
    """How one model's hyper-parameters were chosen (``n_trials`` 0: defaults or set by hand)."""

    n_trials: int = 0
    metric: str = ""
    k: int | None = None


def tuning_note(tuning: Mapping[str, TuningInfo | None], labels: Iterable[str],
                tunable: Iterable[str] | None = None) -> list[str]:
    """Sentences on tuning parity: which models were tuned, with what budget, and a warning when unequal.

    Tuned simple baselines beat most newer models (Rendle et al. 2019; Ferrari Dacrema et al. 2019):
    a tuned model beside untuned ones is not a fair comparison. ``tunable``: the models that have
    parameters to search (default: all); one without (e.g. "popular") is never called untuned.
    """
    labels = list(labels)
    tuned = {m: tuning[m] for m in labels if tuning.get(m) is not None and tuning[m].n_trials > 0}
    if not tuned:
        return []
    searchable = set(labels) if tunable is None else set(tunable)
    untuned = [m for m in labels if m not in tuned and m in searchable]
    parts = [f"{m} ({info.n_trials} trials on validation {metric_label(info.metric, info.k)})"
             for m, info in tuned.items()]
    out = [f"Tuned: {', '.join(parts)}."]
    budgets = {info.n_trials for info in tuned.values()}
    if untuned:
        out.append(f"Not tuned: {', '.join(untuned)}. A tuned model beside untuned ones is not a fair comparison "
                   "(tuned simple baselines beat most newer models, Rendle et al. 2019): tune them all with the "
                   "same budget before reading a winner.")
    elif len(budgets) > 1:
        out.append("The models were tuned with different budgets: the one searched longest has an edge that is not "
                   "the model's.")
    return out


# ------------------------------------------------------------------ seeds
def seed_spread(values: pd.DataFrame) -> pd.DataFrame:
    """Spread of a metric across seeds: per model, metric and cut-off, mean, standard deviation and range.

    ``values`` has columns ``model, seed, metric, k, value`` (one row per fit), e.g. from
    :func:`seed_runs`.
    """
    grouped = values.groupby(["model", "metric", "k"], sort=False, dropna=False)["value"]
    out = grouped.agg(n_seeds="count", mean="mean", std="std", low="min", high="max").reset_index()
    out["range"] = out["high"] - out["low"]
    return out


def seed_runs(fold: Any, specs: Sequence[Any], seeds: Sequence[int] = (0, 1, 2, 3, 4), ks: Sequence[int] = (10,),
              metrics: Sequence[str] = ("ndcg",), relevance_threshold: float | None = None,
              progress: Callable[[float, str], None] | None = None) -> pd.DataFrame:
    """Refit each model once per seed on one fold (only ``random_state`` changes) and measure it.

    Every model is refitted: even a model without random initialisation breaks ranking ties with a
    permutation seeded by ``random_state``, so its spread is small but not always 0. Returns rows
    ``model, seed, metric, k, value`` for :func:`seed_spread`.
    """
    if not len(seeds):
        raise ValueError("seed_runs needs at least one seed.")
    rows = []
    jobs = [(ModelSpec.coerce(spec), int(seed)) for spec in specs for seed in seeds]
    for number, (spec, seed) in enumerate(jobs):
        if progress:
            progress(number / len(jobs), f"{spec.display}: seed {seed}")
        _, frame = evaluate_fold(ModelSpec(spec.name, {**spec.params, "random_state": seed}, spec.display), fold,
                                 ks=ks, relevance_threshold=relevance_threshold)
        part = frame[(frame["bucket"] == "all") & frame["metric"].isin(list(metrics))]
        rows += [(spec.display, seed, metric, k, float(value))
                 for metric, k, value in zip(part["metric"], part["k"], part["value"])]
    if progress:
        progress(1.0, "done")
    frame = pd.DataFrame(rows, columns=["model", "seed", "metric", "k", "value"])
    frame["k"] = frame["k"].astype("Int64")
    return frame


def seed_noise_sentence(spread: pd.DataFrame, pairwise_row: Mapping[str, Any]) -> str:
    """Whether a difference between two models is larger than the movement seeds alone cause."""
    metric, k = pairwise_row["metric"], pairwise_row["k"]
    part = spread[(spread["metric"] == metric) & (spread["k"] == k) &
                  spread["model"].isin([pairwise_row["model_a"], pairwise_row["model_b"]]) & (spread["n_seeds"] > 1)]
    if not len(part):
        return ""
    noise = float(part["range"].max())
    gap = abs(float(pairwise_row["difference"]))
    label = metric_label(metric, k)
    if gap <= noise:
        return (f"The gap between {pairwise_row['model_a']} and {pairwise_row['model_b']} on {label} ({_number(gap)}) "
                f"is within what changing only the seed moves a model ({_number(noise)}): read it as seed noise.")
    return (f"The gap between {pairwise_row['model_a']} and {pairwise_row['model_b']} on {label} ({_number(gap)}) "
            f"is larger than the seed-to-seed range ({_number(noise)}).")
