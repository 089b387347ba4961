"""The columnar (pyarrow) fast path of the loaders gives exactly what the text path gives.

Each case writes a ratings file larger than the fast path's threshold, loads it
once as the loaders do and once with the fast path switched off, and compares
the data sets (vocabularies, rows, fingerprint, report) or the error messages.
"""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from recsys_core.data import columnar, detect_format, load_dataset, read_ratings
from recsys_core.data import parsing as parsing_module
from recsys_core.data import ratings as ratings_module
from recsys_core.errors import DataValidationError

N_ROWS = 14_000  # ~300 KB: above columnar._HEAD_BYTES


def _lines(seed: int = 0, n: int = N_ROWS) -> list[tuple[str, str, str, str]]:
    rng = np.random.default_rng(seed)
    users = rng.integers(1, 700, n)
    items = rng.integers(1, 400, n)
    ratings = rng.integers(1, 11, n) / 2
    times = rng.integers(946_684_800, 946_784_800, n)
    times[::50] = times[0]  # equal times: the last line wins among duplicates
    rows = []
    for u, i, r, t in zip(users, items, ratings, times):
        # Ids as written: leading zeros and letters survive.
        user = f"0{u}" if u % 97 == 0 else str(u)
        item = f"m{i}" if i % 13 == 0 else str(i)
        rows.append((user, item, f"{r:g}", str(t)))
    return rows


def _text(rows, sep: str = ",", header: str | None = "userId,movieId,rating,timestamp", newline: str = "\n") -> str:
    body = [sep.join(row) for row in rows]
    if header is not None:
        body.insert(0, header.replace(",", sep))
    return newline.join(body) + newline


def _both(tmp_path, monkeypatch, data: bytes, name: str = "ratings.csv", **kwargs):
    """(fast, text) results of load_dataset on the same file: data sets, or the error messages."""
    path = tmp_path / name
    path.write_bytes(data)
    taken = []
    real = columnar._parse_columnar

    def spy(*args, **kw):
        table = real(*args, **kw)
        taken.append(table is not None)
        return table

    def load():
        try:
            return load_dataset(path, **kwargs)
        except DataValidationError as error:
            return str(error)

    monkeypatch.setattr(ratings_module, "_parse_columnar", spy)
    fast = load()
    monkeypatch.setattr(ratings_module, "_read_head", lambda *a, **k: None)
    slow = load()
    monkeypatch.undo()
    return fast, slow, any(taken)


def _assert_same(fast, slow) -> None:
    if isinstance(slow, str):
        assert fast == slow
        return
    assert not isinstance(fast, str), fast
    assert list(fast.user_ids) == list(slow.user_ids)
    assert list(fast.item_ids) == list(slow.item_ids)
    pd.testing.assert_frame_equal(fast.interactions, slow.interactions)
    assert fast.fingerprint == slow.fingerprint
    assert fast.report == slow.report
    assert fast.rating_scale == slow.rating_scale and fast.implicit == slow.implicit


def test_plain_file_takes_the_fast_path_and_matches(tmp_path, monkeypatch):
    rows = _lines()
    fast, slow, taken = _both(tmp_path, monkeypatch, _text(rows).encode())
    assert taken
    _assert_same(fast, slow)
    # Duplicates were there and were resolved the same way (the latest, then the last line).
    assert fast.n_ratings < N_ROWS
    assert any("duplicate" in line for line in fast.report)
    assert "0194" in set(fast.user_ids) and "m13" in set(fast.item_ids)


@pytest.mark.parametrize("case", ["crlf_bom", "semicolon_quoted", "tab_headerless", "implicit", "dates",
                                  "trailing_blank_lines", "upload_bytes"])
def test_other_clean_layouts_match(tmp_path, monkeypatch, case):
    rows = _lines(seed=1)
    if case == "crlf_bom":
        data = b"\xef\xbb\xbf" + _text(rows, newline="\r\n").encode()
    elif case == "semicolon_quoted":
        data = _text([(f'"{u}"', i, r, t) for u, i, r, t in rows], sep=";").encode()
    elif case == "tab_headerless":
        data = _text(rows, sep="\t", header=None).encode()
    elif case == "implicit":
        data = _text([(u, i) for u, i, _, _ in _lines(seed=1, n=40_000)], header="user,item").encode()
    elif case == "dates":
        data = _text([(u, i, r, str(pd.Timestamp(int(t), unit="s").date())) for u, i, r, t in rows]).encode()
    elif case == "trailing_blank_lines":
        data = _text(rows).encode() + b"\n\n"
    else:
        data = _text(rows).encode()
    if case == "upload_bytes":
        monkeypatch.setattr(ratings_module, "_parse_columnar", columnar._parse_columnar)
        fast = load_dataset(data, name="ratings.csv")
        monkeypatch.setattr(ratings_module, "_read_head", lambda *a, **k: None)
        slow = load_dataset(data, name="ratings.csv")
        _assert_same(fast, slow)
        return
    fast, slow, taken = _both(tmp_path, monkeypatch, data)
    assert taken, case
    _assert_same(fast, slow)


@pytest.mark.parametrize("case", ["wrong_fields", "blank_line_inside", "trailing_separator", "empty_rating",
                                  "nan_rating", "latin1", "gzip", "bad_time", "empty_user"])
def test_files_the_fast_path_passes_on_give_the_same_result_or_message(tmp_path, monkeypatch, case):
    rows = [list(r) for r in _lines(seed=2)]
    name = "ratings.csv"
    if case == "wrong_fields":
        rows[7000].append("extra")
    elif case == "trailing_separator":
        rows[500][3] += ","
    elif case == "empty_rating":
        rows[1234][2] = ""
    elif case == "nan_rating":
        rows[1234][2] = "nan"
    elif case == "latin1":
        rows[3000][1] = "Amélie"
    elif case == "bad_time":
        rows[42][3] = "yesterday"
    elif case == "empty_user":
        rows[9][0] = ""
    text = _text(rows)
    if case == "blank_line_inside":
        text = text.replace("\n", "\n\n", 1)
    data = text.encode("latin-1" if case == "latin1" else "utf-8")
    if case == "gzip":
        data, name = gzip.compress(data), "ratings.csv.gz"
    fast, slow, _ = _both(tmp_path, monkeypatch, data, name=name)
    _assert_same(fast, slow)
    if case in ("wrong_fields", "empty_rating", "bad_time", "empty_user"):
        assert isinstance(fast, str) and "line" in fast  # named by line, as the text path does
        skipped_fast, skipped_slow, _ = _both(tmp_path, monkeypatch, data, name=name, skip_bad_lines=True)
        _assert_same(skipped_fast, skipped_slow)
        assert any("skipped 1 malformed line" in line for line in skipped_fast.report)


def test_rating_scale_errors_name_the_same_lines(tmp_path, monkeypatch):
    rows = [list(r) for r in _lines(seed=3)]
    rows[100][2], rows[9000][2] = "7", "9"
    fast, slow, taken = _both(tmp_path, monkeypatch, _text(rows).encode(), rating_scale=(0.5, 5))
    assert taken
    assert isinstance(fast, str) and "line 102" in fast and "line 9002" in fast
    _assert_same(fast, slow)


def test_read_ratings_returns_text_ids_and_detection_reads_only_the_head(tmp_path, monkeypatch):
    path = tmp_path / "ratings.csv"
    path.write_text(_text(_lines(seed=4)))
    frame, _ = read_ratings(path)
    assert frame["user"].dtype == object or str(frame["user"].dtype) == "str"
    assert not isinstance(frame["user"].dtype, pd.CategoricalDtype)
    fmt = detect_format(path)
    monkeypatch.setattr("recsys_core.data._read_head", lambda *a, **k: None)
    whole = detect_format(path)
    assert (fmt.separator, fmt.has_header, fmt.columns, fmt.mapping) == (
        whole.separator, whole.has_header, whole.columns, whole.mapping)
    pd.testing.assert_frame_equal(fmt.preview, whole.preview)


def test_metadata_files_take_the_fast_path_too(tmp_path, monkeypatch):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(_text(_lines(seed=5)))
    items = tmp_path / "items.csv"
    titles = [(str(i), f'"Film {i}, part two"', "Drama|Comedy") for i in range(1, 9000)]
    items.write_text(_text(titles, header="movieId,title,genres"))
    calls = []
    real = columnar._parse_columnar
    monkeypatch.setattr(parsing_module, "_parse_columnar", lambda *a, **k: calls.append(1) or real(*a, **k))
    fast = load_dataset(ratings, items)
    monkeypatch.setattr(parsing_module, "_read_head", lambda *a, **k: None)
    monkeypatch.setattr(ratings_module, "_read_head", lambda *a, **k: None)
    slow = load_dataset(ratings, items)
    assert calls
    pd.testing.assert_frame_equal(fast.items, slow.items)
    assert fast.items.loc[1, "title"].startswith("Film ") and "," in fast.items.loc[1, "title"]


def test_a_file_too_large_for_free_memory_is_refused_before_reading(tmp_path, monkeypatch):
    from recsys_core import system

    path = tmp_path / "ratings.csv"
    path.write_text(_text(_lines(seed=6)))
    monkeypatch.setattr(system, "available_memory_bytes", lambda: 1024**2)  # 1 MiB free
    with pytest.raises(DataValidationError) as error:
        load_dataset(path)
    message = str(error.value)
    assert message.startswith("ratings.csv: is ") and "free now" in message and "Nothing was changed" in message
    with pytest.raises(DataValidationError, match="free now"):  # uploads too, and gzip by its unpacked size
        load_dataset(gzip.compress(path.read_bytes()), name="ratings.csv.gz")
    monkeypatch.undo()
    assert load_dataset(path).n_ratings > 0


_BASE = _text(_lines(seed=7)).encode()
_CORRUPTIONS = [b"", b",", b"\n", b"\n\n", b"\r", b"\r\n", b'"', b'"a,b"', b"\t", b";", b" ", b"nan", b"inf", b"-",
                b"\x00", b"\xe9", b"\xc3\xa9", b"\xef\xbb\xbf", b"1e400", b"9" * 30, b"x", b"::", b"|"]


def test_corrupted_large_files_give_the_same_result_or_message_both_ways(tmp_path, monkeypatch):
    """Differential fuzzing: random bytes written into a clean large file; both paths must agree."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    edits = st.lists(st.tuples(st.integers(0, len(_BASE) - 1), st.sampled_from(_CORRUPTIONS), st.booleans()),
                     min_size=1, max_size=3)
    outcomes = []

    @settings(deadline=None, derandomize=True, database=None, max_examples=25,
              suppress_health_check=list(HealthCheck))
    @given(edits)
    def fuzz(changes):
        data = bytearray(_BASE)
        for position, piece, replace_byte in sorted(changes, reverse=True):
            data[position:position + int(replace_byte)] = piece
        with monkeypatch.context() as patch:
            fast, slow, _ = _both(tmp_path, patch, bytes(data))
        _assert_same(fast, slow)
        outcomes.append(isinstance(fast, str))

    fuzz()
    assert len(outcomes) == 25 and any(outcomes) and not all(outcomes)  # both loads and refusals were reached
