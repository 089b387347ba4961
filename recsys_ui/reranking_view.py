"""Re-ranking in the dashboard: the control Explore and Cold start share, and Compare's trade-off section.

The logic is :mod:`recsys_core.reranking` and :mod:`recsys_core.evaluation.tradeoff`; this module only
draws widgets and caches the curve.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from recsys_core import reranking as R
from recsys_core.evaluation.tradeoff import tradeoff_curve

from . import charts, reading, training, ui

NONE = "none"
#: Beyond-accuracy metrics the trade-off can be drawn against (descriptive popularity is not one).
TRADEOFF_METRICS = tuple(m for m in reading.BEYOND_ACCURACY if m != "median_popularity")


def _reranker_label(name: str) -> str:
    return "no re-ranking (the model's own order)" if name == NONE else R.RERANKERS[name].label


def _similarity_picker(container, key: str) -> str:
    return container.selectbox("Item similarity", list(R.SIMILARITIES), key=key,
                               format_func=lambda s: {"genres": "genres / tags", "vectors": "model's item vectors",
                                                      "co-ratings": "co-ratings"}[s],
                               help="How MMR measures that two items are alike: " + "; ".join(
                                   f"{name}: {words}" for name, words in R.SIMILARITIES.items()) + ".")


def explain(name: str) -> None:
    """The re-ranker's formula and plain explanation, in an expander."""
    spec = R.RERANKERS[name]
    with st.expander(f"How {spec.label} works"):
        st.latex(spec.formula)
        st.markdown(spec.explanation)
        st.caption("ŝ is the model's score scaled to 0–1 over each user's top-100 candidates; the model's scores "
                   "themselves are never changed, only the order of the list.")


def control(key: str) -> tuple[str, float, str] | None:
    """A re-ranker and its strength for the lists on this page; None for the models' own lists."""
    cells = st.columns([3, 3, 2], vertical_alignment="bottom")
    name = cells[0].selectbox("Re-rank the lists", [NONE, *R.RERANKERS], key=f"{key}_reranker",
                              format_func=_reranker_label,
                              help="Re-order each model's top 100 for diversity, calibration to the user's genres "
                                   "or the long tail, and watch the same user's list change.")
    if name == NONE:
        return None
    spec = R.RERANKERS[name]
    step = 0.05 if spec.high <= 1 else 0.1
    value = cells[1].slider(f"{spec.parameter} ({spec.parameter} = {spec.neutral:g}: the model's own order)",
                            float(spec.low), float(spec.high), float(spec.default), step, key=f"{key}_rerank_{name}",
                            help=spec.explanation)
    similarity = _similarity_picker(cells[2], f"{key}_similarity") if name == "mmr" else "genres"
    explain(name)
    return name, float(value), similarity


@st.cache_data(show_spinner=False, max_entries=32)
def _curve(content_key: tuple, label: str, reranker: str, similarity: str, k: int, threshold: float | None,
           _model: Any, _split: Any) -> pd.DataFrame:
    return tradeoff_curve(_model, _split, reranker, k=k, similarity=similarity, relevance_threshold=threshold)


def tradeoff_section(current: training.Results, k: int | None) -> None:
    """Compare: one trained model, one re-ranker, its strength swept over 11 values; NDCG@K against a metric."""
    st.subheader("Trade-off: accuracy against diversity", divider="gray")
    models = current.models
    if not models or k is None:
        st.info("Train a model with a ranking cut-off K to see what re-ranking costs.", icon=":material/info:")
        return
    cells = st.columns([2, 2, 2, 2], vertical_alignment="bottom")
    labels = list(models)
    label = cells[0].selectbox("Model", labels, index=labels.index(_best_model(current, labels, int(k))),
                               key="tradeoff_model",
                               help="The trained model whose lists are re-ranked (fitted on the last fold); "
                                    "it opens on the best by NDCG@K.")
    name = cells[1].selectbox("Re-ranker", list(R.RERANKERS), key="tradeoff_reranker",
                              format_func=_reranker_label, help="Each point re-ranks the same top-100 candidates.")
    spec = R.RERANKERS[name]
    similarity = _similarity_picker(cells[3], "tradeoff_similarity") if name == "mmr" else "genres"
    curve = None
    with ui.guard("The trade-off curve"):
        with st.spinner(f"Re-ranking {label}'s lists at 11 values of {spec.parameter}…"):
            curve = _curve(current.content_key, label, name, similarity, int(k),
                           getattr(current, "relevance_threshold", None), models[label], training.last_split(current))
    if curve is None:
        return
    options = [m for m in TRADEOFF_METRICS if m in curve.columns and curve[m].notna().any()]
    default = options.index(spec.moves) if spec.moves in options else 0
    metric = cells[2].selectbox("Against", options, index=default, key=f"tradeoff_metric_{name}",
                                format_func=lambda m: reading.METRICS[m].label,
                                help="The beyond-accuracy metric on the horizontal axis.")
    st.plotly_chart(charts.tradeoff_chart(curve, metric, label, int(k)), key="chart-tradeoff")
    st.markdown(f"- {tradeoff_sentence(curve, metric, label, int(k))}")
    explain(name)
    with st.expander("The 11 points as a table"):
        shown = curve[["label", "ndcg", *[m for m in options if m != "ndcg"]]].rename(
            columns={"label": spec.parameter, "ndcg": f"NDCG@{k}", **{m: reading.METRICS[m].label for m in options}})
        st.dataframe(shown, hide_index=True, width="stretch")


def _best_model(current: training.Results, labels: list[str], k: int) -> str:
    """The trained model with the highest NDCG@K (the first one when none has it)."""
    table = current.table
    part = table[(table["metric"] == "ndcg") & (table["k"] == k) & (table["bucket"] == "all")]
    means = part.groupby("model")["value"].mean().reindex(labels).dropna()
    return str(means.idxmax()) if len(means) else labels[0]


def tradeoff_sentence(curve: pd.DataFrame, metric: str, label: str, k: int) -> str:
    """From the model's own lists to the other end of the sweep, in words (Markdown-safe)."""
    first, last = curve.iloc[0], curve.iloc[-1]
    info = reading.METRICS[metric]
    ndcg_change = (last["ndcg"] - first["ndcg"]) / first["ndcg"] if first["ndcg"] else np.nan
    parameter = str(first["parameter"])
    return (f"From {ui.md(label)}'s own lists ({parameter} = {first['value']:g}) to {parameter} = "
            f"{last['value']:g}: {info.label} goes from {reading.format_value(metric, first[metric])} to "
            f"{reading.format_value(metric, last[metric])}, NDCG@{k} from {first['ndcg']:.3f} to "
            f"{last['ndcg']:.3f} ({ndcg_change:+.0%}). Pick the point whose cost you accept.")


def recommend(model: Any, raw_user: object, n: int, choice: tuple[str, float, str] | None) -> pd.DataFrame:
    """A user's list: the model's own (``choice`` None) or re-ranked by ``(re-ranker, value, similarity)``."""
    if choice is None:
        return model.recommend(raw_user, n)
    return R.ReRankedModel.wrap(model, *choice).recommend(raw_user, n)


def rerank_answer(model: Any, answer: Any, choice: tuple[str, float, str], n: int) -> pd.DataFrame | None:
    """A cold-start answer re-ranked from the scores kept with it (None when the answer kept none)."""
    if getattr(answer, "scores", None) is None:
        return None
    name, value, similarity = choice
    return R.rerank_new_user(model, answer.scores, answer.liked, name, value, n, similarity=similarity,
                             on_rating_scale=getattr(answer, "on_rating_scale", True))


def calibration_caption(models: dict[str, Any], frames: dict[str, pd.DataFrame | None], user_idx: int,
                        choice: tuple[str, float, str] | None, n: int) -> str | None:
    """With calibrated re-ranking: each model's calibration KL before and after, in one line (Markdown-safe)."""
    if choice is None or choice[0] != "calibrated":
        return None
    parts = []
    for label, frame in frames.items():
        if frame is None or not len(frame) or label not in models:
            continue
        model = models[label]
        before, after = R.calibration_change(model, user_idx, model.dataset_.item_indices(frame["item"]), n)
        if np.isfinite(before) and np.isfinite(after):
            parts.append(f"{ui.md(label)} {before:.2f} → {after:.2f}")
    if not parts:
        return None
    return ("Calibration KL of this user's list (genres of the list against the genres they liked; 0 = the same "
            "mix), the model's own → re-ranked: " + " · ".join(parts) + ".")
