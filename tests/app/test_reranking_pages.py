"""AppTest: Compare's trade-off section and the re-rank control on Explore and Cold start."""
from __future__ import annotations

import json

import numpy as np

from app_helpers import texts


def test_compare_draws_the_tradeoff_curve_with_labelled_points(trained):
    at = trained.switch_page("pages/compare.py").run()
    assert not at.exception and not at.error
    assert "Trade-off: accuracy against diversity" in [s.value for s in at.subheader]
    import pandas as pd

    runs = at.session_state["runs"]
    table = pd.concat([runs[key].table for key in at.session_state["results"].keys])
    ndcg = table[(table["metric"] == "ndcg") & (table["k"] == 10) & (table["bucket"] == "all")]
    assert at.selectbox(key="tradeoff_model").value == ndcg.groupby("model")["value"].mean().idxmax()
    at.selectbox(key="tradeoff_model").set_value("svd").run()
    at.selectbox(key="tradeoff_reranker").set_value("mmr").run()
    assert not at.exception and not at.error
    # The spec is JSON: plotly writes "λ" as \u03bb unless orjson is installed (CI has none), so read it decoded.
    specs = [json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("plotly_chart")]
    spec = next(s for s in specs if "NDCG@" in s and "mmr re-ranking" in s)
    assert "λ=1" in spec and "λ=0" in spec  # labelled points, the ends included
    sentence = next(t for t in texts(at.markdown) if "own lists (λ = 1)" in t)
    assert "to λ = 0" in sentence and "Diversity goes from" in sentence
    at.selectbox(key="tradeoff_reranker").set_value("calibrated").run()
    assert at.selectbox(key="tradeoff_metric_calibrated").value == "calibration_kl"  # the metric it moves
    assert not at.exception and not at.error


def test_the_rerank_slider_changes_the_same_users_list_on_explore(trained):
    at = trained.switch_page("pages/explore.py").run()
    user = at.selectbox(key="explore_user").value
    before = at.dataframe[1].value.copy()
    at.selectbox(key="explore_reranker").set_value("mmr").run()
    at.slider(key="explore_rerank_mmr").set_value(0.0).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="explore_user").value == user
    after = at.dataframe[1].value
    assert list(after.columns) == list(before.columns)
    assert (after.to_numpy() != before.to_numpy()).any()  # the lists visibly change
    assert (after.iloc[0].to_numpy() == before.iloc[0].to_numpy()).all()  # λ = 0 still starts with the best item
    at.selectbox(key="explore_reranker").set_value("calibrated").run()
    at.slider(key="explore_rerank_calibrated").set_value(0.9).run()
    assert not at.exception and not at.error
    assert any("Calibration KL of this user's list" in c for c in texts(at.caption))
    at.selectbox(key="explore_reranker").set_value("none").run()
    assert (at.dataframe[1].value.to_numpy() == before.to_numpy()).all()  # back to the models' own lists


def test_the_rerank_slider_applies_to_cold_start_answers(trained):
    at = trained.switch_page("pages/cold_start.py").run()
    data = at.session_state["dataset"]
    items = list(np.argsort(-data.item_counts)[:3])
    at.multiselect(key="cold_items").set_value(items).run()
    next(b for b in at.button if b.key == "cold_go_ratings").click().run()
    before = at.dataframe[0].value.copy()
    at.selectbox(key="cold_reranker").set_value("popularity").run()
    at.slider(key="cold_rerank_popularity").set_value(2.0).run()
    assert not at.exception and not at.error
    assert (at.dataframe[0].value.to_numpy() != before.to_numpy()).any()
