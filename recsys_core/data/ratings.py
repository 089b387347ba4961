"""Ratings: a parsed ratings file -> one clean (user, item, rating[, timestamp]) frame and its report."""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np
import pandas as pd

from ..dataset import ITEM, RATING, TIMESTAMP, USER
from ..errors import DataValidationError
from ._shared import _RATING_ROLES, FileFormat, Layout, Source, _count, _find_column, _how_read, _Ratings, _Table
from .columnar import _parse_columnar, _read_head, _release_memory
from .detection import _sniff
from .parsing import _parse
from .reading import _check_fits, _read_text
from .validation import (
    _clean_id_codes, _infer_scale, _parse_ratings, _parse_timestamps, _resolve_mapping, _rows_error, _skipping_malformed,
)


def _load_ratings(
    source: Source,
    name: str | None,
    mapping: Mapping[str, str | None] | None,
    rating_scale: tuple[float, float] | None,
    layout: Layout | None = None,
    skip_bad_lines: bool = False,
) -> _Ratings:
    _check_fits(source, name)
    head = _read_head(source, name)
    text = head or _read_text(source, name)
    fmt = _sniff(text, "ratings", layout)
    roles = _resolve_mapping(fmt, mapping, _RATING_ROLES, ("user", "item"))
    tag_column = _find_column(fmt.columns, "tag")
    if roles["rating"] is None and "rating" not in (mapping or {}) and tag_column is not None:
        raise DataValidationError(
            f"{fmt.name}: looks like a tag file (column '{tag_column}'), not ratings: it has no rating column. "
            "Load it as the tags of the items file, or map the rating to none to load each tag as an interaction."
        )
    numeric = tuple(c for c in (roles["rating"], roles["timestamp"]) if c is not None)
    ids = (roles["user"], roles["item"])
    table = _parse_columnar(source, text.name, fmt, numeric, ids) if head is not None else None
    if table is None:
        table = _parse(text if head is None else _read_text(source, name), fmt, numeric, skip_bad_lines)
    del text  # the table holds what is needed; the text is as large as the file
    ratings = _skipping_malformed(table, lambda t: _ratings_from_table(t, roles, rating_scale), skip_bad_lines)
    del table  # checked: from here on only the clean columns are held
    _release_memory()
    return _deduplicated(ratings, fmt)


def _ratings_from_table(
    table: _Table,
    roles: dict[str, str | None],
    rating_scale: tuple[float, float] | None,
) -> _Ratings:
    report = list(table.notes)
    user_ids, user_codes = _clean_id_codes(table, roles["user"], "user id", report)
    item_ids, item_codes = _clean_id_codes(table, roles["item"], "item id", report)
    # Ids as categories (one string per distinct id, an integer per row): Dataset.from_frames builds its
    # vocabularies from the codes, so no string is hashed per row again.
    columns = {USER: _categorical(user_codes, user_ids), ITEM: _categorical(item_codes, item_ids)}
    implicit = roles["rating"] is None
    if implicit:
        columns[RATING] = np.ones(len(user_codes))
        scale = (1.0, 1.0)
        note = " (the rating scale given was ignored)" if rating_scale is not None else ""
        report.append(f"{table.name}: no rating column: each row is one interaction (implicit feedback){note}.")
    else:
        columns[RATING], scale = _ratings_on_scale(table, roles["rating"], rating_scale, report)
    if roles["timestamp"] is not None:
        stamps = _parse_timestamps(table, roles["timestamp"], report)
        if stamps is not None:
            columns[TIMESTAMP] = stamps
    frame = pd.DataFrame(columns, copy=False)  # the checked arrays as they are, not copies
    return _Ratings(frame=frame, report=report, rating_scale=scale, implicit=implicit, name=table.name)


def _deduplicated(ratings: _Ratings, fmt: FileFormat) -> _Ratings:
    """One row per (user, item), and the report's summary line in front.

    Runs after the checks, once the parsed table is let go: on a large file
    with repeated pairs the copy of the rows kept is then the only large allocation.
    """
    frame, report = ratings.frame, list(ratings.report)
    user_codes, item_codes = frame[USER].cat.codes.to_numpy(), frame[ITEM].cat.codes.to_numpy()
    # Categories no row uses (rows skipped as malformed) are not counted.
    n_users = int(np.count_nonzero(np.bincount(user_codes, minlength=1)))
    n_items = int(np.count_nonzero(np.bincount(item_codes, minlength=1)))
    del user_codes, item_codes
    frame = _keep_latest(frame, ratings.name, report)
    # Keeping the latest of duplicates never removes an id's last row: every id is still rated.
    report.insert(
        0,
        f"{ratings.name}: {_count(len(frame), 'interaction' if ratings.implicit else 'rating')} by "
        f"{_count(n_users, 'user')} on {_count(n_items, 'item')}. "
        f"Read as {fmt.description}: {_how_read(fmt)}.",
    )
    frame.attrs["rating_scale"] = ratings.rating_scale
    frame.attrs["implicit"] = ratings.implicit
    return replace(ratings, frame=frame, report=report)


def _ratings_on_scale(
    table: _Table, column: str, rating_scale: tuple[float, float] | None, report: list[str]
) -> tuple[np.ndarray, tuple[float, float]]:
    """The ratings, checked against the scale given, or with the scale inferred (and noted)."""
    ratings = _parse_ratings(table, column, report)
    if rating_scale is None:
        scale = _infer_scale(ratings)
        report.append(
            f"{table.name}: rating scale {scale[0]:g} to {scale[1]:g} inferred from the ratings "
            f"(lowest {ratings.min():g}, highest {ratings.max():g})."
        )
        return ratings, scale
    low, high = float(rating_scale[0]), float(rating_scale[1])
    if not low < high:
        raise DataValidationError(
            f"{table.name}: the rating scale ({low:g}, {high:g}) is not valid: the lowest rating must be "
            "below the highest. Choose another rating scale."
        )
    outside = (ratings < low) | (ratings > high)
    if outside.any():
        raise _rows_error(
            table, column, outside, f"is outside the rating scale {low:g} to {high:g}",
            f"ratings from {low:g} to {high:g}",
            f"Correct or delete these rows, or choose a rating scale that covers them (the file holds "
            f"ratings from {ratings.min():g} to {ratings.max():g}).",
        )
    return ratings, (low, high)


def _keep_latest(frame: pd.DataFrame, name: str, report: list[str]) -> pd.DataFrame:
    """One row per (user, item) pair: the latest by timestamp, else the last in the file (counted in the report).

    The frame is copied only when rows go.
    """
    from ._latest import latest_rows  # numba: imported on first load, not with the package

    times = frame[TIMESTAMP].to_numpy() if TIMESTAMP in frame.columns else None
    keep = latest_rows(frame[USER].cat.codes.to_numpy(), frame[ITEM].cat.codes.to_numpy(), times)
    if keep is None:  # the usual case
        return frame
    how = "by timestamp; the last line on equal times" if times is not None else "the last one in the file"
    before = len(frame)
    frame = frame[keep].reset_index(drop=True)
    report.append(f"{name}: {before - len(frame):,} duplicate (user, item) rows: kept the latest ({how}).")
    return frame


def _categorical(codes: np.ndarray, ids: np.ndarray) -> pd.Categorical:
    """Ids as a categorical column: ``ids`` (distinct text) as the categories, ``codes`` per row."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(ids, dtype=str), validate=False)
