"""Export an experiment, import it in a fresh session: same data, same settings, the same numbers again."""
from __future__ import annotations

import pandas as pd

from app_helpers import new_app, train, trained_models
from recsys_core.experiment import export_experiment
from recsys_ui.experiment_io import settings_of


def test_an_exported_experiment_reproduces_in_another_session():
    at = new_app()
    train(at, ["popular", "ease", "item-knn-cosine"], **{"ease.reg": 321.0})
    results = at.session_state["results"]
    # Outside a script run, Results reads its runs from this app's session state.
    runs = at.session_state["runs"]
    settings = settings_of(results, [runs[key] for key in results.keys])
    table = pd.concat([runs[key].table for key in results.keys], ignore_index=True)
    archive = export_experiment(at.session_state["dataset"], settings, table)

    other = new_app()
    other.switch_page("pages/data.py").run()
    other.file_uploader(key="experiment_upload").upload("experiment.zip", archive, "application/zip")
    other.run()
    other.button(key="experiment_go").click().run()
    assert not other.exception, [e.value for e in other.exception]
    assert other.session_state["dataset"].fingerprint == at.session_state["dataset"].fingerprint
    assert trained_models(other) == ["popular", "ease", "item-knn-cosine"]
    assert other.session_state["param:ease:reg"] == 321.0
    assert any(s.value.startswith("Reproduced experiment") and "came out the same" in s.value for s in other.success), [s.value for s in other.success]


def test_a_file_that_is_not_an_experiment_is_refused_readably():
    at = new_app()
    at.file_uploader(key="experiment_upload").upload("ratings.zip", b"not a zip at all", "application/zip")
    at.run()
    at.button(key="experiment_go").click().run()
    assert not at.exception
    assert any("not an experiment archive" in e.value for e in at.error)
