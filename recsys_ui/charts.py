"""Plotly figures for the dashboard, built from a ``Dataset`` or the tidy results table.

Pure functions (no streamlit): each takes data and returns a ``go.Figure``
with axis titles and units, so pages only place them.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from recsys_core.dataset import Dataset

from . import fmt
from .reading import METRICS, REFERENCE, metric_label

#: Colour of the reference model in every chart.
REFERENCE_COLOUR = "#8c8c8c"
#: Colour-blind-safe qualitative colours: Okabe & Ito (2008) without black, then Paul Tol's "muted" set
#: (Tol 2021), ordered so that neighbours in the list differ most. 16 colours; a category chart with more
#: groups shows the 15 largest and puts the rest in a grey "other" (more hues cannot be told apart).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
TOL_MUTED = ("#332288", "#882255", "#999933", "#CC6677", "#44AA99", "#DDCC77", "#AA4499", "#117733", "#88CCEE")
PALETTE = OKABE_ITO + TOL_MUTED
OTHER_COLOUR = "#BBBBBB"
OTHER = "other"
_MARGIN = dict(l=10, r=10, t=50, b=10)


def model_colours(models: Iterable[str]) -> dict[str, str]:
    """One stable colour per model label, grey for the reference."""
    colours, i = {}, 0
    for model in models:
        if model == REFERENCE:
            colours[model] = REFERENCE_COLOUR
        else:
            colours[model] = PALETTE[i % len(PALETTE)]
            i += 1
    return colours


def hover_text(values: pd.Series) -> pd.Series:
    """User text made safe for plotly hover labels (which read a few HTML tags)."""
    return values.astype(str).str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False).str.replace(
        ">", "&gt;", regex=False)


def _layout(fig: go.Figure, title: str, height: int = 340) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0, xanchor="left"), height=height, margin=_MARGIN,
                      legend=dict(title=None))
    return fig


# -------------------------------------------------------------- data charts
def rating_histogram(dataset: Dataset) -> go.Figure:
    """Number of ratings per rating value."""
    counts = dataset.interactions["rating"].value_counts().sort_index()
    words = [fmt.plural(n, "rating") for n in counts.to_numpy()]
    fig = go.Figure(go.Bar(x=counts.index.astype(float), y=counts.to_numpy(), marker_color="#4c78a8",
                           customdata=words, hovertemplate="rating %{x:g}: %{customdata}<extra></extra>"))
    fig.update_xaxes(title="rating", type="category" if len(counts) <= 12 else "linear")
    fig.update_yaxes(title="number of ratings")
    return _layout(fig, "How users rate")


def long_tail(dataset: Dataset) -> go.Figure:
    """Ratings per item, items sorted by popularity (log y): the long tail."""
    counts = np.sort(dataset.item_counts)[::-1]
    rank = np.arange(1, len(counts) + 1)
    fig = go.Figure(go.Scatter(x=rank, y=np.maximum(counts, 0.8), mode="lines", line=dict(color="#4c78a8"),
                               fill="tozeroy", hovertemplate="item #%{x:,}: %{customdata}<extra></extra>",
                               customdata=[fmt.plural(n, "rating") for n in counts]))
    total = counts.sum()
    if total and len(counts) >= 5:
        head = max(1, int(round(0.2 * len(counts))))
        share = counts[:head].sum() / total
        fig.add_vline(x=head, line_dash="dot", line_color="#e45756")
        fig.add_annotation(x=head, y=1, yref="paper", xanchor="left", showarrow=False,
                           text=f" top 20% of items: {fmt.percent(share)} of the ratings", font=dict(color="#e45756"))
    fig.update_xaxes(title="items, most rated first (rank)")
    fig.update_yaxes(title="ratings per item (log scale)", type="log", dtick=1)
    return _layout(fig, "Popularity: the long tail")


def user_activity(dataset: Dataset) -> go.Figure:
    """Histogram of ratings per user."""
    counts = dataset.user_counts
    fig = go.Figure(go.Histogram(x=counts, nbinsx=min(60, max(5, len(np.unique(counts)))), marker_color="#72b7b2",
                                 hovertemplate="ratings per user: %{x}<br>users: %{y:,}<extra></extra>"))
    fig.update_xaxes(title="ratings per user")
    fig.update_yaxes(title="number of users")
    median = float(np.median(counts)) if len(counts) else 0
    fig.add_vline(x=median, line_dash="dot", line_color="#e45756")
    fig.add_annotation(x=median, y=1, yref="paper", xanchor="left", showarrow=False,
                       text=f" median: {fmt.count(median)}", font=dict(color="#e45756"))
    return _layout(fig, "How active users are")


def genre_counts(dataset: Dataset) -> go.Figure | None:
    """Items per genre (an item with two genres counts in both); None without genres."""
    if "genres" not in dataset.items.columns:
        return None
    genres = dataset.items["genres"].fillna("").astype(str)
    exploded = genres[genres != ""].str.split("|").explode().str.strip()
    exploded = exploded[exploded != ""]
    if exploded.empty:
        return None
    counts = exploded.value_counts().head(30).sort_values()
    fig = go.Figure(go.Bar(x=counts.to_numpy(), y=hover_text(pd.Series(counts.index)).to_numpy(), orientation="h",
                           marker_color="#f58518", customdata=[fmt.plural(n, "item") for n in counts.to_numpy()],
                           hovertemplate="%{y}: %{customdata}<extra></extra>"))
    fig.update_xaxes(title="number of items")
    fig.update_yaxes(title=None)
    return _layout(fig, "Items per genre", height=max(300, 22 * len(counts) + 80))


# ----------------------------------------------------------- result charts
def _select(table: pd.DataFrame, metric: str, k: int | None, bucket: str = "all") -> pd.DataFrame:
    part = table[(table["metric"] == metric) & (table["bucket"] == bucket)]
    return part[part["k"].isna()] if k is None else part[part["k"] == k]


def metric_bars(table: pd.DataFrame, metric: str, k: int | None, models: Sequence[str]) -> go.Figure:
    """Mean over folds per model, error bars = standard deviation across folds."""
    part = _select(table, metric, k)
    stats = part.groupby("model", sort=False)["value"].agg(["mean", "std", "count"]).reindex(models).dropna(subset=["mean"])
    colours = model_colours(models)
    column = f"{metric}@{k}" if k is not None else metric
    fig = go.Figure(go.Bar(
        x=stats.index, y=stats["mean"], marker_color=[colours[m] for m in stats.index],
        error_y=dict(type="data", array=stats["std"].fillna(0).to_numpy(), visible=bool((stats["count"] > 1).any())),
        customdata=np.stack([stats["std"].fillna(0).to_numpy(), stats["count"].to_numpy()], axis=1),
        hovertemplate="%{x}: %{y:.4f} ± %{customdata[0]:.4f} (%{customdata[1]} folds)<extra></extra>",
    ))
    info = METRICS.get(metric)
    unit = f" ({info.unit})" if info and info.unit else ""
    fig.update_yaxes(title=metric_label(column) + unit)
    fig.update_xaxes(title=None)
    return _layout(fig, f"{metric_label(column)} per model (mean over folds, bars: ± 1 std)")


def metric_vs_k(table: pd.DataFrame, metric: str, models: Sequence[str]) -> go.Figure:
    """A ranking metric against the cut-off K, one line per model."""
    part = table[(table["metric"] == metric) & (table["bucket"] == "all") & table["k"].notna()]
    means = part.groupby(["model", "k"], sort=False)["value"].mean().reset_index()
    colours = model_colours(models)
    fig = go.Figure()
    for model in models:
        rows = means[means["model"] == model].sort_values("k")
        if rows.empty:
            continue
        fig.add_trace(go.Scatter(x=rows["k"].astype(int), y=rows["value"], mode="lines+markers", name=model,
                                 line=dict(color=colours[model], dash="dash" if model == REFERENCE else "solid"),
                                 hovertemplate=f"{model}: %{{y:.4f}} at K=%{{x}}<extra></extra>"))
    fig.update_xaxes(title="K (length of the recommendation list)", type="category")
    fig.update_yaxes(title=metric_label(metric))
    return _layout(fig, f"{metric_label(metric)} as the list grows")


def bucket_bars(table: pd.DataFrame, metric: str, k: int | None, models: Sequence[str],
                buckets: Sequence[str]) -> go.Figure:
    """A metric per user-activity bucket (training ratings per user), grouped by model."""
    colours = model_colours(models)
    fig = go.Figure()
    for model in models:
        values = []
        for bucket in buckets:
            part = _select(table, metric, k, bucket)
            values.append(part[part["model"] == model]["value"].mean() if len(part) else np.nan)
        if np.all(np.isnan(values)):
            continue
        fig.add_trace(go.Bar(x=[f"{b} ratings" for b in buckets], y=values, name=model, marker_color=colours[model],
                             hovertemplate=f"{model}, %{{x}}: %{{y:.4f}}<extra></extra>"))
    column = f"{metric}@{k}" if k is not None else metric
    fig.update_layout(barmode="group")
    fig.update_xaxes(title="users grouped by their number of training ratings")
    fig.update_yaxes(title=metric_label(column))
    return _layout(fig, f"{metric_label(column)} for light, medium and heavy users")


def time_bars(table: pd.DataFrame, models: Sequence[str]) -> go.Figure:
    """Fit and score seconds per model (mean over folds)."""
    fig = go.Figure()
    for metric, colour in (("fit_seconds", "#4c78a8"), ("score_seconds", "#f58518")):
        part = _select(table, metric, None)
        means = part.groupby("model", sort=False)["value"].mean().reindex(models)
        fig.add_trace(go.Bar(x=means.index, y=means.to_numpy(), name=METRICS[metric].label, marker_color=colour,
                             hovertemplate="%{x}: %{y:.2f} s<extra>" + METRICS[metric].label + "</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="seconds per fold")
    return _layout(fig, "Time per fold: fit + score")


def popularity_bars(table: pd.DataFrame, k: int, models: Sequence[str], catalogue_median: float) -> go.Figure:
    """Median popularity of each model's recommended items, against the reference and the catalogue."""
    part = _select(table, "median_popularity", k)
    means = part.groupby("model", sort=False)["value"].mean().reindex(models).dropna()
    colours = model_colours(models)
    fig = go.Figure(go.Bar(x=means.index, y=means.to_numpy(), marker_color=[colours[m] for m in means.index],
                           hovertemplate="%{x}: training ratings of the median item: %{y:,.0f}<extra></extra>"))
    if REFERENCE in means.index:
        fig.add_hline(y=means[REFERENCE], line_dash="dash", line_color=REFERENCE_COLOUR,
                      annotation_text=f"{REFERENCE} (reference)", annotation_position="top right")
    fig.add_hline(y=catalogue_median, line_dash="dot", line_color="#e45756",
                  annotation_text="median item of the catalogue", annotation_position="bottom right")
    fig.update_yaxes(title="ratings of the median recommended item", rangemode="tozero")
    return _layout(fig, f"How popular are the top-{k} items? (lower = more obscure)")


def tradeoff_chart(curve: pd.DataFrame, metric: str, model: str, k: int) -> go.Figure:
    """NDCG@K against a beyond-accuracy metric along a re-ranker's sweep, each point labelled with its value.

    ``curve`` is :func:`recsys_core.evaluation.tradeoff.tradeoff_curve`'s frame; the first row is the
    re-ranker's neutral value (the model's own lists), drawn larger.
    """
    info = METRICS.get(metric)
    unit = f" ({info.unit})" if info and info.unit else ""
    x, y = curve[metric].to_numpy(dtype=float), curve["ndcg"].to_numpy(dtype=float)
    labels = curve["label"].astype(str).tolist()
    sizes = [14] + [9] * (len(curve) - 1)
    # A point's label is written only where it does not sit on the last written one (the flat end of a sweep
    # bunches points together); every point keeps its label on hover.
    span_x = max(float(np.nanmax(x) - np.nanmin(x)), 1e-12) if len(x) else 1.0
    span_y = max(float(np.nanmax(y) - np.nanmin(y)), 1e-12) if len(y) else 1.0
    written, last = [], None
    for position, label in enumerate(labels):
        here = (x[position] / span_x, y[position] / span_y)
        if last is None or position == len(labels) - 1 or np.hypot(here[0] - last[0], here[1] - last[1]) > 0.06:
            written.append(label)
            last = here
        else:
            written.append("")
    fig = go.Figure(go.Scatter(
        x=x, y=y, mode="lines+markers+text", text=written, textposition="top center",
        marker=dict(size=sizes, color=PALETTE[0], line=dict(width=1, color="#333333")),
        line=dict(color=PALETTE[0]),
        customdata=np.stack([np.array(labels, dtype=object)], axis=1),
        hovertemplate=f"%{{customdata[0]}}: {metric_label(metric)} %{{x:.4f}}, NDCG@{k} %{{y:.4f}}<extra></extra>",
    ))
    fig.add_annotation(x=x[0], y=y[0], text=f"{hover_text(pd.Series([model])).iloc[0]}'s own lists", showarrow=True,
                       arrowhead=2, ax=40, ay=30)
    fig.update_xaxes(title=f"{metric_label(f'{metric}@{k}')}{unit}")
    fig.update_yaxes(title=f"NDCG@{k}")
    spec = curve["reranker"].iloc[0] if len(curve) else ""
    return _layout(fig, f"What {spec} re-ranking costs: NDCG@{k} against {metric_label(metric)}", height=420)


# ------------------------------------------------------------- embeddings
def embedding_scatter(frame: pd.DataFrame, colour: str, kind: str, focus: int | None = None,
                      neighbours: Sequence[int] = ()) -> go.Figure:
    """2-D map of items or users; the focused point and its neighbours are highlighted.

    ``frame`` is an ``item_projection`` / ``user_projection`` frame; points
    are identified by ``item_idx`` / ``user_idx`` in ``customdata[0]``.
    """
    id_column = "item_idx" if kind == "items" else "user_idx"
    frame = frame.copy()
    values = frame[colour]
    numeric = pd.api.types.is_numeric_dtype(values) and colour not in ("cluster",) and values.nunique() > 12
    if not numeric:
        frame[colour] = _top_categories(hover_text(values.fillna("(none)")), len(PALETTE) - 1)
    if kind == "items":
        hover = hover_text(frame["title"])
        detail = ("rated by " + frame["popularity"].map(lambda n: fmt.plural(n, "user")) + "<br>"
                  + hover_text(frame["genres"]).str.replace("|", ", ", regex=False))
    else:
        hover = "user " + hover_text(frame["user"])
        detail = frame["n_ratings"].map(lambda n: fmt.plural(n, "rating"))
        if "segment" in frame.columns:
            detail = detail + "<br>segment: " + hover_text(frame["segment"])
    frame["_hover"], frame["_detail"] = hover, detail
    order = sorted(frame[colour].unique(), key=_natural) if not numeric else None
    if order and OTHER in order and frame[colour].nunique() > len(PALETTE) - 1:
        order = [c for c in order if c != OTHER] + [OTHER]
    colour_map = {c: (OTHER_COLOUR if c == OTHER and len(order) > len(PALETTE) - 1 else PALETTE[i % len(PALETTE)])
                  for i, c in enumerate(order)} if order else None
    fig = px.scatter(
        frame, x="x", y="y", color=colour, custom_data=[id_column, "_hover", "_detail"],
        category_orders={colour: order} if order else None,
        color_discrete_map=colour_map,
        opacity=0.75 if focus is None else 0.35,
    )
    fig.update_traces(marker=dict(size=6), hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]}<extra></extra>")
    if focus is not None:
        near = frame[frame[id_column].isin(neighbours)]
        if len(near):
            fig.add_trace(go.Scatter(x=near["x"], y=near["y"], mode="markers", name="nearest neighbours",
                                     marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(width=2.5, color="#111")),
                                     customdata=near[[id_column, "_hover", "_detail"]].to_numpy(),
                                     hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]}<extra>neighbour</extra>"))
        here = frame[frame[id_column] == focus]
        if len(here):
            fig.add_trace(go.Scatter(x=here["x"], y=here["y"], mode="markers", name="selected",
                                     marker=dict(size=20, symbol="star", color="#ffd400", line=dict(width=1.5, color="#111")),
                                     customdata=here[[id_column, "_hover", "_detail"]].to_numpy(),
                                     hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[2]}<extra>selected</extra>"))
    fig.update_xaxes(title=None, showticklabels=False, zeroline=False)
    fig.update_yaxes(title=None, showticklabels=False, zeroline=False, scaleanchor="x", scaleratio=1)
    fig.update_layout(height=620, margin=dict(l=10, r=10, t=40, b=10), dragmode="pan", clickmode="event+select",
                      legend=dict(title=colour.replace("_", " "), itemsizing="constant", y=0.97, yanchor="top"))
    return fig


def _top_categories(values: pd.Series, keep: int) -> pd.Series:
    """The ``keep`` most frequent categories; the rest become "other" (a palette cannot tell more apart)."""
    counts = values.value_counts()
    if len(counts) <= keep + 1:
        return values
    return values.where(values.isin(counts.index[:keep]), OTHER)


def _natural(value: str):
    """Sort '2' before '10' and text alphabetically."""
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))
