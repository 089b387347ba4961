"""Embeddings: a 2-D map of a model's item or user vectors, and any point's nearest neighbours."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from recsys_core import projection
from recsys_ui import charts, fmt, lists, reading, training, ui

st.title("Embeddings")
current = training.require_results()
data = ui.dataset()
st.caption("Models that learn a vector per item (or user) place similar ones close together. "
           "Here those vectors are squeezed into two dimensions so you can look at them.")

controls = st.columns([1.2, 2, 2, 2])
kind = controls[0].segmented_control("Show", ["items", "users"], default="items", required=True, key="emb_kind",
                                     format_func=str.capitalize, persist_state="session")
capability = "item_embeddings" if kind == "items" else "user_embeddings"
candidates = lists.models_with(current, capability)
if not candidates:
    without = ", ".join(ui.md(label) for label in current.labels)
    ui.empty_state(
        f"None of the trained models ({without}) learns {kind[:-1]} vectors. Train svd"
        + (" or a content model" if kind == "items" else " or a content model (users = mean of the items they liked)")
        + " to see a map.", "train", "Go to Train", ":material/model_training:")

# Best-ranking first (NDCG at the Compare page's K): the map opens on the model whose neighbourhoods mean most;
# a model picked here stays picked for the session (a model no longer trained falls back to the best).
ks = sorted(int(v) for v in current.table["k"].dropna().unique())
rank_k = st.session_state.get("compare_k") if st.session_state.get("compare_k") in ks else None
rank_k = rank_k or (reading.default_k(ks) if ks else None)
ndcg = reading.ranked_models(current.table, rank_k) if rank_k else pd.Series(dtype=float)
order = sorted(candidates, key=lambda m: (m not in ndcg.index, -ndcg.get(m, 0.0)))
label = controls[1].selectbox(
    "Model", order, key="emb_model", persist_state="session",
    format_func=lambda m: f"{m}  ·  NDCG@{rank_k} {ndcg[m]:.3f}" if m in ndcg.index else m,
    help="Only models that learn vectors are listed, best-ranking first (NDCG as on the Compare page).")
method = controls[2].segmented_control(
    "Projection", list(projection.METHODS), default="pca", required=True, key="emb_method",
    format_func=projection.METHOD_LABELS.get, persist_state="session",
    help="PCA: linear and fast. t-SNE and UMAP keep neighbourhoods and show clusters better, "
         "but distances between clusters mean little. They take a few seconds (UMAP's first run ~10 s more).",
)
model = candidates[label]
run = next(r for r in current.runs if r.label == label)


@st.cache_data(show_spinner=False, max_entries=32)
def project(_model, _data, key: tuple, kind: str, method: str) -> pd.DataFrame:
    """Projection frame; ``key`` (run key + fingerprint) stands for the unhashable model and data set."""
    if kind == "items":
        return projection.item_projection(_model, _data, method, seed=0)
    return projection.user_projection(_model, _data, method, seed=0)


#: t-SNE measured on this project's 2-core machine: 1,500 points in about 4 s (one core busy elsewhere: ~9 s).
TSNE_REFERENCE = (1_500, 4.0)
#: Time grows a little slower than the number of points (Barnes-Hut: 300 -> 1,500 -> 3,000 points took
#: 1.7, 8.7, 14.7 s under the same load).
TSNE_EXPONENT = 0.9


@st.cache_resource(show_spinner=False)
def _tsne_timing() -> dict[str, tuple[int, float]]:
    """Per server process: the latest t-SNE's number of fitted points and seconds (timings only, no data)."""
    return {}


def tsne_seconds(n: int) -> float:
    """Expected t-SNE time for ``n`` points, scaled from the latest run on this server (else the reference)."""
    points, seconds = _tsne_timing().get("rate", TSNE_REFERENCE)
    fitted = min(n, projection.MAX_POINTS)  # above that, t-SNE is fitted on a sample and the rest placed
    return seconds * (fitted / points) ** TSNE_EXPONENT


n_points = data.n_items if kind == "items" else data.n_users
expected = {
    "pca": "",
    "tsne": f" About {fmt.seconds(max(1.0, tsne_seconds(n_points)))} the first time; switching back later is instant.",
    "umap": " The first UMAP map of the session compiles code (up to 30 s); later ones take a few seconds.",
}[method]
frame = None
with ui.guard("Drawing the map"):
    with st.spinner(f"Projecting up to {fmt.plural(n_points, kind[:-1])} with {projection.METHOD_LABELS[method]}…"
                    f"{expected}"):
        started = time.perf_counter()
        frame = project(model, data, (run.key, data.fingerprint), kind, method)
        elapsed = time.perf_counter() - started
        if method == "tsne" and elapsed > 0.5:  # a real fit, not a cache hit: the rate the next estimate uses
            _tsne_timing()["rate"] = (min(n_points, projection.MAX_POINTS), elapsed)
if frame is None:
    st.stop()
if frame.empty:
    st.info(f"{ui.md(label)} has no usable {kind[:-1]} vectors (every vector is zero).", icon=":material/info:")
    st.stop()

colour_options = {
    "items": ["genre", "genre_truth", "popularity_bucket", "cluster"],
    "users": ["segment", "cluster", "activity_bucket", "gender", "occupation", "age"],
}[kind]
colour_options = [c for c in colour_options if c in frame.columns and frame[c].notna().any()]
colour_help = {
    "genre": "The item's first listed genre.",
    "genre_truth": "The planted primary genre of the bundled sample (ground truth).",
    "popularity_bucket": "head = the 20% most rated items, tail = the least rated half.",
    "cluster": "k-means clusters of the original vectors (not of the 2-D map).",
    "segment": "The planted taste segment of the bundled sample (ground truth).",
    "activity_bucket": "heavy = the 20% most active users, light = the least active half.",
}
colour = controls[3].selectbox("Colour by", colour_options, key=f"emb_colour_{kind}", persist_state="session",
                               format_func=lambda c: c.replace("_", " "),
                               help=" ".join(f"{c.replace('_', ' ')}: {colour_help[c]}" for c in colour_options
                                             if c in colour_help))

# ------------------------------------------------------------------ focus
id_column = "item_idx" if kind == "items" else "user_idx"
chart_key = f"emb_chart:{label}:{kind}:{method}"
focus_key = f"emb_focus:{kind}"
# A click on the map (read before the widgets are drawn) becomes the focus.
selection = st.session_state.get(chart_key)
points = (selection or {}).get("selection", {}).get("points", []) if selection else []
if points:
    picked = points[0].get("customdata")
    picked = picked[0] if isinstance(picked, (list, tuple)) else picked
    signature = (chart_key, picked)
    if picked is not None and st.session_state.get("emb_last_pick") != signature:
        st.session_state["emb_last_pick"] = signature
        st.session_state[focus_key] = int(picked)

if kind == "items":
    order = frame.sort_values("popularity", ascending=False)
    # Select-box options are plain text (never Markdown): titles need no escaping here.
    names = dict(zip(order[id_column], order["title"].astype(str) + "  ·  "
                     + order["popularity"].map(lambda n: fmt.plural(n, "rating"))))
else:
    order = frame.sort_values("n_ratings", ascending=False)
    names = dict(zip(order[id_column], "user " + order["user"].astype(str) + "  ·  "
                     + order["n_ratings"].map(lambda n: fmt.plural(n, "rating"))))
if st.session_state.get(focus_key) not in names:
    st.session_state.pop(focus_key, None)
left, right = st.columns([3, 1])
focus = left.selectbox(f"Find {'a title' if kind == 'items' else 'a user'} (or click a point on the map)",
                       list(names), index=None, format_func=names.get, key=focus_key,
                       placeholder="Type to search…")
n_neighbours = right.slider("Neighbours", 3, 30, 10, key="emb_n", persist_state="session")

neighbours: list[int] = []
similarities = np.array([])
similar: pd.DataFrame | None = None
if focus is not None:
    if kind == "items" and model.capabilities()["similar_items"]:
        # The model's own neighbours (evidence-weighted where it needs it): the same list the Explore page shows.
        similar = model.similar_items(data.item_ids[int(focus)], n_neighbours)
        neighbours = [int(i) for i in data.item_indices(similar["item"])]
        similarities = similar["similarity"].to_numpy()
    else:
        vectors = model.item_embeddings() if kind == "items" else model.user_embeddings()
        neighbour_idx, similarities = projection.nearest_neighbours(vectors, int(focus), n_neighbours)
        neighbours = [int(i) for i in neighbour_idx]

figure = charts.embedding_scatter(frame, colour, kind, focus=focus, neighbours=neighbours)
st.plotly_chart(figure, key=chart_key, on_select="rerun", selection_mode="points",
                config={"scrollZoom": True, "displaylogo": False})
st.caption(f"{fmt.plural(len(frame), kind[:-1])} · {ui.md(label)} vectors projected with {projection.METHOD_LABELS[method]}. "
           "Scroll to zoom, drag to pan, click a point to see its neighbours. "
           + ("Points marked as placed by neighbours were not part of the fit (large data sets). "
              if frame["interpolated"].any() else ""))

if focus is not None:
    st.subheader(f"Nearest neighbours of {ui.md(names[focus].split('  ·  ')[0])}", divider="gray")
    st.caption((f"{ui.md(label)}'s own similar items (as on the Explore page), measured in its original space"
                if similar is not None else f"By cosine similarity in {ui.md(label)}'s original space")
               + ", not on the 2-D map: the map distorts distances, so a neighbour may sit far away on it."
               + (" Co-rating similarities are weighted by evidence: support = people who rated both."
                  if similar is not None and model.similarity_needs_support else ""))
    if kind == "items":
        items = data.items
        table = pd.DataFrame({
            "title": items["title"].to_numpy()[neighbours],
            "genres": items["genres"].fillna("").to_numpy()[neighbours] if "genres" in items else "",
            "ratings": data.item_counts[neighbours],
            "similarity": similarities,
        })
        if similar is not None:
            table["support"] = similar["support"].to_numpy()
    else:
        users = data.users
        table = pd.DataFrame({"user": data.user_ids[neighbours].astype(str), "ratings": data.user_counts[neighbours],
                              "similarity": similarities})
        for column in ("segment", "age", "gender", "occupation"):
            if column in users.columns:
                table[column] = users[column].to_numpy()[neighbours]
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"similarity": st.column_config.ProgressColumn("similarity", min_value=0.0,
                                                                             max_value=1.0, format="%.3f"),
                                "ratings": st.column_config.NumberColumn("ratings", help="Number of ratings")})
