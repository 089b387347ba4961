"""Export / Import experiment: move a whole session between machines, then check it reproduces.

Export writes one zip (:func:`recsys_core.experiment.export_experiment`: the
data set as Parquet, the settings and the tidy results as JSON/Parquet, never
pickles). Import reads it back, makes its data the active data set, sets the
Train page to the same models, parameters, split and K, and trains them once;
the fresh numbers are then compared with the imported ones, so an analyst sees
at once whether the experiment reproduces on this machine.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from recsys_core.errors import RecsysError
from recsys_core.experiment import export_experiment, import_experiment
from recsys_core.models import REGISTRY

from . import training, ui
from .model_forms import preset_params

PENDING = "experiment_pending"
IMPORTED = "experiment_imported"
#: How the Train page's split widgets are keyed (split method -> split parameter -> widget key).
SPLIT_WIDGETS = {
    "random": {"test_size": "train_test_size", "seed": "train_seed"},
    "kfold": {"n_folds": "train_folds", "seed": "train_seed_kfold"},
    "temporal": {"test_fraction": "train_test_fraction"},
    "leave-last-out": {"n": "train_last_n"},
}
#: Metrics that measure the machine, not the model: left out of the reproduction check.
_TIMINGS = ("fit_seconds", "score_seconds")


def settings_of(current: "training.Results", runs: list | None = None) -> dict[str, Any]:
    """What produced these results: models with parameters, split, K, and the data fingerprint."""
    runs = current.runs if runs is None else runs
    return {"models": {run.name: run.params for run in runs}, "split": current.split_method,
            "split_params": dict(current.split_params), "ks": list(current.ks), "fingerprint": current.fingerprint}


def export_button(current: "training.Results") -> None:
    """A download of the whole experiment (data, settings, results) as one zip."""
    data = ui.dataset()
    if data is None:
        return

    def build() -> bytes:
        return export_experiment(data, settings_of(current), current.table)

    st.download_button("Export experiment (.zip)", data=build, file_name=f"experiment-{data.fingerprint}.zip",
                       mime="application/zip", icon=":material/ios_share:", key="experiment_export",
                       help="Data, models with their parameters, split, K and every result: import it on another "
                            "machine (Data page) to reproduce the comparison. Tables are Parquet, the rest JSON.")


def import_section() -> None:
    """Uploader on the Data page: read an experiment, load its data, queue its training."""
    upload = st.file_uploader("Import an experiment (.zip from 'Export experiment')", type=["zip"],
                              key="experiment_upload")
    if upload is None or not st.button("Import and reproduce", icon=":material/input:", key="experiment_go"):
        return
    try:
        dataset, settings, table = import_experiment(upload.getvalue(), upload.name)
        models = {name: params for name, params in settings.get("models", {}).items() if name in REGISTRY}
        if not models:
            raise RecsysError(f"{upload.name} names no model this app knows.")
    except RecsysError as error:
        st.error(ui.md(error), icon=":material/error:")
        return
    ui.set_dataset(dataset, f"imported from {upload.name}")
    st.session_state[IMPORTED] = {"name": upload.name, "table": table}
    st.session_state[PENDING] = {"models": models, "split": settings.get("split", "random"),
                                 "split_params": settings.get("split_params", {}), "ks": settings.get("ks", [10])}
    st.switch_page(ui.PAGES["train"])


def apply_pending() -> bool:
    """On the Train page, before its widgets: set them to the imported settings; True if it should train now."""
    pending = st.session_state.pop(PENDING, None)
    if not pending:
        return False
    for name, params in pending["models"].items():
        preset_params(name, params)
    st.session_state["train_models"] = list(pending["models"])
    method = pending["split"] if pending["split"] in SPLIT_WIDGETS else "random"
    st.session_state["train_split"] = method
    for param, key in SPLIT_WIDGETS[method].items():
        if param in pending["split_params"]:
            st.session_state[key] = pending["split_params"][param]
    st.session_state["train_ks"] = [int(k) for k in pending["ks"]]
    return True


def reproduction(current: "training.Results") -> tuple[int, int, float] | None:
    """(numbers equal within 1e-9, numbers compared, largest difference) against the imported results."""
    imported = st.session_state.get(IMPORTED)
    if not imported or imported.get("table") is None or current is None or not current.runs:
        return None
    key = ["model", "fold", "metric", "k", "bucket"]
    old = imported["table"][~imported["table"]["metric"].isin(_TIMINGS)]
    new = current.table[~current.table["metric"].isin(_TIMINGS)]
    both = old.astype({"k": "Int64"}).merge(new.astype({"k": "Int64"}), on=key, suffixes=("_imported", "_now"))
    if both.empty:
        return 0, len(old), float("nan")
    difference = (both["value_imported"] - both["value_now"]).abs().fillna(0.0)
    return int((difference <= 1e-9).sum()), len(old), float(difference.max())


def reproduction_note(current: "training.Results") -> None:
    """After an imported experiment was retrained: did every number come out the same?"""
    outcome = reproduction(current)
    if outcome is None:
        return
    equal, compared, worst = outcome
    name = st.session_state[IMPORTED]["name"]
    if compared and equal == compared:
        st.success(f"Reproduced {ui.md(name)}: all {compared:,} imported numbers (timings aside) came out the same.",
                   icon=":material/verified:")
    else:
        st.warning(f"{ui.md(name)}: {equal:,} of {compared:,} imported numbers came out the same (largest difference "
                   f"{worst:.3g}); package versions or hardware may differ.", icon=":material/compare_arrows:")
