"""Unit tests of recsys_core.data: real file layouts as distributed, and every bad-input message.

Each fixture is a handful of literal lines written to tmp_path, shaped like
the real files (MovieLens 100k / 1M / latest, Goodbooks-10k, generic CSV).
"""
from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsys_core import data
from recsys_core.data import MalformedLinesError, detect_format, load_dataset, load_sample, read_items, read_ratings, read_users
from recsys_core.dataset import Dataset
from recsys_core.errors import DataValidationError


def write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def ratings_of(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
    return {(u, i): r for u, i, r in zip(frame["user"], frame["item"], frame["rating"])}


# ------------------------------------------------------------------ MovieLens 100k
ML100K_DATA = (
    "196\t242\t3\t881250949\n"
    "186\t302\t3\t891717742\n"
    "22\t1144\t1\t878887116\n"
    "196\t1\t4\t881250950\n"
    "186\t302\t5\t891717700\n"  # same pair, earlier time: the 3 above is the latest
)
ML100K_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)"
    "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "5|Copycat (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Copycat%20(1995)"
    "|0|0|0|0|0|0|1|0|1|0|0|0|0|0|0|0|1|0|0\n"
    "242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/M/title-exact?Kolya%20(1996)"
    "|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "302|L.A. Confidential (1997)|01-Jan-1997||http://us.imdb.com/M/title-exact?L%2EA%2E+Confidential+(1997)"
    "|0|0|0|0|0|0|1|0|0|0|1|0|0|1|0|0|1|0|0\n"
    "1144|Misérables, Les (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Mis%E9rables%2C%20Les%20%281995%29"
    "|0|0|0|0|0|0|0|0|1|0|0|0|1|0|0|0|0|0|0\n"
)
ML100K_USER = "196|49|M|writer|55105\n186|39|F|executive|00000\n22|25|M|writer|40206\n999|30|F|other|12345\n"


@pytest.fixture
def ml100k(tmp_path: Path) -> Path:
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    write(folder, "u.data", ML100K_DATA)
    write(folder, "u.item", ML100K_ITEM, encoding="latin-1")
    write(folder, "u.user", ML100K_USER)
    return folder


def test_movielens_100k_loads_as_distributed(ml100k: Path) -> None:
    ds = load_dataset(ml100k / "u.data", ml100k / "u.item", ml100k / "u.user")

    assert isinstance(ds, Dataset)
    assert ds.name == "ml-100k"
    assert ds.rating_scale == (1.0, 5.0) and not ds.implicit
    assert ds.n_ratings == 4 and ds.n_users == 3 and ds.n_items == 4
    assert ratings_of(ds.interactions) == {("196", "242"): 3.0, ("186", "302"): 3.0, ("22", "1144"): 1.0,
                                           ("196", "1"): 4.0}
    assert ds.interactions["timestamp"].dtype == np.int64
    assert ds.interactions["timestamp"].tolist() == [881250949, 891717742, 878887116, 881250950]

    items = ds.items.set_index("item")
    assert items.loc["1", "genres"] == "Animation|Children's|Comedy"
    assert items.loc["302", "genres"] == "Crime|Film-Noir|Mystery|Thriller"
    assert items.loc["1144", "title"] == "Misérables, Les (1995)"  # latin-1, no mojibake
    assert items.loc["1144", "genres"] == "Drama|Musical"
    assert items.loc["242", "year"] == 1996
    assert "imdb_url" not in ds.items.columns and "Action" not in ds.items.columns

    users = ds.users.set_index("user")
    assert users.loc["186", "age"] == 39 and users.loc["186", "gender"] == "F"
    assert users.loc["186", "zip_code"] == "00000"  # zip codes stay text
    assert "999" not in users.index

    report = "\n".join(ds.report)
    assert "u.data: 1 duplicate (user, item) rows: kept the latest" in report
    assert "u.item: not valid UTF-8 (first at line 5); read as Latin-1" in report
    assert "u.item: 1 item without ratings in u.data: left out." in report
    assert "u.user: 1 user without ratings in u.data: left out." in report


def test_detect_format_recognises_movielens_100k_items_by_shape(ml100k: Path) -> None:
    # Uploaded under another name: the shape alone identifies it.
    upload = io.BytesIO((ml100k / "u.item").read_bytes())
    fmt = detect_format(upload, name="movies.txt")

    assert (fmt.separator, fmt.has_header, fmt.encoding) == ("|", False, "latin-1")
    assert (fmt.kind, fmt.layout) == ("items", "movielens-100k")
    assert fmt.columns[:5] == ["item", "title", "release_date", "video_release_date", "imdb_url"]
    assert fmt.columns[5:] == list(data._ML100K_GENRES)
    assert fmt.mapping == {"item": "item", "title": "title"}
    assert fmt.preview.shape == (5, 24)
    assert fmt.preview.loc[4, "title"] == "Misérables, Les (1995)"


def test_detect_format_suggests_mapping_for_headed_ratings(tmp_path: Path) -> None:
    path = write(tmp_path, "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    fmt = detect_format(path)
    assert (fmt.separator, fmt.has_header, fmt.encoding, fmt.kind) == (",", True, "utf-8", "ratings")
    assert fmt.columns == ["userId", "movieId", "rating", "timestamp"]
    assert fmt.mapping == {"user": "userId", "item": "movieId", "rating": "rating", "timestamp": "timestamp"}
    assert fmt.preview.iloc[0].tolist() == ["1", "1", "4.0", "964982703"]


def test_detect_format_positional_names_for_headerless_ratings(ml100k: Path) -> None:
    fmt = detect_format(ml100k / "u.data")
    assert (fmt.separator, fmt.has_header, fmt.kind) == ("\t", False, "ratings")
    assert fmt.columns == ["user", "item", "rating", "timestamp"]
    assert fmt.mapping == {"user": "user", "item": "item", "rating": "rating", "timestamp": "timestamp"}


def test_ratings_file_given_the_item_file_says_what_it_looks_like(ml100k: Path) -> None:
    with pytest.raises(DataValidationError) as err:
        read_ratings(ml100k / "u.item")
    message = str(err.value)
    assert message.startswith("u.item: no user id column found.")
    assert "MovieLens 100k item file (u.item)" in message


# ------------------------------------------------------------------ MovieLens latest
ML_LATEST_RATINGS = (
    "userId,movieId,rating,timestamp\n"
    "1,1,4.0,964982703\n"
    "1,3,4.5,964981247\n"
    "2,1,0.5,964982224\n"
    "2,193609,5.0,1537109082\n"
)
ML_LATEST_MOVIES = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    '3,"American President, The (1995)",Comedy|Drama|Romance\n'
    "7,Sabrina (1995),Comedy|Romance\n"
    "193609,Andrew Dice Clay: Dice Rules (1991),(no genres listed)\n"
)
ML_LATEST_TAGS = (
    "userId,movieId,tag,timestamp\n"
    "2,1,funny,1445714994\n"
    "2,1,Pixar,1445714996\n"
    "3,1,pixar,1445714997\n"
    '4,1,"toys, childhood",1445714998\n'
    "2,3,politics,1445714999\n"
    "2,99,orphan,1445715000\n"
)


def test_movielens_latest_with_tags(tmp_path: Path) -> None:
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    ds = load_dataset(
        write(folder, "ratings.csv", ML_LATEST_RATINGS),
        write(folder, "movies.csv", ML_LATEST_MOVIES),
        tags=write(folder, "tags.csv", ML_LATEST_TAGS),
    )
    assert ds.name == "ml-latest-small"
    assert ds.rating_scale == (0.5, 5.0)
    assert ratings_of(ds.interactions)[("2", "1")] == 0.5

    items = ds.items.set_index("item")
    assert items.loc["3", "title"] == "American President, The (1995)"
    assert items.loc["1", "genres"] == "Adventure|Animation|Children|Comedy|Fantasy"
    assert items.loc["193609", "genres"] == ""  # "(no genres listed)"
    # Case-insensitive de-duplication, most used first, first spelling kept.
    assert items.loc["1", "tags"] == "Pixar|funny|toys, childhood"
    assert items.loc["3", "tags"] == "politics"
    assert items.loc["193609", "tags"] == ""
    assert "7" not in items.index

    report = "\n".join(ds.report)
    assert "tags.csv: tags of 1 item not in movies.csv: left out." in report
    assert "tags.csv: 6 tag rows gathered into a 'tags' column on 2 items." in report
    assert "movies.csv: 1 item without ratings in ratings.csv: left out." in report
    assert "rating scale 0.5 to 5 inferred" in report


def test_tag_file_given_as_ratings_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"tags\.csv: looks like a tag file \(column 'tag'\)"):
        read_ratings(write(tmp_path, "tags.csv", ML_LATEST_TAGS))


def test_ratings_file_given_as_items_or_users_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "ratings.csv", ML_LATEST_RATINGS)
    with pytest.raises(DataValidationError, match=r"ratings\.csv: looks like MovieLens ratings .* not item metadata"):
        read_items(path)
    with pytest.raises(DataValidationError, match=r"ratings\.csv: looks like MovieLens ratings .* not user metadata"):
        read_users(path)


# ------------------------------------------------------------------ Goodbooks-10k
GOODBOOKS_HEADER = (
    "book_id,goodreads_book_id,best_book_id,work_id,books_count,isbn,isbn13,authors,original_publication_year,"
    "original_title,title,language_code,average_rating,ratings_count,work_ratings_count,work_text_reviews_count,"
    "ratings_1,ratings_2,ratings_3,ratings_4,ratings_5,image_url,small_image_url\n"
)
GOODBOOKS_BOOKS = GOODBOOKS_HEADER + (
    "1,2767052,2767052,2792775,272,439023483,9.78043902348e+12,Suzanne Collins,2008.0,The Hunger Games,"
    '"The Hunger Games (The Hunger Games, #1)",eng,4.34,4780653,4942365,155254,66715,127936,560092,1481305,'
    "2706317,https://images.gr-assets.com/books/1447303603m/2767052.jpg,"
    "https://images.gr-assets.com/books/1447303603s/2767052.jpg\n"
    '2,3,3,4640799,491,439554934,9.78043955493e+12,"J.K. Rowling, Mary GrandPré",1997.0,'
    "Harry Potter and the Philosopher's Stone,"
    "\"Harry Potter and the Sorcerer's Stone (Harry Potter, #1)\",eng,4.44,4602479,4800065,75867,75504,101676,"
    "455024,1156318,3011543,https://images.gr-assets.com/books/1474154022m/3.jpg,"
    "https://images.gr-assets.com/books/1474154022s/3.jpg\n"
    "3,41865,41865,3212258,226,316015849,9.78031601584e+12,Stephenie Meyer,2005.0,Twilight,"
    '"Twilight (Twilight, #1)",en-US,3.57,3866839,3916824,95009,456191,436802,793319,875073,1355439,'
    "https://images.gr-assets.com/books/1361039443m/41865.jpg,"
    "https://images.gr-assets.com/books/1361039443s/41865.jpg\n"
)
GOODBOOKS_RATINGS = "user_id,book_id,rating\n1,1,5\n2,1,4\n2,2,3\n3,2,5\n3,1,1\n"
GOODBOOKS_TAG_NAMES = "tag_id,tag_name\n" + "".join(f"{100 + k},tag{k:02d}\n" for k in range(22)) + "11557,favorites\n"


def goodbooks_book_tags() -> str:
    # Book 2767052 has 22 tags with counts 1..22; book 3 has two.
    rows = "".join(f"2767052,{100 + k},{k + 1}\n" for k in range(22))
    return "goodreads_book_id,tag_id,count\n" + rows + "3,11557,40\n3,100,50\n3,99999,7\n"


def test_goodbooks_10k(tmp_path: Path) -> None:
    folder = tmp_path / "goodbooks-10k"
    folder.mkdir()
    ds = load_dataset(
        write(folder, "ratings.csv", GOODBOOKS_RATINGS),
        write(folder, "books.csv", GOODBOOKS_BOOKS),
        tags=write(folder, "book_tags.csv", goodbooks_book_tags()),
        tag_names=write(folder, "tags.csv", GOODBOOKS_TAG_NAMES),
    )
    assert ds.name == "goodbooks-10k"
    assert ds.rating_scale == (1.0, 5.0) and not ds.has_timestamps
    assert ratings_of(ds.interactions) == {("1", "1"): 5.0, ("2", "1"): 4.0, ("2", "2"): 3.0, ("3", "2"): 5.0,
                                           ("3", "1"): 1.0}
    items = ds.items.set_index("item")
    assert items.loc["1", "title"] == "The Hunger Games (The Hunger Games, #1)"
    assert items.loc["2", "authors"] == "J.K. Rowling, Mary GrandPré"
    assert items.loc["1", "year"] == 2008 and items.loc["2", "average_rating"] == 4.44
    # Top 20 by count, most used first: tag21 (count 22) ... tag02 (count 3).
    hunger_tags = items.loc["1", "tags"].split("|")
    assert len(hunger_tags) == data.TOP_BOOK_TAGS == 20
    assert hunger_tags[:2] == ["tag21", "tag20"] and hunger_tags[-1] == "tag02"
    assert items.loc["2", "tags"] == "tag00|favorites"
    for dropped in ("isbn", "isbn13", "image_url", "small_image_url", "original_title", "ratings_1"):
        assert dropped not in ds.items.columns
    assert "3" not in items.index  # Twilight has no ratings
    assert "Harry Potter and the Sorcerer's Stone" in ds.item_text().iloc[ds.item_index("2")]
    report = "\n".join(ds.report)
    assert "book_tags.csv: 1 row with a tag id missing from tags.csv: left out." in report
    assert "books.csv: 1 item without ratings in ratings.csv: left out." in report


def test_goodbooks_book_tags_without_tag_names_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"book_tags\.csv: holds tag ids \(tag_id\) without their names"):
        read_items(write(tmp_path, "books.csv", GOODBOOKS_BOOKS), tags=write(tmp_path, "book_tags.csv",
                                                                             goodbooks_book_tags()))


# ------------------------------------------------------------------ MovieLens 1M
def test_movielens_1m_dat_files(tmp_path: Path) -> None:
    ratings = write(tmp_path, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
    movies = write(
        tmp_path, "movies.dat",
        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
        "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
        "1144::Misérables, Les (1995)::Drama|Musical\n",
        encoding="latin-1",
    )
    users = write(tmp_path, "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
    ds = load_dataset(ratings, movies, users)

    assert ratings_of(ds.interactions) == {("1", "1193"): 5.0, ("1", "661"): 3.0, ("2", "1193"): 4.0}
    assert ds.interactions["timestamp"].tolist() == [978300760, 978302109, 978298413]
    items = ds.items.set_index("item")
    assert items.loc["661", "genres"] == "Animation|Children's|Musical"
    assert items.loc["1193", "title"] == "One Flew Over the Cuckoo's Nest (1975)"
    users_frame = ds.users.set_index("user")
    assert users_frame.loc["1", "occupation"] == "K-12 student"
    assert users_frame.loc["2", "age"] == 56 and users_frame.loc["2", "gender"] == "M"
    assert any("movies.dat: not valid UTF-8" in line and "Latin-1" in line for line in ds.report)


def test_movielens_1m_titles_survive_latin1(tmp_path: Path) -> None:
    movies = write(tmp_path, "movies.dat", "1144::Misérables, Les (1995)::Drama|Musical\n", encoding="latin-1")
    items = read_items(movies)
    assert items["title"].tolist() == ["Misérables, Les (1995)"]
    assert items["genres"].tolist() == ["Drama|Musical"]
    assert items["year"].tolist() == [1995]


# ------------------------------------------------------------------ generic files
GENERIC_ROWS = [("u1", "i1", "4", "978300760"), ("u1", "i2", "2", "978300761"), ("u2", "i1", "5", "978300762")]


@pytest.mark.parametrize("sep", [",", "\t", ";", "|", "::"])
@pytest.mark.parametrize("header", [True, False])
def test_generic_separators_with_and_without_header(tmp_path: Path, sep: str, header: bool) -> None:
    names = [sep.join(["user", "item", "rating", "timestamp"])] if header else []
    lines = names + [sep.join(row) for row in GENERIC_ROWS]
    frame, report = read_ratings(write(tmp_path, "r.txt", "\n".join(lines) + "\n"))
    assert frame.columns.tolist() == ["user", "item", "rating", "timestamp"]
    assert ratings_of(frame) == {("u1", "i1"): 4.0, ("u1", "i2"): 2.0, ("u2", "i1"): 5.0}
    assert frame["timestamp"].tolist() == [978300760, 978300761, 978300762]
    assert frame.attrs["rating_scale"] == (1.0, 5.0)
    assert ("with a header line" if header else "no header line") in report[0]


@pytest.mark.parametrize(
    "header, expected_columns",
    [
        ("customer_id;product_id;stars", ["user", "item", "rating"]),
        ("reviewerID\tasin\toverall\tunixReviewTime", ["user", "item", "rating", "timestamp"]),
        ("Customer,ISBN,Score,Time", ["user", "item", "rating", "timestamp"]),
    ],
)
def test_recognised_column_names(tmp_path: Path, header: str, expected_columns: list[str]) -> None:
    sep = ";" if ";" in header else "\t" if "\t" in header else ","
    values = ["0042", "043936213X", "4", "1393545600"][: len(expected_columns)]
    frame, _ = read_ratings(write(tmp_path, "f.csv", header + "\n" + sep.join(values) + "\n"))
    assert frame.columns.tolist() == expected_columns
    assert frame.loc[0, "user"] == "0042" and frame.loc[0, "item"] == "043936213X"  # ids stay as written
    assert frame.loc[0, "rating"] == 4.0


def test_explicit_mapping_overrides_detection(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "a,b,rating,stars\n1,10,2,5\n2,10,3,4\n")
    frame, _ = read_ratings(path, mapping={"user": "b", "item": "a", "rating": "stars"})
    assert ratings_of(frame) == {("10", "1"): 5.0, ("10", "2"): 4.0}


def test_mapping_rating_to_none_loads_implicit_feedback(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "user,item,rating\n1,10,2\n2,10,3\n")
    ds = load_dataset(path, mapping={"rating": None})
    assert ds.implicit and ds.rating_scale == (1.0, 1.0)
    assert ds.interactions["rating"].tolist() == [1.0, 1.0]


def test_mapping_to_a_missing_column_names_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "user,item,rating\n1,10,2\n")
    with pytest.raises(DataValidationError) as err:
        read_ratings(path, mapping={"rating": "score"})
    assert str(err.value) == (
        "f.csv: the column mapping takes the rating from column 'score', but the file has no such column. "
        "Columns found: 'user', 'item', 'rating'. Choose one of these in the column mapping."
    )


def test_implicit_file_without_rating_column(tmp_path: Path) -> None:
    path = write(tmp_path, "clicks.csv", "customer,product\nc1,p1\nc1,p2\nc2,p1\n")
    ds = load_dataset(path)
    assert ds.implicit and ds.rating_scale == (1.0, 1.0)
    assert ratings_of(ds.interactions) == {("c1", "p1"): 1.0, ("c1", "p2"): 1.0, ("c2", "p1"): 1.0}
    assert any("no rating column: each row is one interaction (implicit feedback)" in line for line in ds.report)


def test_headerless_user_item_timestamp_is_implicit(tmp_path: Path) -> None:
    frame, _ = read_ratings(write(tmp_path, "f.csv", "1,2,978300760\n1,3,978300761\n"))
    assert frame.columns.tolist() == ["user", "item", "rating", "timestamp"]
    assert frame["rating"].tolist() == [1.0, 1.0] and frame.attrs["implicit"] is True
    assert frame["timestamp"].tolist() == [978300760, 978300761]


def test_iso_dates_become_unix_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "user,item,rating,date\nu1,i1,4,2009-09-13\nu1,i2,3,2009-09-13T10:00:00\n")
    frame, report = read_ratings(path)
    assert frame["timestamp"].tolist() == [1252800000, 1252836000]
    assert "f.csv: dates in column 'date' converted to unix seconds (UTC)." in report


def test_millisecond_timestamps_become_seconds(tmp_path: Path) -> None:
    frame, report = read_ratings(write(tmp_path, "f.csv", "user,item,rating,timestamp\n1,2,4,978300760123\n"))
    assert frame["timestamp"].tolist() == [978300760]
    assert "f.csv: timestamps in milliseconds converted to seconds." in report


@pytest.mark.parametrize(
    "values, scale",
    [
        (["1", "3", "4"], (1.0, 5.0)),
        (["0.5", "3.5", "4"], (0.5, 5.0)),
        (["1", "7", "10"], (1.0, 10.0)),
        (["0", "2", "5"], (0.0, 5.0)),
        (["-10", "2.25", "9.5"], (-10.0, 9.5)),
    ],
)
def test_rating_scale_is_inferred_and_snapped(tmp_path: Path, values: list[str], scale: tuple[float, float]) -> None:
    text = "user,item,rating\n" + "".join(f"u{k},i,{v}\n" for k, v in enumerate(values))
    frame, report = read_ratings(write(tmp_path, "f.csv", text))
    assert frame.attrs["rating_scale"] == scale
    assert f"rating scale {scale[0]:g} to {scale[1]:g} inferred" in report[1]


def test_given_rating_scale_is_kept(tmp_path: Path) -> None:
    ds = load_dataset(write(tmp_path, "f.csv", "user,item,rating\nu1,i1,2\nu2,i1,3\n"), rating_scale=(1, 10))
    assert ds.rating_scale == (1.0, 10.0)


def test_decimal_commas_in_semicolon_files(tmp_path: Path) -> None:
    frame, report = read_ratings(write(tmp_path, "f.csv", "user;item;rating\n1;2;3,5\n1;3;4\n"))
    assert frame["rating"].tolist() == [3.5, 4.0]
    assert "f.csv: ratings with a decimal comma (3,5) read as 3.5." in report


def test_ids_written_as_floats_are_normalised(tmp_path: Path) -> None:
    frame, report = read_ratings(write(tmp_path, "f.csv", "user,item,rating\n1.0,12.0,3\n2.0,13.0,4\n"))
    assert frame["user"].tolist() == ["1", "2"] and frame["item"].tolist() == ["12", "13"]
    assert "f.csv: item ids written like '12.0' read as '12'." in report


def test_bom_crlf_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", b"\xef\xbb\xbfuserId,movieId,rating\r\n1,2,5\r\n\r\n1,x3,4\r\n")
    frame, _ = read_ratings(path)
    assert ratings_of(frame) == {("1", "2"): 5.0, ("1", "x3"): 4.0}


def test_gzip_file_is_unpacked(tmp_path: Path) -> None:
    path = write(tmp_path, "ratings.csv.gz", gzip.compress(b"userId,movieId,rating\n1,2,5\n"))
    frame, report = read_ratings(path)
    assert ratings_of(frame) == {("1", "2"): 5.0}
    assert "ratings.csv.gz: unpacked (gzip)." in report


def test_cp1252_curly_quotes_are_read_as_such(tmp_path: Path) -> None:
    path = write(tmp_path, "items.csv", "item,title\n1,\u201cQuoted\u201d \u2013 Film\n", encoding="cp1252")
    items = read_items(path)
    assert items["title"].tolist() == ["\u201cQuoted\u201d \u2013 Film"]
    assert "read as Windows-1252" in items.attrs["report"][1]


# ------------------------------------------------------------------ sources
class FakeUpload:
    """Like Streamlit's UploadedFile: a name and getvalue()."""

    def __init__(self, name: str, content: bytes) -> None:
        self.name = name
        self._content = content

    def getvalue(self) -> bytes:
        return self._content


def test_uploaded_file_name_is_used_in_messages() -> None:
    upload = FakeUpload("my ratings.csv", b"user,item,rating\n1,2,5\n1,3,great\n")
    with pytest.raises(DataValidationError, match=r"^my ratings\.csv: column 'rating' is not a number on 1 row"):
        read_ratings(upload)


def test_bytes_and_text_sources(tmp_path: Path) -> None:
    from_bytes, _ = read_ratings(b"user,item,rating\n1,2,5\n", name="b.csv")
    text_file = io.StringIO("user,item,rating\n1,2,5\n")
    assert detect_format(text_file).kind == "ratings"
    from_text, _ = read_ratings(text_file)  # read again from the top
    assert ratings_of(from_bytes) == ratings_of(from_text) == {("1", "2"): 5.0}
    ds = load_dataset(FakeUpload("shop.csv", b"user,item\n1,2\n"))
    assert ds.name == "shop"


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"^nope\.csv: no file at .*nope\.csv\. Check the path"):
        read_ratings(tmp_path / "nope.csv")


# ------------------------------------------------------------------ bad input
def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"^ratings\.csv: the file is empty\. Expected a header line"):
        read_ratings(write(tmp_path, "ratings.csv", "\n  \n"))


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as err:
        read_ratings(write(tmp_path, "ratings.csv", "userId,movieId,rating\n"))
    assert str(err.value) == (
        "ratings.csv: has a header line (userId, movieId, rating) but no data rows. "
        "Expected one row per line below the header. Check that the whole file was saved."
    )


@pytest.mark.parametrize(
    "header, role, names",
    [
        ("who,movieId,rating", "user id",
         "user, user_id, userId, customer, customer_id, reviewerID, visitorid, visitor_id"),
        ("userId,what,rating", "item id", "item, item_id, movieId, movie_id, book_id, isbn, product, product_id, asin, "
         "artistID, artist_id, track_id, song_id, id"),
    ],
)
def test_missing_id_column_lists_columns_and_recognised_names(
    tmp_path: Path, header: str, role: str, names: str
) -> None:
    with pytest.raises(DataValidationError) as err:
        read_ratings(write(tmp_path, "ratings.csv", header + "\n1,2,3\n"))
    message = str(err.value)
    columns = ", ".join(f"'{c}'" for c in header.split(","))
    assert message.startswith(f"ratings.csv: no {role} column found. Columns found: {columns}.")
    assert f"Recognised names for the {role} (any case): {names}." in message
    assert "choose it in the column mapping" in message


def test_non_numeric_ratings_name_lines_and_count(tmp_path: Path) -> None:
    text = "userId,movieId,rating\n1,2,5\n1,3,five\n2,3,4\n" + "".join(f"3,{k},x{k}\n" for k in range(6))
    with pytest.raises(DataValidationError) as err:
        read_ratings(write(tmp_path, "ratings.csv", text))
    assert str(err.value) == (
        "ratings.csv: column 'rating' is not a number on 7 rows: line 3 ('five'), line 5 ('x0'), line 6 ('x1'), "
        "line 7 ('x2'), line 8 ('x3') and 2 more. Expected a number on every row, such as 4 or 3.5. "
        "Correct or delete these rows, or map the rating to another column, then load the file again. "
        "Or load it again skipping the malformed lines (each skipped line is listed)."
    )
    assert isinstance(err.value, MalformedLinesError) and err.value.line_numbers == (3, 5, 6, 7, 8, 9, 10)


def test_headerless_lines_are_counted_from_one(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError) as err:
        read_ratings(write(tmp_path, "u.data", "1\t2\t5\t881250949\n1\t3\t?\t881250950\n"))
    assert str(err.value).startswith(
        "u.data: column 3 ('rating') is not a number on 1 row: line 2 ('?')."
    )


def test_out_of_scale_ratings_when_scale_is_given(tmp_path: Path) -> None:
    text = "userId,movieId,rating\n1,2,5\n1,3,6\n2,3,0\n"
    with pytest.raises(DataValidationError) as err:
        read_ratings(write(tmp_path, "ratings.csv", text), rating_scale=(1, 5))
    assert str(err.value) == (
        "ratings.csv: column 'rating' is outside the rating scale 1 to 5 on 2 rows: line 3 ('6'), line 4 ('0'). "
        "Expected ratings from 1 to 5. Correct or delete these rows, or choose a rating scale that covers them "
        "(the file holds ratings from 0 to 6)."
    )


@pytest.mark.parametrize(
    "text, column, listing",
    [
        ("userId,movieId,rating\n1,2,5\n,3,4\nNaN,4,3\n", "userId", "on 2 rows: line 3 (empty), line 4 ('NaN')"),
        ("userId,movieId,rating\n1,2,5\n2, ,4\n", "movieId", "on 1 row: line 3 (empty)"),
        ("userId,movieId,rating\n1,2,5\n2,3,\n3,3,nan\n", "rating", "on 2 rows: line 3 (empty), line 4 ('nan')"),
    ],
)
def test_empty_or_nan_ids_and_ratings(tmp_path: Path, text: str, column: str, listing: str) -> None:
    with pytest.raises(DataValidationError) as err:
        read_ratings(write(tmp_path, "ratings.csv", text))
    assert str(err.value).startswith(f"ratings.csv: column '{column}' is empty (or NaN) {listing}. Expected ")


def test_inconsistent_field_counts_name_the_lines(tmp_path: Path) -> None:
    text = "userId,movieId,rating\n1,2,5\n1,3,4,9\n2,3\n" + "2,4,1\n" * 3
    with pytest.raises(DataValidationError) as err:
        read_ratings(write(tmp_path, "ratings.csv", text))
    assert str(err.value).startswith(
        "ratings.csv: 2 lines do not have 3 fields like the header line (separator: comma): "
        "line 3 (4 fields), line 4 (2 fields). Expected 3 fields on every line. "
        "A value that contains a comma must be in double quotes"
    )


def test_inconsistent_field_counts_in_a_quoted_file(tmp_path: Path) -> None:
    text = 'movieId,title,genres\n1,"Toy Story, (1995)",Comedy\n2,Jumanji, The (1995),Fantasy\n'
    with pytest.raises(DataValidationError, match=r"^movies\.csv: 1 line does not have 3 fields .*line 3 \(4 fields\)"):
        read_items(write(tmp_path, "movies.csv", text))


def test_unclosed_quote_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"^q\.csv: 1 line does not have 3 fields .*: line 2 \(2 fields\)\."):
        read_ratings(write(tmp_path, "q.csv", 'user,item,rating\n1,"2,5\n3,4,5\n'))


def test_utf16_spreadsheet_export(tmp_path: Path) -> None:
    frame, report = read_ratings(write(tmp_path, "export.txt", "user\titem\trating\n1\t2\t5\n", encoding="utf-16"))
    assert ratings_of(frame) == {("1", "2"): 5.0}
    assert report[0].endswith("tab-separated, with a header line, utf-16.")


def test_invalid_rating_scale(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"^f\.csv: the rating scale \(5, 1\) is not valid"):
        read_ratings(write(tmp_path, "f.csv", "user,item,rating\n1,2,5\n"), rating_scale=(5, 1))


def test_latin1_file_falls_back_without_mojibake(tmp_path: Path) -> None:
    text = "item,title\n1,Toy Story (1995)\n2,Misérables, Les (1995)\n".replace(", Les", " Les")
    items = read_items(write(tmp_path, "items.csv", text, encoding="latin-1"))
    assert items["title"].tolist() == ["Toy Story (1995)", "Misérables Les (1995)"]
    assert items.attrs["report"][1] == (
        "items.csv: not valid UTF-8 (first at line 3); read as Latin-1 (ISO-8859-1), the encoding MovieLens "
        "files use. Check that accented titles look right."
    )


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    garbage = bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8))
    with pytest.raises(DataValidationError, match=r"^blob\.csv: is not a text file \(it holds binary data\)"):
        read_ratings(write(tmp_path, "blob.csv", garbage))


def test_zip_archive_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"^ml-latest-small\.zip: is a ZIP archive .* Unzip it"):
        read_ratings(write(tmp_path, "ml-latest-small.zip", b"PK\x03\x04" + b"\x00" * 100))


def test_duplicate_pairs_keep_the_latest(tmp_path: Path) -> None:
    # With times: the latest time wins even when it comes first in the file.
    timed = "user,item,rating,timestamp\n1,2,5,200\n1,2,1,100\n1,3,4,50\n1,3,2,60\n2,2,3,10\n"
    frame, report = read_ratings(write(tmp_path, "timed.csv", timed))
    assert ratings_of(frame) == {("1", "2"): 5.0, ("1", "3"): 2.0, ("2", "2"): 3.0}
    assert frame["timestamp"].tolist() == [200, 60, 10]  # file order kept
    assert (
        "timed.csv: 2 duplicate (user, item) rows: kept the latest (by timestamp; the last line on equal times)."
        in report
    )
    # Without times: the last line wins.
    frame, report = read_ratings(write(tmp_path, "plain.csv", "user,item,rating\n1,2,5\n1,2,1\n"))
    assert ratings_of(frame) == {("1", "2"): 1.0}
    assert "plain.csv: 1 duplicate (user, item) rows: kept the latest (the last one in the file)." in report


def test_rated_items_without_metadata_are_reported(tmp_path: Path) -> None:
    ratings = write(tmp_path, "ratings.csv", "user,item,rating\n1,a,5\n1,b,4\n2,c,3\n")
    items = write(tmp_path, "items.csv", "item,title\na,Alpha\nz,Zulu\n")
    ds = load_dataset(ratings, items)
    assert ds.items["title"].tolist() == ["Alpha", "b", "c"]  # shown by their id
    assert "ratings.csv: 2 rated items not in items.csv: shown by their id." in ds.report
    assert "items.csv: 1 item without ratings in ratings.csv: left out." in ds.report


def test_metadata_sharing_no_id_with_the_ratings_is_an_error(tmp_path: Path) -> None:
    ratings = write(tmp_path, "ratings.csv", "user,item,rating\n1,258,5\n")
    items = write(tmp_path, "books.csv", "item,title\n2767052,Hunger Games\n")
    with pytest.raises(DataValidationError, match=r"^books\.csv: none of its 1 item ids \(such as '2767052'\) appear"):
        load_dataset(ratings, items)


def test_duplicate_metadata_rows_keep_the_first(tmp_path: Path) -> None:
    items = read_items(write(tmp_path, "items.csv", "item,title,genres\n1,A,Drama\n1,B,Comedy\n2,C,Action, Drama\n"
                                                    .replace("Action, Drama", '"Action, Drama"')))
    assert items["title"].tolist() == ["A", "C"]
    assert items["genres"].tolist() == ["Drama", "Action|Drama"]  # comma-separated genres joined with '|'
    assert "items.csv: 1 row repeat an item id listed before: kept the first." in items.attrs["report"]


def test_users_metadata_types(tmp_path: Path) -> None:
    text = "user,age,gender,occupation,segment\n1,24,M,technician,s1\n2,,F,writer,s2\n"
    users = read_users(write(tmp_path, "users.csv", text))
    assert users["user"].tolist() == ["1", "2"]
    assert str(users["age"].dtype) == "Int64" and users["age"].tolist()[0] == 24 and pd.isna(users["age"].iloc[1])
    assert users["segment"].tolist() == ["s1", "s2"]


# ------------------------------------------------------------------ sample and speed
def test_load_sample_reads_the_sample_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "ratings.csv", "user,item,rating,timestamp\nu1,i1,4,10\nu2,i1,2,11\nu2,i2,5,12\n")
    write(tmp_path, "items.csv", "item,title,genres,description,genre_truth,year\n"
                                 "i1,One,Drama|War,A sad film.,drama,1990\ni2,Two,Comedy,A fun film.,comedy,2001\n")
    write(tmp_path, "users.csv", "user,age,gender,occupation,segment\nu1,30,F,artist,drama-fan\nu2,41,M,lawyer,mixed\n")
    monkeypatch.setattr(data, "SAMPLE_DIR", tmp_path)
    ds = load_sample()
    assert ds.name == "sample" and ds.rating_scale == (1.0, 5.0)
    assert ds.items.set_index("item").loc["i2", "description"] == "A fun film."
    assert ds.items["year"].tolist() == [1990, 2001]
    assert ds.users.set_index("user").loc["u2", "segment"] == "mixed"
    assert ds.item_text().tolist()[0] == "One. Drama, War. A sad film"


def test_bundled_sample_loads() -> None:
    ds = load_sample()
    assert (ds.n_users, ds.n_items, ds.n_ratings) == (600, 1500, 45000)
    assert set(ds.interactions.columns) >= {"user", "item", "rating", "timestamp"}
    assert {"genre_truth", "description"} <= set(ds.items.columns) and "segment" in ds.users.columns


def test_100k_half_star_ratings_load_with_duplicates_removed(tmp_path: Path) -> None:
    # Speed is measured in benchmarks/load.py, not here (machines are noisy).
    rng = np.random.default_rng(7)
    n = 100_000
    frame = pd.DataFrame({
        "userId": rng.integers(1, 700, n),
        "movieId": rng.integers(1, 9000, n),
        "rating": rng.integers(1, 11, n) / 2,
        "timestamp": rng.integers(900_000_000, 1_500_000_000, n),
    })
    path = tmp_path / "ratings.csv"
    frame.to_csv(path, index=False)
    expected_unique = len(frame.drop_duplicates(["userId", "movieId"]))

    loaded, report = read_ratings(path)

    assert len(loaded) == expected_unique
    assert loaded.attrs["rating_scale"] == (0.5, 5.0)
    assert any(f"{n - expected_unique:,} duplicate" in line or f"{n - expected_unique} duplicate" in line for line in report)


# ----------------------------------------------------------- overriding detection
def test_a_numeric_header_can_be_declared_where_detection_reads_it_as_data(tmp_path: Path) -> None:
    # pandas writes integer column names as a header line "0,1,2": indistinguishable from a data line.
    path = write(tmp_path, "export.csv", "0,1,2\n1,10,4\n2,10,5\n")
    guessed, _ = read_ratings(path)
    assert len(guessed) == 3  # the header was taken for a rating of user 0
    fmt = detect_format(path, kind="ratings", has_header=True)
    assert fmt.has_header and fmt.columns == ["0", "1", "2"]
    frame, _ = read_ratings(path, has_header=True, mapping={"user": "0", "item": "1", "rating": "2"})
    assert frame["user"].tolist() == ["1", "2"] and frame["rating"].tolist() == [4.0, 5.0]
    ds = load_dataset(path, layouts={"ratings": {"has_header": True}}, mapping={"user": "0", "item": "1", "rating": "2"})
    assert ds.n_ratings == 2


def test_a_chosen_separator_is_used_and_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "ratings.txt", "user\titem\trating\n1\t10\t4\n2\t11\t3\n")
    assert detect_format(path, separator="\t").separator == "\t"
    frame, _ = read_ratings(path, separator="\t")
    assert frame["item"].tolist() == ["10", "11"]
    with pytest.raises(DataValidationError) as error:
        read_ratings(path, separator=";")
    message = str(error.value)
    assert "ratings.txt" in message and "';'" in message and "single value" in message
    with pytest.raises(DataValidationError, match="unknown separator"):
        detect_format(path, separator="#")
