"""Streamlit helpers shared by every page: session state, formatting, empty states, cached views.

The bottom of the UI layer: page concerns build on it and pages import them directly -- model forms
(model_forms.py), training and results (training.py), side-by-side lists (lists.py), tuning, session
store, experiment import/export. This module imports none of them at import time, so there is no circle.

Per-user state lives in ``st.session_state`` only (never in module globals),
so two browser tabs never see each other's uploads or results:

``dataset`` / ``dataset_source``
    The active :class:`~recsys_core.dataset.Dataset` and where it came from.
``runs``
    Per-session cache of fitted models: run key -> :class:`Run`. The key is
    (data set fingerprint, model name, parameters, split method, split
    parameters); changing one model's parameter refits only that model.
``splits``
    Train/test splits by (fingerprint, split method, split parameters).
``results``
    The :class:`Results` of the latest training: which runs the Compare,
    Embeddings, Cold start and Explore pages show.

Only the bundled sample (an immutable ``Dataset``) and 2-D projections (pure
functions of their inputs) are cached across sessions.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable, Iterator

import pandas as pd
import pandas.io.formats.style  # noqa: F401 -- loads jinja2 templates at start, not in the first Compare run (~0.4 s)
import streamlit as st

from recsys_core.dataset import Dataset
from recsys_core.errors import RecsysError
from recsys_core.evaluation.splits import SPLIT_LABELS  # noqa: F401 -- the pages read it as ui.SPLIT_LABELS

from . import fmt

log = logging.getLogger("recsys_ui")

PAGES = {
    "data": "pages/data.py",
    "train": "pages/train.py",
    "compare": "pages/compare.py",
    "embeddings": "pages/embeddings.py",
    "cold_start": "pages/cold_start.py",
    "explore": "pages/explore.py",
}

# ------------------------------------------------------------------ formatting
# The one home of these rules is recsys_ui/fmt.py; the names here are what the pages have always called.
def md(text: object) -> str:
    """User text (names, titles, ids, messages) made literal for Markdown-reading calls: see :func:`fmt.text`.

    Streamlit renders Markdown (and ``$...$`` as LaTeX, ``:red[...]``, ``:material/...:``) in
    st.markdown, st.error, headings and widget labels; user data must appear exactly as written.
    """
    return fmt.text(text)


def number(value: float) -> str:
    return fmt.count(value)


def percent(value: float) -> str:
    return fmt.percent(value)


def page_link(page: str, label: str, icon: str | None = None) -> None:
    st.page_link(PAGES[page], label=label, icon=icon)


def empty_state(message: str, page: str, label: str, icon: str = ":material/arrow_forward:") -> None:
    """A friendly stop: what is missing and a link to where to get it."""
    st.info(message, icon=":material/info:")
    page_link(page, label, icon)
    st.stop()


@contextlib.contextmanager
def guard(what: str) -> Iterator[None]:
    """Show an unexpected failure as a readable error (the rest of the page keeps working).

    Expected problems (bad files, models that cannot serve a query) are
    :class:`RecsysError` and shown as they are; anything else is logged with
    its traceback on the server and summarised in the page.
    """
    try:
        yield
    except RecsysError as error:
        st.error(md(str(error)), icon=":material/error:")
    except Exception as error:  # noqa: BLE001 -- shown to the person, logged with traceback
        log.exception("%s failed", what)
        st.error(f"{md(what)} failed: {md(type(error).__name__)}: {md(error)}. The server log has the details; "
                 "the rest of the page still works.", icon=":material/error:")


# ------------------------------------------------------------------ start-up
@st.cache_resource(show_spinner=False)
def warm_up_kernels() -> bool:
    """Once per server process: compile the k-NN kernels in the background (numba, ~5 s on a fresh machine)."""
    import threading

    from recsys_core.models import warm_up_kernels as warm_up

    threading.Thread(target=warm_up, name="numba-warm-up", daemon=True).start()
    return True


# ------------------------------------------------------------------ cached views
def _views() -> dict[str, Callable]:
    from recsys_core.evaluation.runner import summarise

    from . import charts, reading

    return {
        "summarise": summarise, "reading": reading.reading, "metric_bars": charts.metric_bars,
        "metric_vs_k": charts.metric_vs_k, "bucket_bars": charts.bucket_bars, "time_bars": charts.time_bars,
        "popularity_bars": charts.popularity_bars,
    }


# cache_resource, not cache_data: unpickling a plotly figure re-validates it (~25 ms each), and
# the views are never mutated after they are built.
@st.cache_resource(show_spinner=False, max_entries=256)
def _results_view(name: str, key: tuple, _table: pd.DataFrame, args: tuple, kwargs: tuple) -> Any:
    return _views()[name](_table, *args, **dict(kwargs))


def results_view(name: str, results: "Results", table: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
    """A figure, table or reading computed from ``results.table``, cached on its content key.

    Keyed on :attr:`Results.content_key` rather than on the table (hashing
    the table costs ~40 ms a call): two sessions share an entry only for the
    same runs with the same fit times. A page switch then redraws without recomputing.
    """
    return _results_view(name, results.content_key, table, tuple(args), tuple(sorted(kwargs.items())))


@st.cache_resource(show_spinner=False, max_entries=64)
def _dataset_view(name: str, fingerprint: str, _data: Dataset) -> Any:
    from . import charts

    return getattr(charts, name)(_data)


def dataset_view(name: str, data: Dataset) -> Any:
    """A Data-page chart of a data set, cached on its content fingerprint."""
    return _dataset_view(name, data.fingerprint, data)


# ------------------------------------------------------------------ data set
@st.cache_resource(show_spinner=False)
def _sample() -> Dataset:
    # Shared across sessions: a Dataset is immutable and the sample is the same for everyone.
    from recsys_core.data import load_sample

    return load_sample()


def dataset() -> Dataset | None:
    return st.session_state.get("dataset")


def dataset_source() -> str:
    return st.session_state.get("dataset_source", "")


def set_dataset(data: Dataset, source: str) -> None:
    st.session_state["dataset"] = data
    st.session_state["dataset_source"] = source
    _save_session()


def _save_session() -> None:
    """Save the session right after a big change (also done at the end of every page run by app.py)."""
    from . import session_store

    session_store.save()


def load_sample_into_session() -> bool:
    """Make the bundled sample the active data set; False (with an error shown) when it is missing."""
    try:
        with st.spinner("Loading the bundled sample…"):
            set_dataset(_sample(), "the bundled sample")
        return True
    except RecsysError as error:
        st.session_state["sample_failed"] = str(error)
        st.error(md(str(error)), icon=":material/error:")
        return False


def ensure_sample_once() -> None:
    """Load the sample on a session's first visit (never over the person's own data)."""
    if dataset() is None and not st.session_state.get("sample_tried"):
        st.session_state["sample_tried"] = True
        load_sample_into_session()


def require_dataset() -> Dataset:
    """The active data set, or an empty state with a one-click sample and a link to the Data page."""
    data = dataset()
    if data is not None:
        return data
    st.info("No data set is loaded yet.", icon=":material/info:")
    if st.button("Use the bundled sample", type="primary", icon=":material/dataset:"):
        if load_sample_into_session():
            st.rerun()
    page_link("data", "…or upload your own files on the Data page", ":material/upload_file:")
    st.stop()


def dataset_caption(data: Dataset) -> str:
    summary = data.summary()
    return (f"**{md(data.name)}** ({md(dataset_source())}): {fmt.plural(summary['users'], 'user')} · "
            f"{fmt.plural(summary['items'], 'item')} · {fmt.plural(summary['ratings'], 'rating')}")
