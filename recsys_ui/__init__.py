"""The dashboard's shared layer: everything the pages have in common.

* :mod:`recsys_ui.ui` -- the Streamlit side: per-session state, the data set
  and model pickers, training with a per-session cache, empty states,
  formatting. The only module here that imports streamlit.
* :mod:`recsys_ui.charts` -- plotly figures built from a ``Dataset`` or the
  tidy results table (pure functions, testable without a browser).
* :mod:`recsys_ui.reading` -- the plain-language reading of a comparison.

The engine (``recsys_core``) never imports anything from here.
"""


def _run_pages_through_app_py() -> None:
    """A server's first request for a page's own address (``/train?s=...``) still goes through ``app.py``.

    Streamlit quirk (MPA v1 detection, see streamlit/streamlit#10276): until some session has called
    ``st.navigation``, a server whose script sits next to a ``pages/`` folder runs a deep link as the bare
    page script, without app.py, so no session restore, no sidebar and no sample; a reload on any page but
    Data right after a server restart showed "No data set is loaded yet". The first import of this package
    happens in that first run: switch the detection off and run the request again, through app.py.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if not PagesManager.uses_pages_directory:
        return
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or ctx.pages_manager.current_page_script_hash in ("", ctx.pages_manager.main_script_hash):
        return  # not in a script run (tests, the CLI), or app.py itself is running
    import streamlit as st

    PagesManager.uses_pages_directory = False
    st.rerun()


_run_pages_through_app_py()
