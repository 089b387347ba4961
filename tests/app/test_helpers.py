"""The dashboard's pure helpers: the plain-language reading, best-value marks, escaping of user text."""
from __future__ import annotations

import pandas as pd

from recsys_ui import charts, reading
from recsys_ui.ui import md


def tidy(rows):
    return pd.DataFrame(rows, columns=["model", "fold", "metric", "k", "bucket", "value"]).astype({"k": "Int64"})


TABLE = tidy([
    ("popular", 0, "ndcg", 10, "all", 0.10), ("svd", 0, "ndcg", 10, "all", 0.08), ("knn", 0, "ndcg", 10, "all", 0.12),
    ("svd", 0, "rmse", None, "all", 0.90), ("knn", 0, "rmse", None, "all", 0.95),
    ("popular", 0, "median_popularity", 10, "all", 300.0), ("svd", 0, "median_popularity", 10, "all", 120.0),
    ("knn", 0, "median_popularity", 10, "all", 4.0),
])


def test_reading_names_winners_reference_and_obscure_lists():
    sentences = reading.reading(TABLE, k=10, n_folds=1)
    text = " ".join(sentences)
    assert "Best top-10 lists (NDCG@10): **knn** with 0.120, ahead of **popular** (0.100)." in sentences
    assert "lowest RMSE): **svd** with 0.900 stars. It is not the model with the best top-10 lists" in text
    assert "NDCG@10 = 0.100; 1 of 2 models beat it; **svd** does not." in text
    assert "**popular**'s top 10 has 300 training ratings; in **knn**'s only 4" in text
    assert "single train/test split" in text


def test_reading_asks_for_the_reference_when_it_is_missing():
    text = " ".join(reading.reading(TABLE[TABLE.model != "popular"], k=10))
    assert "Train **popular** too" in text


def test_best_per_column_respects_direction_and_skips_descriptive_metrics():
    wide = pd.DataFrame({"rmse": [0.9, 0.95], "ndcg@10": [0.08, 0.12], "median_popularity@10": [120, 4]},
                        index=["svd", "knn"])
    assert reading.best_per_column(wide) == {"rmse": ["svd"], "ndcg@10": ["knn"]}


def test_user_text_is_shown_literally():
    # A word joiner (U+2060) after the colon keeps Streamlit's :icon: and autolink rewrites off it.
    assert md("Price: $5 *not* [a link](x)") == "Price\\:\u2060 \\$5 \\*not\\* \\[a link\\]\\(x\\)"
    escaped = charts.hover_text(pd.Series(["<b>Bold</b> & co"]))
    assert escaped.iloc[0] == "&lt;b&gt;Bold&lt;/b&gt; &amp; co"
