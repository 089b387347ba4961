"""AppTest helpers: the app as `streamlit run app.py` starts it, small generated data, fast models.

AppTest runs the scripts in this process, so the engine is real (no mocks);
only the data is small so that the whole suite stays within a few minutes.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"
TIMEOUT = 120

#: Fast models covering every family the pages treat differently.
FAST_MODELS = ["popular", "baseline", "svd", "knn-basic", "coclustering", "content-tfidf"]

GENRES = {
    "Sci-Fi": ("Star", "Galaxy", "Robot", "Orbit", "Planet", "Android"),
    "Romance": ("Love", "Kiss", "Heart", "Wedding", "Paris", "Summer"),
    "Horror": ("Ghost", "Curse", "Haunting", "Grave", "Nightmare", "Crypt"),
    "Comedy": ("Laugh", "Prank", "Party", "Blunder", "Road Trip", "Mix-up"),
}
ADJECTIVES = ("Last", "Silent", "Crazy", "Golden", "Broken", "Wild", "Secret", "Lonely", "Endless", "Red")


def movielens_frames(n_users: int = 50, n_items: int = 80, seed: int = 3):
    """ratings, movies, users frames in MovieLens-latest layout with genre taste (content models have signal)."""
    rng = np.random.default_rng(seed)
    genres = list(GENRES)
    movies = []
    for movie_id in range(1, n_items + 1):
        genre = genres[movie_id % len(genres)]
        second = genres[(movie_id // 7) % len(genres)]
        title = f"The {ADJECTIVES[movie_id % 10]} {GENRES[genre][(movie_id // 4) % 6]} ({1970 + movie_id % 50})"
        movies.append((movie_id, title, genre if second == genre else f"{genre}|{second}"))
    movies = pd.DataFrame(movies, columns=["movieId", "title", "genres"])
    rows, users = [], []
    for user in range(1, n_users + 1):
        liked = genres[user % len(genres)]
        users.append((user, int(rng.integers(18, 65)), "F" if user % 2 else "M", ("student", "engineer", "artist")[user % 3]))
        for movie_id in rng.choice(n_items, size=int(rng.integers(8, 20)), replace=False) + 1:
            base = 4.5 if movies.loc[movie_id - 1, "genres"].startswith(liked) else 2.5
            rating = float(np.clip(np.round((base + rng.normal(0, 0.7)) * 2) / 2, 0.5, 5.0))
            rows.append((user, int(movie_id), rating, 1_500_000_000 + int(rng.integers(0, 10_000_000))))
    ratings = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    users = pd.DataFrame(users, columns=["userId", "age", "gender", "occupation"])
    return ratings, movies, users


def csv_bytes(frame: pd.DataFrame, sep: str = ",") -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, sep=sep)
    return buffer.getvalue().encode()


@pytest.fixture(scope="session")
def movielens_bytes() -> dict[str, bytes]:
    ratings, movies, users = movielens_frames()
    return {"ratings.csv": csv_bytes(ratings), "movies.csv": csv_bytes(movies), "users.csv": csv_bytes(users)}


def new_app() -> AppTest:
    """The app on its default page (Data), first run done: the bundled sample is loaded."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, files: dict[str, bytes]) -> AppTest:
    """Upload through the Data page's file uploaders and press Load."""
    keys = {"ratings": "upload_ratings", "items": "upload_items", "users": "upload_users"}
    for role, (name, content) in files.items():
        at.file_uploader(key=keys[role]).upload(name, content, "text/csv")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    load = next(b for b in at.button if b.label == "Load these files")
    load.click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def train(at: AppTest, models: list[str], **params) -> AppTest:
    """On the Train page: choose models (and parameters, ``"svd.n_epochs": 5``), press Train."""
    at.switch_page("pages/train.py").run()
    at.multiselect(key="train_models").set_value(models).run()
    for name, value in params.items():
        model, param = name.split(".")
        at.number_input(key=f"param:{model}:{param}").set_value(value).run()
    next(b for b in at.button if b.label == "Train and evaluate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def trained(movielens_bytes) -> AppTest:
    """Small MovieLens-format upload (ratings, movies, users) with the fast models trained on a hold-out."""
    at = new_app()
    upload(at, {"ratings": ("ratings.csv", movielens_bytes["ratings.csv"]),
                "items": ("movies.csv", movielens_bytes["movies.csv"]),
                "users": ("users.csv", movielens_bytes["users.csv"])})
    train(at, FAST_MODELS, **{"svd.n_epochs": 5})
    assert trained_models(at) == FAST_MODELS
    assert not at.session_state["results"].errors
    return at


def trained_models(at: AppTest) -> list[str]:
    """Model names of the latest results (run keys are (fingerprint, name, ...))."""
    return [key[1] for key in at.session_state["results"].keys]


def texts(elements) -> list[str]:
    """Element texts as a person reads them (markdown backslash escapes and invisible word joiners removed)."""
    return [re.sub(r"\\(.)", r"\1", str(e.value)).replace("\u2060", "") for e in elements]


def plotly_charts(at: AppTest) -> list:
    return list(at.get("plotly_chart"))
