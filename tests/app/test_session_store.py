"""Nothing lost on reload: a session comes back from its URL token; other sessions never see it."""
from __future__ import annotations

import os
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from app_helpers import APP, TIMEOUT, new_app, train, trained_models, upload
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
