"""What is specific to the public data sets: MovieLens 100k / 1M / latest and Goodbooks-10k.

Their headerless layouts recognised by shape (``u.item``, ``u.user``,
``users.dat``, ``movies.dat``, ``tags.dat``) and by file name, the 100k genre
flags, the 1M occupation codes and the Goodbooks columns worth keeping.
Generic detection lives in :mod:`.detection`; gathering tag files into the
items in :mod:`.tags`.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

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


def _name_hint(name: str) -> str | None:
    """What a headerless file holds by its MovieLens name (``u.data``, ``movies.dat``, ``u1.base`` ...), if known."""
    base = name.lower().removesuffix(".gz")
    hint = _NAME_HINTS.get(base)
    if hint is None and re.fullmatch(r"u(\d|[abc])?\.(base|test)", base):
        hint = "ratings"  # the MovieLens 100k splits
    return hint


def _known_layout_by_shape(
    columns: list[list[str]], numeric: list[float], sep: str, name_hint: str | None, wants: str | None
) -> tuple[str, str, list[str], str] | None:
    """A headerless MovieLens layout recognised by its shape: (kind, layout, columns, description), else None.

    ``columns`` holds each column's stripped values (lines of the usual number
    of fields only), ``numeric`` the share of each column's values that are
    numbers, ``wants`` what the caller or the file name asks for.
    """
    n = len(columns)

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
    return None


def _ml100k_genres(frame: pd.DataFrame) -> pd.Series:
    # 19 columns, not 100k rows: a loop over genres keeps this vectorised.
    joined = np.full(len(frame), "", dtype=object)
    for genre in _ML100K_GENRES[1:]:  # "unknown" is the absence of a genre
        joined = joined + np.where(frame[genre].str.strip().to_numpy() == "1", genre + "|", "")
    return pd.Series(joined, dtype=str).str.rstrip("|")
