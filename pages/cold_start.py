"""Cold start: recommendations for a person (or an item) the models have never seen."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from recsys_core import cold_start
from recsys_core.errors import RecsysError
from recsys_ui import exports, fmt, lists, reranking_view, training, ui

N = 10
st.title("Cold start")
current = training.require_results()
data = ui.dataset()
st.caption("A new user has no history, so collaborative models have nothing to go on. Describe one in one of "
           "four ways and see what each trained model makes of it, without refitting.")


def ask(mode: str, description: str, answer_one) -> None:
    """Ask every trained model; keep the answers for this session until the next question."""
    answers: dict = {}
    bar = st.progress(0.0, text="Asking the models…")
    models = current.models
    for i, (label, model) in enumerate(models.items()):
        bar.progress(i / len(models), text=f"Asking {ui.md(label)} ({i + 1} of {len(models)})…")
        try:
            answers[label] = answer_one(model, label)
        except RecsysError as error:
            answers[label] = cold_start.ColdStartAnswer(label, None, str(error))
        except Exception as error:  # noqa: BLE001 -- one model's failure is its note, the others answer
            ui.log.exception("cold start %s", label)
            answers[label] = cold_start.ColdStartAnswer(label, None, f"failed ({type(error).__name__}: {error}).")
    bar.empty()
    st.session_state["cold_answer"] = {"mode": mode, "description": description, "answers": answers,
                                       "keys": list(current.keys)}


rank_by = "prediction"
if any(model.predicts_ratings for model in current.models.values()):
    rank_by = st.radio("Rating-prediction models rank a new user's list by", list(cold_start.RANK_BY),
                       format_func=cold_start.RANK_BY.get, horizontal=True, key="cold_rank_by",
                       help=cold_start.RANK_BY_EXPLANATION)
    if rank_by == "personal":
        st.caption(f":material/info: {cold_start.RANK_BY_EXPLANATION}")

ratings_tab, sequence_tab, text_tab, demo_tab, item_tab = st.tabs([
    ":material/star: Rate a few items", ":material/playlist_play: Just watched, in order",
    ":material/edit_note: Describe a taste", ":material/groups: Demographics", ":material/fiber_new: A new item",
])

low, high = data.rating_scale
step = fmt.rating_step(data.interactions["rating"].to_numpy()) or 0.5

with ratings_tab:
    options, label_of = lists.item_options(data)
    picked = st.multiselect("Items the new user has rated", options, format_func=label_of, max_selections=20,
                            select_all=False, key="cold_items", placeholder="Type a title… (most rated first)",
                            help="Pick up to 20 items; then say how much the new user liked each.")
    given: dict[str, float] = {}
    if picked and not data.implicit:
        cells = st.columns(min(3, len(picked)))
        for position, item in enumerate(picked):
            title = str(data.items["title"].iloc[item])
            # A slider's label reads Markdown: the title is escaped so that it shows as written.
            given[str(data.item_ids[item])] = cells[position % len(cells)].slider(
                ui.md(title), float(low), float(high), float(high), step, key=f"cold_rating:{data.item_ids[item]}",
                format="%g ★" if step >= 1.0 else "%.1f ★" if step >= 0.1 else "%.2f ★")
    elif picked:
        given = {str(data.item_ids[item]): 1.0 for item in picked}
        st.caption("Implicit feedback: each picked item counts as one interaction.")
    if st.button("Recommend for this new user", type="primary", disabled=not picked, key="cold_go_ratings",
                 icon=":material/recommend:"):
        summary = "; ".join(f"{data.items['title'].iloc[data.item_index(raw)]} ({value:g})" for raw, value in given.items())
        ask("ratings", f"a new user who rated {summary}",
            lambda model, label: cold_start.from_ratings(model, given, N, label, rank_by=rank_by))
    if not picked:
        st.caption("Tip: rate a few items of one genre highly and one of another genre low, and compare the lists.")

with sequence_tab:
    options, label_of = lists.item_options(data)
    ordered = st.multiselect("What the new user just watched, oldest first", options, format_func=label_of,
                             max_selections=50, key="cold_sequence", placeholder="Pick the first, then the next…",
                             help="The order you pick them in is the order they were watched.")
    if ordered:
        st.markdown(" → ".join(ui.md(str(data.items["title"].iloc[item])) for item in ordered))
    readers = [label for label, model in current.models.items() if model.can("uses_order")]
    st.caption((f"{', '.join(ui.md(label) for label in readers)} read{'s' if len(readers) == 1 else ''} the order "
                "and answer what comes next; " if readers else
                "No trained model reads order (train gru4rec or sasrec on a split by time to see one); ")
               + "every other model takes the same items as a set. Pick them again in another order: only the "
                 "models that read order change their answer.")
    if st.button("What comes next?", type="primary", disabled=not ordered, key="cold_go_sequence",
                 icon=":material/recommend:"):
        raw = [data.item_ids[item] for item in ordered]
        titles = " then ".join(str(data.items["title"].iloc[item]) for item in ordered)
        ask("sequence", f"a new user who just watched {titles}",
            lambda model, label: cold_start.from_sequence(model, raw, N, label))

with text_tab:
    sentence = st.text_area("What does the new user like?", key="cold_text", max_chars=500,
                            placeholder="e.g. space adventures with robots and a bit of humour")
    st.caption("Content models compare the sentence with every item's text. The others cannot read: they start "
               "from the items whose text matches best, as if the user had rated those highly.")
    if st.button("Recommend for this taste", type="primary", disabled=not sentence.strip(), key="cold_go_text",
                 icon=":material/recommend:"):
        ask("text", f"a new user who likes “{sentence.strip()}”",
            lambda model, label: cold_start.from_text(model, sentence, N, label, rank_by=rank_by))

with demo_tab:
    users = data.users
    columns = [c for c in users.columns if c not in ("user", "segment") and users[c].notna().any()]
    if not columns:
        st.info("This data set has no user attributes. Upload a users file (age, gender, occupation…) on the Data "
                "page to try this.", icon=":material/info:")
        ui.page_link("data", "Go to Data", ":material/database:")
    else:
        st.caption("The training users who match stand in for the new user: each model's scores are averaged "
                   "over them. Ages match within 5 years.")
        described: dict[str, object] = {}
        cells = st.columns(min(3, len(columns)))
        for position, column in enumerate(columns[:6]):
            values = users[column].dropna()
            cell = cells[position % len(cells)]
            if pd.api.types.is_numeric_dtype(values) and values.nunique() > 12:
                # Column names come from the users file; widget labels read Markdown.
                chosen = cell.number_input(ui.md(column), int(values.min()), int(values.max()), None,
                                           key=f"cold_demo:{column}", placeholder="any",
                                           help=f"Between {int(values.min())} and {int(values.max())}; empty: any.")
            else:
                choices = ["(any)"] + sorted(values.astype(str).unique().tolist())[:200]
                chosen = cell.selectbox(ui.md(column), choices, key=f"cold_demo:{column}")
                chosen = None if chosen == "(any)" else chosen
            if chosen is not None:
                described[column] = chosen
        peers = 0
        if described:
            try:
                peers = len(cold_start.matching_users(data, described))
            except RecsysError:
                peers = 0
            st.caption(f"{fmt.plural(peers, 'training user')} {'matches' if peers == 1 else 'match'} this description.")
        if st.button("Recommend for these attributes", type="primary", disabled=not described or peers == 0,
                     key="cold_go_demo", icon=":material/recommend:"):
            text = ", ".join(f"{k} {v}" for k, v in described.items())
            ask("demographics", f"a new user described as {text}",
                lambda model, label: cold_start.from_demographics(model, described, N, label))

with item_tab:
    description = st.text_area("Describe a new item (title, genres, a sentence)", key="cold_item_text",
                               max_chars=500, placeholder="e.g. A heist comedy in Rome about three retired thieves")
    st.caption("Which catalogue items is it most similar to? Content models compare texts in their own space; "
               "the others fall back to TF-IDF on the item texts.")
    if st.button("Find similar items", type="primary", disabled=not description.strip(), key="cold_go_item",
                 icon=":material/search:"):
        def similar(model, label):
            frame = cold_start.similar_to_new_item(model, description, N)
            return cold_start.ColdStartAnswer(label, frame if len(frame) else None,
                                              None if len(frame) else "No item's text shares a word with it.")
        ask("item", f"a new item: “{description.strip()}”", similar)

# ------------------------------------------------------------------ answers
answer = st.session_state.get("cold_answer")
if answer is None or answer["keys"] != list(current.keys):
    st.info("Describe a new user (or item) above and press the button: each trained model's top 10 appear here, "
            "side by side.", icon=":material/info:")
    st.stop()

st.subheader("Each model's answer", divider="gray")
st.markdown(f"For {ui.md(answer['description'])}")
st.caption("One column per model, rank 1 at the top. The tabs below give each model's scores and the reason for "
           "every pick" + ("; items the new user rated are never recommended back." if answer["mode"] == "ratings"
                           else "; items already watched are never recommended back." if answer["mode"] == "sequence"
                           else "."))
frames = {label: a.recommendations for label, a in answer["answers"].items()}
notes = {label: a.note for label, a in answer["answers"].items() if a.note}
rerank = reranking_view.control("cold") if answer["mode"] != "item" else None
if rerank is not None:  # the same answers re-ordered: the models' scores are kept with each answer
    for label, a in answer["answers"].items():
        if frames.get(label) is None or label not in current.models:
            continue
        try:
            reranked = reranking_view.rerank_answer(current.models[label], a, rerank, N)
            frames[label] = frames[label] if reranked is None else reranked
        except RecsysError as error:
            frames[label], notes[label] = None, str(error)
score = "similarity" if answer["mode"] == "item" else "score"
lists.render_lists(frames, notes, N, ["rank", "model rank", "title", score, "popularity", "genres", "reason"], key="cold",
                column_config={"popularity": st.column_config.NumberColumn("ratings", help="Training ratings of the item"),
                               score: st.column_config.NumberColumn(score, format="%.3f")})

# The answers as a file: every model's list with titles, the question, and what produced them.
rows = [frame.assign(model=label) for label, frame in frames.items() if frame is not None and len(frame)]
if rows:
    answers_table = pd.concat(rows, ignore_index=True)
    answers_table = answers_table[["model"] + [c for c in answers_table.columns if c != "model"]]
    provenance = {**exports.run_provenance(current, data), "question": answer["description"]}
    cells = st.columns([1, 1, 4])
    cells[0].download_button("Download CSV", exports.results_csv(answers_table, provenance),
                             file_name="recsys-lab-cold-start.csv", mime="text/csv", icon=":material/download:",
                             on_click="ignore", key="cold_download_csv",
                             help="One row per model and rank, with the item's title; the model's parameters, "
                                  "the split and the data fingerprint are columns.")
    cells[1].download_button("Download JSON", exports.results_json(answers_table, provenance, notes=notes),
                             file_name="recsys-lab-cold-start.json", mime="application/json",
                             icon=":material/download:", on_click="ignore", key="cold_download_json",
                             help="The same lists with the question, the settings and package versions in one file.")
