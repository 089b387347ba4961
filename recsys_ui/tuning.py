"""The Train page's Tune section: Optuna search per model, blind to the test fold.

Runs :func:`recsys_core.evaluation.tuning.tune` on the training part of the
split chosen on the page, shows progress per trial, the best-so-far curve and
parameter importances (Optuna's own plotly figures), and hands the best
parameters to the model forms ("Train with the best parameters").
"""
from __future__ import annotations

import math
from typing import Any

import streamlit as st

from recsys_core.dataset import Dataset
from recsys_core.errors import RecsysError
from recsys_core.evaluation.runner import RANKING
from recsys_core.evaluation.tuning import TuningResult, best_params_json, search_space, tune
from recsys_core.models import REGISTRY

from . import ui
from .model_forms import preset_params

#: Session key of the pending "apply best parameters" request (applied before the forms are drawn).
PENDING = "tune_pending_params"
RESULTS = "tune_results"


def apply_pending() -> bool:
    """Before the forms are drawn: set their widgets to the tuned values; True if training should start."""
    pending: dict[str, dict[str, Any]] | None = st.session_state.pop(PENDING, None)
    if not pending:
        return False
    for name, params in pending.items():
        preset_params(name, params)
    chosen = list(st.session_state.get("train_models", []))
    st.session_state["train_models"] = chosen + [name for name in pending if name not in chosen]
    return True


def _stored(data: Dataset) -> dict[str, TuningResult]:
    store = st.session_state.setdefault(RESULTS, {})
    return store.setdefault(data.fingerprint, {})


def section(data: Dataset, chosen: dict[str, dict[str, Any]], train_part: Dataset | None, split_text: str) -> None:
    """The Tune expander: settings, run, progress, figures, apply."""
    tunable = [name for name in chosen if search_space(name)]
    results = _stored(data)
    with st.expander("Tune hyper-parameters (optional)", icon=":material/tune:", expanded=bool(results)):
        st.caption(
            f"Optuna searches each model's parameters on a **validation hold-out carved from the training part** "
            f"({split_text}): 20% of each user's training ratings. The test ratings are never read while tuning, "
            "so the numbers on the Compare page stay honest. The first trial is the model's defaults."
        )
        if not tunable:
            st.info("None of the chosen models has parameters to search.", icon=":material/info:")
            return
        if train_part is None:
            st.warning("Choose a split that works for this data set first.", icon=":material/warning:")
            return
        left, middle, right = st.columns(3)
        # Start from the first chosen ranking model: tuning pays most where the metric is what it optimises.
        rankers = [n for n in tunable if not REGISTRY[n].predicts_ratings]
        names = left.multiselect("Models to tune", tunable, default=(rankers or tunable)[:1], key="tune_models", persist_state="session")
        trials = middle.slider("Trials per model", 5, 100, 20, 5, key="tune_trials", persist_state="session",
                               help="Each trial fits the model once on the training part minus the validation ratings.")
        metric = right.selectbox("Optimise", list(RANKING), index=list(RANKING).index("ndcg"), key="tune_metric",
                                 persist_state="session", format_func=lambda m: f"{m}@K")
        k = right.number_input("K", 1, 100, 10, key="tune_k", persist_state="session")
        if st.button("Tune", icon=":material/manage_search:", disabled=not names, key="tune_run"):
            _run(train_part, names, int(trials), metric, int(k), results, chosen)
        if results:
            _show(results)


def _run(train: Dataset, names: list[str], trials: int, metric: str, k: int, results: dict[str, TuningResult],
         chosen: dict[str, dict[str, Any]]) -> None:
    bar = st.progress(0.0, text="Tuning…")
    for position, name in enumerate(names):
        def trial_done(result: TuningResult, done: int, total: int, position: int = position, name: str = name) -> None:
            best = (f"best {result.metric}@{result.k} so far {result.best_value:.4f}"
                    if math.isfinite(result.best_value) else "no valid trial yet")
            bar.progress(min(1.0, (position + done / max(total, 1)) / len(names)),
                         text=f"{name}: trial {done} of {total} · {best}")

        fixed = {key: value for key, value in chosen.get(name, {}).items()
                 if key not in {param.name for param in search_space(name)}}
        try:
            results[name] = tune(train, name, n_trials=trials, metric=metric, k=k, seed=0, fixed_params=fixed,
                                 trial_done=trial_done)
        except RecsysError as error:
            st.error(f"{ui.md(name)}: {ui.md(error)}", icon=":material/error:")
    bar.progress(1.0, text="Tuning done")


def _show(results: dict[str, TuningResult]) -> None:
    import optuna.visualization as ov

    for name, result in results.items():
        st.markdown(f"**{ui.md(name)}**: best validation {result.metric}@{result.k} = "
                    f"{result.best_value:.4f} after {len(result.trials)} trials ({result.seconds:.0f} s)")
        st.code(_format(result.best_params), language="json")
        if result.errors:
            st.caption(f"{len(result.errors)} trial(s) failed, e.g. {result.errors[0]}")
        left, right = st.columns(2)
        with left:
            figure = ov.plot_optimization_history(result.study)
            figure.update_layout(title=f"{name}: validation {result.metric}@{result.k} per trial", height=320)
            st.plotly_chart(figure, key=f"tune_history_{name}")
        with right:
            if result.importances():
                figure = ov.plot_param_importances(result.study)
                figure.update_layout(title=f"{name}: which parameters mattered", height=320)
                st.plotly_chart(figure, key=f"tune_importance_{name}")
            else:
                st.caption("Parameter importances need at least two finished trials that differ.")
    if st.button("Train with the best parameters", type="primary", icon=":material/play_arrow:", key="tune_apply"):
        st.session_state[PENDING] = best_params_json(results)
        st.rerun()


def _format(params: dict[str, Any]) -> str:
    import json

    return json.dumps({key: (round(value, 6) if isinstance(value, float) else value) for key, value in params.items()},
                      indent=1)
