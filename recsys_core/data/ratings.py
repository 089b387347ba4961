"""Ratings: a parsed ratings file -> one clean (user, item, rating[, timestamp]) frame and its report."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ..dataset import ITEM, RATING, TIMESTAMP, USER
from ..errors import DataValidationError
from ._shared import _RATING_ROLES, Layout, Source, _count, _find_column, _how_read, _Ratings, _Table
from .detection import _sniff
from .parsing import _parse
from .reading import _read_text
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
    text = _read_text(source, name)
    fmt = _sniff(text, "ratings", layout)
    roles = _resolve_mapping(fmt, mapping, _RATING_ROLES, ("user", "item"))
    tag_column = _find_column(fmt.columns, "tag")
    if roles["rating"] is None and "rating" not in (mapping or {}) and tag_column is not None:
        raise DataValidationError(
            f"{fmt.name}: looks like a tag file (column '{tag_column}'), not ratings: it has no rating column. "
            "Load it as the tags of the items file, or map the rating to none to load each tag as an interaction."
        )
    numeric = tuple(c for c in (roles["rating"], roles["timestamp"]) if c is not None)
    table = _parse(text, fmt, numeric, skip_bad_lines)
    del text  # the table holds what is needed; the text is as large as the file
    return _skipping_malformed(table, lambda t: _ratings_from_table(t, roles, rating_scale), skip_bad_lines)


def _ratings_from_table(
    table: _Table,
    roles: dict[str, str | None],
    rating_scale: tuple[float, float] | None,
) -> _Ratings:
    report = list(table.notes)
    users, user_codes = _clean_id_codes(table, roles["user"], "user id", report)
    items, item_codes = _clean_id_codes(table, roles["item"], "item id", report)
    frame = pd.DataFrame({USER: users, ITEM: items})
    implicit = roles["rating"] is None
    if implicit:
        frame[RATING] = 1.0
        scale = (1.0, 1.0)
        note = " (the rating scale given was ignored)" if rating_scale is not None else ""
        report.append(f"{table.name}: no rating column: each row is one interaction (implicit feedback){note}.")
    else:
        ratings, scale = _ratings_on_scale(table, roles["rating"], rating_scale, report)
        frame[RATING] = ratings
    if roles["timestamp"] is not None:
        stamps = _parse_timestamps(table, roles["timestamp"], report)
        if stamps is not None:
            frame[TIMESTAMP] = stamps
    # One integer per (user, item) pair: comparing pairs of strings costs seconds and a GB on large files.
    pairs = user_codes.astype(np.int64) * (int(item_codes.max(initial=0)) + 1) + item_codes
    frame = _keep_latest(frame, pairs, table.name, report)
    report.insert(
        0,
        f"{table.name}: {_count(len(frame), 'interaction' if implicit else 'rating')} by "
        f"{_count(frame[USER].nunique(), 'user')} on {_count(frame[ITEM].nunique(), 'item')}. "
        f"Read as {table.fmt.description}: {_how_read(table.fmt)}.",
    )
    frame.attrs["rating_scale"] = scale
    frame.attrs["implicit"] = implicit
    return _Ratings(frame=frame, report=report, rating_scale=scale, implicit=implicit, name=table.name)


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


def _keep_latest(frame: pd.DataFrame, pairs: np.ndarray, name: str, report: list[str]) -> pd.DataFrame:
    """One row per (user, item) pair (``pairs``: one integer per pair): the latest by timestamp, else the
    last in the file (counted in the report)."""
    before = len(frame)
    if TIMESTAMP in frame.columns:
        # Stable sort: equal times keep file order, so "latest" is then the last line.
        order = np.argsort(frame[TIMESTAMP].to_numpy(), kind="stable")
        latest = ~pd.Series(pairs[order]).duplicated(keep="last").to_numpy()
        frame = frame.iloc[np.sort(order[latest])]
        how = "by timestamp; the last line on equal times"
    else:
        frame = frame[~pd.Series(pairs).duplicated(keep="last").to_numpy()]
        how = "the last one in the file"
    frame = frame.reset_index(drop=True)
    if len(frame) < before:
        report.append(f"{name}: {before - len(frame):,} duplicate (user, item) rows: kept the latest ({how}).")
    return frame
