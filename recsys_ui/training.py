"""Training from the dashboard: per-session runs, the latest results, splits made once per setting."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from recsys_core.dataset import Dataset
from recsys_core.errors import RecsysError
from recsys_core.evaluation.runner import ModelSpec, evaluate
from recsys_core.evaluation.splits import Split, make_splits
from recsys_core.models import REGISTRY, Recommender

from . import fmt, session_store
from .ui import _save_session, dataset, empty_state, log, md, require_dataset

@dataclass
class Run:
    """One model evaluated on one split: its tidy rows and the model fitted on the last fold."""

    key: tuple
    label: str
    name: str
    params: dict[str, Any]
    ks: tuple[int, ...]
    table: pd.DataFrame
    model: Recommender
    seconds: float
    #: Per-epoch loss and validation score of models trained per epoch (``runner.HISTORY_COLUMNS``).
    history: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class Results:
    """What the latest Train click produced, for the pages that show results."""

    fingerprint: str
    split_method: str
    split_params: dict[str, Any]
    ks: tuple[int, ...]
    keys: list[tuple] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: list[str] = field(default_factory=list)
    headline: str = ""
    #: Implicit data: the smallest held-out count / summed event weight that counts as relevant (None: every
    #: held-out interaction, the default). Every page that measures this run's lists reads it.
    relevance_threshold: float | None = None

    @property
    def runs(self) -> list[Run]:
        store = _runs()
        return [store[key] for key in self.keys if key in store]

    @property
    def labels(self) -> list[str]:
        return [run.label for run in self.runs]

    @property
    def models(self) -> dict[str, Recommender]:
        return {run.label: run.model for run in self.runs}

    @property
    def table(self) -> pd.DataFrame:
        frames = [run.table for run in self.runs]
        if not frames:
            return pd.DataFrame(columns=["model", "fold", "metric", "k", "bucket", "value"])
        table = pd.concat(frames, ignore_index=True)
        # A reused run may hold more cut-offs than asked for now.
        return table[table["k"].isna() | table["k"].isin(self.ks)].reset_index(drop=True)

    @property
    def history(self) -> pd.DataFrame:
        """Every run's per-epoch training history, one frame (empty when no model trains per epoch)."""
        frames = [run.history for run in self.runs if getattr(run, "history", None) is not None and len(run.history)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @property
    def content_key(self) -> tuple:
        """Identifies the table's content: a cached run never changes, and its fit time tells two fits apart."""
        return tuple((run.key, run.seconds) for run in self.runs) + (self.ks,)

    @property
    def n_folds(self) -> int:
        table = self.table
        return int(table["fold"].nunique()) if len(table) else 0

    def split_description(self) -> str:
        text = split_text(self.split_method, self.split_params)
        if self.relevance_threshold is not None:
            text += f"; relevant: held-out interactions of at least {self.relevance_threshold:g}"
        return text


def split_text(method: str, p: dict[str, Any]) -> str:
    """A split setting in words (the Train page, the results header, the tuner's note)."""
    if method == "kfold":
        return f"{p.get('n_folds')}-fold cross-validation (seed {p.get('seed')})"
    if method == "random":
        return f"random hold-out of {p.get('test_size', 0.2):.0%} of the ratings (seed {p.get('seed')})"
    if method == "temporal":
        return f"temporal split: each user's latest {p.get('test_fraction', 0.2):.0%} of ratings tested"
    if method == "global-time":
        if p.get("cutoff") is not None:
            return f"global time split: everything after {p['cutoff']:g} tested"
        return f"global time split: the latest {p.get('test_fraction', 0.2):.0%} of all interactions tested"
    n = p.get('n', 1)
    return f"leave-last-{n}-out: each user's last {n} rating{'s' if n != 1 else ''} tested"


def _runs() -> dict[tuple, Run]:
    return st.session_state.setdefault("runs", {})


def _freeze(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def run_key(fingerprint: str, name: str, params: dict[str, Any], method: str, split_params: dict[str, Any]) -> tuple:
    return (fingerprint, name, _freeze(params), method, _freeze(split_params))


def splits_for(data: Dataset, method: str, split_params: dict[str, Any]) -> list[Split]:
    """Train/test splits, made once per session for a data set and split setting."""
    store: dict[tuple, list[Split]] = st.session_state.setdefault("splits", {})
    key = (data.fingerprint, method, _freeze(split_params))
    if key not in store:
        if len(store) >= 4:  # splits hold copies of the data; keep a few settings only
            store.pop(next(iter(store)))
        store[key] = make_splits(data, method, **split_params)
    return store[key]


def relevance_problem(splits: list[Split], threshold: float) -> str | None:
    """A sentence when a minimum count leaves some fold's test part with nothing relevant (None when it does not)."""
    from recsys_core.evaluation.metrics import relevant_items

    for fold in splits:
        if relevant_items(fold.test, threshold=threshold).nnz == 0:
            top = float(fold.test.interactions["rating"].max()) if fold.test.n_ratings else 0.0
            return (f"No held-out interaction reaches {threshold:g} (the largest in the test part is {top:g}), so "
                    "every ranking metric would be 0. Choose a smaller minimum.")
    return None


def latest() -> Results | None:
    """The latest training on the active data set, even if every model failed."""
    current: Results | None = st.session_state.get("results")
    data = dataset()
    if current is None or data is None or current.fingerprint != data.fingerprint:
        return None
    return current


def results() -> Results | None:
    """The latest results with at least one fitted model, if they belong to the active data set."""
    current = latest()
    return current if current is not None and current.runs else None


def require_results() -> Results:
    require_dataset()
    current = results()
    if current is None:
        if latest() is not None:
            message = "Every model failed in the last training; the Train page says why."
        elif st.session_state.get("results") is not None:
            message = "The models trained earlier belong to another data set. Train them on the active data set."
        else:
            message = "No model is trained yet."
        empty_state(message, "train", "Go to Train", ":material/model_training:")
    return current


def last_split(current: Results) -> Split:
    """The split behind the fitted models (their last fold)."""
    data = dataset()
    return splits_for(data, current.split_method, current.split_params)[-1]


def train(data: Dataset, chosen: dict[str, dict[str, Any]], method: str, split_params: dict[str, Any],
          ks: tuple[int, ...], relevance_threshold: float | None = None) -> Results | None:
    """Evaluate the chosen models, reusing every run whose settings did not change.

    ``relevance_threshold`` (implicit data): the smallest held-out count that counts as relevant, as the
    runner takes it; a run measured under another rule is not reused.

    Draws an ``st.status`` with a progress bar per model and fold; a failing
    model is reported and the others keep their results.
    """
    store = _runs()
    started = time.perf_counter()
    outcome = Results(data.fingerprint, method, dict(split_params), tuple(sorted(ks)),
                      relevance_threshold=relevance_threshold)
    # The rule is part of what was measured: in the key beside the split (restores read key[0] only).
    measured = dict(split_params) if relevance_threshold is None else {**split_params,
                                                                      "relevant from": relevance_threshold}
    n = len(chosen)
    session_store.training_started(list(chosen))  # cleared below; left set, it tells the next page run "stopped"

    def say(line: str) -> None:
        st.write(line)
        outcome.log.append(line)

    with st.status(f"Training {n} model{'s' if n != 1 else ''}…", expanded=True) as status:
        st.caption(":material/warning: Stay on this page until training ends: opening another page, reloading or "
                   "closing the tab stops it (models finished by then are kept).")
        bar = st.progress(0.0, text="Splitting the ratings into train and test…")
        try:
            splits = splits_for(data, method, split_params)
        except (RecsysError, ValueError) as error:
            session_store.training_finished()
            status.update(label="Could not split the data", state="error", expanded=True)
            st.error(md(str(error)), icon=":material/error:")
            return None
        folds = len(splits)
        for i, (name, params) in enumerate(chosen.items()):
            key = run_key(data.fingerprint, name, params, method, measured)
            cached = store.get(key)
            if cached is not None and set(ks) <= set(cached.ks):
                outcome.keys.append(key)
                outcome.reused.append(name)
                say(f":material/replay: **{name}**: settings unchanged, reused the earlier fit.")
                bar.progress((i + 1) / n, text=f"{name}: reused")
                continue

            def progress(fraction: float, message: str, i: int = i, name: str = name) -> None:
                text = f"Model {i + 1} of {n} · {message}" if message != "done" else f"{name}: measuring done"
                bar.progress(min(1.0, (i + fraction) / n), text=text)

            if REGISTRY[name].fit_note:
                st.write(f":material/hourglass_top: **{name}** {REGISTRY[name].fit_note}")
            spec = ModelSpec(name, dict(params), name)
            curve = _LiveCurve(name) if REGISTRY[name].trains_per_epoch else None
            t0 = time.perf_counter()
            try:
                result = evaluate(data, [spec], splits=splits, ks=tuple(sorted(ks)), progress=progress,
                                  relevance_threshold=relevance_threshold,
                                  fit_events=curve.add if curve is not None else None)
            except Exception as error:  # noqa: BLE001 -- one model's crash must not lose the others
                log.exception("training %s failed", name)
                result = None
                outcome.errors[name] = f"{type(error).__name__}: {error}"
            seconds = time.perf_counter() - t0
            if result is not None and result.errors:
                outcome.errors[name] = result.errors.get(name) or next(iter(result.errors.values()))
            elif result is not None and name in result.models:
                store[key] = Run(key, name, name, dict(params), tuple(sorted(ks)), result.table, result.models[name],
                                 seconds, result.history)
                log.info("fitted %s: %d folds in %.2f s", name, folds, seconds)
                outcome.keys.append(key)
                say(f":material/check_circle: **{name}**: {folds} fold{'s' if folds != 1 else ''} "
                         f"in {seconds:.1f} s.")
                continue
            elif result is not None:
                outcome.errors.setdefault(name, "the model produced no results.")
            say(f":material/error: **{name}** failed: {md(outcome.errors[name])}")
        outcome.seconds = time.perf_counter() - started
        bar.progress(1.0, text="Done")
        ok = len(outcome.keys)
        outcome.headline = f"Trained {ok} of {n} models in {outcome.seconds:.0f} s"
        if outcome.reused:
            outcome.headline += f" ({len(outcome.reused)} reused unchanged)"
        status.update(label=outcome.headline, state="error" if outcome.errors and not ok else "complete", expanded=False)
    st.session_state["results"] = outcome
    session_store.training_finished()
    _evict(store, keep=set(outcome.keys))
    _save_session()
    return outcome


class _LiveCurve:
    """The training loss and validation score of the model being fitted, redrawn after each epoch."""

    def __init__(self, name: str):
        self.name = name
        self.rows: list[dict[str, float]] = []
        self.slot = st.empty()

    def add(self, label: str, fold: int, event) -> None:
        if event.epoch is None or event.loss is None:
            return
        self.rows.append({"fold": fold + 1, "epoch": event.epoch, "training loss": event.loss,
                          "validation": event.validation})
        frame = pd.DataFrame(self.rows)
        last = frame[frame["fold"] == frame["fold"].iloc[-1]]
        with self.slot.container():
            st.caption(f"**{md(self.name)}**, fold {int(last['fold'].iloc[-1])}: {md(event.message)}")
            columns = st.columns(2)
            columns[0].line_chart(last, x="epoch", y="training loss", height=160)
            if last["validation"].notna().any():
                columns[1].line_chart(last, x="epoch", y="validation", height=160)


def render_history(current: Results) -> None:
    """Loss and validation curves of the models trained per epoch, with the epoch each one kept."""
    history = current.history
    if not len(history):
        return
    st.subheader("Training curves")
    st.caption("Models trained in epochs: the mean training loss per epoch and the validation score (carved "
               "from the training part, one interaction per user; never the test part). Training stops when the "
               "validation score has not improved for `patience` epochs and keeps the best epoch, marked ◆.")
    last_fold = history[history["fold"] == history["fold"].max()]
    columns = st.columns(2)
    loss = last_fold.pivot_table(index="epoch", columns="model", values="loss")
    columns[0].markdown("**Training loss** (each model its own loss: BCE, BPR, softmax, squared error)")
    columns[0].line_chart(loss, height=240)
    validation = last_fold.dropna(subset=["validation"])
    if len(validation):
        metrics = ", ".join(sorted(set(validation["validation_metric"].astype(str))))
        columns[1].markdown(f"**Validation** ({md(metrics)})")
        columns[1].line_chart(validation.pivot_table(index="epoch", columns="model", values="validation"), height=240)
    kept = last_fold[last_fold["best"].astype(bool)]
    if len(kept):
        st.caption(" · ".join(f"◆ **{md(row.model)}** kept epoch {int(row.epoch)} of "
                              f"{int(last_fold[last_fold['model'] == row.model]['epoch'].max())}"
                              for row in kept.itertuples()))


#: Fitted models kept per session (a KNN on a few thousand items holds an n x n similarity matrix).
MAX_RUNS = 24


def _evict(store: dict[tuple, Run], keep: set[tuple]) -> None:
    for key in [k for k in store if k not in keep][: max(0, len(store) - MAX_RUNS)]:
        del store[key]


def sidebar_status() -> None:
    """Where the session stands, on every page."""
    data = dataset()
    with st.sidebar:
        st.divider()
        if data is None:
            st.caption("No data set loaded.")
        else:
            summary = data.summary()
            st.caption(f"**Data:** {md(data.name)} · {fmt.plural(summary['users'], 'user')} · "
                       f"{fmt.plural(summary['items'], 'item')} · {fmt.plural(summary['ratings'], 'rating')}")
        current = results()
        if current is not None:
            st.caption(f"**Trained:** {', '.join(md(label) for label in current.labels)}")
        elif data is not None:
            st.caption("**Trained:** nothing yet")
