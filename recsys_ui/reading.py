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


def default_k(ks) -> int:
    """The cut-off a page opens on: 10 when measured, else the middle one."""
    ks = sorted(int(k) for k in ks)
    return 10 if 10 in ks else ks[len(ks) // 2]


def ranked_models(table: pd.DataFrame, k: int, metric: str = "ndcg") -> pd.Series:
    """Mean ``metric@k`` per model over folds (all users), best first: the Compare table's ranking."""
    means = _mean(table, metric, k)
    return means.sort_values(ascending=not (higher_is_better(metric) is not False), kind="stable")


# ------------------------------------------------------------------ evidence
#: Below these, a difference between models is mostly chance: the reading says so before any verdict.
MIN_USERS = 50
MIN_INTERACTIONS = 100


@dataclass(frozen=True)
class Evidence:
    """What the test part of a split gives the ranking metrics to find (the fold with the least of it).

    Attributes
    ----------
    n_interactions : int
        Interactions in the whole data set.
    n_items : int
        Items in the catalogue.
    n_test_users : int
        Users with at least one test interaction.
    n_relevant_users : int
        Users with at least one relevant test interaction: the ranking metrics are averages over them.
    n_test : int
        Test interactions.
    n_relevant : int
        Relevant test interactions (reaching the relevance threshold; every one for implicit data).
    n_relevant_known : int
        Relevant test interactions whose item has at least one training interaction (a model can rank it).
    rule : str
        The relevance rule in words (``"4 or more on 1–5"``); empty for implicit data.
    feedback : str
        ``"ratings"``, ``"counts"`` or ``"unary"`` (:attr:`Dataset.feedback_kind`).
    """

    n_interactions: int
    n_items: int
    n_test_users: int
    n_relevant_users: int
    n_test: int
    n_relevant: int
    n_relevant_known: int
    rule: str = ""
    feedback: str = "ratings"


def split_evidence(data, splits, relevance_threshold: float | None = None) -> Evidence:
    """The :class:`Evidence` of a split: of its folds, the one with the fewest users to measure.

    Parameters
    ----------
    data : Dataset
        The data set the split was made from.
    splits : list of Split
        Its folds (:func:`recsys_core.evaluation.splits.make_splits`).
    """
    from recsys_core.dataset import default_relevance_threshold
    from recsys_core.evaluation.metrics import relevant_items

    rule = "" if data.implicit else fmt.hit_rule(
        default_relevance_threshold(data.rating_scale), data.rating_scale,
        fmt.rating_step(data.interactions["rating"].to_numpy()))
    folds = []
    for fold in splits:
        relevant = relevant_items(fold.test, threshold=relevance_threshold)  # the runner's definition and rule
        per_user = np.diff(relevant.indptr)
        folds.append(Evidence(
            n_interactions=int(data.n_ratings), n_items=int(data.n_items),
            n_test_users=int(np.count_nonzero(fold.test.user_counts)),
            n_relevant_users=int(np.count_nonzero(per_user)), n_test=int(fold.test.n_ratings),
            n_relevant=int(relevant.nnz), n_relevant_known=int((fold.train.item_counts[relevant.indices] > 0).sum()),
            rule=rule, feedback=data.feedback_kind))
    return min(folds, key=lambda e: (e.n_relevant_users, e.n_relevant))


# ------------------------------------------------------------------ reading
def _mean(table: pd.DataFrame, metric: str, k: int | None, bucket: str = "all") -> pd.Series:
    part = table[(table["metric"] == metric) & (table["bucket"] == bucket)]
    part = part[part["k"].isna()] if k is None else part[part["k"] == k]
    return part.groupby("model", sort=False)["value"].mean().dropna()


def _name(model: str) -> str:
    return f"**{fmt.text(model)}**"


def _names(models) -> str:
    """``**a**``, ``**a** and **b**``, ``**a**, **b** and **c**``."""
    names = [_name(m) for m in models]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _same(a: float, b: float, digits: int = 3) -> bool:
    """Equal as the reading prints them: a difference nobody can see is a tie, not a lead."""
    return f"{a:.{digits}f}" == f"{b:.{digits}f}"


def _leaders(values: pd.Series, higher: bool) -> tuple[list[str], pd.Series]:
    """The model(s) sharing the best value, and the others best first."""
    ordered = values.sort_values(ascending=not higher, kind="stable")
    top = ordered.iloc[0]
    tied = [m for m, v in ordered.items() if _same(v, top)]
    return tied, ordered[~ordered.index.isin(tied)]


def _rating_versus_ranking(ndcg: pd.Series, rmse: pd.Series, k: int) -> list[str]:
    """The lesson of the comparison: models trained to rank beat models trained to predict ratings at ranking."""
    rating_models = ndcg[ndcg.index.isin(rmse.index)]
    ranking_models = ndcg[~ndcg.index.isin(rmse.index) & (ndcg.index != REFERENCE)]
    if not len(rating_models) or not len(ranking_models):
        return []
    best_rating, best_ranking = rating_models.idxmax(), ranking_models.idxmax()
    if ranking_models[best_ranking] <= rating_models[best_rating] or _same(ranking_models[best_ranking],
                                                                            rating_models[best_rating]):
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


def _too_little(evidence: Evidence | None) -> str | None:
    """'Too little data to compare models' with what is short, or None when there is enough."""
    if evidence is None:
        return None
    short = []
    if evidence.n_relevant_users < MIN_USERS:
        short.append(f"only {fmt.plural(evidence.n_relevant_users, 'user')} "
                     f"{'has' if evidence.n_relevant_users == 1 else 'have'} a relevant test item (the ranking "
                     f"metrics are averages over them; at least {MIN_USERS} are needed)")
    if evidence.n_interactions < MIN_INTERACTIONS:
        short.append(f"the data set holds only {fmt.plural(evidence.n_interactions, 'interaction')} "
                     f"(at least {MIN_INTERACTIONS} are needed)")
    if not short:
        return None
    return (f"**Too little data to compare models**: {' and '.join(short)}. Differences between the models here "
            "are mostly chance, so no winner is named below. Load more data, or choose a split that tests more "
            "users (k-fold cross-validation), before reading a verdict.")


def _nothing_to_find(evidence: Evidence | None, k: int, too_little: bool) -> str:
    """Why every ranking metric is 0: the relevance definition, the split or the data (named when known)."""
    if evidence is None:
        return ("the relevance definition, the data or the split leaves nothing to find: check which test "
                "ratings count as relevant on the Train page.")
    causes = []
    if evidence.n_relevant == 0:
        return (f"the relevance definition leaves nothing to find: no test rating reaches the relevance threshold "
                f"({evidence.rule}).")
    share = evidence.n_relevant / max(1, evidence.n_test)
    if evidence.rule and share < 0.05:
        cause = (f"the relevance definition leaves almost nothing to find: only {fmt.count(evidence.n_relevant)} of "
                 f"{fmt.plural(evidence.n_test, 'test rating')} ({fmt.percent(share)}) reach the relevance threshold "
                 f"({evidence.rule})")
        if evidence.feedback == "ratings":
            cause += (". If these values are counts (plays, clicks, purchases) rather than ratings, load the file "
                      "again with no rating column on the Data page: every held-out interaction then counts")
        causes.append(cause)
    unknown = evidence.n_relevant - evidence.n_relevant_known
    if unknown and unknown >= 0.5 * evidence.n_relevant:
        causes.append(f"the split leaves little to find: {fmt.count(unknown)} of the "
                      f"{fmt.plural(evidence.n_relevant, 'relevant test item')} have no interaction in the training "
                      "part, so no model can recommend them (a temporal or leave-last-out split tests new items; a "
                      "random split or k-fold keeps most items in training)")
    if too_little:
        causes.append("the data is too small (see above)")
    if not causes:
        per_user = evidence.n_relevant / max(1, evidence.n_relevant_users)
        causes.append(f"the top-{k} lists miss every one of the {fmt.count(evidence.n_relevant)} relevant test items "
                      f"(about {per_user:.1f} per user, among {fmt.plural(evidence.n_items, 'item')}); a larger K "
                      "or a model trained to rank may find some")
    return "; ".join(causes) + "."


def reading(table: pd.DataFrame, k: int, n_folds: int = 1, evidence: Evidence | None = None) -> list[str]:
    """Short sentences a class can read aloud: who wins what, and what that means.

    Nothing is called a lead that the printed numbers do not show (equal to three decimals is a tie), no
    winner is named on too little data, and a table of zeros says why there was nothing to find.

    Parameters
    ----------
    table : DataFrame
        Tidy results (``model, fold, metric, k, bucket, value``).
    k : int
        The cut-off the ranking sentences talk about.
    n_folds : int
        Folds behind the numbers (a single hold-out gets a caution).
    evidence : Evidence, optional
        What the split's test part holds (:func:`split_evidence`): enables the too-little-data warning and
        names why a table of zeros has nothing to find.
    """
    sentences: list[str] = []
    if table.empty:
        return sentences
    ndcg = _mean(table, "ndcg", k)
    rmse = _mean(table, "rmse", None)
    popularity = _mean(table, "median_popularity", k)
    coverage = _mean(table, "coverage", k)
    ranking_values = pd.concat([_mean(table, metric, k) for metric in RANKING_METRICS])

    too_little = _too_little(evidence)
    if too_little:
        sentences.append(too_little)
    all_zero = len(ranking_values) > 0 and bool(np.allclose(ranking_values.to_numpy(dtype=float), 0.0, atol=1e-12))
    if all_zero:
        sentences.append(f"**Nothing to read in the ranking metrics**: every model scores 0 on every one of them at "
                         f"K = {k} (not one relevant test item in anyone's top {k}), so they cannot tell the models "
                         f"apart. Most likely {_nothing_to_find(evidence, k, bool(too_little))}")
    elif not len(ndcg) and evidence is not None and evidence.n_relevant_users == 0 and evidence.n_test:
        sentences.append("**No ranking metric could be measured**: "
                         f"{_nothing_to_find(evidence, k, bool(too_little))}")
    verdicts = not too_little and not all_zero

    if len(ndcg) and verdicts:
        tied, rest = _leaders(ndcg, higher=True)
        after = f", ahead of {_name(rest.index[0])} ({rest.iloc[0]:.3f})" if len(rest) else ""
        if len(tied) == 1:
            sentences.append(f"Best top-{k} lists (NDCG@{k}): {_name(tied[0])} with {ndcg[tied[0]]:.3f}{after}.")
        elif not len(rest):
            sentences.append(f"Top-{k} lists (NDCG@{k}): a tie, every model reaches {ndcg[tied[0]]:.3f}.")
        else:
            sentences.append(f"Best top-{k} lists (NDCG@{k}): a tie between {_names(tied)} at "
                             f"{ndcg[tied[0]]:.3f}{after}.")
    elif len(ndcg) > 1 and too_little and not all_zero:
        sentences.append(f"For the record, NDCG@{k} ranges from {ndcg.min():.3f} to {ndcg.max():.3f} over "
                         f"{fmt.plural(len(ndcg), 'model')}.")
    if len(rmse) and not too_little:
        tied, _ = _leaders(rmse, higher=False)
        value = rmse[tied[0]]
        if len(tied) == len(rmse) and len(rmse) > 1:
            sentence = f"Rating predictions (RMSE): a tie, every model is off by {value:.3f} stars."
        elif len(tied) > 1:
            sentence = f"Most accurate rating predictions (lowest RMSE): a tie between {_names(tied)} at {value:.3f} stars."
        else:
            sentence = f"Most accurate rating predictions (lowest RMSE): {_name(tied[0])} with {value:.3f} stars."
        best_ranking = _leaders(ndcg, higher=True)[0] if len(ndcg) and verdicts else []
        if best_ranking and len(tied) < len(rmse) and not set(tied) & set(best_ranking):
            sentence += (
                f" It is not the model with the best top-{k} lists: predicting ratings well and ranking well are "
                "different tasks (most ratings in the test set are of items the user chose to watch, so RMSE never "
                "looks at the thousands of items nobody rated)."
            )
        sentences.append(sentence)
    if REFERENCE in ndcg.index and verdicts:
        reference = ndcg[REFERENCE]
        others = ndcg.drop(REFERENCE)
        tied = [m for m in others.index if _same(others[m], reference)]
        beaten = [m for m in others.index if m not in tied and others[m] > reference]
        below = [m for m in others.index if m not in tied and m not in beaten]
        if len(others):
            if len(beaten) == len(others):
                verdict = "every other model beats it"
            elif not beaten:
                verdict = "no model beats it"
                if tied:
                    verdict += f" ({_names(tied)} {'ties' if len(tied) == 1 else 'tie'} with it)"
                verdict += ": the personalised models have not learnt more than 'what everybody watches'"
            else:
                parts = [f"{len(beaten)} of {len(others)} models beat it"]
                if tied:
                    parts.append(f"{_names(tied)} {'ties' if len(tied) == 1 else 'tie'} with it")
                if below:
                    parts.append(f"{', '.join(_name(m) for m in below)} {'does not' if len(below) == 1 else 'do not'}")
                verdict = "; ".join(parts)
            sentences.append(
                f"Reference: **{REFERENCE}** recommends the same most-rated items to everyone and reaches "
                f"NDCG@{k} = {reference:.3f}; {verdict}."
            )
    elif len(ndcg) and REFERENCE not in ndcg.index:
        sentences.append(f"Train **{REFERENCE}** too: it is the reference every personalised model should beat.")
    if verdicts:
        sentences += _rating_versus_ranking(ndcg, rmse, k)
    if len(popularity):
        ranked = popularity.sort_values(kind="stable")
        low, high = ranked.index[0], ranked.index[-1]
        if len(ranked) == 1 or _same(ranked.iloc[0], ranked.iloc[-1], 0):
            whose = f"{_name(low)}'s" if len(ranked) == 1 else "every model's"
            sentences.append(f"How popular are the recommended items? The median item in {whose} top {k} has "
                             f"{fmt.plural(ranked.iloc[-1], 'training rating')}.")
        elif ranked.iloc[-1] > 0 and ranked.iloc[0] < 0.25 * ranked.iloc[-1]:
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
        widest, rest = _leaders(coverage, higher=True)
        if fmt.percent(coverage.max()) == fmt.percent(coverage.min()):
            sentences.append(f"Catalogue coverage: every model's lists use {fmt.percent(coverage.max())} of the items.")
        else:
            narrowest = [m for m in rest.index if fmt.percent(rest[m]) == fmt.percent(rest.iloc[-1])]
            sentences.append(
                f"Catalogue coverage: {_names(widest)}'s lists use {fmt.percent(coverage[widest[0]])} of the items, "
                f"{_names(narrowest)}'s only {fmt.percent(rest.iloc[-1])}."
            )
    fit = _mean(table, "fit_seconds", None)
    if len(fit) > 1:
        if f"{fit.min():.2f}" == f"{fit.max():.2f}":
            sentences.append(f"Every model fits in {fit.max():.2f} s.")
        else:
            sentences.append(f"Fastest to fit: {_name(fit.idxmin())} ({fit.min():.2f} s); "
                             f"slowest: {_name(fit.idxmax())} ({fit.max():.2f} s).")
    if n_folds <= 1 and len(ndcg) > 1 and verdicts:
        sentences.append(
            "These numbers come from a single train/test split: small differences may be noise. "
            "Choose k-fold cross-validation on the Train page to see the spread across folds."
        )
    return sentences


def embedding_lesson(table: pd.DataFrame, k: int, trained_per_epoch: set[str], classic: set[str],
                     tuned: set[str] = frozenset()) -> str | None:
    """Whether the models trained per epoch beat the classic factor / linear models here, said plainly.

    The lesson of Dacrema et al. (2019) and Rendle et al. (2020): a neural model is often no better than a
    well-tuned matrix factorisation or EASE. ``trained_per_epoch``: the labels of models trained in epochs
    (the ``trains_per_epoch`` capability); ``classic``: the strongest simple baselines present (EASE, ALS);
    ``tuned``: labels whose parameters were tuned. None when there is nothing to compare.
    """
    ndcg = _mean(table, "ndcg", k)
    neural = [m for m in ndcg.index if m in trained_per_epoch]
    baselines = [m for m in ndcg.index if m in classic]
    if not neural or not baselines:
        return None
    best_base = ndcg[baselines].idxmax()
    base_value = ndcg[best_base]
    beat = [m for m in neural if ndcg[m] > base_value and not _same(ndcg[m], base_value)]
    untuned_base = "" if best_base in tuned else f" (untuned: tune {_name(best_base)} too before concluding)"
    if not beat:
        return (f"No embedding model trained per epoch beats {_name(best_base)} ({base_value:.3f} NDCG@{k}"
                f"{untuned_base}): on this data {_names(neural)} add nothing over a simple, fast model — a common "
                "finding (Dacrema et al. 2019; Rendle et al. 2020). Check whether a gap is real in \"Is the "
                "difference real?\" below.")
    best = max(beat, key=lambda m: ndcg[m])
    return (f"{_names(beat)} {'beats' if len(beat) == 1 else 'beat'} {_name(best_base)} ({base_value:.3f}) on "
            f"NDCG@{k}, best {_name(best)} with {ndcg[best]:.3f}{untuned_base}; a neural model often does not, "
            "so check the gap in \"Is the difference real?\" below before believing it.")


def sequence_lesson(table: pd.DataFrame, k: int, reads_order: set[str], split: str) -> str | None:
    """What reading the order of histories adds here, on full-catalogue numbers, said plainly.

    ``reads_order``: labels of models with the ``uses_order`` capability (GRU4Rec, SASRec), ``split`` the
    split in words. Next-item papers often rank the true next item against 100 sampled negatives, which
    inflates HR@10 to around 0.8 and can reorder models (Krichene & Rendle 2020); the lab ranks the whole
    catalogue, so its numbers are lower and comparable between models. None without such a model.
    """
    ndcg = _mean(table, "ndcg", k)
    ordered = [m for m in ndcg.index if m in reads_order]
    others = [m for m in ndcg.index if m not in reads_order]
    if not ordered or not others:
        return None
    best, other = max(ordered, key=lambda m: ndcg[m]), max(others, key=lambda m: ndcg[m])
    if _same(ndcg[best], ndcg[other]):
        verdict = f"{_name(best)} ties {_name(other)} ({ndcg[best]:.3f} NDCG@{k}): the order adds nothing visible here"
    elif ndcg[best] > ndcg[other]:
        verdict = (f"{_name(best)} ({ndcg[best]:.3f} NDCG@{k}) beats the best model that reads histories as sets, "
                   f"{_name(other)} ({ndcg[other]:.3f}): the order in which people took things carries signal here")
    else:
        verdict = (f"the best model that reads histories as sets, {_name(other)} ({ndcg[other]:.3f} NDCG@{k}), "
                   f"beats {_name(best)} ({ndcg[best]:.3f}): the order adds too little here to pay for itself")
    return (f"On this {split}, {verdict}. These are full-catalogue numbers: each model ranks every item. Papers on "
            "next-item models often rank the true next item against 100 sampled items instead, which puts HR@10 "
            "near 0.8 and can change which model looks best (Krichene & Rendle 2020); compare the sampled "
            "column in \"Is the difference real?\" below.")


def group_gap_sentence(gap, grouping, min_users: int = 10) -> str:
    """One model's gap between its worst- and best-served groups of users, in words, with the interval.

    ``gap`` is a :class:`recsys_core.evaluation.groups.GroupGap` (worst minus best), ``grouping`` the
    :class:`~recsys_core.evaluation.groups.Grouping` it came from: "als serves users aged 50 and over with
    0.050 lower NDCG@10 than users aged under 25 (0.310 against 0.360; 95% CI of the gap 0.012 to 0.088;
    120 and 210 users)".
    """
    label = metric_label(f"{gap.metric}@{gap.k}" if gap.k is not None else gap.metric)
    size = abs(gap.difference)
    higher = higher_is_better(gap.metric)
    direction = "lower" if gap.difference < 0 else "higher"
    if higher is False and direction == "higher":
        direction = "higher (worse)"
    worst, best = fmt.text(grouping.phrase(gap.first)), fmt.text(grouping.phrase(gap.second))  # user data
    # The interval of the gap as the sentence states it (how much lower, or how much higher).
    low, high = (-gap.high, -gap.low) if gap.difference < 0 else (gap.low, gap.high)
    interval = (f"{gap.level:.0%} CI of the gap {_signed(low)} to {_signed(high)}")
    users = f"{fmt.count(gap.first_users)} and {fmt.count(gap.second_users)} users"
    if _same(gap.first_value, gap.second_value):
        return (f"{_name(gap.model)} serves {worst} and {best} alike on {label} ({gap.first_value:.3f}; "
                f"{users}).")
    sentence = (f"{_name(gap.model)} serves {worst} with {size:.3f} {direction} {label} than {best} "
                f"({gap.first_value:.3f} against {gap.second_value:.3f}; {interval}; {users})")
    if min(gap.first_users, gap.second_users) < min_users:
        return sentence + ": too few users in a group to tell."
    if not gap.clear:
        return sentence + ": the interval includes 0, so the gap may be chance."
    return sentence + "."


def _signed(value: float) -> str:
    return f"{value:.3f}".replace("-", "−")
