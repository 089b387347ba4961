"""Fuzzing the edge: generated files through every loader, the CLI, and the cold-start inputs.

Each generated case is a set of files (ratings, and sometimes items, users,
tags and Goodbooks tag names) drawn from: random bytes, random text, tables
with mixed or odd separators, BOMs, Latin-1 / Windows-1252 / UTF-16 / gzip,
CR or CRLF line ends, quoted separators and line breaks, unclosed quotes,
huge or negative ids, NaN / inf / decimal-comma ratings, odd times, and
degenerate but valid shapes (one user, one item, constant ratings, one rating
per user so a split leaves empty test folds). Each file goes through
``load_dataset`` with and without ``skip_bad_lines``; files that load also go
through the CLI (``compare --models popular,ease --split random``). Cold start
gets odd ratings, text and demographics on models fitted on a small sample.

Every call ends in one outcome class:

* ``loaded``: a Dataset whose report lists what was read and cleaned up;
* ``DataValidationError naming lines``, ``DataValidationError (whole file)``:
  refused with a message for a person (the second for files with nothing to
  point at: empty, binary, no separator);
* ``other RecsysError``: refused on purpose with a message;
* ``UNCAUGHT``: any other exception, a bug. A model failure the evaluation
  runner caught and printed (``X failed: IndexError ...``) counts too.

Run: python benchmarks/fuzz_loaders.py [--examples 1200] [--seed 0]
Prints the count by outcome and exits 1 if anything was uncaught (the
failing inputs are written to a folder for reproduction).
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import math
import re
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed as hypothesis_seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from recsys_core import errors as recsys_errors  # noqa: E402
from recsys_core.data import load_dataset  # noqa: E402
from recsys_core.errors import DataValidationError, RecsysError  # noqa: E402

LOADED = "loaded"
NAMES_LINES = "DataValidationError naming lines"
WHOLE_FILE = "DataValidationError (whole file)"
OTHER_REFUSAL = "other RecsysError"
UNCAUGHT = "UNCAUGHT"

# A message that points at rows: "line 3", "lines 4, 9", "on 2 rows", "every row".
_POINTS_AT_ROWS = re.compile(r"\blines? \d|\brows?\b|\bline \d|every line|none of the")


class Uncaught(Exception):
    """A bug found by the fuzzer: what was called, on what, and the original traceback."""


# ------------------------------------------------------------------ generators
SEPARATORS = [",", "\t", ";", "|", "::"]
ENCODINGS = ["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "gzip"]
LINE_ENDS = ["\n", "\n", "\r\n", "\r"]

small_ids = st.integers(1, 12).map(str)
odd_ids = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.integers(-5, 0).map(str),
    st.integers(1, 12).map(lambda i: f"{i}.0"),
    st.integers(1, 12).map(lambda i: f"{i:04d}"),
    st.sampled_from(["", " ", "NaN", "null", "None", "#N/A", "ID", "user", "é", "日本", "\u200b", "a,b", '"q"']),
    st.text(max_size=6),
)
good_ratings = st.one_of(st.integers(1, 5).map(str), st.sampled_from(["0.5", "3.5", "4.5", "10", "1.0"]))
odd_ratings = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e400", "-3", "0", "3,5",
                     "", " ", "five", "4 stars", "½", "0x10", "1_000"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
)
good_times = st.integers(800_000_000, 1_700_000_000).map(str)
odd_times = st.one_of(
    st.sampled_from(["", "NaN", "2009-09-13", "2009-13-45", "yesterday", "1e20", "-1", "0", "9" * 30,
                     "1600000000000", "2009-09-13T10:00:00Z"]),
    st.integers(-(10**19), 10**19).map(str),
)
titles = st.one_of(
    st.sampled_from(["Toy Story (1995)", "=HYPERLINK(\"http://x\")", "[click](http://x)", "**x**",
                     "<script>alert(1)</script>", "Amélie (2001)", "a \"quoted\" title", "", "NaN"]),
    st.text(max_size=12),
)
genres = st.sampled_from(["Action|Comedy", "Drama", "(no genres listed)", "", "Sci-Fi, Horror", "a;b", "|||"])


def _cell(draw: Callable, good: st.SearchStrategy, odd: st.SearchStrategy, weirdness: float) -> str:
    return draw(odd) if draw(st.floats(0, 1)) < weirdness else draw(good)


def _quote(value: str, sep: str, draw: Callable) -> str:
    """Quote a value the CSV way now and then: separators and line breaks inside quotes, or an unclosed quote."""
    choice = draw(st.integers(0, 30))
    if choice == 0:
        return '"' + value.replace('"', '""') + sep + "x\ny" + '"'  # a quoted separator and line break
    if choice == 1:
        return '"' + value  # never closed
    if choice == 2:
        return '"' + value.replace('"', '""') + '"'
    return value


def _join(draw: Callable, rows: list[list[str]], sep: str, mixed: bool) -> str:
    lines = []
    for row in rows:
        line_sep = draw(st.sampled_from(SEPARATORS)) if mixed and draw(st.booleans()) else sep
        cells = [_quote(c, line_sep, draw) if line_sep in (",", ";") else c for c in row]
        line = line_sep.join(cells)
        if draw(st.integers(0, 40)) == 0:
            line += line_sep  # a trailing empty field, as on one line of u.data
        lines.append(line)
    if draw(st.integers(0, 25)) == 0:
        lines.append(draw(st.sampled_from(["", "   ", "# footer", "total: 42", "\x1a"])))
    return draw(st.sampled_from(LINE_ENDS)).join(lines) + draw(st.sampled_from(["", "\n"]))


def _encode(draw: Callable, text: str) -> bytes:
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding == "gzip":
        data = gzip.compress(text.encode("utf-8", "surrogatepass"))
        return data[: draw(st.integers(len(data) // 2, len(data)))] if draw(st.integers(0, 8)) == 0 else data
    return text.encode(encoding, "replace")


@st.composite
def ratings_table(draw: Callable) -> bytes:
    """A ratings table: mostly sensible, with a drawn share of odd cells, separators and layouts."""
    sep = draw(st.sampled_from(SEPARATORS))
    weirdness = draw(st.sampled_from([0.0, 0.0, 0.02, 0.1, 0.5]))
    shape = draw(st.sampled_from(["generic", "one-user", "one-item", "constant", "one-each", "implicit"]))
    n_columns = 2 if shape == "implicit" else draw(st.sampled_from([3, 4, 4, 4]))
    n_rows = draw(st.integers(1, 60))
    rows = []
    for row_number in range(n_rows):
        user = "1" if shape == "one-user" else (str(row_number + 1) if shape == "one-each" else
                                                 _cell(draw, small_ids, odd_ids, weirdness))
        item = "1" if shape == "one-item" else _cell(draw, small_ids, odd_ids, weirdness)
        rating = "4" if shape == "constant" else _cell(draw, good_ratings, odd_ratings, weirdness)
        time_ = _cell(draw, good_times, odd_times, weirdness)
        rows.append([user, item, rating, time_][:n_columns])
    if draw(st.booleans()):
        header = draw(st.sampled_from([
            ["userId", "movieId", "rating", "timestamp"], ["user", "item", "rating", "time"],
            ["user_id", "book_id", "rating", "date"], ["a", "b", "c", "d"], ["user", "user", "rating", "x"],
        ]))
        rows.insert(0, header[:n_columns])
    return _encode(draw, _join(draw, rows, sep, mixed=draw(st.integers(0, 6)) == 0))


@st.composite
def metadata_table(draw: Callable, kind: str) -> bytes:
    """An items, users, tags or Goodbooks tag file whose ids often match the ratings' small ids."""
    sep = draw(st.sampled_from([",", ",", "\t", "|", "::", ";"]))
    weirdness = draw(st.sampled_from([0.0, 0.05, 0.3]))
    n_rows = draw(st.integers(1, 20))
    header, make = {
        "items": (["movieId", "title", "genres"],
                  lambda: [_cell(draw, small_ids, odd_ids, weirdness), draw(titles), draw(genres)]),
        "users": (["user_id", "age", "gender", "occupation"],
                  lambda: [_cell(draw, small_ids, odd_ids, weirdness), _cell(draw, st.integers(1, 90).map(str),
                           odd_ratings, weirdness), draw(st.sampled_from(["M", "F", "", "x"])), draw(titles)]),
        "tags": (["userId", "movieId", "tag", "timestamp"],
                 lambda: [draw(small_ids), _cell(draw, small_ids, odd_ids, weirdness), draw(titles),
                          _cell(draw, good_times, odd_times, weirdness)]),
        "book_tags": (["goodreads_book_id", "tag_id", "count"],
                      lambda: [_cell(draw, small_ids, odd_ids, weirdness), draw(st.integers(0, 5).map(str)),
                               _cell(draw, st.integers(1, 999).map(str), odd_ratings, weirdness)]),
        "tag_names": (["tag_id", "tag_name"], lambda: [draw(st.integers(0, 5).map(str)), draw(titles)]),
    }[kind]
    rows = [make() for _ in range(n_rows)]
    if draw(st.integers(0, 4)) > 0:
        rows.insert(0, header)
    return _encode(draw, _join(draw, rows, sep, mixed=draw(st.integers(0, 8)) == 0))


ratings_files = st.one_of(
    ratings_table(), ratings_table(), ratings_table(), ratings_table(),
    st.binary(max_size=400),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff\x00", b"\n\n\n", b"user,item,rating\n",
                     b"PK\x03\x04zip", b"\x1f\x8b", b"1,2,3", b"1\n2\n3\n", "1,1,5\n".encode("utf-16-le")]),
)


@dataclass
class Case:
    """The files of one fuzzed load (None: not given)."""

    ratings: bytes
    items: bytes | None = None
    users: bytes | None = None
    tags: bytes | None = None
    tag_names: bytes | None = None
    names: dict[str, str] = field(default_factory=dict)


@st.composite
def cases(draw: Callable) -> Case:
    case = Case(ratings=draw(ratings_files))
    case.names["ratings"] = draw(st.sampled_from(["ratings.csv", "u.data", "ratings.dat", "r.tsv", "data.txt.gz"]))
    if draw(st.integers(0, 2)) == 0:
        case.items = draw(metadata_table("items"))
        tags = draw(st.sampled_from([None, None, "tags", "book_tags"]))
        if tags is not None:
            case.tags = draw(metadata_table(tags))
            if tags == "book_tags" or draw(st.integers(0, 5)) == 0:
                case.tag_names = draw(metadata_table("tag_names"))
    elif draw(st.integers(0, 10)) == 0:  # tags without items: refused
        case.tags = draw(metadata_table("tags"))
    if draw(st.integers(0, 3)) == 0:
        case.users = draw(metadata_table("users"))
    return case


# ------------------------------------------------------------------ outcomes
def outcome_of(call: Callable[[], Any], what: str) -> tuple[str, Any]:
    """Run ``call``; return its outcome class and value. Raises :class:`Uncaught` for a bug."""
    try:
        value = call()
    except DataValidationError as error:
        message = str(error)
        if not message.strip():
            raise Uncaught(f"{what}: DataValidationError without a message") from error
        return (NAMES_LINES if _POINTS_AT_ROWS.search(message) else WHOLE_FILE), error
    except RecsysError as error:
        if not str(error).strip():
            raise Uncaught(f"{what}: {type(error).__name__} without a message") from error
        return OTHER_REFUSAL, error
    except Exception as error:  # noqa: BLE001 -- the point: anything else is a bug
        raise Uncaught(f"{what}: {type(error).__name__}: {error}") from error
    return LOADED, value


def write_case(case: Case, folder: Path) -> dict[str, Path | None]:
    paths: dict[str, Path | None] = {}
    for role in ("ratings", "items", "users", "tags", "tag_names"):
        data = getattr(case, role)
        if data is None:
            paths[role] = None
            continue
        path = folder / case.names.get(role, f"{role}.csv")
        path.write_bytes(data)
        paths[role] = path
    return paths


def check_load(case: Case, folder: Path, counts: Counter) -> list[tuple[bool, Any]]:
    """``load_dataset`` on the case's files, without and with ``skip_bad_lines``; one outcome each."""
    paths = write_case(case, folder)
    loaded = []
    for skip in (False, True):
        outcome, value = outcome_of(
            lambda skip=skip: load_dataset(paths["ratings"], paths["items"], paths["users"], tags=paths["tags"],
                                           tag_names=paths["tag_names"], skip_bad_lines=skip),
            f"load_dataset(skip_bad_lines={skip})",
        )
        if outcome == LOADED and not value.report:
            raise Uncaught("load_dataset: loaded without a report of what was read")
        counts[f"load: {outcome}"] += 1
        if outcome == LOADED:
            loaded.append((skip, value))
    return loaded


_FAILED = re.compile(r"^(\S+) failed: (\w+): (.*)$", re.M)
_EXPECTED_FAILURES = {name for name in dir(recsys_errors) if isinstance(getattr(recsys_errors, name), type)} | {
    "ValueError", "NotImplementedError"}


def check_cli(ratings: Path, skip: bool, counts: Counter) -> None:
    """``compare --models popular,ease --split random`` on a file that loads: exit 0, 1 or 2, never a traceback."""
    from recsys_core.__main__ import main

    argv = ["compare", "--ratings", str(ratings), "--models", "popular,ease", "--split", "random", "--no-progress"]
    if skip:
        argv.append("--skip-bad-lines")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        outcome, code = outcome_of(lambda: main(argv), "CLI compare")
    if outcome != LOADED:  # main() catches RecsysError itself: anything escaping is a bug
        raise Uncaught(f"CLI compare raised {type(code).__name__}: {code}")
    for model, kind, message in _FAILED.findall(err.getvalue()):
        # The runner reports a failing model and goes on; a failure that is not a deliberate refusal is a bug.
        if kind not in _EXPECTED_FAILURES or kind == "ValueError":
            raise Uncaught(f"CLI compare: {model} failed with {kind}: {message}")
    counts[f"cli: exit {code}" + (" (a model refused)" if _FAILED.search(err.getvalue()) else "")] += 1


# ------------------------------------------------------------------ cold start
def small_fitted_models(folder: Path) -> dict:
    """Models fitted on a small synthetic sample with items (titles, genres) and users (age, gender, occupation)."""
    from recsys_core.models import REGISTRY
    from recsys_core.synthetic import write_sample

    paths = write_sample(folder, n_users=60, n_items=40, n_ratings=400, seed=3)
    dataset = load_dataset(paths["ratings"], paths["items"], paths["users"], name="fuzz")
    return {name: REGISTRY[name]().fit(dataset) for name in ("popular", "svd", "item-knn-cosine", "content-tfidf")}


cold_ids = st.one_of(st.integers(1, 35).map(str), odd_ids, st.integers(1, 35))
cold_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**30), 10**30),
                        st.sampled_from([1, 3, 5, 4.5]))
cold_texts = st.one_of(st.text(max_size=60), st.sampled_from(["", "   ", "space captain wormhole", "\x00",
                                                              "日本語のテキスト", "a" * 5000, "the the the"]))
cold_demographics = st.dictionaries(
    st.sampled_from(["age", "gender", "occupation", "segment", "shoe size", ""]),
    st.one_of(st.none(), st.text(max_size=8), st.integers(-(10**30), 10**30),
              st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(["F", "M", "student", "30"])),
    max_size=3,
)


@st.composite
def cold_cases(draw: Callable) -> tuple[str, str, Any]:
    model = draw(st.sampled_from(["popular", "svd", "item-knn-cosine", "content-tfidf"]))
    kind = draw(st.sampled_from(["ratings", "text", "demographics"]))
    value = {"ratings": st.dictionaries(cold_ids, cold_values, max_size=6), "text": cold_texts,
             "demographics": cold_demographics}[kind]
    return model, kind, draw(value)


def check_cold_start(models: dict, case: tuple[str, str, Any], counts: Counter) -> None:
    from recsys_core import cold_start

    name, kind, value = case
    call = {"ratings": cold_start.from_ratings, "text": cold_start.from_text,
            "demographics": cold_start.from_demographics}[kind]
    outcome, answer = outcome_of(lambda: call(models[name], value), f"cold_start.from_{kind}({name}, {value!r:.80})")
    if outcome == LOADED:
        outcome = "answered" if answer.recommendations is not None else "answered with a note"
        if answer.recommendations is not None and not answer.recommendations["score"].map(
                lambda s: math.isfinite(float(s))).all():
            raise Uncaught(f"cold_start.from_{kind}({name}): a score that is not a finite number")
    counts[f"cold start: {outcome}"] += 1


# ------------------------------------------------------------------ the run
def run(n_examples: int, seed: int, cli_every: int = 1, keep: Path | None = None) -> tuple[Counter, list[str]]:
    """Fuzz ``n_examples`` cases (files) and ``n_examples // 4`` cold-start inputs; return counts and bug reports."""
    counts: Counter = Counter()
    bugs: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="fuzz-loaders-"))
    common = dict(database=None, deadline=None, derandomize=False, suppress_health_check=list(HealthCheck))

    def record(error: Uncaught, files: Case | None) -> None:
        counts[UNCAUGHT] += 1
        detail = "".join(traceback.format_exception(error.__cause__ or error)[-4:])
        report = f"{error}\n{detail}"
        if keep is not None and files is not None:
            folder = keep / f"case-{counts[UNCAUGHT]:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            write_case(files, folder)
            report += f"  files: {folder}\n"
        bugs.append(report)

    number = iter(range(10**9))

    @hypothesis_seed(seed)
    @settings(max_examples=n_examples, **common)
    @given(cases())
    def fuzz_files(case: Case) -> None:
        folder = base / f"{next(number)}"
        folder.mkdir()
        try:
            loaded = check_load(case, folder, counts)
            if loaded and counts["load: " + LOADED] % cli_every == 0:
                skip, _ = loaded[0]
                check_cli(folder / case.names["ratings"], skip, counts)
        except Uncaught as error:
            record(error, case)

    models = small_fitted_models(base / "cold")

    @hypothesis_seed(seed)
    @settings(max_examples=max(n_examples // 4, 1), **common)
    @given(cold_cases())
    def fuzz_cold_start(case: tuple[str, str, Any]) -> None:
        try:
            check_cold_start(models, case, counts)
        except Uncaught as error:
            record(error, None)

    fuzz_files()
    fuzz_cold_start()
    return counts, bugs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=1200, help="generated cases of files (default 1200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cli-every", type=int, default=1, help="run the CLI on every n-th file that loads")
    args = parser.parse_args(argv)
    keep = Path(tempfile.mkdtemp(prefix="fuzz-bugs-"))
    start = time.perf_counter()
    counts, bugs = run(args.examples, args.seed, args.cli_every, keep)
    seconds = time.perf_counter() - start
    files = sum(v for k, v in counts.items() if k.startswith("load: ")) // 2
    print(f"fuzzed {files:,} cases ({args.examples:,} asked) in {seconds:.0f} s; outcomes:")
    for key, value in sorted(counts.items()):
        print(f"  {value:6,d}  {key}")
    print(f"uncaught: {counts[UNCAUGHT]}")
    for report in bugs[:20]:
        print("\n" + report)
    return 1 if counts[UNCAUGHT] else 0


if __name__ == "__main__":
    sys.exit(main())
