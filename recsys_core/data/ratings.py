"""Ratings: a parsed ratings file -> one clean (user, item, rating[, timestamp]) frame and its report."""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np
import pandas as pd

from ..dataset import ITEM, RATING, TIMESTAMP, USER
from ..errors import DataValidationError
from ._shared import (
    _RATING_ROLES, COUNT_NAMES, EXPLICIT_NAMES, FileFormat, Layout, Source, _count, _find_column, _how_read, _norm,
    _Ratings, _Table,
)
from .columnar import _parse_columnar, _read_head, _release_memory
from .detection import _sniff
from .parsing import _parse
from .reading import _check_fits, _read_text
from .validation import (
    _clean_id_codes, _infer_scale, _missing, _parse_ratings, _parse_timestamps, _resolve_mapping, _rows_error,
    _skipping_malformed,
)


def _load_ratings(
    source: Source,
    name: str | None,
    mapping: Mapping[str, str | None] | None,
    rating_scale: tuple[float, float] | None,
    layout: Layout | None = None,
    skip_bad_lines: bool = False,
    feedback: str = "auto",
    event_weights: Mapping[str, float] | None = None,
) -> _Ratings:
    if feedback not in FEEDBACK_KINDS:
        raise DataValidationError(
            f"feedback must be one of {', '.join(FEEDBACK_KINDS)} (what the value column holds), not {feedback!r}."
        )
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
    if feedback == "events":
        _events_roles(fmt, roles, mapping)
    elif roles["event"] is not None and roles["rating"] is not None and "event" not in (mapping or {}):
        roles["event"] = None  # a value column wins over a recognised event column unless the mapping names it
    value = roles["rating"] if feedback != "unary" else None  # unary: the value column is not read
    numeric = tuple(c for c in (value, roles["timestamp"]) if c is not None)
    ids = (roles["user"], roles["item"])
    table = _parse_columnar(source, text.name, fmt, numeric, ids) if head is not None else None
    if table is None:
        table = _parse(text if head is None else _read_text(source, name), fmt, numeric, skip_bad_lines)
    del text  # the table holds what is needed; the text is as large as the file
    if feedback == "counts" and roles["rating"] is None:
        raise DataValidationError(
            f"{fmt.name}: feedback 'counts' needs a column of counts, but no value column is mapped (columns found: "
            f"{', '.join(map(repr, fmt.columns))}). Map the count column (e.g. --rating-col), or choose feedback "
            "'unary' to load each line as one interaction."
        )
    ratings = _skipping_malformed(
        table, lambda t: _ratings_from_table(t, roles, rating_scale, feedback, event_weights), skip_bad_lines)
    del table  # checked: from here on only the clean columns are held
    _release_memory()
    return _deduplicated(ratings, fmt)


#: What a ratings file's value column may hold: detected (``auto``), explicit ratings, counts (plays, clicks,
#: quantities: implicit feedback with a strength), nothing that matters (``unary``: each line one interaction)
#: or an event log (``events``: a column of event types, weighted per type and summed per pair into counts).
FEEDBACK_KINDS = ("auto", "ratings", "counts", "unary", "events")


def _events_roles(fmt, roles: dict[str, str | None], mapping: Mapping[str, str | None] | None) -> None:
    """Feedback 'events': the event-type column (detected or mapped) gives the weights; a value column is not read."""
    if roles["event"] is None:
        raise DataValidationError(
            f"{fmt.name}: feedback 'events' needs a column of event types (such as view, addtocart, transaction), "
            f"but none was found or mapped (columns found: {', '.join(map(repr, fmt.columns))}). Map it (--event-col "
            "or the Data page's 'Event type'), or choose feedback 'counts' or 'unary'."
        )
    if roles["rating"] is not None:
        if "rating" in (mapping or {}):
            raise DataValidationError(
                f"{fmt.name}: feedback 'events' weighs each line by its event type ('{roles['event']}'), so a value "
                f"column cannot also be read; column '{roles['rating']}' is mapped as the value. Map the value to "
                "none, or choose feedback 'counts' to read that column instead."
            )
        roles["rating"] = None  # detected, not chosen: the event types decide
#: A headerless or unnamed value column is read as counts when its values are whole, non-negative, reach above
#: this and their largest is at least ``_TAIL_RATIO`` times their median: no rating scale has such a tail.
_COUNT_MIN_MAX = 10
_TAIL_RATIO = 5.0


def _ratings_from_table(
    table: _Table,
    roles: dict[str, str | None],
    rating_scale: tuple[float, float] | None,
    feedback: str = "auto",
    event_weights: Mapping[str, float] | None = None,
) -> _Ratings:
    report = list(table.notes)
    user_ids, user_codes = _clean_id_codes(table, roles["user"], "user id", report)
    item_ids, item_codes = _clean_id_codes(table, roles["item"], "item id", report)
    column = roles["rating"]
    kind = "unary" if column is None or feedback == "unary" else "ratings"
    keep = None
    if roles.get("event") is not None and column is None and feedback != "unary":
        values, scale = _event_weights(table, roles["event"], event_weights, report)
        kind = "counts"
        keep = values > 0 if (values == 0).any() else None  # a type weighted 0 is no interaction
    elif kind == "unary":
        values = np.ones(len(user_codes))
        scale = (1.0, 1.0)
        note = " (the rating scale given was ignored)" if rating_scale is not None else ""
        if column is None:
            report.append(f"{table.name}: no rating column: each row is one interaction (implicit feedback){note}.")
        else:
            report.append(f"{table.name}: feedback 'unary': {table.label(column)} is ignored, each row is one "
                          f"interaction (implicit feedback){note}.")
    else:
        values = _parse_ratings(table, column, report)
        kind, reason = _feedback_kind(table, column, values, feedback, rating_scale)
        if kind == "counts":
            values, scale, keep = _counts(table, column, values, reason, report)
        else:
            if reason:
                report.append(reason)
            values, scale = _ratings_on_scale(table, column, rating_scale, report, values)
    # Ids as categories (one string per distinct id, an integer per row): Dataset.from_frames builds its
    # vocabularies from the codes, so no string is hashed per row again.
    columns = {USER: _categorical(user_codes, user_ids), ITEM: _categorical(item_codes, item_ids), RATING: values}
    if roles["timestamp"] is not None:
        stamps = _parse_timestamps(table, roles["timestamp"], report)
        if stamps is not None:
            columns[TIMESTAMP] = stamps
    frame = pd.DataFrame(columns, copy=False)  # the checked arrays as they are, not copies
    if keep is not None:  # zero counts: no interaction
        frame = frame[keep].reset_index(drop=True)
    return _Ratings(frame=frame, report=report, rating_scale=scale, implicit=kind != "ratings", name=table.name,
                    kind=kind)


def _feedback_kind(
    table: _Table, column: str, values: np.ndarray, feedback: str, rating_scale: tuple[float, float] | None
) -> tuple[str, str]:
    """("ratings" or "counts", why), for a value column: the caller's choice, else its name, else its values."""
    label = table.label(column)
    if feedback in ("ratings", "counts"):
        return feedback, f"{table.name}: {label} read as {'counts' if feedback == 'counts' else 'ratings'}, as asked."
    if rating_scale is not None:
        return "ratings", f"{table.name}: {label} read as ratings (a rating scale was given)."
    if not len(values):
        return "ratings", ""
    low, high, median = float(values.min()), float(values.max()), float(np.median(values))
    whole = bool(np.all(values == np.round(values)))
    seen = f"{'integers' if whole else 'numbers'} {low:g}–{high:g}, median {median:g}"
    name = _norm(column) if table.fmt.has_header else ""
    if name in {_norm(n) for n in COUNT_NAMES}:
        return "counts", (f"{table.name}: {label}: {seen}; named like counts (plays, clicks, quantities): read as "
                          "counts, i.e. implicit feedback whose value is an interaction strength, not a rating. "
                          "Choose feedback 'ratings' if these are ratings.")
    if name in {_norm(n) for n in EXPLICIT_NAMES}:
        return "ratings", ""
    if whole and low >= 0 and high > _COUNT_MIN_MAX and high >= _TAIL_RATIO * max(median, 1.0):
        return "counts", (f"{table.name}: {label}: {seen}: a heavy tail no rating scale has, so read as counts "
                          "(plays, clicks), i.e. implicit feedback whose value is an interaction strength. Choose "
                          "feedback 'ratings' if these are ratings.")
    if whole and low >= 0 and high <= _COUNT_MIN_MAX and name:
        # Small whole numbers under a name that says neither (value, score, n ...): stars or small counts.
        return "ratings", (f"{table.name}: {label}: {seen}: could be stars or small counts, and the column's name "
                           "does not say; read as ratings. Choose feedback 'counts' (What the values are, or "
                           "--feedback counts) if these count plays, clicks or purchases.")
    return "ratings", ""


#: Weight of one event of each usual type (lower case): a purchase says more than a view. Types not listed weigh 1.
DEFAULT_EVENT_WEIGHTS = {
    "view": 1.0, "click": 1.0, "pageview": 1.0, "detail": 1.0,
    "addtocart": 3.0, "add_to_cart": 3.0, "cart": 3.0, "addtowishlist": 2.0, "wishlist": 2.0, "fav": 2.0,
    "transaction": 5.0, "purchase": 5.0, "buy": 5.0, "order": 5.0, "checkout": 5.0,
}
#: An event column with more distinct values than this is not a type (a free-text or id column mapped by mistake).
_MAX_EVENT_TYPES = 50


def _event_weights(
    table: _Table, column: str, weights: Mapping[str, float] | None, report: list[str]
) -> tuple[np.ndarray, tuple[float, float]]:
    """Each line's weight by its event type (``weights`` over the defaults); summed per pair later (counts)."""
    raw = table.frame[column]
    types = raw.astype(str).str.strip().str.lower()
    empty = _missing(types).to_numpy()
    if empty.any():
        raise _rows_error(table, column, empty, "is empty", "an event type on every line, such as view or "
                          "transaction", "Fill in or delete these rows, or map the event type to none.",
                          malformed=True)
    seen = types.value_counts()
    if len(seen) > _MAX_EVENT_TYPES:
        shown = ", ".join(f"'{t}'" for t in seen.index[:5])
        raise DataValidationError(
            f"{table.name}: {table.label(column)} holds {len(seen):,} different values ({shown}, ...), too many "
            f"for event types (at most {_MAX_EVENT_TYPES}: view, addtocart, transaction...). Map the event type to "
            "the column with the types, or to none."
        )
    table_weights = {**DEFAULT_EVENT_WEIGHTS, **{str(k).lower(): float(v) for k, v in (weights or {}).items()}}
    bad = [t for t, w in table_weights.items() if not (np.isfinite(w) and w >= 0)]
    if bad:
        raise DataValidationError(f"{table.name}: event weights must be numbers of zero or more; "
                                  f"'{bad[0]}' has {table_weights[bad[0]]!r}.")
    per_type = {t: table_weights.get(t, 1.0) for t in seen.index}
    values = types.map(per_type).to_numpy(dtype=np.float64)
    listed = ", ".join(f"{t} ({_count(int(n), 'line')}, weight {per_type[t]:g})" for t, n in seen.items())
    report.append(f"{table.name}: event log: {table.label(column)} holds {listed}; each (user, item) pair's "
                  "weights are summed into one count (implicit feedback).")
    keep = values > 0
    if not keep.any():
        raise DataValidationError(f"{table.name}: every event type weighs 0, so there is no interaction left.")
    return values, (float(values[keep].min()), float(values.max()))


def _counts(
    table: _Table, column: str, values: np.ndarray, reason: str, report: list[str]
) -> tuple[np.ndarray, tuple[float, float], np.ndarray | None]:
    """Counts checked (non-negative), their scale, and the rows to keep (``None``: all; zero counts go)."""
    negative = values < 0
    if negative.any():
        raise _rows_error(
            table, column, negative, "is negative", "counts of zero or more (plays, clicks, quantities)",
            "Correct or delete these rows, or choose feedback 'ratings' if the column holds ratings.",
        )
    report.append(reason)
    zero = values == 0
    keep = None
    if zero.all():
        raise DataValidationError(
            f"{table.name}: {table.label(column)} is 0 on every row ({_count(len(values), 'row')}), so as counts "
            "there is no interaction at all. Check the column mapping, or choose feedback 'unary' to load each "
            "line as one interaction."
        )
    if zero.any():
        keep = ~zero
        report.append(f"{table.name}: {_count(int(zero.sum()), 'row')} with a count of 0 left out (no interaction).")
    kept = values if keep is None else values[keep]
    return values, (float(kept.min()), float(kept.max())), keep


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
    frame = _summed(frame, ratings.name, report) if ratings.kind == "counts" else _keep_latest(frame, ratings.name, report)
    # Keeping the latest of duplicates never removes an id's last row: every id is still rated.
    report.insert(
        0,
        f"{ratings.name}: {_count(len(frame), 'interaction' if ratings.implicit else 'rating')} by "
        f"{_count(n_users, 'user')} on {_count(n_items, 'item')}. "
        f"Read as {fmt.description}: {_how_read(fmt)}.",
    )
    scale = ratings.rating_scale
    if ratings.kind == "counts" and len(frame):  # repeated pairs were added: the largest count may have grown
        values = frame[RATING].to_numpy()
        scale = (float(values.min()), float(values.max()))
    frame.attrs["rating_scale"] = scale
    frame.attrs["implicit"] = ratings.implicit
    frame.attrs["feedback_kind"] = ratings.kind
    return replace(ratings, frame=frame, report=report, rating_scale=scale)


def _ratings_on_scale(
    table: _Table, column: str, rating_scale: tuple[float, float] | None, report: list[str],
    ratings: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple[float, float]]:
    """The ratings (parsed here unless given), checked against the scale given, or with the scale inferred (and noted)."""
    if ratings is None:
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


def _summed(frame: pd.DataFrame, name: str, report: list[str]) -> pd.DataFrame:
    """One row per (user, item) pair with the counts of repeated pairs added (plays of one artist on two lines
    are more plays, not a correction); the row kept is the first, with the latest time. Counted in the report."""
    user_codes = frame[USER].cat.codes.to_numpy().astype(np.int64)
    item_codes = frame[ITEM].cat.codes.to_numpy().astype(np.int64)
    key = user_codes * (int(item_codes.max(initial=0)) + 1) + item_codes
    unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if len(unique) == len(key):  # the usual case
        return frame
    order = np.sort(first)  # first appearances, in file order
    position = np.empty(len(unique), dtype=np.int64)
    position[np.argsort(first)] = np.arange(len(unique))
    group = position[inverse.ravel()]
    out = frame.iloc[order].reset_index(drop=True)
    out[RATING] = np.bincount(group, weights=frame[RATING].to_numpy(), minlength=len(unique))
    if TIMESTAMP in frame.columns:
        latest = np.full(len(unique), np.iinfo(np.int64).min)
        np.maximum.at(latest, group, frame[TIMESTAMP].to_numpy())
        out[TIMESTAMP] = latest
    report.append(f"{name}: {len(key) - len(unique):,} repeated (user, item) rows: their counts were added.")
    return out


def _categorical(codes: np.ndarray, ids: np.ndarray) -> pd.Categorical:
    """Ids as a categorical column: ``ids`` (distinct text) as the categories, ``codes`` per row."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(ids, dtype=str), validate=False)
