"""How the dashboard writes values and user text: one home for every page.

Pure functions (no streamlit), unit-tested in ``tests/app/test_fmt.py``:

* :func:`text` -- a string from a file (title, genre, id, column or file name,
  model label) made literal for any Streamlit call that reads Markdown
  (``st.markdown``, captions, alerts, headings, widget labels, tab names).
* :func:`percent`, :func:`count`, :func:`plural` -- the same value prints the
  same on every page.
* :func:`rating_step`, :func:`hit_rule` -- the relevance threshold as it is
  applied to the rating values the data can hold ("4 or more on 1–5").
"""
from __future__ import annotations

import math
import string
from typing import Iterable

import numpy as np

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and an escaped one is always
# literal: no emphasis, link, autolink (``http\:``, ``www\.``), HTML tag, entity (``\&amp;``), LaTeX
# (``\$``), table pipe, heading or Streamlit directive (``\:red\[x\]``) can start from it.
_PUNCTUATION = frozenset(string.punctuation)
# Some rewrites run on the *parsed* text, after the escapes are gone: Streamlit's ``:name:`` emoji and
# ``:material/name:`` icons, and GFM's autolinks of bare ``www.x.y``, ``http://…`` and ``a@b.c``
# (checked in Chromium: an escaped ``www\.evil\.example`` still becomes a link). A word joiner
# (U+2060: invisible, zero width, not a space) after each colon and at-sign and between ``www`` and its
# dot breaks those patterns while the text reads the same.
_WORD_JOINER = "\u2060"


def text(value: object) -> str:
    """User text made literal for Markdown-reading Streamlit calls.

    Line breaks and tabs become spaces (a title or a label is one line; a blank line would start a new
    paragraph, four leading spaces a code block).
    """
    out: list[str] = []
    for char in str(value):
        if char in _PUNCTUATION:
            if char == "." and out and out[-1] in "wW":
                out.append(_WORD_JOINER)
            out.append("\\" + char)
            if char in ":@":
                out.append(_WORD_JOINER)
        elif char in "\r\n\t\v\f":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


# ------------------------------------------------------------------ numbers
def percent(value: float | None) -> str:
    """A share as a percentage, written the same wherever it appears.

    One decimal, dropped when it is zero ("20%", "0.5%", "12.3%"); shares below 0.1% keep two significant
    digits so that a sparse data set's density is not "0%"; exactly zero is "0%".
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    share = 100.0 * float(value)
    if share == 0:
        return "0%"
    if abs(share) < 0.1:
        digits = 1 - int(math.floor(math.log10(abs(share))))
        return f"{share:.{digits}f}%"
    rounded = round(share, 1)
    return f"{rounded:,.0f}%" if rounded == round(rounded) else f"{rounded:,.1f}%"


def count(value: float) -> str:
    """A whole number with thousands separators: ``12,345``."""
    return f"{int(round(float(value))):,}"


def plural(n: float, word: str, many: str | None = None) -> str:
    """``1 rating``, ``2 ratings``, ``1,234 users`` (``many`` for irregular plurals)."""
    n = int(round(float(n)))
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def seconds(value: float) -> str:
    """A duration for a person: ``0.4 s``, ``12 s``, ``3 min``."""
    if value < 10:
        return f"{value:.1f} s"
    if value < 90:
        return f"{value:.0f} s"
    return f"{value / 60:.0f} min"


# ------------------------------------------------------------------ ratings
def rating_step(values: Iterable[float] | np.ndarray) -> float:
    """The step between the rating values the data uses: 1 for whole stars, 0.5 for half stars, else 0.

    0 means ratings are continuous; then a threshold is shown as it is.
    """
    ratings = np.asarray(values, dtype=float)
    ratings = ratings[np.isfinite(ratings)]
    if not len(ratings):
        return 1.0
    for step in (1.0, 0.5, 0.25, 0.1):
        scaled = ratings / step
        if np.allclose(scaled, np.round(scaled), atol=1e-6):
            return step
    return 0.0


def number(value: float) -> str:
    """A rating value: ``4``, ``3.5``, ``7.75``."""
    return f"{value:g}"


def hit_rule(threshold: float, scale: tuple[float, float], step: float) -> str:
    """The relevance rule as it is applied: ``"4 or more on 1–5"``.

    Ratings are compared with ``>=``, so on a grid of ``low + k * step`` the threshold 3.875 of a
    0.5–5 scale keeps 4, 4.5 and 5: the rule reads "4 or more", never "3.875 or more".
    """
    low, high = scale
    applied = threshold
    if step > 0:
        k = math.ceil((threshold - low) / step - 1e-9)
        applied = min(high, low + k * step)
    return f"{number(round(applied, 6))} or more on {number(low)}–{number(high)}"
