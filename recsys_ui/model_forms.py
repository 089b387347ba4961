"""Model forms on the Train page: parameter widgets from each model's ``Param`` list, formulas, memory notes."""
from __future__ import annotations

import re
from typing import Any

import streamlit as st

from recsys_core.dataset import Dataset
from recsys_core.models import REGISTRY

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


def preset_params(name: str, values: dict[str, Any]) -> None:
    """Before the form is drawn: start its widgets at ``values`` (tuned or imported parameters)."""
    for param in REGISTRY[name].params:
        if param.name in values:
            value = values[param.name]
            st.session_state[f"param:{name}:{param.name}"] = None if value is None else param.coerce(value)


def param_widgets(name: str, container=None) -> dict[str, Any]:
    """One widget per declared hyper-parameter of a model (from its ``params``); returns the values.

    A value already in the session (the person's edit, or :func:`preset_params`) wins over the default.
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
    """The model's memory (and, where known, time) estimate for this data set, beside what is free.

    Over the machine: a warning with the model's own way out -- the smallest pruning of the catalogue that
    fits, for models that offer one (``pruning_to_fit``) -- and its general advice.
    """
    from recsys_core.models import memory
    from recsys_core.system import cpu_cores

    try:
        model = REGISTRY[name](**params)
        size = model.fit_size(data)
        need = model.memory_estimate(*size)
        seconds = model.time_estimate(*size, threads=cpu_cores())
    except (TypeError, ValueError):  # parameters being edited: no estimate this run
        return
    free = memory.available_memory_bytes()
    pruned = f" on the {size[1]:,} items it keeps" if size[1] < data.n_items else ""
    timing = f", about {_duration(seconds)} on {cpu_cores()} core{'s' * (cpu_cores() > 1)}" if seconds else ""
    text = f"Estimate on this data{pruned}: about {memory.gib(need)} of memory ({memory.gib(free)} free now){timing}."
    if memory.fits(need, free):
        st.caption(f":material/memory: {text}")
        return
    way_out = ""
    if hasattr(model, "pruning_to_fit"):
        choice = model.pruning_to_fit(data, memory.MEMORY_SHARE * free)
        if choice:
            way_out = (f" It fits if you set 'min_item_interactions' to {choice[0]}: the {choice[1]:,} items with "
                       f"at least {choice[0]} interactions are kept (the others are never recommended).")
    st.warning(f"{text} Training would be refused before it starts.{way_out} {REGISTRY[name].memory_advice}",
               icon=":material/memory:")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds)):,} s"
    if seconds < 5400:
        return f"{round(seconds / 60):,} min"
    return f"{seconds / 3600:,.1f} h"


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


