"""Side-by-side lists of several models (Cold start, Explore) and item pickers."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import streamlit as st

from recsys_core.dataset import Dataset
from recsys_core.models import Recommender

from .training import Results
from . import fmt
from .ui import md

def models_with(current: Results, capability: str) -> dict[str, Recommender]:
    """The trained models that have ``capability`` (their own instance's answer: no probing)."""
    return {label: model for label, model in current.models.items() if model.can(capability)}


def side_by_side(frames: dict[str, pd.DataFrame | None], n: int, column: str = "title",
                 mark: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.DataFrame:
    """One column per model, one row per rank: the lists next to each other."""
    table = pd.DataFrame(index=pd.RangeIndex(1, n + 1, name="rank"))
    for label, frame in frames.items():
        values = [""] * n
        if frame is not None and len(frame):
            text = frame[column].astype(str)
            if mark is not None:
                text = text + mark(frame)
            for position, value in enumerate(text.head(n)):
                values[position] = value
        table[label] = values
    return table


#: Models per side-by-side table: three 10-title columns fit a 1400 px screen (four pushed one off it);
#: more models wrap to further tables below.
OVERVIEW_COLUMNS = 3


def render_lists(frames: dict[str, pd.DataFrame | None], notes: dict[str, str], n: int,
                 detail_columns: list[str], column_config: dict | None = None,
                 mark: Callable[[pd.DataFrame], pd.Series] | None = None, key: str = "lists") -> None:
    """Every model's list side by side, then one tab per model with the details (and any note)."""
    answered = {label: frame for label, frame in frames.items() if frame is not None and len(frame)}
    silent: dict[str, list[str]] = {}
    for label, note in notes.items():
        if label not in answered:
            silent.setdefault(note or "no answer.", []).append(label)
    for note, labels in silent.items():
        # Models that cannot answer for the same reason share one line.
        who = ", ".join(f"**{md(label)}**" for label in labels)
        st.warning(f"{who} cannot answer: {md(note)}", icon=":material/block:")
    if not answered:
        return
    labels = list(answered)
    for start in range(0, len(labels), OVERVIEW_COLUMNS):
        # A few models per table: every list stays readable on a projector, without scrolling sideways.
        chunk = {label: answered[label] for label in labels[start:start + OVERVIEW_COLUMNS]}
        # Model columns of one width: a long title is cut in its cell (hover shows it), never widens its
        # column past the screen.
        st.dataframe(side_by_side(chunk, n, mark=mark), width="stretch", key=f"{key}-overview-{start}",
                     column_config={"_index": st.column_config.NumberColumn("rank", width=50),
                                    **{label: st.column_config.TextColumn(label, width="medium") for label in chunk}})
    tabs = st.tabs([md(label) for label in labels])  # tab names read Markdown
    for tab, (label, frame) in zip(tabs, answered.items()):
        with tab:
            if notes.get(label):
                st.info(md(notes[label]), icon=":material/info:")
            shown = [c for c in detail_columns if c in frame.columns]
            config = dict(column_config or {})
            if "score" in frame.columns and np.allclose(frame["score"], np.round(frame["score"])):
                # Counts (e.g. 'popular' scores items by their number of ratings) need no decimals.
                config["score"] = st.column_config.NumberColumn("score", format="%d")
            st.dataframe(frame[shown], hide_index=True, width="stretch", column_config=config, placeholder="–")


def item_options(data: Dataset) -> tuple[list[int], Callable[[int], str]]:
    """Item indices ordered by popularity, and a label function (title · ratings) for pickers."""
    order = np.argsort(-data.item_counts, kind="stable")
    titles = data.items["title"].astype(str).to_numpy()
    counts = data.item_counts
    # Options of a select box are shown as plain text (never Markdown): the title needs no escaping here.
    return [int(i) for i in order], lambda i: f"{titles[i]}  ·  {fmt.plural(counts[i], 'rating')}"


