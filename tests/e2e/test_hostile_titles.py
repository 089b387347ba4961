"""Titles that try to be markup stay text on every page, in the real server and a real Chromium.

A ratings + items upload whose titles are a script tag, an image with onerror, a Markdown link, bold
Markdown and a spreadsheet formula; quick models; every page visited, the titles put where each page shows
them (cold-start slider labels, the Explore heading, the Embeddings neighbours heading). The rendered DOM
must hold no link, image or bold element made from them, the titles must be readable as written, and no
dialog (alert) may open.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from test_dashboard import LONG, SHORT, go, no_exception, wait_idle

HOSTILE = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '[x](http://evil.example)', '**bold**',
           '=HYPERLINK("http://evil.example")']
#: What must never appear in the page: markup made from the titles.
FORBIDDEN = (re.compile(r'<a [^>]*href="https?://evil\.example'), re.compile(r'<img [^>]*src="x"'),
             re.compile(r"<strong>bold</strong>"), re.compile(r"<script>alert"))


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    rng = np.random.default_rng(11)
    folder = tmp_path_factory.mktemp("hostile")
    titles = HOSTILE + [f"Plain film {i}" for i in range(25)]
    genres = ["Drama", "Comedy|**Genre**", "Horror", "Sci-Fi"]
    items = pd.DataFrame({"movieId": range(1, len(titles) + 1), "title": titles,
                          "genres": [genres[i % len(genres)] for i in range(len(titles))]})
    rows = []
    for user in range(1, 31):
        # Every hostile item is rated by many users: it shows up in popular lists and as a neighbour.
        chosen = set(rng.choice(np.arange(6, len(titles) + 1), size=8, replace=False)) | {1, 2, 3, 4, 5}
        for item in sorted(chosen):
            rows.append((user, int(item), float(rng.integers(1, 6)), 1_500_000_000 + user * 1000 + int(item)))
    ratings = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    ratings_path, items_path = folder / "ratings.csv", folder / "movies.csv"
    ratings.to_csv(ratings_path, index=False)
    items.to_csv(items_path, index=False)
    return ratings_path, items_path


def assert_inert(page, dialogs, where: str) -> None:
    wait_idle(page)
    no_exception(page)
    html = page.content()
    for pattern in FORBIDDEN:
        assert not pattern.search(html), f"{where}: {pattern.pattern} in the page"
    assert not dialogs, f"{where}: a dialog opened: {dialogs}"


def shown_text(page) -> str:
    """The page's text as a person reads it (the invisible word joiners that break autolinks removed)."""
    return page.evaluate("() => document.body.innerText").replace("\u2060", "")


def pick(page, widget, query: str, close: bool = False) -> None:
    """Type into a select widget's input (not onto a chosen tag) and click the first matching option."""
    widget.locator("input").first.click()
    page.keyboard.type(query)
    page.get_by_role("option").filter(has_text=query).first.click()
    if close:
        page.keyboard.press("Escape")
    wait_idle(page)


def test_hostile_titles_stay_text_on_every_page(page, server_url, hostile_files):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ratings, items = hostile_files
    page.goto(server_url)
    page.get_by_role("heading", name="Data", exact=True).wait_for(timeout=SHORT)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LONG)

    # ---- Data: upload and load
    page.get_by_role("tab", name=re.compile("Upload your files")).click()
    inputs = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    inputs.nth(0).set_input_files(str(ratings))
    page.get_by_text("Detected:").first.wait_for(timeout=SHORT)
    inputs.nth(1).set_input_files(str(items))
    page.get_by_text("Detected:").nth(1).wait_for(timeout=SHORT)
    wait_idle(page)
    page.get_by_role("button", name=re.compile("Load these files")).click()
    page.get_by_text(re.compile(r"Loaded .*30 users")).wait_for(timeout=LONG)
    page.get_by_role("tab", name=re.compile("Summary")).click()
    page.locator('[data-testid="stPlotlyChart"]').nth(2).wait_for(timeout=SHORT)  # genres are drawn too
    assert_inert(page, dialogs, "Data")

    # ---- Train: popular (the reference) + ease (ranking) + svd (vectors for the Embeddings page)
    go(page, "Train")
    models = page.locator('[data-testid="stMultiSelect"]').first
    models.click()
    for _ in range(15):  # remove the default models, last first
        page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    wait_idle(page)
    for name in ("ease", "svd"):
        pick(page, models, name, close=True)
    page.get_by_role("button", name=re.compile("Train and evaluate")).click()
    page.get_by_text(re.compile("Results ready for")).wait_for(timeout=LONG)
    assert page.locator('[data-testid="stSidebar"]').get_by_text(re.compile("Trained: popular, ease, svd")).count() == 1
    assert_inert(page, dialogs, "Train")

    # ---- Compare
    go(page, "Compare")
    page.get_by_text("Results table").wait_for(timeout=SHORT)
    assert_inert(page, dialogs, "Compare")

    # ---- Embeddings: the bold title's neighbours, its name in the heading
    go(page, "Embeddings")
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LONG)
    pick(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="Find a title"), "**bold**")
    page.get_by_text("Nearest neighbours of").wait_for(timeout=SHORT)
    assert "Nearest neighbours of **bold**" in shown_text(page)
    assert_inert(page, dialogs, "Embeddings")

    # ---- Cold start: every hostile title as a slider label, then the lists
    go(page, "Cold start")
    picker = page.locator('[data-testid="stMultiSelect"]').first
    for query in ("<script>", "<img", "[x](", "**bold**", "=HYPERLINK"):
        pick(page, picker, query, close=True)
    page.locator('[data-testid="stSlider"]').nth(4).wait_for(timeout=SHORT)
    wait_idle(page)
    assert page.locator('[data-testid="stSlider"]').count() == 5
    labels = page.locator('[data-testid="stSlider"] [data-testid="stWidgetLabel"]').all_inner_texts()
    assert sorted(label.replace("\u2060", "").strip() for label in labels) == sorted(HOSTILE)
    assert_inert(page, dialogs, "Cold start (sliders)")
    page.get_by_role("button", name=re.compile("Recommend for this new user")).click()
    page.get_by_text("Each model's answer").wait_for(timeout=LONG)
    assert "who rated <script>alert(1)</script>" in shown_text(page)
    assert_inert(page, dialogs, "Cold start (answers)")

    # ---- Explore: a user's lists, then the link title as the item heading
    go(page, "Explore")
    page.get_by_text("What each model recommends").wait_for(timeout=SHORT)
    assert_inert(page, dialogs, "Explore (user)")
    page.get_by_role("tab", name=re.compile("An item")).click()
    pick(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="Item"), "[x](http")
    page.get_by_text("Each model's own notion of similar").wait_for(timeout=SHORT)
    assert "[x](http://evil.example) · rated by 30 users" in shown_text(page)
    assert_inert(page, dialogs, "Explore (item)")
