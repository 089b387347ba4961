"""AppTest: forgetting a user on the Explore page (export, confirm, report), and Compare's per-group section."""
from __future__ import annotations

import pickle

from app_helpers import APP, FAST_MODELS, TIMEOUT, movielens_bytes, texts, train, trained  # noqa: F401 -- fixtures
from streamlit.testing.v1 import AppTest

from recsys_core.experiment import read_dataset
from recsys_ui import session_store


def test_explore_forgets_a_user_everywhere(trained):
    at = trained.switch_page("pages/explore.py").run()
    assert not at.exception and not at.error
    data = at.session_state["dataset"]
    index = at.selectbox(key="explore_user").value
    raw = str(data.user_ids[index])
    n_users = data.n_users
    assert any(b.key == "forget_download" for b in at.get("download_button"))
    assert at.button(key="forget_go").disabled  # nothing happens before the confirmation
    at.checkbox(key="forget_confirm").check().run()
    at.button(key="forget_go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.exception]

    # The session: data set, splits, every trained model.
    data = at.session_state["dataset"]
    assert data.n_users == n_users - 1 and raw not in set(data.user_ids.astype(str))
    assert raw not in set(data.users["user"]) and not (data.interactions["user"].astype(str) == raw).any()
    results = at.session_state["results"]
    assert results.fingerprint == data.fingerprint and [k[1] for k in results.keys] == FAST_MODELS
    for run in at.session_state["runs"].values():
        held = run.model.dataset_
        assert held.n_users == n_users - 1 and raw not in set(held.user_ids.astype(str))
    for splits in at.session_state["splits"].values():
        for split in splits:
            assert raw not in set(split.train.user_ids.astype(str)) | set(split.test.user_ids.astype(str))
    # The report, with how each model forgot.
    assert any("Forgot 1 user" in text for text in texts(at.success))
    report = at.dataframe[0].value
    assert report["model"].tolist() == FAST_MODELS
    assert report.set_index("model").loc["popular", "how"] == "incremental, exact"
    assert report.set_index("model").loc["svd", "how"] == "refit"

    # The stored session on disk: its data set and its pickled runs, read back.
    folder = session_store.directory(at.session_state["_session_token"])
    stored = read_dataset(folder / "data")
    assert stored.fingerprint == data.fingerprint and raw not in set(stored.user_ids.astype(str))
    payload = pickle.loads((folder / "runs.pkl").read_bytes())
    assert payload["runs"] and all(raw not in set(run.model.dataset_.user_ids.astype(str))
                                   for run in payload["runs"].values())
    assert payload["results"].fingerprint == data.fingerprint

    # A reload (a new browser session with the same address) brings back the session without the user.
    again = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    again.query_params[session_store.TOKEN_PARAM] = at.session_state["_session_token"]
    again.run()
    assert not again.exception
    assert again.session_state["dataset"].fingerprint == data.fingerprint
    assert [k[1] for k in again.session_state["results"].keys] == FAST_MODELS
    restored = list(again.session_state["runs"].values())
    assert len(restored) == len(FAST_MODELS)
    assert all(raw not in set(run.model.dataset_.user_ids.astype(str)) for run in restored)

    # An experiment exported afterwards (Compare's "Export experiment") holds the data without them.
    from recsys_core.experiment import export_experiment, import_experiment
    from recsys_ui.experiment_io import settings_of

    exported, _, table = import_experiment(export_experiment(data, settings_of(results), results.table))
    assert exported.n_users == n_users - 1 and raw not in set(exported.user_ids.astype(str))

    # The pages still answer from the data without the user.
    at.run()
    assert not at.exception and not at.error
    at.switch_page("pages/compare.py").run()
    assert not at.exception and not at.error

    # Training again measures without the user: nothing is reused from the runs measured before the removal.
    train(at, FAST_MODELS, **{"svd.n_epochs": 5})
    latest = at.session_state["results"]
    assert latest.reused == [] and [k[1] for k in latest.keys] == FAST_MODELS and not latest.errors
    fitted = [at.session_state["runs"][key] for key in latest.keys]
    assert all(run.model.dataset_.n_users == n_users - 1 for run in fitted)


def test_compare_per_group_section(trained):
    at = trained.switch_page("pages/compare.py").run()
    assert not at.exception and not at.error
    chooser = at.selectbox(key="compare_group_column")
    assert chooser.options == ["activity (training ratings)", "age", "gender", "occupation"]
    chooser.set_value("gender").run()
    assert not at.exception and not at.error
    sentences = [t for t in texts(at.markdown) if " serves " in t]
    assert sentences and all("users with gender" in s and "CI of the gap" in s for s in sentences)
    chooser.set_value("age").run()
    assert not at.exception
    ranges = next(t for t in texts(at.caption) if t.startswith("Users per group"))
    assert "under " in ranges and " and over " in ranges  # ages in readable ranges
    # 50 users: some age group has fewer than 10 test users, so a gap is read only between the larger ones.
    assert all("users aged" in t for t in texts(at.markdown) if " serves " in t)


def test_compare_every_metric_per_group(trained):
    at = trained.switch_page("pages/compare.py").run()
    at.selectbox(key="compare_group_column").set_value("gender").run()
    assert not at.exception and not at.error
    wide = next(d.value for d in at.dataframe if "group" in d.value.columns and "users" in d.value.columns)
    assert set(wide["group"]) == {"F", "M"} and {"NDCG@10", "RMSE"} <= set(wide.columns)
    assert set(wide["model"]) == set(FAST_MODELS)
