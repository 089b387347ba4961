"""Forgetting users (a person's right to erasure): their data out of the data set and out of every fitted model.

:func:`user_data` is what is held about the users (to hand them before removal); :func:`forget` removes them
from each model -- incrementally where the model declares ``forgets_users`` (its ``forget_explanation`` says
how and how exact), by a refit of the same model on the data without them otherwise -- and measures what
the removal changed for everyone else: the share of the other users whose top-N list changed, the largest
changes, and, where the model updated itself, the largest score difference to an exact refit without the
users. Every caller (the Explore page, the CLI, the benchmark) goes through here; nothing branches on a
model's name.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .data import user_positions, without_users
from .dataset import Dataset
from .models import Recommender

#: How a model without an incremental update (for its settings) forgets.
REFIT_NOTE = ("refitted from scratch on the data without the users, same parameters and seed (no incremental "
              "update for this model or its settings).")

#: ``compare_refit="auto"`` refits (to check an incremental update) up to this many training interactions.
CHEAP_REFIT_RATINGS = 500_000

#: Changed users listed per model in :attr:`Forgotten.largest_changes`.
N_LARGEST = 5


def user_data(dataset: Dataset, user_ids: Iterable[object]) -> pd.DataFrame:
    """Every row held about the users: one ``profile`` row each (their metadata) and one row per interaction.

    Columns: ``record`` (``profile`` / ``interaction``), ``user``, then ``item``, ``title``, ``rating`` and
    ``timestamp`` (interactions), then the user metadata columns (profile rows). Refuses unknown ids.
    """
    positions = user_positions(dataset, user_ids)
    profile = dataset.users.iloc[positions].copy()
    profile.insert(0, "record", "profile")
    frame = dataset.interactions
    rows = frame[frame["user_idx"].isin(positions)]
    interactions = pd.DataFrame({
        "record": "interaction",
        "user": rows["user"].astype(str).to_numpy(),
        "item": rows["item"].astype(str).to_numpy(),
        "title": dataset.titles(rows["item_idx"].to_numpy()),
        "rating": rows["rating"].to_numpy(),
    })
    if dataset.has_timestamps:
        interactions["timestamp"] = rows["timestamp"].to_numpy()
    out = pd.concat([profile.astype({"user": str}), interactions], ignore_index=True)
    columns = ["record", "user", "item", "title", "rating"] + (["timestamp"] if dataset.has_timestamps else [])
    return out[columns + [c for c in profile.columns if c not in columns]]


@dataclass
class Forgotten:
    """What forgetting did to one model.

    Attributes
    ----------
    label : str
    model : Recommender
        The model without the users (a new object; the one given is unchanged).
    method : {"incremental", "refit"}
    how : str
        The model's own account of how it forgot (``forget_explanation``).
    seconds : float
        Time the model took to forget (the update, or the refit).
    changed_share : float
        Share of the other users whose top-``n`` list changed (as a set of items).
    n_other_users : int
    largest_changes : DataFrame
        ``user``, ``replaced`` (how many items left the top-``n``), ``left the list``, ``entered it`` (their
        titles), the most changed users first.
    refit_max_difference : float or None
        Largest absolute score difference to an exact refit without the users (incremental models, when a
        refit was run); None otherwise.
    refit_seconds : float or None
    refit_changed_share : float or None
        Share of the other users whose top-``n`` differs between the incremental result and the refit.
    exact : bool or None
        Incremental models: True when the update is declared equal to a refit (``forgets_exactly``), False for
        a partial update (ALS); None for a refit.
    """

    label: str
    model: Recommender
    method: str
    how: str
    seconds: float
    changed_share: float
    n_other_users: int
    largest_changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    refit_max_difference: float | None = None
    refit_seconds: float | None = None
    refit_changed_share: float | None = None
    #: For an incremental update: whether the model declares it equal to a refit (``forgets_exactly``).
    exact: bool | None = None

    def row(self) -> dict:
        """One row of the CLI's table."""
        return {"model": self.label, "method": self.method, "exact": self.exact, "seconds": round(self.seconds, 4),
                "changed_share": self.changed_share, "other_users": self.n_other_users,
                "refit_max_difference": self.refit_max_difference,
                "refit_seconds": None if self.refit_seconds is None else round(self.refit_seconds, 4),
                "refit_changed_share": self.refit_changed_share}


def forget_model(model: Recommender, user_ids: Iterable[object], *, label: str | None = None, n: int = 10,
                 compare_refit: bool | str = True, training: Dataset | None = None) -> Forgotten:
    """Remove the users from one fitted model and measure the change (see :class:`Forgotten`).

    ``training`` is the model's training data without the users, when the caller has built it already.
    ``compare_refit`` also refits a clone without the users when the model forgot incrementally; ``"auto"``
    only where that refit is cheap (at most :data:`CHEAP_REFIT_RATINGS` training interactions).
    """
    current = model.check_fitted()
    ids = list(user_ids)
    removed = user_positions(current, ids)
    training = training if training is not None else without_users(current, ids)
    keep = np.ones(current.n_users, dtype=bool)
    keep[removed] = False
    method = "incremental" if model.can("forgets_users") else "refit"
    started = time.perf_counter()
    forgotten = model.forget_users(training, removed)
    seconds = time.perf_counter() - started

    others_before = np.flatnonzero(keep)
    others_after = np.arange(training.n_users)
    before = model.recommend_indices(others_before, n)
    after = forgotten.recommend_indices(others_after, n)
    replaced = _replaced(before, after)
    outcome = Forgotten(label or model.name, forgotten, method,
                        model.forget_explanation if method == "incremental" else REFIT_NOTE,
                        seconds, float((replaced > 0).mean()) if len(replaced) else 0.0, int(len(replaced)),
                        _largest(training, before, after, replaced),
                        exact=bool(model.forgets_exactly) if method == "incremental" else None)
    if compare_refit == "auto":
        compare_refit = training.n_ratings <= CHEAP_REFIT_RATINGS
    if method == "incremental" and compare_refit:
        started = time.perf_counter()
        refit = model.clone().fit(training, context=getattr(model, "context_", None))
        outcome.refit_seconds = time.perf_counter() - started
        outcome.refit_max_difference = max_score_difference(forgotten, refit, others_after)
        outcome.refit_changed_share = float((_replaced(after, refit.recommend_indices(others_after, n)) > 0).mean())
    return outcome


def forget(models: Mapping[str, Recommender], user_ids: Iterable[object], *, n: int = 10,
           compare_refit: bool | str = True) -> list[Forgotten]:
    """:func:`forget_model` for every model (labels as keys). All ids are checked first: nothing changes on a refusal.

    The caller swaps its models for ``outcome.model`` once every one has succeeded.
    """
    ids = list(user_ids)
    trainings: dict[str, Dataset] = {}
    for label, model in models.items():  # refuse before any work: an unknown id or the last user
        trainings[label] = without_users(model.check_fitted(), ids)
    return [forget_model(model, ids, label=label, n=n, compare_refit=compare_refit, training=trainings[label])
            for label, model in models.items()]


def max_score_difference(a: Recommender, b: Recommender, user_idx: np.ndarray) -> float:
    """Largest absolute difference of two models' scores over the given users and every item (NaN in both: equal)."""
    largest = 0.0
    for (positions, left), (_, right) in zip(a.iter_score_blocks(user_idx), b.iter_score_blocks(user_idx)):
        both_nan = np.isnan(left) & np.isnan(right)
        gap = np.abs(np.where(both_nan, 0.0, left - right))
        if np.isnan(gap).any():  # one scores, the other cannot
            return float("inf")
        largest = max(largest, float(gap.max()) if gap.size else 0.0)
    return largest


def _replaced(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per row, how many items of ``before``'s list are not in ``after``'s (-1 padding ignored)."""
    n = before.shape[1]
    same = (before[:, :, None] == after[:, None, :]) & (before[:, :, None] >= 0)
    return (before >= 0).sum(axis=1) - same.any(axis=2).sum(axis=1) if n else np.zeros(len(before), dtype=int)


def _largest(dataset: Dataset, before: np.ndarray, after: np.ndarray, replaced: np.ndarray) -> pd.DataFrame:
    order = np.argsort(-replaced, kind="stable")[:N_LARGEST]
    order = order[replaced[order] > 0]

    def titles(items: np.ndarray, other: np.ndarray) -> str:
        moved = items[(items >= 0) & ~np.isin(items, other)]
        return " · ".join(dataset.titles(moved))

    return pd.DataFrame({
        "user": dataset.user_ids[order].astype(str),
        "replaced": replaced[order].astype(int),
        "left the list": [titles(before[i], after[i]) for i in order],
        "entered it": [titles(after[i], before[i]) for i in order],
    })
