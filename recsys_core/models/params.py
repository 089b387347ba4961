"""One declaration per hyper-parameter: what it means, how it is edited, where it is searched.

Each model class lists its main hyper-parameters as :class:`Param` entries
(``params = (Param(...), ...)``) beside its constructor. That one list is what
the Train page's form, the CLI's ``models`` listing and the Optuna tuner read:
adding a parameter to the form or the search space means touching one line.

``search`` is the range (or the choices) the tuner explores; ``None`` leaves
the parameter at its value while tuning. ``low``/``high`` bound what the form
accepts, which may be wider than what is worth searching.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    """A model hyper-parameter as a person edits it and as a tuner searches it.

    Parameters
    ----------
    name : str
        Constructor argument.
    help : str
        One sentence for the form's tooltip and the CLI.
    kind : {"int", "float", "choice", "bool"}
    low, high, step : float, optional
        Bounds and step of the form's number input.
    choices : tuple
        Options of a ``choice`` parameter.
    labels : dict
        Display labels of choices (value -> text).
    search : tuple, optional
        ``(low, high)`` for numbers or a tuple of options for choices/bools;
        ``None`` keeps the parameter fixed while tuning.
    log : bool
        Search on a log scale (learning rates, regularisation).
    fmt : str
        printf-style format of a float input.
    """

    name: str
    help: str
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    labels: dict = field(default_factory=dict)
    search: tuple | None = None
    log: bool = False
    fmt: str = "%.2f"

    def __post_init__(self) -> None:
        if self.kind not in ("int", "float", "choice", "bool"):
            raise ValueError(f"Param {self.name}: kind must be int, float, choice or bool, not {self.kind!r}.")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"Param {self.name}: a choice parameter needs choices.")

    @property
    def tunable(self) -> bool:
        return self.search is not None

    def label(self, value: Any) -> str:
        return str(self.labels.get(value, value))

    def coerce(self, value: Any) -> Any:
        """``value`` as this parameter's type (JSON and forms give strings and floats)."""
        if self.kind == "int":
            return int(value)
        if self.kind == "float":
            return float(value)
        if self.kind == "bool":
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        for choice in self.choices:  # choices may be non-strings (True/False, None)
            if choice == value or str(choice) == str(value):
                return choice
        raise ValueError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, not {value!r}.")

    def suggest(self, trial: Any) -> Any:
        """Draw a value from ``search`` with an Optuna trial."""
        if self.search is None:
            raise ValueError(f"{self.name} has no search space.")
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.search[0]), int(self.search[1]), log=self.log)
        if self.kind == "float":
            return trial.suggest_float(self.name, float(self.search[0]), float(self.search[1]), log=self.log)
        return trial.suggest_categorical(self.name, list(self.search))


# Parameters shared by several models: one home each.
def k_param(help: str = "Maximum number of neighbours averaged (Surprise default 40).", search=None) -> Param:
    return Param("k", help, kind="int", low=1, high=1000, step=5, search=search)


def factors_param() -> Param:
    """Length of the latent vectors of the implicit-feedback factor models."""
    return Param("factors", "Length of the latent vectors.", kind="int", low=2, high=512, step=8, search=(16, 256),
                 log=True)


def feedback_params() -> tuple[Param, ...]:
    """How explicit ratings become implicit feedback; shared by every ranking model."""
    return (
        Param("feedback", "Which ratings count as interactions: 'all' (every rating, a rating is a sign of interest) "
              "or 'positive' (only ratings at or above the threshold).",
              kind="choice", choices=("all", "positive"),
              labels={"all": "every rating", "positive": "ratings ≥ threshold only"}, search=("all", "positive")),
        Param("threshold", "Rating from which an interaction counts as positive when feedback='positive' "
              "(blank: the evaluation's relevance threshold, 75% up the scale).",
              kind="float", low=-1e9, high=1e9, step=0.5),
    )


def weighting_param() -> Param:
    """How strongly each interaction counts (recsys_core.models.feedback.WEIGHTINGS); shared by the ranking models."""
    from .feedback import WEIGHTING_LABELS, WEIGHTINGS

    return Param("weighting", "Value of each interaction in the matrix the model learns from: 0/1, the value "
                 "(count) itself, log(1 + value), BM25 or TF-IDF; 'auto' is log(1 + count) for counts (plays, "
                 "clicks) and 0/1 for ratings; every weighting but 0/1 is scaled to mean 1.", kind="choice",
                 choices=WEIGHTINGS, labels=dict(WEIGHTING_LABELS), search=("binary", "log1p", "bm25", "tfidf"))
