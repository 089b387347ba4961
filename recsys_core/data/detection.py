"""Detection: how a file is laid out, from its first lines.

The separator (the one that splits the most lines into the same number of
fields), whether the first line is a header, what the file holds (ratings,
items, users, tags) and which column plays which role.
"""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ._shared import (
    _ITEM_ROLES, _QUOTED, _RATING_ROLES, _SEPARATORS, _SNIFF_CHARS, _SNIFF_LINES, _USER_ROLES, ROLE_NAMES,
    FileFormat, Layout, _find_column, _norm, _Text,
)
from .known_formats import _known_layout_by_shape, _name_hint

_KNOWN_NAMES = frozenset(_norm(n) for names in ROLE_NAMES.values() for n in names) | frozenset(
    _norm(n)
    for n in (
        "age", "gender", "sex", "occupation", "zip", "zip_code", "segment", "description", "authors",
        "tag_id", "count", "goodreads_book_id", "year", "genre_truth", "tags",
    )
)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return value.strip().lower() not in ("nan", "inf", "-inf", "infinity")


def _split_sample(lines: list[str], sep: str) -> list[list[str]]:
    if sep == "::":
        return [line.split("::") for line in lines]
    quoting = csv.QUOTE_MINIMAL if sep in _QUOTED else csv.QUOTE_NONE
    try:
        return list(csv.reader(lines, delimiter=sep, quoting=quoting))
    except csv.Error:
        return [line.split(sep) for line in lines]


def _choose_separator(lines: list[str], name: str) -> tuple[str, list[list[str]], int]:
    """The separator that splits the most sample lines into the same number (>1) of fields."""
    best: tuple[tuple[float, int, int], str, list[list[str]], int] | None = None
    for priority, sep in enumerate(_SEPARATORS):
        rows = _split_sample(lines, sep)
        counts = np.array([len(row) for row in rows])
        values, freq = np.unique(counts, return_counts=True)
        modal = int(values[np.argmax(freq)])
        if modal < 2:
            continue
        key = (float(freq.max()) / len(rows), modal, -priority)
        if best is None or key > best[0]:
            best = (key, sep, rows, modal)
    if best is None:
        raise DataValidationError(
            f"{name}: could not tell how the columns are separated: every line holds a single value "
            f"(line 1 reads {lines[0][:60]!r}). Expected at least a user id and an item id on each line, "
            "separated by a comma, tab, semicolon, pipe ('|') or '::'."
        )
    return best[1], best[2], best[3]


def _given_separator(lines: list[str], sep: str, name: str) -> tuple[str, list[list[str]], int]:
    """The person's choice of separator, checked: it must split lines into at least two fields."""
    if sep not in _SEPARATORS:
        raise DataValidationError(
            f"{name}: unknown separator {sep!r}; choose one of " + ", ".join(repr(s) for s in _SEPARATORS) + "."
        )
    rows = _split_sample(lines, sep)
    counts = np.array([len(row) for row in rows])
    values, freq = np.unique(counts, return_counts=True)
    modal = int(values[np.argmax(freq)])
    if modal < 2:
        raise DataValidationError(
            f"{name}: with the separator {sep!r} every line holds a single value (line 1 reads {lines[0][:60]!r}). "
            "Choose another separator, or let it be detected."
        )
    return sep, rows, modal


def _looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    # A recognised name counts only on a line without numbers: a first data
    # line may hold a title like "Stars" but always holds a numeric id or rating.
    if any(_norm(value) in _KNOWN_NAMES for value in first) and not any(_is_number(v) for v in first):
        return True
    # A name above a column of numbers: the first line cannot be data.
    for j, value in enumerate(first):
        column = [row[j] for row in rest if len(row) > j and row[j].strip()]
        if column and value.strip() and not _is_number(value):
            if np.mean([_is_number(v) for v in column]) >= 0.9:
                return True
    return False


def _header_names(first: list[str]) -> list[str]:
    names: list[str] = []
    for j, raw in enumerate(first):
        base = raw.strip().strip('"').strip() or f"column_{j + 1}"
        candidate, k = base, 1
        while candidate in names:  # pandas refuses duplicate names
            candidate = f"{base}.{k}"
            k += 1
        names.append(candidate)
    return names


def _kind_from_names(columns: list[str]) -> tuple[str, str, str]:
    norm = {_norm(c) for c in columns}
    has = {role: _find_column(columns, role) is not None for role in ROLE_NAMES}
    if {"tagid", "count"} <= norm:
        return "book_tags", "goodbooks-10k", "Goodbooks-10k book tags (tag ids with counts per book)"
    if {"tagid", "tagname"} <= norm:
        return "tag_names", "goodbooks-10k", "Goodbooks-10k tag names (tag_id, tag_name)"
    if has["item"] and has["tag"] and not has["title"]:
        layout = "movielens-latest" if norm == {"userid", "movieid", "tag", "timestamp"} else "generic"
        return "tags", layout, "tags, one (user, item, tag) per line"
    if has["user"] and has["item"]:
        if norm == {"userid", "artistid", "weight"}:
            return "ratings", "lastfm-hetrec", "Last.fm HetRec 2011 play counts (userID, artistID, weight)"
        if norm == {"userid", "bookid"}:
            return "ratings", "goodbooks-10k", "Goodbooks-10k to-read lists (user_id, book_id), one interaction per line"
        if has["event"] and not has["rating"]:
            return "ratings", "generic", "an event log, one (user, item, event type) per line"
        if norm == {"userid", "movieid", "rating", "timestamp"}:
            return "ratings", "movielens-latest", "MovieLens ratings (userId, movieId, rating, timestamp)"
        if norm == {"userid", "bookid", "rating"}:
            return "ratings", "goodbooks-10k", "Goodbooks-10k ratings (user_id, book_id, rating)"
        return "ratings", "generic", "ratings, one (user, item) pair per line"
    if has["item"]:
        if {"goodreadsbookid", "authors"} <= norm:
            return "items", "goodbooks-10k", "Goodbooks-10k books (books.csv)"
        if norm == {"id", "name", "url", "pictureurl"}:
            return "items", "lastfm-hetrec", "Last.fm HetRec 2011 artists (id, name, url, pictureURL)"
        if norm == {"movieid", "title", "genres"}:
            return "items", "movielens-latest", "MovieLens movies (movieId, title, genres)"
        return "items", "generic", "item metadata, one item per line"
    if has["user"]:
        return "users", "generic", "user metadata, one user per line"
    return "unknown", "generic", "a table without recognised id columns"


def _kind_from_content(
    rows: list[list[str]], n: int, sep: str, name: str, hint: str | None
) -> tuple[str, str, list[str], str]:
    """What a headerless file holds, from its shape: (kind, layout, columns, description)."""
    name_hint = _name_hint(name)
    full = [row for row in rows if len(row) == n]
    columns = [[row[j].strip() for row in full] for j in range(n)]
    numeric = [float(np.mean([_is_number(v) for v in col if v])) if any(col) else 0.0 for col in columns]
    wants = hint or name_hint
    known = _known_layout_by_shape(columns, numeric, sep, name_hint, wants)
    if known is not None:
        return known
    kind = wants or ("ratings" if n == 2 or (n >= 3 and numeric[2] >= 0.9) else "unknown")
    return _by_position(kind, columns, sep)


def _by_position(kind: str, columns: list[list[str]], sep: str) -> tuple[str, str, list[str], str]:
    """Positional column names of a headerless file read as ``kind``: (kind, layout, columns, description)."""
    n = len(columns)
    extra = lambda start: [f"column_{j + 1}" for j in range(start, n)]  # noqa: E731
    if kind == "ratings":
        if n == 2:
            cols = ["user", "item"]
        elif n == 3 and columns[2] and all(_is_number(v) and float(v) >= 1e8 for v in columns[2]):
            cols = ["user", "item", "timestamp"]  # user, item, unix time: implicit feedback
        else:
            cols = ["user", "item", "rating", "timestamp"][:n] + extra(4)
        if sep == "\t" and n == 4:
            description = "ratings by position: user, item, rating, timestamp (the MovieLens 100k u.data layout)"
        elif sep == "::" and n == 4:
            description = "ratings by position: user, item, rating, timestamp (the MovieLens 1M ratings.dat layout)"
        else:
            description = "ratings by position: " + ", ".join(cols)
        layout = {"\t": "movielens-100k", "::": "movielens-1m"}.get(sep, "generic") if n == 4 else "generic"
        return "ratings", layout, cols, description
    if kind == "items":
        cols = ["item", "title"][:n] + extra(2)
        return "items", "generic", cols, "items by position: item id, title, ..."
    if kind == "users":
        return "users", "generic", ["user"] + extra(1), "users by position: user id, ..."
    if kind == "tags":
        cols = ["user", "item", "tag", "timestamp"][:n] + extra(4) if n >= 3 else ["item", "tag"]
        return "tags", "generic", cols, "tags by position: " + ", ".join(cols)
    return "unknown", "generic", extra(0), "a table without a header"


_KIND_ROLES = {
    "ratings": _RATING_ROLES,
    "items": _ITEM_ROLES,
    "users": _USER_ROLES,
    "tags": ("user", "item", "tag", "timestamp"),
    "book_tags": (),
    "tag_names": ("tag",),
}


def _sniff(text: _Text, kind: str | None, layout: Layout | None = None) -> FileFormat:
    sample = text.text[:_SNIFF_CHARS]
    if len(text.text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    lines = [line for line in sample.split("\n") if line.strip()][:_SNIFF_LINES]
    separator, header = (layout or {}).get("separator"), (layout or {}).get("has_header")
    if separator:
        sep, rows, modal = _given_separator(lines, separator, text.name)
    else:
        sep, rows, modal = _choose_separator(lines, text.name)
    first, rest = rows[0], rows[1:]
    has_header = _looks_like_header(first, rest) if header is None else bool(header)
    if has_header:
        columns = _header_names(first)
        guessed, layout, description = _kind_from_names(columns)
    else:
        guessed, layout, columns, description = _kind_from_content(rows, modal, sep, text.name, kind)
    roles = _KIND_ROLES.get(kind or guessed, tuple(ROLE_NAMES))
    mapping = {role: col for role in roles if (col := _find_column(columns, role)) is not None}
    data_rows = [row for row in rows[1 if has_header else 0:] if len(row) == len(columns)][:20]
    preview = pd.DataFrame(data_rows, columns=columns, dtype=str) if data_rows else pd.DataFrame(columns=columns)
    return FileFormat(
        separator=sep,
        has_header=has_header,
        encoding=text.encoding,
        columns=columns,
        mapping=mapping,
        kind=guessed,
        name=text.name,
        layout=layout,
        description=description,
        notes=tuple(text.notes),
        preview=preview,
    )
