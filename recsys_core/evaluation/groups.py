"""Metrics per group of users (age, gender, occupation, activity, any uploaded user column) and the gap between groups.

A grouping labels each user index: by activity (training interactions, the runner's buckets; needs no user
features), by the values of a text column, or by readable ranges of a numeric one (``under 25``, ``25–34``,
``50 and over``: edges at rounded quartiles). A column with a single value or more than :data:`MAX_GROUPS`
values gives no grouping but a sentence saying why. Every metric is then the mean of the per-user values
(the runner's ``per_user`` frame) within each group, and the gap between two groups has a seeded percentile
bootstrap interval: each group's users resampled on their own (the groups are different people, so the
difference is unpaired), with :func:`recsys_core.evaluation.significance.bootstrap_means`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..dataset import USER, Dataset
from . import metrics as M
from .significance import N_RESAMPLES, _rng, bootstrap_means, percentile_interval

#: The grouping that needs no user features.
ACTIVITY = "activity"
#: More distinct values than this: no chart per group (a sentence instead).
MAX_GROUPS = 50
#: Groups with fewer evaluated users get no gap (their mean is too noisy).
MIN_GROUP_USERS = 10
#: A numeric column with at most this many distinct values is grouped by value, not by range.
MAX_NUMERIC_VALUES = 8

GROUP_COLUMNS = ["model", "metric", "k", "group", "users", "value"]


@dataclass(frozen=True)
class Grouping:
    """Each user's group under one column.

    Attributes
    ----------
    column : str
    labels : ndarray of object, shape (n_users,)
        Group label per user index; None where the user has no value.
    order : list of str
        The groups in display order (ranges ascending, values by size).
    note : str or None
        Why there is no grouping (one value, too many values, no values): shown instead of a chart.
    """

    column: str
    labels: np.ndarray
    order: list[str]
    note: str | None = None

    @property
    def usable(self) -> bool:
        return self.note is None

    def phrase(self, group: str) -> str:
        """The group in a sentence: ``users aged 50 and over``, ``users with gender F``."""
        if self.column == ACTIVITY:
            return f"users with {group} training ratings"
        if self.column.lower() == "age":
            return f"users aged {group}"
        return f"users with {self.column} {group}"


def group_columns(dataset: Dataset) -> list[str]:
    """Columns a grouping can use: activity first, then every user metadata column with a value."""
    columns = [c for c in dataset.users.columns if c != USER and dataset.users[c].notna().any()]
    return [ACTIVITY] + columns


def user_groups(dataset: Dataset, column: str, train: Dataset | None = None,
                bucket_edges: Sequence[int] = M.BUCKET_EDGES) -> Grouping:
    """Label every user of ``dataset`` by ``column`` (see the module docstring).

    ``train`` gives the activity counts (default: ``dataset``'s own).
    """
    n_users = dataset.n_users
    if column == ACTIVITY:
        counts = (train if train is not None else dataset).user_counts
        labels = M.activity_buckets(counts, edges=tuple(bucket_edges)).astype(object)
        return Grouping(column, labels, M.activity_bucket_labels(tuple(bucket_edges)))
    if column not in dataset.users.columns or column == USER:
        known = ", ".join(group_columns(dataset))
        raise KeyError(f"No user column '{column}' to group by; the data set has: {known}.")
    values = dataset.users[column].reset_index(drop=True)
    present = values.notna().to_numpy()
    distinct = values[present].nunique()
    empty = np.full(n_users, None, dtype=object)
    if distinct == 0:
        return Grouping(column, empty, [], f"No user has a value in '{column}': there are no groups to compare.")
    if distinct == 1:
        only = values[present].iloc[0]
        return Grouping(column, empty, [], f"Every user has the same {column} ({only}): there is only one "
                                           "group, so there is nothing to compare.")
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and distinct > MAX_NUMERIC_VALUES:
        return _ranges(column, values.to_numpy(dtype=np.float64), present)
    if distinct > MAX_GROUPS:
        return Grouping(column, empty, [], f"'{column}' has {distinct:,} different values (more than "
                                           f"{MAX_GROUPS}): too many groups to compare; no chart is drawn.")
    text = values.map(lambda v: _number(v) if numeric else str(v), na_action="ignore")
    labels = np.where(present, text.to_numpy(dtype=object), None)
    sizes = pd.Series(labels[present]).value_counts()
    order = sorted(sizes.index, key=lambda g: float(g)) if numeric else list(sizes.index)
    return Grouping(column, labels, [str(g) for g in order])


def _nice(value: float, span: float) -> float:
    """Round an edge to a readable number: to 5s (10s, 50s ...) for wide ranges, to 1 or a decimal for narrow ones."""
    if span >= 20:
        step = 5 * 10 ** max(0, int(math.log10(span)) - 1)
    elif span >= 4:
        step = 1
    else:
        step = 10 ** (int(math.floor(math.log10(span))) - 1) if span > 0 else 1
    return round(value / step) * step


def _number(value: float) -> str:
    value = float(value)
    return f"{value:g}" if not value.is_integer() else f"{int(value)}"


def _ranges(column: str, values: np.ndarray, present: np.ndarray) -> Grouping:
    known = values[present]
    integer = bool(np.all(np.equal(np.mod(known, 1), 0)))
    span = float(known.max() - known.min())
    edges = sorted({_nice(q, span) for q in np.quantile(known, [0.25, 0.5, 0.75])})
    edges = [e for e in edges if known.min() < e <= known.max()]
    if not edges:
        edges = [float(np.median(known))]
    labels_text = [f"under {_number(edges[0])}"]
    for low, high in zip(edges, edges[1:]):
        labels_text.append(f"{_number(low)}–{_number(high - 1)}" if integer and high - low > 1
                           else (f"{_number(low)}" if integer else f"{_number(low)} to under {_number(high)}"))
    labels_text.append(f"{_number(edges[-1])} and over")
    position = np.searchsorted(np.asarray(edges), np.where(present, values, 0.0), side="right")
    labels = np.where(present, np.asarray(labels_text, dtype=object)[position], None)
    return Grouping(column, labels, labels_text)


def metrics_by_group(per_user: pd.DataFrame, grouping: Grouping) -> pd.DataFrame:
    """Mean of every metric per model and group: columns ``model, metric, k, group, users, value``.

    ``per_user`` is the runner's per-user frame (``model, fold, metric, k, user, bucket, value``; ``user`` is
    the user index); users without a group are left out.
    """
    if not grouping.usable or not len(per_user):
        return pd.DataFrame(columns=GROUP_COLUMNS)
    frame = per_user.assign(group=grouping.labels[per_user["user"].to_numpy(dtype=np.int64)])
    frame = frame[frame["group"].notna()].dropna(subset=["value"])
    table = (frame.groupby(["model", "metric", "k", "group"], dropna=False, observed=True)["value"]
             .agg(users="count", value="mean").reset_index())
    table["group"] = pd.Categorical(table["group"], categories=grouping.order, ordered=True)
    table = table.sort_values(["model", "metric", "k", "group"]).reset_index(drop=True)
    table["group"] = table["group"].astype(str)
    return table[GROUP_COLUMNS]


@dataclass(frozen=True)
class GroupGap:
    """The difference of one model's mean metric between two groups, ``first - second``, with its interval."""

    model: str
    metric: str
    k: int | None
    column: str
    first: str
    second: str
    first_value: float
    second_value: float
    first_users: int
    second_users: int
    difference: float
    low: float
    high: float
    level: float

    @property
    def clear(self) -> bool:
        """True when the interval excludes 0."""
        return self.low > 0 or self.high < 0


def _values(per_user: pd.DataFrame, grouping: Grouping, model: str, metric: str, k: int | None,
            group: str) -> np.ndarray:
    part = per_user[(per_user["model"] == model) & (per_user["metric"] == metric)]
    part = part[part["k"].isna()] if k is None or pd.isna(k) else part[part["k"] == k]
    users = part["user"].to_numpy(dtype=np.int64)
    values = part["value"].to_numpy(dtype=np.float64)
    mask = (grouping.labels[users] == group) & ~np.isnan(values)
    return values[mask]


def group_gap(per_user: pd.DataFrame, grouping: Grouping, model: str, metric: str, k: int | None,
              first: str, second: str, *, n_resamples: int = N_RESAMPLES, seed: int = 0,
              level: float = 0.95) -> GroupGap:
    """Mean of ``first`` minus mean of ``second`` for one model and metric, with a percentile bootstrap interval.

    Each group's users are resampled with replacement on their own (seeded by ``seed``, the model, metric
    and groups, so the interval does not depend on what else is asked).
    """
    a = _values(per_user, grouping, model, metric, k, first)
    b = _values(per_user, grouping, model, metric, k, second)
    if not len(a) or not len(b):
        missing = first if not len(a) else second
        raise ValueError(f"No evaluated user of {model} is in the group '{missing}' of '{grouping.column}'.")
    rng = _rng(seed, "group-gap", model, metric, k, grouping.column, first, second)
    replicates = bootstrap_means(a, n_resamples, rng=rng) - bootstrap_means(b, n_resamples, rng=rng)
    low, high = percentile_interval(replicates, level)
    return GroupGap(model, metric, None if k is None or pd.isna(k) else int(k), grouping.column, first, second,
                    float(a.mean()), float(b.mean()), int(len(a)), int(len(b)), float(a.mean() - b.mean()),
                    low, high, level)


def widest_gaps(per_user: pd.DataFrame, grouping: Grouping, metric: str, k: int | None,
                models: Sequence[str] | None = None, min_users: int = MIN_GROUP_USERS, **bootstrap) -> list[GroupGap]:
    """Per model, the gap between its worst- and best-served groups (each with at least ``min_users`` users).

    "Worst" follows the metric's direction (the highest RMSE, the lowest NDCG); the gap is worst minus best.
    Models with fewer than two such groups are left out.
    """
    table = metrics_by_group(per_user, grouping)
    part = table[(table["metric"] == metric) & (table["users"] >= min_users)]
    part = part[part["k"].isna()] if k is None or pd.isna(k) else part[part["k"] == k]
    higher = M.METRICS[metric].higher_is_better if metric in M.METRICS else True
    gaps = []
    for model in (models if models is not None else list(dict.fromkeys(part["model"]))):
        rows = part[part["model"] == model]
        if len(rows) < 2:
            continue
        values = rows["value"].to_numpy()
        low, high = rows["group"].iloc[int(np.argmin(values))], rows["group"].iloc[int(np.argmax(values))]
        worst, best = (low, high) if higher is not False else (high, low)  # ties: the first in display order
        gaps.append(group_gap(per_user, grouping, model, metric, k, worst, best, **bootstrap))
    return gaps
