"""Hyper-parameter search with Optuna that never sees the test data.

``tune(train, "ease", n_trials=30)`` carves a validation set out of the
*training* part only (a seeded per-user hold-out, :func:`per_user_holdout`),
fits each trial's model on the rest and scores it there with the same ranking
metric the comparison reports. The test fold is not an argument: it cannot be
read. The search space is each model's own declaration (``Param.search``),
so the Train form, the CLI and the tuner agree on what a parameter is.

The best parameters come back in the shape ``compare --params`` reads
(``{"ease": {"reg": 412.3}}``), ready to be fitted on the whole training part
and evaluated on the test fold.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..dataset import Dataset
from ..errors import DataValidationError, TuningError
from ..models import REGISTRY
from .runner import RANKING, ModelSpec, evaluate_fold
from .splits import per_user_holdout, temporal_per_user

#: ``trial_done(result_so_far, trial_number, n_trials)`` after each finished trial.
TrialCallback = Callable[["TuningResult", int, int], None]

#: A validation set needs at least this many users with a relevant held-out item.
MIN_VALIDATION_USERS = 5


@dataclass
class TuningResult:
    """What one model's search found.

    Attributes
    ----------
    model : str
    metric, k : the objective (``ndcg`` at 10 ...), larger is better.
    best_params : dict
        The searched parameters of the best trial, merged over the fixed ones.
    best_value : float
        Validation score of the best trial (NaN before any trial finished).
    trials : DataFrame
        ``number, value, state, seconds`` and one column per searched parameter.
    study : optuna.Study
        For Optuna's own plots (history, parameter importances).
    """

    model: str
    metric: str
    k: int
    fixed_params: dict[str, Any]
    best_params: dict[str, Any] = field(default_factory=dict)
    best_value: float = math.nan
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)
    study: Any = None
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def importances(self) -> dict[str, float]:
        """Share of the objective's variance explained by each searched parameter (Optuna's fANOVA)."""
        import optuna

        complete = [t for t in self.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        varied = {name for t in complete for name in t.params}
        if len(complete) < 2 or not varied:
            return {}
        try:
            return optuna.importance.get_param_importances(self.study)
        except (RuntimeError, ValueError):  # every trial identical: nothing to attribute
            return {}


def validation_split(train: Dataset, seed: int = 0, fraction: float = 0.2, by_time: bool = False):
    """The per-user hold-out inside ``train`` the tuner scores on (a :class:`Split`).

    ``by_time`` (models that read the order of histories): each user's latest ``fraction`` instead of a random
    share, so the validation part comes after what the trial trains on, as the test part does.
    """
    try:
        if by_time:
            return temporal_per_user(train, test_fraction=fraction)[0]
        return per_user_holdout(train, fraction=fraction, seed=seed)
    except DataValidationError as error:
        raise TuningError(
            f"Tuning needs a validation set carved from the training ratings, and {error} "
            "Users need at least 2 training ratings; with fewer, train with the default parameters."
        ) from None


def _check_validation(split, metric: str, k: int, threshold: float | None) -> None:
    from .metrics import relevant_items

    relevant = relevant_items(split.test, threshold=threshold)
    users = int((np.diff(relevant.indptr) > 0).sum())
    if users < MIN_VALIDATION_USERS:
        raise TuningError(
            f"Only {users} user{'s' if users != 1 else ''} have a relevant rating in the validation hold-out "
            f"carved from the training part (at least {MIN_VALIDATION_USERS} are needed to compare trials on "
            f"{metric}@{k}). Use more data, or train with the default parameters."
        )


def search_space(name: str) -> list:
    """The model's searchable parameters (its ``Param`` entries with a ``search`` range)."""
    return [param for param in REGISTRY[name].params if param.tunable]


def tune(
    train: Dataset,
    model: str,
    *,
    n_trials: int = 30,
    timeout: float | None = None,
    metric: str = "ndcg",
    k: int = 10,
    seed: int = 0,
    fixed_params: dict[str, Any] | None = None,
    relevance_threshold: float | None = None,
    validation_fraction: float = 0.2,
    trial_done: TrialCallback | None = None,
) -> TuningResult:
    """Search ``model``'s declared space on a validation hold-out of ``train``.

    Parameters
    ----------
    train : Dataset
        The training part only (never the test fold).
    model : str
        Registry name.
    n_trials, timeout : stop after this many trials or seconds, whichever first.
    metric, k : ranking metric (``ndcg``, ``precision``, ``recall``, ``map``, ``hit_rate``, ``mrr``) at ``k``.
    seed : seeds the validation hold-out and Optuna's TPE sampler (same inputs, same result).
    fixed_params : parameters not searched (e.g. ``feedback``); searched ones override them.
    trial_done : called after every trial with the result so far.

    Raises
    ------
    TuningError
        Too few users for a validation set, an unknown metric, a model without a
        search space, or no trial that finished.
    """
    import optuna

    if model not in REGISTRY:
        raise TuningError(f"Unknown model '{model}'. Available: {', '.join(REGISTRY)}.")
    if metric not in RANKING:
        raise TuningError(f"Tuning optimises a ranking metric: one of {', '.join(RANKING)}, not '{metric}'.")
    space = search_space(model)
    if not space:
        raise TuningError(f"{model} declares no hyper-parameter to search: nothing to tune.")
    fixed = {key: value for key, value in (fixed_params or {}).items() if key in REGISTRY[model]().get_params()}
    split = validation_split(train, seed=seed, fraction=validation_fraction,
                             by_time=REGISTRY[model].capabilities()["uses_order"])
    _check_validation(split, metric, k, relevance_threshold)
    result = TuningResult(model=model, metric=metric, k=int(k), fixed_params=fixed)
    rows: list[dict[str, Any]] = []

    def objective(trial: "optuna.Trial") -> float:
        params = {**fixed, **{param.name: param.suggest(trial) for param in space}}
        started = time.perf_counter()

        def report_epoch(event) -> None:
            # Models trained per epoch report their validation score each epoch (FitEvent): a trial whose
            # curve is below the median of earlier trials at the same epoch stops there (Optuna's pruner).
            if event.epoch is None or event.validation is None:
                return
            trial.report(float(event.validation), int(event.epoch))
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {event.epoch}")

        try:
            _, frame = evaluate_fold(ModelSpec(model, params), split, ks=(int(k),),
                                     relevance_threshold=relevance_threshold,
                                     fit_progress=report_epoch if per_epoch else None)
        except optuna.TrialPruned:
            rows.append({"number": trial.number, "value": math.nan, "state": "pruned",
                         "seconds": time.perf_counter() - started, **trial.params})
            raise
        except Exception as error:  # noqa: BLE001 -- a bad corner of the space fails one trial, not the search
            result.errors.append(f"trial {trial.number}: {type(error).__name__}: {error}")
            rows.append({"number": trial.number, "value": math.nan, "state": "failed",
                         "seconds": time.perf_counter() - started, **trial.params})
            raise optuna.TrialPruned() from None
        value = frame[(frame.metric == metric) & (frame.bucket == "all")]["value"]
        score = float(value.iloc[0]) if len(value) else math.nan
        rows.append({"number": trial.number, "value": score, "state": "complete",
                     "seconds": time.perf_counter() - started, **trial.params})
        if not math.isfinite(score):
            raise optuna.TrialPruned()
        return score

    def after_trial(study: "optuna.Study", trial: "optuna.trial.FrozenTrial") -> None:
        result.trials = pd.DataFrame(rows)
        completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if completed:
            result.best_value = float(study.best_value)
            result.best_params = {**fixed, **study.best_params}
        if trial_done is not None:
            trial_done(result, trial.number + 1, n_trials)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    per_epoch = REGISTRY[model].trains_per_epoch
    # Pruning only where there is a per-epoch curve to prune on; the first trials always run to the end.
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=3) if per_epoch
              else optuna.pruners.NopPruner())
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=int(seed)),
                                pruner=pruner, study_name=f"{model}-{metric}@{k}")
    result.study = study
    # The first trial is the model's defaults (with the fixed parameters): tuning can then only improve on them.
    defaults = {**REGISTRY[model]().get_params(), **fixed}
    study.enqueue_trial({param.name: defaults[param.name] for param in space if _within(param, defaults.get(param.name))},
                        skip_if_exists=True)
    started = time.perf_counter()
    study.optimize(objective, n_trials=int(n_trials), timeout=timeout, callbacks=[after_trial],
                   gc_after_trial=False)
    result.seconds = time.perf_counter() - started
    result.trials = pd.DataFrame(rows)
    if not math.isfinite(result.best_value):
        detail = f" First failure: {result.errors[0]}" if result.errors else ""
        raise TuningError(f"No trial of {model} finished with a valid {metric}@{k} "
                          f"({len(rows)} tried).{detail}")
    return result


def _within(param, value: Any) -> bool:
    """Whether a default value lies in the parameter's search space (Optuna rejects others)."""
    if value is None:
        return False
    if param.kind in ("int", "float"):
        return float(param.search[0]) <= float(value) <= float(param.search[1])
    return value in param.search


def tune_models(train: Dataset, models: list[str], **kwargs: Any) -> dict[str, TuningResult]:
    """:func:`tune` for each model in turn (same validation hold-out for all)."""
    return {name: tune(train, name, **kwargs) for name in models}


def best_params_json(results: dict[str, TuningResult]) -> dict[str, dict[str, Any]]:
    """``{"model": {param: value}}``: the shape ``compare --params`` reads."""
    return {name: {key: _plain(value) for key, value in result.best_params.items()}
            for name, result in results.items()}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
