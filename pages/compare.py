"""Compare: the results table with the best values marked, charts, downloads and a plain-language reading."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from recsys_core.evaluation.metrics import activity_bucket_labels
from recsys_ui import experiment_io, exports, fmt, reading, training, ui
from recsys_ui import groups_view, reranking_view, significance_view

st.title("Compare")
current = training.require_results()
data = ui.dataset()
table = current.table
n_folds = int(table["fold"].nunique()) if len(table) else 0
if data.implicit:
    # Every "rating" is 1: rating errors say nothing, only the ranking and beyond-accuracy metrics count.
    table = table[~table["metric"].isin(reading.RATING_METRICS)]
models = current.labels
ks = sorted(int(k) for k in table["k"].dropna().unique()) or list(current.ks)
st.caption(f"{fmt.plural(len(models), 'model')} on {ui.dataset_caption(data)}; tested with {current.split_description()}.")
for label, message in current.errors.items():
    st.error(f"**{ui.md(label)}** failed and is not shown: {ui.md(message)}", icon=":material/error:")

k = st.segmented_control("List length K", ks, default=reading.default_k(ks) if ks else None, key="compare_k",
                         required=True,
                         format_func=lambda v: f"K = {v}", persist_state="session",
                         help="Ranking and beyond-accuracy metrics are measured on each user's top-K list.") if ks else None

# ------------------------------------------------------------------ reading
@st.cache_data(show_spinner=False, max_entries=32)
def split_evidence(fingerprint: str, method: str, split_params: str, threshold: float | None, _data,
                   _splits) -> reading.Evidence:
    """What the split's test part gives the ranking metrics to find (keyed on the data, split and relevance rule)."""
    return reading.split_evidence(_data, _splits, threshold)


st.subheader("What the numbers say", divider="gray")
# The reading knows how much there was to measure: too few users, or nothing relevant, is said before any verdict.
evidence = split_evidence(data.fingerprint, current.split_method, repr(sorted(current.split_params.items())),
                          current.relevance_threshold, data,
                          training.splits_for(data, current.split_method, current.split_params))
for sentence in ui.results_view("reading", current, table, k, n_folds, evidence=evidence) if k else []:
    st.markdown(f"- {sentence}")
if k:  # what the embedding models add over the simple strong ones (capabilities, not names)
    per_epoch = {label for label, model in current.models.items() if model.can("trains_per_epoch")}
    classic = {label for label, model in current.models.items() if model.family.startswith("Ranking")}
    lesson = reading.embedding_lesson(table, k, per_epoch, classic)
    if lesson:
        st.markdown(f"- {lesson}")
    reads_order = {label for label, model in current.models.items() if model.can("uses_order")}
    lesson = reading.sequence_lesson(table, k, reads_order, current.split_description())
    if lesson:
        st.markdown(f"- {lesson}")

# ------------------------------------------------------------------ table
st.subheader("Results table", divider="gray")
buckets = ["all"] + [b for b in activity_bucket_labels() if (table["bucket"] == b).any()]
bucket = st.segmented_control(
    "Users", buckets, default="all", key="compare_bucket", required=True, persist_state="session",
    format_func=lambda b: "all users" if b == "all" else f"{b} training ratings",
    help="Restrict the accuracy and ranking metrics to users with this many training ratings.",
)
wide = ui.results_view("summarise", current, table, bucket=bucket)
visible = [c for c in wide.columns if "@" not in c or c.endswith(f"@{k}")]
wide = wide[visible].reindex([m for m in models if m in wide.index])
best = reading.best_per_column(wide)

# Metrics as rows, models as columns: fits the screen with many metrics, and reads like a league table.
shown = wide.T
shown.index = [reading.metric_label(c) for c in wide.columns]
column_of = dict(zip(shown.index, wide.columns))
shown.insert(0, "better", ["↑ higher" if reading.higher_is_better(c) else "↓ lower"
                           if reading.higher_is_better(c) is False else "" for c in wide.columns])
model_columns = [m for m in shown.columns if m != "better"]


def highlight(row: pd.Series) -> list[str]:
    winners = best.get(column_of[row.name], [])
    return ["background-color: rgba(46, 160, 67, 0.22); font-weight: 700" if m in winners else "" for m in row.index]


# Format once into text (one Styler.format per metric row cost ~60 ms a run), then highlight.
formatted = shown.copy()
formatted[model_columns] = formatted[model_columns].astype(object)
for label, column in column_of.items():
    formatted.loc[label, model_columns] = [reading.format_value(column, v) for v in shown.loc[label, model_columns]]
# A model that failed keeps its column, marked on the first row, so the comparison shows every model asked for.
failed = [label for label in current.errors if label not in formatted.columns]
for label in failed:
    formatted[label] = "–"
if failed:
    status = pd.DataFrame([[""] + ["trained" if m in model_columns else "failed (see above)"
                                    for m in formatted.columns[1:]]], columns=formatted.columns, index=["status"])
    formatted = pd.concat([status, formatted])
    column_of["status"] = "status"
model_columns = model_columns + failed
styler = formatted.style.apply(lambda row: highlight(row) if row.name != "status" else
                               ["color: #b42318; font-weight: 700" if v.startswith("failed") else "" for v in row],
                               axis=1)
# Wide tables stay readable (issue 21: the last models were cut off with no hint): the metric and direction
# columns are pinned while the model columns scroll (each as wide as its name), and beyond what fits a
# 1,440 px screen a line says the table scrolls. (A fixed narrow model column fitted fewer models: most names
# are shorter than the values' column would be.)
FITTING_MODELS = 10  # measured in Chromium at 1,440 px, sidebar open: the default ten models fit
if len(model_columns) > FITTING_MODELS:
    st.caption(f":material/swap_horiz: {len(model_columns)} models: the table scrolls sideways (drag its scroll bar "
               f"or shift + mouse wheel) to {ui.md(model_columns[-1])}; the metric column stays in place.")
st.dataframe(
    styler, width="stretch", placeholder="–", height=38 + 35 * len(formatted),
    column_config={
        "_index": st.column_config.TextColumn("metric", width=150, pinned=True),
        "better": st.column_config.TextColumn("better", width="small", pinned=True),
        **{m: st.column_config.TextColumn(f"{m} (ref.)" if m == reading.REFERENCE else m, alignment="right",
                                      help=(f"{m}: recommends the most rated items to everyone, the reference."
                                            if m == reading.REFERENCE else
                                            f"{m}: {current.errors[m]}" if m in current.errors else m))
           for m in model_columns},
    },
)
st.caption("Mean over folds. Green: the best value in each row; median popularity is descriptive, neither better "
           "nor worse. The meaning of each metric is below the downloads.")

# Downloads carry what produced them (parameters, split, seed, K, data fingerprint, versions) and cannot
# start a spreadsheet formula. The CSV repeats the settings as columns: one file an analyst can filter and
# concatenate with other runs; the JSON has them once, as a header.
provenance = exports.run_provenance(current, data)
cells = st.columns([1, 1, 4])
cells[0].download_button("Download CSV", exports.results_csv(table, provenance), file_name="recsys-lab-results.csv",
                         mime="text/csv", icon=":material/download:", on_click="ignore",
                         help="The tidy table: one row per model, fold, metric, K and user bucket, with each "
                              "model's parameters, the split, seed, K list, data fingerprint and package versions.")
cells[1].download_button("Download JSON", exports.results_json(table, provenance),
                         file_name="recsys-lab-results.json", mime="application/json", icon=":material/download:",
                         on_click="ignore", help="The same results with the settings that produced them, in one file.")
with cells[2]:
    experiment_io.export_button(current)
with st.expander("What each metric means"):
    st.dataframe(pd.DataFrame([{"metric": info.label, "meaning": info.help} for info in reading.METRICS.values()]),
                 hide_index=True, width="stretch")

# ------------------------------------------------------------------ charts
st.subheader("Charts", divider="gray")
ranking = [m for m in reading.RANKING_METRICS if (table["metric"] == m).any()]
rating = [m for m in reading.RATING_METRICS if (table["metric"] == m).any()]
beyond = [m for m in reading.BEYOND_ACCURACY if (table["metric"] == m).any()]
options = ranking + rating + beyond
metric = st.selectbox("Metric", options, index=0, format_func=lambda m: reading.METRICS[m].label,
                      key="compare_metric", persist_state="session",
                      help="The metric the bar, K and user-group charts show.") if options else None

if metric:
    metric_k = None if metric in reading.RATING_METRICS else k
    left, right = st.columns(2)
    left.plotly_chart(ui.results_view("metric_bars", current, table, metric, metric_k, tuple(models)), key="chart-bars")
    if n_folds <= 1:
        left.caption("One fold, so no error bars: choose k-fold on the Train page to see the spread.")
    if metric in reading.RANKING_METRICS and len(ks) > 1:
        right.plotly_chart(ui.results_view("metric_vs_k", current, table, metric, tuple(models)), key="chart-vs-k")
    elif metric in reading.RANKING_METRICS:
        right.info("Train with more than one K to see how the metric changes with the list length.",
                   icon=":material/info:")
    elif len(ks) > 1 and "ndcg" in ranking:
        # Rating metrics have no K: show how the ranking quality grows with K instead.
        right.plotly_chart(ui.results_view("metric_vs_k", current, table, "ndcg", tuple(models)), key="chart-vs-k")
    bucket_labels = [b for b in buckets if b != "all"]
    if bucket_labels and metric in reading.RANKING_METRICS + ("rmse", "mae"):
        left, right = st.columns(2)
        left.plotly_chart(ui.results_view("bucket_bars", current, table, metric, metric_k, tuple(models), tuple(bucket_labels)), key="chart-buckets")
        counts = training.last_split(current).train.user_counts
        right.markdown("**Light, medium and heavy users.** Users with few ratings are the hard case for "
                       "collaborative filtering: little to learn their taste from. The reference (grey) shows how "
                       "far 'most popular' gets without knowing anyone.")
        light, medium, heavy = int((counts <= 5).sum()), int(((counts > 5) & (counts <= 20)).sum()), int((counts > 20).sum())
        right.caption(f"Users by training ratings: {fmt.count(light)} with ≤5, {fmt.count(medium)} with 6–20, "
                      f"{fmt.count(heavy)} with more than 20.")

if k is not None and (table["metric"] == "median_popularity").any():
    left, right = st.columns(2)
    catalogue_median = float(pd.Series(data.item_counts).median())
    left.plotly_chart(ui.results_view("popularity_bars", current, table, k, tuple(models), catalogue_median), key="chart-popularity")
    right.plotly_chart(ui.results_view("time_bars", current, table, tuple(models)), key="chart-time")
else:
    st.plotly_chart(ui.results_view("time_bars", current, table, tuple(models)), key="chart-time")

# ------------------------------------------------------------------ groups of users
groups_view.section(current, k)

# ------------------------------------------------------------------ trade-off
reranking_view.tradeoff_section(current, k)

# ------------------------------------------------------------------ significance
significance_view.section(current, table, k, [b for b in buckets if b != "all"])

ui.page_link("explore", "See the actual lists for one user on the Explore page", ":material/travel_explore:")
