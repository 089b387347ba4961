"""The real server, started as the README says, and headless Debian Chromium driven by Playwright.

Nothing is downloaded: the browser is the system's chromium (``apt-get install
chromium``), never ``playwright install``.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(log_name: str = "e2e-server.log", env: dict[str, str] | None = None):
    """``streamlit run app.py`` on a free port; waits for /_stcore/health, stops the server afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    log_path = ARTIFACTS / log_name
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    pytest.fail(f"streamlit exited with {process.returncode}; see {log_path}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not answer /_stcore/health within 90 s; see {log_path}")
                time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def server_url():
    """The server every browser test shares."""
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    # No skipping: a browser test CI skips tests nothing. .ci/run installs both.
    import playwright.sync_api as playwright_api

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail("Chromium is not installed: run `apt-get install -y chromium` (bash .ci/run does).")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.call_failed = report.failed


@pytest.fixture()
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    yield page
    if getattr(request.node, "call_failed", False):
        # What the browser showed when the test failed, for the person debugging it.
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


GENRES = {
    "Sci-Fi": ("Star", "Galaxy", "Robot", "Orbit", "Planet", "Android"),
    "Romance": ("Love", "Kiss", "Heart", "Wedding", "Paris", "Summer"),
    "Horror": ("Ghost", "Curse", "Haunting", "Grave", "Nightmare", "Crypt"),
    "Comedy": ("Laugh", "Prank", "Party", "Blunder", "Road Trip", "Mix-up"),
    "Western": ("Sheriff", "Canyon", "Outlaw", "Saloon", "Frontier", "Gunslinger"),
}
ADJECTIVES = ("Last", "Silent", "Crazy", "Golden", "Broken", "Wild", "Secret", "Lonely", "Endless", "Red")


@pytest.fixture(scope="session")
def movielens_files(tmp_path_factory) -> tuple[Path, Path]:
    """ratings.csv and movies.csv in MovieLens-latest format: a few hundred ratings with genre taste."""
    rng = np.random.default_rng(7)
    folder = tmp_path_factory.mktemp("movielens")
    genres = list(GENRES)
    movies = []
    for movie_id in range(1, 61):
        genre = genres[movie_id % len(genres)]
        words = GENRES[genre]
        second = genres[(movie_id // 7) % len(genres)]
        title = f"The {ADJECTIVES[movie_id % 10]} {words[(movie_id // 5) % 6]} ({1970 + movie_id % 50})"
        movies.append((movie_id, title, genre if second == genre else f"{genre}|{second}"))
    movies_frame = pd.DataFrame(movies, columns=["movieId", "title", "genres"])
    rows = []
    for user in range(1, 41):
        liked = genres[user % len(genres)]
        chosen = rng.choice(60, size=rng.integers(8, 16), replace=False) + 1
        for movie_id in chosen:
            base = 4.5 if movies_frame.loc[movie_id - 1, "genres"].startswith(liked) else 2.5
            rating = float(np.clip(np.round((base + rng.normal(0, 0.7)) * 2) / 2, 0.5, 5.0))
            rows.append((user, int(movie_id), rating, 1_500_000_000 + int(rng.integers(0, 10_000_000))))
    ratings_frame = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    ratings_path, movies_path = folder / "ratings.csv", folder / "movies.csv"
    ratings_frame.to_csv(ratings_path, index=False)
    movies_frame.to_csv(movies_path, index=False)
    return ratings_path, movies_path
