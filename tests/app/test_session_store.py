"""Nothing lost on reload: a session comes back from its URL token; other sessions never see it."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_helpers import APP, TIMEOUT, new_app, plotly_charts, texts, train, trained_models, upload
from recsys_ui import session_store


def reload(token: str) -> AppTest:
    """A fresh browser session (new session state) opening the same URL, token included."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params[session_store.TOKEN_PARAM] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_reload_brings_back_data_models_and_settings(movielens_bytes):
    at = new_app()
    upload(at, {"ratings": ("ratings.csv", movielens_bytes["ratings.csv"]),
                "items": ("movies.csv", movielens_bytes["movies.csv"])})
    train(at, ["popular", "ease"], **{"ease.reg": 123.0})
    token = at.query_params[session_store.TOKEN_PARAM]
    token = token[0] if isinstance(token, list) else token
    fingerprint = at.session_state["dataset"].fingerprint
    table = at.session_state["results"].table

    again = reload(token)
    assert again.session_state["dataset"].fingerprint == fingerprint
    assert trained_models(again) == ["popular", "ease"]
    assert again.session_state["results"].table.equals(table)
    assert again.session_state["param:ease:reg"] == 123.0
    # The store is named by a hash of the token, never by the token itself.
    assert token not in "".join(str(p) for p in Path(session_store.root()).rglob("*"))

    # Another session (no token, or someone else's) sees none of it.
    other = new_app()
    assert other.session_state["dataset"].fingerprint != fingerprint
    stranger = reload("A" * 32)
    assert stranger.session_state["dataset"].fingerprint != fingerprint


def test_a_malformed_token_is_replaced_not_used_as_a_path():
    at = reload("../../etc/passwd")
    token = at.query_params[session_store.TOKEN_PARAM]
    token = token[0] if isinstance(token, list) else token
    assert token != "../../etc/passwd" and session_store._TOKEN_SHAPE.match(token)


def test_the_store_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("RECSYS_SESSION_DIR", str(tmp_path))
    now = time.time()
    for number in range(session_store.MAX_SESSIONS + 5):
        folder = tmp_path / f"s{number:03d}"
        folder.mkdir()
        os.utime(folder, (now - number, now - number))
    expired = tmp_path / "old"
    expired.mkdir()
    os.utime(expired, (now - 3600 * (session_store.MAX_AGE_HOURS + 1),) * 2)
    session_store.prune(now)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == session_store.MAX_SESSIONS and "old" not in left
    assert left[0] == "s000" and f"s{session_store.MAX_SESSIONS:03d}" not in left


# ------------------------------------------------------------------ old or half-written sessions (issue 21)
@pytest.fixture(scope="module")
def saved_session(movielens_bytes, tmp_path_factory):
    """A stored session (small upload, popular + svd trained, Embeddings visited): its folder, to copy per test."""
    store = tmp_path_factory.mktemp("store")
    previous = os.environ.get("RECSYS_SESSION_DIR")
    os.environ["RECSYS_SESSION_DIR"] = str(store)
    try:
        at = new_app()
        upload(at, {"ratings": ("ratings.csv", movielens_bytes["ratings.csv"]),
                    "items": ("movies.csv", movielens_bytes["movies.csv"])})
        train(at, ["popular", "svd"], **{"svd.n_epochs": 5})
        at.switch_page("pages/embeddings.py").run()
        assert not at.exception, [e.value for e in at.exception]
        token = at.query_params[session_store.TOKEN_PARAM]
        token = token[0] if isinstance(token, list) else token
        folder = store / session_store.directory(token).name
        assert (folder / "state.json").is_file() and (folder / "runs.pkl").is_file()
        yield folder, at.session_state["dataset"].fingerprint
    finally:
        if previous is None:
            os.environ.pop("RECSYS_SESSION_DIR", None)
        else:
            os.environ["RECSYS_SESSION_DIR"] = previous


@pytest.fixture()
def copy_of(saved_session, tmp_path, monkeypatch):
    """A fresh token whose stored folder is a copy of the saved session: (token, folder, fingerprint)."""
    monkeypatch.setenv("RECSYS_SESSION_DIR", str(tmp_path))
    source, fingerprint = saved_session
    token = "C" * 32
    folder = session_store.directory(token)
    shutil.copytree(source, folder)
    return token, folder, fingerprint


def state_of(folder: Path) -> dict:
    return json.loads((folder / "state.json").read_text())


def write_state(folder: Path, state: dict) -> None:
    (folder / "state.json").write_text(json.dumps(state))


def warnings_of(at: AppTest) -> str:
    return " ".join(texts(at.warning))


def test_a_chart_selection_saved_by_an_older_version_does_not_crash_the_embeddings_page(copy_of):
    # The reload crash: "st.session_state['emb_chart:svd:items:pca'] is read-only" (issue 21).
    token, folder, fingerprint = copy_of
    state = state_of(folder)
    assert not any(key.startswith("emb_chart:") for key in state["settings"])  # no longer saved
    state["settings"]["emb_chart:svd:items:pca"] = {"selection": {"points": [], "box": [], "lasso": [],
                                                                  "point_indices": []}}
    state["settings"]["cold_download_csv"] = False
    write_state(folder, state)
    at = reload(token)
    at.switch_page("pages/embeddings.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(plotly_charts(at)) == 1 and trained_models(at) == ["popular", "svd"]


def test_cut_models_file_keeps_data_and_settings_and_says_what_was_lost(copy_of):
    token, folder, fingerprint = copy_of
    content = (folder / "runs.pkl").read_bytes()
    (folder / "runs.pkl").write_bytes(content[: len(content) // 2])  # written half-way
    at = reload(token)
    assert at.session_state["dataset"].fingerprint == fingerprint
    assert at.session_state["param:svd:n_epochs"] == 5
    assert "Part of your saved session could not be restored: the trained models" in warnings_of(at)
    assert "train them again on the Train page" in warnings_of(at)
    at.switch_page("pages/compare.py").run()
    assert not at.exception and any("No model is trained yet" in t for t in texts(at.info))


def test_a_run_pickled_by_an_older_version_is_dropped_by_name_and_the_others_kept(copy_of):
    token, folder, fingerprint = copy_of
    payload = pickle.loads((folder / "runs.pkl").read_bytes())
    old = next(run for run in payload["runs"].values() if run.name == "svd")
    del old.__dict__["seconds"]  # a field this version added
    (folder / "runs.pkl").write_bytes(pickle.dumps(payload))
    at = reload(token)
    assert "the trained model svd (saved by another version of recsys-lab)" in warnings_of(at)
    assert [key[1] for key in at.session_state["runs"]] == ["popular"]
    at.switch_page("pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert list(at.dataframe[0].value.columns)[1:] == ["popular"]


def test_damaged_data_loads_the_sample_and_keeps_the_settings(copy_of):
    token, folder, fingerprint = copy_of
    next((folder / "data").glob("*.parquet")).write_bytes(b"PAR1 not really")
    at = reload(token)
    assert at.session_state["dataset"].fingerprint != fingerprint  # the bundled sample instead
    assert at.session_state["param:svd:n_epochs"] == 5
    assert "the data set (its saved files are incomplete or from another version)" in warnings_of(at)
    at.switch_page("pages/train.py").run()
    assert not at.exception


def test_damaged_settings_keep_data_and_models(copy_of):
    token, folder, fingerprint = copy_of
    (folder / "state.json").write_text('{"settings": {"train_models": ["svd"')  # cut mid-write
    at = reload(token)
    assert at.session_state["dataset"].fingerprint == fingerprint and trained_models(at) == ["popular", "svd"]
    assert "your settings (the file is damaged" in warnings_of(at)
    next(b for b in at.button if b.label == "Dismiss").click().run()
    assert not at.exception and "could not be restored" not in warnings_of(at)


def _page_with_a_restored_slider() -> None:
    # What app.py does around page.run(), with one restored setting its slider now refuses (an older version's
    # range) and one that fits. AppTest runs pages without app.py; the e2e test covers app.py itself.
    import streamlit as st
    from streamlit.errors import StreamlitAPIException

    from recsys_ui import session_store

    if "_restored_settings" not in st.session_state:
        st.session_state.update({"train_test_size": 7.0, "train_seed": 3})
        st.session_state["_restored_settings"] = {"train_test_size": 7.0, "train_seed": 3}
    try:
        session_store.show_notes()
        st.number_input("Seed", 0, 10_000, 0, key="train_seed")
        st.slider("Test share", 0.05, 0.5, 0.2, 0.05, key="train_test_size")
    except StreamlitAPIException as error:
        if session_store.forget_unfitting_setting(error):
            st.rerun()
        raise


def test_a_setting_its_widget_now_refuses_is_reset_with_a_note():
    at = AppTest.from_function(_page_with_a_restored_slider, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.slider(key="train_test_size").value == 0.2 and at.number_input(key="train_seed").value == 3
    assert "a saved setting that no longer fits this version (train_test_size: The `value` 7.0 is greater than " \
           "the `max_value` 0.5.), reset to the default" in " ".join(t.replace("\\", "") for t in texts(at.warning))


def test_a_page_error_that_no_restored_setting_caused_is_not_hidden():
    def page() -> None:
        import streamlit as st

        from recsys_ui import session_store

        st.session_state["_restored_settings"] = {"train_seed": 3}
        try:
            raise ValueError("a bug in the page")
        except ValueError as error:
            assert not session_store.forget_unfitting_setting(error, widget_error=False)
            st.write("not blamed")
    at = AppTest.from_function(page, default_timeout=TIMEOUT).run()
    assert not at.exception and texts(at.markdown) == ["not blamed"]


def test_a_training_run_stopped_by_a_reload_is_said_so(copy_of):
    token, folder, fingerprint = copy_of
    state = state_of(folder)
    before = [repr(key) for key in pickle.loads((folder / "runs.pkl").read_bytes())["runs"] if key[1] == "popular"]
    state["training"] = {"models": ["popular", "svd", "ease"], "started": 0.0, "before": before}
    write_state(folder, state)
    at = reload(token)
    shown = warnings_of(at)
    assert "The last training run was stopped before it finished" in shown
    assert "It was fitting popular, svd, ease. Finished before it stopped, and kept: svd" in shown
    assert any("Last training stopped" in c for c in texts(at.sidebar.caption))


def test_a_field_added_since_with_a_default_is_filled_in_not_a_reason_to_drop_the_run():
    from dataclasses import dataclass, field

    @dataclass
    class Saved:
        name: str
        table: list = field(default_factory=list)
        seconds: float = 0.0

    old = Saved("svd")
    for added in ("table", "seconds"):  # pickled before these existed
        del old.__dict__[added]
    assert session_store._fill_defaults(old) == [] and (old.table, old.seconds) == ([], 0.0)
    older = Saved("svd")
    del older.__dict__["name"]
    assert session_store._fill_defaults(older) == ["name"]


def test_no_button_or_download_key_is_saved_as_a_setting():
    """Streamlit refuses a value set for a button or download button (the reload crash of the per-group download)."""
    from recsys_ui import session_store

    for key in ("compare_group_download", "cold_download_csv", "forget_download", "train_use_ranking_models",
                "cold_go_sequence", "tune_run"):
        assert key.startswith(session_store._SETTING_PREFIXES) is False or session_store._BUTTON_KEYS.match(key), key
    for key in ("compare_group_metric", "cold_sequence", "train_split", "explore_reranker"):
        assert not session_store._BUTTON_KEYS.match(key), key
