"""Columnar parsing of large, clean files with pyarrow's CSV reader: the fast path of the loaders.

A ratings export of hundreds of MB is read here without ever holding it as
Python text: detection reads only the head of the file (:func:`_read_head`), and
pyarrow reads the rest from the file itself (or from the uploaded bytes) into
compact columns, on both cores. The resulting :class:`_Table` is the one
``parsing._parse`` builds, with the same dtypes (ids as text, the rating and
time as float64 where they are numbers) and the same line numbers, so every
check after it, its notes and its errors are the same code.

This path only takes files it reads exactly: one-character separators, UTF-8,
every line holding the header's number of fields, no blank lines inside the
data. Anything else (a Latin-1 file, a trailing separator, a malformed line,
``::``) makes it return ``None`` and the caller parses the text the careful way,
which names the lines at fault. See ``benchmarks/load_memory.py``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataValidationError
from ._shared import _QUOTED, _SNIFF_CHARS, FileFormat, Source, _Table, _Text
from .reading import _decode, _display_name, _head_bytes, _raw

#: Files at most this large are read as text: the fast path only pays off for big files.
_HEAD_BYTES = 4 * _SNIFF_CHARS
#: Bytes of the file read at a time while counting its lines.
_CHUNK = 1 << 24


def _read_head(source: Source, name: str | None) -> _Text | None:
    """The decoded head of a large, plain UTF-8 file (enough for detection), or ``None`` to read it whole.

    ``None`` for small files, gzip, UTF-16, non-UTF-8 text and anything
    :func:`reading._decode` would complain about: the whole-text reader then
    gives its usual notes and messages.
    """
    raw = _raw(source)
    if raw is None:
        return None
    try:
        head = _head_bytes(raw, _HEAD_BYTES + 1)
    except OSError:
        return None  # the whole-file reader words the error
    if len(head) <= _HEAD_BYTES or head[:2] in (b"\x1f\x8b", b"\xff\xfe", b"\xfe\xff"):
        return None
    # Whole lines only, so no character is cut in two.
    head = head[: head.rfind(b"\n") + 1]
    if not head:
        return None
    try:
        text = _decode(head, _display_name(source, name))
        head.decode("utf-8")  # _decode falls back to Latin-1 quietly only with a note; be strict here
    except (DataValidationError, UnicodeDecodeError):
        return None
    if text.notes or len(text.text) <= _SNIFF_CHARS:
        return None
    return text


def _line_count(raw: Path | bytes) -> int:
    """Lines of the file, blank lines at its very end not counted; counted a chunk at a time."""
    if isinstance(raw, bytes):
        newlines, tail = raw.count(b"\n"), raw[-64:]
    else:
        newlines, tail = 0, b""
        with raw.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                newlines += chunk.count(b"\n")
                tail = (tail + chunk)[-64:]
    if not tail.endswith(b"\n"):
        return newlines + 1  # a last line without a line break
    # Blank lines at the very end (a common last "\n\n"): pyarrow skips them, and so does the text path.
    trailing_blank = tail[len(tail.rstrip(b"\r\n")):].count(b"\n") - 1
    return newlines - trailing_blank


def _parse_columnar(
    source: Source, name: str, fmt: FileFormat, numeric: tuple[str, ...] = (), categorical: tuple[str, ...] = ()
) -> _Table | None:
    """The file as a :class:`_Table`, read by pyarrow; ``None`` when the careful text parser must read it.

    Columns named in ``numeric`` are float64 when every value is a finite
    number, else text (as in ``parsing._parse``). Columns named in
    ``categorical`` (ids, repeated on many lines) are text stored once per
    distinct value, as a pandas categorical: a quarter of the memory of a
    string per row. The others are text as written.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is a requirement
        return None
    raw = _raw(source)
    if raw is None or len(fmt.separator) != 1 or not fmt.columns:
        return None
    names = [str(c) for c in fmt.columns]
    if len(set(names)) != len(names):
        return None
    header = int(fmt.has_header)
    n_lines = _line_count(raw)
    expected_rows = n_lines - header
    if expected_rows <= 0:
        return None
    quoted = fmt.separator in _QUOTED

    def read(types: dict):
        stream = pa.BufferReader(raw) if isinstance(raw, bytes) else pa.OSFile(str(raw))
        try:
            return pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=header, block_size=1 << 24),
                parse_options=pacsv.ParseOptions(
                    delimiter=fmt.separator, quote_char='"' if quoted else False, double_quote=quoted,
                    newlines_in_values=False, ignore_empty_lines=True,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=types, null_values=[], strings_can_be_null=False,
                    quoted_strings_can_be_null=False, check_utf8=True,
                ),
            )
        finally:
            stream.close()

    text_types = {c: pa.dictionary(pa.int32(), pa.string()) if c in categorical else pa.string() for c in names}
    table = None
    if numeric:
        try:
            table = read({**text_types, **{c: pa.float64() for c in numeric}})
            for column in numeric:
                values = table.column(column)
                if values.null_count or not pc.all(pc.is_finite(values)).as_py():
                    table = None  # NaN, inf: read as text so the checks can name the rows
                    break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = None
    try:
        if table is None:
            table = read(text_types)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # a malformed line, an unclosed quote, not UTF-8: the text parser names it
    if table.num_rows != expected_rows:
        return None  # blank lines or quoted line breaks: line numbers would not match
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    _release_memory()  # the blocks read and converted
    lines = np.arange(header + 1, header + 1 + len(frame), dtype=np.int32 if len(frame) < 2**31 - 2 else np.int64)
    return _Table(name=name, fmt=fmt, frame=frame, lines=lines, notes=list(fmt.notes))


def _release_memory() -> None:
    """Give memory pyarrow holds but no longer uses back to the system (its allocator keeps freed blocks).

    Called once a parsed table is let go: numpy's arrays come from another
    allocator and could not reuse those blocks, so without this the peak is
    the sum of both.
    """
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a requirement
        return
    pa.default_memory_pool().release_unused()
