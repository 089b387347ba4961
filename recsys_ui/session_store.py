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
settings widgets, plus the latest cold-start answer. Saving happens at the
end of a page run, only when something changed.

Restoring is piecewise: a stored session from an older version of the
dashboard, or one whose files were only partly written, brings back what can
still be read (settings, data set, each trained model on its own) and the
page says, in words, what could not be restored; a saved setting that no
longer fits its widget is reset rather than stopping the page.
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
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from recsys_core.errors import RecsysError
from recsys_core.experiment import read_dataset, write_dataset

from .fmt import text as md

log = logging.getLogger("recsys_ui")

TOKEN_PARAM = "s"
MAX_SESSIONS = 32
MAX_AGE_HOURS = 24
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{24,64}$")
#: Widget keys whose values are saved (settings a person chose), by prefix.
_SETTING_PREFIXES = ("param:", "train_", "tune_", "emb_", "compare_", "cold_", "explore_")
#: Keys among those that are not settings: Streamlit refuses a value set for a button, a download button or a
#: chart's selection (the Embeddings map: restoring ``emb_chart:...`` crashed the page on reload, issue 21), and a
#: click or a selection is not a setting. Checked when saving and again when restoring (older sessions hold them).
_BUTTON_KEYS = re.compile(r"^(tune_run|tune_apply|cold_go_.*|.*_download(_.*)?|train_use_ranking_models|emb_chart:.*"
                          r"|emb_last_pick)$")
#: Session values that are not widget settings but are kept too (pickled with the runs: built by this server).
_KEPT_ANSWERS = ("cold_answer",)
#: Version of what this module writes; older sessions are read as far as they can be.
STATE_VERSION = 2
#: The notes shown at the top of the page after a partial restore (key not saved: starts with "_").
NOTES = "_restore_notes"


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
    """Once per browser session: bring back a saved session named by the URL's token. True if anything came back.

    Each part is read on its own (settings, data set, each trained run, the latest cold-start answer): what
    cannot be read is named in :data:`NOTES` (shown by :func:`show_notes`) and the rest is kept.
    """
    # Every run: a page switch drops the URL's query parameters, and a reload of an address without the token
    # would start a new session (seen after a first reload: Compare's reload lost the trained models).
    folder = directory(token())
    if st.session_state.get("_restore_done"):
        return False
    st.session_state["_restore_done"] = True
    if not folder.is_dir() or _age_hours(folder) > MAX_AGE_HOURS:
        return False
    state_file = folder / "state.json"
    if not state_file.is_file() and not (folder / "data").is_dir():
        return False  # nothing was ever saved here
    problems: list[str] = []
    state: dict[str, Any] = {}
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        if not isinstance(state, dict):
            raise ValueError(f"it holds a JSON {type(state).__name__}, not the expected object")
    except FileNotFoundError:
        problems.append("your settings (their file was never written)")
    except (OSError, ValueError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        log.warning("session %s: settings unreadable: %s", folder.name, error)
        problems.append(f"your settings (the file is damaged: {error})")
        state = {}

    data = None
    try:
        data = read_dataset(folder / "data")
    except (OSError, ValueError, RecsysError) as error:
        log.warning("session %s: data set unreadable: %s", folder.name, error)
        problems.append("the data set (its saved files are incomplete or from another version), and so the "
                        "models trained on it; the bundled sample is loaded instead")
    runs: dict = {}
    if data is not None:
        runs, results, extras, lost = _read_runs(folder, data.fingerprint)
        problems += lost
        st.session_state["dataset"] = data
        st.session_state["dataset_source"] = str(state.get("dataset_source") or "a restored session")
        st.session_state["sample_tried"] = True
        st.session_state["runs"] = runs
        if results is not None:
            st.session_state["results"] = results
        st.session_state.update(extras)

    settings = state.get("settings", {})
    restored = {}
    for key, value in (settings.items() if isinstance(settings, dict) else ()):
        if isinstance(key, str) and key.startswith(_SETTING_PREFIXES) and not _BUTTON_KEYS.match(key):
            st.session_state[key] = value
            restored[key] = value
    st.session_state["_restored_settings"] = restored
    stopped = state.get("training")
    if isinstance(stopped, dict) and data is not None:
        st.session_state[RUNNING] = stopped  # check_stopped_training() turns it into the note, on this page run
    if problems:
        st.session_state[NOTES] = problems
    st.session_state["_saved_signature"] = _signature() if data is not None else None
    if data is None:
        return False  # settings (if any) are back; the notes say what is not
    st.session_state["session_restored"] = (f"Restored your session: {data.name} with {len(runs)} trained "
                                            f"model{'s' if len(runs) != 1 else ''}.")
    return True


def show_notes() -> None:
    """What could not be restored, at the top of the page until the person dismisses it."""
    notes = st.session_state.get(NOTES)
    if not notes:
        return
    with st.container(border=True):
        st.warning("Part of your saved session could not be restored: " + "; ".join(md(n) for n in notes)
                   + ". Everything else is back.", icon=":material/restore_page:")
        if st.button("Dismiss", key="_restore_dismiss", icon=":material/close:"):
            st.session_state.pop(NOTES, None)
            st.rerun()


def forget_unfitting_setting(error: BaseException, widget_error: bool = True) -> bool:
    """After a widget refused a restored value (older version: out of range, wrong type), reset that setting.

    The widget's ``key`` is read from the failing call's frames; when none is found and ``widget_error``
    (Streamlit refused a value), every restored setting is reset. True when something was reset (rerun the
    page); False when no restored setting is to blame.
    """
    restored: dict[str, Any] = st.session_state.get("_restored_settings") or {}
    if not restored:
        return False
    blamed = set()
    trace = error.__traceback__
    while trace is not None:
        key = trace.tb_frame.f_locals.get("key")
        if isinstance(key, str) and key in restored:
            blamed.add(key)
        trace = trace.tb_next
    if not blamed and not widget_error:
        return False
    blamed = blamed or set(restored)
    for key in blamed:
        st.session_state.pop(key, None)
        restored.pop(key, None)
    log.warning("reset restored settings %s: %s", sorted(blamed), error)
    notes = st.session_state.setdefault(NOTES, [])
    notes.append(f"{'a saved setting' if len(blamed) == 1 else 'saved settings'} that no longer "
                 f"fit{'s' if len(blamed) == 1 else ''} this version ({', '.join(sorted(blamed))}: {error}), "
                 "reset to the default")
    return True


# ------------------------------------------------------------------ a training run left unfinished
#: Set while a Train click runs (in session state, saved with the settings): a run that ends normally clears
#: it, so finding it at the start of a page run means the run was stopped (the person left the Train page,
#: reloaded, or closed the tab). Streamlit stops a script run when its session moves to another page.
RUNNING = "_training_running"
#: The sentence saying that a run was stopped, kept until the next Train click.
STOPPED = "_training_stopped"


def training_started(models: list[str]) -> None:
    """Call at the start of a Train click (models in order)."""
    st.session_state.pop(STOPPED, None)
    st.session_state[RUNNING] = {"models": [str(m) for m in models], "started": time.time(),
                                 "before": sorted(repr(key) for key in st.session_state.get("runs", {}))}
    save(force=True)  # a reload mid-run finds the mark too


def training_finished() -> None:
    """Call when the Train click's run ends normally (failed models included)."""
    st.session_state.pop(RUNNING, None)


def check_stopped_training() -> bool:
    """At the start of every page run: turn a mark left by a stopped run into a plain note. True if it just did."""
    running = st.session_state.pop(RUNNING, None)
    if isinstance(running, dict):
        st.session_state[STOPPED] = _stopped_note(running, st.session_state.get("runs", {}))
        return True
    return False


def stopped_training_note() -> str | None:
    """The note of a stopped run (until the next Train click), for the sidebar and the pages."""
    return st.session_state.get(STOPPED)


def sidebar_note() -> None:
    """A stopped training run, in the sidebar of every page until the next Train click."""
    if st.session_state.get(STOPPED):
        st.sidebar.caption(":material/block: **Last training stopped** before it finished; the Train page says more.")


def _stopped_note(running: dict, runs: dict) -> str:
    models = [str(m) for m in running.get("models", [])] if isinstance(running.get("models"), list) else []
    before = set(running.get("before") or ()) if isinstance(running.get("before"), list) else set()
    fitted_since = {str(key[1]) for key in runs if isinstance(key, tuple) and len(key) > 1 and repr(key) not in before}
    done = [m for m in models if m in fitted_since]
    note = ("The last training run was stopped before it finished: Streamlit stops a run when you open another "
            "page, reload or close the tab, and its results were not shown.")
    if models:
        note += f" It was fitting {', '.join(md(m) for m in models)}."
    if done:
        note += (f" Finished before it stopped, and kept: {', '.join(md(m) for m in done)} (a new Train click "
                 "reuses them).")
    return note + " Press **Train and evaluate** again on the Train page and stay there until it ends."


def save(force: bool = False) -> None:
    """Write what changed since the last save (data set, runs, settings); prune the store."""
    data = st.session_state.get("dataset")
    if data is None:
        return
    signature = _signature()
    saved = st.session_state.get("_saved_signature")
    if saved == signature and not force:
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
        if saved is None or saved[4] != signature[4] or not (folder / "answers.pkl").is_file():
            _write_answers(folder)  # the latest cold-start answer: small, and its own file (no models rewritten)
        state = {"version": STATE_VERSION, "dataset_source": st.session_state.get("dataset_source", ""),
                 "fingerprint": data.fingerprint, "saved": time.time(), "settings": _settings()}
        if st.session_state.get(RUNNING) is not None:
            state["training"] = st.session_state[RUNNING]
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
            if isinstance(value, dict) and "selection" in value:  # a chart's or table's selection, not a setting
                continue
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
            tuple(getattr(results, "keys", ()) or ()), json.dumps(_settings(), sort_keys=True, default=str),
            tuple(id(st.session_state.get(key)) for key in _KEPT_ANSWERS),
            json.dumps(st.session_state.get(RUNNING), default=str))


def _write_runs(folder: Path) -> None:
    # Pickles of objects this server built (fitted models, result tables, cold-start answers), read back only by
    # this server from a directory named by a hash: never a file a person uploaded.
    payload = {"version": STATE_VERSION, "runs": st.session_state.get("runs", {}),
               "results": st.session_state.get("results")}
    _atomic_write(folder / "runs.pkl", pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def _write_answers(folder: Path) -> None:
    answers = {key: st.session_state[key] for key in _KEPT_ANSWERS if key in st.session_state}
    _atomic_write(folder / "answers.pkl", pickle.dumps(answers, protocol=pickle.HIGHEST_PROTOCOL))


def _read_answers(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """The kept answers (cold start); a file that cannot be read is named, and the rest of the session kept."""
    path = folder / "answers.pkl"
    if not path.is_file():
        return {}, []
    try:
        answers = pickle.loads(path.read_bytes())  # noqa: S301 -- written by this server, see _write_answers
    except Exception as error:  # noqa: BLE001 -- any unpickling failure is named, not raised
        log.warning("session %s: answers unreadable: %s: %s", folder.name, type(error).__name__, error)
        return {}, ["the latest cold-start answer (ask again on the Cold start page)"]
    return ({key: value for key, value in answers.items() if key in _KEPT_ANSWERS} if isinstance(answers, dict)
            else {}), []


def _read_runs(folder: Path, fingerprint: str) -> tuple[dict, Any, dict[str, Any], list[str]]:
    """``(runs, results, answers, problems)``: every run that still works; the others named in ``problems``."""
    path = folder / "runs.pkl"
    if not path.is_file():
        return {}, None, {}, []
    try:
        payload = pickle.loads(path.read_bytes())  # noqa: S301 -- written by this server, see _write_runs
        if not isinstance(payload, dict):
            raise TypeError(f"a {type(payload).__name__} instead of the expected dict")
    except Exception as error:  # noqa: BLE001 -- any unpickling failure (older classes, a cut file) is named, not raised
        log.warning("session %s: trained models unreadable: %s: %s", folder.name, type(error).__name__, error)
        return {}, None, {}, [f"the trained models (saved by another version of recsys-lab, or not completely "
                              f"written: {type(error).__name__}); train them again on the Train page"]
    runs, broken = {}, []
    stored = payload.get("runs")
    for key, run in (stored.items() if isinstance(stored, dict) else ()):
        if not (isinstance(key, tuple) and key and key[0] == fingerprint):
            continue
        problem = _run_problem(run)
        if problem is None:
            runs[key] = run
        else:
            log.warning("session %s: dropped run %r: %s", folder.name, key[1:2], problem)
            broken.append(str(key[1]) if len(key) > 1 else "a model")
    problems = []
    if broken:
        problems.append(f"the trained model{'s' if len(broken) != 1 else ''} {', '.join(broken)} (saved by another "
                        "version of recsys-lab); train "
                        f"{'them' if len(broken) != 1 else 'it'} again on the Train page")
    results = payload.get("results")
    if results is not None and (getattr(results, "fingerprint", None) != fingerprint
                                or _results_problem(results) is not None):
        if getattr(results, "fingerprint", None) == fingerprint:
            problems.append("the latest results (saved by another version of recsys-lab)")
        results = None
    answers, lost = _read_answers(folder)
    return runs, results, answers, problems + lost


def _run_problem(run: Any) -> str | None:
    """Why a stored run cannot be used now (None: it works): its fields and a one-user recommendation."""
    from .training import Run

    if not isinstance(run, Run):
        return f"a {type(run).__name__}, not a trained run"
    missing = _fill_defaults(run)
    if missing:
        return f"saved without {', '.join(missing)}"
    if not isinstance(run.table, pd.DataFrame):
        return "its results are not a table"
    try:
        run.model.check_fitted()
        run.model.capabilities()
        run.model.recommend_indices(np.array([0]), n=1)
    except Exception as error:  # noqa: BLE001 -- a model pickled by older code may lack what the code now reads
        return f"{type(error).__name__}: {error}"
    return None


def _results_problem(results: Any) -> str | None:
    from .training import Results

    if not isinstance(results, Results):
        return f"a {type(results).__name__}, not results"
    missing = _fill_defaults(results)
    return f"saved without {', '.join(missing)}" if missing else None


def _fill_defaults(saved: Any) -> list[str]:
    """Give a dataclass pickled before a field existed that field's default; the fields without one, missing."""
    missing = []
    for spec in fields(type(saved)):
        if spec.name in vars(saved):
            continue
        if spec.default is not MISSING:
            setattr(saved, spec.name, spec.default)
        elif spec.default_factory is not MISSING:
            setattr(saved, spec.name, spec.default_factory())
        else:
            missing.append(spec.name)
    return missing


def _atomic_write(path: Path, content: bytes) -> None:
    temporary = path.with_suffix(path.suffix + f".{secrets.token_hex(4)}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def _age_hours(folder: Path) -> float:
    return (time.time() - folder.stat().st_mtime) / 3600
