"""The dashboard's shared layer: everything the pages have in common.

* :mod:`recsys_ui.ui` -- the Streamlit side: per-session state, the data set
  and model pickers, training with a per-session cache, empty states,
  formatting. The only module here that imports streamlit.
* :mod:`recsys_ui.charts` -- plotly figures built from a ``Dataset`` or the
  tidy results table (pure functions, testable without a browser).
* :mod:`recsys_ui.reading` -- the plain-language reading of a comparison.

The engine (``recsys_core``) never imports anything from here.
"""
