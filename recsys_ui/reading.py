"""Names, units and a plain-language reading of the tidy results table.

Pure functions of the table that :func:`recsys_core.evaluation.runner.evaluate`
returns (``model, fold, metric, k, bucket, value``): no streamlit here, so the
sentences a class reads can be unit-tested.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys_core.evaluation.metrics import METRICS as _REGISTRY
from recsys_core.evaluation.metrics import metric_names
from recsys_core.evaluation.runner import HIGHER_IS_BETTER

from . import fmt

#: The model every comparison is read against.
REFERENCE = "popular"


@dataclass(frozen=True)
class MetricInfo:
    label: str
    help: str
    unit: str = ""
    fmt: str = "{:.3f}"


#: Labels, meanings and formats come from the engine's metric registry (their one home).
METRICS: dict[str, MetricInfo] = {
    name: MetricInfo(metric.label, metric.meaning, metric.unit, metric.fmt) for name, metric in _REGISTRY.items()
}

RANKING_METRICS = ("ndcg",) + tuple(name for name in metric_names("ranking") if name != "ndcg")
BEYOND_ACCURACY = metric_names("beyond") + ("median_popularity",)
RATING_METRICS = metric_names("rating") + ("fallback_rate",)


def metric_label(column: str) -> str:
    """``ndcg@10`` -> ``NDCG@10``; ``rmse`` -> ``RMSE``."""
    base, _, k = column.partition("@")
    info = METRICS.get(base)
    label = info.label if info else base
    return f"{label}@{k}" if k else label


def metric_help(column: str) -> str:
    base = column.partition("@")[0]
    info = METRICS.get(base)
    return info.help if info else ""


def format_value(metric: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    info = METRICS.get(metric.partition("@")[0])
    if info and info.fmt.endswith("%}"):
        return fmt.percent(value)  # shares print the same here as in the reading and on every page
    return (info.fmt if info else "{:.3f}").format(value)


def higher_is_better(column: str) -> bool | None:
    """True / False for metrics with a direction, None for descriptive ones (median popularity)."""
    return HIGHER_IS_BETTER.get(column.partition("@")[0])


def best_per_column(wide: pd.DataFrame) -> dict[str, list[str]]:
    """Column -> the model(s) with the best value (ties share it); descriptive columns are left out."""
    best: dict[str, list[str]] = {}
    for column in wide.columns:
        direction = higher_is_better(column)
        values = pd.to_numeric(wide[column], errors="coerce")
        if direction is None or values.notna().sum() < 1:
            continue
        target = values.max() if direction else values.min()
        best[column] = [str(m) for m in values.index[np.isclose(values, target, rtol=0, atol=1e-12)]]
    return best


# ------------------------------------------------------------------ reading
def _mean(table: pd.DataFrame, metric: str, k: int | None, bucket: str = "all") -> pd.Series:
    part = table[(table["metric"] == metric) & (table["bucket"] == bucket)]
    part = part[part["k"].isna()] if k is None else part[part["k"] == k]
    return part.groupby("model", sort=False)["value"].mean().dropna()


def _name(model: str) -> str:
    return f"**{fmt.text(model)}**"


def _rating_versus_ranking(ndcg: pd.Series, rmse: pd.Series, k: int) -> list[str]:
    """The lesson of the comparison: models trained to rank beat models trained to predict ratings at ranking."""
    rating_models = ndcg[ndcg.index.isin(rmse.index)]
    ranking_models = ndcg[~ndcg.index.isin(rmse.index) & (ndcg.index != REFERENCE)]
    if not len(rating_models) or not len(ranking_models):
        return []
    best_rating, best_ranking = rating_models.idxmax(), ranking_models.idxmax()
    if ranking_models[best_ranking] <= rating_models[best_rating]:
        return []
    ratio = ranking_models[best_ranking] / rating_models[best_rating] if rating_models[best_rating] > 0 else float("inf")
    times = f"{ratio:.1f}×" if ratio != float("inf") else "far"
    return [
        f"Why the rating models rank badly: {_name(best_ranking)}, trained to rank the whole catalogue from *which* "
        f"items people pick, reaches NDCG@{k} = {ranking_models[best_ranking]:.3f}, {times} the best rating-prediction "
        f"model ({_name(best_rating)}, {rating_models[best_rating]:.3f}). A rating model learns how much you will like "
        "an item *given that you watch it*; it never learns that you would not have picked most of the catalogue, "
        "so obscure items it predicts at 5 stars crowd its top lists."
    ]


def reading(table: pd.DataFrame, k: int, n_folds: int = 1) -> list[str]:
    """Short sentences a class can read aloud: who wins what, and what that means.

    Parameters
    ----------
    table : DataFrame
        Tidy results (``model, fold, metric, k, bucket, value``).
    k : int
        The cut-off the ranking sentences talk about.
    n_folds : int
        Folds behind the numbers (a single hold-out gets a caution).
    """
    sentences: list[str] = []
    if table.empty:
        return sentences
    ndcg = _mean(table, "ndcg", k)
    rmse = _mean(table, "rmse", None)
    popularity = _mean(table, "median_popularity", k)
    coverage = _mean(table, "coverage", k)

    if len(ndcg):
        best = ndcg.idxmax()
        ordered = ndcg.sort_values(ascending=False)
        runner_up = f", ahead of {_name(ordered.index[1])} ({ordered.iloc[1]:.3f})" if len(ordered) > 1 else ""
        sentences.append(f"Best top-{k} lists (NDCG@{k}): {_name(best)} with {ndcg[best]:.3f}{runner_up}.")
    if len(rmse):
        best_rmse = rmse.idxmin()
        sentence = f"Most accurate rating predictions (lowest RMSE): {_name(best_rmse)} with {rmse[best_rmse]:.3f} stars."
        if len(ndcg) and best_rmse != ndcg.idxmax():
            sentence += (
                f" It is not the model with the best top-{k} lists: predicting ratings well and ranking well are "
                "different tasks (most ratings in the test set are of items the user chose to watch, so RMSE never "
                "looks at the thousands of items nobody rated)."
            )
        sentences.append(sentence)
    if REFERENCE in ndcg.index:
        reference = ndcg[REFERENCE]
        others = ndcg.drop(REFERENCE)
        beaten = others[others > reference]
        if len(others):
            if len(beaten) == len(others):
                verdict = "every other model beats it"
            elif len(beaten) == 0:
                verdict = "no model beats it: the personalised models have not learnt more than 'what everybody watches'"
            else:
                losers = [_name(m) for m in others.index if m not in beaten.index]
                verb = "does not" if len(losers) == 1 else "do not"
                verdict = f"{len(beaten)} of {len(others)} models beat it; {', '.join(losers)} {verb}"
            sentences.append(
                f"Reference: **{REFERENCE}** recommends the same most-rated items to everyone and reaches "
                f"NDCG@{k} = {reference:.3f}; {verdict}."
            )
    elif len(ndcg):
        sentences.append(f"Train **{REFERENCE}** too: it is the reference every personalised model should beat.")
    sentences += _rating_versus_ranking(ndcg, rmse, k)
    if len(popularity):
        ranked = popularity.sort_values()
        low, high = ranked.index[0], ranked.index[-1]
        if ranked.iloc[-1] > 0 and ranked.iloc[0] < 0.25 * ranked.iloc[-1]:
            sentences.append(
                f"How popular are the recommended items? The median item in {_name(high)}'s top {k} has "
                f"{fmt.plural(ranked.iloc[-1], 'training rating')}; in {_name(low)}'s only {fmt.count(ranked.iloc[0])}. "
                f"Low numbers mean lists full of obscure items, which can look personal but rarely hit."
            )
        else:
            sentences.append(
                f"Median popularity of the recommended items ranges from {ranked.iloc[0]:,.0f} ({_name(low)}) "
                f"to {ranked.iloc[-1]:,.0f} training ratings ({_name(high)})."
            )
    if len(coverage) > 1:
        widest = coverage.idxmax()
        narrowest = coverage.idxmin()
        sentences.append(
            f"Catalogue coverage: {_name(widest)}'s lists use {fmt.percent(coverage[widest])} of the items, "
            f"{_name(narrowest)}'s only {fmt.percent(coverage[narrowest])}."
        )
    fit = _mean(table, "fit_seconds", None)
    if len(fit) > 1:
        sentences.append(
            f"Fastest to fit: {_name(fit.idxmin())} ({fit.min():.2f} s); slowest: {_name(fit.idxmax())} ({fit.max():.2f} s)."
        )
    if n_folds <= 1 and len(ndcg) > 1:
        sentences.append(
            "These numbers come from a single train/test split: small differences may be noise. "
            "Choose k-fold cross-validation on the Train page to see the spread across folds."
        )
    return sentences
