"""One way to write user text, shares, counts, plurals, the hit rule and formulas; a palette people can tell apart."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt

from recsys_core.dataset import default_relevance_threshold
from recsys_core.models import REGISTRY
from recsys_ui import charts, fmt, lists, model_forms, reading, ui

ATTACKS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '[x](http://evil.example)', '**bold**',
           '=HYPERLINK("http://evil.example")', 'http://evil.example', 'www.evil.example', 'a@evil.example',
           ':material/home:', ':red[red]', '$x^2$', '&amp; &lt;b&gt;', 'back\\slash', '# heading', '1. list',
           '![i](x)', '`code`', '~~x~~', '| a | b |', 'line\n\nnext']


@pytest.mark.parametrize("attack", ATTACKS)
def test_user_text_renders_as_the_same_text_in_commonmark(attack):
    """CommonMark (markdown-it with GFM tables and strikethrough; autolinks are checked in Chromium) makes no markup of escaped text."""
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(fmt.text(attack))
    assert re.fullmatch(r"<p>[^<]*</p>\n", html), html
    shown = html[3:-5].replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    assert shown.replace("\u2060", "") == attack.replace("\n", " ")


def test_user_text_breaks_the_patterns_rewritten_after_parsing():
    # Streamlit's :icon:/:emoji: and GFM's autolinks match the parsed text: a word joiner breaks each.
    assert ":\u2060" in fmt.text(":material/home:") and "@\u2060" in fmt.text("a@b.c")
    assert "www\u2060\\." in fmt.text("www.evil.example") and "http\\:\u2060" in fmt.text("http://x")
    assert fmt.text("Amélie (2001)") == "Amélie \\(2001\\)"
    assert ui.md is not None and ui.md("*x*") == fmt.text("*x*")


def test_percent_is_one_rule_everywhere():
    assert [fmt.percent(v) for v in (0, 0.005, 0.2, 0.123, 0.1234, 1.0, 0.00042, 0.0000123)] == [
        "0%", "0.5%", "20%", "12.3%", "12.3%", "100%", "0.042%", "0.0012%"]
    assert fmt.percent(float("nan")) == "–"
    # The Compare table and the reading print a share the same way (the bug: "0%" here, "0.5%" there).
    assert reading.format_value("coverage@10", 0.005) == fmt.percent(0.005) == ui.percent(0.005)


def test_counts_and_plurals():
    assert fmt.count(1234567) == "1,234,567"
    assert [fmt.plural(n, "rating") for n in (0, 1, 2, 1500)] == ["0 ratings", "1 rating", "2 ratings", "1,500 ratings"]
    assert fmt.plural(np.int64(1), "match", "matches") == "1 match" and fmt.plural(3, "query", "queries") == "3 queries"


@pytest.mark.parametrize("values, scale, expected", [
    ([1, 2, 3, 4, 5], (1.0, 5.0), "4 or more on 1–5"),
    ([0.5, 1.5, 3.5, 5.0], (0.5, 5.0), "4 or more on 0.5–5"),  # threshold 3.875, applied as >= 3.875
    ([1, 7, 10], (1.0, 10.0), "8 or more on 1–10"),  # 7.75
    ([0.0, 0.37, 1.0], (0.0, 1.0), "0.75 or more on 0–1"),  # continuous: shown as it is
])
def test_hit_rule_is_written_as_it_is_applied(values, scale, expected):
    step = fmt.rating_step(np.array(values, dtype=float))
    assert fmt.hit_rule(default_relevance_threshold(scale), scale, step) == expected


def test_rating_step():
    assert fmt.rating_step([1, 2, 5]) == 1.0 and fmt.rating_step([0.5, 4.5]) == 0.5
    assert fmt.rating_step([0.37, 0.5]) == 0.0 and fmt.rating_step([]) == 1.0


def test_every_formula_is_stacked_into_parts_that_fit():
    for name, cls in REGISTRY.items():
        if not cls.formula:
            continue
        lines = model_forms.formula_lines(cls.formula)
        assert "".join(lines).replace(",", "").replace(" ", "") in cls.formula.replace(",", "").replace(" ", "") \
            or len(lines) > 1, name
        for line in lines:
            assert line.count("{") == line.count("}"), (name, line)
            # ~110 LaTeX characters render within the half-width column at 1400 px.
            assert len(re.sub(r"\\[a-zA-Z]+|[{}_^ ]", "x", line)) < 130, (name, line)
    knn = model_forms.formula_lines(REGISTRY["knn-baseline"].formula)
    assert len(knn) >= 2 and knn[-1] == r"b_{ui} = \mu + b_u + b_i"
    assert model_forms.stacked_formula(REGISTRY["global-mean"].formula) == REGISTRY["global-mean"].formula
    assert model_forms.stacked_formula(REGISTRY["knn-baseline"].formula).startswith(r"\begin{gathered}")


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def test_palette_is_colour_blind_safe_and_large_enough():
    assert len(charts.PALETTE) >= 12 and len(set(charts.PALETTE)) == len(charts.PALETTE)
    assert charts.PALETTE[:7] == charts.OKABE_ITO
    # Every pair differs clearly (Euclidean RGB distance): no two genres share a near-identical hue.
    colours = [_rgb(c) for c in charts.PALETTE]
    closest = min(np.linalg.norm(a - b) for i, a in enumerate(colours) for b in colours[i + 1:])
    assert closest > 40


def test_embedding_map_lumps_genres_beyond_the_palette_into_other():
    n = 60
    frame = pd.DataFrame({"x": np.arange(n, dtype=float), "y": np.zeros(n), "item_idx": range(n),
                          "title": ["<b>t</b>"] * n, "popularity": [1] * n, "genres": ["a|b"] * n,
                          "genre": [f"g{i % 20}" for i in range(n)]})
    figure = charts.embedding_scatter(frame, "genre", "items")
    names = [trace.name for trace in figure.data]
    assert len(names) == len(charts.PALETTE) and names[-1] == charts.OTHER
    assert figure.data[-1].marker.color == charts.OTHER_COLOUR
    assert len({trace.marker.color for trace in figure.data}) == len(figure.data)
    assert "rated by 1 user<br>" in figure.data[0].customdata[0][2]


def test_side_by_side_wraps_at_three_models():
    assert lists.OVERVIEW_COLUMNS == 3
