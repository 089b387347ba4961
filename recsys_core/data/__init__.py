"""Load rating files as they are distributed into one immutable :class:`Dataset`.

This package is the edge of recsys_core: everything a person can get wrong in a
file is caught here and raised as :class:`DataValidationError` with a message
that names the file, the column, the first offending lines (1-based, as an
editor shows them, the header line counted) with their count, what was
expected and what to do. Everything past this package may assume clean data.

What is recognised without hand editing
---------------------------------------
* Separators ``,`` ``\\t`` ``;`` ``|`` and ``::`` (the one that splits the most
  lines into the same number of fields wins), with or without a header line.
* Encodings: UTF-8 (with or without BOM), UTF-16 with BOM, and Latin-1 /
  Windows-1252 as a reported fall-back; gzip-compressed files are unpacked.
* Column names (case, ``_`` and spaces ignored): see ``ROLE_NAMES``. Headerless
  files are read by position (user, item, rating, timestamp), and the
  MovieLens 100k / 1M layouts (``u.data``, ``u.item``, ``u.user``,
  ``ratings.dat``, ``movies.dat``, ``users.dat``, ``tags.dat``) by their shape.
* MovieLens "latest" ``movies.csv`` / ``tags.csv`` and Goodbooks-10k
  ``books.csv`` / ``book_tags.csv`` / ``tags.csv``.

Documented clean-up (reported, never an error)
----------------------------------------------
* Duplicate (user, item) ratings: the latest is kept (largest timestamp, else
  the last in the file).
* Metadata rows whose id has no rating are left out; rated ids without
  metadata are shown by their id. Both are counted in the report.
* Duplicate metadata ids: the first row is kept.
* Metadata columns: numbers become numeric columns (so they do not end up in
  the text the content models read), empty columns and columns of web links
  are left out, ``(no genres listed)`` becomes no genres.
* A line with one extra, empty field at its end (a separator before the line
  break, as on one line of MovieLens 100k's ``u.data`` as redistributed): the
  empty field is ignored and the lines are listed.

Malformed lines
---------------
A line with the wrong number of fields (a footer, a cut-off line), an empty
id, or a rating or time that is not one raises :class:`MalformedLinesError`
naming the lines. With ``skip_bad_lines=True`` such lines are skipped instead,
and counted and listed by line number in the report: never silently.

How the package is laid out (each step a module, this one the entry points)
---------------------------------------------------------------------------
``reading`` bytes -> text; ``detection`` separator, header, kind and column
roles; ``known_formats`` MovieLens and Goodbooks specifics; ``parsing`` text ->
table with line numbers; ``validation`` the checks, their messages and
:class:`MalformedLinesError`; ``ratings``, ``metadata`` and ``tags`` build the
frames that :func:`load_dataset` assembles into a :class:`Dataset`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pandas as pd

from ..dataset import ITEM, USER, Dataset
from ..errors import DataValidationError
from ._shared import ROLE_NAMES, FileFormat, Layout, Source
from .columnar import _read_head
from .detection import _sniff
from .known_formats import _ML100K_GENRES, TOP_BOOK_TAGS  # noqa: F401  (re-exported: tests read them)
from .metadata import _items_from_table, _load_metadata, _users_from_table
from .parsing import _load_table
from .ratings import _load_ratings
from .reading import _read_text
from .ordering import with_file_order_as_time
from .removal import user_positions, without_users
from .validation import MalformedLinesError

__all__ = [
    "FileFormat",
    "MalformedLinesError",
    "ROLE_NAMES",
    "SAMPLE_DIR",
    "detect_format",
    "read_ratings",
    "read_items",
    "read_users",
    "load_dataset",
    "load_sample",
    "user_positions",
    "without_users",
    "with_file_order_as_time",
    "TOP_BOOK_TAGS",
]

#: Where the bundled sample lives (committed output of recsys_core.synthetic).
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"


def detect_format(
    source: Source,
    *,
    name: str | None = None,
    kind: str | None = None,
    separator: str | None = None,
    has_header: bool | None = None,
) -> FileFormat:
    """Detect separator, header, encoding, columns and a suggested column mapping.

    Parameters
    ----------
    source : str, Path, bytes or file-like
        The file (an uploaded file needs ``.getvalue()`` or ``.read()``).
    name : str, optional
        File name used in messages (default: from the path or ``.name``).
    kind : {"ratings", "items", "users"}, optional
        What the caller will read the file as; decides the positional names
        of a headerless file and which roles the mapping suggests. By default
        it is guessed from the content.
    separator, has_header : optional
        Override the detected separator (one of ``, \t ; | ::``) or the
        header guess, where detection got a file wrong.

    Returns
    -------
    FileFormat
        With a ``preview`` of the first rows, for an editable mapping.

    Raises
    ------
    DataValidationError
        If the file is empty, binary or has no separable columns.
    """
    # The head is enough to detect a large file's layout; small or unusual files are read whole.
    text = _read_head(source, name) or _read_text(source, name)
    return _sniff(text, kind, {"separator": separator, "has_header": has_header})


def read_ratings(
    source: Source,
    *,
    mapping: Mapping[str, str | None] | None = None,
    name: str | None = None,
    rating_scale: tuple[float, float] | None = None,
    separator: str | None = None,
    has_header: bool | None = None,
    skip_bad_lines: bool = False,
    feedback: str = "auto",
    event_weights: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Read a ratings (or interactions) file into a clean frame.

    Parameters
    ----------
    source : str, Path, bytes or file-like
        The file; an uploaded file needs ``.getvalue()`` or ``.read()``.
    mapping : dict, optional
        Role -> column name for the roles ``user``, ``item``, ``rating``,
        ``timestamp``, overriding the recognised names role by role. Map
        ``rating`` (or ``timestamp``) to ``None`` to ignore such a column;
        without a rating column every row is an interaction of weight 1.
    name : str, optional
        File name used in messages (default: from the path or ``.name``).
    rating_scale : (float, float), optional
        Lowest and highest rating allowed; ratings outside are an error.
        Inferred from the data when not given (snapped to 1-5, 0.5-5, 1-10,
        0-5 or 0-10 when the values fit).
    separator, has_header : optional
        Override detection (see :func:`detect_format`).
    skip_bad_lines : bool, default False
        Skip malformed lines (wrong number of fields, an empty id, a rating
        or time that is not one) instead of raising; they are counted and
        listed by line number in the report.
    feedback : {"auto", "ratings", "counts", "unary", "events"}, default "auto"
        What the value (rating) column holds. ``auto`` reads a column named
        like counts (``weight``, ``plays``, ``clicks``, ``count``,
        ``quantity``...) or whole non-negative values with a heavy tail (the
        largest above 10 and at least 5x the median) as counts, anything
        else as ratings, and says why in the report. Counts are implicit
        feedback whose value is an interaction strength (zero counts are
        left out, repeated pairs added, negative counts an error);
        ``unary`` ignores the value column (each line one interaction).
        An event log (a column ``event`` / ``event_type`` / ``action`` with
        view, addtocart, transaction... and no value column) is read as
        counts: each line weighs its type's weight, summed per pair;
        ``events`` says the file is one: its event-type column (detected or
        mapped) is read even where a value column was detected, and a file
        without one is refused naming its columns.
    event_weights : dict, optional
        Event type -> weight (case-insensitive), over the defaults (view and
        click 1, addtocart 3, transaction and purchase 5; others 1; 0 leaves
        a type out). At most 50 distinct types.

    Returns
    -------
    frame : DataFrame
        Columns ``user``, ``item`` (str), ``rating`` (float: the rating, or
        the count) and, when the file has times, ``timestamp`` (int64 unix
        seconds); one row per (user, item). ``frame.attrs`` holds
        ``rating_scale``, ``implicit`` and ``feedback_kind``.
    report : list of str
        What was read and every clean-up step, with counts.

    Raises
    ------
    DataValidationError
        For an empty, binary or malformed file, a missing user or item
        column, empty ids, ratings that are empty, not numbers or outside
        ``rating_scale``, or unreadable times. Malformed lines raise its
        subclass :class:`MalformedLinesError` (unless ``skip_bad_lines``).
    """
    ratings = _load_ratings(source, name, mapping, rating_scale, {"separator": separator, "has_header": has_header},
                            skip_bad_lines, feedback, event_weights)
    frame = ratings.frame
    for column in (USER, ITEM):  # categories inside the package; text, as documented, outside
        frame[column] = frame[column].astype(str)
    return frame, ratings.report


def read_items(
    source: Source,
    *,
    mapping: Mapping[str, str | None] | None = None,
    name: str | None = None,
    tags: Source | None = None,
    tag_names: Source | None = None,
) -> pd.DataFrame:
    """Read item metadata (titles, genres, text) into one row per item.

    Parameters
    ----------
    source : str, Path, bytes or file-like
        ``movies.csv``, ``u.item``, ``movies.dat``, ``books.csv`` or any
        table with an item id column.
    mapping : dict, optional
        Role -> column for ``item``, ``title``, ``genres``.
    name : str, optional
        File name used in messages.
    tags : source, optional
        One tag per row (MovieLens ``tags.csv``: item id + ``tag``), or
        Goodbooks ``book_tags.csv`` (``goodreads_book_id, tag_id, count``,
        then ``tag_names`` is required). Gathered per item into ``tags``.
    tag_names : source, optional
        Goodbooks ``tags.csv`` (``tag_id, tag_name``).

    Returns
    -------
    DataFrame
        ``item`` (str), ``title``, ``genres`` (pipe-joined, when the file has
        genres), ``tags`` (pipe-joined, case-insensitively de-duplicated,
        most used first; at most 20 per book for Goodbooks), other text
        columns, and numeric columns (``year``, ...) kept as numbers. The
        report is in ``frame.attrs["report"]``.

    Raises
    ------
    DataValidationError
        For unreadable files, a missing or empty item id, or a ratings file
        given as items.
    """
    table = _load_table(source, name, "items")
    frame, report = _items_from_table(table, mapping, tags, tag_names)
    frame.attrs["report"] = report
    return frame


def read_users(
    source: Source,
    *,
    mapping: Mapping[str, str | None] | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Read user metadata (demographics, segments) into one row per user.

    Parameters
    ----------
    source : str, Path, bytes or file-like
        ``u.user``, ``users.dat`` or any table with a user id column.
    mapping : dict, optional
        Role -> column for ``user``.
    name : str, optional
        File name used in messages.

    Returns
    -------
    DataFrame
        ``user`` (str) and the other columns: numbers as numeric columns,
        text as text (zip codes stay text). The report is in
        ``frame.attrs["report"]``.

    Raises
    ------
    DataValidationError
        For unreadable files, a missing or empty user id, or a ratings file
        given as users.
    """
    table = _load_table(source, name, "users")
    frame, report = _users_from_table(table, mapping)
    frame.attrs["report"] = report
    return frame


def _dataset_name(source: Source, file_name: str) -> str:
    if isinstance(source, (str, Path)):
        path = Path(source).resolve()
        # "ml-latest-small/ratings.csv" is better named by its folder.
        if path.stem.lower() in ("ratings", "u", "data", "interactions") and path.parent.name:
            return path.parent.name
    return Path(file_name).stem or "dataset"


def load_dataset(
    ratings: Source,
    items: Source | None = None,
    users: Source | None = None,
    *,
    tags: Source | None = None,
    tag_names: Source | None = None,
    mapping: Mapping[str, str | None] | None = None,
    item_mapping: Mapping[str, str | None] | None = None,
    user_mapping: Mapping[str, str | None] | None = None,
    name: str | None = None,
    rating_scale: tuple[float, float] | None = None,
    layouts: Mapping[str, Layout] | None = None,
    skip_bad_lines: bool = False,
    feedback: str = "auto",
    event_weights: Mapping[str, float] | None = None,
) -> Dataset:
    """Load ratings and optional metadata files into one :class:`Dataset`.

    Parameters
    ----------
    ratings : str, Path, bytes or file-like
        The ratings (or interactions) file; see :func:`read_ratings`.
    items, users : source, optional
        Item and user metadata; see :func:`read_items`, :func:`read_users`.
    tags, tag_names : source, optional
        Tag files gathered into the items' ``tags`` column (needs ``items``).
    mapping, item_mapping, user_mapping : dict, optional
        Column mappings of the ratings, items and users files.
    name : str, optional
        Name of the data set (default: the folder of a ``ratings.csv`` /
        ``u.data`` path, else the file name without extension).
    rating_scale : (float, float), optional
        Allowed ratings; inferred from the data when not given.
    layouts : dict, optional
        ``"ratings"``, ``"items"`` or ``"users"`` -> ``{"separator": ...,
        "has_header": ...}``, overriding detection for that file.
    skip_bad_lines : bool, default False
        Skip malformed lines of the ratings, items and users files (wrong
        number of fields, an empty id, a rating or time that is not one)
        instead of raising :class:`MalformedLinesError`; the report counts
        them and lists them by line number.
    feedback : {"auto", "ratings", "counts", "unary", "events"}, default "auto"
        What the ratings file's value column holds; see :func:`read_ratings`.
        Counts and unary files give an implicit data set
        (``Dataset.feedback_kind`` tells which); event logs give counts.
    event_weights : dict, optional
        Weights of an event log's types; see :func:`read_ratings`.

    Returns
    -------
    Dataset
        With ``report`` listing what was read and every clean-up step.

    Raises
    ------
    DataValidationError
        For any problem in any of the files, and when none of the metadata
        ids match the ratings (wrong file or wrong id column). Malformed
        lines raise its subclass :class:`MalformedLinesError`.
    """
    layouts = layouts or {}
    loaded = _load_ratings(ratings, None, mapping, rating_scale, layouts.get("ratings"), skip_bad_lines, feedback,
                           event_weights)
    report = list(loaded.report)
    items_frame = users_frame = None
    if items is not None:
        items_frame = _load_metadata(items, "items", loaded, lambda t: _items_from_table(t, item_mapping, tags, tag_names),
                                     layouts.get("items"), skip_bad_lines, report)
    elif tags is not None or tag_names is not None:
        raise DataValidationError(
            "Tags were given without an items file. Also choose the items file the tags belong to."
        )
    if users is not None:
        users_frame = _load_metadata(users, "users", loaded, lambda t: _users_from_table(t, user_mapping),
                                     layouts.get("users"), skip_bad_lines, report)
    return Dataset.from_frames(
        loaded.frame,
        name=name or _dataset_name(ratings, loaded.name),
        rating_scale=loaded.rating_scale,
        implicit=loaded.implicit,
        items=items_frame,
        users=users_frame,
        report=report,
    )


#: The bundled sample's variants: ratings file and data set name by feedback kind.
#: The sample's variants: file in sample_data/ and data set name. The event log is derived from ratings.csv when
#: loaded (recsys_core.synthetic_events), not committed.
SAMPLE_VARIANTS = {"ratings": ("ratings.csv", "sample"), "counts": ("plays.tsv", "sample (play counts)"),
                   "events": ("ratings.csv", "sample (event log)")}


def load_sample(feedback: str = "ratings") -> Dataset:
    """The bundled synthetic sample (``sample_data/``: ratings or play counts, items, users).

    Parameters
    ----------
    feedback : {"ratings", "counts", "events"}, default "ratings"
        ``ratings``: stars 1-5 (``ratings.csv``); ``counts``: the same users,
        items and pairs with heavy-tailed play counts (``plays.tsv``, in
        Last.fm HetRec's layout), loaded as implicit feedback; ``events``:
        the same pairs as a shop's event log (views, carts, purchases drawn
        from the ratings by :mod:`recsys_core.synthetic_events`), read through
        the event-log loader like an uploaded ``events.csv``.

    Returns
    -------
    Dataset
        Named ``sample`` (``sample (play counts)`` for counts).

    Raises
    ------
    DataValidationError
        If the sample files are missing from the installation.
    """
    if feedback not in SAMPLE_VARIANTS:
        raise DataValidationError(f"The sample comes as {' or '.join(SAMPLE_VARIANTS)}, not {feedback!r}.")
    file_name, sample_name = SAMPLE_VARIANTS[feedback]
    ratings = SAMPLE_DIR / file_name
    if not ratings.exists():
        raise DataValidationError(
            f"The bundled sample is missing: no {ratings}. Regenerate it with recsys_core.synthetic."
        )
    items, users = SAMPLE_DIR / "items.csv", SAMPLE_DIR / "users.csv"
    if feedback == "events":
        import pandas as pd

        from ..synthetic_events import EVENTS_FILE, ratings_to_events

        log = ratings_to_events(pd.read_csv(ratings, dtype={"user": str, "item": str}))
        import io

        ratings = io.BytesIO(log.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        ratings.name = EVENTS_FILE  # how messages name it, as for an uploaded events.csv
    return load_dataset(
        ratings,
        items if items.exists() else None,
        users if users.exists() else None,
        name=sample_name,
    )
