"""What every step of loading shares: the source and layout types, the records
passed between steps, the names of column roles, the limits of what is shown,
and the wording helpers of notes and messages."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Mapping, Union

import numpy as np
import pandas as pd

#: What ``source`` may be: a path, the bytes of a file, or a file-like object
#: (Streamlit's ``UploadedFile`` has ``.name`` and ``.getvalue()``).
Source = Union[str, Path, bytes, bytearray, IO[bytes], IO[str]]

#: Column names recognised for each role, in order of preference. Matching
#: ignores case, spaces, ``_`` and ``-`` (``userId`` == ``user_id``).
#: Names of a value column that holds counts (plays, clicks, quantities), not ratings: such a column is read
#: as implicit feedback unless the caller says otherwise (``feedback="ratings"``).
COUNT_NAMES: tuple[str, ...] = (
    "weight", "count", "plays", "playcount", "play_count", "listens", "listen_count", "clicks", "views",
    "quantity", "qty", "purchases", "frequency",
)
#: Names of a value column that holds explicit ratings.
EXPLICIT_NAMES: tuple[str, ...] = ("rating", "score", "stars", "overall")

ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "user": ("user", "user_id", "userId", "customer", "customer_id", "reviewerID", "visitorid", "visitor_id"),
    # "id" last: Last.fm HetRec's artists.dat names its item id just "id".
    "item": ("item", "item_id", "movieId", "movie_id", "book_id", "isbn", "product", "product_id", "asin",
             "artistID", "artist_id", "track_id", "song_id", "id"),
    "rating": EXPLICIT_NAMES + COUNT_NAMES,
    "timestamp": ("timestamp", "time", "date", "unixReviewTime"),
    "title": ("title", "name", "movie_title", "book_title", "product_title"),
    "genres": ("genres", "genre", "categories", "category"),
    # Singular only: an items file may carry a ``tags`` text column and must
    # not be taken for a one-tag-per-row file.
    "tag": ("tag", "tag_name"),
    # The type of an event log's line (view / addtocart / transaction): weighted and summed into counts.
    "event": ("event", "event_type", "action", "behavior", "behaviour", "interaction_type"),
}

#: Roles a mapping may name, per reader.
_RATING_ROLES = ("user", "item", "rating", "timestamp", "event")
_ITEM_ROLES = ("item", "title", "genres")
_USER_ROLES = ("user",)
_ROLE_LABELS = {
    "user": "user id",
    "item": "item id",
    "rating": "rating",
    "timestamp": "timestamp",
    "title": "title",
    "genres": "genres",
    "tag": "tag",
    "event": "event type",
}

#: Cell values read as "no value" (compared lower-case, after stripping).
_MISSING = frozenset({"", "nan", "null", "none", "na", "n/a", "#n/a", "<na>", "nat"})

#: Candidate separators, in order of preference when two split equally well.
_SEPARATORS = ("::", "\t", ",", ";", "|")
_SEP_NAMES = {"::": "'::'", "\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe ('|')"}
#: Only comma and semicolon files quote values in practice; MovieLens pipe and
#: tab files hold titles with stray double quotes that must stay literal.
_QUOTED = (",", ";")
#: Stand-in for "::" so pandas' fast C parser (single-character separators
#: only) can read MovieLens 1M/10M files.
_UNIT_SEP = "\x1f"

#: Lines looked at to detect the format.
_SNIFF_CHARS = 65_536
_SNIFF_LINES = 200
#: Offending rows listed in an error message.
_SHOW_ROWS = 5
#: Skipped or cleaned-up lines listed by number in a report note.
_REPORT_LINES = 20
#: Name of the column that takes a trailing empty field while parsing (then dropped).
_TRAILING_FIELD = "\x00trailing empty field"

#: Overrides of detection for one file: ``{"separator": ",", "has_header": True}`` (None: detect).
Layout = Mapping[str, Any]


def _norm(name: object) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def _find_column(columns: list[str], role: str) -> str | None:
    normalised = {}
    for column in columns:
        normalised.setdefault(_norm(column), column)
    for candidate in ROLE_NAMES[role]:
        if _norm(candidate) in normalised:
            return normalised[_norm(candidate)]
    return None


def _count(n: int, noun: str) -> str:
    return f"{int(n):,} {noun}{'' if n == 1 else 's'}"


def _line_list(numbers: np.ndarray, details: list[str] | None = None, limit: int = _REPORT_LINES) -> str:
    """``line 3, line 9 (1 field) ... and 4 more``: the first ``limit`` lines, with a detail each if given."""
    shown = [f"line {int(n)}" + (f" ({details[i]})" if details else "") for i, n in enumerate(numbers[:limit])]
    more = f" and {len(numbers) - limit:,} more" if len(numbers) > limit else ""
    return ", ".join(shown) + more


_SKIP_HINT = "Or load it again skipping the malformed lines (each skipped line is listed)."


@dataclass(frozen=True)
class FileFormat:
    """How a file is laid out, as detected (used to pre-fill a column mapping).

    Attributes
    ----------
    separator : str
        One of ``","``, ``"\\t"``, ``";"``, ``"|"``, ``"::"``.
    has_header : bool
        Whether the first line holds column names.
    encoding : str
        ``"utf-8"``, ``"utf-16"``, ``"latin-1"`` or ``"cp1252"``.
    columns : list of str
        Column names as read, or positional names for headerless files
        (``user, item, rating, timestamp`` for ratings; the MovieLens layouts
        get their documented names).
    mapping : dict of str to str
        Suggested role -> column, e.g. ``{"user": "userId", "item": "movieId",
        "rating": "rating", "timestamp": "timestamp"}``.
    kind : str
        What the file looks like: ``ratings``, ``items``, ``users``, ``tags``,
        ``book_tags``, ``tag_names`` or ``unknown``.
    name : str
        File name used in messages.
    layout : str
        ``movielens-100k``, ``movielens-1m``, ``movielens-latest``,
        ``goodbooks-10k`` or ``generic``.
    description : str
        One line for a person, e.g. "MovieLens 100k item file (u.item)".
    notes : tuple of str
        Things done to read the file (encoding fall-back, gzip).
    preview : DataFrame
        The first rows as text, with ``columns`` as column names.
    """

    separator: str
    has_header: bool
    encoding: str
    columns: list[str]
    mapping: dict[str, str]
    kind: str = "unknown"
    name: str = "file"
    layout: str = "generic"
    description: str = ""
    notes: tuple[str, ...] = ()
    preview: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False, repr=False)


def _how_read(fmt: FileFormat) -> str:
    header = "with a header line" if fmt.has_header else "no header line"
    return f"{_SEP_NAMES[fmt.separator]}-separated, {header}, {fmt.encoding}"


@dataclass
class _Text:
    """A decoded file: its display name, text (``\\n`` line ends) and encoding."""

    name: str
    text: str
    encoding: str
    notes: list[str]


@dataclass
class _Table:
    """A parsed file: every column as stripped-later text, plus line numbers."""

    name: str
    fmt: FileFormat
    frame: pd.DataFrame
    lines: np.ndarray  # 1-based file line of each data row
    notes: list[str]

    def label(self, column: str) -> str:
        """How a column is named in messages (position too for headerless files)."""
        if self.fmt.has_header:
            return f"column '{column}'"
        return f"column {self.fmt.columns.index(column) + 1} ('{column}')"


@dataclass
class _Ratings:
    frame: pd.DataFrame
    report: list[str]
    rating_scale: tuple[float, float]
    implicit: bool
    name: str
    #: "ratings", "counts" or "unary" (see :attr:`recsys_core.dataset.Dataset.feedback_kind`).
    kind: str = "ratings"
