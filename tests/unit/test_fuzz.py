"""Fuzzing in CI: a few hundred generated files through the loaders, the CLI and cold start.

The generators and outcome classes are those of ``benchmarks/fuzz_loaders.py``
(which runs more than 1,000 files). Here the examples are derandomised so a
failure in CI is the same failure on every machine; hypothesis shrinks it to
a small file and the assertion message says which call raised what.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks.fuzz_loaders import (
    LOADED, NAMES_LINES, Case, Uncaught, cases, check_cli, check_cold_start, check_load, cold_cases, small_fitted_models,
)

CI = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


def test_every_generated_file_loads_or_is_refused_with_a_message(tmp_path: Path) -> None:
    counts: Counter = Counter()

    @settings(CI, max_examples=200)
    @given(cases())
    def fuzz(case: Case) -> None:
        check_load(case, Path(tempfile.mkdtemp(dir=tmp_path)), counts)  # raises Uncaught on a bug

    fuzz()
    # The generator reaches both sides: files that load (with clean-up notes) and files refused by line.
    assert counts[f"load: {LOADED}"] >= 20
    assert counts[f"load: {NAMES_LINES}"] >= 20


def test_the_cli_runs_on_every_generated_file_that_loads(tmp_path: Path) -> None:
    counts: Counter = Counter()

    @settings(CI, max_examples=25)
    @given(cases())
    def fuzz(case: Case) -> None:
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        loaded = check_load(case, folder, Counter())
        if loaded:
            check_cli(folder / case.names["ratings"], loaded[0][0], counts)

    fuzz()
    # How many generated files load depends on hypothesis' generation, which varies with what ran before in the
    # process (seen: 2 of 25 in a full-suite run, 7+ alone); the literal files below always reach the CLI.
    for number, content in enumerate((b"1\t10\t5\t881250949\t\n2\t10\t3\t881250950\n1\t11\t4\t881250951\n"
                                      b"2\t12\t1\t881250952\n3\t10\t4\t881250953\n3\t12\t5\t881250954\n",
                                      "\ufeffuser;item;rating\n1;a;4,5\n1;b;2\n2;a;5\n2;c;1\n3;b;4\n3;c;3,5\n".encode(),
                                      b"user,item\n1,x\n1,y\n2,x\n2,z\n3,y\n3,z\n4,x\n")):
        path = tmp_path / f"literal-{number}.csv"
        path.write_bytes(content)
        check_cli(path, False, counts)
    assert sum(counts.values()) >= 3 and not any("uncaught" in key for key in counts)  # the CLI was reached


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return small_fitted_models(tmp_path_factory.mktemp("cold"))


def _age_is_a_number(case: tuple) -> bool:
    age = case[2].get("age") if case[1] == "demographics" else None
    try:
        float(age) if age not in (None, "") else None
    except (TypeError, ValueError):
        return False
    return True


def test_cold_start_answers_or_refuses_odd_inputs(fitted: dict) -> None:
    counts: Counter = Counter()

    # Free text on a model that cannot read it loads the sentence model (seconds); the benchmark covers it.
    # An age that is not a number is the known bug below, kept out so this test guards everything else.
    @settings(CI, max_examples=150)
    @given(cold_cases().filter(lambda case: (case[1] != "text" or case[0] == "content-tfidf")
                               and _age_is_a_number(case)))
    def fuzz(case: tuple) -> None:
        check_cold_start(fitted, case, counts)

    fuzz()
    assert counts["cold start: answered"] > 0


def test_cold_start_refuses_an_age_that_is_not_a_number(fitted: dict) -> None:
    counts: Counter = Counter()
    check_cold_start(fitted, ("popular", "demographics", {"age": "F"}), counts)
    assert sum(counts.values()) == 1 and not any("uncaught" in key for key in counts)


# ------------------------------------------------------------- what fuzzing found, kept as literal cases
def test_a_time_beyond_the_calendar_is_a_named_row_not_a_wrapped_integer() -> None:
    from recsys_core.data import MalformedLinesError, read_ratings

    text = b"user,item,rating,timestamp\n1,2,3,1e30\n1,3,4,978300760\n"
    with pytest.raises(MalformedLinesError, match=r"'timestamp' is not a time \(too far from 1970\) on 1 row: line 2"):
        read_ratings(text)
    frame, report = read_ratings(text, skip_bad_lines=True)
    assert frame["timestamp"].tolist() == [978300760]
    assert any("skipped 1 malformed line" in line and "line 2" in line for line in report)


def test_a_rating_too_large_to_square_is_a_named_row() -> None:
    from recsys_core.data import MalformedLinesError, read_ratings

    with pytest.raises(MalformedLinesError, match=r"'rating' is too large to be a rating on 1 row: line 3"):
        read_ratings(b"user,item,rating\n1,2,4\n1,3,1e308\n")


def test_huge_or_infinite_whole_numbers_in_metadata_stay_floats() -> None:
    from recsys_core.data import read_users

    frame = read_users(b"user,age,visits\n1,1e20,3\n2,inf,4\n")
    assert str(frame["age"].dtype) == "float64" and frame["age"].iloc[0] == 1e20
    assert str(frame["visits"].dtype) == "Int64"
