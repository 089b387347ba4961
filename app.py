"""recsys-lab dashboard: compare recommender models on the bundled sample or your own exports.

Run with ``streamlit run app.py``. The pages are thin views over
``recsys_core``; shared helpers live in ``recsys_ui``.
"""
import logging
import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

from recsys_ui import session_store, training, ui

st.set_page_config(page_title="recsys-lab", page_icon=":material/movie_filter:", layout="wide")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")

pages = [
    st.Page(ui.PAGES["data"], title="Data", icon=":material/database:", url_path="data", default=True),
    st.Page(ui.PAGES["train"], title="Train", icon=":material/model_training:", url_path="train"),
    st.Page(ui.PAGES["compare"], title="Compare", icon=":material/leaderboard:", url_path="compare"),
    st.Page(ui.PAGES["embeddings"], title="Embeddings", icon=":material/scatter_plot:", url_path="embeddings"),
    st.Page(ui.PAGES["cold_start"], title="Cold start", icon=":material/person_add:", url_path="cold-start"),
    st.Page(ui.PAGES["explore"], title="Explore", icon=":material/travel_explore:", url_path="explore"),
]
page = st.navigation(pages)

with st.sidebar:
    st.markdown("### :material/movie_filter: recsys-lab")
    st.caption("Load ratings → train models → compare them → look inside.")
    st.caption(f"This page's address keeps your session: a reload or a bookmark brings back the data, trained "
               f"models and settings for {session_store.MAX_AGE_HOURS} hours.")
ui.warm_up_kernels()
# A reload (or a bookmark of the URL with its ?s= token) brings the saved session back before anything else.
if session_store.restore():
    st.toast(st.session_state.pop("session_restored"), icon=":material/restore:")
# A Train click whose run never ended (the person opened another page or reloaded mid-run) is said so, plainly.
just_stopped = session_store.check_stopped_training()
# A session's first visit, on any page, starts with the bundled sample (never over the person's own data).
ui.ensure_sample_once()
training.sidebar_status()
session_store.sidebar_note()

started = time.perf_counter()
# What the person just chose is saved before the page works on it: a reload during a long page run (a
# significance test, a t-SNE map) must not lose the choice.
session_store.save()
try:
    session_store.show_notes()
    if session_store.stopped_training_note() and (just_stopped or page.url_path == "train"):
        st.warning(session_store.stopped_training_note(), icon=":material/block:")
    page.run()
except StreamlitAPIException as error:
    # A setting restored from an older version that its widget now refuses: reset it and draw the page again.
    if session_store.forget_unfitting_setting(error):
        st.rerun()
    raise
finally:
    session_store.save()
    # Server time of each page run, for benchmarks/dashboard.py (page switches must not refit anything).
    logging.getLogger("recsys_ui").info("page %s ran in %.1f ms", page.title, 1000 * (time.perf_counter() - started))
