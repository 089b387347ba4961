"""Data: the bundled sample or your own files, their column mapping, and what the data looks like."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from recsys_core import data as loader
from recsys_core.errors import DataValidationError
from recsys_ui import experiment_io, exports, ui
from recsys_ui.fmt import count, plural  # not `fmt`: that name is a detected FileFormat here

st.title("Data")
st.caption("Start with the bundled sample, or upload ratings exported from your own system. "
           "Everything else in the dashboard works on the data set loaded here.")

flash = st.session_state.pop("data_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

summary_tab, upload_tab, format_tab = st.tabs(
    [":material/bar_chart: Summary", ":material/upload_file: Upload your files", ":material/description: File format"]
)

# ------------------------------------------------------------------ upload
ROLE_LABELS = {"user": "User id", "item": "Item id", "rating": "Rating", "timestamp": "Timestamp",
               "title": "Title", "genres": "Genres", "event": "Event type"}
NONE = "(none)"


#: What the value column holds (recsys_core.data.read_ratings' ``feedback``), as the person chooses it.
FEEDBACK_CHOICES = {
    "auto": "detect (named like plays/clicks, or a heavy tail of whole numbers: counts)",
    "ratings": "ratings (explicit: stars, scores)",
    "counts": "counts (plays, clicks, purchases: implicit, how much)",
    "unary": "one interaction per line (ignore the values)",
    "events": "an event log (each line weighs its event type: view, cart, purchase)",
}
PLAYS_SOURCE = "the bundled sample (play counts)"
EVENTS_SOURCE = "the bundled sample (event log)"
FEEDBACK_NAMES = {"ratings": "explicit ratings", "counts": "counts (implicit)", "unary": "unary (implicit)"}


def feedback_note(data) -> str | None:
    """The loader's sentence on what the values were read as and why (counts), if it wrote one."""
    return next((line for line in data.report if "read as counts" in line or "read as ratings" in line), None)


SEPARATORS = {"detect": None, "comma ,": ",", "tab": "\t", "semicolon ;": ";", "pipe |": "|", "double colon ::": "::"}
HEADERS = {"detect": None, "yes": True, "no": False}


def layout_override(upload, kind: str) -> dict:
    """Separator and header line as detected, or as the person says where detection got the file wrong."""
    with st.expander("Separator and header line (change only if the preview looks wrong)"):
        left, right = st.columns(2)
        sep = left.selectbox("Separator", list(SEPARATORS), key=f"sep:{kind}:{upload.file_id}")
        header = right.selectbox("First line is a header", list(HEADERS), key=f"header:{kind}:{upload.file_id}",
                                 help="A header holds column names, e.g. userId,movieId,rating. A header of "
                                      "numbers only (0,1,2) cannot be told from data: say 'yes' here.")
    return {"separator": SEPARATORS[sep], "has_header": HEADERS[header]}


def detected(upload, kind: str, layout: dict):
    """FileFormat of an uploaded file, detected once per upload and layout; None (error shown) when unreadable."""
    store = st.session_state.setdefault("formats", {})
    key = (upload.file_id, kind, layout["separator"], layout["has_header"])
    if key not in store:
        try:
            store[key] = loader.detect_format(upload, kind=kind, **layout)
        except DataValidationError as error:
            store[key] = str(error)
    found = store[key]
    if isinstance(found, str):
        st.error(ui.md(found), icon=":material/error:")
        return None
    return found


def mapping_editor(upload, fmt, kind: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict:
    """Selectboxes role -> column, pre-filled from the detected format, and a preview of the first rows."""
    header = "with a header line" if fmt.has_header else "no header line (columns named by position)"
    sep = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", "::": "'::'"}.get(fmt.separator, fmt.separator)
    st.caption(f"Detected: {ui.md(fmt.description or kind)} · {sep}-separated · {header} · {ui.md(fmt.encoding)}")
    for note in fmt.notes:
        st.caption(f":material/info: {ui.md(note)}")
    mapping = {}
    columns = list(fmt.columns)
    cells = st.columns(len(required) + len(optional))
    for cell, role in zip(cells, required + optional):
        options = columns if role in required else [NONE] + columns
        suggested = fmt.mapping.get(role)
        index = options.index(suggested) if suggested in options else 0
        chosen = cell.selectbox(ROLE_LABELS.get(role, role) + ("" if role in required else " (optional)"), options,
                                index=index, key=f"map:{kind}:{upload.file_id}:{fmt.separator}:{fmt.has_header}:{role}",
                                help=f"Which column of {ui.md(upload.name)} holds the {ROLE_LABELS.get(role, role).lower()}.")
        mapping[role] = None if chosen == NONE else chosen
    if len(fmt.preview):
        st.dataframe(fmt.preview.head(5), hide_index=True, width="stretch", key=f"preview:{kind}:{upload.file_id}:{fmt.separator}:{fmt.has_header}")
        st.caption("The first rows as read from the file.")
    return mapping


with upload_tab:
    st.markdown("Upload a **ratings** file (required) and, if you have them, **items** and **users** files. "
                "The columns are detected; check the mapping and the preview, then load.")
    st.caption(f"Each file may be up to {st.get_option('server.maxUploadSize'):,} MB (server.maxUploadSize in "
               ".streamlit/config.toml). Larger exports load from the command line: "
               "python -m recsys_core compare --ratings FILE.")
    left, middle, right = st.columns(3)
    ratings_file = left.file_uploader("Ratings (required)", key="upload_ratings",
                                      help="One rating per line: user id, item id, rating, optional timestamp.")
    items_file = middle.file_uploader("Items (optional)", key="upload_items",
                                      help="One row per item: item id, title, genres, any description text.")
    users_file = right.file_uploader("Users (optional)", key="upload_users",
                                     help="One row per user: user id, age, gender, occupation…")
    with st.expander("Tags (optional)"):
        st.caption("MovieLens tags.csv (userId, movieId, tag, timestamp), or Goodbooks book_tags.csv with its tags.csv. "
                   "Tags are added to the item text the content models read (needs an items file).")
        tag_left, tag_right = st.columns(2)
        tags_file = tag_left.file_uploader("Tags", key="upload_tags")
        tag_names_file = tag_right.file_uploader("Tag names (Goodbooks tags.csv only)", key="upload_tag_names")

    mappings: dict[str, dict] = {}
    layouts: dict[str, dict] = {}
    feedback = "auto"
    ready = ratings_file is not None
    # kind -> (file, heading, required roles, optional roles)
    sections = {"ratings": (ratings_file, "Ratings", ("user", "item"), ("rating", "timestamp", "event")),
                "items": (items_file, "Items", ("item",), ("title", "genres")),
                "users": (users_file, "Users", ("user",), ())}
    for kind, (upload, heading, required, optional) in sections.items():
        if upload is None:
            continue
        st.markdown(f"##### {heading} · {ui.md(upload.name)}")
        layouts[kind] = layout_override(upload, kind)
        fmt = detected(upload, kind, layouts[kind])
        if fmt is None:
            ready = False
            continue
        mappings[kind] = mapping_editor(upload, fmt, kind, required, optional)
        if kind == "ratings" and mappings[kind]["rating"] is None and mappings[kind].get("event"):
            st.caption(":material/info: An event log: each row weighs its event type (view 1, cart 3, purchase 5 "
                       "by default) and a pair's rows are summed into one count (implicit feedback).")
        elif kind == "ratings" and mappings[kind]["rating"] is None:
            st.caption(":material/info: Without a rating column every row counts as one interaction "
                       "(implicit feedback): RMSE is then meaningless and only ranking metrics count.")
        elif kind == "ratings":
            feedback = st.selectbox(
                "What the values are", list(FEEDBACK_CHOICES), format_func=FEEDBACK_CHOICES.get,
                key=f"feedback:{upload.file_id}",
                help="Counts (plays, clicks, quantities) are implicit feedback: every held-out interaction is "
                     "relevant, the ranking models weigh them (their 'weighting' parameter) and rating models "
                     "refuse them. 'detect' says what it decided, and why, once loaded.")
            if feedback == "events":  # the event types give the weights: the value column is not read
                st.caption(f":material/info: Each row weighs its event type; "
                           f"{ui.md(repr(mappings[kind]['rating']))} is not read.")
                mappings[kind] = {**mappings[kind], "rating": None}

    if ratings_file is None:
        st.info("Choose a ratings file to start. Not sure about the format? See the **File format** tab, "
                "or download the sample files there as a template.", icon=":material/info:")
    default_name = Path(ratings_file.name).stem if ratings_file is not None else ""
    if ratings_file is not None and default_name.lower() in ("ratings", "u", "data") and items_file is not None:
        default_name = Path(items_file.name).stem + " ratings"
    name = st.text_input("Name of this data set", value=default_name or "my data", key=f"dataset_name:{default_name}",
                         max_chars=60, disabled=ratings_file is None)
    uploads = (ratings_file, items_file, users_file, tags_file, tag_names_file)
    # What a failed load is about: the same files, mapping, layouts and name. The failure is kept in the
    # session (not just drawn once) so the "skip" checkbox below it survives the rerun its click causes.
    attempt = repr(([f.file_id if f else None for f in uploads], mappings, layouts, name, feedback))

    def load(skip_bad_lines: bool) -> None:
        try:
            with st.spinner("Reading and checking the files…"):
                loaded = loader.load_dataset(
                    ratings_file, items_file, users_file,
                    tags=tags_file, tag_names=tag_names_file,
                    mapping=mappings.get("ratings"), item_mapping=mappings.get("items"),
                    user_mapping=mappings.get("users"), name=name or None, layouts=layouts,
                    skip_bad_lines=skip_bad_lines, feedback=feedback,
                )
        except DataValidationError as error:
            st.session_state["load_failure"] = {
                "attempt": attempt, "message": str(error),
                "malformed": isinstance(error, loader.MalformedLinesError) and not skip_bad_lines,
            }
        else:
            st.session_state.pop("load_failure", None)
            ui.set_dataset(loaded, "uploaded: " + ", ".join(f.name for f in uploads if f))
            skipped = " Skipped lines are listed under *What was read and cleaned up*." if skip_bad_lines else ""
            st.session_state["data_flash"] = (
                f"Loaded **{ui.md(loaded.name)}**: {plural(loaded.n_users, 'user')}, "
                f"{plural(loaded.n_items, 'item')}, "
                f"{plural(loaded.n_ratings, 'rating' if not loaded.implicit else 'interaction')}, read as "
                f"{FEEDBACK_NAMES[loaded.feedback_kind]}.{skipped} "
                "The Summary tab shows what it looks like; train models next."
            )
            st.rerun()

    if st.button("Load these files", type="primary", icon=":material/upload:", disabled=not ready):
        load(skip_bad_lines=False)
    failure = st.session_state.get("load_failure")
    if failure is not None and failure["attempt"] != attempt:  # files or settings changed since: stale
        del st.session_state["load_failure"]
        failure = None
    if failure is not None:
        st.error(ui.md(failure["message"]), icon=":material/error:")
        if failure["malformed"] and st.checkbox(
            "Skip the malformed lines (they will be listed)", key="skip_bad_lines",
            help="Loads every other line; each skipped line is listed by its line number under the summary.",
        ):
            load(skip_bad_lines=True)
            st.rerun()  # only reached when that load failed too: show its error instead
        previous = ui.dataset()
        if previous is not None:
            st.info(f"Nothing changed: still using **{ui.md(previous.name)}** ({ui.md(ui.dataset_source())}).",
                    icon=":material/info:")
    with st.expander("Import an experiment (exported from the Compare page)", icon=":material/input:"):
        experiment_io.import_section()
    if ui.dataset() is not None and ui.dataset_source() != "the bundled sample":
        if st.button("Go back to the bundled sample", icon=":material/restart_alt:"):
            if ui.load_sample_into_session():
                st.session_state["data_flash"] = "Back to the bundled sample."
                st.rerun()
    if ui.dataset_source() != PLAYS_SOURCE and st.button(
            "Use the sample's play counts", icon=":material/equalizer:",
            help="The same users, items and pairs as the sample, each with a heavy-tailed play count instead of "
                 "stars (sample_data/plays.tsv, in Last.fm's layout): implicit feedback."):
        try:
            ui.set_dataset(loader.load_sample("counts"), PLAYS_SOURCE)
        except DataValidationError as error:
            st.error(ui.md(str(error)), icon=":material/error:")
        else:
            st.session_state["data_flash"] = "Loaded the bundled sample's play counts (implicit feedback)."
            st.rerun()
    if ui.dataset_source() != EVENTS_SOURCE and st.button(
            "Use the sample's event log", icon=":material/shopping_cart:",
            help="The same users, items and pairs as a shop's event log (views, carts, purchases drawn from the "
                 "ratings: loved items get carted and bought), weighted per event type and summed per pair."):
        try:
            ui.set_dataset(loader.load_sample("events"), EVENTS_SOURCE)
        except DataValidationError as error:
            st.error(ui.md(str(error)), icon=":material/error:")
        else:
            st.session_state["data_flash"] = "Loaded the bundled sample as an event log (implicit feedback)."
            st.rerun()

# ------------------------------------------------------------------ format
with format_tab:
    st.markdown(
        """
**Ratings** (required): one rating per line with a user id, an item id, a rating and optionally a
timestamp (unix seconds or a date). Columns may be separated by a comma, tab, semicolon, pipe or `::`,
with or without a header line. Names such as `userId`, `movieId`, `rating`, `timestamp` are recognised;
otherwise choose the columns in the mapping. Without a rating column each line counts as one interaction.

**Event logs** (a column of event types such as view, addtocart, transaction, and no value column) load as
counts: each line weighs its type (view 1, addtocart 3, transaction 5, others 1) and the weights of a
(user, item) pair are added.

**Counts** (plays, clicks, purchases, quantities) load as implicit feedback: a value column named like
`weight`, `plays`, `clicks`, `count`, `quantity`, or whole numbers with a heavy tail (the largest above 10 and
at least 5 times the median), is read as counts, and the summary says so and why; choose "What the values
are" to override. Every held-out interaction is then relevant, the ranking models weigh the counts (0/1,
log(1 + count), BM25 or TF-IDF) and the rating-prediction models refuse them. Last.fm HetRec 2011
(`user_artists.dat`, `artists.dat`) and Goodbooks-10k's `to_read.csv` are recognised as they are.

**Items** (optional): one row per item with the item id, a `title`, `genres` separated by `|`
(e.g. `Action|Comedy`) and any text such as a description. The content models read this text, and the
pages show titles instead of ids.

**Users** (optional): one row per user with the user id and attributes such as `age`, `gender`,
`occupation`. The cold-start page uses them to recommend to a new user known only by these.

Recognised as they are distributed: MovieLens 100k (`u.data`, `u.item`, `u.user`), MovieLens 1M
(`ratings.dat`, `movies.dat`, `users.dat`), MovieLens latest (`ratings.csv`, `movies.csv`, `tags.csv`)
and Goodbooks-10k (`ratings.csv`, `books.csv`, `book_tags.csv`, `tags.csv`).

Duplicate ratings keep the latest; metadata rows nobody rated are left out. Every clean-up step is listed
under the summary.
"""
    )
    st.markdown("**The bundled sample**, to use as a template:")
    cells = st.columns(4)
    for cell, (file_name, what) in zip(cells, (("ratings.csv", "user, item, rating, timestamp"),
                                               ("plays.tsv", "userID, artistID, weight: the same pairs as play "
                                                             "counts (Last.fm's layout)"),
                                               ("items.csv", "item, title, genres, description…"),
                                               ("users.csv", "user, age, gender, occupation, segment"))):
        path = loader.SAMPLE_DIR / file_name
        if path.exists():
            # A callable: the file is read only when someone clicks (the ratings are about 1 MB). Read through
            # the same formula neutralisation as every other download.
            cell.download_button(f"Download {file_name}", lambda path=path: exports.file_csv_bytes(path),
                                 file_name=file_name,
                                 mime="text/tab-separated-values" if file_name.endswith(".tsv") else "text/csv",
                                 icon=":material/download:", key=f"download:{file_name}", on_click="ignore")
            cell.caption(what)
        else:
            cell.caption(f"{file_name} is missing from this installation.")

# ------------------------------------------------------------------ summary
with summary_tab:
    data = ui.dataset()
    if data is None:
        st.info("No data set is loaded.", icon=":material/info:")
        if not st.session_state.get("sample_failed") and st.button("Use the bundled sample", type="primary"):
            if ui.load_sample_into_session():
                st.rerun()
        st.caption("Or upload your own files in the **Upload your files** tab.")
    else:
        summary = data.summary()
        st.markdown(ui.dataset_caption(data))
        cells = st.columns(6)
        cells[0].metric("Users", ui.number(summary["users"]))
        cells[1].metric("Items", ui.number(summary["items"]))
        cells[2].metric("Ratings", ui.number(summary["ratings"]))
        cells[3].metric("Density", ui.percent(summary["density"]),
                        help="Share of all user × item pairs that have a rating. Recommender data is sparse: "
                             "a few percent or (much) less.")
        if data.feedback_kind == "counts":
            cells[4].metric("Feedback", "counts (implicit)",
                            help="Interaction strengths (plays, clicks), not ratings: every held-out interaction is "
                                 "relevant, and the ranking models weigh the counts.")
            cells[5].metric("Counts", f"{summary['rating_min']:g} – {summary['rating_max']:g}",
                            help=f"Median {data.interactions['rating'].median():g}.")
        elif data.implicit:
            cells[4].metric("Feedback", "implicit", help="No rating column: every row is one interaction.")
        else:
            cells[4].metric("Rating scale", f"{summary['rating_min']:g} – {summary['rating_max']:g}")
            cells[5].metric("Mean rating", f"{data.global_mean:.2f}", help="Mean of all ratings, in rating points.")
        note = feedback_note(data)
        if note is not None:
            st.caption(f":material/info: {ui.md(note)}")
        if data.report:
            with st.expander(f"What was read and cleaned up ({plural(len(data.report), 'note')})"):
                for line in data.report:
                    st.markdown(f"- {ui.md(line)}")

        if not data.has_timestamps:
            st.caption(":material/schedule: No timestamps: the splits by time and the models that read the order "
                       "of histories (gru4rec, sasrec) need them. If this file's rows are in the order things "
                       "happened (a log written as it went), its file order can stand in.")
            if st.button("The rows are in time order: use the file order as time", key="data_file_order_time",
                         icon=":material/schedule:"):
                ui.set_dataset(loader.with_file_order_as_time(data), f"{ui.dataset_source()} (file order as time)")
                st.session_state["data_flash"] = "Each row's position in the file is now its time."
                st.rerun()

        left, right = st.columns(2)
        if not data.implicit:
            left.plotly_chart(ui.dataset_view("rating_histogram", data), key="chart-ratings")
        else:
            left.info("Implicit feedback: there are no rating values to plot.", icon=":material/info:")
        right.plotly_chart(ui.dataset_view("long_tail", data), key="chart-long-tail")
        left, right = st.columns(2)
        left.plotly_chart(ui.dataset_view("user_activity", data), key="chart-activity")
        genre_figure = ui.dataset_view("genre_counts", data)
        if genre_figure is not None:
            right.plotly_chart(genre_figure, key="chart-genres")
        else:
            right.info("No genres: load an items file with a genres column to see them here "
                       "(and to measure the genre diversity of recommendations).", icon=":material/info:")

        with st.expander("Browse the ratings"):
            frame = data.interactions
            shown = pd.DataFrame({
                "user": frame["user"],
                "item": frame["item"],
                "title": data.titles(frame["item_idx"].to_numpy()),
                "rating": frame["rating"],
            })
            if data.has_timestamps:
                shown["time"] = pd.to_datetime(frame["timestamp"], unit="s")
            st.dataframe(shown.head(1000), hide_index=True, width="stretch")
            st.caption(f"First {count(min(1000, len(shown)))} of {plural(len(shown), 'rating')}, in file order.")
        ui.page_link("train", "Next: train models on this data", ":material/model_training:")
