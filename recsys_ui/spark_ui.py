"""The Train page's Spark section: fit MLlib ALS on a Spark cluster (or local[*]) beside the in-process models.

Shown only where Spark can start (pyspark importable, Java 17+). The numbers come from the same
runner, metrics and split as the in-process results, so the two can be read side by side.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from recsys_core.dataset import Dataset
from recsys_core.errors import RecsysError
from recsys_core.evaluation.runner import summarise
from recsys_core.evaluation.splits import Split

from . import model_forms, ui

RESULTS = "spark_results"


@st.cache_resource(show_spinner=False)
def _problem() -> str | None:
    """Why Spark cannot run on this server, or None (checked once per server: it runs `java -version`)."""
    from recsys_core.spark_engine import spark_problem

    return spark_problem()


def section(data: Dataset, splits: list[Split] | None, chosen: dict[str, dict[str, Any]], ks: tuple[int, ...]) -> None:
    """The expander; ``chosen`` are the Train form's parameters (the in-process model's, if it is chosen)."""
    problem = _problem()
    with st.expander("Fit ALS on Spark (optional)", icon=":material/hub:"):
        if problem is not None:
            st.caption(f"Spark is not available on this server: {ui.md(problem)}")
            return
        st.caption("MLlib ALS (implicit preferences) fitted by Spark on the same split and measured with the same "
                   "metrics as the in-process models. Use it when one machine is not enough; on data this size "
                   "the in-process `als` is much faster (Spark starts a JVM).")
        master = st.text_input("Master URL", value="local[*]", key="spark_master",
                               help="local[*] runs Spark on this server's cores; spark://host:7077 uses a cluster.")
        if splits is None:
            st.warning("Choose a split that works for this data set first.", icon=":material/warning:")
            return
        if st.button("Fit ALS on Spark", icon=":material/hub:", key="spark_run"):
            from recsys_core.spark_engine import SparkALS

            params = chosen.get(SparkALS.name) or model_forms.default_params(SparkALS.name)
            _run(data, splits, params, ks, master)
        stored = st.session_state.get(RESULTS, {}).get(data.fingerprint)
        if stored is not None:
            wide = summarise(stored)
            columns = [c for c in wide.columns if c.startswith(("ndcg@", "precision@", "recall@", "coverage@"))
                       or c in ("fit_seconds", "score_seconds")]
            st.dataframe(wide[columns], width="stretch")


def _run(data: Dataset, splits: list[Split], als_params: dict[str, Any], ks: tuple[int, ...], master: str) -> None:
    from recsys_core.spark_engine import evaluate_spark

    bar = st.progress(0.0, text="Starting Spark…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=message)

    try:
        table: pd.DataFrame = evaluate_spark(data, splits, params=als_params, ks=ks,
                                             master=None if master.strip() in ("", "local[*]") else master.strip(),
                                             progress=progress)
    except RecsysError as error:
        bar.empty()
        st.error(ui.md(error), icon=":material/error:")
        return
    bar.progress(1.0, text="Done")
    st.session_state.setdefault(RESULTS, {})[data.fingerprint] = table
