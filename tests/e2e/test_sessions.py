"""Two people on one server at the same moment, in two real browser contexts: neither ever sees the other's data.

Both upload a different ratings file and press "Load these files" before either load has
finished, then both train a different fast model at the same time. Each must then see only its
own data set (sidebar caption, Compare's CSV, Explore's users), a reload of each must bring back
its own session, and one model that raises (BPR with a learning rate that makes its factors NaN)
must leave the other models' results and the data as they were, with the failure shown.

The two pages are driven alternately from one thread: Playwright's sync API is not thread-safe,
and each action returns as soon as the browser has sent it, so the server handles both sessions'
script runs at once.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_dashboard import LONG, SHORT, go, no_exception, wait_idle

TIMED = ("fit_seconds", "score_seconds")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"  # as conftest.py


@pytest.fixture()
def club_ratings(tmp_path):
    """A second, different data set: 25 users with string ids (u501…), 30 items, integer stars, no items file."""
    rng = np.random.default_rng(11)
    rows = []
    for user in range(501, 526):
        for item in rng.choice(30, size=rng.integers(6, 12), replace=False) + 1:
            rows.append((f"u{user}", f"i{item}", int(rng.integers(1, 6)), 1_600_000_000 + int(rng.integers(0, 10**7))))
    path = tmp_path / "club_ratings.csv"
    pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"]).to_csv(path, index=False)
    return path


@pytest.fixture()
def two_pages(browser, request):
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in range(2)]
    pages = [context.new_page() for context in contexts]
    yield pages
    if getattr(request.node, "call_failed", False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name, page in zip("ab", pages):
            page.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}-{name}.png"), full_page=True)
    for context in contexts:
        context.close()


def sidebar_caption(page, prefix: str) -> str:
    sidebar = page.locator('[data-testid="stSidebar"]')
    return sidebar.locator('[data-testid="stCaptionContainer"]').filter(has_text=prefix).first.inner_text()


def pick_models(page, names: tuple[str, ...]) -> None:
    """Replace the Train page's default selection by ``names``."""
    models = page.locator('[data-testid="stMultiSelect"]').first
    models.wait_for(timeout=SHORT)
    models.get_by_role("button", name="Clear all").click()
    wait_idle(page)
    for name in names:
        models.click()
        page.keyboard.type(name)
        page.get_by_role("option").filter(has_text=re.compile(rf"^{re.escape(name)}\b")).first.click()
        page.keyboard.press("Escape")
        wait_idle(page)


def compare_csv(page) -> pd.DataFrame:
    go(page, "Compare")
    button = page.get_by_role("button", name=re.compile("Download CSV"))
    button.wait_for(timeout=SHORT)
    with page.expect_download(timeout=SHORT) as download:
        button.click()
    with open(download.value.path(), "rb") as handle:
        return pd.read_csv(io.BytesIO(handle.read()))


def metric_values(frame: pd.DataFrame) -> pd.DataFrame:
    """The measured numbers without the timings (which differ run to run)."""
    kept = frame[~frame["metric"].isin(TIMED)]
    return kept[["model", "fold", "metric", "k", "bucket", "value"]].sort_values(
        ["model", "fold", "metric", "k", "bucket"]).reset_index(drop=True)


def test_two_browsers_upload_and_train_at_once_and_never_see_each_other(two_pages, server_url, movielens_files,
                                                                        club_ratings):
    a, b = two_pages
    ratings, movies = movielens_files
    for page in (a, b):
        page.goto(server_url)
    for page in (a, b):
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LONG)  # the sample, loaded
        page.get_by_role("tab", name=re.compile("Upload your files")).click()

    # ---- both upload at once: a's ratings, b's ratings, a's movies; then both "Load" clicks back to back
    inputs = {page: page.locator('[data-testid="stFileUploader"] input[type="file"]') for page in (a, b)}
    inputs[a].nth(0).set_input_files(str(ratings))
    inputs[b].nth(0).set_input_files(str(club_ratings))
    a.get_by_text("Detected:").first.wait_for(timeout=SHORT)
    inputs[a].nth(1).set_input_files(str(movies))
    a.get_by_text("Detected:").nth(1).wait_for(timeout=SHORT)
    b.get_by_text("Detected:").first.wait_for(timeout=SHORT)
    for page in (a, b):
        wait_idle(page)
    a.get_by_role("button", name=re.compile("Load these files")).click()
    b.get_by_role("button", name=re.compile("Load these files")).click()
    a.get_by_text(re.compile(r"Loaded .*40 users")).wait_for(timeout=LONG)
    b.get_by_text(re.compile(r"Loaded .*25 users")).wait_for(timeout=LONG)

    # ---- both train a different fast model at once (popular is the reference in both)
    own = {a: ("popular", "ease"), b: ("popular", "item-knn-cosine")}
    for page in (a, b):
        go(page, "Train")
        pick_models(page, own[page])
    for page in (a, b):
        page.get_by_role("button", name=re.compile("Train and evaluate")).click()
    for page in (a, b):
        page.get_by_text(re.compile("Results ready for")).wait_for(timeout=LONG)
        wait_idle(page)
        no_exception(page)

    # ---- each sees its own data and its own results only
    data_of = {page: sidebar_caption(page, "Data:") for page in (a, b)}
    assert re.search(r"Data: movies ratings · 40 users · 60 items", data_of[a]), data_of[a]
    assert re.search(r"Data: club_ratings · 25 users · 30 items", data_of[b]), data_of[b]
    trained_of = {page: sidebar_caption(page, "Trained:") for page in (a, b)}
    assert "ease" in trained_of[a] and "item-knn-cosine" not in trained_of[a], trained_of[a]
    assert "item-knn-cosine" in trained_of[b] and "ease" not in trained_of[b], trained_of[b]

    results = {page: compare_csv(page) for page in (a, b)}
    no_exception(a)
    assert set(results[a]["model"]) == {"popular", "ease"}
    assert set(results[b]["model"]) == {"popular", "item-knn-cosine"}
    assert set(results[a]["dataset"]) == {"movies ratings"} and set(results[b]["dataset"]) == {"club_ratings"}
    assert results[a]["data_fingerprint"].nunique() == results[b]["data_fingerprint"].nunique() == 1
    assert results[a]["data_fingerprint"][0] != results[b]["data_fingerprint"][0]

    # Explore's user picker lists this session's users only: a's are 1…40, b's u501…u525.
    for page, first, own_id in ((a, "user 1 ", r"user \d+ "), (b, "user u501", r"user u5\d\d ")):
        go(page, "Explore")
        picker = page.get_by_role("combobox", name="User", exact=True)
        picker.wait_for(timeout=SHORT)
        assert picker.input_value().startswith(first), picker.input_value()
        picker.click()
        page.get_by_role("option").first.wait_for(timeout=SHORT)
        shown = page.get_by_role("option").all_inner_texts()
        assert shown and all(re.match(own_id, option) for option in shown), shown
        page.keyboard.press("Escape")
        no_exception(page)

    # ---- a reload of each restores its own session (different tokens, same captions)
    tokens = {page: re.search(r"[?&]s=([A-Za-z0-9_-]+)", page.url).group(1) for page in (a, b)}
    assert tokens[a] != tokens[b]
    for page in (a, b):
        page.reload()
    for page in (a, b):
        page.get_by_role("heading", name="Explore", exact=True).first.wait_for(timeout=LONG)
        wait_idle(page)
        no_exception(page)
        assert sidebar_caption(page, "Data:") == data_of[page]
        assert sidebar_caption(page, "Trained:") == trained_of[page]

    # ---- one model that raises leaves the others' results and the data intact, the failure shown
    go(a, "Train")
    pick_models(a, ("popular", "ease", "bpr"))
    a.get_by_role("tab", name="bpr", exact=True).click()
    rate = a.get_by_role("spinbutton", name="learning_rate", exact=True)
    rate.fill("1.0")
    rate.press("Enter")
    wait_idle(a)
    a.get_by_role("button", name=re.compile("Train and evaluate")).click()
    # The earlier "Results ready" stays on screen while this training runs: wait for the new outcome.
    failure = a.locator('[data-testid="stAlertContentError"]').filter(has_text="bpr")
    failure.first.wait_for(timeout=LONG)
    wait_idle(a)
    no_exception(a)
    assert failure.count() == 1, "bpr's failure is shown once on the Train page"
    assert re.search(r"bpr failed: .*NaN.*The other models keep their results", failure.first.inner_text()), \
        failure.first.inner_text()
    assert a.get_by_text(re.compile(r"Results ready for popular, ease \(2 reused unchanged\)")).count() == 1
    assert sidebar_caption(a, "Data:") == data_of[a]
    assert sidebar_caption(a, "Trained:") == trained_of[a]

    after = compare_csv(a)
    assert a.locator('[data-testid="stAlertContentError"]').filter(has_text="bpr failed and is not shown").count() == 1
    pd.testing.assert_frame_equal(metric_values(after), metric_values(results[a]))
    no_exception(a)

    # b never saw any of it
    b.reload()
    b.get_by_role("heading", name="Explore", exact=True).first.wait_for(timeout=LONG)
    wait_idle(b)
    assert sidebar_caption(b, "Data:") == data_of[b]
    assert sidebar_caption(b, "Trained:") == trained_of[b]
