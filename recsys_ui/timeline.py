"""A user's history as a timeline: what they took, when, of which genre, and which part was held out.

A pure function (no streamlit) returning a plotly figure, as in :mod:`recsys_ui.charts`; the Explore page
places it beside each model's next items, so a class sees what a model reading order starts from.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from recsys_core.dataset import Dataset

from .charts import PALETTE, _layout, hover_text

#: Most recent interactions drawn (a heavy user's whole history would be an unreadable smear).
LATEST = 60


def history_timeline(dataset: Dataset, user_idx: int, held_items: set[int]) -> go.Figure | None:
    """The user's latest interactions in time order (x: when; y: primary genre), held-out ones marked."""
    if not dataset.has_timestamps:
        return None
    frame = dataset.interactions
    rows = frame[frame["user_idx"] == user_idx]
    order = np.lexsort((np.arange(len(rows)), rows["timestamp"].to_numpy()))
    rows = rows.iloc[order].tail(LATEST)
    items = rows["item_idx"].to_numpy()
    genres = (dataset.items["genres"].fillna("").astype(str).str.split("|").str[0].replace("", "(no genre)")
              .to_numpy()[items] if "genres" in dataset.items.columns else np.full(len(items), "items"))
    when = pd.to_datetime(rows["timestamp"].to_numpy(), unit="s") if rows["timestamp"].max() > 1e8 \
        else rows["timestamp"].to_numpy()
    held = np.array([item in held_items for item in items])
    titles = hover_text(pd.Series(dataset.titles(items)))
    fig = go.Figure()
    # The connecting line first, so the points are drawn over it.
    fig.add_trace(go.Scatter(x=np.asarray(when), y=genres, mode="lines", line=dict(color="#cccccc", width=1),
                             hoverinfo="skip", showlegend=False))
    for name, mask, symbol in (("trained on", ~held, "circle"), ("held out (the next items to predict)", held,
                                                                  "star")):
        if mask.any():
            fig.add_trace(go.Scatter(
                x=np.asarray(when)[mask], y=genres[mask], mode="markers", name=name,
                marker=dict(symbol=symbol, size=11 if symbol == "star" else 8,
                            color=PALETTE[1] if symbol == "star" else PALETTE[4]),
                text=titles[mask], hovertemplate="%{text}<br>%{x}<extra></extra>"))
    shown = f"latest {len(rows)}" if len(rows) == LATEST else f"all {len(rows)}"
    _layout(fig, f"Their history in time order ({shown} interactions)", height=300)
    fig.update_layout(xaxis_title="when", yaxis_title="genre", legend=dict(orientation="h", y=-0.25))
    return fig
