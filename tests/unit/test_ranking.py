"""Ranking models: closed forms checked by hand, implicit's models reproduced, tuning blind to the test fold."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_core.dataset import Dataset
from recsys_core.errors import ModelMemoryError, TuningError
from recsys_core.evaluation.splits import make_splits, per_user_holdout
from recsys_core.evaluation.tuning import best_params_json, tune
from recsys_core.models import REGISTRY, make_model
from recsys_core.models import ranking
from recsys_core.models.feedback import interaction_matrix

#: users x items, 1 = interacted (ratings below are 5 where 1, so feedback="all" and "positive" agree).
LITERAL = np.array([
    [1, 1, 0, 0, 1],
    [1, 0, 1, 0, 0],
    [0, 1, 1, 1, 0],
    [1, 1, 1, 0, 0],
    [0, 0, 1, 1, 1],
    [1, 0, 0, 1, 0],
], dtype=float)


def literal_dataset(matrix: np.ndarray = LITERAL, low_ratings: bool = False) -> Dataset:
    users, items = np.nonzero(matrix)
    rating = np.full(len(users), 5.0)
    if low_ratings:  # every other interaction rated 1: not positive
        rating[::2] = 1.0
    frame = pd.DataFrame({"user": users, "item": items, "rating": rating})
    return Dataset.from_frames(frame, rating_scale=(1, 5), name="literal")


def as_matrix(dataset: Dataset) -> np.ndarray:
    """The 0/1 matrix in the data set's own index order."""
    return (dataset.matrix.toarray() != 0).astype(float)


def test_ease_equals_the_closed_form_solved_with_numpy():
    dataset = literal_dataset()
    x = as_matrix(dataset)
    reg = 2.0
    p = np.linalg.inv(x.T @ x + reg * np.eye(x.shape[1]))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    model = make_model("ease", reg=reg).fit(dataset)
    np.testing.assert_allclose(model.weights_, b, atol=1e-12)
    np.testing.assert_allclose(model.score_users(np.arange(dataset.n_users)), x @ b, atol=1e-12)
    # A new user is scored by the same product, without refitting.
    new_user = np.zeros(x.shape[1])
    new_user[[0, 2]] = 1.0
    np.testing.assert_allclose(model.fold_in(np.array([0, 2]), np.array([5.0, 5.0])), new_user @ b, atol=1e-12)


def test_ease_refuses_before_allocating_when_memory_is_short(monkeypatch):
    from recsys_core.models import memory

    allocated = []
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 100)
    monkeypatch.setattr(ranking.EASE, "_fit_matrix", lambda self, x: allocated.append(x))
    model = make_model("ease")
    with pytest.raises(ModelMemoryError, match=r"ease would need about .* for 6 users x 5 items .* only .* is free"):
        model.fit(literal_dataset())
    assert not allocated and not model.is_fitted
    assert model.memory_estimate(10, 100_000, 10**6) > 4 * 10**10  # one 100k x 100k float32 matrix
    assert model.memory_estimate(10**6, 100_000, 10**7) > 4 * 10**10


def test_item_knn_cosine_equals_the_shrunk_cosine_by_hand():
    dataset = literal_dataset()
    x = as_matrix(dataset)
    shrink = 1.0
    norms = np.sqrt((x ** 2).sum(axis=0))
    sim = (x.T @ x) / (norms[:, None] * norms[None, :] + shrink)
    np.fill_diagonal(sim, 0.0)
    model = make_model("item-knn-cosine", k=10, shrink=shrink).fit(dataset)
    np.testing.assert_allclose(model.item_similarity_rows(np.arange(5)), sim, atol=1e-12)
    np.testing.assert_allclose(model.score_users(np.arange(dataset.n_users)), x @ sim, atol=1e-12)
    # k=1: each target keeps only its single nearest item.
    top1 = make_model("item-knn-cosine", k=1, shrink=shrink).fit(dataset)
    assert (top1.neighbours_.getnnz(axis=1) <= 1).all()


def test_rp3beta_equals_the_random_walk_by_hand():
    dataset = literal_dataset()
    x = as_matrix(dataset)
    alpha, beta = 0.7, 0.5
    p_ui = (x / x.sum(axis=1, keepdims=True)) ** alpha
    p_iu = (x.T / x.sum(axis=0)[:, None]) ** alpha
    w = (p_iu @ p_ui) / x.sum(axis=0)[None, :] ** beta
    np.fill_diagonal(w, 0.0)
    model = make_model("rp3beta", k=10, alpha=alpha, beta=beta).fit(dataset)
    np.testing.assert_allclose(model.weights_.toarray(), w, atol=1e-12)
    np.testing.assert_allclose(model.score_users(np.arange(dataset.n_users)), x @ w, atol=1e-12)


def test_positive_feedback_keeps_only_ratings_at_or_above_the_threshold():
    dataset = literal_dataset(low_ratings=True)
    everything = interaction_matrix(dataset, "all")
    positive = interaction_matrix(dataset, "positive")
    assert everything.nnz == int(LITERAL.sum())
    assert positive.nnz == int((dataset.interactions.rating >= 4).sum())
    assert interaction_matrix(dataset, "positive", threshold=1).nnz == everything.nnz
    model = make_model("ease", feedback="positive").fit(dataset)
    assert model.feedback_.nnz == positive.nnz


def planted(seed: int = 0, n_users: int = 120, n_items: int = 80) -> Dataset:
    """Two tastes: users interact mostly with items of their own parity."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        own = np.arange(user % 2, n_items, 2)
        picked = rng.choice(own, 12, replace=False)
        other = rng.choice(np.arange(1 - user % 2, n_items, 2), 2, replace=False)
        rows += [(user, item, 5.0) for item in np.concatenate([picked, other])]
    return Dataset.from_frames(pd.DataFrame(rows, columns=["user", "item", "rating"]), rating_scale=(1, 5))


def test_als_reproduces_implicit_called_directly():
    from implicit.cpu.als import AlternatingLeastSquares

    dataset = planted()
    model = make_model("als", factors=8, iterations=5, regularization=0.1, alpha=2.0, random_state=3).fit(dataset)
    direct = AlternatingLeastSquares(factors=8, iterations=5, regularization=0.1, alpha=2.0, random_state=3)
    direct.fit(interaction_matrix(dataset), show_progress=False)
    np.testing.assert_allclose(model.user_factors_, direct.user_factors, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.score_users(np.array([0, 1])), direct.user_factors[:2] @ direct.item_factors.T,
                               rtol=1e-4, atol=1e-5)
    # Fold-in is implicit's own recalculate_user.
    row = interaction_matrix(dataset)[5]
    expected = direct.recalculate_user(0, row) @ direct.item_factors.T
    np.testing.assert_allclose(model.fold_in(row.indices, np.full(row.nnz, 5.0)), expected, rtol=1e-4, atol=1e-5)


def test_bpr_reproduces_implicit_called_directly():
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    dataset = planted()
    model = make_model("bpr", factors=8, iterations=20, random_state=4).fit(dataset)
    direct = BayesianPersonalizedRanking(factors=8, iterations=20, learning_rate=0.01, regularization=0.01,
                                         random_state=4, num_threads=1)
    direct.fit(interaction_matrix(dataset), show_progress=False)
    np.testing.assert_allclose(model.item_factors_, direct.item_factors, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.user_factors_, direct.user_factors, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["item-knn-cosine", "rp3beta", "ease", "als", "bpr"])
def test_ranking_models_fold_in_a_new_user_by_taste(name):
    dataset = planted()
    params = {"iterations": 200, "learning_rate": 0.05} if name == "bpr" else {}
    model = make_model(name, **params).fit(dataset)
    even = np.array([int(raw) % 2 == 0 for raw in dataset.item_ids])
    liked = np.flatnonzero(even)[:6]
    scores = model.fold_in(liked, np.full(len(liked), 5.0))
    unseen = np.ones(dataset.n_items, bool)
    unseen[liked] = False
    assert scores[even & unseen].mean() > scores[~even].mean()
    top = np.argsort(-np.where(unseen, scores, -np.inf))[:10]
    assert even[top].mean() >= 0.8, name


def test_a_user_without_feedback_gets_the_popular_items():
    dataset = literal_dataset(low_ratings=True)
    model = make_model("item-knn-cosine", feedback="positive").fit(dataset)
    scores = model.fold_in(np.array([0]), np.array([1.0]))  # below the threshold: no feedback
    np.testing.assert_allclose(scores, model.popularity_ / model.popularity_.max())
    assert "popular" in model.cannot_personalise(np.array([0]), np.array([1.0]))


def test_every_model_declares_its_parameters_with_types_and_search_spaces():
    for name, cls in REGISTRY.items():
        defaults = cls().get_params()
        for param in cls.params:
            assert param.name in defaults, (name, param.name)
            if param.tunable and param.kind in ("int", "float"):
                assert param.search[0] < param.search[1]
                assert param.low <= param.search[0] and param.search[1] <= param.high, (name, param.name)
        model = cls()
        assert model.set_params(**defaults) is model
        assert model.clone().get_params() == defaults


# ------------------------------------------------------------------ tuning
def test_per_user_holdout_keeps_every_user_in_the_fitted_part():
    dataset = planted()
    split = per_user_holdout(dataset, fraction=0.25, seed=1)
    assert split.train.n_ratings + split.test.n_ratings == dataset.n_ratings
    assert (split.train.user_counts >= 1).all()
    assert (split.test.user_counts == 4).all()  # 14 interactions, 25% -> round(3.5) = 4
    pairs = lambda d: set(zip(d.interactions.user_idx, d.interactions.item_idx))  # noqa: E731
    assert not pairs(split.train) & pairs(split.test)


def test_tuning_never_reads_the_test_fold():
    dataset = planted(seed=2)
    split = make_splits(dataset, "random", test_size=0.2, seed=0)[0]
    first = tune(split.train, "ease", n_trials=6, seed=0)
    # The same file with the test fold's ratings replaced by noise: the split picks the same rows,
    # so the training part (all the tuner gets) is the same, and so is the choice.
    rng = np.random.default_rng(9)
    frame = dataset.interactions[["user", "item", "rating"]].copy()
    test_pairs = set(zip(split.test.interactions.user, split.test.interactions.item))
    in_test = np.array([pair in test_pairs for pair in zip(frame.user, frame.item)])
    frame.loc[in_test, "rating"] = rng.integers(1, 6, in_test.sum()).astype(float)
    noisy = Dataset.from_frames(frame, rating_scale=(1, 5))
    noisy_split = make_splits(noisy, "random", test_size=0.2, seed=0)[0]
    assert not np.array_equal(noisy_split.test.interactions.rating, split.test.interactions.rating)
    again = tune(noisy_split.train, "ease", n_trials=6, seed=0)
    assert first.best_params == again.best_params
    assert first.best_value == again.best_value
    assert best_params_json({"ease": first})["ease"]["reg"] == pytest.approx(first.best_params["reg"])
    # The first trial is the defaults, so the best is never worse than them on validation.
    assert first.trials.iloc[0]["reg"] == make_model("ease").reg
    assert first.best_value >= first.trials.iloc[0]["value"]
    assert len(first.trials) == 6 and set(first.trials.state) == {"complete"}


def test_tuning_with_too_few_ratings_per_user_says_what_is_missing():
    frame = pd.DataFrame({"user": range(30), "item": np.arange(30) % 7, "rating": 5.0})
    dataset = Dataset.from_frames(frame, rating_scale=(1, 5))
    with pytest.raises(TuningError, match="at least 2 training ratings"):
        tune(dataset, "ease", n_trials=2)


def test_a_search_space_without_valid_trials_is_reported(monkeypatch):
    def broken(self, feedback):
        raise ValueError("diverged")

    monkeypatch.setattr(ranking.EASE, "_fit_matrix", broken)
    with pytest.raises(TuningError, match="No trial of ease finished.*diverged"):
        tune(planted(), "ease", n_trials=3)


def test_cli_tune_writes_params_that_compare_reads(tmp_path):
    from recsys_core.__main__ import main

    ratings = tmp_path / "ratings.csv"
    frame = planted().interactions[["user", "item", "rating"]]
    frame.to_csv(ratings, index=False)
    best = tmp_path / "best.json"
    assert main(["tune", "--ratings", str(ratings), "--models", "ease,item-knn-cosine", "--trials", "3",
                 "--output", str(best), "--no-progress"]) == 0
    import json

    params = json.loads(best.read_text())
    assert set(params) == {"ease", "item-knn-cosine"} and "reg" in params["ease"]
    out = tmp_path / "results.csv"
    assert main(["compare", "--ratings", str(ratings), "--models", "ease,popular", "--params", str(best),
                 "--split", "random", "--output", str(out), "--no-progress"]) == 0
    assert (pd.read_csv(out).metric == "ndcg").any()


def test_on_the_sample_the_ranking_models_beat_popular_by_far():
    from recsys_core import data
    from recsys_core.evaluation.runner import evaluate, summarise

    result = evaluate(data.load_sample(), ["popular", "ease", "item-knn-cosine"], split="random",
                      split_params={"seed": 0}, ks=(10,))
    assert not result.errors
    table = summarise(result.table)
    assert table.loc["ease", "ndcg@10"] >= 2 * table.loc["popular", "ndcg@10"]
    assert table.loc["ease", "coverage@10"] >= 0.15
    assert table.loc["item-knn-cosine", "ndcg@10"] >= 2 * table.loc["popular", "ndcg@10"]


def test_a_diverged_fit_is_reported_as_failed_not_ranked():
    from recsys_core.errors import ModelDivergedError
    from recsys_core.evaluation.runner import ModelSpec, evaluate

    from recsys_core import data

    dataset = data.load_sample()  # lr 0.5 (the form's maximum) makes SGD blow up on real rating spreads
    with pytest.raises(ModelDivergedError, match="svd diverged: .* not finite .* Lower the learning rate"):
        make_model("svd", lr_all=0.5).fit(dataset)
    result = evaluate(dataset, [ModelSpec("svd", {"lr_all": 0.5}), "popular"], split="random",
                      split_params={"seed": 0}, ks=(5,))
    assert "diverged" in result.errors["svd"] and "popular" in result.models
    assert set(result.table["model"]) == {"popular"}


def test_concurrent_fits_in_one_process_give_the_same_numbers():
    """Sessions of one server fit in threads; BLAS thread limits are process-wide, so fits take a lock."""
    import threading

    dataset = planted(seed=5)

    def scores(name):
        return make_model(name, **({"iterations": 5} if name == "als" else {})).fit(dataset).score_users(
            np.arange(dataset.n_users))

    solo = {name: scores(name) for name in ("als", "ease")}
    out = {}
    threads = [threading.Thread(target=lambda i=i, n=n: out.__setitem__((i, n), scores(n)))
               for i in range(3) for n in ("als", "ease")]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    for (_, name), value in out.items():
        np.testing.assert_array_equal(value, solo[name])
