"""One visitor's whole path through the real server in Chromium: upload, train, compare, look inside.

Pages are reached through the sidebar (client-side navigation keeps the
session, as a person clicking would). Every page is screenshotted to
artifacts/screenshots/ and checked for exceptions shown in the page.
"""
from __future__ import annotations

import re



LONG = 180_000  # ms: training on a CPU runner
SHORT = 30_000


def no_exception(page) -> None:
    page.wait_for_timeout(300)
    shown = page.locator('[data-testid="stException"]')
    assert shown.count() == 0, f"exception shown in the page: {shown.first.inner_text()[:500]}"


def wait_idle(page, timeout: int = LONG) -> None:
    """Until the script run is over.

    The app root's ``data-test-script-state`` is ``running`` for the whole run (Streamlit 1.67 shows no
    'Running…' status widget on a run shorter than a few seconds, so that alone returned mid-run).
    """
    page.wait_for_timeout(400)
    page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   const widget = document.querySelector('[data-testid="stStatusWidget"]');
                   return (!app || app.getAttribute('data-test-script-state') !== 'running')
                          && (!widget || !widget.innerText.includes('Running')); }""",
        timeout=timeout,
    )


def choose(page, widget, query: str, close: bool = False) -> None:
    """Type into a select widget and click the first matching option (``close``: a multiselect stays open)."""
    widget.click()
    page.keyboard.type(query)
    page.get_by_role("option").filter(has_text=query).first.click()
    if close:
        page.keyboard.press("Escape")
    wait_idle(page)


def go(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=SHORT)
    wait_idle(page)


def shoot(page, screenshots, name: str) -> None:
    """Screenshot of the whole page: Streamlit scrolls inside its main pane, so grow the viewport to fit it."""
    wait_idle(page)
    height = page.evaluate(
        """() => { const main = document.querySelector('[data-testid="stMain"]');
                   return main ? main.scrollHeight : document.body.scrollHeight; }""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": int(min(max(height, size["height"]), 8000))})
    page.wait_for_timeout(1200)  # let plotly redraw at the new size
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)
    page.wait_for_timeout(300)


def test_upload_train_compare_and_look_inside(page, server_url, movielens_files, screenshots):
    ratings, movies = movielens_files
    page.goto(server_url)
    page.get_by_role("heading", name="Data", exact=True).wait_for(timeout=SHORT)
    # The bundled sample is loaded on the first visit.
    page.get_by_text("Users", exact=True).first.wait_for(timeout=LONG)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=SHORT)
    no_exception(page)
    shoot(page, screenshots, "1-data-sample")

    # ---- upload MovieLens-latest files
    page.get_by_role("tab", name=re.compile("Upload your files")).click()
    inputs = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    inputs.nth(0).set_input_files(str(ratings))
    page.get_by_text("Detected:").first.wait_for(timeout=SHORT)
    inputs.nth(1).set_input_files(str(movies))
    page.get_by_text("Detected:").nth(1).wait_for(timeout=SHORT)
    wait_idle(page)
    no_exception(page)
    shoot(page, screenshots, "2-data-upload-mapping")
    page.get_by_role("button", name=re.compile("Load these files")).click()
    page.get_by_text(re.compile(r"Loaded .*40 users")).wait_for(timeout=LONG)
    wait_idle(page)
    no_exception(page)
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text().strip() == "40"
    shoot(page, screenshots, "3-data-uploaded")

    # ---- train
    go(page, "Train")
    no_exception(page)
    page.locator('[data-testid="stMultiSelect"]').first.wait_for(timeout=SHORT)
    for name in ("svd", "knn-basic", "coclustering", "content-tfidf"):
        assert page.locator('[data-testid="stMultiSelect"]').first.get_by_text(name, exact=False).count() > 0, name
    shoot(page, screenshots, "4-train-settings")
    page.get_by_role("button", name=re.compile("Train and evaluate")).click()
    page.get_by_text(re.compile("Results ready for")).wait_for(timeout=LONG)
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text(re.compile("failed")).count() == 0
    shoot(page, screenshots, "5-train-done")

    # ---- compare
    go(page, "Compare")
    page.get_by_text("Results table").wait_for(timeout=SHORT)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=SHORT)
    page.locator('[data-testid="stPlotlyChart"]').nth(2).wait_for(timeout=SHORT)  # bars, K curves, buckets…
    # 40 users: too few with a relevant test item for a verdict, and the reading says so first (issue 21).
    assert page.get_by_text(re.compile("Too little data to compare models: only \\d+ users have a relevant")).count() == 1
    assert page.get_by_text(re.compile("Reference: .*popular")).count() == 0
    no_exception(page)
    shoot(page, screenshots, "6-compare")

    # ---- embeddings
    go(page, "Embeddings")
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LONG)
    no_exception(page)
    choose(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="Find a title"), "Star")
    page.get_by_text("Nearest neighbours of").wait_for(timeout=SHORT)
    no_exception(page)
    shoot(page, screenshots, "7-embeddings")

    # ---- cold start: rate two items
    go(page, "Cold start")
    picker = page.locator('[data-testid="stMultiSelect"]').first
    for query in ("Star", "Ghost"):
        choose(page, picker, query, close=True)
    assert page.locator('[data-testid="stSlider"]').count() == 2
    page.get_by_role("button", name=re.compile("Recommend for this new user")).click()
    page.get_by_text("Each model's answer").wait_for(timeout=LONG)
    wait_idle(page)
    no_exception(page)
    assert page.locator('[data-testid="stDataFrame"]').count() >= 2
    shoot(page, screenshots, "8-cold-start")

    # ---- explore
    go(page, "Explore")
    page.get_by_text("What each model recommends").wait_for(timeout=SHORT)
    page.locator('[data-testid="stDataFrame"]').nth(1).wait_for(timeout=SHORT)
    no_exception(page)
    shoot(page, screenshots, "9-explore")

    # ---- a second tab of the same browser has its own session: the sample, nothing trained
    other = page.context.new_page()
    other.goto(server_url)
    other.locator('[data-testid="stSidebar"]').get_by_text("nothing yet").wait_for(timeout=LONG)
    assert other.locator('[data-testid="stSidebar"]').get_by_text(re.compile("sample · 600 users")).count() == 1
    assert page.locator('[data-testid="stSidebar"]').get_by_text(re.compile("40 users")).count() == 1
    other.close()


def trained_caption(page) -> str:
    sidebar = page.locator('[data-testid="stSidebar"]')
    return sidebar.locator('[data-testid="stCaptionContainer"]').filter(has_text="Trained:").first.inner_text()


def test_a_class_on_the_bundled_sample(page, server_url, screenshots):
    """The lecture path: open the app, train the default models on the sample, read the comparison."""
    page.goto(server_url)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LONG)
    go(page, "Train")
    page.get_by_role("button", name=re.compile("Train and evaluate")).click()
    page.get_by_text(re.compile("Results ready for")).wait_for(timeout=LONG)
    no_exception(page)
    assert page.get_by_text(re.compile("failed")).count() == 0

    # Nothing lost on reload: the URL's session token brings the trained models back without a refit,
    # and a stranger with another token sees none of them.
    trained = trained_caption(page)
    assert "ease" in trained and "nothing yet" not in trained
    assert re.search(r"[?&]s=[A-Za-z0-9_-]{24,}", page.url), page.url
    page.reload()
    page.get_by_role("heading", name="Train", exact=True).first.wait_for(timeout=SHORT)
    wait_idle(page)
    no_exception(page)
    assert trained_caption(page) == trained
    page.get_by_text(re.compile("Results ready for")).wait_for(timeout=SHORT)
    stranger = page.context.browser.new_context().new_page()
    stranger.goto(server_url + "/train?s=" + "B" * 32)
    stranger.locator('[data-testid="stSidebar"]').get_by_text("nothing yet").wait_for(timeout=LONG)
    stranger.context.close()

    go(page, "Compare")
    page.locator('[data-testid="stPlotlyChart"]').nth(3).wait_for(timeout=SHORT)
    no_exception(page)
    assert page.get_by_text(re.compile("Reference: .*popular")).count() == 1  # 600 users: enough for a verdict
    shoot(page, screenshots, "sample-1-compare")

    go(page, "Embeddings")
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LONG)
    choose(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="Colour by"), "genre truth")
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LONG)
    no_exception(page)
    shoot(page, screenshots, "sample-2-embeddings")

    go(page, "Cold start")
    page.get_by_role("tab", name=re.compile("Demographics")).click()
    page.get_by_role("button", name=re.compile("Recommend for these attributes")).wait_for(timeout=SHORT)
    choose(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="occupation"), "student")
    page.get_by_role("button", name=re.compile("Recommend for these attributes")).click()
    page.get_by_text("Each model's answer").wait_for(timeout=LONG)
    no_exception(page)
    shoot(page, screenshots, "sample-3-cold-start-demographics")

    go(page, "Explore")
    page.get_by_role("tab", name=re.compile("An item")).click()
    page.get_by_text("Each model's own notion of similar").wait_for(timeout=SHORT)
    no_exception(page)
    shoot(page, screenshots, "sample-4-explore-item")
