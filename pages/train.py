"""Train: choose models and their hyper-parameters, the train/test split and K; fit and measure."""
from __future__ import annotations

import streamlit as st

from recsys_core.models import REGISTRY
from recsys_core.models.feedback import DEFAULT_IMPLICIT_MODELS, implicit_models_sentence
from recsys_core.dataset import default_relevance_threshold
from recsys_core.evaluation import runner
from recsys_core.evaluation.splits import TIME_SPLITS
from recsys_ui import experiment_io, fmt, model_forms, spark_ui, training, tuning, ui
from recsys_ui import significance_view

st.title("Train")
data = ui.require_dataset()
st.caption(f"Fit models on {ui.dataset_caption(data)}, and measure them on ratings they did not see.")

# "Train with the best parameters" on the Tune section: set the forms, then train once they are drawn.
# The same for an imported experiment (Data page): its models, parameters, split and K, trained once.
train_now = tuning.apply_pending() or experiment_io.apply_pending()

# ------------------------------------------------------------------ models
st.subheader("1 · Models", divider="gray")
names = list(REGISTRY)
chosen_names = st.multiselect(
    "Models to train", names, format_func=model_forms.model_title, key="train_models", persist_state="session",
    **({} if "train_models" in st.session_state else {"default": [
        n for n in (DEFAULT_IMPLICIT_MODELS if data.implicit else model_forms.DEFAULT_MODELS) if n in names]}),
    help="'popular' is the reference: a personalised model should beat it. The ranking models (ease, als, "
         "item-knn-cosine, ...) learn which items people pick and predict no ratings. content-sbert is opt-in: "
         "it loads a small language model (about a minute the first time).",
)
if "popular" not in chosen_names and chosen_names:
    st.caption(":material/info: **popular** will be trained too: it is the reference every comparison is read against.")
    chosen_names = ["popular"] + chosen_names
implicit_note = implicit_models_sentence(data, chosen_names)
if implicit_note:
    ranking_defaults = [n for n in DEFAULT_IMPLICIT_MODELS if n in names]
    st.caption(f":material/info: {implicit_note}")
    if set(chosen_names) != set(ranking_defaults):
        st.button("Use the ranking models", key="train_use_ranking_models", icon=":material/swap_horiz:",
                  on_click=lambda: st.session_state.update(train_models=ranking_defaults))

chosen: dict[str, dict] = {}
if chosen_names:
    tabs = st.tabs([name for name in chosen_names])
    for tab, name in zip(tabs, chosen_names):
        with tab:
            cls = REGISTRY[name]
            st.markdown(f"**{name}** · {cls.family}")
            left, right = st.columns([1, 1], gap="large")
            with left.expander("Parameters", expanded=True, icon=":material/tune:"):
                chosen[name] = model_forms.param_widgets(name)
            with right.expander("How it works", expanded=True, icon=":material/functions:"):
                model_forms.how_it_works(name)
            model_forms.memory_note(name, chosen[name], data)
            if cls.uses_order and not data.has_timestamps:
                st.warning("This data set has no timestamps, so the order of each history is unknown. If the rows "
                           "are in the order things happened, say so on the Data page.", icon=":material/schedule:")
            if cls.fit_note:
                st.caption(f":material/hourglass_top: {cls.fit_note[0].upper()}{cls.fit_note[1:]}")
            if cls.reads_text and "genres" not in data.items.columns and "description" not in data.items.columns:
                st.warning("This data set has no item text (titles, genres, descriptions): a content model has "
                           "nothing to read. Upload an items file on the Data page.", icon=":material/warning:")
else:
    st.info("Choose at least one model.", icon=":material/info:")

# ------------------------------------------------------------------ split
st.subheader("2 · How to test", divider="gray")
left, right = st.columns([1, 1], gap="large")
with left:
    method = st.radio("Split", list(ui.SPLIT_LABELS), format_func=ui.SPLIT_LABELS.get, key="train_split",
                      persist_state="session",
                      help="Which ratings are hidden from the models and used to test them.")
    split_ok = True
    if method == "random":
        test_size = st.slider("Test share", 0.05, 0.5, 0.2, 0.05, key="train_test_size", format="%.2f",
                              persist_state="session", help="Share of all ratings held out for testing.")
        seed = st.number_input("Seed", 0, 10_000, 0, key="train_seed", persist_state="session",
                               help="Same seed, same split: results are reproducible.")
        split_params = {"test_size": float(test_size), "seed": int(seed)}
        st.caption("One fold: fastest. Use k-fold to see how much the numbers vary.")
    elif method == "kfold":
        n_folds = st.slider("Folds", 2, 10, 3, key="train_folds", persist_state="session",
                            help="Each rating is tested once; every model is fitted once per fold.")
        seed = st.number_input("Seed", 0, 10_000, 0, key="train_seed_kfold", persist_state="session")
        split_params = {"n_folds": int(n_folds), "seed": int(seed)}
        st.caption(f"Takes about {n_folds}× as long as a hold-out; the charts then show the spread across folds.")
    elif method == "temporal":
        test_fraction = st.slider("Latest share of each user's ratings", 0.05, 0.5, 0.2, 0.05, format="%.2f",
                                  key="train_test_fraction", persist_state="session")
        split_params = {"test_fraction": float(test_fraction)}
        if not data.has_timestamps:
            split_ok = False
            st.warning("This data set has no timestamps, so it cannot be split by time. Choose another split, "
                       "or load a ratings file with a timestamp column.", icon=":material/warning:")
        else:
            st.caption("Tests on the future: closest to how a deployed recommender is used.")
    elif method == "global-time":
        test_fraction = st.slider("Share of all interactions after the cut-off", 0.05, 0.5, 0.2, 0.05, format="%.2f",
                                  key="train_global_fraction", persist_state="session",
                                  help="One cut-off date for everyone: what happened after it is the test part.")
        split_params = {"test_fraction": float(test_fraction)}
        if not data.has_timestamps:
            split_ok = False
            st.warning("This data set has no timestamps, so it cannot be cut at one date. Choose another split, "
                       "load a file with a timestamp column, or (if its rows are in time order) say so on the Data "
                       "page.", icon=":material/warning:")
        else:
            st.caption("The strictest test of the future: no model trains on anything that happened after any "
                       "test interaction. Users seen only after the cut-off are left out (nothing to predict from).")
    else:
        n_last = st.number_input("Ratings held out per user", 1, 20, 1, key="train_last_n", persist_state="session")
        split_params = {"n": int(n_last)}
        st.caption("By timestamp when the data has one (ties by file order), else by file order. Users with too "
                   "few ratings stay in training. The usual protocol for next-item models (gru4rec, sasrec).")
    by_time = method in TIME_SPLITS and data.has_timestamps
    refused = {name: runner.split_problem(REGISTRY[name], respects_time=by_time) for name in chosen}
    refused = {name: why for name, why in refused.items() if why}
    if refused:
        st.warning(" ".join(f"**{ui.md(name)}** will not run: {ui.md(why)}." for name, why in refused.items())
                   + " The other models run as usual; choose such a split to compare them all in one table.",
                   icon=":material/schedule:")
with right:
    ks = st.multiselect("List lengths K", [1, 3, 5, 10, 20, 50], default=[5, 10, 20], key="train_ks",
                        persist_state="session",
                        help="Ranking metrics (precision@K, NDCG@K, …) are measured on each user's top-K list.")
    if not ks:
        st.warning("Choose at least one K.", icon=":material/warning:")
    relevance_threshold = None
    if data.implicit:
        relevant_from = st.number_input(
            "Relevant from", min_value=0.0, value=0.0, step=1.0, format="%g", key="train_relevant_from",
            persist_state="session", disabled=data.feedback_kind == "unary",
            help="A held-out interaction counts as relevant (a 'hit') when its count (plays, clicks) or, for an "
                 "event log, its summed event weight is at least this; 0 or 1 = every held-out interaction (the "
                 "default). With the default event weights, 5 keeps the pairs with a purchase.")
        relevance_threshold = float(relevant_from) if relevant_from > 1 else None
        if relevance_threshold is None:
            st.caption("Implicit data: every held-out interaction counts as relevant (a 'hit'). Each user's training "
                       "items are never recommended back.")
        else:
            st.caption(f"Implicit data: a held-out interaction whose count (for an event log: summed event weight) "
                       f"is at least {relevance_threshold:g} "
                       "counts as relevant (a 'hit'); the others are not hits. Each user's training items are never "
                       "recommended back.")
    else:
        rule = fmt.hit_rule(default_relevance_threshold(data.rating_scale), data.rating_scale,
                            fmt.rating_step(data.interactions["rating"].to_numpy()))
        st.caption(f"A test rating counts as relevant (a 'hit') when it is at least 75% up the rating scale "
                   f"({rule}). Each user's training items are never recommended back.")

# ------------------------------------------------------------------ train
st.subheader("3 · Train", divider="gray")
can_train = bool(chosen) and bool(ks) and split_ok
train_part = None
if split_ok:
    try:
        train_part = training.splits_for(data, method, split_params)[0].train
    except ValueError as error:  # DataValidationError included: shown where the split is chosen
        st.error(ui.md(error), icon=":material/error:")
        can_train = False
    if train_part is not None:
        significance_view.leakage_note(training.splits_for(data, method, split_params))
        for note in training.splits_for(data, method, split_params)[0].notes:
            st.caption(f":material/info: {ui.md(note)}")
        if relevance_threshold is not None:
            problem = training.relevance_problem(training.splits_for(data, method, split_params), relevance_threshold)
            if problem:
                st.warning(ui.md(problem), icon=":material/warning:")
                can_train = False
tuning.section(data, chosen, train_part, training.split_text(method, split_params))
spark_ui.section(data, training.splits_for(data, method, split_params) if train_part is not None else None,
                 chosen, tuple(sorted(ks)) or (10,))
clicked = st.button("Train and evaluate", type="primary", icon=":material/play_arrow:", disabled=not can_train)
if (clicked or train_now) and can_train:
    with ui.guard("Training"):
        if training.train(data, chosen, method, split_params, tuple(ks), relevance_threshold) is not None:
            st.rerun()  # so the sidebar and the other pages' links show the new results

current = training.latest()
if current is not None:
    if current.log:
        with st.expander(current.headline or "Training log", icon=":material/receipt_long:"):
            for line in current.log:
                st.markdown(line)
    for label, message in current.errors.items():
        st.error(f"**{ui.md(label)}** failed: {ui.md(message)}. The other models keep their results.",
                 icon=":material/error:")
    if current.labels:
        reused = f" ({len(current.reused)} reused unchanged)" if current.reused else ""
        experiment_io.reproduction_note(current)
        st.success(f"Results ready for {', '.join(ui.md(label) for label in current.labels)}{reused}: "
                   f"{current.split_description()}.", icon=":material/check_circle:")
        cells = st.columns(4)
        with cells[0]:
            ui.page_link("compare", "Compare the models", ":material/leaderboard:")
        with cells[1]:
            ui.page_link("embeddings", "See their embeddings", ":material/scatter_plot:")
        with cells[2]:
            ui.page_link("cold_start", "Try a new user", ":material/person_add:")
        with cells[3]:
            ui.page_link("explore", "Explore users and items", ":material/travel_explore:")
        for label, model in current.models.items():
            for note in model.fit_notes():
                st.info(f"**{ui.md(label)}**: {ui.md(note)}", icon=":material/info:")
        training.render_history(current)
else:
    st.caption("Nothing trained on this data set yet. Changing one model's parameters later refits only that model.")
