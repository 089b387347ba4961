"""Parsing: decoded text + detected format -> a table of text columns with the file line of each row.

Counts the fields of every line first (vectorised for unquoted files), so a
line with the wrong number of fields is named by its number, or skipped and
listed with ``skip_bad_lines``; a trailing empty field is read past with a note.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ._shared import (
    _QUOTED, _REPORT_LINES, _SEP_NAMES, _SHOW_ROWS, _SKIP_HINT, _TRAILING_FIELD, _UNIT_SEP, FileFormat, Layout,
    Source, _count, _line_list, _Table, _Text,
)
from .columnar import _parse_columnar, _read_head
from .detection import _sniff
from .reading import _read_text
from .validation import MalformedLinesError


def _line_shape(body: str, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fields per non-blank line, its 1-based number, and whether it ends with a separator (an empty last field).

    For files where no value is quoted.

    Works on the UTF-8 bytes with numpy (no loop over lines): separators,
    spaces and line breaks are ASCII, and no byte of a multi-byte UTF-8
    character is.
    """
    data = body.encode("utf-8", "surrogatepass")
    buffer = np.frombuffer(data, dtype=np.uint8)
    ends = _positions(buffer, 10)
    if len(buffer) and buffer[-1] != 10:
        ends = np.append(ends, len(buffer))  # a last line without a line break
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    # Separators before each line's end, minus those before the previous line's end: this line's.
    before_end = np.searchsorted(_positions(buffer, ord(sep)), ends)
    counts = np.diff(before_end, prepend=0) + 1
    filled = (ends - starts) > 0
    trailing = filled & (buffer[np.maximum(ends - 1, 0)] == ord(sep)) if len(buffer) else filled
    # Lines of spaces only are skipped by pandas too; they are rare, so look
    # for them only when a quick scan finds one.
    spaces = "".join(c for c in " \t\f\v" if c != sep).encode()
    if any(data.startswith(bytes([c])) or b"\n" + bytes([c]) in data for c in spaces):
        for match in re.finditer(rb"(?m)^[" + re.escape(spaces) + rb"]+$", data):
            filled[np.searchsorted(starts, match.start(), side="right") - 1] = False
    return counts[filled], np.flatnonzero(filled) + 1, trailing[filled]


def _positions(buffer: np.ndarray, byte: int, step: int = 1 << 24) -> np.ndarray:
    """Where ``byte`` occurs in ``buffer``, found a slice at a time.

    Comparing the whole buffer at once would hold a boolean per byte of the
    file; a slice at a time holds 16 MB (see benchmarks/load_memory.py).
    """
    found = [np.flatnonzero(buffer[i:i + step] == byte) + i for i in range(0, len(buffer), step)]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


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
    # pandas reads UTF-8 bytes directly; a StringIO of the text would hold 4 bytes a character.
    encoded = body.encode("utf-8", "surrogatepass")
    del body
    notes = list(text.notes)
    padded, bad = _checked_field_counts(text.name, fmt, counts, lines, trailing, skip_bad_lines, notes)
    names = list(fmt.columns) + ([_TRAILING_FIELD] if padded.any() else [])
    header = int(fmt.has_header)
    data_lines, data_bad = lines[header:], bad[header:]
    frame = _read_frame(text.name, encoded, engine_sep, quoting, fmt, names, numeric, data_bad)
    data_lines = data_lines[~data_bad]
    if len(data_lines) != len(frame):  # defensive: keep line numbers approximate rather than fail
        data_lines = np.arange(len(frame)) + 1 + header
    return _Table(name=text.name, fmt=fmt, frame=frame, lines=np.asarray(data_lines), notes=notes)


def _checked_field_counts(
    name: str, fmt: FileFormat, counts: np.ndarray, lines: np.ndarray, trailing: np.ndarray,
    skip_bad_lines: bool, notes: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """(padded, bad) per record: a trailing empty field to read past, or the wrong number of fields.

    Raises for bad lines unless they are to be skipped (then they are listed in ``notes``).
    """
    sep = fmt.separator
    expected = len(fmt.columns)
    header = int(fmt.has_header)
    # A separator before the line break adds an empty field that holds nothing: read past it.
    padded = trailing & (counts == expected + 1)
    bad = (counts != expected) & ~padded
    if bad.any() and (not skip_bad_lines or bad[:header].any()):  # the header line itself is never skipped
        raise _wrong_fields_error(name, fmt, counts, lines, bad)
    if len(lines) <= header:
        raise DataValidationError(
            f"{name}: has a header line ({', '.join(fmt.columns)}) but no data rows. "
            "Expected one row per line below the header. Check that the whole file was saved."
        )
    if bad.any():
        if bad[header:].all():
            raise DataValidationError(
                f"{name}: none of the {_count(len(lines) - header, 'line')} has {expected} fields "
                f"like {'the header line' if fmt.has_header else 'the first lines'} (separator: {_SEP_NAMES[sep]}), "
                "so skipping the malformed lines leaves nothing to load. Check the separator and the header line."
            )
        details = [f"{_count(counts[i], 'field')}" for i in np.flatnonzero(bad)[:_REPORT_LINES]]
        notes.append(
            f"{name}: skipped {_count(int(bad.sum()), 'malformed line')} without {expected} fields "
            f"(separator: {_SEP_NAMES[sep]}): {_line_list(lines[bad], details)}."
        )
    if padded.any():
        n_padded = int(padded.sum())
        notes.append(
            f"{name}: {_count(n_padded, 'line')} {'ends' if n_padded == 1 else 'end'} with an extra empty field "
            f"(a {_SEP_NAMES[sep]} before the line break), ignored: {_line_list(lines[padded])}."
        )
    return padded, bad


def _wrong_fields_error(
    name: str, fmt: FileFormat, counts: np.ndarray, lines: np.ndarray, bad: np.ndarray
) -> MalformedLinesError:
    sep, expected = fmt.separator, len(fmt.columns)
    listing = ", ".join(f"line {lines[i]} ({_count(counts[i], 'field')})" for i in np.flatnonzero(bad)[:_SHOW_ROWS])
    more = f" and {bad.sum() - _SHOW_ROWS} more" if bad.sum() > _SHOW_ROWS else ""
    like = "the header line" if fmt.has_header else "most lines"
    quote_tip = (
        f"A value that contains a {_SEP_NAMES[sep]} must be in double quotes, and a double quote must be closed. "
        if sep in _QUOTED else ""
    )
    n_bad = int(bad.sum())
    return MalformedLinesError(
        f"{name}: {_count(n_bad, 'line')} {'does' if n_bad == 1 else 'do'} not have {expected} "
        f"fields like {like} (separator: {_SEP_NAMES[sep]}): {listing}{more}. Expected {expected} fields on every line. "
        f"{quote_tip}Every line needs a value (or an empty field) for each column. "
        f"Fix these lines and load the file again. {_SKIP_HINT}",
        name, lines[bad], f"not {expected} fields",
    )


def _read_frame(
    name: str, body: bytes, engine_sep: str, quoting: int, fmt: FileFormat, names: list[str],
    numeric: tuple[str, ...], data_bad: np.ndarray,
) -> pd.DataFrame:
    """The records as a frame: ``numeric`` columns as float64 when all are finite numbers, the rest as text."""
    padded = _TRAILING_FIELD in names

    def read(dtype: Any) -> pd.DataFrame:
        frame = pd.read_csv(
            io.BytesIO(body),
            encoding="utf-8",
            encoding_errors="surrogatepass",
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
        return frame.drop(columns=_TRAILING_FIELD) if padded else frame

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
            frame = read({c: str for c in names})
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise DataValidationError(
            f"{name}: could not be read as a {_SEP_NAMES[fmt.separator]}-separated table ({exc}). "
            "Save the file again as plain CSV and load it again."
        ) from None
    return frame


def _load_table(
    source: Source, name: str | None, kind: str, layout: Layout | None = None, skip_bad_lines: bool = False
) -> _Table:
    head = _read_head(source, name)
    if head is not None:
        fmt = _sniff(head, kind, layout)
        table = _parse_columnar(source, head.name, fmt)
        if table is not None:
            return table
    text = _read_text(source, name)
    return _parse(text, _sniff(text, kind, layout), skip_bad_lines=skip_bad_lines)
