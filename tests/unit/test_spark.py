"""The Spark engine: MLlib ALS on local[2], evaluated into the runner's tidy frame; clear errors without Spark.

One SparkSession for the module (starting the JVM dominates the run time).
"""
from __future__ import annotations

import socket
import time

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_core import spark_engine
from recsys_core.__main__ import main
from recsys_core.evaluation.runner import COLUMNS, ModelSpec, evaluate
from recsys_core.evaluation.splits import make_splits
from recsys_core.spark_engine import (SparkALS, SparkParameterError, SparkUnavailableError, check_master,
                                      evaluate_spark, matched_reg_param, mllib_als_params)
from recsys_core.synthetic import generate_dataset, write_sample

#: Small and fast. A light lambda: where regularisation dominates, MLlib's count-scaled regParam (ALS-WR) and
#: implicit's constant lambda give different models, and the comparison would test that, not the engine.
PARAMS = {"factors": 8, "iterations": 5, "regularization": 3.0}


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset(n_users=200, n_items=300, n_ratings=6000)


@pytest.fixture(scope="module")
def splits(dataset):
    return make_splits(dataset, "random", test_size=0.2, seed=0)


@pytest.fixture(scope="module")
def session():
    spark = spark_engine.start_session("local[2]", app_name="recsys-lab-tests", local_partitions=4)
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def spark_table(dataset, splits, session):
    return evaluate_spark(dataset, splits, PARAMS, ks=(5, 10), session=session)


def _ndcg10(table):
    rows = table[(table["metric"] == "ndcg") & (table["k"] == 10) & (table["bucket"] == "all")]
    assert len(rows) == 1
    return float(rows["value"].iloc[0])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once the socket closes: nothing listens there


# ------------------------------------------------------------ on Spark
def test_spark_engine_returns_the_runners_tidy_frame(spark_table):
    assert list(spark_table.columns) == COLUMNS
    assert set(spark_table["model"]) == {"als (spark)"}
    assert set(spark_table["fold"]) == {0}
    metrics = set(spark_table["metric"])
    assert {"precision", "recall", "ndcg", "map", "hit_rate", "mrr", "coverage", "novelty", "personalization",
            "fit_seconds", "score_seconds"} <= metrics
    assert not {"rmse", "mae"} & metrics  # a ranking model predicts no ratings
    assert set(spark_table.loc[spark_table["metric"] == "ndcg", "k"]) == {5, 10}
    ranking = spark_table[spark_table["metric"].isin(["precision", "recall", "ndcg", "hit_rate"])]["value"]
    assert ranking.between(0, 1).all()
    assert {"all", "6–20", ">20"} <= set(spark_table["bucket"])


def test_spark_ndcg_matches_the_in_process_als(dataset, splits, spark_table):
    local = evaluate(dataset, [ModelSpec("als", PARAMS)], splits=splits, ks=(5, 10)).table
    spark_ndcg, local_ndcg = _ndcg10(spark_table), _ndcg10(local)
    popular = _ndcg10(evaluate(dataset, ["popular"], splits=splits, ks=(10,)).table)
    assert spark_ndcg > popular + 0.05  # it learnt something beyond popularity
    # Not identical: other random starts, and MLlib scales regParam by each user's/item's count (ALS-WR).
    assert spark_ndcg == pytest.approx(local_ndcg, abs=0.03)


def test_spark_model_excludes_training_items_and_serves_unknown_users(dataset, splits, session):
    train = splits[0].train
    model = SparkALS(session=session, **PARAMS).fit(train)
    assert model.user_factors_.shape == (dataset.n_users, 8)
    assert model.item_factors_.shape == (dataset.n_items, 8)
    assert model.mllib_params_["alpha"] == 0.0 and model.mllib_params_["maxIter"] == 5
    users = np.arange(dataset.n_users)
    top = model.recommend_indices(users, n=10)
    seen = train.matrix[users]
    hits = np.asarray(seen[np.repeat(users, 10), top.ravel()]).ravel()
    assert not hits.any()
    assert (top >= 0).all()


# ------------------------------------------------------------ parameters
def test_matched_reg_param_by_hand():
    # Users have 2 and 2 interactions, items 1, 2, 1, 0; nnz 4. Interaction-weighted mean counts:
    # users (4 + 4) / 4 = 2, items (1 + 4 + 1) / 4 = 1.5; regParam = lambda / sqrt(2 * 1.5).
    feedback = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0]], dtype=np.float32))
    assert matched_reg_param(10.0, feedback) == pytest.approx(10.0 / np.sqrt(3.0))


def test_alpha_maps_to_mllibs_one_plus_alpha_confidence():
    feedback = sp.csr_matrix(np.eye(3, dtype=np.float32))
    params = mllib_als_params(SparkALS(factors=8, alpha=3.0, iterations=4, regularization=2.0), feedback)
    # One interaction per user and per item: regParam * 1 = lambda exactly.
    assert params == {"rank": 8, "regParam": pytest.approx(2.0), "alpha": 2.0, "maxIter": 4, "seed": 0}
    with pytest.raises(SparkParameterError, match="alpha >= 1"):
        mllib_als_params(SparkALS(alpha=0.5), feedback)


def test_unknown_parameter_is_refused_before_spark_starts(dataset, splits):
    with pytest.raises(SparkParameterError, match="n_factors"):
        evaluate_spark(dataset, splits, {"n_factors": 8})


# ------------------------------------------------------------ bad input
def test_master_that_does_not_answer_fails_fast_with_advice():
    port = _closed_port()
    start = time.perf_counter()
    with pytest.raises(SparkUnavailableError, match=rf"spark://127\.0\.0\.1:{port} does not answer.*--master"):
        check_master(f"spark://127.0.0.1:{port}")
    assert time.perf_counter() - start < 6


def test_unknown_master_scheme():
    with pytest.raises(SparkUnavailableError, match="spark://host:7077"):
        check_master("http://example:8080")


def test_missing_pyspark_and_java_are_explained(monkeypatch):
    real_find_spec = spark_engine.importlib.util.find_spec
    monkeypatch.setattr(spark_engine.importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyspark" else real_find_spec(name, *a))
    assert "pip install pyspark==" in spark_engine.spark_problem()
    monkeypatch.undo()
    monkeypatch.setattr(spark_engine, "_java_executable", lambda: None)
    problem = spark_engine.spark_problem()
    assert "Java was not found" in problem and "JAVA_HOME" in problem
    with pytest.raises(SparkUnavailableError, match="Java was not found"):
        spark_engine.start_session("local[1]")


# ------------------------------------------------------------ command line
def test_cli_bad_master_is_a_message_not_a_traceback(tmp_path, capsys):
    port = _closed_port()
    code = main(["compare", "--engine", "spark", "--master", f"spark://127.0.0.1:{port}", "--models", "als",
                 "--split", "random", "--no-progress"])
    assert code == 2
    assert "does not answer" in capsys.readouterr().err


def test_cli_other_models_on_spark_get_a_clear_message(capsys):
    assert main(["compare", "--engine", "spark", "--models", "als,svd", "--no-progress"]) == 2
    assert "svd cannot run on Spark" in capsys.readouterr().err
    assert main(["compare", "--master", "spark://host:7077", "--models", "als", "--no-progress"]) == 2
    assert "--master is only used with --engine spark" in capsys.readouterr().err


def test_cli_compare_on_spark_writes_the_tidy_csv(tmp_path, session, capsys):
    import pandas as pd

    write_sample(tmp_path, n_users=150, n_items=200, n_ratings=3000)
    output = tmp_path / "results.csv"
    code = main(["compare", "--engine", "spark", "--ratings", str(tmp_path / "ratings.csv"), "--split", "random",
                 "--params", '{"als": {"factors": 8, "iterations": 5}}', "--no-progress", "--output", str(output)])
    assert code == 0
    assert "als (spark)" in capsys.readouterr().out
    table = pd.read_csv(output)
    assert list(table.columns) == COLUMNS
    assert _ndcg10(table) > 0
    assert session.sparkContext._jsc is not None  # the running session was reused, not stopped
