"""Nothing lost on reload: each browser session is saved server-side under an unguessable token.

The token lives in the page's URL (``?s=...``), so a reload, a bookmark or a
second tab with the same URL finds the session again; a new tab without it
starts a fresh session. The store is bounded: at most ``MAX_SESSIONS``
sessions, each kept ``MAX_AGE_HOURS`` after its last change, oldest removed
first. The token is never used as a path: a session's directory is named by
the SHA-256 of the token, and a token that is not of the expected shape is
replaced.

What is saved: the data set (Parquet + JSON via :mod:`recsys_core.experiment`,
never pickles of anything a person uploaded), the trained runs (models and
results this server fitted itself), and the values of the dashboard's
settings widgets. Saving happens at the end of a page run, only when
something changed.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import streamlit as st

from recsys_core.errors import RecsysError
from recsys_core.experiment import read_dataset, write_dataset

log = logging.getLogger("recsys_ui")

TOKEN_PARAM = "s"
MAX_SESSIONS = 32
MAX_AGE_HOURS = 24
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
#: Widget keys whose values are saved (settings a person chose), by prefix.
_SETTING_PREFIXES = ("param:", "train_", "tune_", "emb_", "compare_", "cold_")
#: Buttons among those keys: Streamlit refuses values set for a button, and a click is not a setting.
_BUTTON_KEYS = re.compile(r"^(tune_run|tune_apply|cold_go_.*)$")


def root() -> Path:
    """Directory of the store (``RECSYS_SESSION_DIR``, else ``~/.cache/recsys-lab/sessions``)."""
    return Path(os.environ.get("RECSYS_SESSION_DIR") or Path.home() / ".cache" / "recsys-lab" / "sessions")


def token() -> str:
    """This session's token: from the URL when it has a valid one, else a new one put into the URL."""
    current = st.session_state.get("_session_token")
    if current is None:
        given = st.query_params.get(TOKEN_PARAM)
        current = given if isinstance(given, str) and _TOKEN_SHAPE.match(given) else secrets.token_urlsafe(24)
        st.session_state["_session_token"] = current
    if st.query_params.get(TOKEN_PARAM) != current:  # page switches drop query parameters: put it back
        st.query_params[TOKEN_PARAM] = current
    return current


def directory(session_token: str) -> Path:
    """A session's directory: named by a hash of the token, never by the token itself."""
    return root() / hashlib.sha256(session_token.encode()).hexdigest()[:40]


def restore() -> bool:
    """Once per browser session: bring back a saved session named by the URL's token. True if restored."""
    if st.session_state.get("_restore_done"):
        return False
    st.session_state["_restore_done"] = True
    folder = directory(token())
    state_file = folder / "state.json"
    if not state_file.is_file() or _age_hours(folder) > MAX_AGE_HOURS:
        return False
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        data = read_dataset(folder / "data")
        runs, results = _read_runs(folder, data.fingerprint)
    except (OSError, ValueError, RecsysError, pickle.UnpicklingError, AttributeError, EOFError) as error:
        log.warning("could not restore session %s: %s", folder.name, error)
        st.session_state["session_restore_failed"] = str(error)
        return False
    st.session_state["dataset"] = data
    st.session_state["dataset_source"] = state.get("dataset_source", "a restored session")
    st.session_state["sample_tried"] = True
    st.session_state["runs"] = runs
    if results is not None:
        st.session_state["results"] = results
    for key, value in state.get("settings", {}).items():
        if key.startswith(_SETTING_PREFIXES) and not _BUTTON_KEYS.match(key):
            st.session_state[key] = value
    st.session_state["_saved_signature"] = _signature()
    st.session_state["session_restored"] = (f"Restored your session: {data.name} with {len(runs)} trained "
                                            f"model{'s' if len(runs) != 1 else ''}.")
    return True


def save() -> None:
    """Write what changed since the last save (data set, runs, settings); prune the store."""
    data = st.session_state.get("dataset")
    if data is None:
        return
    signature = _signature()
    saved = st.session_state.get("_saved_signature")
    if saved == signature:
        return
    folder = directory(token())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        meta = folder / "data" / "dataset.json"
        if not meta.is_file() or json.loads(meta.read_text(encoding="utf-8")).get("fingerprint") != data.fingerprint:
            shutil.rmtree(folder / "data", ignore_errors=True)
            write_dataset(data, folder / "data")
        if saved is None or saved[:3] != signature[:3] or not (folder / "runs.pkl").is_file():
            _write_runs(folder)  # models change only when training ran; settings are cheap to save alone
        state = {"dataset_source": st.session_state.get("dataset_source", ""), "fingerprint": data.fingerprint,
                 "saved": time.time(), "settings": _settings()}
        _atomic_write(folder / "state.json", json.dumps(state).encode("utf-8"))
        st.session_state["_saved_signature"] = signature
    except (OSError, ValueError, TypeError, pickle.PicklingError) as error:
        log.warning("could not save session %s: %s", folder.name, error)
        return
    prune()


def prune(now: float | None = None) -> None:
    """Remove expired sessions, then the oldest beyond ``MAX_SESSIONS``."""
    base = root()
    if not base.is_dir():
        return
    now = time.time() if now is None else now
    folders = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for position, folder in enumerate(folders):
        if position >= MAX_SESSIONS or (now - folder.stat().st_mtime) / 3600 > MAX_AGE_HOURS:
            shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ internals
def _settings() -> dict[str, Any]:
    """JSON-safe values of the settings widgets."""
    out: dict[str, Any] = {}
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(_SETTING_PREFIXES) and not _BUTTON_KEYS.match(key):
            value = st.session_state[key]
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                continue
            out[key] = value
    return out


def _signature() -> tuple:
    data = st.session_state.get("dataset")
    results = st.session_state.get("results")
    return (getattr(data, "fingerprint", None), tuple(sorted(map(repr, st.session_state.get("runs", {})))),
            tuple(getattr(results, "keys", ()) or ()), json.dumps(_settings(), sort_keys=True, default=str))


def _write_runs(folder: Path) -> None:
    # Pickles of objects this server built (fitted models, result tables), read back only by this server
    # from a directory named by a hash: never a file a person uploaded.
    payload = {"runs": st.session_state.get("runs", {}), "results": st.session_state.get("results")}
    _atomic_write(folder / "runs.pkl", pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def _read_runs(folder: Path, fingerprint: str):
    path = folder / "runs.pkl"
    if not path.is_file():
        return {}, None
    payload = pickle.loads(path.read_bytes())  # noqa: S301 -- written by this server, see _write_runs
    runs = {key: run for key, run in payload.get("runs", {}).items() if key and key[0] == fingerprint}
    results = payload.get("results")
    if results is not None and getattr(results, "fingerprint", None) != fingerprint:
        results = None
    return runs, results


def _atomic_write(path: Path, content: bytes) -> None:
    temporary = path.with_suffix(path.suffix + f".{secrets.token_hex(4)}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def _age_hours(folder: Path) -> float:
    return (time.time() - folder.stat().st_mtime) / 3600
