"""Tags: tag files gathered into one pipe-joined ``tags`` text per item.

MovieLens ``tags.csv`` / ``tags.dat`` (one item id and tag per row) and
Goodbooks-10k ``book_tags.csv`` (book id, tag id, count) with its ``tags.csv``
of tag names, of which the :data:`TOP_BOOK_TAGS` most used per book are kept.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ._shared import Source, _count, _find_column, _norm, _Table
from .known_formats import TOP_BOOK_TAGS
from .parsing import _load_table
from .validation import _rows_error


def _tag_text(pairs: pd.DataFrame, limit: int | None) -> pd.Series:
    """(key, tag, weight, order) rows -> key -> tags pipe-joined, heaviest first.

    Tags are compared case-insensitively; the first spelling seen is shown.
    """
    pairs = pairs.assign(tag=pairs["tag"].str.strip().str.replace("|", "/", regex=False))
    pairs = pairs[pairs["tag"] != ""]
    pairs = pairs.assign(folded=pairs["tag"].str.lower())
    grouped = (
        pairs.groupby(["key", "folded"], sort=False)
        .agg(tag=("tag", "first"), weight=("weight", "sum"), order=("order", "min"))
        .reset_index()
        .sort_values(["key", "weight", "order"], ascending=[True, False, True], kind="stable")
    )
    if limit is not None:
        grouped = grouped.groupby("key", sort=False).head(limit)
    return grouped.groupby("key", sort=False)["tag"].agg("|".join)


def _gather_tags(
    raw: pd.DataFrame, item_column: str, items_name: str, tags: Source, tag_names: Source | None, report: list[str]
) -> pd.Series:
    """One pipe-joined tag string per row of the raw items frame."""
    table = _load_table(tags, None, "tags")
    limit: int | None
    if "tagid" in {_norm(c) for c in table.fmt.columns}:
        pairs, item_key = _goodbooks_tag_pairs(table, raw, item_column, tag_names, report)
        limit = TOP_BOOK_TAGS
    else:
        pairs, item_key = _plain_tag_pairs(table, item_column, tag_names)
        limit = None
    by_key = _tag_text(pairs, limit)
    item_keys = raw[item_key].str.strip()
    unmatched = ~pd.Index(by_key.index).isin(item_keys)
    if unmatched.any():
        report.append(f"{table.name}: tags of {_count(unmatched.sum(), 'item')} not in {items_name}: left out.")
    gathered = item_keys.map(by_key).fillna("")
    most = f" (at most {limit} per item, by count)" if limit else ""
    report.append(
        f"{table.name}: {_count(len(pairs), 'tag row')} gathered into a 'tags' column on "
        f"{_count((gathered != '').sum(), 'item')}{most}."
    )
    return gathered.reset_index(drop=True)


def _plain_tag_pairs(table: _Table, item_column: str, tag_names: Source | None) -> tuple[pd.DataFrame, str]:
    """(key, tag, weight, order) rows of a one-tag-per-row file, and the items column the keys match."""
    columns = table.fmt.columns
    if tag_names is not None:
        raise DataValidationError(
            f"{table.name}: already holds tag text, so the tag names file is not needed; "
            "leave tag_names empty or give the book_tags file (with tag_id) as tags."
        )
    tag_key, tag_column = _find_column(columns, "item"), _find_column(columns, "tag")
    if tag_key is None or tag_column is None:
        raise DataValidationError(
            f"{table.name}: expected an item id column and a tag column (like movieId, tag); columns found: "
            f"{', '.join(map(repr, columns))}. Choose the tags file."
        )
    pairs = pd.DataFrame({
        "key": table.frame[tag_key].str.strip(),
        "tag": table.frame[tag_column],
        "weight": 1.0,
        "order": np.arange(len(table.frame)),
    })
    return pairs, item_column


def _goodbooks_tag_pairs(
    table: _Table, raw: pd.DataFrame, item_column: str, tag_names: Source | None, report: list[str]
) -> tuple[pd.DataFrame, str]:
    """(key, tag, weight, order) rows of Goodbooks book_tags.csv + tags.csv, and the items column the keys match."""
    columns = table.fmt.columns
    norm = {_norm(c): c for c in columns}
    if tag_names is None:
        raise DataValidationError(
            f"{table.name}: holds tag ids ({norm['tagid']}) without their names. Also give the tag names file "
            "(tags.csv with columns tag_id, tag_name) as tag_names."
        )
    lookup, names_name = _tag_name_lookup(tag_names)
    if "goodreadsbookid" in norm and "goodreads_book_id" in raw.columns:
        tag_key, item_key = norm["goodreadsbookid"], "goodreads_book_id"
    else:
        tag_key, item_key = _find_column(columns, "item"), item_column
    if tag_key is None:
        raise DataValidationError(
            f"{table.name}: no book id column found (expected goodreads_book_id); columns found: "
            f"{', '.join(map(repr, columns))}."
        )
    tag_text = table.frame[norm["tagid"]].str.strip().map(lookup)
    unknown = tag_text.isna()
    if unknown.any():
        report.append(f"{table.name}: {_count(unknown.sum(), 'row')} with a tag id missing from {names_name}: left out.")
    weight = pd.to_numeric(table.frame[norm["count"]].str.strip(), errors="coerce") if "count" in norm else None
    if weight is not None and weight.isna().any():
        raise _rows_error(table, norm["count"], weight.isna(), "is not a number", "a count on every row",
                          "Correct or delete these rows, then load the file again.")
    pairs = pd.DataFrame({
        "key": table.frame[tag_key].str.strip(),
        "tag": tag_text.fillna(""),
        "weight": weight if weight is not None else 1.0,
        "order": np.arange(len(table.frame)),
    })
    return pairs, item_key


def _tag_name_lookup(tag_names: Source) -> tuple[pd.Series, str]:
    """Goodbooks tags.csv (or Last.fm's tags.dat) as tag id -> tag name (a repeated id's first name), and its name."""
    names_table = _load_table(tag_names, None, "tag_names")
    names_norm = {_norm(c): c for c in names_table.fmt.columns}
    # Last.fm HetRec's tags.dat names the text column tagValue.
    name_column = names_norm.get("tagvalue") or _find_column(names_table.fmt.columns, "tag")
    if "tagid" not in names_norm or name_column is None:
        raise DataValidationError(
            f"{names_table.name}: expected the columns tag_id and tag_name; columns found: "
            f"{', '.join(map(repr, names_table.fmt.columns))}. Choose the tag names file (tags.csv)."
        )
    lookup = pd.Series(
        names_table.frame[name_column].to_numpy(),
        index=names_table.frame[names_norm["tagid"]].str.strip().to_numpy(),
    )
    return lookup[~lookup.index.duplicated()], names_table.name
