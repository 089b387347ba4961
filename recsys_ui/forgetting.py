"""The Explore page's "Forget this user": export first, then confirm, then the change report.

The engine does the work (:mod:`recsys_core.forget`); this module swaps the session's data set, splits and
trained runs for versions without the user, so nothing of them stays in the session, its stored copy on disk
or this server's caches, and every export made afterwards starts from the data without them.
"""
from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from recsys_core.data import without_users
from recsys_core.dataset import Dataset
from recsys_core.errors import RecsysError
from recsys_core.forget import forget, user_data

from . import exports, fmt, session_store, training, ui
from .ui import md, set_dataset

#: Marks the run keys of models that forgot users (see forget_in_session).
FORGOTTEN = "users forgotten"
#: The latest change report (no id of the forgotten user in it), shown after the rerun.
REPORT = "_forget_report"


def forget_in_session(current: training.Results, data: Dataset, user_ids: list[str]) -> list[dict]:
    """Remove the users from the session's data set, splits and every trained model; returns the change report.

    Refuses while a training run is marked as running. Either everything is swapped or nothing is: the
    models forget on copies, and the session is changed only once every one has succeeded.
    """
    if st.session_state.get(session_store.RUNNING):
        raise RecsysError("A training run is in progress: forget the user once it has ended (nothing was removed).")
    splits = training.splits_for(data, current.split_method, current.split_params)
    new_data = without_users(data, user_ids)  # refuses unknown ids and the last user
    outcomes = forget(current.models, user_ids, compare_refit="auto")  # every model, on copies
    # replace(): a split keeps whatever else it carries (its fold, whether it respects time, its notes).
    new_splits = [replace(s, train=without_users(s.train, user_ids), test=without_users(s.test, user_ids))
                  for s in splits]

    store = training._runs()
    runs = {}
    for run, outcome in zip(current.runs, outcomes):
        # One more element than a Train key: a Train click on the new data measures again instead of reusing
        # these runs, whose metrics were measured before the removal (a session restore reads key[0] only).
        key = (new_data.fingerprint,) + tuple(run.key[1:5]) + (FORGOTTEN,)
        runs[key] = training.Run(key, run.label, run.name, run.params, run.ks, run.table, outcome.model,
                                 run.seconds, run.history)
    store.clear()  # every other run was fitted on data that held the user
    store.update(runs)
    st.session_state["splits"] = {(new_data.fingerprint, current.split_method,
                                   training._freeze(current.split_params)): new_splits}
    results = training.Results(new_data.fingerprint, current.split_method, dict(current.split_params), current.ks,
                               keys=list(runs), errors=dict(current.errors), seconds=current.seconds,
                               log=list(current.log), headline=current.headline)
    st.session_state["results"] = results
    tuned = st.session_state.get("tune_results")
    if isinstance(tuned, dict):  # searched parameters and validation scores only; keep them for the new data
        st.session_state["tune_results"] = {new_data.fingerprint: tuned.get(data.fingerprint, {})}
    for key in ("sig_seed_spread", "explore_user"):  # refits on the old data; the widget held the user's index
        st.session_state.pop(key, None)
    st.cache_data.clear()  # per-user metrics, significance, reports of the old data (recomputed on demand)
    ui._results_view.clear()  # charts of the old results and data set
    ui._dataset_view.clear()
    report = [{"model": o.label, "how": {True: "incremental, exact", False: "incremental, partial"}.get(o.exact, o.method),
               "seconds": o.seconds, "changed": o.changed_share,
               "others": o.n_other_users, "refit difference": o.refit_max_difference,
               "refit seconds": o.refit_seconds, "explanation": o.how, "largest": o.largest_changes}
              for o in outcomes]
    st.session_state[REPORT] = {"users": len(user_ids), "rows": report}
    set_dataset(new_data, session_store_source())  # saves the session: data, runs and settings rewritten
    return report


def session_store_source() -> str:
    source = st.session_state.get("dataset_source", "")
    return source if "forgotten" in source else f"{source} (users forgotten on request)"


def section(current: training.Results, data: Dataset, user: int) -> None:
    """Export this user's rows, confirm, forget; then the report of what changed for everyone else."""
    raw = str(data.user_ids[user])
    with st.expander("Forget this user", icon=":material/person_remove:"):
        st.caption("Removes every rating and attribute of this user from the data set and from each trained "
                   "model (right to erasure). Models that can update themselves do so; the others are refitted "
                   "without the user. Download their data first: afterwards it is gone from this session.")
        st.download_button("1. Download their data (CSV)", exports.csv_bytes(user_data(data, [raw])),
                           file_name=f"user-{raw}-data.csv", mime="text/csv", icon=":material/download:",
                           key="forget_download", on_click="ignore")
        refit = [label for label, model in current.models.items() if not model.can("forgets_users")]
        quick = [label for label in current.models if label not in refit]
        st.caption((f"Update themselves: {', '.join(md(m) for m in quick)}. " if quick else "")
                   + (f"Refitted from scratch (this takes as long as their training did): "
                      f"{', '.join(md(m) for m in refit)}." if refit else ""))
        sure = st.checkbox(f"2. I want user {raw} forgotten everywhere in this session", key="forget_confirm",
                           value=False)
        if st.button(f"3. Forget user {raw}", type="primary", disabled=not sure, key="forget_go",
                     icon=":material/delete_forever:"):
            try:
                with st.spinner("Removing the user from the data and every model…"):
                    forget_in_session(current, data, [raw])
            except RecsysError as error:
                st.error(md(str(error)), icon=":material/block:")
                return
            except Exception as error:  # noqa: BLE001 -- shown once; the session was not changed (swapped last)
                ui.log.exception("forgetting a user failed")
                st.error(f"Forgetting failed, and nothing was removed: {md(type(error).__name__)}: {md(error)}",
                         icon=":material/error:")
                return
            st.session_state.pop("forget_confirm", None)
            st.rerun()


def report() -> None:
    """The latest change report, once, at the top of the Explore page."""
    latest = st.session_state.pop(REPORT, None)
    if not latest:
        return
    with st.container(border=True):
        st.success(f"Forgot {fmt.plural(latest['users'], 'user')}: their ratings and attributes are gone from the "
                   "data set, the splits, every trained model, this server's caches and the stored session. The "
                   "metrics on Compare were measured before; train again to measure without them.",
                   icon=":material/check_circle:")
        rows = latest["rows"]
        table = pd.DataFrame([{"model": r["model"], "how": r["how"], "seconds": r["seconds"],
                               "top-10 changed for": r["changed"], "other users": r["others"],
                               "largest score difference to a refit": r["refit difference"]} for r in rows])
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "seconds": st.column_config.NumberColumn(format="%.3f"),
            "top-10 changed for": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1),
            "largest score difference to a refit": st.column_config.NumberColumn(
                format="%.2e", help="Incremental models only: their scores against a model refitted from scratch "
                                    "without the user: 0 up to rounding when the update is exact; a partial "
                                    "update (its tab says what it leaves out) is not expected to match")})
        st.caption("How each model forgot, and the other users whose top-10 changed most:")
        for tab, r in zip(st.tabs([r["model"] for r in rows]), rows):
            tab.markdown(f"**{md(r['model'])}** ({md(r['how'])}): {md(r['explanation'])}")
            if len(r["largest"]):
                tab.dataframe(r["largest"], hide_index=True, width="stretch", key=f"forget_largest_{r['model']}")
            else:
                tab.caption("No other user's top-10 changed.")
