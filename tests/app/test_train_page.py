"""Train page: models with their parameters and explanations, progress, reuse of unchanged fits, isolated failures."""
from __future__ import annotations

import numpy as np
import pytest

from recsys_core.models import REGISTRY, Recommender
from app_helpers import FAST_MODELS, new_app, texts, train, trained_models, upload


class Broken(Recommender):
    """A model whose fit always fails, to check that the others keep their results."""

    name = "broken"
    family = "Test"
    parameter_help = {}

    def _fit(self, dataset):
        raise RuntimeError("the broken model always fails")

    def _score_users(self, user_idx):
        return np.zeros((len(user_idx), self.dataset_.n_items))


@pytest.fixture()
def small_app(movielens_bytes):
    at = new_app()
    return upload(at, {"ratings": ("ratings.csv", movielens_bytes["ratings.csv"]),
                       "items": ("movies.csv", movielens_bytes["movies.csv"])})


def test_models_show_parameters_and_how_they_work(small_app):
    at = small_app.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.multiselect(key="train_models").value == [
        "popular", "baseline", "svd", "knn-basic", "knn-means", "coclustering", "content-tfidf",
        "ease", "als", "item-knn-cosine"]
    # One formula per chosen model, parameters with their help text.
    assert len(at.latex) == 10
    assert at.number_input(key="param:svd:n_factors").value == 100
    assert "Length of the latent vectors" in at.number_input(key="param:svd:n_factors").help
    assert at.selectbox(key="param:knn-basic:user_based").value is False  # item-based by default here
    assert at.selectbox(key="param:knn-means:user_based").value is True


def test_training_reports_results_and_refits_only_what_changed(small_app):
    at = train(small_app, FAST_MODELS, **{"svd.n_epochs": 5})
    assert not at.error, texts(at.error)
    assert trained_models(at) == FAST_MODELS
    assert any("Results ready for" in s for s in texts(at.success))
    assert at.session_state["results"].reused == []
    first_runs = dict(at.session_state["runs"])

    # Change one parameter of one model: only that model is fitted again.
    at.number_input(key="param:knn-basic:k").set_value(10).run()
    next(b for b in at.button if b.label == "Train and evaluate").click().run()
    assert not at.exception and not at.error
    results = at.session_state["results"]
    assert sorted(results.reused) == sorted(m for m in FAST_MODELS if m != "knn-basic")
    refitted = [key for key in results.keys if key not in first_runs]
    assert [key[1] for key in refitted] == ["knn-basic"]
    assert any("reused" in e.label for e in at.expander)


def test_a_failing_model_is_reported_and_the_others_keep_their_results(small_app, monkeypatch):
    monkeypatch.setitem(REGISTRY, "broken", Broken)
    at = train(small_app, ["popular", "broken", "baseline"])
    [message] = texts(at.error)
    assert message.startswith("**broken** failed: RuntimeError") and "always fails" in message
    assert "Traceback" not in message
    assert trained_models(at) == ["popular", "baseline"]
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert any("broken" in e for e in texts(at.error))
    # The failed model keeps its column in the results table, marked on the first row.
    table = at.dataframe[0].value
    table = getattr(table, "data", table)  # a Styler in, its frame out
    assert "broken" in table.columns and table.loc["status", "broken"].startswith("failed")
    assert table.loc["status", "popular"] == "trained"


def test_kfold_gives_one_result_per_fold(small_app):
    at = small_app.switch_page("pages/train.py").run()
    at.radio(key="train_split").set_value("kfold").run()
    at.slider(key="train_folds").set_value(2).run()
    at = train(at, ["popular", "baseline"])
    assert not at.error
    table = at.session_state["runs"][at.session_state["results"].keys[0]].table
    assert sorted(table["fold"].unique()) == [0, 1]


def test_train_page_without_data_offers_the_sample():
    from streamlit.testing.v1 import AppTest
    from app_helpers import APP, TIMEOUT

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.session_state["sample_tried"] = True  # as if the sample were missing: nothing is loaded
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any("No data set is loaded" in i for i in texts(at.info))
    assert [p.label for p in at.get("page_link")][-1].startswith("…or upload your own files")
    next(b for b in at.button if b.label == "Use the bundled sample").click().run()
    assert not at.exception
    assert at.multiselect(key="train_models").value  # the page is there now


def test_an_embedding_model_trains_with_its_loss_curve_and_shows_on_the_embeddings_page(small_app):
    at = train(small_app, ["lightgcn", "popular"], **{"lightgcn.epochs": 4})
    assert not at.error, texts(at.error)
    assert trained_models(at) == ["lightgcn", "popular"]
    assert any(s.value == "Training curves" for s in at.subheader)
    assert any("kept epoch" in text for text in texts(at.caption))
    runs = {run.name: run for run in at.session_state["runs"].values()}
    history = runs["lightgcn"].history
    assert list(history["epoch"]) == [1, 2, 3, 4] and history["loss"].notna().all()
    assert not len(runs["popular"].history)
    at.switch_page("pages/embeddings.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "lightgcn" in str([s.options for s in at.selectbox])
