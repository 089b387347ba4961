"""Load rating files as they are distributed into one immutable :class:`Dataset`.

This module is the edge of recsys_core: everything a person can get wrong in a
file is caught here and raised as :class:`DataValidationError` with a message
that names the file, the column, the first offending lines (1-based, as an
editor shows them, the header line counted) with their count, what was
expected and what to do. Everything past this module may assume clean data.

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
"""
from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Callable, Mapping, TypeVar, Union

import numpy as np
import pandas as pd

from ..dataset import ITEM, RATING, TIMESTAMP, USER, Dataset
from ..errors import DataValidationError

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
]

#: Where the bundled sample lives (committed output of recsys_core.synthetic).
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"

#: What ``source`` may be: a path, the bytes of a file, or a file-like object
#: (Streamlit's ``UploadedFile`` has ``.name`` and ``.getvalue()``).
Source = Union[str, Path, bytes, bytearray, IO[bytes], IO[str]]

#: Column names recognised for each role, in order of preference. Matching
#: ignores case, spaces, ``_`` and ``-`` (``userId`` == ``user_id``).
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "user": ("user", "user_id", "userId", "customer", "customer_id", "reviewerID"),
    "item": ("item", "item_id", "movieId", "movie_id", "book_id", "isbn", "product", "product_id", "asin"),
    "rating": ("rating", "score", "stars", "overall"),
    "timestamp": ("timestamp", "time", "date", "unixReviewTime"),
    "title": ("title", "name", "movie_title", "book_title", "product_title"),
    "genres": ("genres", "genre", "categories", "category"),
    # Singular only: an items file may carry a ``tags`` text column and must
    # not be taken for a one-tag-per-row file.
    "tag": ("tag", "tag_name"),
}

#: Roles a mapping may name, per reader.
_RATING_ROLES = ("user", "item", "rating", "timestamp")
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
#: Goodbooks-10k: tags kept per book, by count.
TOP_BOOK_TAGS = 20

_ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
_ML100K_ITEM_COLUMNS = ("item", "title", "release_date", "video_release_date", "imdb_url") + _ML100K_GENRES
#: MovieLens 1M users.dat stores occupations as codes (its README lists them);
#: names keep them categorical for demographic cold start.
_ML1M_OCCUPATIONS = {
    "0": "other", "1": "academic/educator", "2": "artist", "3": "clerical/admin",
    "4": "college/grad student", "5": "customer service", "6": "doctor/health care",
    "7": "executive/managerial", "8": "farmer", "9": "homemaker", "10": "K-12 student",
    "11": "lawyer", "12": "programmer", "13": "retired", "14": "sales/marketing",
    "15": "scientist", "16": "self-employed", "17": "technician/engineer",
    "18": "tradesman/craftsman", "19": "unemployed", "20": "writer",
}
#: Goodbooks-10k books.csv: columns kept besides id, title and tags. The rest
#: (ISBNs, image links, per-star counts, ids of other editions) would only add
#: noise to the text the content models read.
_GOODBOOKS_KEEP = ("goodreads_book_id", "authors", "original_publication_year", "average_rating", "ratings_count")

#: File names that tell what a headerless file holds.
_NAME_HINTS = {
    "u.data": "ratings", "ratings.dat": "ratings", "u.item": "items", "movies.dat": "items",
    "u.user": "users", "users.dat": "users", "tags.dat": "tags",
}


#: Overrides of detection for one file: ``{"separator": ",", "has_header": True}`` (None: detect).
Layout = Mapping[str, Any]


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


def _line_list(numbers: np.ndarray, details: list[str] | None = None, limit: int = _REPORT_LINES) -> str:
    """``line 3, line 9 (1 field) ... and 4 more``: the first ``limit`` lines, with a detail each if given."""
    shown = [f"line {int(n)}" + (f" ({details[i]})" if details else "") for i, n in enumerate(numbers[:limit])]
    more = f" and {len(numbers) - limit:,} more" if len(numbers) > limit else ""
    return ", ".join(shown) + more


_SKIP_HINT = "Or load it again skipping the malformed lines (each skipped line is listed)."


def _norm(name: object) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


_KNOWN_NAMES = frozenset(_norm(n) for names in ROLE_NAMES.values() for n in names) | frozenset(
    _norm(n)
    for n in (
        "age", "gender", "sex", "occupation", "zip", "zip_code", "segment", "description", "authors",
        "tag_id", "count", "goodreads_book_id", "year", "genre_truth", "tags",
    )
)


# ---------------------------------------------------------------- public types
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


# ------------------------------------------------------------- reading bytes
def _display_name(source: Source, name: str | None) -> str:
    if name:
        return str(name)
    if isinstance(source, (str, Path)):
        return Path(source).name
    attr = getattr(source, "name", None)
    if isinstance(attr, (str, Path)) and str(attr):
        return Path(str(attr)).name
    return "uploaded file"


def _read_source(source: Source, name: str) -> bytes | str:
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise DataValidationError(f"{name}: no file at {path}. Check the path and try again.") from None
        except IsADirectoryError:
            raise DataValidationError(f"{name}: {path} is a folder, not a file. Choose the file inside it.") from None
        except OSError as exc:
            raise DataValidationError(f"{name}: could not read {path} ({exc.strerror}).") from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "getvalue"):
        return source.getvalue()
    if hasattr(source, "read"):
        # The dashboard reads a file twice (detect, then load): start from the top.
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)
        return source.read()
    raise TypeError(f"cannot read ratings from a {type(source).__name__}; pass a path, bytes or a file object")


_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one too). Unzip it and choose the file inside, "
     "or save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel or Office document. Save the sheet as CSV"),
    (b"PAR1", "a Parquet file. Save it as CSV"),
    (b"SQLite format 3", "an SQLite database. Export the table as CSV"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def _decode(data: bytes | str, name: str) -> _Text:
    """Bytes -> text, never mojibake silently and never a UnicodeDecodeError."""
    notes: list[str] = []
    if isinstance(data, str):
        text, encoding = data, "utf-8"
    else:
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError, zlib.error):
                raise DataValidationError(
                    f"{name}: looks gzip-compressed but could not be unpacked (the file may be cut short). "
                    "Download it again, or unpack it yourself and load the file inside."
                ) from None
            notes.append(f"{name}: unpacked (gzip).")
        for magic, what in _MAGIC:
            if data.startswith(magic):
                raise DataValidationError(f"{name}: is {what}, not a text file of ratings. "
                                          "Expected a text file with one rating per line (CSV, TSV or similar).")
        if data.startswith(b"\xef\xbb\xbf"):
            data, bom = data[3:], "utf-8"
        elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            bom = "utf-16"
        else:
            bom = None
        if bom == "utf-16":
            try:
                text, encoding = data.decode("utf-16"), "utf-16"
            except UnicodeDecodeError:
                raise DataValidationError(f"{name}: starts like a UTF-16 text file but is not valid UTF-16. "
                                          "Save it again as UTF-8 CSV.") from None
        else:
            if b"\x00" in data[:_SNIFF_CHARS]:
                raise _binary_error(name)
            try:
                text, encoding = data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                text, encoding = data.decode("latin-1"), "latin-1"
                # Latin-1 maps 0x80-0x9f to invisible control characters; files
                # from Windows use them for curly quotes and dashes (cp1252).
                if re.search("[\x80-\x9f]", text):
                    try:
                        text, encoding = data.decode("cp1252"), "cp1252"
                    except UnicodeDecodeError:
                        pass
                label = "Latin-1 (ISO-8859-1)" if encoding == "latin-1" else "Windows-1252"
                notes.append(
                    f"{name}: not valid UTF-8 (first at line {line}); read as {label}, the encoding "
                    "MovieLens files use. Check that accented titles look right."
                )
    if not text.strip():
        raise DataValidationError(
            f"{name}: the file is empty. Expected a header line and one rating per line. "
            "Choose another file or check it was saved completely."
        )
    # One line ending everywhere: line numbers then match what an editor shows.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    head = text[:_SNIFF_CHARS]
    controls = len(re.findall("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]", head))
    if controls > max(2, len(head) // 100):
        raise _binary_error(name)
    return _Text(name=name, text=text, encoding=encoding, notes=notes)


def _binary_error(name: str) -> DataValidationError:
    return DataValidationError(
        f"{name}: is not a text file (it holds binary data). Expected a text file with one rating per line, "
        "such as CSV or tab-separated. If it is a spreadsheet or archive, save or extract it as CSV first."
    )


def _read_text(source: Source, name: str | None) -> _Text:
    display = _display_name(source, name)
    return _decode(_read_source(source, display), display)


# ---------------------------------------------------------- format detection
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


def _find_column(columns: list[str], role: str) -> str | None:
    normalised = {}
    for column in columns:
        normalised.setdefault(_norm(column), column)
    for candidate in ROLE_NAMES[role]:
        if _norm(candidate) in normalised:
            return normalised[_norm(candidate)]
    return None


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
        if norm == {"userid", "movieid", "rating", "timestamp"}:
            return "ratings", "movielens-latest", "MovieLens ratings (userId, movieId, rating, timestamp)"
        if norm == {"userid", "bookid", "rating"}:
            return "ratings", "goodbooks-10k", "Goodbooks-10k ratings (user_id, book_id, rating)"
        return "ratings", "generic", "ratings, one (user, item) pair per line"
    if has["item"]:
        if {"goodreadsbookid", "authors"} <= norm:
            return "items", "goodbooks-10k", "Goodbooks-10k books (books.csv)"
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
    base = name.lower().removesuffix(".gz")
    name_hint = _NAME_HINTS.get(base)
    if name_hint is None and re.fullmatch(r"u(\d|[abc])?\.(base|test)", base):
        name_hint = "ratings"  # the MovieLens 100k splits
    full = [row for row in rows if len(row) == n]
    columns = [[row[j].strip() for row in full] for j in range(n)]
    numeric = [float(np.mean([_is_number(v) for v in col if v])) if any(col) else 0.0 for col in columns]

    def values(j: int) -> set[str]:
        return set(columns[j]) if j < n else set()

    if sep == "|" and n == 24 and all(values(j) <= {"0", "1"} for j in range(5, 24)):
        return "items", "movielens-100k", list(_ML100K_ITEM_COLUMNS), "MovieLens 100k item file (u.item)"
    if sep == "|" and n == 5 and values(2) <= {"M", "F"} and numeric[1] >= 0.9:
        return "users", "movielens-100k", ["user", "age", "gender", "occupation", "zip_code"], \
            "MovieLens 100k user file (u.user)"
    if sep == "::" and n == 5 and values(1) <= {"M", "F"}:
        return "users", "movielens-1m", ["user", "gender", "age", "occupation", "zip_code"], \
            "MovieLens 1M user file (users.dat)"
    wants = hint or name_hint
    # The MovieLens layouts win over what the caller asked for, so that e.g.
    # movies.dat given as ratings gets "looks like movies" instead of a wrong read.
    if n == 3 and numeric[0] >= 0.9 and numeric[1] < 0.5 and numeric[2] < 0.5 and (
        sep == "::" or name_hint == "items" or wants in (None, "items") or any("|" in v for v in columns[2])
    ):
        layout = "movielens-1m" if sep == "::" else "generic"
        return "items", layout, ["item", "title", "genres"], "movies: item id, title, genres (the movies.dat layout)"
    if n == 4 and numeric[2] < 0.5 and numeric[3] >= 0.9 and (
        sep == "::" or name_hint == "tags" or wants in (None, "tags", "ratings")
    ):
        layout = "movielens-1m" if sep == "::" else "generic"
        columns_ = ["user", "item", "tag", "timestamp"]
        return "tags", layout, columns_, "tags: user, item, tag, timestamp (the tags.dat layout)"
    kind = wants or ("ratings" if n == 2 or (n >= 3 and numeric[2] >= 0.9) else "unknown")
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
    return _sniff(_read_text(source, name), kind, {"separator": separator, "has_header": has_header})


# --------------------------------------------------------------- parsing
def _line_shape(body: str, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fields per non-blank line, its 1-based number, and whether it ends with a separator (an empty last field).

    For files where no value is quoted.

    Works on the UTF-8 bytes with numpy (no loop over lines): separators,
    spaces and line breaks are ASCII, and no byte of a multi-byte UTF-8
    character is.
    """
    data = body.encode("utf-8", "surrogatepass")
    buffer = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buffer == 10)
    if len(buffer) and buffer[-1] != 10:
        ends = np.append(ends, len(buffer))  # a last line without a line break
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    # Each segment holds its own line break, so none is empty (reduceat's caveat).
    counts = np.add.reduceat(buffer == ord(sep), starts, dtype=np.int64) + 1
    filled = (ends - starts) > 0
    trailing = filled & (buffer[np.maximum(ends - 1, 0)] == ord(sep)) if len(buffer) else filled
    # Lines of spaces only are skipped by pandas too; they are rare, so look
    # for them only when a quick scan finds one.
    spaces = "".join(c for c in " \t\f\v" if c != sep).encode()
    if any(data.startswith(bytes([c])) or b"\n" + bytes([c]) in data for c in spaces):
        for match in re.finditer(rb"(?m)^[" + re.escape(spaces) + rb"]+$", data):
            filled[np.searchsorted(starts, match.start(), side="right") - 1] = False
    return counts[filled], np.flatnonzero(filled) + 1, trailing[filled]


def _record_shape(body: str, sep: str, quoting: int, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fields per non-blank record, the 1-based line each record starts on, and whether its last field is empty."""
    if quoting == csv.QUOTE_NONE or '"' not in body:
        return _line_shape(body, sep)
    # Quoted values may hold separators and line breaks: let csv find the
    # records (a loop, but only for files that quote, e.g. movies.csv).
    blank_chars = "".join(c for c in " \t\f\v" if c != sep)
    counts_list: list[int] = []
    starts: list[int] = []
    trailing: list[bool] = []
    reader = csv.reader(io.StringIO(body), delimiter=sep, quoting=quoting)
    previous = 0
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record or (len(record) == 1 and not record[0].strip(blank_chars)):
                continue
            counts_list.append(len(record))
            starts.append(start)
            trailing.append(record[-1] == "")
    except csv.Error as exc:
        raise DataValidationError(
            f"{name}: line {previous + 1} could not be read ({exc}). "
            "Check that quotes are closed on that line and load the file again."
        ) from None
    return (np.asarray(counts_list, dtype=np.int64), np.asarray(starts, dtype=np.int64),
            np.asarray(trailing, dtype=bool))


def _parse(text: _Text, fmt: FileFormat, numeric: tuple[str, ...] = (), skip_bad_lines: bool = False) -> _Table:
    """Read the whole file as a table of text columns.

    Columns named in ``numeric`` are first tried as float64 by the C parser
    (several times faster than converting text); if any value is not a
    finite number the file is read again as text, so the checks can name the
    offending lines. A line with one extra, empty last field loses it (with a
    note); lines with another number of fields are an error naming them, or
    with ``skip_bad_lines`` are skipped and listed in the notes.
    """
    sep = fmt.separator
    body, engine_sep = (text.text.replace("::", _UNIT_SEP), _UNIT_SEP) if sep == "::" else (text.text, sep)
    quoting = csv.QUOTE_MINIMAL if sep in _QUOTED else csv.QUOTE_NONE
    counts, lines, trailing = _record_shape(body, engine_sep, quoting, text.name)
    notes = list(text.notes)
    expected = len(fmt.columns)
    header = int(fmt.has_header)
    # A separator before the line break adds an empty field that holds nothing: read past it.
    padded = trailing & (counts == expected + 1)
    bad = (counts != expected) & ~padded
    if bad.any() and (not skip_bad_lines or bad[:header].any()):  # the header line itself is never skipped
        listing = ", ".join(f"line {lines[i]} ({_count(counts[i], 'field')})" for i in np.flatnonzero(bad)[:_SHOW_ROWS])
        more = f" and {bad.sum() - _SHOW_ROWS} more" if bad.sum() > _SHOW_ROWS else ""
        like = "the header line" if fmt.has_header else "most lines"
        quote_tip = (
            f"A value that contains a {_SEP_NAMES[sep]} must be in double quotes, and a double quote must be closed. "
            if sep in _QUOTED else ""
        )
        n_bad = int(bad.sum())
        raise MalformedLinesError(
            f"{text.name}: {_count(n_bad, 'line')} {'does' if n_bad == 1 else 'do'} not have {expected} "
            f"fields like {like} (separator: {_SEP_NAMES[sep]}): {listing}{more}. Expected {expected} fields on every line. "
            f"{quote_tip}Every line needs a value (or an empty field) for each column. "
            f"Fix these lines and load the file again. {_SKIP_HINT}",
            text.name, lines[bad], f"not {expected} fields",
        )
    if len(lines) <= header:
        raise DataValidationError(
            f"{text.name}: has a header line ({', '.join(fmt.columns)}) but no data rows. "
            "Expected one row per line below the header. Check that the whole file was saved."
        )
    if bad.any():
        if bad[header:].all():
            raise DataValidationError(
                f"{text.name}: none of the {_count(len(lines) - header, 'line')} has {expected} fields "
                f"like {'the header line' if fmt.has_header else 'the first lines'} (separator: {_SEP_NAMES[sep]}), "
                "so skipping the malformed lines leaves nothing to load. Check the separator and the header line."
            )
        details = [f"{_count(counts[i], 'field')}" for i in np.flatnonzero(bad)[:_REPORT_LINES]]
        notes.append(
            f"{text.name}: skipped {_count(int(bad.sum()), 'malformed line')} without {expected} fields "
            f"(separator: {_SEP_NAMES[sep]}): {_line_list(lines[bad], details)}."
        )
    if padded.any():
        n_padded = int(padded.sum())
        notes.append(
            f"{text.name}: {_count(n_padded, 'line')} {'ends' if n_padded == 1 else 'end'} with an extra empty field "
            f"(a {_SEP_NAMES[sep]} before the line break), ignored: {_line_list(lines[padded])}."
        )
    names = list(fmt.columns) + ([_TRAILING_FIELD] if padded.any() else [])
    data_lines, data_bad = lines[header:], bad[header:]

    def read(dtype: Any) -> pd.DataFrame:
        frame = pd.read_csv(
            io.StringIO(body),
            sep=engine_sep,
            header=0 if fmt.has_header else None,
            names=names,
            # By position: one row per record whatever its number of fields (missing ones empty, extra ones
            # cut off), so the rows line up with ``lines``; the malformed ones were counted above.
            usecols=list(range(len(names))),
            dtype=dtype,  # ids stay text as written: "0042" and ISBNs survive
            na_filter=False,  # empty cells stay "" so the checks can name them
            quoting=quoting,
            skip_blank_lines=True,
            engine="c",
        )
        if data_bad.any() and len(frame) == len(data_bad):
            frame = frame[~data_bad].reset_index(drop=True)
        return frame.drop(columns=_TRAILING_FIELD) if padded.any() else frame

    try:
        frame = None
        if numeric:
            try:
                frame = read({c: (np.float64 if c in numeric else str) for c in names})
                if not all(np.isfinite(frame[c].to_numpy()).all() for c in numeric):
                    frame = None
            except ValueError:
                frame = None
        if frame is None:
            frame = read(str)
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise DataValidationError(
            f"{text.name}: could not be read as a {_SEP_NAMES[sep]}-separated table ({exc}). "
            "Save the file again as plain CSV and load it again."
        ) from None
    data_lines = data_lines[~data_bad]
    if len(data_lines) != len(frame):  # defensive: keep line numbers approximate rather than fail
        data_lines = np.arange(len(frame)) + 1 + header
    return _Table(name=text.name, fmt=fmt, frame=frame, lines=np.asarray(data_lines), notes=notes)


def _load_table(
    source: Source, name: str | None, kind: str, layout: Layout | None = None, skip_bad_lines: bool = False
) -> _Table:
    text = _read_text(source, name)
    return _parse(text, _sniff(text, kind, layout), skip_bad_lines=skip_bad_lines)


# ------------------------------------------------------------ validation
def _count(n: int, noun: str) -> str:
    return f"{int(n):,} {noun}{'' if n == 1 else 's'}"


def _how_read(fmt: FileFormat) -> str:
    header = "with a header line" if fmt.has_header else "no header line"
    return f"{_SEP_NAMES[fmt.separator]}-separated, {header}, {fmt.encoding}"


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
                "column mapping."
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
    values = table.frame[column].astype(str).str.strip()
    missing = _missing(values)
    if missing.any():
        raise _rows_error(
            table, column, missing, "is empty (or NaN)", f"a {what} on every row",
            "Fill in or delete these rows, then load the file again.", malformed=True,
        )
    # Ids exported through a float column ("12.0") would never match "12" in
    # the other files.
    if values.iloc[0].endswith(".0") and values.str.fullmatch(r"\d+\.0").all():
        values = values.str.slice(0, -2)
        report.append(f"{table.name}: {what}s written like '12.0' read as '12'.")
    return values.reset_index(drop=True)


def _parse_ratings(table: _Table, column: str, report: list[str]) -> np.ndarray:
    if table.frame[column].dtype == np.float64:  # parsed as numbers, all finite (see _parse)
        return table.frame[column].to_numpy()
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
    return numbers


def _infer_scale(values: np.ndarray) -> tuple[float, float]:
    """Snap the observed range to the common scales (1-5, 0.5-5, 1-10 ...)."""
    low, high = float(values.min()), float(values.max())
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
        return _seconds(table, table.frame[column].to_numpy(), report)
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
        return _seconds(table, numbers, report)
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


def _seconds(table: _Table, numbers: np.ndarray, report: list[str]) -> np.ndarray:
    if np.median(numbers) > 1e11:  # milliseconds since 1970 (Java, JavaScript exports)
        numbers = numbers / 1000.0
        report.append(f"{table.name}: timestamps in milliseconds converted to seconds.")
    return np.floor(numbers).astype(np.int64)


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
    return _skipping_malformed(table, lambda t: _ratings_from_table(t, roles, rating_scale), skip_bad_lines)


def _ratings_from_table(
    table: _Table,
    roles: dict[str, str | None],
    rating_scale: tuple[float, float] | None,
) -> _Ratings:
    report = list(table.notes)
    frame = pd.DataFrame({
        USER: _clean_ids(table, roles["user"], "user id", report),
        ITEM: _clean_ids(table, roles["item"], "item id", report),
    })
    implicit = roles["rating"] is None
    if implicit:
        frame[RATING] = 1.0
        scale = (1.0, 1.0)
        note = " (the rating scale given was ignored)" if rating_scale is not None else ""
        report.append(f"{table.name}: no rating column: each row is one interaction (implicit feedback){note}.")
    else:
        column = roles["rating"]
        ratings = _parse_ratings(table, column, report)
        if rating_scale is not None:
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
            scale = (low, high)
        else:
            scale = _infer_scale(ratings)
            report.append(
                f"{table.name}: rating scale {scale[0]:g} to {scale[1]:g} inferred from the ratings "
                f"(lowest {ratings.min():g}, highest {ratings.max():g})."
            )
        frame[RATING] = ratings
    if roles["timestamp"] is not None:
        stamps = _parse_timestamps(table, roles["timestamp"], report)
        if stamps is not None:
            frame[TIMESTAMP] = stamps

    before = len(frame)
    if TIMESTAMP in frame.columns:
        # Stable sort: equal times keep file order, so "latest" is then the last line.
        ordered = frame.sort_values(TIMESTAMP, kind="stable")
        kept = np.sort(ordered.index[~ordered.duplicated([USER, ITEM], keep="last").to_numpy()])
        frame = frame.loc[kept]
        how = "by timestamp; the last line on equal times"
    else:
        frame = frame[~frame.duplicated([USER, ITEM], keep="last").to_numpy()]
        how = "the last one in the file"
    frame = frame.reset_index(drop=True)
    if len(frame) < before:
        report.append(f"{table.name}: {before - len(frame):,} duplicate (user, item) rows: kept the latest ({how}).")
    report.insert(
        0,
        f"{table.name}: {_count(len(frame), 'interaction' if implicit else 'rating')} by "
        f"{_count(frame[USER].nunique(), 'user')} on {_count(frame[ITEM].nunique(), 'item')}. "
        f"Read as {table.fmt.description}: {_how_read(table.fmt)}.",
    )
    frame.attrs["rating_scale"] = scale
    frame.attrs["implicit"] = implicit
    return _Ratings(frame=frame, report=report, rating_scale=scale, implicit=implicit, name=table.name)


def read_ratings(
    source: Source,
    *,
    mapping: Mapping[str, str | None] | None = None,
    name: str | None = None,
    rating_scale: tuple[float, float] | None = None,
    separator: str | None = None,
    has_header: bool | None = None,
    skip_bad_lines: bool = False,
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

    Returns
    -------
    frame : DataFrame
        Columns ``user``, ``item`` (str), ``rating`` (float) and, when the
        file has times, ``timestamp`` (int64 unix seconds); one row per
        (user, item). ``frame.attrs`` holds ``rating_scale`` and ``implicit``.
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
                            skip_bad_lines)
    return ratings.frame, ratings.report


# ------------------------------------------------------------ metadata
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
            if np.all(numbers.dropna() == np.round(numbers.dropna())):
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


def _ml100k_genres(frame: pd.DataFrame) -> pd.Series:
    # 19 columns, not 100k rows: a loop over genres keeps this vectorised.
    joined = np.full(len(frame), "", dtype=object)
    for genre in _ML100K_GENRES[1:]:  # "unknown" is the absence of a genre
        joined = joined + np.where(frame[genre].str.strip().to_numpy() == "1", genre + "|", "")
    return pd.Series(joined, dtype=str).str.rstrip("|")


def _dedupe_meta(out: pd.DataFrame, key: str, name: str, report: list[str]) -> pd.DataFrame:
    duplicated = out.duplicated(key, keep="first").to_numpy()
    if duplicated.any():
        report.append(f"{name}: {_count(duplicated.sum(), 'row')} repeat an {key} id listed before: kept the first.")
        out = out[~duplicated]
    return out.reset_index(drop=True)


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
    columns = table.fmt.columns
    norm = {_norm(c): c for c in columns}
    if "tagid" in norm:
        # Goodbooks: book_tags.csv (goodreads_book_id, tag_id, count) + tags.csv (tag_id, tag_name).
        if tag_names is None:
            raise DataValidationError(
                f"{table.name}: holds tag ids ({norm['tagid']}) without their names. Also give the tag names file "
                "(tags.csv with columns tag_id, tag_name) as tag_names."
            )
        names_table = _load_table(tag_names, None, "tag_names")
        names_norm = {_norm(c): c for c in names_table.fmt.columns}
        if "tagid" not in names_norm or _find_column(names_table.fmt.columns, "tag") is None:
            raise DataValidationError(
                f"{names_table.name}: expected the columns tag_id and tag_name; columns found: "
                f"{', '.join(map(repr, names_table.fmt.columns))}. Choose the tag names file (tags.csv)."
            )
        lookup = pd.Series(
            names_table.frame[_find_column(names_table.fmt.columns, "tag")].to_numpy(),
            index=names_table.frame[names_norm["tagid"]].str.strip().to_numpy(),
        )
        lookup = lookup[~lookup.index.duplicated()]
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
            report.append(
                f"{table.name}: {_count(unknown.sum(), 'row')} with a tag id missing from {names_table.name}: left out."
            )
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
        limit: int | None = TOP_BOOK_TAGS
    else:
        if tag_names is not None:
            raise DataValidationError(
                f"{table.name}: already holds tag text, so the tag names file is not needed; "
                "leave tag_names empty or give the book_tags file (with tag_id) as tags."
            )
        tag_key, tag_column, item_key = _find_column(columns, "item"), _find_column(columns, "tag"), item_column
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
    rest = [c for c in fmt.columns if c not in used]
    if fmt.layout == "goodbooks-10k":
        left_out = [c for c in rest if c not in _GOODBOOKS_KEEP]
        rest = [c for c in rest if c in _GOODBOOKS_KEEP]
        if left_out:
            report.append(f"{name}: left out {len(left_out)} Goodbooks columns ({', '.join(left_out)}).")
    out = _add_meta_columns(out, raw, rest, name, report)
    if "original_publication_year" in out.columns and "year" not in out.columns:
        out = out.rename(columns={"original_publication_year": "year"})
    if "year" not in out.columns:
        # MovieLens titles end with the release year: "Toy Story (1995)".
        year = out["title"].str.extract(r"\((\d{4})\)\s*$")[0]
        if year.notna().mean() >= 0.5:
            out["year"] = pd.to_numeric(year).astype("Int64")
            report.append(f"{name}: 'year' taken from the titles.")
    out = _dedupe_meta(out, ITEM, name, report)
    report.insert(0, f"{name}: {_count(len(out), 'item')} with columns {', '.join(out.columns)}. "
                     f"Read as {fmt.description}: {_how_read(fmt)}.")
    return out, report


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


# ------------------------------------------------------------ assembling
def _align(
    meta: pd.DataFrame, key: str, ids: pd.Series, meta_name: str, ratings_name: str, report: list[str]
) -> pd.DataFrame:
    """Drop metadata rows nobody rated; count rated ids without metadata."""
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
    loaded = _load_ratings(ratings, None, mapping, rating_scale, layouts.get("ratings"), skip_bad_lines)
    report = list(loaded.report)
    items_frame = users_frame = None
    if items is not None:
        items_table = _load_table(items, None, "items", layouts.get("items"), skip_bad_lines)
        items_frame, items_report = _skipping_malformed(
            items_table, lambda t: _items_from_table(t, item_mapping, tags, tag_names), skip_bad_lines)
        report += items_report
        items_frame = _align(items_frame, ITEM, loaded.frame[ITEM], items_table.name, loaded.name, report)
    elif tags is not None or tag_names is not None:
        raise DataValidationError(
            "Tags were given without an items file. Also choose the items file the tags belong to."
        )
    if users is not None:
        users_table = _load_table(users, None, "users", layouts.get("users"), skip_bad_lines)
        users_frame, users_report = _skipping_malformed(
            users_table, lambda t: _users_from_table(t, user_mapping), skip_bad_lines)
        report += users_report
        users_frame = _align(users_frame, USER, loaded.frame[USER], users_table.name, loaded.name, report)
    return Dataset.from_frames(
        loaded.frame,
        name=name or _dataset_name(ratings, loaded.name),
        rating_scale=loaded.rating_scale,
        implicit=loaded.implicit,
        items=items_frame,
        users=users_frame,
        report=report,
    )


def load_sample() -> Dataset:
    """The bundled synthetic sample (``sample_data/``: ratings, items, users).

    Returns
    -------
    Dataset
        Named ``sample``.

    Raises
    ------
    DataValidationError
        If the sample files are missing from the installation.
    """
    ratings = SAMPLE_DIR / "ratings.csv"
    if not ratings.exists():
        raise DataValidationError(
            f"The bundled sample is missing: no {ratings}. Regenerate it with recsys_core.synthetic."
        )
    items, users = SAMPLE_DIR / "items.csv", SAMPLE_DIR / "users.csv"
    return load_dataset(
        ratings,
        items if items.exists() else None,
        users if users.exists() else None,
        name="sample",
    )
