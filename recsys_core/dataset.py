"""The immutable ``Dataset`` every model, metric and page works on.

Raw ids are kept as the strings the file holds ("0042" stays "0042"; an int
passed by a caller is looked up as its decimal string), mapped once to dense
indices by the vocabularies below. Everything inside recsys_core works on
indices and the sparse user x item matrix; everything shown to a person is
translated back.

Only :mod:`recsys_core.data` builds a ``Dataset`` from files; this module holds
the class and the one constructor from clean frames (``Dataset.from_frames``)
that data.py, the synthetic generator and the splits call.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import UnknownIdError

#: Column names of ``Dataset.interactions`` (``timestamp`` is optional).
USER, ITEM, RATING, TIMESTAMP = "user", "item", "rating", "timestamp"


def default_relevance_threshold(rating_scale: tuple[float, float]) -> float:
    """Rating from which an explicit rating counts as relevant (positive): ``lo + 0.75 (hi - lo)``.

    4.0 on a 1-5 scale, 3.875 on 0.5-5, 7.75 on 1-10. Ratings are compared
    with ``>=``, so on a 0.5-step 0.5-5 scale this means 4.0 and above. The
    evaluation's relevance and the ranking models' "positive" feedback both
    read this one function.
    """
    low, high = rating_scale
    return float(low + 0.75 * (high - low))


def _fingerprint(*frames: pd.DataFrame | np.ndarray | None) -> str:
    digest = hashlib.sha256()
    for frame in frames:
        if frame is None:
            digest.update(b"<none>")
            continue
        if isinstance(frame, np.ndarray):  # a numeric column: its bytes, without a hash per row first
            digest.update(str(frame.dtype).encode())
            digest.update(memoryview(np.ascontiguousarray(frame)).cast("B"))
            continue
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def legacy_fingerprint(dataset: "Dataset") -> str:
    """The fingerprint as recsys-lab computed it before ids became categorical (a hash per row of the raw ids).

    Only for reading back what older versions saved (experiment archives,
    stored sessions), so they still match their data.
    """
    frame = dataset.interactions
    columns = [USER, ITEM, RATING] + ([TIMESTAMP] if TIMESTAMP in frame.columns else [])
    plain = frame[columns].astype({USER: str, ITEM: str})
    text = _fingerprint(plain, dataset.items, dataset.users) + f"-{dataset.rating_scale}-{dataset.implicit}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _interaction_parts(frame: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray) -> list:
    """What the fingerprint hashes for the interactions: the rows as indices and values, plus the vocabularies.

    Equal rows give equal indices and vocabularies, so these identify the same
    content as the raw ids would, without hashing a string per row.
    """
    columns = ["user_idx", "item_idx", RATING] + ([TIMESTAMP] if TIMESTAMP in frame.columns else [])
    return [frame[c].to_numpy() for c in columns] + [pd.DataFrame({"user": user_ids.astype(str)}),
                                                     pd.DataFrame({"item": item_ids.astype(str)})]


def _vocabulary(ids: pd.Series, vocabulary: np.ndarray | None) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """(vocabulary, the ids as a categorical over it, each row's index into it).

    Without a vocabulary given it is the ids in order of first appearance.
    Categorical ids are mapped through their categories (one string each),
    plain ids hashed once per row. The categorical column holds a string per
    distinct id and an integer per row: a fifth of the memory of a string per row.
    """
    if isinstance(ids.dtype, pd.CategoricalDtype):
        codes = ids.cat.codes.to_numpy()
        categories = pd.Index(ids.cat.categories, dtype=str)
        if vocabulary is None:
            order = pd.unique(codes)
            vocabulary = np.asarray(categories.take(order), dtype=object)
            position = np.full(len(categories), -1, dtype=np.int64)
            position[order] = np.arange(len(order))
        else:
            vocabulary = np.asarray(vocabulary, dtype=object)
            position = pd.Index(vocabulary).get_indexer(categories)
        index = position[codes]
    else:
        text = ids.astype(str)
        if vocabulary is None:
            vocabulary = pd.unique(text.to_numpy())
        vocabulary = np.asarray(vocabulary, dtype=object)
        index = pd.Index(vocabulary).get_indexer(text)
    if (index < 0).any():
        raise ValueError("interactions hold ids outside the given vocabulary")
    index = index.astype(np.int32)
    column = pd.Categorical.from_codes(index, categories=pd.Index(vocabulary, dtype=str), validate=False)
    return vocabulary, pd.Series(column, index=ids.index), index


@dataclass(frozen=True, eq=False)
class Dataset:
    """Ratings (or implicit interactions) with their vocabularies and metadata.

    Attributes
    ----------
    name : str
        Shown in the dashboard and the CLI.
    interactions : DataFrame
        One row per (user, item) pair in file order after clean-up, with
        columns ``user``, ``item`` (raw ids, str), ``rating`` (float),
        optionally ``timestamp`` (int64 seconds), and ``user_idx``,
        ``item_idx`` (dense indices into the vocabularies). ``user`` and
        ``item`` are categoricals over the vocabularies (their codes are the
        indices): the same strings, stored once per id.
    user_ids, item_ids : ndarray of str
        Vocabularies: index -> raw id. Splits keep the full vocabularies of the
        data set they come from, so indices agree between train and test.
    rating_scale : tuple of float
        (lowest, highest) rating allowed; predictions are clipped to it.
    implicit : bool
        True for implicit feedback: a file without a rating column (each row
        is an interaction, stored as rating 1.0) or with counts (plays,
        clicks: ``rating`` holds the count, an interaction strength, not a
        rating); see :attr:`feedback_kind`.
    items : DataFrame
        One row per item index: ``item`` (raw id), ``title`` and any text or
        ground-truth columns from the item metadata (``genres`` pipe-joined).
    users : DataFrame
        One row per user index: ``user`` (raw id) and any user metadata.
    report : tuple of str
        Clean-up steps applied while loading, each with its counts.
    """

    name: str
    interactions: pd.DataFrame
    user_ids: np.ndarray
    item_ids: np.ndarray
    rating_scale: tuple[float, float]
    implicit: bool
    items: pd.DataFrame
    users: pd.DataFrame
    report: tuple[str, ...] = ()
    fingerprint: str = field(default="")

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frames(
        cls,
        interactions: pd.DataFrame,
        *,
        name: str = "dataset",
        rating_scale: tuple[float, float] | None = None,
        implicit: bool = False,
        items: pd.DataFrame | None = None,
        users: pd.DataFrame | None = None,
        report: Iterable[str] = (),
        user_ids: np.ndarray | None = None,
        item_ids: np.ndarray | None = None,
        _indexed: bool = False,
    ) -> "Dataset":
        """Build from clean frames (validation has already happened in data.py).

        ``interactions`` needs ``user``, ``item``, ``rating`` and optionally
        ``timestamp``. ``items``/``users`` need an ``item``/``user`` column;
        rows for ids outside the vocabulary are dropped, missing ids get a
        row with empty text (title = raw id). Pass ``user_ids``/``item_ids``
        to keep a larger vocabulary (used by splits). ``user`` and ``item``
        may be categorical (as ``recsys_core.data`` passes them): the
        vocabularies then come from the codes, without hashing a string per
        row. ``_indexed`` (for :meth:`subset` only) trusts the frame's
        ``user_idx`` / ``item_idx`` columns as indices into the given vocabularies.
        """
        # A shallow copy: pandas' copy-on-write keeps the caller's frame as it was when columns are replaced.
        frame = interactions.copy(deep=False)
        if not (frame[RATING].dtype == np.float64):
            frame[RATING] = frame[RATING].astype(np.float64)
        if TIMESTAMP in frame.columns and not (frame[TIMESTAMP].dtype == np.int64):
            frame[TIMESTAMP] = frame[TIMESTAMP].astype(np.int64)
        if _indexed:
            user_ids, item_ids = np.asarray(user_ids, dtype=object), np.asarray(item_ids, dtype=object)
        else:
            user_ids, frame[USER], frame["user_idx"] = _vocabulary(frame[USER], user_ids)
            item_ids, frame[ITEM], frame["item_idx"] = _vocabulary(frame[ITEM], item_ids)
        columns = [USER, ITEM, RATING] + ([TIMESTAMP] if TIMESTAMP in frame.columns else [])
        frame = frame[columns + ["user_idx", "item_idx"]].reset_index(drop=True)

        items = _align_metadata(items, ITEM, item_ids)
        if "title" not in items.columns:
            items["title"] = items[ITEM]
        items["title"] = items["title"].fillna(items[ITEM]).astype(str)
        users = _align_metadata(users, USER, user_ids)
        if rating_scale is None:
            rating_scale = (float(frame[RATING].min()), float(frame[RATING].max())) if len(frame) else (1.0, 5.0)
        rating_scale = (float(rating_scale[0]), float(rating_scale[1]))
        dataset = cls(
            name=name,
            interactions=frame,
            user_ids=user_ids,
            item_ids=item_ids,
            rating_scale=rating_scale,
            implicit=bool(implicit),
            items=items,
            users=users,
            report=tuple(report),
        )
        fingerprint = _fingerprint(*_interaction_parts(frame, user_ids, item_ids), items, users)
        fingerprint += f"-{rating_scale}-{implicit}"
        object.__setattr__(dataset, "fingerprint", hashlib.sha256(fingerprint.encode()).hexdigest()[:16])
        return dataset

    def subset(self, rows: np.ndarray, name: str | None = None) -> "Dataset":
        """A data set of the given interaction rows (positions, in that order).

        Keeps the vocabularies, metadata and rating scale, so indices stay
        valid; used for train/test splits.
        """
        part = self.interactions.iloc[np.asarray(rows)]
        return Dataset.from_frames(
            part,
            name=name or self.name,
            rating_scale=self.rating_scale,
            implicit=self.implicit,
            items=self.items,
            users=self.users,
            report=self.report,
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            _indexed=True,  # the rows keep their indices into the same vocabularies
        )

    # ------------------------------------------------------------- accessors
    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_ratings(self) -> int:
        return len(self.interactions)

    @property
    def has_timestamps(self) -> bool:
        return TIMESTAMP in self.interactions.columns

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """User x item ratings as CSR (explicit zeros never occur: ratings > 0 or stored as given)."""
        frame = self.interactions
        matrix = sp.csr_matrix(
            (frame[RATING].to_numpy(), (frame["user_idx"].to_numpy(), frame["item_idx"].to_numpy())),
            shape=(self.n_users, self.n_items),
        )
        matrix.sort_indices()
        return matrix

    @cached_property
    def feedback_kind(self) -> str:
        """What the values are: ``"ratings"`` (explicit), ``"counts"`` or ``"unary"`` (implicit).

        Counts (plays, clicks, quantities) are implicit feedback whose ``rating`` column holds each
        interaction's strength; unary data holds 1.0 on every row. Derived from ``implicit`` and the values,
        so anything that stores a data set (experiments, sessions) keeps it without a field of its own.
        """
        if not self.implicit:
            return "ratings"
        values = self.interactions[RATING].to_numpy()
        return "unary" if not len(values) or bool((values == 1.0).all()) else "counts"

    @cached_property
    def global_mean(self) -> float:
        return float(self.interactions[RATING].mean()) if self.n_ratings else float(np.mean(self.rating_scale))

    @cached_property
    def user_counts(self) -> np.ndarray:
        """Number of interactions of each user index."""
        return np.bincount(self.interactions["user_idx"].to_numpy(), minlength=self.n_users)

    @cached_property
    def item_counts(self) -> np.ndarray:
        """Number of interactions of each item index (popularity)."""
        return np.bincount(self.interactions["item_idx"].to_numpy(), minlength=self.n_items)

    @cached_property
    def _user_lookup(self) -> pd.Index:
        return pd.Index(self.user_ids)

    @cached_property
    def _item_lookup(self) -> pd.Index:
        return pd.Index(self.item_ids)

    def user_index(self, raw_id: object) -> int:
        """Dense index of a raw user id; :class:`UnknownIdError` if absent."""
        position = self._user_lookup.get_indexer([str(raw_id)])[0]
        if position < 0:
            raise UnknownIdError(f"User '{raw_id}' is not in the data set '{self.name}'.")
        return int(position)

    def item_index(self, raw_id: object) -> int:
        """Dense index of a raw item id; :class:`UnknownIdError` if absent."""
        position = self._item_lookup.get_indexer([str(raw_id)])[0]
        if position < 0:
            raise UnknownIdError(f"Item '{raw_id}' is not in the data set '{self.name}'.")
        return int(position)

    def item_indices(self, raw_ids: Iterable[object]) -> np.ndarray:
        """Indices of many raw item ids (-1 where absent)."""
        return self._item_lookup.get_indexer([str(r) for r in raw_ids])

    def user_indices(self, raw_ids: Iterable[object]) -> np.ndarray:
        """Indices of many raw user ids (-1 where absent)."""
        return self._user_lookup.get_indexer([str(r) for r in raw_ids])

    def titles(self, item_idx: np.ndarray) -> np.ndarray:
        return self.items["title"].to_numpy()[np.asarray(item_idx, dtype=int)]

    def item_text(self) -> pd.Series:
        """One string per item index: title, genres and every other text column.

        Used by the content models; items without metadata get their title
        (the raw id) only.
        """
        skip = {ITEM, "genre_truth", "year"}
        parts = [self.items["title"].astype(str)]
        for column in self.items.columns:
            if column in skip or column == "title" or not _is_text(self.items[column]):
                continue
            values = self.items[column].fillna("").astype(str)
            if column in ("genres", "tags"):
                values = values.str.replace("|", ", ", regex=False)
            parts.append(values)
        # Join the non-empty parts only: an item without tags must not read "Title. . Genres".
        table = pd.concat([part.str.strip() for part in parts], axis=1).to_numpy(dtype=object)
        text = [". ".join(piece for piece in row if piece) for row in table]
        return pd.Series(text, index=self.items.index, dtype=object).str.replace(r"(\.\s*)+$", "", regex=True)

    def summary(self) -> dict[str, float]:
        """Users, items, ratings and density, for the dashboard and the CLI."""
        return {
            "users": self.n_users,
            "items": self.n_items,
            "ratings": self.n_ratings,
            "density": self.n_ratings / max(1, self.n_users * self.n_items),
            "rating_min": self.rating_scale[0],
            "rating_max": self.rating_scale[1],
        }


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column) or column.dtype == object


def _align_metadata(meta: pd.DataFrame | None, key: str, vocabulary: np.ndarray) -> pd.DataFrame:
    """One metadata row per vocabulary entry, in vocabulary order."""
    base = pd.DataFrame({key: vocabulary.astype(str)})
    if meta is None or len(meta) == 0:
        return base
    meta = meta.copy()
    meta[key] = meta[key].astype(str)
    meta = meta.drop_duplicates(subset=key, keep="first")
    return base.merge(meta, on=key, how="left")
