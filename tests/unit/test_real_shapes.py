"""Real files: every model x every split on the shapes real exports have, and what the loader makes of them.

The loop runs every registered model through ``evaluate`` on generated data
of real shapes (explicit 1-5, half stars 0.5-5, book ratings 1-10, implicit
clicks without a rating column or an items file), each with users who have a
single rating (placed last, so the last user indices can have no training
ratings in a fold) and items rated only once, as some user's latest rating
(so they are only ever in the test part). The data is small: a few hundred
ratings, so the whole file stays well under a minute.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from recsys_core.__main__ import main
from recsys_core.data import MalformedLinesError, load_dataset
from recsys_core.dataset import Dataset
from recsys_core.errors import DataValidationError
from recsys_core.evaluation.runner import evaluate
from recsys_core.evaluation.splits import make_splits
from recsys_core.models import REGISTRY

SHAPES = ("explicit-1-5", "half-stars", "books-1-10", "implicit")
SPLITS = {
    "random": {"test_size": 0.2, "seed": 0},
    "kfold": {"n_folds": 2, "seed": 0},
    "temporal": {"test_fraction": 0.2},
    "leave-last-out": {"n": 1},
}
#: content-sbert loads a language model (about 10 s, and as long again encoding across the loop); past the item
#: vectors it runs the same ContentKNN code as content-tfidf, which the loop covers. It gets its own test
#: below on every shape with the split that crashed content-tfidf (2-fold k-fold), instead of the whole loop.
MODELS = [name for name in REGISTRY if name != "content-sbert"]

GENRES = ("Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi")
WORDS = ("star", "ship", "love", "night", "city", "ghost", "river", "king", "dog", "war", "dream", "road")
N_NEW_ITEMS, N_SOLO_USERS = 6, 5


def write_shape(folder: Path, shape: str, seed: int = 0) -> tuple[Path, Path | None]:
    """A ratings file (and an items file, except for implicit clicks) as that kind of export writes it."""
    rng = np.random.default_rng(seed)
    rows, time = [], 1_000_000_000
    for user in range(30):
        for item in rng.choice(40, size=int(rng.integers(3, 12)), replace=False):
            time += int(rng.integers(1, 1000))
            rows.append((f"u{user}", f"i{item}", time))
    for j in range(N_NEW_ITEMS):  # items rated once, as a user's latest rating
        time += 5000
        rows.append((f"u{j}", f"new{j}", time))
    for j in range(N_SOLO_USERS):  # users with one rating, last in the file
        time += 10
        rows.append((f"solo{j}", f"i{int(rng.integers(40))}", time))
    if shape == "explicit-1-5":  # MovieLens 100k u.data: tab-separated, no header
        ratings = folder / "u.data"
        values = rng.integers(1, 6, len(rows))
        ratings.write_text("".join(f"{u}\t{i}\t{v}\t{t}\n" for (u, i, t), v in zip(rows, values)))
    elif shape == "half-stars":  # MovieLens latest ratings.csv
        ratings = folder / "ratings.csv"
        values = rng.integers(1, 11, len(rows)) / 2
        ratings.write_text("userId,movieId,rating,timestamp\n"
                           + "".join(f"{u},{i},{v:g},{t}\n" for (u, i, t), v in zip(rows, values)))
    elif shape == "books-1-10":  # Book-Crossing style 1-10, no timestamps (as Goodbooks)
        ratings = folder / "ratings.csv"
        values = rng.integers(1, 11, len(rows))
        ratings.write_text("user_id,book_id,rating\n" + "".join(f"{u},{i},{v}\n" for (u, i, _), v in zip(rows, values)))
    else:  # clicks: no rating column, no metadata
        ratings = folder / "clicks.csv"
        ratings.write_text("user,item,timestamp\n" + "".join(f"{u},{i},{t}\n" for u, i, t in rows))
        return ratings, None
    items = folder / "items.csv"
    ids = [f"i{k}" for k in range(40)] + [f"new{j}" for j in range(N_NEW_ITEMS)]
    lines = [f"{item},{' '.join(rng.choice(WORDS, 2)).title()} {k},{'|'.join(rng.choice(GENRES, 2, replace=False))}"
             for k, item in enumerate(ids)]
    items.write_text("item,title,genres\n" + "\n".join(lines) + "\n")
    return ratings, items


@pytest.fixture(scope="module")
def shaped(tmp_path_factory):
    """shape -> (Dataset, split name -> splits): each loaded and split once for the whole loop."""
    datasets = {}
    for shape in SHAPES:
        folder = tmp_path_factory.mktemp(shape)
        datasets[shape] = load_dataset(*write_shape(folder, shape))

    @lru_cache(maxsize=None)
    def splits(shape: str, split: str):
        return make_splits(datasets[shape], split, **SPLITS[split])

    return datasets, splits


def test_the_shapes_are_what_the_loop_claims(shaped) -> None:
    datasets, splits = shaped
    assert datasets["explicit-1-5"].rating_scale == (1.0, 5.0)
    assert datasets["half-stars"].rating_scale == (0.5, 5.0)
    assert set(datasets["half-stars"].interactions["rating"]) == set(np.arange(1, 11) / 2)
    assert datasets["books-1-10"].rating_scale == (1.0, 10.0) and not datasets["books-1-10"].has_timestamps
    assert datasets["implicit"].implicit and datasets["implicit"].has_timestamps
    for shape, data in datasets.items():
        assert 200 <= data.n_ratings <= 400
        assert (data.user_counts == 1).sum() >= N_SOLO_USERS
        assert data.user_counts[-1] == 1  # the last user index has a single rating
        # 2-fold: the last user's one rating is in the test fold of one of the folds (content-tfidf's crash).
        assert any(fold.train.user_counts[-1] == 0 for fold in splits(shape, "kfold"))
        # Items only in the test part.
        for split in ("leave-last-out", "temporal") if data.has_timestamps else ("leave-last-out",):
            [fold] = splits(shape, split)
            new = data.item_ids[fold.test.interactions["item_idx"].unique()]
            only_in_test = set(new) - set(data.item_ids[fold.train.interactions["item_idx"].unique()])
            assert {f"new{j}" for j in range(N_NEW_ITEMS)} <= only_in_test


@pytest.mark.parametrize("split", list(SPLITS))
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_model_runs_on_every_split_of_every_shape(shaped, shape: str, model: str, split: str) -> None:
    datasets, splits = shaped
    data = datasets[shape]
    if split == "temporal" and not data.has_timestamps:
        # Book ratings carry no times: a plain message instead of a split, before any model runs.
        with pytest.raises(DataValidationError, match="has no timestamp column, so it cannot be split by time"):
            evaluate(data, [model], split=split, split_params=SPLITS[split], ks=(5,))
        return
    folds = splits(shape, split)
    result = evaluate(data, [model], splits=folds, ks=(5,))
    if REGISTRY[model].uses_order and not folds[0].respects_time:
        # Next-item models run on splits by time only: on the others a plain sentence, no numbers.
        assert "split by time" in result.errors[model] and not len(result.table)
        return
    if data.implicit and REGISTRY[model]().predicts_ratings_on(data):
        # Clicks carry no value: a rating model has nothing to fit and says so (the data set and the
        # other models stand).
        assert "holds interactions without a value" in result.errors[model] and not len(result.table)
        return
    assert result.errors == {}
    ndcg = result.table.loc[result.table["metric"] == "ndcg", "value"].to_numpy()
    assert len(ndcg) and np.isfinite(ndcg).all()


# ------------------------------------------------------------------ loader
U_DATA = "196\t242\t3\t881250949\n186\t302\t3\t891717742\t\n22\t377\t1\t878887116\n244\t51\t2\t880606923\n"


@pytest.mark.parametrize(
    "file_name, text, note",
    [
        # MovieLens 100k u.data as commonly redistributed: one line carries a trailing tab.
        ("u.data", U_DATA, "u.data: 1 line ends with an extra empty field (a tab before the line break), "
                           "ignored: line 2."),
        ("ratings.csv", "userId,movieId,rating,timestamp\n1,2,4,100,\n1,3,5,101,\n2,3,3,102\n",
         "ratings.csv: 2 lines end with an extra empty field (a comma before the line break), ignored: line 2, line 3."),
        ("ratings.dat", "1::2::5::978300760\n1::3::4::978300761::\n2::2::3::978300762\n",
         "ratings.dat: 1 line ends with an extra empty field (a '::' before the line break), ignored: line 2."),
    ],
)
def test_a_trailing_empty_field_is_ignored_with_a_note(tmp_path: Path, file_name: str, text: str, note: str) -> None:
    (tmp_path / file_name).write_text(text)
    data = load_dataset(tmp_path / file_name)
    assert data.n_ratings == len(text.strip().splitlines()) - int(text.startswith("userId"))
    assert data.interactions["rating"].isin([1, 2, 3, 4, 5]).all()
    assert note in data.report


BROKEN = (
    "userId,movieId,rating,timestamp\n"
    "1,10,4,964982703\n"
    "1,11,five,964982704\n"   # line 3: rating not a number
    "2,10,3,964982705\n"
    "2,11\n"                  # line 5: cut off
    ",12,4,964982706\n"       # line 6: no user id
    "3,12,2.5,964982707,x\n"  # line 7: one field too many
    "3,10,5,964982708\n"
    "\n"
    "Total: 8 ratings\n"      # line 10: a footer
)


def test_malformed_lines_are_an_error_naming_them_by_default(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text(BROKEN)
    with pytest.raises(MalformedLinesError) as err:
        load_dataset(tmp_path / "ratings.csv")
    assert str(err.value).startswith(
        "ratings.csv: 3 lines do not have 4 fields like the header line (separator: comma): "
        "line 5 (2 fields), line 7 (5 fields), line 10 (1 field). Expected 4 fields on every line."
    )
    assert err.value.file_name == "ratings.csv" and err.value.line_numbers == (5, 7, 10)
    assert isinstance(err.value, DataValidationError)


def test_skip_bad_lines_skips_counts_and_lists_them(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text(BROKEN)
    data = load_dataset(tmp_path / "ratings.csv", skip_bad_lines=True)
    assert sorted(zip(data.interactions["user"], data.interactions["item"], data.interactions["rating"])) == [
        ("1", "10", 4.0), ("2", "10", 3.0), ("3", "10", 5.0)]
    assert data.report[1:4] == (
        "ratings.csv: skipped 3 malformed lines without 4 fields (separator: comma): "
        "line 5 (2 fields), line 7 (5 fields), line 10 (1 field).",
        "ratings.csv: skipped 1 malformed line where column 'userId' is empty (or NaN): line 6.",
        "ratings.csv: skipped 1 malformed line where column 'rating' is not a number: line 3.",
    )


def test_skipped_lines_past_the_first_twenty_are_counted(tmp_path: Path) -> None:
    text = "user,item,rating\n" + "".join(f"{u},{u + 1},4\n" if u % 2 else f"{u};junk\n" for u in range(60))
    (tmp_path / "r.csv").write_text(text)
    data = load_dataset(tmp_path / "r.csv", skip_bad_lines=True)
    assert data.n_ratings == 30
    [note] = [line for line in data.report if "skipped" in line]
    listed = ", ".join(f"line {n} (1 field)" for n in range(2, 42, 2))
    assert note == f"r.csv: skipped 30 malformed lines without 3 fields (separator: comma): {listed} and 10 more."


def test_skip_bad_lines_covers_the_metadata_files(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("user,item,rating\n1,a,4\n2,b,3\n")
    (tmp_path / "items.csv").write_text("item,title,genres\na,Alpha,Drama\nb,Beta\n,Gamma,Comedy\n")
    with pytest.raises(MalformedLinesError, match=r"^items\.csv: 1 line does not have 3 fields .*line 3 \(2 fields\)"):
        load_dataset(tmp_path / "ratings.csv", tmp_path / "items.csv")
    data = load_dataset(tmp_path / "ratings.csv", tmp_path / "items.csv", skip_bad_lines=True)
    assert "items.csv: skipped 1 malformed line without 3 fields (separator: comma): line 3 (2 fields)." in data.report
    assert "items.csv: skipped 1 malformed line where column 'item' is empty (or NaN): line 4." in data.report
    assert data.titles(np.arange(2)).tolist() == ["Alpha", "b"]


def test_skipping_what_leaves_nothing_is_still_an_error(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("user,item,rating\n,1,4\n,2,3\n")
    with pytest.raises(DataValidationError, match=r"^r\.csv: column 'user' is empty \(or NaN\) on every row \(2 rows\)"):
        load_dataset(tmp_path / "r.csv", skip_bad_lines=True)


def test_cli_compare_skip_bad_lines(tmp_path: Path, capsys) -> None:
    good = "".join(f"{u},{i},{1 + (u * i) % 5}\n" for u in range(8) for i in range(6))
    path = tmp_path / "ratings.csv"
    path.write_text("user,item,rating\n" + good + "end of export\n")
    args = ["compare", "--ratings", str(path), "--models", "global-mean", "--split", "random", "--k", "5",
            "--no-progress"]
    assert main(args) == 2
    assert "error: ratings.csv: 1 line does not have 3 fields" in capsys.readouterr().err
    assert main(args + ["--skip-bad-lines"]) == 0
    assert ("note: ratings.csv: skipped 1 malformed line without 3 fields (separator: comma): line 50 (1 field)."
            in capsys.readouterr().out)


# --------------------------------------------------------- too small to split
@pytest.fixture
def one_rating(tmp_path: Path) -> Dataset:
    (tmp_path / "one.csv").write_text("userId,movieId,rating,timestamp\n1,10,4,964982703\n")
    return load_dataset(tmp_path / "one.csv")


@pytest.mark.parametrize(
    "split, params, message",
    [
        ("random", {"test_size": 0.2}, "a random hold-out of 20% of the ratings: it needs at least 2 ratings "
                                       "(some to train on, some to test on), and it has 1 rating."),
        ("kfold", {"n_folds": 5}, "5-fold cross-validation: it needs at least 5 ratings (one per test fold), "
                                  "and it has 1 rating."),
        ("temporal", {}, "a split by time: it needs at least one user with 2 or more ratings (some to train on, "
                         "the last to test on), and it has 1 user, the most active with 1 rating."),
        ("leave-last-out", {}, "leaving the last 1 rating of each user out: it needs at least one user with 2 or "
                               "more ratings (some to train on, the last to test on), and it has 1 user, the most "
                               "active with 1 rating."),
    ],
)
def test_a_data_set_too_small_for_the_split_gets_a_plain_message(
    one_rating: Dataset, split: str, params: dict, message: str
) -> None:
    with pytest.raises(DataValidationError) as err:
        evaluate(one_rating, ["global-mean"], split=split, split_params=params, ks=(5,))
    assert str(err.value).startswith(f"The data set 'one' is too small for {message} Load a larger data set, or ")
    assert "test_size" not in str(err.value) and "n_folds" not in str(err.value)


def test_too_small_counts_what_the_data_set_has(tmp_path: Path) -> None:
    (tmp_path / "few.csv").write_text("user,item,rating\n1,a,4\n2,a,3\n3,b,5\n")
    data = load_dataset(tmp_path / "few.csv")
    with pytest.raises(DataValidationError, match=r"it needs at least 10 ratings .*, and it has 3 ratings\."):
        make_splits(data, "random", test_size=0.9)
    with pytest.raises(DataValidationError, match=r"it needs at least 4 ratings \(one per test fold\), and it has 3"):
        make_splits(data, "kfold", n_folds=4)
    with pytest.raises(DataValidationError, match=r"and it has 3 users, the most active with 1 rating\."):
        make_splits(data, "leave-last-out")
    assert len(make_splits(data, "kfold", n_folds=3)) == 3  # exactly enough


@pytest.mark.parametrize("shape", SHAPES)
def test_content_sbert_runs_on_every_shape(shaped, shape: str) -> None:
    datasets, splits = shaped
    result = evaluate(datasets[shape], ["content-sbert"], splits=splits(shape, "kfold"), ks=(5,))
    if datasets[shape].implicit:  # content k-NN averages ratings: clicks without a value are refused plainly
        assert "holds interactions without a value" in result.errors["content-sbert"]
        return
    assert result.errors == {}
    table = result.table
    ndcg = table.loc[(table["metric"] == "ndcg") & (table["bucket"] == "all"), "value"].to_numpy()
    assert len(ndcg) == 2 and np.isfinite(ndcg).all()  # one per fold
