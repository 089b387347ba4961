"""Embedding models: their maths against literal fixtures and numpy, the shared loop's promises, and the sample."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

from recsys_core import data  # noqa: E402
from recsys_core.dataset import Dataset  # noqa: E402
from recsys_core.errors import ModelDivergedError, RecsysError  # noqa: E402
from recsys_core.evaluation.runner import evaluate  # noqa: E402
from recsys_core.evaluation.splits import make_splits, validation_holdout  # noqa: E402
from recsys_core.models import make_model  # noqa: E402
from recsys_core.models.neural.fm import pairwise_interactions  # noqa: E402
from recsys_core.models.neural.lightgcn import normalized_adjacency, propagate, sparse_tensor  # noqa: E402
from recsys_core.models.neural.training import bce_loss, sample_negatives, validation_ndcg  # noqa: E402

NEURAL = ["mf-bce", "ncf", "two-tower", "lightgcn", "fm", "item2vec"]


@pytest.fixture(scope="module")
def sample():
    return data.load_sample()


@pytest.fixture(scope="module")
def sample_split(sample):
    return make_splits(sample, "random", seed=0)[0]


def two_taste_data(seed: int = 0, n_users: int = 60, n_items: int = 40) -> Dataset:
    """Even users take even items, odd users odd items; items carry their kind as a genre."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        own = np.arange(user % 2, n_items, 2)
        for item in rng.choice(own, size=8, replace=False):
            rows.append((f"u{user}", f"i{item}", 4.0 + (item % 3 == 0), 1000 + len(rows)))
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    items = pd.DataFrame({"item": [f"i{i}" for i in range(n_items)], "title": [f"Item {i}" for i in range(n_items)],
                          "genres": ["Even" if i % 2 == 0 else "Odd" for i in range(n_items)]})
    users = pd.DataFrame({"user": [f"u{u}" for u in range(n_users)],
                          "gender": ["F" if u % 2 == 0 else "M" for u in range(n_users)]})
    return Dataset.from_frames(frame, rating_scale=(1, 5), items=items, users=users, name="two tastes")


# ------------------------------------------------------------------ maths on literal fixtures
def test_lightgcn_propagation_equals_the_normalised_adjacency_powers_in_numpy():
    x = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=np.float64))  # 2 users x 3 items
    adjacency = normalized_adjacency(x).toarray()
    # By hand: A = [[0, X], [X^T, 0]], degrees users (2, 2), items (1, 2, 1).
    degree = np.array([2, 2, 1, 2, 1], dtype=np.float64)
    a = np.zeros((5, 5))
    a[:2, 2:] = x.toarray()
    a[2:, :2] = x.toarray().T
    expected = a / np.sqrt(np.outer(degree, degree))
    np.testing.assert_allclose(adjacency, expected)
    embeddings = np.random.default_rng(0).normal(size=(5, 4))
    layers = 3
    reference = sum(np.linalg.matrix_power(expected, k) @ embeddings for k in range(layers + 1)) / (layers + 1)
    result = propagate(torch, sparse_tensor(torch, sp.csr_matrix(adjacency)),
                       torch.as_tensor(embeddings, dtype=torch.float32), layers)
    np.testing.assert_allclose(result.numpy(), reference, rtol=1e-5, atol=1e-6)


def test_lightgcn_propagation_gradient_is_the_adjacency_transposed():
    adjacency = normalized_adjacency(sp.csr_matrix(np.array([[1.0, 0, 1], [1, 1, 0]])))
    start = torch.tensor(np.random.default_rng(1).normal(size=(5, 2)), dtype=torch.float32, requires_grad=True)
    propagate(torch, sparse_tensor(torch, adjacency), start, 2).sum().backward()
    dense = adjacency.toarray()
    expected = (np.eye(5) + dense.T + (dense @ dense).T) @ np.ones((5, 2)) / 3
    np.testing.assert_allclose(start.grad.numpy(), expected, rtol=1e-5)


def test_fm_pairwise_identity_equals_the_explicit_double_sum():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(6, 4))
    x = rng.random((5, 6)) * (rng.random((5, 6)) > 0.4)
    explicit = np.array([sum(vectors[f] @ vectors[g] * row[f] * row[g] for f in range(6) for g in range(f + 1, 6))
                         for row in x])
    fast = pairwise_interactions(torch, torch.as_tensor(vectors), torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(fast, explicit, rtol=1e-10)


def test_fm_split_into_user_and_item_sides_equals_the_fm_over_the_concatenated_features():
    """What the fitted FM scores with (U.I + side biases) is the FM of [x_user; x_item], pair by pair."""
    from recsys_core.models.neural.fm import side_terms

    rng = np.random.default_rng(4)
    x_users = sp.csr_matrix(rng.random((3, 5)) * (rng.random((3, 5)) > 0.5))
    x_items = sp.csr_matrix(rng.random((4, 6)) * (rng.random((4, 6)) > 0.5))
    v_users, v_items = rng.normal(size=(5, 3)), rng.normal(size=(6, 3))
    w_users, w_items, w0 = rng.normal(size=5), rng.normal(size=6), 0.7
    user_vector, user_bias = side_terms(x_users, v_users, w_users)
    item_vector, item_bias = side_terms(x_items, v_items, w_items)
    vectors, weights = np.vstack([v_users, v_items]), np.concatenate([w_users, w_items])
    for u in range(3):
        for i in range(4):
            x = np.concatenate([x_users[u].toarray().ravel(), x_items[i].toarray().ravel()])
            explicit = w0 + weights @ x + sum(vectors[f] @ vectors[g] * x[f] * x[g]
                                              for f in range(11) for g in range(f + 1, 11))
            split = w0 + user_bias[u] + item_bias[i] + user_vector[u] @ item_vector[i]
            assert split == pytest.approx(explicit, rel=1e-10)


def test_fm_scores_with_its_exported_sides_and_places_a_user_by_demographics():
    dataset = two_taste_data()
    model = make_model("fm", epochs=3, factors=4).fit(dataset)
    u, i = 3, 7
    manual = (model.global_bias_ + model.user_bias_[u] + model.item_bias_[i]
              + model.user_factors_[u] @ model.item_factors_[i])
    assert model.score_users(np.array([u]))[0, i] == pytest.approx(np.clip(manual, 1, 5))
    from_features = model.demographic_scores({"gender": "F"})
    assert from_features.shape == (dataset.n_items,) and np.isfinite(from_features).all()


def test_mf_bce_loss_equals_a_hand_computed_binary_cross_entropy():
    logits = torch.tensor([2.0, -1.0, 0.5, 0.0])
    labels = torch.tensor([1.0, 0.0, 0.0, 1.0])
    sigma = 1 / (1 + np.exp(-np.array([2.0, -1.0, 0.5, 0.0])))
    by_hand = -np.mean([np.log(sigma[0]), np.log(1 - sigma[1]), np.log(1 - sigma[2]), np.log(sigma[3])])
    assert float(bce_loss(torch, logits, labels)) == pytest.approx(by_hand, rel=1e-6)
    # The model's batch loss is that BCE (plus its L2 term, zero here) on its own logits.
    dataset = two_taste_data()
    model = make_model("mf-bce", epochs=1, l2=0.0)
    model.fit(dataset)
    network_users = np.array([0, 1, 2])
    network_items = np.array([0, 1, 3])
    logits_np = (model.user_factors_[network_users] * model.item_factors_[network_items]).sum(1) \
        + model.item_bias_[network_items]
    assert model.score_users(network_users)[np.arange(3), network_items] == pytest.approx(logits_np)


def test_the_validation_metric_is_ndcg_of_the_held_out_item_with_training_items_excluded():
    scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.1, 0.2, 0.3, 0.4]])
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 1]]))
    # Row 0: item 0 excluded, target 3 (0.5) is behind item 1 (0.8): rank 1 -> 1/log2(3).
    # Row 1: item 3 excluded, target 0 (0.1) behind 2 and 1: rank 2 -> 1/log2(4).
    value = validation_ndcg(scores, exclude, np.array([3, 0]), k=10)
    assert value == pytest.approx((1 / np.log2(3) + 1 / np.log2(4)) / 2)
    assert validation_ndcg(scores, exclude, np.array([3, 0]), k=1) == 0.0
    # Ties count against the target: a constant scorer earns nothing.
    assert validation_ndcg(np.zeros((2, 4)), exclude, np.array([3, 0]), k=1) == 0.0


def test_sampled_negatives_are_never_the_users_own_items():
    train = sp.csr_matrix(np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0]], dtype=np.float32))
    rng = np.random.default_rng(0)
    users = np.array([0, 1] * 500)
    negatives = sample_negatives(users, train, 3, rng, rounds=20)
    assert not np.isin(negatives[users == 0], [0, 1, 2]).any()
    assert not np.isin(negatives[users == 1], [3, 4]).any()


# ------------------------------------------------------------------ the loop's promises
@pytest.mark.parametrize("name", NEURAL)
def test_two_fits_with_the_same_seed_give_equal_scores_and_another_seed_other_ones(name):
    dataset = two_taste_data()
    params = {"epochs": 3} if name != "item2vec" else {"epochs": 3}
    users = np.arange(dataset.n_users)
    first = make_model(name, **params).fit(dataset).score_users(users)
    again = make_model(name, **params).fit(dataset).score_users(users)
    np.testing.assert_array_equal(first, again)
    other = make_model(name, random_state=1, **params).fit(dataset).score_users(users)
    assert not np.allclose(np.nan_to_num(first), np.nan_to_num(other))


def test_early_stopping_reads_the_validation_part_keeps_the_best_epoch_and_reports_each_epoch():
    dataset = two_taste_data()
    validation = validation_holdout(dataset)
    assert validation.n_ratings == dataset.n_users  # one interaction per user with >= 3
    events = []
    model = make_model("mf-bce", epochs=25, patience=2, learning_rate=0.05).fit(
        dataset, progress=events.append, validation=validation)
    history = model.history_
    assert [event.epoch for event in events] == [row["epoch"] for row in history]
    assert all(event.loss is not None and event.validation is not None for event in events)
    best = max(history, key=lambda row: row["validation"])
    assert model.best_epoch_ == best["epoch"]
    # The kept parameters are the best epoch's: the final model's validation NDCG is the best one.
    from recsys_core.models.neural.training import validation_ndcg as metric

    frame = validation.interactions
    rows = model.train_matrix_[frame["user_idx"].to_numpy()]
    scores = model._score_rows(rows, frame["user_idx"].to_numpy())
    assert metric(scores, rows, frame["item_idx"].to_numpy()) == pytest.approx(best["validation"])
    # The validation pairs were not learnt from, and stay "seen" for ranking.
    held = set(zip(frame["user_idx"], frame["item_idx"]))
    learnt = set(zip(*model.train_matrix_.nonzero()))
    assert not held & learnt
    top = model.recommend_indices(frame["user_idx"].to_numpy(), n=5)
    assert not any(item in top[row] for row, item in enumerate(frame["item_idx"]))


def test_a_diverging_fit_stops_with_a_plain_message():
    dataset = two_taste_data()
    with pytest.raises(ModelDivergedError, match="diverged in epoch .*learning rate"):
        make_model("fm", task="ratings", learning_rate=1e30, epochs=5, l2=0.0).fit(dataset)


def test_without_torch_the_torch_models_say_how_to_install_it_and_the_others_still_fit(monkeypatch):
    dataset = two_taste_data()
    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" now raises ImportError
    with pytest.raises(RecsysError, match="torch.*not installed.*pip install torch==2.13.0"):
        make_model("lightgcn", epochs=1).fit(dataset)
    make_model("ease").fit(dataset)
    make_model("item2vec", epochs=1).fit(dataset)


def test_import_of_the_package_does_not_import_torch():
    import subprocess

    code = "import sys, recsys_core.models, recsys_core.evaluation.runner; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_runner_keeps_each_epochs_loss_and_validation_score():
    dataset = two_taste_data()
    result = evaluate(dataset, ["mf-bce", "popular"], split="random", ks=(5,))
    assert not result.errors
    history = result.history
    assert set(history["model"]) == {"mf-bce"}
    assert history["loss"].notna().all() and history["validation"].notna().all()
    assert history["best"].sum() == 1 and set(history["validation_metric"]) == {"NDCG@10"}


# ------------------------------------------------------------------ features, notes, cold start
def test_feature_models_without_features_run_on_ids_and_say_so():
    dataset = Dataset.from_frames(two_taste_data().interactions[["user", "item", "rating"]], rating_scale=(1, 5))
    fm = make_model("fm", epochs=2).fit(dataset)
    assert "no user or item features" in fm.feature_note_
    tower = make_model("two-tower", epochs=2).fit(dataset)
    assert "ids only" in tower.feature_note_
    with pytest.raises(Exception, match="cannot place a new item"):
        tower.new_item_scores({"genres": "Even"})


def test_item2vec_without_timestamps_uses_the_file_order_and_says_so():
    frame = two_taste_data().interactions[["user", "item"]].assign(rating=1.0)
    model = make_model("item2vec", epochs=2).fit(Dataset.from_frames(frame, name="clicks", implicit=True))
    assert "file order" in model.order_note_


def test_fm_on_ratings_predicts_ratings_and_on_clicks_ranks():
    ratings = two_taste_data()
    fm = make_model("fm", epochs=3).fit(ratings)
    assert fm.predicts_ratings and fm.capabilities()["predicts_ratings"]
    clicks = Dataset.from_frames(ratings.interactions[["user", "item"]].assign(rating=1.0), name="clicks",
                                 implicit=True)
    fm_clicks = make_model("fm", epochs=3).fit(clicks)
    assert not fm_clicks.predicts_ratings and not fm_clicks.capabilities()["predicts_ratings"]


@pytest.fixture(scope="module")
def fitted_on_sample(sample):
    # Few epochs (the suite's budget); early stopping would end most of them about there on this sample.
    settings = {"mf-bce": {"epochs": 8}, "ncf": {"epochs": 8}, "two-tower": {"epochs": 6}, "lightgcn": {"epochs": 10},
                "fm": {"task": "ranking", "epochs": 8}, "item2vec": {"epochs": 10}}
    return {name: make_model(name, **params).fit(sample) for name, params in settings.items()}


@pytest.mark.parametrize("name", NEURAL)
def test_the_planted_genre_shows_in_each_models_similar_items(sample, fitted_on_sample, name):
    model = fitted_on_sample[name]
    truth = sample.items["genre_truth"].to_numpy()
    counts = sample.item_counts
    popular = np.argsort(-counts)[:20]  # well-known items: their vectors are trained
    shares = []
    for item in popular:
        frame = model.similar_items(sample.item_ids[item], n=10)
        shares.append(np.mean(truth[sample.item_indices(frame["item"])] == truth[item]))
    n_genres = len(set(truth))
    assert np.mean(shares) >= 3 / n_genres, (name, np.mean(shares))


def test_two_tower_serves_a_brand_new_item_from_its_features(sample, fitted_on_sample):
    model = fitted_on_sample["two-tower"]
    genre_of = sample.items.set_index("item")["genre_truth"]
    # A new item described like the catalogue's items of one planted genre.
    target = sample.items[sample.items["genre_truth"] == genre_of.iloc[0]].iloc[0]
    scores = model.new_item_scores({"title": "A brand-new film", "genres": target["genres"],
                                    "description": target["description"]})
    assert scores.shape == (sample.n_users,) and np.isfinite(scores).all()
    # The users who took most items of that genre rank the new item above the others.
    genre_items = np.flatnonzero(sample.items["genre_truth"].to_numpy() == target["genre_truth"])
    share = np.asarray(sample.matrix[:, genre_items].getnnz(axis=1)) / np.maximum(sample.user_counts, 1)
    fans = share >= np.quantile(share, 0.8)
    rest = share <= np.quantile(share, 0.2)
    assert scores[fans].mean() > scores[rest].mean()


def test_two_tower_and_fm_answer_demographics_through_features(sample, fitted_on_sample):
    for name in ("two-tower", "fm"):
        scores = fitted_on_sample[name].demographic_scores({"gender": sample.users["gender"].iloc[0], "age": 30})
        assert scores.shape == (sample.n_items,) and np.isfinite(scores).all()


# mf-bce and ncf fold in too (the contract test checks it), but on this sample five items of one genre do not
# yet steer them to that genre (2 and 0 of 10): a known limitation, said in the README, not hidden here.
@pytest.mark.parametrize("name", ["two-tower", "lightgcn", "fm", "item2vec"])
def test_fold_in_is_fast_and_follows_the_given_items(sample, fitted_on_sample, name):
    import time

    model = fitted_on_sample[name]
    truth = sample.items["genre_truth"].to_numpy()
    genre = "Space Sci-Fi"  # a planted genre (tests/unit/test_believable.py asks the same of the classics)
    liked = np.flatnonzero(truth == genre)[np.argsort(-sample.item_counts[truth == genre])][:5]
    start = time.perf_counter()
    scores = model.fold_in(liked, np.full(len(liked), 5.0))
    assert time.perf_counter() - start < 1.0  # the issue's goal is 100 ms at 100k (benchmark); loose here
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    scores[liked] = -np.inf
    top = np.argsort(-scores)[:10]
    assert np.mean(truth[top] == genre) >= 0.5, (name, truth[top])


def test_cold_start_by_demographics_goes_through_the_feature_models_own_user_side(sample, fitted_on_sample):
    from recsys_core import cold_start

    gender = sample.users["gender"].iloc[0]
    for name in ("two-tower", "fm"):
        model = fitted_on_sample[name]
        assert model.can("new_user_features")
        answer = cold_start.from_demographics(model, {"gender": gender, "age": 30}, n=5)
        assert answer.recommendations is not None and len(answer.recommendations) == 5
        assert answer.recommendations["reason"].str.contains("placed from your attributes").all()
    # A model without user features still answers, from look-alike users.
    answer = cold_start.from_demographics(fitted_on_sample["mf-bce"], {"gender": gender}, n=5)
    assert answer.recommendations["reason"].str.contains("users like you").all()


def test_the_tuner_prunes_trials_of_models_trained_per_epoch_on_their_validation_curve():
    from recsys_core.evaluation.tuning import tune

    dataset = two_taste_data(n_users=120)
    train = make_splits(dataset, "random", seed=0)[0].train
    result = tune(train, "mf-bce", n_trials=8, seed=0, k=5,
                  fixed_params={"epochs": 8, "patience": 0})
    states = result.trials["state"].value_counts().to_dict()
    assert states.get("complete", 0) >= 3  # the start-up trials run to the end
    assert set(states) <= {"complete", "pruned", "failed"}
    pruned = [t for t in result.study.trials if t.state.name == "PRUNED"]
    assert all(len(t.intermediate_values) >= 1 for t in pruned)
    assert np.isfinite(result.best_value)
