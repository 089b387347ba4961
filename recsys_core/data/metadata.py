"""Metadata: item and user files -> one row per id, aligned with the ratings.

Numbers become numeric columns, empty columns and web links are left out,
repeated ids keep their first row, rows nobody rated are dropped: each step
counted in the report.
"""
from __future__ import annotations

import re
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from ..dataset import ITEM, USER
from ..errors import DataValidationError
from ._shared import (
    _ITEM_ROLES, _USER_ROLES, FileFormat, Layout, Source, _count, _how_read, _norm, _Ratings, _Table,
)
from .known_formats import _GOODBOOKS_KEEP, _ML100K_ITEM_COLUMNS, _ML1M_OCCUPATIONS, _ml100k_genres
from .parsing import _load_table
from .tags import _gather_tags
from .validation import _clean_ids, _missing, _resolve_mapping, _skipping_malformed


def _meta_column(values: pd.Series, column: str) -> tuple[pd.Series | None, str | None]:
    """Metadata column -> numbers where every value is one; None to leave it out (and why)."""
    text = values.str.strip()
    missing = _missing(text)
    if missing.all():
        return None, "empty"
    present = text[~missing]
    if present.str.match(r"https?://").mean() >= 0.9:
        return None, "web links"
    text = text.mask(missing)
    keep_text = re.search(r"zip|postal|phone", _norm(column)) or present.str.match(r"0\d").any()
    if not keep_text:
        numbers = pd.to_numeric(present, errors="coerce")
        if numbers.notna().all():
            numbers = pd.to_numeric(text, errors="coerce")
            present_numbers = numbers.dropna()
            # Whole numbers become Int64, as long as they fit: 1e20 would wrap around silently.
            if np.all(present_numbers == np.round(present_numbers)) and np.all(np.abs(present_numbers) < 2**53):
                return numbers.astype("Int64"), None
            return numbers.astype(np.float64), None
    return text, None


def _add_meta_columns(
    out: pd.DataFrame, raw: pd.DataFrame, columns: list[str], name: str, report: list[str]
) -> pd.DataFrame:
    dropped: dict[str, list[str]] = {}
    for column in columns:
        target = column if column not in out.columns else f"{column}_original"
        values, why = _meta_column(raw[column], column)
        if values is None:
            dropped.setdefault(why or "", []).append(column)
            continue
        out[target] = values.reset_index(drop=True)
    for why, names in dropped.items():
        report.append(f"{name}: left out {why} column{'s' if len(names) > 1 else ''} {', '.join(names)}.")
    return out


def _genres(values: pd.Series, name: str, report: list[str]) -> pd.Series:
    genres = values.str.strip()
    genres = genres.mask(_missing(genres) | (genres.str.lower() == "(no genres listed)"), "")
    if not genres.str.contains("|", regex=False).any() and genres.str.contains(r"[,;]").any():
        genres = genres.str.replace(r"\s*[,;]\s*", "|", regex=True)
        report.append(f"{name}: genres separated by commas or semicolons joined with '|'.")
    return genres.str.replace(r"\s*\|\s*", "|", regex=True).str.strip("|")


def _dedupe_meta(out: pd.DataFrame, key: str, name: str, report: list[str]) -> pd.DataFrame:
    duplicated = out.duplicated(key, keep="first").to_numpy()
    if duplicated.any():
        report.append(f"{name}: {_count(duplicated.sum(), 'row')} repeat an {key} id listed before: kept the first.")
        out = out[~duplicated]
    return out.reset_index(drop=True)


def _items_from_table(
    table: _Table,
    mapping: Mapping[str, str | None] | None,
    tags: Source | None,
    tag_names: Source | None,
) -> tuple[pd.DataFrame, list[str]]:
    report = list(table.notes)
    fmt, raw, name = table.fmt, table.frame, table.name
    if not mapping and fmt.kind in ("ratings", "tags", "book_tags", "tag_names"):
        raise DataValidationError(
            f"{name}: looks like {fmt.description}, not item metadata. Expected one row per item with an item id "
            "and a title (like movies.csv or books.csv). Choose the items file, or set the column mapping."
        )
    roles = _resolve_mapping(fmt, mapping, _ITEM_ROLES, ("item",))
    out = pd.DataFrame({ITEM: _clean_ids(table, roles["item"], "item id", report)})
    used = {c for c in roles.values() if c is not None}
    if roles["title"] is not None:
        out["title"] = raw[roles["title"]].str.strip().to_numpy()
    else:
        out["title"] = out[ITEM]
        report.append(f"{name}: no title column: items are shown by their id.")
    if fmt.layout == "movielens-100k" and fmt.kind == "items":
        out["genres"] = _ml100k_genres(raw).to_numpy()
        used |= set(_ML100K_ITEM_COLUMNS)
        report.append(f"{name}: 19 genre flags joined into 'genres'; release dates and IMDb links left out.")
    elif roles["genres"] is not None:
        out["genres"] = _genres(raw[roles["genres"]], name, report).to_numpy()
    if tags is not None:
        out["tags"] = _gather_tags(raw, roles["item"], name, tags, tag_names, report).to_numpy()
    elif tag_names is not None:
        raise DataValidationError(
            f"{name}: tag names were given without the tags file. Also give the file that links items to tags "
            "(book_tags.csv) as tags."
        )
    out = _add_meta_columns(out, raw, _other_item_columns(fmt, used, report), name, report)
    out = _dedupe_meta(_with_year(out, name, report), ITEM, name, report)
    report.insert(0, f"{name}: {_count(len(out), 'item')} with columns {', '.join(out.columns)}. "
                     f"Read as {fmt.description}: {_how_read(fmt)}.")
    return out, report


def _other_item_columns(fmt: FileFormat, used: set[str], report: list[str]) -> list[str]:
    """The columns kept besides id, title and genres (for Goodbooks only the useful ones, with a note)."""
    rest = [c for c in fmt.columns if c not in used]
    if fmt.layout == "goodbooks-10k":
        left_out = [c for c in rest if c not in _GOODBOOKS_KEEP]
        rest = [c for c in rest if c in _GOODBOOKS_KEEP]
        if left_out:
            report.append(f"{fmt.name}: left out {len(left_out)} Goodbooks columns ({', '.join(left_out)}).")
    return rest


def _with_year(out: pd.DataFrame, name: str, report: list[str]) -> pd.DataFrame:
    """A ``year`` column: Goodbooks' publication year, or the year MovieLens titles end with."""
    if "original_publication_year" in out.columns and "year" not in out.columns:
        out = out.rename(columns={"original_publication_year": "year"})
    if "year" not in out.columns:
        # MovieLens titles end with the release year: "Toy Story (1995)".
        year = out["title"].str.extract(r"\((\d{4})\)\s*$")[0]
        if year.notna().mean() >= 0.5:
            out["year"] = pd.to_numeric(year).astype("Int64")
            report.append(f"{name}: 'year' taken from the titles.")
    return out


def _users_from_table(table: _Table, mapping: Mapping[str, str | None] | None) -> tuple[pd.DataFrame, list[str]]:
    report = list(table.notes)
    fmt, raw, name = table.fmt, table.frame, table.name
    if not mapping and fmt.kind in ("ratings", "items", "tags", "book_tags", "tag_names"):
        raise DataValidationError(
            f"{name}: looks like {fmt.description}, not user metadata. Expected one row per user with a user id "
            "(like u.user or users.csv). Choose the users file, or set the column mapping."
        )
    roles = _resolve_mapping(fmt, mapping, _USER_ROLES, ("user",))
    out = pd.DataFrame({USER: _clean_ids(table, roles["user"], "user id", report)})
    rest = [c for c in fmt.columns if c != roles["user"]]
    if fmt.layout == "movielens-1m" and "occupation" in raw.columns:
        raw = raw.assign(occupation=raw["occupation"].str.strip().map(_ML1M_OCCUPATIONS).fillna(raw["occupation"]))
        report.append(f"{name}: occupation codes replaced by their names (MovieLens 1M README).")
    out = _add_meta_columns(out, raw, rest, name, report)
    out = _dedupe_meta(out, USER, name, report)
    report.insert(0, f"{name}: {_count(len(out), 'user')} with columns {', '.join(out.columns)}. "
                     f"Read as {fmt.description}: {_how_read(fmt)}.")
    return out, report


def _align(
    meta: pd.DataFrame, key: str, ids: pd.Series, meta_name: str, ratings_name: str, report: list[str]
) -> pd.DataFrame:
    """Drop metadata rows nobody rated; count rated ids without metadata."""
    if isinstance(ids.dtype, pd.CategoricalDtype):  # the ratings' ids: one string per distinct id
        rated = ids.cat.categories.take(pd.unique(ids.cat.codes.to_numpy()))
    else:
        rated = pd.Index(pd.unique(ids.to_numpy()))
    listed = meta[key].isin(rated).to_numpy()
    what = "items" if key == ITEM else "users"
    if not listed.any():
        raise DataValidationError(
            f"{meta_name}: none of its {len(meta):,} {key} ids (such as {', '.join(map(repr, meta[key].head(3)))}) "
            f"appear in {ratings_name} (whose {key} ids look like {', '.join(map(repr, rated[:3]))}). "
            f"Expected both files to use the same {key} ids. Check that the right files are chosen and that "
            f"the {key} id column is mapped to the same kind of id in both."
        )
    if (~listed).any():
        report.append(f"{meta_name}: {_count((~listed).sum(), what[:-1])} without ratings in {ratings_name}: left out.")
    unlisted = (~rated.isin(meta[key])).sum()
    if unlisted:
        shown = "shown by their id" if key == ITEM else "without metadata"
        report.append(f"{ratings_name}: {_count(unlisted, 'rated ' + what[:-1])} not in {meta_name}: {shown}.")
    return meta[listed].reset_index(drop=True)


def _load_metadata(
    source: Source,
    kind: str,
    ratings: _Ratings,
    build: Callable[[_Table], tuple[pd.DataFrame, list[str]]],
    layout: Layout | None,
    skip_bad_lines: bool,
    report: list[str],
) -> pd.DataFrame:
    """An items or users file read by ``build``, its notes added to ``report``, aligned with the ratings."""
    table = _load_table(source, None, kind, layout, skip_bad_lines)
    frame, meta_report = _skipping_malformed(table, build, skip_bad_lines)
    report += meta_report
    key = ITEM if kind == "items" else USER
    return _align(frame, key, ratings.frame[key], table.name, ratings.name, report)
