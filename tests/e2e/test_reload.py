"""Nothing lost on reload, in the real browser: the URL's session token brings data, models and results back."""
from __future__ import annotations

import re

from test_dashboard import LONG, SHORT, go, no_exception, wait_idle


def trained_caption(page) -> str:
    sidebar = page.locator('[data-testid="stSidebar"]')
    return sidebar.locator('[data-testid="stCaptionContainer"]').filter(has_text="Trained:").first.inner_text()


def test_a_reload_keeps_the_trained_models_and_a_stranger_sees_none(page, browser, server_url):
    page.goto(server_url)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LONG)
    go(page, "Train")
    page.get_by_role("button", name=re.compile("Train and evaluate")).click()
    page.get_by_text(re.compile("Results ready for")).wait_for(timeout=LONG)
    wait_idle(page)
    trained = trained_caption(page)
    assert "ease" in trained and "nothing yet" not in trained
    assert re.search(r"[?&]s=[A-Za-z0-9_-]{24,}", page.url), page.url

    page.reload()
    page.get_by_role("heading", name="Train", exact=True).first.wait_for(timeout=SHORT)
    wait_idle(page)
    no_exception(page)
    assert trained_caption(page) == trained
    page.get_by_text(re.compile("Results ready for")).wait_for(timeout=SHORT)  # no refit needed
    go(page, "Compare")
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=SHORT)
    no_exception(page)

    # Another browser with the bare address (or any other token) starts its own session.
    stranger = browser.new_context().new_page()
    stranger.goto(server_url + "/train?s=" + "B" * 32)
    stranger.locator('[data-testid="stSidebar"]').get_by_text("nothing yet").wait_for(timeout=LONG)
    stranger.context.close()
