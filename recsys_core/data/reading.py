"""Reading: a path, bytes or an uploaded file -> text, whatever its encoding.

gzip is unpacked; UTF-8 (with or without BOM) and UTF-16 (by its BOM) are
read as such; anything else falls back to Latin-1 / Windows-1252 with a note.
Spreadsheets, archives and other binary files are refused with a message
saying what they are, never decoded into mojibake.
"""
from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

from .. import system
from ..errors import DataValidationError
from ._shared import _SNIFF_CHARS, Source, _Text

#: Peak memory of a load per byte of (unpacked) file, with margin: benchmarks/load_memory.py measures
#: about 3.5x for the columnar path and 5.5x for the text path on a 224 MB file.
LOAD_BYTES_PER_FILE_BYTE = 5


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
        data = _unpacked(data, name, notes)
        for magic, what in _MAGIC:
            if data.startswith(magic):
                raise DataValidationError(f"{name}: is {what}, not a text file of ratings. "
                                          "Expected a text file with one rating per line (CSV, TSV or similar).")
        text, encoding = _text_of(data, name, notes)
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


def _unpacked(data: bytes, name: str, notes: list[str]) -> bytes:
    """gzip-compressed bytes unpacked (with a note); any other bytes as they are."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        raise DataValidationError(
            f"{name}: looks gzip-compressed but could not be unpacked (the file may be cut short). "
            "Download it again, or unpack it yourself and load the file inside."
        ) from None
    notes.append(f"{name}: unpacked (gzip).")
    return data


def _text_of(data: bytes, name: str, notes: list[str]) -> tuple[str, str]:
    """(text, encoding): UTF-8 without its BOM, UTF-16 by its BOM, else Latin-1 / Windows-1252 with a note."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise DataValidationError(f"{name}: starts like a UTF-16 text file but is not valid UTF-16. "
                                      "Save it again as UTF-8 CSV.") from None
    if b"\x00" in data[:_SNIFF_CHARS]:
        raise _binary_error(name)
    try:
        return data.decode("utf-8"), "utf-8"
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
    return text, encoding


def _binary_error(name: str) -> DataValidationError:
    return DataValidationError(
        f"{name}: is not a text file (it holds binary data). Expected a text file with one rating per line, "
        "such as CSV or tab-separated. If it is a spreadsheet or archive, save or extract it as CSV first."
    )


def _read_text(source: Source, name: str | None) -> _Text:
    display = _display_name(source, name)
    return _decode(_read_source(source, display), display)


def _raw(source: Source) -> Path | bytes | None:
    """The file's path, or its bytes when it is already in memory (an upload); ``None`` for text objects."""
    if isinstance(source, (str, Path)):
        return Path(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)  # no copy for bytes
    if hasattr(source, "getvalue"):
        value = source.getvalue()
        return value if isinstance(value, bytes) else None
    return None


def _head_bytes(raw: Path | bytes, size: int) -> bytes:
    if isinstance(raw, bytes):
        return raw[:size]
    with raw.open("rb") as handle:
        return handle.read(size)


def _file_size(source: Source) -> int | None:
    """Bytes of the file as it will be read (gzip: its unpacked size, from its trailer), if known cheaply."""
    raw = _raw(source)
    if raw is None:
        return None
    try:
        if isinstance(raw, bytes):
            size, trailer = len(raw), raw[-4:]
        else:
            size = raw.stat().st_size
            with raw.open("rb") as handle:
                handle.seek(max(size - 4, 0))
                trailer = handle.read(4)
        if _head_bytes(raw, 2) == b"\x1f\x8b" and len(trailer) == 4:
            return int.from_bytes(trailer, "little")  # ISIZE: the unpacked size mod 4 GiB
    except OSError:
        return None  # the reader words the error
    return size


def _check_fits(source: Source, name: str | None) -> None:
    """Refuse, before reading it, a file whose load would not fit in the memory free now."""
    size = _file_size(source)
    if size is None:
        return
    need = LOAD_BYTES_PER_FILE_BYTE * size
    free = system.available_memory_bytes()
    if not system.fits(need, free):
        raise DataValidationError(
            f"{_display_name(source, name)}: is {system.gib(size)}; loading it needs about {system.gib(need)} of "
            f"memory and only {system.gib(free)} is free now. Nothing was changed. Close other programs or "
            "sessions and load it again, run it on a machine with more memory (or with --engine spark from the "
            "command line), or load a part of the file (for example the first million lines)."
        )
