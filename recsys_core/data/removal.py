"""Removing users from a data set (a person asked to be forgotten): the one place such a Dataset is built.

The item vocabulary is kept (an item belongs to the catalogue, not to the person who rated it), so item
indices, tie-breaks and item metadata stay valid; the user vocabulary, the interactions and the user
metadata lose every row of the removed users.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..dataset import USER, Dataset
from ..errors import DataValidationError


def user_positions(dataset: Dataset, user_ids: Iterable[object]) -> np.ndarray:
    """Indices of raw user ids, refusing (with the ids named) any the data set does not hold, and removing all."""
    ids = [str(u).strip() for u in user_ids if str(u).strip()]
    if not ids:
        raise DataValidationError("No user id given: name the user(s) to forget, e.g. --users 42 or --users 42,77.")
    ids = list(dict.fromkeys(ids))
    positions = dataset.user_indices(ids)
    missing = [u for u, p in zip(ids, positions) if p < 0]
    if missing:
        shown = ", ".join(f"'{u}'" for u in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DataValidationError(f"Cannot forget {shown}: no such user in the data set '{dataset.name}' "
                                  f"({dataset.n_users:,} users). Nothing was removed.")
    if len(positions) >= dataset.n_users:
        raise DataValidationError(f"Cannot forget every user of '{dataset.name}': a data set without users has "
                                  "nothing to recommend from. Nothing was removed.")
    return np.asarray(positions, dtype=np.int64)


def without_users(dataset: Dataset, user_ids: Iterable[object], name: str | None = None) -> Dataset:
    """``dataset`` without the given users: their interactions, their metadata row and their vocabulary entry.

    The remaining users keep their order (indices shift down past each removed one), items keep theirs.
    Refuses unknown ids and removing every user (:class:`DataValidationError`).
    """
    removed = user_positions(dataset, user_ids)
    keep_user = np.ones(dataset.n_users, dtype=bool)
    keep_user[removed] = False
    new_index = np.cumsum(keep_user) - 1
    frame = dataset.interactions
    rows = keep_user[frame["user_idx"].to_numpy()]
    part = frame[rows].copy()
    part["user_idx"] = new_index[part["user_idx"].to_numpy()].astype(np.int32)
    user_vocabulary = dataset.user_ids[keep_user]
    part[USER] = pd.Categorical.from_codes(part["user_idx"].to_numpy(),
                                           categories=pd.Index(user_vocabulary, dtype=str), validate=False)
    users = dataset.users[keep_user].reset_index(drop=True)
    return Dataset.from_frames(part, name=name or dataset.name, rating_scale=dataset.rating_scale,
                               implicit=dataset.implicit, items=dataset.items, users=users,
                               report=dataset.report, user_ids=user_vocabulary, item_ids=dataset.item_ids,
                               _indexed=True)
