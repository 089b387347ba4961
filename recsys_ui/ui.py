"""Streamlit helpers shared by every page: state, pickers, training, empty states, formatting.

Per-user state lives in ``st.session_state`` only (never in module globals),
so two browser tabs never see each other's uploads or results:

``dataset`` / ``dataset_source``
    The active :class:`~recsys_core.dataset.Dataset` and where it came from.
``runs``
    Per-session cache of fitted models: run key -> :class:`Run`. The key is
    (data set fingerprint, model name, parameters, split method, split
    parameters); changing one model's parameter refits only that model.
``splits``
    Train/test splits by (fingerprint, split method, split parameters).
``results``
    The :class:`Results` of the latest training: which runs the Compare,
    Embeddings, Cold start and Explore pages show.

Only the bundled sample (an immutable ``Dataset``) and 2-D projections (pure
functions of their inputs) are cached across sessions.
"""
from __future__ import annotations

import contextlib
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import pandas.io.formats.style  # noqa: F401 -- loads jinja2 templates at start, not in the first Compare run (~0.4 s)
import streamlit as st

from recsys_core.dataset import Dataset
from recsys_core.errors import RecsysError
from recsys_core.evaluation.runner import ModelSpec, evaluate
from recsys_core.evaluation.splits import SPLIT_LABELS, Split, make_splits
from recsys_core.models import REGISTRY, Recommender

from . import fmt

log = logging.getLogger("recsys_ui")

PAGES = {
    "data": "pages/data.py",
    "train": "pages/train.py",
    "compare": "pages/compare.py",
    "embeddings": "pages/embeddings.py",
    "cold_start": "pages/cold_start.py",
    "explore": "pages/explore.py",
}

# ------------------------------------------------------------------ models
#: Models ticked by default on the Train page (content-sbert is opt-in: it loads a language model).
DEFAULT_MODELS = ("popular", "baseline", "svd", "knn-basic", "knn-means", "coclustering", "content-tfidf",
                  "ease", "als", "item-knn-cosine")
#: Defaults that differ from the engine's, with the reason shown in the UI.
UI_DEFAULTS: dict[str, dict[str, Any]] = {
    # Item-based next to the user-based knn-means, so a class sees both neighbourhoods.
    "knn-basic": {"user_based": False},
}
# SPLIT_LABELS comes from recsys_core.evaluation.splits (its one home), imported above for the pages.

def model_title(name: str) -> str:
    cls = REGISTRY[name]
    return f"{name} · {cls.family}" if cls.family else name


def default_params(name: str) -> dict[str, Any]:
    """Engine defaults with the dashboard's overrides, for the parameters the model declares."""
    cls = REGISTRY[name]
    defaults = {**cls().get_params(), **UI_DEFAULTS.get(name, {})}
    return {param.name: defaults[param.name] for param in cls.params if param.name in defaults}


def param_widgets(name: str, container=None, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """One widget per declared hyper-parameter of a model (from its ``params``); returns the values.

    ``values`` (e.g. the tuner's best parameters) replace the defaults the widgets start from.
    """
    target = container or st
    cls = REGISTRY[name]
    chosen: dict[str, Any] = {}
    defaults = default_params(name)
    if not defaults:
        target.caption("No hyper-parameters: nothing to tune.")
        return chosen
    for param in cls.params:
        if param.name not in defaults:
            continue
        default = defaults[param.name]
        key = f"param:{name}:{param.name}"
        if values and param.name in values:
            st.session_state[key] = param.coerce(values[param.name]) if values[param.name] is not None else None
        helptext = param.help
        if param.name in UI_DEFAULTS.get(name, {}):
            helptext += f" (The dashboard starts at {param.label(default)} here; the engine default differs.)"
        chosen[param.name] = _widget(target, param, default, key, helptext)
    return chosen


def _widget(target, param, default: Any, key: str, helptext: str) -> Any:
    """The input for one ``Param``: toggle, select box or number box with its declared bounds.

    A value already in the session (the person's edit, or the tuner's best value) wins over the
    default, which is then not passed again (Streamlit warns when both are given).
    """
    common = dict(key=key, help=helptext, persist_state="session")
    preset = key in st.session_state
    if param.kind == "bool":
        return target.toggle(param.name, **({} if preset else {"value": bool(default)}), **common)
    if param.kind == "choice":
        options = list(param.choices) + ([default] if default not in param.choices else [])
        return target.selectbox(param.name, options, format_func=param.label,
                                **({} if preset else {"index": options.index(default)}), **common)
    if param.kind == "int":
        return int(target.number_input(param.name, min_value=int(param.low), max_value=int(param.high),
                                       step=int(param.step or 1), **({} if preset else {"value": int(default)}),
                                       **common))
    start = None if default is None else float(default)
    value = target.number_input(param.name, min_value=float(param.low), max_value=float(param.high),
                                step=float(param.step or 0.1), format=param.fmt, placeholder="automatic",
                                **({} if preset else {"value": start}), **common)
    return None if value is None else float(value)


#: Where a formula may go on a new line: between its parts (``a,\\quad b``), before an implication.
_FORMULA_BREAK = re.compile(r",?\s*\\q?quad\s*|\\\ ?(?=\\Rightarrow)")


def formula_lines(formula: str) -> list[str]:
    """A model's formula cut into its parts at top level (outside any bracket), one part per line.

    KaTeX never breaks display math, so a long formula in the half-width "How it works" column was
    cut off (the k-NN baseline's). Its parts are already separated by ``\\quad`` (or an implication,
    ``\\Rightarrow``) in the model's formula; stacked, each fits.
    """
    lines: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(formula):
        char = formula[i]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0:
            found = _FORMULA_BREAK.match(formula, i)
            if found and found.group():
                separator = found.group()
                lines.append(formula[start:i].strip() + ("," if separator.startswith(",") else ""))
                start = i = found.end()  # an implication opens the next line
                continue
        i += 1
    lines.append(formula[start:].strip())
    return [part for line in lines if line for part in _halve(line)]


#: Symbols (roughly 11 px each in the "How it works" column) a line may hold before it is halved: about
#: 400 px, what the half-width column of the Train page offers at 1400 px.
_FORMULA_SYMBOLS = 32


def _symbols(line: str) -> int:
    """Rough rendered width of a LaTeX line in symbols (a fraction counts its numerator and denominator)."""
    text = re.sub(r"\\[a-zA-Z]+", "x", line.replace("\\frac{", "{"))
    return len(re.sub(r"[{}_^ ,]|\\.", "", text))


def _halve(line: str) -> list[str]:
    """A line too wide for the column, cut before the top-level + or - nearest its middle (if it has one)."""
    if _symbols(line) <= _FORMULA_SYMBOLS:
        return [line]
    depth, cuts = 0, []
    for i, char in enumerate(line):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and char in "+-" and line[i - 1:i] == " " and line[i + 1:i + 2] == " ":
            cuts.append(i)
    if not cuts:
        return [line]
    cut = min(cuts, key=lambda i: abs(i - len(line) / 2))
    return [line[:cut].strip(), line[cut:].strip()]


def stacked_formula(formula: str) -> str:
    """The formula as one LaTeX block with its parts on separate centred lines."""
    lines = formula_lines(formula)
    if len(lines) == 1:
        return formula
    return "\\begin{gathered}" + " \\\\ ".join(lines) + "\\end{gathered}"


def memory_note(name: str, params: dict[str, Any], data: Dataset) -> None:
    """The model's memory estimate for this data set, beside what is free; a warning when it would be refused."""
    from recsys_core.models import memory

    try:
        need = REGISTRY[name](**params).memory_estimate(data.n_users, data.n_items, data.n_ratings)
    except (TypeError, ValueError):  # parameters being edited: no estimate this run
        return
    free = memory.available_memory_bytes()
    text = f"Memory estimate on this data: about {memory.gib(need)} ({memory.gib(free)} free now)."
    if memory.fits(need, free):
        st.caption(f":material/memory: {text}")
    else:
        st.warning(f"{text} Training would be refused before it starts. {REGISTRY[name].memory_advice}",
                   icon=":material/memory:")


def how_it_works(name: str, container=None) -> None:
    """The model's formula (LaTeX) and its explanation in plain words."""
    target = container or st
    cls = REGISTRY[name]
    if cls.formula:
        target.latex(stacked_formula(cls.formula))
    if cls.explanation:
        target.markdown(cls.explanation)
    if not cls.predicts_ratings:
        target.caption("Ranks items only: no RMSE/MAE for this model.")


# ------------------------------------------------------------------ formatting
# The one home of these rules is recsys_ui/fmt.py; the names here are what the pages have always called.
def md(text: object) -> str:
    """User text (names, titles, ids, messages) made literal for Markdown-reading calls: see :func:`fmt.text`.

    Streamlit renders Markdown (and ``$...$`` as LaTeX, ``:red[...]``, ``:material/...:``) in
    st.markdown, st.error, headings and widget labels; user data must appear exactly as written.
    """
    return fmt.text(text)


def number(value: float) -> str:
    return fmt.count(value)


def percent(value: float) -> str:
    return fmt.percent(value)


def page_link(page: str, label: str, icon: str | None = None) -> None:
    st.page_link(PAGES[page], label=label, icon=icon)


def empty_state(message: str, page: str, label: str, icon: str = ":material/arrow_forward:") -> None:
    """A friendly stop: what is missing and a link to where to get it."""
    st.info(message, icon=":material/info:")
    page_link(page, label, icon)
    st.stop()


@contextlib.contextmanager
def guard(what: str) -> Iterator[None]:
    """Show an unexpected failure as a readable error (the rest of the page keeps working).

    Expected problems (bad files, models that cannot serve a query) are
    :class:`RecsysError` and shown as they are; anything else is logged with
    its traceback on the server and summarised in the page.
    """
    try:
        yield
    except RecsysError as error:
        st.error(md(str(error)), icon=":material/error:")
    except Exception as error:  # noqa: BLE001 -- shown to the person, logged with traceback
        log.exception("%s failed", what)
        st.error(f"{md(what)} failed: {md(type(error).__name__)}: {md(error)}. The server log has the details; "
                 "the rest of the page still works.", icon=":material/error:")


# ------------------------------------------------------------------ start-up
@st.cache_resource(show_spinner=False)
def warm_up_kernels() -> bool:
    """Once per server process: compile the k-NN kernels in the background (numba, ~5 s on a fresh machine)."""
    import threading

    from recsys_core.models import warm_up_kernels as warm_up

    threading.Thread(target=warm_up, name="numba-warm-up", daemon=True).start()
    return True


# ------------------------------------------------------------------ cached views
def _views() -> dict[str, Callable]:
    from recsys_core.evaluation.runner import summarise

    from . import charts, reading

    return {
        "summarise": summarise, "reading": reading.reading, "metric_bars": charts.metric_bars,
        "metric_vs_k": charts.metric_vs_k, "bucket_bars": charts.bucket_bars, "time_bars": charts.time_bars,
        "popularity_bars": charts.popularity_bars,
    }


# cache_resource, not cache_data: unpickling a plotly figure re-validates it (~25 ms each), and
# the views are never mutated after they are built.
@st.cache_resource(show_spinner=False, max_entries=256)
def _results_view(name: str, key: tuple, _table: pd.DataFrame, args: tuple, kwargs: tuple) -> Any:
    return _views()[name](_table, *args, **dict(kwargs))


def results_view(name: str, results: "Results", table: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
    """A figure, table or reading computed from ``results.table``, cached on its content key.

    Keyed on :attr:`Results.content_key` rather than on the table (hashing
    the table costs ~40 ms a call): two sessions share an entry only for the
    same runs with the same fit times. A page switch then redraws without recomputing.
    """
    return _results_view(name, results.content_key, table, tuple(args), tuple(sorted(kwargs.items())))


@st.cache_resource(show_spinner=False, max_entries=64)
def _dataset_view(name: str, fingerprint: str, _data: Dataset) -> Any:
    from . import charts

    return getattr(charts, name)(_data)


def dataset_view(name: str, data: Dataset) -> Any:
    """A Data-page chart of a data set, cached on its content fingerprint."""
    return _dataset_view(name, data.fingerprint, data)


# ------------------------------------------------------------------ data set
@st.cache_resource(show_spinner=False)
def _sample() -> Dataset:
    # Shared across sessions: a Dataset is immutable and the sample is the same for everyone.
    from recsys_core.data import load_sample

    return load_sample()


def dataset() -> Dataset | None:
    return st.session_state.get("dataset")


def dataset_source() -> str:
    return st.session_state.get("dataset_source", "")


def set_dataset(data: Dataset, source: str) -> None:
    st.session_state["dataset"] = data
    st.session_state["dataset_source"] = source
    _save_session()


def _save_session() -> None:
    """Save the session right after a big change (also done at the end of every page run by app.py)."""
    from . import session_store

    session_store.save()


def load_sample_into_session() -> bool:
    """Make the bundled sample the active data set; False (with an error shown) when it is missing."""
    try:
        with st.spinner("Loading the bundled sample…"):
            set_dataset(_sample(), "the bundled sample")
        return True
    except RecsysError as error:
        st.session_state["sample_failed"] = str(error)
        st.error(md(str(error)), icon=":material/error:")
        return False


def ensure_sample_once() -> None:
    """Load the sample on a session's first visit (never over the person's own data)."""
    if dataset() is None and not st.session_state.get("sample_tried"):
        st.session_state["sample_tried"] = True
        load_sample_into_session()


def require_dataset() -> Dataset:
    """The active data set, or an empty state with a one-click sample and a link to the Data page."""
    data = dataset()
    if data is not None:
        return data
    st.info("No data set is loaded yet.", icon=":material/info:")
    if st.button("Use the bundled sample", type="primary", icon=":material/dataset:"):
        if load_sample_into_session():
            st.rerun()
    page_link("data", "…or upload your own files on the Data page", ":material/upload_file:")
    st.stop()


def dataset_caption(data: Dataset) -> str:
    summary = data.summary()
    return (f"**{md(data.name)}** ({md(dataset_source())}): {fmt.plural(summary['users'], 'user')} · "
            f"{fmt.plural(summary['items'], 'item')} · {fmt.plural(summary['ratings'], 'rating')}")


# ------------------------------------------------------------------ training
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
    def content_key(self) -> tuple:
        """Identifies the table's content: a cached run never changes, and its fit time tells two fits apart."""
        return tuple((run.key, run.seconds) for run in self.runs) + (self.ks,)

    @property
    def n_folds(self) -> int:
        table = self.table
        return int(table["fold"].nunique()) if len(table) else 0

    def split_description(self) -> str:
        return split_text(self.split_method, self.split_params)


def split_text(method: str, p: dict[str, Any]) -> str:
    """A split setting in words (the Train page, the results header, the tuner's note)."""
    if method == "kfold":
        return f"{p.get('n_folds')}-fold cross-validation (seed {p.get('seed')})"
    if method == "random":
        return f"random hold-out of {p.get('test_size', 0.2):.0%} of the ratings (seed {p.get('seed')})"
    if method == "temporal":
        return f"temporal split: each user's latest {p.get('test_fraction', 0.2):.0%} of ratings tested"
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
          ks: tuple[int, ...]) -> Results | None:
    """Evaluate the chosen models, reusing every run whose settings did not change.

    Draws an ``st.status`` with a progress bar per model and fold; a failing
    model is reported and the others keep their results.
    """
    store = _runs()
    started = time.perf_counter()
    outcome = Results(data.fingerprint, method, dict(split_params), tuple(sorted(ks)))
    n = len(chosen)

    def say(line: str) -> None:
        st.write(line)
        outcome.log.append(line)

    with st.status(f"Training {n} model{'s' if n != 1 else ''}…", expanded=True) as status:
        bar = st.progress(0.0, text="Splitting the ratings into train and test…")
        try:
            splits = splits_for(data, method, split_params)
        except (RecsysError, ValueError) as error:
            status.update(label="Could not split the data", state="error", expanded=True)
            st.error(md(str(error)), icon=":material/error:")
            return None
        folds = len(splits)
        for i, (name, params) in enumerate(chosen.items()):
            key = run_key(data.fingerprint, name, params, method, split_params)
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
            t0 = time.perf_counter()
            try:
                result = evaluate(data, [spec], splits=splits, ks=tuple(sorted(ks)), progress=progress)
            except Exception as error:  # noqa: BLE001 -- one model's crash must not lose the others
                log.exception("training %s failed", name)
                result = None
                outcome.errors[name] = f"{type(error).__name__}: {error}"
            seconds = time.perf_counter() - t0
            if result is not None and result.errors:
                outcome.errors[name] = result.errors.get(name) or next(iter(result.errors.values()))
            elif result is not None and name in result.models:
                store[key] = Run(key, name, name, dict(params), tuple(sorted(ks)), result.table, result.models[name],
                                 seconds)
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
    _evict(store, keep=set(outcome.keys))
    _save_session()
    return outcome


#: Fitted models kept per session (a KNN on a few thousand items holds an n x n similarity matrix).
MAX_RUNS = 24


def _evict(store: dict[tuple, Run], keep: set[tuple]) -> None:
    for key in [k for k in store if k not in keep][: max(0, len(store) - MAX_RUNS)]:
        del store[key]


# ------------------------------------------------------------------ model picks
def models_with(current: Results, test: Callable[[Recommender], bool]) -> dict[str, Recommender]:
    out = {}
    for label, model in current.models.items():
        try:
            if test(model):
                out[label] = model
        except Exception:  # noqa: BLE001 -- a model that cannot answer simply is not offered
            log.exception("checking %s", label)
    return out


def side_by_side(frames: dict[str, pd.DataFrame | None], n: int, column: str = "title",
                 mark: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.DataFrame:
    """One column per model, one row per rank: the lists next to each other."""
    table = pd.DataFrame(index=pd.RangeIndex(1, n + 1, name="rank"))
    for label, frame in frames.items():
        values = [""] * n
        if frame is not None and len(frame):
            text = frame[column].astype(str)
            if mark is not None:
                text = text + mark(frame)
            for position, value in enumerate(text.head(n)):
                values[position] = value
        table[label] = values
    return table


#: Models per side-by-side table: three 10-title columns fit a 1400 px screen (four pushed one off it);
#: more models wrap to further tables below.
OVERVIEW_COLUMNS = 3


def render_lists(frames: dict[str, pd.DataFrame | None], notes: dict[str, str], n: int,
                 detail_columns: list[str], column_config: dict | None = None,
                 mark: Callable[[pd.DataFrame], pd.Series] | None = None, key: str = "lists") -> None:
    """Every model's list side by side, then one tab per model with the details (and any note)."""
    answered = {label: frame for label, frame in frames.items() if frame is not None and len(frame)}
    silent: dict[str, list[str]] = {}
    for label, note in notes.items():
        if label not in answered:
            silent.setdefault(note or "no answer.", []).append(label)
    for note, labels in silent.items():
        # Models that cannot answer for the same reason share one line.
        who = ", ".join(f"**{md(label)}**" for label in labels)
        st.warning(f"{who} cannot answer: {md(note)}", icon=":material/block:")
    if not answered:
        return
    labels = list(answered)
    for start in range(0, len(labels), OVERVIEW_COLUMNS):
        # A few models per table: every list stays readable on a projector, without scrolling sideways.
        chunk = {label: answered[label] for label in labels[start:start + OVERVIEW_COLUMNS]}
        # Model columns of one width: a long title is cut in its cell (hover shows it), never widens its
        # column past the screen.
        st.dataframe(side_by_side(chunk, n, mark=mark), width="stretch", key=f"{key}-overview-{start}",
                     column_config={"_index": st.column_config.NumberColumn("rank", width=50),
                                    **{label: st.column_config.TextColumn(label, width="medium") for label in chunk}})
    tabs = st.tabs([md(label) for label in labels])  # tab names read Markdown
    for tab, (label, frame) in zip(tabs, answered.items()):
        with tab:
            if notes.get(label):
                st.info(md(notes[label]), icon=":material/info:")
            shown = [c for c in detail_columns if c in frame.columns]
            config = dict(column_config or {})
            if "score" in frame.columns and np.allclose(frame["score"], np.round(frame["score"])):
                # Counts (e.g. 'popular' scores items by their number of ratings) need no decimals.
                config["score"] = st.column_config.NumberColumn("score", format="%d")
            st.dataframe(frame[shown], hide_index=True, width="stretch", column_config=config, placeholder="–")


def item_options(data: Dataset) -> tuple[list[int], Callable[[int], str]]:
    """Item indices ordered by popularity, and a label function (title · ratings) for pickers."""
    order = np.argsort(-data.item_counts, kind="stable")
    titles = data.items["title"].astype(str).to_numpy()
    counts = data.item_counts
    # Options of a select box are shown as plain text (never Markdown): the title needs no escaping here.
    return [int(i) for i in order], lambda i: f"{titles[i]}  ·  {fmt.plural(counts[i], 'rating')}"


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
