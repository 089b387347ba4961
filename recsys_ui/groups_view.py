"""Compare's "Per group of users": every metric per group (activity or any user column), the gaps in words.

The numbers come from :mod:`recsys_core.evaluation.groups` on the same per-user values the significance
section uses (the last fold's test users), so both sections agree.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

from recsys_core.evaluation import groups as G

from . import charts, exports, fmt, reading, training, ui
from .significance_view import _per_user


@st.cache_data(show_spinner=False, max_entries=32)
def _grouped(key: tuple, column: str, metric: str, k: int | None, models: tuple[str, ...],
             _per_user_table: pd.DataFrame, _grouping: G.Grouping) -> tuple[pd.DataFrame, list]:
    table = G.metrics_by_group(_per_user_table, _grouping)
    part = table[table["metric"] == metric]
    part = part[part["k"].isna()] if k is None else part[part["k"] == k]
    gaps = G.widest_gaps(_per_user_table, _grouping, metric, k, models=[m for m in models if (part["model"] == m).any()])
    return part, sorted(gaps, key=lambda gap: -abs(gap.difference))  # the widest gap first


def _label(column: str) -> str:
    return "activity (training ratings)" if column == G.ACTIVITY else column


def section(current: Any, k: int | None) -> None:
    """Column and metric choosers, a bar chart per group, a table with the users per group, and the readings."""
    data = ui.dataset()
    st.subheader("Per group of users", divider="gray")
    fold = training.last_split(current)
    ks = tuple(sorted(int(v) for v in current.ks))
    per_user = _per_user(current.content_key, current.models, fold, ks)
    metrics = [m for m in reading.RANKING_METRICS + ("rmse", "mae") if (per_user["metric"] == m).any()]
    if not metrics:
        st.info("No per-user values to group (no test user has a relevant item).", icon=":material/info:")
        return
    columns = G.group_columns(data)
    for key, options in (("compare_group_column", columns), ("compare_group_metric", metrics)):
        if st.session_state.get(key) not in (None, *options):  # chosen on another data set or result
            st.session_state.pop(key)
    cells = st.columns(2)
    column = cells[0].selectbox("Group users by", columns, format_func=_label, key="compare_group_column",
                                help="Activity needs no user data; the other choices are the columns of the "
                                     "user file. Numbers are grouped in ranges at rounded quartiles.")
    metric = cells[1].selectbox("Metric", metrics, format_func=lambda m: reading.METRICS[m].label,
                                key="compare_group_metric")
    if len(columns) == 1:
        st.caption("The data set has no user attributes (age, gender, ...): upload a user file on the Data page "
                   "to compare groups by them.")
    grouping = G.user_groups(data, column, train=fold.train)
    if not grouping.usable:
        st.info(fmt.text(grouping.note), icon=":material/info:")
        return
    metric_k = None if metric in ("rmse", "mae") else k
    part, gaps = _grouped(current.content_key, column, metric, metric_k, tuple(current.labels), per_user, grouping)
    if not len(part):
        st.info(f"No evaluated user has a value in '{fmt.text(column)}'.", icon=":material/info:")
        return
    label = reading.metric_label(f"{metric}@{metric_k}" if metric_k else metric)
    safe = part.assign(group=charts.hover_text(part["group"]), model=charts.hover_text(part["model"]))
    colours = charts.model_colours(current.labels)
    figure = px.bar(safe, x="group", y="value", color="model", barmode="group",
                    category_orders={"group": list(charts.hover_text(pd.Series(grouping.order))),
                                     "model": list(charts.hover_text(pd.Series(current.labels)))},
                    color_discrete_map={charts.hover_text(pd.Series([m]))[0]: c for m, c in colours.items()},
                    labels={"value": label, "group": charts.hover_text(pd.Series([_label(column)]))[0]},
                    hover_data=["users"], height=340)
    figure.update_layout(margin=dict(t=30, b=10), legend_title_text="")
    st.plotly_chart(figure, key="chart-groups")
    sizes = part.drop_duplicates("group").set_index("group")["users"]
    st.caption("Users per group (last fold's test users): "
               + " · ".join(f"{fmt.text(g)} {fmt.count(int(sizes[g]))}" for g in grouping.order if g in sizes)
               + f". Groups with fewer than {G.MIN_GROUP_USERS} users get no gap.")
    shown = 4  # the widest gaps; the others one click away
    for gap in gaps[:shown]:
        st.markdown(reading.group_gap_sentence(gap, grouping, min_users=G.MIN_GROUP_USERS))
    if len(gaps) > shown:
        with st.expander(f"The other {len(gaps) - shown} models' gaps"):
            for gap in gaps[shown:]:
                st.markdown(reading.group_gap_sentence(gap, grouping, min_users=G.MIN_GROUP_USERS))
    if not gaps:
        st.caption(f"No model has two groups with at least {G.MIN_GROUP_USERS} evaluated users: no gap to report.")
    with st.expander("Every metric per group", icon=":material/table:"):
        wide = _every_metric(current.content_key, column, per_user, grouping)
        st.dataframe(wide, hide_index=True, width="stretch")
        st.download_button("Download the metrics per group (CSV)", exports.csv_bytes(wide), file_name=f"metrics-by-{column}.csv",
                           mime="text/csv", icon=":material/download:", key="compare_group_download",
                           on_click="ignore")


@st.cache_data(show_spinner=False, max_entries=16)
def _every_metric(key: tuple, column: str, _per_user_table: pd.DataFrame, _grouping: G.Grouping) -> pd.DataFrame:
    """model, group, users, then one column per metric (NDCG@10, RMSE, ...)."""
    table = G.metrics_by_group(_per_user_table, _grouping)
    table["metric"] = [reading.metric_label(f"{m}@{k}" if pd.notna(k) else m) for m, k in zip(table["metric"], table["k"])]
    users = table.groupby(["model", "group"], sort=False)["users"].max()
    wide = table.pivot_table(index=["model", "group"], columns="metric", values="value", sort=False)
    wide.insert(0, "users", users.reindex(wide.index))
    return wide.reset_index()
