"""The numba SVD fit (models._sgd) reproduces surprise.SVD's fit: same parameters, same predictions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import surprise

from recsys_core.dataset import Dataset
from recsys_core.models import make_model
from recsys_core.models._sgd import fit_svd
from recsys_core.models._surprise import build_trainset

TOLERANCE = 1e-9


def rating_rows(n_users: int, n_items: int, n_ratings: int, seed: int, string_ids: bool) -> pd.DataFrame:
    """Distinct (user, item) rows in random order: ids first appear at random places, some only late."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_ratings * 3)
    items = rng.zipf(1.3, n_ratings * 3) % n_items  # long tail: items with one rating
    frame = pd.DataFrame({"user": users, "item": items}).drop_duplicates().head(n_ratings)
    frame["rating"] = rng.choice(np.arange(1, 11) / 2, len(frame))
    if string_ids:
        frame["user"] = "u" + frame["user"].astype(str)
        frame["item"] = "item-" + frame["item"].astype(str)
    return frame.reset_index(drop=True)


CASES = [
    # (n_users, n_items, n_ratings, data seed, string ids, fit parameters)
    (12, 20, 150, 0, False, {"n_factors": 4, "n_epochs": 10, "random_state": 0}),
    (40, 25, 300, 1, True, {"n_factors": 8, "n_epochs": 15, "random_state": 7}),
    (30, 60, 400, 2, False, {"n_factors": 5, "n_epochs": 12, "biased": False, "random_state": 3}),
    (25, 35, 350, 3, True, {"n_factors": 6, "n_epochs": 20, "random_state": 11, "init_mean": 0.05,
                            "init_std_dev": 0.2, "lr_bu": 0.01, "lr_bi": 0.002, "lr_pu": 0.02, "lr_qi": 0.007,
                            "reg_bu": 0.1, "reg_bi": 0.0, "reg_pu": 0.05, "reg_qi": 0.03}),
    (50, 40, 500, 4, False, {"n_factors": 3, "n_epochs": 8, "biased": False, "lr_all": 0.01, "reg_all": 0.1,
                             "lr_qi": 0.003, "reg_pu": 0.2, "random_state": 123456}),
]


@pytest.mark.parametrize("n_users,n_items,n_ratings,seed,string_ids,params", CASES)
def test_parameters_equal_surprise_fit(n_users, n_items, n_ratings, seed, string_ids, params):
    frame = rating_rows(n_users, n_items, n_ratings, seed, string_ids)
    trainset = surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=(0.5, 5))).build_full_trainset()
    algo = surprise.SVD(verbose=False, **params).fit(trainset)
    # Our indices deliberately differ from Surprise's inner ids (sorted, not first appearance).
    user_codes, user_vocab = pd.factorize(frame["user"], sort=True)
    item_codes, item_vocab = pd.factorize(frame["item"], sort=True)
    fitted = fit_svd(user_codes, item_codes, frame["rating"].to_numpy(), len(user_vocab), len(item_vocab), **params)

    expected_users = [trainset.to_raw_uid(inner) for inner in range(trainset.n_users)]
    expected_items = [trainset.to_raw_iid(inner) for inner in range(trainset.n_items)]
    assert list(user_vocab[fitted.users]) == expected_users
    assert list(item_vocab[fitted.items]) == expected_items
    assert fitted.global_mean == trainset.global_mean
    for name in ("bu", "bi", "pu", "qi"):
        ours, theirs = getattr(fitted, name), getattr(algo, name)
        assert ours.shape == theirs.shape, name
        assert np.abs(ours - theirs).max(initial=0.0) <= TOLERANCE, name
    if not params.get("biased", True):
        assert not fitted.bu.any() and not fitted.bi.any()


def test_random_state_instance_is_used_as_the_rng():
    frame = rating_rows(15, 15, 100, 5, False)
    trainset = surprise.Dataset.load_from_df(frame, surprise.Reader(rating_scale=(0.5, 5))).build_full_trainset()
    algo = surprise.SVD(n_factors=3, n_epochs=5, random_state=np.random.RandomState(9)).fit(trainset)
    codes_u, _ = pd.factorize(frame["user"])
    codes_i, _ = pd.factorize(frame["item"])
    fitted = fit_svd(codes_u, codes_i, frame["rating"].to_numpy(), codes_u.max() + 1, codes_i.max() + 1,
                     n_factors=3, n_epochs=5, random_state=np.random.RandomState(9))
    assert np.abs(fitted.pu - algo.pu).max() <= TOLERANCE
    assert np.abs(fitted.qi - algo.qi).max() <= TOLERANCE


@pytest.mark.parametrize("params", [{"n_factors": 6, "n_epochs": 10, "random_state": 4},
                                    {"n_factors": 4, "n_epochs": 10, "biased": False, "lr_all": 0.01,
                                     "reg_all": 0.05, "init_std_dev": 0.3, "random_state": 8}])
def test_model_predictions_equal_surprise_predict(params):
    """The SVD model on a train split with string ids: every pair, unknown users and items included."""
    full = Dataset.from_frames(rating_rows(30, 40, 400, 6, True), rating_scale=(0.5, 5), name="strings")
    frame = full.interactions
    # A random 80 %, without one user's and one item's ratings (unknown to the fit).
    kept = (frame["user"] != "u3").to_numpy() & (frame["item"] != "item-2").to_numpy()
    rows = np.random.default_rng(2).permutation(np.flatnonzero(kept))[: int(0.8 * kept.sum())]
    train = full.subset(rows, name="train")
    assert (train.user_counts == 0).any() and (train.item_counts == 0).any()
    model = make_model("svd", **params).fit(train)
    algo = surprise.SVD(verbose=False, **params).fit(build_trainset(train))

    users = np.repeat(np.arange(full.n_users), full.n_items)
    items = np.tile(np.arange(full.n_items), full.n_users)
    predictions = [algo.predict(int(u), int(i)) for u, i in zip(users, items)]
    expected = np.array([prediction.est for prediction in predictions])
    expected_impossible = np.array([prediction.details["was_impossible"] for prediction in predictions])
    # Bulk scores (clipped to the scale, as predict): NaN exactly where Surprise cannot predict (unbiased SVD, an unknown side).
    scores = model.score_users(np.arange(full.n_users)).ravel()
    np.testing.assert_array_equal(np.isnan(scores), expected_impossible)
    assert expected_impossible.any() != params.get("biased", True)
    possible = ~expected_impossible
    assert np.abs(scores[possible] - expected[possible]).max() <= TOLERANCE
    ours, impossible = model.predict_indices(users, items)
    np.testing.assert_array_equal(impossible, expected_impossible)
    assert np.abs(ours[possible] - expected[possible]).max() <= TOLERANCE


def test_fit_reports_each_epoch_and_needs_no_trainset_memory():
    train = Dataset.from_frames(rating_rows(10, 10, 60, 7, False), rating_scale=(0.5, 5), name="tiny")
    calls = []
    make_model("svd", n_epochs=4, n_factors=2).fit(train, progress=lambda event: calls.append(event.fraction))
    assert calls == [0.25, 0.5, 0.75, 1.0]
    # MovieLens-25M's shape: arrays only (~1 GB), where Surprise's Trainset alone is ~6 GB.
    estimate = make_model("svd").memory_estimate(162_541, 59_047, 25_000_095)
    assert estimate < 1.5 * 1024**3 < make_model("svdpp").memory_estimate(162_541, 59_047, 25_000_095)
