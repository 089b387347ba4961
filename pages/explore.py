"""Explore: one existing user's history next to every model's recommendations; similar items per model."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from recsys_core.errors import RecsysError
from recsys_core.evaluation.metrics import default_relevance_threshold
from recsys_ui import fmt, forgetting, lists, reranking_view, timeline, training, ui

N = 10
st.title("Explore")
current = training.require_results()
data = ui.dataset()
split = training.last_split(current)
test = split.test.interactions
# Implicit data: every held-out interaction is a hit unless the run was measured with a minimum count.
threshold = (current.relevance_threshold or 0.0) if data.implicit else default_relevance_threshold(data.rating_scale)
# The rule as it is applied to the rating values this data set holds ("4 or more on 0.5–5", not "3.875").
hit_rule = "" if data.implicit else fmt.hit_rule(threshold, data.rating_scale,
                                                  fmt.rating_step(data.interactions["rating"].to_numpy()))
forgetting.report()
st.caption("Look at real lists. The models were fitted on the training part of the split; the ratings held out "
           "for testing are marked, so you can see which recommendations were hits.")


def answer_all(call) -> tuple[dict[str, pd.DataFrame | None], dict[str, str]]:
    frames: dict[str, pd.DataFrame | None] = {}
    notes: dict[str, str] = {}
    for label, model in current.models.items():
        try:
            frames[label] = call(model)
        except NotImplementedError:
            frames[label], notes[label] = None, "no item space to compare items in (it ranks by counts or biases only)."
        except RecsysError as error:
            frames[label], notes[label] = None, str(error)
        except Exception as error:  # noqa: BLE001 -- one model's failure is its note, the others answer
            ui.log.exception("explore %s", label)
            frames[label], notes[label] = None, f"failed ({type(error).__name__}: {error})."
    return frames, notes


user_tab, item_tab = st.tabs([":material/person: A user", ":material/movie: An item"])

# ------------------------------------------------------------------ users
with user_tab:
    counts = data.user_counts
    ids = data.user_ids.astype(str)
    order = sorted(range(data.n_users), key=lambda i: (len(ids[i]), ids[i]))  # "2" before "10"
    order = [i for i in order if counts[i] > 0]

    def random_user() -> None:
        tested = np.unique(test["user_idx"].to_numpy())
        pool = tested if len(tested) else np.array(order)
        st.session_state["explore_user"] = int(np.random.default_rng().choice(pool))

    left, right = st.columns([4, 1], vertical_alignment="bottom")
    user = left.selectbox("User", order, key="explore_user",
                          format_func=lambda i: f"user {ids[i]}  ·  {fmt.plural(counts[i], 'rating')}",
                          help="Users in file order; type to search an id.")
    right.button("Random user", icon=":material/casino:", on_click=random_user, width="stretch")
    raw_user = ids[user]
    if len(data.users.columns) > 1:
        attributes = data.users.iloc[user].drop("user").dropna()
        if len(attributes):
            st.caption(" · ".join(f"{ui.md(k)}: {ui.md(v)}" for k, v in attributes.items()))

    rated = data.interactions[data.interactions["user_idx"] == user]
    held = test[test["user_idx"] == user]
    held_items = dict(zip(held["item_idx"].to_numpy(), held["rating"].to_numpy()))
    history = pd.DataFrame({
        "title": data.titles(rated["item_idx"].to_numpy()),
        "rating": rated["rating"].to_numpy(),
        "genres": data.items["genres"].fillna("").to_numpy()[rated["item_idx"].to_numpy()] if "genres" in data.items else "",
        "held out for testing": [i in held_items for i in rated["item_idx"].to_numpy()],
    })
    if data.has_timestamps:
        history["time"] = pd.to_datetime(rated["timestamp"].to_numpy(), unit="s")
    history = history.sort_values(["rating"] + (["time"] if data.has_timestamps else []), ascending=False)

    st.markdown(f"**Their ratings** ({fmt.count(len(rated))}, of which {fmt.count(len(held))} held out for testing)")
    st.dataframe(history.head(50), hide_index=True, width="stretch", height=min(38 + 35 * len(history), 300),
                 column_config={"held out for testing": st.column_config.CheckboxColumn(
                     "held out for testing", help="Hidden from the models during training: recommending it is a hit.")})
    if len(history) > 50:
        st.caption(f"Their 50 highest-rated of {fmt.count(len(history))}.")

    figure = timeline.history_timeline(data, user, set(held_items))
    if figure is not None:
        st.plotly_chart(figure, width="stretch", key="explore_timeline")
        trained = rated[~rated["item_idx"].isin(list(held_items))].sort_values("timestamp", kind="stable")
        latest = data.titles(trained["item_idx"].to_numpy()[-4:])
        readers = [label for label, model in current.models.items() if model.can("uses_order")]
        st.caption("Latest trained on: " + " → ".join(ui.md(t) for t in latest) + ". "
                   + (f"{', '.join(ui.md(r) for r in readers)} predict{'s' if len(readers) == 1 else ''} the next "
                      "items from this sequence, the latest counting most; the other models read the history as "
                      "a set." if readers else "The models trained here read the history as a set (gru4rec and "
                      "sasrec read its order)."))

    st.markdown(f"**What each model recommends** (top {N}; the items they trained on are left out)")
    rerank = reranking_view.control("explore")
    with st.spinner("Scoring every item for this user…"):
        frames, notes = answer_all(lambda model: reranking_view.recommend(model, raw_user, N, rerank))
    for label, model in current.models.items():
        if frames.get(label) is not None and model.fallback_users(np.array([user]))[0]:
            notes[label] = ("could not personalise for this user (no usable training data for them): "
                            "the list is its fall-back.")
    for frame in frames.values():
        if frame is not None:
            index = data.item_indices(frame["item"])
            frame["held-out rating"] = [held_items.get(i, np.nan) for i in index]

    def hits(frame: pd.DataFrame) -> pd.Series:
        rating = frame["held-out rating"]
        return np.where(rating >= threshold, "  ✓", "").astype(object)

    lists.render_lists(frames, notes, N, ["rank", "model rank", "title", "score", "popularity", "genres",
                                          "held-out rating"],
                    mark=hits, key="explore-user",
                    column_config={"popularity": st.column_config.NumberColumn("ratings", help="Training ratings"),
                                   "score": st.column_config.NumberColumn("score", format="%.3f")})
    st.caption(f"✓ = a hit: the user rated this item {hit_rule} in the held-out test ratings."
               if not data.implicit else "✓ = a hit: the user interacted with this item in the held-out part.")
    calibration = reranking_view.calibration_caption(current.models, frames, user, rerank, N)
    if calibration:
        st.caption(calibration)
    forgetting.section(current, data, user)

# ------------------------------------------------------------------ items
with item_tab:
    options, label_of = lists.item_options(data)
    item = st.selectbox("Item", options, format_func=label_of, key="explore_item",
                        help="Most rated first; type to search a title.")
    raw_item = str(data.item_ids[item])
    row = data.items.iloc[item]
    details = [f"{ui.md(c)}: {ui.md(row[c])}" for c in data.items.columns
               if c not in ("item", "title", "description") and pd.notna(row[c]) and str(row[c])]
    st.markdown(f"**{ui.md(row['title'])}** · rated by {fmt.plural(data.item_counts[item], 'user')}"
                + (f" · {' · '.join(details)}" if details else ""))
    if "description" in data.items.columns and pd.notna(row["description"]):
        st.caption(ui.md(row["description"]))
    with st.spinner("Finding similar items…"):
        frames, notes = answer_all(lambda model: model.similar_items(raw_item, N))
    lists.render_lists(frames, notes, N, ["rank", "title", "similarity", "support", "popularity", "genres"],
                    key="explore-item",
                    column_config={"popularity": st.column_config.NumberColumn("ratings"),
                                   "support": st.column_config.NumberColumn(
                                       "support", help="People who rated both items: the evidence behind a similarity"),
                                   "similarity": st.column_config.NumberColumn("similarity", format="%.3f")})
    st.caption("Each model's own notion of similar: co-rated by the same people (KNN, item-knn-cosine, EASE), close "
               "latent factors (SVD, ALS), similar text (content models). Similarities from co-ratings are weighted "
               "by evidence, sim × n / (n + 10) with n the people who rated both, so an item two people rated is not "
               "'identical' to everything they rated. The Embeddings page shows the same neighbours.")
