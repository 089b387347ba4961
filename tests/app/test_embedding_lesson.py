"""The Compare reading says plainly whether the embedding models beat the simple strong ones (literal tables)."""
from __future__ import annotations

import pandas as pd

from recsys_ui.reading import embedding_lesson


def table(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame([(model, 0, "ndcg", 10, "all", value) for model, value in values.items()],
                        columns=["model", "fold", "metric", "k", "bucket", "value"])


def test_no_neural_model_beating_ease_is_said_with_the_reference():
    text = embedding_lesson(table({"ease": 0.361, "als": 0.348, "ncf": 0.330, "lightgcn": 0.361}), 10,
                            {"ncf", "lightgcn"}, {"ease", "als"})
    assert text.startswith("No embedding model trained per epoch beats **ease** (0.361 NDCG@10")
    assert "untuned" in text and "Rendle" in text  # lightgcn's 0.361 is a tie, not a win


def test_a_neural_win_is_named_with_a_caution_and_tuning_is_credited():
    text = embedding_lesson(table({"ease": 0.361, "lightgcn": 0.380, "ncf": 0.30}), 10, {"lightgcn", "ncf"},
                            {"ease"}, tuned={"ease"})
    assert text.startswith("**lightgcn** beats **ease** (0.361) on NDCG@10, best **lightgcn** with 0.380")
    assert "untuned" not in text


def test_nothing_is_said_without_both_kinds():
    assert embedding_lesson(table({"ease": 0.3, "svd": 0.1}), 10, set(), {"ease"}) is None
    assert embedding_lesson(table({"ncf": 0.3}), 10, {"ncf"}, set()) is None
