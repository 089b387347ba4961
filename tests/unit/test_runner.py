"""The evaluation runner: tidy results, Surprise's cross-validation reproduced, failures isolated."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import surprise
from surprise.model_selection import KFold, cross_validate

from recsys_core import synthetic
from recsys_core.dataset import Dataset
from recsys_core.evaluation.runner import COLUMNS, ModelSpec, evaluate, summarise


@pytest.fixture(scope="module")
def ml100k_shaped():
    """Generated data of MovieLens-100k's shape: 943 users, 1682 items, 100,000 ratings on 1-5."""
    ratings, _, _ = synthetic.generate(n_users=943, n_items=1682, n_ratings=100_000, seed=42)
    return ratings


CROSS_VALIDATION = [
    ("svd", lambda: surprise.SVD(random_state=0, verbose=False)),
    ("knn-basic", lambda: surprise.KNNBasic(verbose=False)),
    ("knn-means", lambda: surprise.KNNWithMeans(verbose=False)),
    ("knn-baseline", lambda: surprise.KNNBaseline(verbose=False)),
    ("coclustering", lambda: surprise.CoClustering(random_state=0, verbose=False)),
    ("baseline", lambda: surprise.BaselineOnly(verbose=False)),
]


@pytest.mark.parametrize("name,make_surprise", CROSS_VALIDATION, ids=[c[0] for c in CROSS_VALIDATION])
def test_five_fold_cross_validation_reproduces_surprise(ml100k_shaped, name, make_surprise):
    frame = ml100k_shaped[["user", "item", "rating"]].astype({"user": str, "item": str})
    data = surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=(1, 5)))
    expected = cross_validate(make_surprise(), data, measures=["rmse", "mae"], cv=KFold(5, random_state=0))
    dataset = Dataset.from_frames(frame, rating_scale=(1, 5))
    result = evaluate(dataset, [name], split="kfold", split_params={"n_folds": 5, "seed": 0}, ks=())
    table = result.table[result.table.bucket == "all"]
    ours_rmse = table[table.metric == "rmse"].sort_values("fold").value.to_numpy()
    ours_mae = table[table.metric == "mae"].sort_values("fold").value.to_numpy()
    assert abs(ours_rmse.mean() - expected["test_rmse"].mean()) < 0.003
    assert abs(ours_mae.mean() - expected["test_mae"].mean()) < 0.003
    # Same folds and the same fitting: per fold, equal to far better than the 0.003 asked for.
    np.testing.assert_allclose(ours_rmse, expected["test_rmse"], atol=1e-6)
    np.testing.assert_allclose(ours_mae, expected["test_mae"], atol=1e-6)


@pytest.fixture(scope="module")
def small_sample():
    ratings, items, users = synthetic.generate(n_users=120, n_items=150, n_ratings=3000, seed=3)
    return Dataset.from_frames(ratings, rating_scale=(1, 5), items=items, users=users, name="small")


def test_tidy_table_has_every_metric_and_bucket(small_sample):
    result = evaluate(small_sample, ["svd", "popular", "knn-basic"], split="random",
                      split_params={"seed": 1}, ks=(5, 10))
    table = result.table
    assert list(table.columns) == COLUMNS
    assert not result.errors
    metrics = set(table.metric)
    for metric in ["rmse", "mae", "precision", "recall", "ndcg", "map", "hit_rate", "mrr", "coverage",
                   "novelty", "diversity", "personalization", "fit_seconds", "score_seconds"]:
        assert metric in metrics, metric
    assert set(table.bucket) >= {"all", "≤5", "6–20", ">20"}
    assert set(table.k.dropna()) == {5, 10}
    # "popular" ranks but does not predict ratings.
    assert table[(table.model == "popular") & (table.metric == "rmse")].empty
    wide = summarise(table)
    assert {"rmse", "ndcg@10", "precision@5"} <= set(wide.columns)
    assert 0 <= wide.loc["popular", "personalization@10"] <= 1
    values = table.value[table.metric.isin(["precision", "recall", "ndcg", "hit_rate", "coverage"])]
    assert ((values >= 0) & (values <= 1)).all()


def test_one_failing_model_does_not_stop_the_others(small_sample):
    progress = []
    result = evaluate(small_sample, [ModelSpec("svd", {"n_factors": -1}, label="broken svd"), "baseline"],
                      split="kfold", split_params={"n_folds": 2, "seed": 0},
                      progress=lambda fraction, message: progress.append((fraction, message)))
    assert "broken svd" in result.errors
    assert set(result.table.model) == {"baseline"}
    assert progress[-1][0] == 1.0
    assert [f for f, _ in progress] == sorted(f for f, _ in progress)


def test_cli_compare_writes_the_tidy_csv(tmp_path, small_sample, capsys):
    from recsys_core.__main__ import main

    path = tmp_path / "ratings.csv"
    small_sample.interactions[["user", "item", "rating", "timestamp"]].to_csv(path, index=False)
    out = tmp_path / "results.csv"
    code = main(["compare", "--ratings", str(path), "--models", "svd,popular", "--split", "kfold", "--folds", "2",
                 "--seed", "0", "--k", "10", "--output", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "svd" in printed and "ndcg@10" in printed
    table = pd.read_csv(out)
    assert list(table.columns) == COLUMNS
    assert set(table.fold) == {0, 1}


def test_cli_reports_bad_input_readably(tmp_path, capsys):
    from recsys_core.__main__ import main

    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating\n1,10,4\n2,10,five\n")
    assert main(["compare", "--ratings", str(path), "--models", "svd", "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "ratings.csv" in error and "rating" in error and "3" in error
    assert "Traceback" not in error
    assert main(["compare", "--ratings", str(path), "--models", "nosuch"]) == 2


def test_implicit_data_is_ranked_not_rated():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"user": rng.integers(0, 50, 2000), "item": rng.zipf(1.5, 2000) % 80}).drop_duplicates()
    frame["rating"] = 1.0
    dataset = Dataset.from_frames(frame, rating_scale=(1, 1), implicit=True)
    result = evaluate(dataset, ["knn-basic", "popular"], split="random", split_params={"seed": 0}, ks=(10,))
    # Every value is 1: a rating model has nothing to fit (on the sample read as unary it ranked by noise), so it
    # says so and the ranking model's results stand.
    assert list(result.errors) == ["knn-basic"]
    assert "holds interactions without a value" in result.errors["knn-basic"]
    assert "use a ranking model" in result.errors["knn-basic"].lower()
    assert "rmse" not in set(result.table.metric)
    wide = summarise(result.table)
    assert wide.loc["popular", "hit_rate@10"] > 0
