"""Validation and clean-up notes: every check of the values, with messages for a person.

Each message names the file, the column, the first offending lines (1-based,
the header line counted) with their count, what was expected and what to do.
Rows that cannot be read at all raise :class:`MalformedLinesError`, which
``skip_bad_lines`` turns into skipped, counted and listed lines.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Mapping, TypeVar

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ._shared import (
    _MISSING, _ROLE_LABELS, _SHOW_ROWS, _SKIP_HINT, ROLE_NAMES, FileFormat, _count, _find_column, _line_list, _Table,
)


class MalformedLinesError(DataValidationError):
    """Lines that cannot be read as rows: the wrong number of fields, an empty id, a rating or time that is not one.

    Loading again with ``skip_bad_lines=True`` skips these lines and lists them
    in the report; the dashboard offers that after showing this error. (It
    lives here rather than in ``errors.py`` because only the loader raises it.)

    Attributes
    ----------
    file_name : str
        The file the lines are in.
    line_numbers : tuple of int
        Every offending line, 1-based as an editor shows them.
    """

    def __init__(self, message: str, file_name: str, line_numbers: np.ndarray, reason: str,
                 rows: np.ndarray | None = None):
        super().__init__(message)
        self.file_name = file_name
        self.line_numbers = tuple(int(n) for n in line_numbers)
        self.reason = reason
        # Positions in the parsed table, so the loader can drop exactly these rows and try again.
        self.rows = rows


def _rows_error(
    table: _Table, column: str, mask: np.ndarray | pd.Series, problem: str, expected: str, action: str,
    malformed: bool = False,
) -> DataValidationError:
    """A message naming the file, the column, the first lines and the count.

    ``malformed``: the rows cannot be read at all (not a value outside a chosen
    range), so they may be skipped on request: a :class:`MalformedLinesError`.
    """
    positions = np.flatnonzero(np.asarray(mask, dtype=bool))
    raw = table.frame[column].to_numpy()
    numeric = raw.dtype.kind == "f"  # parsed as numbers: show 6, not 6.0
    shown = []
    for position in positions[:_SHOW_ROWS]:
        value = f"{raw[position]:g}" if numeric else str(raw[position])
        shown.append(f"line {table.lines[position]} ({'empty' if not value.strip() else repr(value[:40])})")
    more = f" and {len(positions) - _SHOW_ROWS} more" if len(positions) > _SHOW_ROWS else ""
    count = f"{len(positions):,} row{'s' if len(positions) != 1 else ''}"
    message = (f"{table.name}: {table.label(column)} {problem} on {count}: {', '.join(shown)}{more}. "
               f"Expected {expected}. {action}")
    if not malformed:
        return DataValidationError(message)
    return MalformedLinesError(f"{message} {_SKIP_HINT}", table.name, table.lines[positions],
                               f"{table.label(column)} {problem}", rows=positions)


_Built = TypeVar("_Built")


def _skipping_malformed(table: _Table, build: Callable[[_Table], _Built], skip_bad_lines: bool) -> _Built:
    """``build(table)``; with ``skip_bad_lines``, the rows it finds unreadable are dropped and listed, and it runs again.

    Each check that can fail on a row raises with exactly those rows, so the
    checks stay written once; every round drops at least one row.
    """
    while True:
        try:
            return build(table)
        except MalformedLinesError as error:
            if not skip_bad_lines or error.rows is None:
                raise
            keep = np.ones(len(table.frame), dtype=bool)
            keep[error.rows] = False
            if not keep.any():
                raise DataValidationError(
                    f"{table.name}: {error.reason} on every row ({_count(len(keep), 'row')}), so skipping the "
                    "malformed lines leaves nothing to load. Check the column mapping and the separator."
                ) from None
            note = (f"{table.name}: skipped {_count(len(error.rows), 'malformed line')} where {error.reason}: "
                    f"{_line_list(table.lines[error.rows])}.")
            table = replace(table, frame=table.frame[keep].reset_index(drop=True), lines=table.lines[keep],
                            notes=table.notes + [note])


_MISSING_SPELLINGS = sorted(
    {v for t in _MISSING for v in (t, t.upper(), t.title(), t.capitalize())} | {"NaN", "NaT"}
)


def _missing(values: pd.Series) -> pd.Series:
    # isin on the usual spellings: 3x faster than lower-casing every value.
    return values.isin(_MISSING_SPELLINGS)


def _resolve_mapping(
    fmt: FileFormat,
    mapping: Mapping[str, str | None] | None,
    roles: tuple[str, ...],
    required: tuple[str, ...],
) -> dict[str, str | None]:
    """Role -> column: explicit mapping first, recognised names for the rest.

    A role mapped to ``None`` means "this file has no such column" (for
    ``rating``: load as implicit feedback).
    """
    columns = fmt.columns
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(roles))
    if unknown:
        raise DataValidationError(
            f"{fmt.name}: the column mapping names unknown role(s) {', '.join(map(repr, unknown))}; "
            f"the roles are {', '.join(roles)}."
        )
    resolved: dict[str, str | None] = {}
    for role in roles:
        if role in mapping:
            column = mapping[role]
            if column is not None and column not in columns:
                raise DataValidationError(
                    f"{fmt.name}: the column mapping takes the {_ROLE_LABELS[role]} from column '{column}', "
                    f"but the file has no such column. Columns found: {', '.join(map(repr, columns))}. "
                    "Choose one of these in the column mapping."
                )
            resolved[role] = column
        else:
            resolved[role] = _find_column(columns, role)
    for role in required:
        if resolved.get(role) is None:
            looks = f" It looks like {fmt.description}." if fmt.kind != "unknown" else ""
            raise DataValidationError(
                f"{fmt.name}: no {_ROLE_LABELS[role]} column found. Columns found: "
                f"{', '.join(map(repr, columns))}. Recognised names for the {_ROLE_LABELS[role]} (any case): "
                f"{', '.join(ROLE_NAMES[role])}.{looks} Rename the column in the file or choose it in the "
                f"column mapping (on the command line: --{'rating' if role == 'rating' else role}-col NAME)."
            )
    used = [c for c in resolved.values() if c is not None]
    clash = sorted({c for c in used if used.count(c) > 1})
    if clash:
        raise DataValidationError(
            f"{fmt.name}: column '{clash[0]}' is mapped to more than one role "
            f"({', '.join(r for r, c in resolved.items() if c == clash[0])}). Map each role to its own column."
        )
    return resolved


def _clean_ids(table: _Table, column: str, what: str, report: list[str]) -> pd.Series:
    ids, codes = _clean_id_codes(table, column, what, report)
    return pd.Series(pd.array(ids, dtype=str).take(codes))


def _clean_id_codes(table: _Table, column: str, what: str, report: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ids stripped (text, as written, in order of first appearance) and each row's index into them.

    Cleaned once per distinct id, never a string object per row: a ratings
    file repeats each id many times (see benchmarks/load_memory.py). The codes
    let the caller compare and group ids as integers.
    """
    values = table.frame[column]
    if isinstance(values.dtype, pd.CategoricalDtype):  # read by pyarrow: one string per distinct id already
        codes, distinct = values.cat.codes.to_numpy(), values.cat.categories
    else:  # factorised as read: to_numpy() first would make a string object per row
        codes, distinct = pd.factorize(values, use_na_sentinel=False)
    cleaned = pd.Series(np.asarray(distinct, dtype=object), dtype=object).astype(str).str.strip()
    missing_ids = _missing(cleaned).to_numpy()
    missing = missing_ids[codes] if missing_ids.any() else None  # a row per id only when some id is empty
    if missing is not None and missing.any():
        raise _rows_error(
            table, column, missing, "is empty (or NaN)", f"a {what} on every row",
            "Fill in or delete these rows, then load the file again.", malformed=True,
        )
    # Ids exported through a float column ("12.0") would never match "12" in
    # the other files.
    first = cleaned.iloc[int(codes[0])] if len(codes) else ""
    if first.endswith(".0") and cleaned.str.fullmatch(r"\d+\.0").all():
        cleaned = cleaned.str.slice(0, -2)
        report.append(f"{table.name}: {what}s written like '12.0' read as '12'.")
    # Cleaning can make two spellings one id (" 7" and "7"): codes of the cleaned ids.
    merged, ids = pd.factorize(cleaned.to_numpy(dtype=object))
    codes = codes.astype(np.int32, copy=False) if len(ids) < 2**31 else codes
    if len(ids) < len(cleaned):
        codes = merged.astype(codes.dtype)[codes]
    return np.asarray(ids, dtype=object), codes


#: Largest rating magnitude read: beyond it a "rating" is an id or a total in the wrong column, and its
#: square (which models and metrics compute) would overflow to inf.
_RATING_LIMIT = 1e9
#: Unix seconds pandas can show as dates (datetime64[ns]: the years 1677 to 2262).
_TIME_LIMIT = 9_223_372_036


def _parse_ratings(table: _Table, column: str, report: list[str]) -> np.ndarray:
    if table.frame[column].dtype == np.float64:  # parsed as numbers, all finite (see _parse)
        return _within_limit(table, column, table.frame[column].to_numpy())
    raw = table.frame[column].str.strip()
    missing = _missing(raw)
    if missing.any():
        raise _rows_error(
            table, column, missing, "is empty (or NaN)", "a rating on every row",
            "Fill in or delete these rows. If the file has no ratings at all (clicks, purchases), map the rating "
            "to none to load it as implicit feedback.", malformed=True,
        )
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    bad = ~np.isfinite(numbers)
    if bad.any():
        # Semicolon files from European spreadsheets write 3,5 for 3.5. Fixed first, so an error
        # (or skipping) names only the values that are not numbers at all.
        comma = bad & raw.str.fullmatch(r"-?\d+,\d+").to_numpy(dtype=bool) if table.fmt.separator != "," else bad & False
        if comma.any():
            numbers[comma] = pd.to_numeric(raw[comma].str.replace(",", ".", regex=False)).to_numpy(np.float64)
            bad = ~np.isfinite(numbers)
            report.append(f"{table.name}: ratings with a decimal comma (3,5) read as 3.5.")
        if bad.any():
            raise _rows_error(
                table, column, bad, "is not a number", "a number on every row, such as 4 or 3.5",
                "Correct or delete these rows, or map the rating to another column, then load the file again.",
                malformed=True,
            )
    return _within_limit(table, column, numbers)


def _within_limit(table: _Table, column: str, ratings: np.ndarray) -> np.ndarray:
    huge = _beyond(ratings, _RATING_LIMIT)
    if huge is not None and huge.any():
        raise _rows_error(
            table, column, huge, "is too large to be a rating", f"ratings between {-_RATING_LIMIT:,.0f} and "
            f"{_RATING_LIMIT:,.0f}, such as 4 or 3.5",
            "Check that the rating column is mapped to the ratings (not an id or a count), then correct or delete "
            "these rows.", malformed=True,
        )
    return ratings


def _beyond(values: np.ndarray, limit: float) -> np.ndarray | None:
    """Rows whose magnitude exceeds ``limit``; ``None`` when none can (the usual case, found without an array per row)."""
    if not len(values) or (-limit <= values.min() and values.max() <= limit):
        return None
    return np.abs(values) > limit


def _infer_scale(values: np.ndarray) -> tuple[float, float]:
    """Snap the observed range to the common scales (1-5, 0.5-5, 1-10 ...)."""
    low, high = float(values.min()), float(values.max())
    values = pd.unique(values)  # a rating file holds a handful of distinct values
    whole = bool(np.all(values == np.round(values)))
    halves = bool(np.all(values * 2 == np.round(values * 2)))
    for (lo, hi), ok in (
        ((1.0, 5.0), whole),
        ((0.5, 5.0), halves),
        ((1.0, 10.0), whole),
        ((0.0, 5.0), whole),
        ((0.0, 10.0), whole),
        ((0.5, 10.0), halves),
    ):
        if ok and low >= lo and high <= hi:
            return lo, hi
    return low, high


def _parse_timestamps(table: _Table, column: str, report: list[str]) -> np.ndarray | None:
    if table.frame[column].dtype == np.float64:  # parsed as numbers, all finite (see _parse)
        return _seconds(table, column, table.frame[column].to_numpy(), report)
    raw = table.frame[column].str.strip()
    missing = _missing(raw)
    if missing.all():
        report.append(f"{table.name}: {table.label(column)} is empty: loaded without timestamps.")
        return None
    if missing.any():
        raise _rows_error(
            table, column, missing, "is empty (or NaN)", "a time on every row (or none at all)",
            "Fill in or delete these rows, or map the timestamp to none to load the file without times.",
            malformed=True,
        )
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    finite = np.isfinite(numbers)
    if finite.all():
        return _seconds(table, column, numbers, report)
    # Mostly unix times: the others are the odd ones out (read as dates, every unix time would be "not a time").
    bad = ~finite if finite.mean() >= 0.5 else None
    if bad is None:
        dates = pd.to_datetime(raw, format="ISO8601", utc=True, errors="coerce")
        bad = dates.isna().to_numpy()
    if bad.any():
        raise _rows_error(
            table, column, bad, "is not a time",
            "unix seconds (such as 978300760) or ISO dates (such as 2009-09-13 or 2009-09-13T10:00:00)",
            "Correct or delete these rows, or map the timestamp to none to load the file without times.",
            malformed=True,
        )
    report.append(f"{table.name}: dates in {table.label(column)} converted to unix seconds (UTC).")
    return ((dates - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def _seconds(table: _Table, column: str, numbers: np.ndarray, report: list[str]) -> np.ndarray:
    """Unix seconds (int64) from seconds or milliseconds; times no calendar can show are named rows."""
    milliseconds = np.median(numbers) > 1e11  # milliseconds since 1970 (Java, JavaScript exports)
    seconds = numbers / 1000.0 if milliseconds else numbers
    # Checked before the cast: a larger value would wrap around int64 silently.
    beyond = _beyond(seconds, _TIME_LIMIT)
    if beyond is not None and beyond.any():
        raise _rows_error(
            table, column, beyond, "is not a time (too far from 1970)",
            "unix seconds (such as 978300760) or milliseconds, between the years 1677 and 2262",
            "Correct or delete these rows, or map the timestamp to none to load the file without times.",
            malformed=True,
        )
    if milliseconds:
        report.append(f"{table.name}: timestamps in milliseconds converted to seconds.")
    whole = seconds.astype(np.int64)  # toward zero; below, one less where that rounded a negative time up
    whole -= whole > seconds
    return whole
