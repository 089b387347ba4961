"""Compare, Embeddings, Cold start and Explore on one trained session (small MovieLens-format upload)."""
from __future__ import annotations

import pandas as pd
import pytest

from app_helpers import FAST_MODELS, new_app, plotly_charts, texts, train, upload


# ------------------------------------------------------------------ compare
def test_compare_shows_table_reading_charts_and_downloads(trained):
    at = trained.switch_page("pages/compare.py").run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table.columns)[1:] == FAST_MODELS  # first column: "better"
    assert {"RMSE", "NDCG@10", "Median popularity@10", "Fit time"} <= set(table.index)
    reading = texts(at.markdown)
    # 50 users, a 20% hold-out: 27 of them have a test rating of 4 or more. Too few for a verdict (issue 21).
    assert reading[0].startswith("- **Too little data to compare models**: only 27 users have a relevant test item")
    assert not any("Best top-10" in s or "beats it" in s or "beat it" in s for s in reading)
    assert any("NDCG@10 ranges from" in s for s in reading)
    assert any("median item in" in s or "Median popularity" in s for s in reading)
    # bars, metric vs K, user buckets, median popularity, time; a group chart; the re-ranking trade-off curve;
    # intervals and the pairwise matrix (significance)
    assert len(plotly_charts(at)) == 9
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download JSON", "Export experiment (.zip)",
                                                            "Download the metrics per group (CSV)",
                                                            "Download statistics (CSV)", "Download report (.zip)"]


def test_compare_follows_k_bucket_and_metric(trained):
    at = trained.switch_page("pages/compare.py").run()
    at.segmented_control(key="compare_k").set_value(5).run()
    assert "NDCG@5" in at.dataframe[0].value.index
    at.segmented_control(key="compare_bucket").set_value("6–20").run()
    assert not at.exception
    at.selectbox(key="compare_metric").set_value("rmse").run()
    assert not at.exception and len(plotly_charts(at)) >= 4


# ------------------------------------------------------------------ embeddings
def test_embeddings_draws_a_map_and_lists_neighbours(trained):
    at = trained.switch_page("pages/embeddings.py").run()
    assert not at.exception and not at.error
    picker = at.selectbox(key="emb_model")
    offered = [option.split("  ·  ")[0] for option in picker.options]
    assert "svd" in offered and "content-tfidf" in offered
    assert "popular" not in offered and "baseline" not in offered  # no vectors
    # Best-ranking first by the Compare table's NDCG@10, and the map opens on it (issue 21: it opened on svd).
    # (Results.table reads the runs from the running script's session state: read them here directly.)
    table = pd.concat([run.table for run in at.session_state["runs"].values()])
    k = at.session_state["compare_k"] if "compare_k" in at.session_state else 10  # the K Compare shows
    ndcg = table[(table.metric == "ndcg") & (table.k == k) & (table.bucket == "all")].groupby("model")["value"].mean()
    assert offered == sorted(offered, key=lambda m: -ndcg[m]) and picker.value == offered[0]
    assert picker.options[0] == f"{offered[0]}  ·  NDCG@{k} {ndcg[offered[0]]:.3f}"
    # A model picked by the person stays picked for the session.
    picker.set_value("svd").run()
    at.switch_page("pages/compare.py").run()
    at.switch_page("pages/embeddings.py").run()
    assert at.selectbox(key="emb_model").value == "svd"
    at.selectbox(key="emb_model").set_value(offered[0]).run()
    assert len(plotly_charts(at)) == 1
    focus = at.selectbox(key="emb_focus:items")
    first = at.session_state["dataset"].item_counts.argmax()
    focus.set_value(first).run()
    assert not at.exception
    assert any("Nearest neighbours of" in h for h in texts(at.subheader))
    neighbours = at.dataframe[0].value
    assert len(neighbours) == 10 and neighbours["similarity"].is_monotonic_decreasing


@pytest.mark.parametrize("method,kind", [("tsne", "items"), ("umap", "items"), ("pca", "users")])
def test_embeddings_other_projections_and_users(trained, method, kind):
    at = trained.switch_page("pages/embeddings.py").run()
    at.segmented_control(key="emb_kind").set_value(kind).run()
    at.segmented_control(key="emb_method").set_value(method).run()
    assert not at.exception and not at.error
    assert len(plotly_charts(at)) == 1
    if kind == "users":
        assert at.selectbox(key="emb_colour_users").options[0] == "cluster"  # no planted segments in this upload
    at.segmented_control(key="emb_kind").set_value("items").run()
    at.segmented_control(key="emb_method").set_value("pca").run()


# ------------------------------------------------------------------ cold start
def test_cold_start_from_ratings_answers_with_every_model(trained):
    at = trained.switch_page("pages/cold_start.py").run()
    assert not at.exception
    assert any("press the button" in i for i in texts(at.info))
    at.multiselect(key="cold_items").set_value([0, 1, 2]).run()
    assert len(at.slider) == 3
    next(b for b in at.button if b.key == "cold_go_ratings").click().run()
    assert not at.exception and not at.error
    answers = at.session_state["cold_answer"]["answers"]
    assert set(answers) == set(FAST_MODELS)
    overview = at.dataframe[0].value
    # At most three models per table (a fourth went off-screen at 1400 px): six models wrap to two rows.
    assert list(overview.columns) == FAST_MODELS[:3] and len(overview) == 10
    assert list(at.dataframe[1].value.columns) == FAST_MODELS[3:6]
    details = [d.value for d in at.dataframe[2:]]
    assert all("reason" in frame.columns for frame in details)


def test_cold_start_from_text_and_demographics(trained):
    at = trained.switch_page("pages/cold_start.py").run()
    at.text_area(key="cold_text").input("ghost stories and haunted houses").run()
    next(b for b in at.button if b.key == "cold_go_text").click().run()
    assert not at.exception and not at.error
    content = at.session_state["cold_answer"]["answers"]["content-tfidf"].recommendations
    assert content is not None and content["reason"].str.contains("text similarity").all()

    at.selectbox(key="cold_demo:gender").set_value("F").run()
    next(b for b in at.button if b.key == "cold_go_demo").click().run()
    assert not at.exception and not at.error
    answers = at.session_state["cold_answer"]["answers"]
    assert all(a.recommendations is not None or a.note for a in answers.values())


def test_cold_start_new_item(trained):
    at = trained.switch_page("pages/cold_start.py").run()
    at.text_area(key="cold_item_text").input("A robot on a distant planet").run()
    next(b for b in at.button if b.key == "cold_go_item").click().run()
    assert not at.exception and not at.error
    assert at.session_state["cold_answer"]["mode"] == "item"
    assert at.dataframe


# ------------------------------------------------------------------ explore
def test_explore_user_history_and_recommendations(trained):
    at = trained.switch_page("pages/explore.py").run()
    assert not at.exception and not at.error
    history = at.dataframe[0].value
    assert {"title", "rating", "held out for testing"} <= set(history.columns)
    overview = at.dataframe[1].value
    assert list(overview.columns) == FAST_MODELS[:3]
    next(b for b in at.button if b.label == "Random user").click().run()
    assert not at.exception


def test_explore_similar_items(trained):
    at = trained.switch_page("pages/explore.py").run()
    at.selectbox(key="explore_item").set_value(5).run()
    assert not at.exception and not at.error
    # popular and baseline have no item space: one shared note, the others answer.
    assert any("popular" in w and "baseline" in w and "no item space" in w for w in texts(at.warning))


# ------------------------------------------------------------------ empty states
@pytest.mark.parametrize("page", ["compare", "embeddings", "cold_start", "explore"])
def test_result_pages_without_training_point_to_train(page):
    at = new_app()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    assert any("No model is trained yet" in i for i in texts(at.info))
    assert [p.label for p in at.get("page_link")] == ["Go to Train"]


# ------------------------------------------------------------------ a wide results table (issue 21)
def column_config(dataframe) -> dict:
    import json

    return json.loads(dataframe.proto.columns)


def test_the_metric_column_is_pinned_and_six_models_need_no_scroll_hint(trained):
    at = trained.switch_page("pages/compare.py").run()
    config = column_config(at.dataframe[0])
    assert config["_index"]["pinned"] is True and config["better"]["pinned"] is True
    assert config["popular"]["label"] == "popular (ref.)" and "the reference" in config["popular"]["help"]
    assert not any("scrolls sideways" in c for c in texts(at.caption))


def test_more_models_than_fit_get_a_scroll_hint(movielens_bytes):
    eleven = ["global-mean", "baseline", "popular", "svd", "knn-basic", "knn-means", "coclustering",
              "item-knn-cosine", "rp3beta", "ease", "content-tfidf"]
    at = new_app()
    upload(at, {"ratings": ("ratings.csv", movielens_bytes["ratings.csv"]),
                "items": ("movies.csv", movielens_bytes["movies.csv"])})
    train(at, eleven, **{"svd.n_epochs": 5})
    at.switch_page("pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert list(at.dataframe[0].value.columns)[1:] == eleven
    hint = [c for c in texts(at.caption) if "scrolls sideways" in c]
    assert hint == [":material/swap_horiz: 11 models: the table scrolls sideways (drag its scroll bar or shift + "
                    "mouse wheel) to content-tfidf; the metric column stays in place."]
