"""lightfm: a hybrid that serves new items through their genres, tags and words."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

# lightfm is installed by .ci/run (built from source); a missing package fails here rather than skipping.
import lightfm  # noqa: E402,F401

from recsys_core.data import load_sample  # noqa: E402
from recsys_core.dataset import Dataset  # noqa: E402
from recsys_core.errors import ColdStartError, RecsysError  # noqa: E402
from recsys_core.evaluation.runner import evaluate  # noqa: E402
from recsys_core.models import REGISTRY, make_model  # noqa: E402

GENRES = ("Space|Adventure", "Romance|Drama", "Western")
TEXT = ("A starship crew explores distant planets.", "Two lovers meet in a seaside town.",
        "A lone rider crosses the desert.")


def planted(seed: int = 0, with_metadata: bool = True) -> Dataset:
    """Items 0-19 Space, 20-39 Romance, 40-59 Western; users 0-29 take Space, 30-59 Romance.

    Items "new-space" and "new-romance" are in the catalogue but nobody took them.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(60):
        liked = np.arange(20) if user < 30 else np.arange(20, 40)
        taken = np.concatenate([rng.choice(liked, 10, replace=False), rng.choice(60, 2, replace=False)])
        rows += [(f"u{user}", f"i{item}", 5.0) for item in np.unique(taken)]
    frame = pd.DataFrame(rows, columns=["user", "item", "rating"])
    item_ids = np.array([f"i{i}" for i in range(60)] + ["new-space", "new-romance"], dtype=object)
    items = users = None
    if with_metadata:
        kinds = [i // 20 for i in range(60)] + [0, 1]
        items = pd.DataFrame({"item": item_ids, "title": [f"Film {i}" for i in range(62)],
                              "genres": [GENRES[k] for k in kinds], "description": [TEXT[k] for k in kinds]})
        users = pd.DataFrame({"user": [f"u{u}" for u in range(60)],
                              "gender": np.where(np.arange(60) % 2 == 0, "F", "M"),
                              "age": 18 + np.arange(60) % 40})
    return Dataset.from_frames(frame, rating_scale=(1, 5), items=items, users=users, item_ids=item_ids,
                               name="planted")


@pytest.fixture(scope="module")
def dataset():
    return planted()


@pytest.fixture(scope="module")
def fitted(dataset):
    return make_model("lightfm", epochs=15).fit(dataset)


def test_registered_with_its_capabilities():
    cls = REGISTRY["lightfm"]
    caps = cls.capabilities()
    assert caps["uses_features"] and caps["item_embeddings"] and caps["user_embeddings"]
    assert caps["folds_in"] and caps["reports_progress"] and not caps["predicts_ratings"]
    assert {p.name for p in cls.params} >= {"no_components", "loss", "learning_rate", "item_alpha", "user_alpha",
                                            "epochs", "use_item_features", "use_user_features", "feedback"}
    assert cls.param("loss").choices == ("warp", "bpr")


def test_scores_shapes_and_bulk_scores_equal_lightfm_predict(dataset, fitted):
    scores = fitted.score_users(np.arange(dataset.n_users))
    assert scores.shape == (dataset.n_users, dataset.n_items)
    assert np.isfinite(scores).all()
    assert fitted.item_embeddings().shape == (dataset.n_items, 64)
    assert fitted.user_embeddings().shape == (dataset.n_users, 64)
    users = np.repeat(np.arange(0, 60, 7), dataset.n_items).astype(np.int32)
    items = np.tile(np.arange(dataset.n_items), len(np.arange(0, 60, 7))).astype(np.int32)
    expected = fitted.model_.predict(users, items, user_features=fitted.features_.user_matrix,
                                     item_features=fitted.features_.item_matrix, num_threads=1)
    np.testing.assert_allclose(scores[users, items], expected, rtol=1e-4, atol=1e-4)


def test_deterministic_with_a_seed_and_reports_each_epoch(dataset, fitted):
    calls = []
    again = make_model("lightfm", epochs=15).fit(dataset, progress=lambda e: calls.append((e.fraction, e.message)))
    users = np.arange(dataset.n_users)
    np.testing.assert_array_equal(fitted.score_users(users), again.score_users(users))
    assert len(calls) == 15 and calls[-1] == (1.0, "epoch 15 of 15")
    other = make_model("lightfm", epochs=15, random_state=1).fit(dataset)
    assert not np.allclose(fitted.score_users(users), other.score_users(users))


def test_an_unrated_item_is_served_through_its_genres(dataset, fitted):
    space_fans, romance_fans = np.arange(30), np.arange(30, 60)
    scores = fitted.score_users(np.arange(dataset.n_users))
    new_space, new_romance = dataset.item_index("new-space"), dataset.item_index("new-romance")
    assert dataset.item_counts[[new_space, new_romance]].sum() == 0
    # Space fans put the never-rated Space item above every Romance item; Romance fans the reverse.
    assert (scores[space_fans, new_space] > scores[space_fans][:, 20:40].max(axis=1)).mean() >= 0.9
    assert (scores[romance_fans, new_romance] > scores[romance_fans][:, :20].max(axis=1)).mean() >= 0.9
    top = fitted.recommend_indices(space_fans, n=10)
    assert (top == new_space).any(axis=1).mean() >= 0.5


def test_a_brand_new_item_is_scored_from_its_metadata_alone(fitted):
    scores = fitted.new_item_scores({"genres": "Space|Adventure", "title": "Starfall"})
    assert scores.shape == (60,)
    assert scores[:30].min() > scores[30:].max()
    romance = fitted.new_item_scores({"genres": ["Romance", "Drama"]})
    assert romance[30:].mean() > romance[:30].mean()
    with pytest.raises(ColdStartError, match="vocabulary"):
        fitted.new_item_scores({"genres": "Documentary"})


def test_a_new_item_described_by_words_only(dataset):
    model = make_model("lightfm", epochs=15, max_words=100).fit(dataset)
    assert any(name.startswith("word:starship") for name in model.features_.item_feature_names)
    scores = model.new_item_scores({"description": "A starship lands on distant planets."})
    assert scores[:30].mean() > scores[30:].mean()


def test_fold_in_follows_the_given_ratings(dataset, fitted):
    for liked, kind in ((np.array([1, 4, 7, 9]), slice(0, 20)), (np.array([21, 25, 33]), slice(20, 40))):
        scores = fitted.fold_in(liked, np.full(len(liked), 5.0))
        assert scores.shape == (dataset.n_items,)
        unseen = np.setdiff1d(np.arange(60), liked)
        best = unseen[np.argsort(-scores[unseen])[:10]]
        assert np.isin(best, np.arange(60)[kind]).mean() >= 0.8


def test_without_metadata_it_still_fits_and_says_why_new_items_cannot_be_placed():
    bare = planted(with_metadata=False)
    model = make_model("lightfm", epochs=5).fit(bare)
    assert model.features_.item_metadata_features == 0 and model.features_.user_metadata_features == 0
    scores = model.score_users(np.arange(bare.n_users))
    assert np.isfinite(scores).all()
    with pytest.raises(ColdStartError, match="no item metadata"):
        model.new_item_scores({"genres": "Space"})
    off = make_model("lightfm", epochs=5, use_item_features=False).fit(planted())
    with pytest.raises(ColdStartError, match="use_item_features=False"):
        off.new_item_scores({"genres": "Space"})


def test_features_never_read_ground_truth_columns():
    sample = load_sample()
    model = make_model("lightfm", epochs=1).fit(sample)
    names = model.features_.item_feature_names + model.features_.user_feature_names
    assert not any(name.startswith(("segment=", "genre_truth")) for name in names)
    assert any(name.startswith("genre:") for name in names) and any(name.startswith("age=") for name in names)


def test_missing_package_raises_a_message_saying_how_to_install(monkeypatch, dataset):
    monkeypatch.setitem(sys.modules, "lightfm", None)
    with pytest.raises(RecsysError, match="no-build-isolation lightfm"):
        make_model("lightfm").fit(dataset)


def test_beats_popular_on_the_bundled_sample():
    # Measured (random 80/20 split, seed 0): lightfm 0.385 NDCG@10, popular 0.143, fit about 3 s.
    table = evaluate(load_sample(), ["popular", "lightfm"], split="random", split_params={"seed": 0},
                     ks=(10,)).table
    ndcg = table[(table.metric == "ndcg") & (table.bucket == "all")].groupby("model").value.mean()
    assert ndcg["lightfm"] > 2 * ndcg["popular"]


def test_a_user_without_feedback_is_served_through_demographics_not_popularity():
    base = planted()
    frame = base.interactions[["user", "item", "rating"]]
    train = Dataset.from_frames(frame[frame.user != "u0"], rating_scale=(1, 5), items=base.items,
                                users=base.users, user_ids=base.user_ids, item_ids=base.item_ids)
    model = make_model("lightfm", epochs=5).fit(train)
    cold = train.user_index("u0")
    assert not model.fallback_users(np.array([cold]))[0]
    assert model.fallback_users_ == 0
    bare = make_model("lightfm", epochs=5, use_user_features=False).fit(train)
    assert bare.fallback_users(np.array([cold]))[0] and bare.fallback_users_ == 1
    np.testing.assert_allclose(bare.score_users(np.array([cold]))[0],
                               bare.popularity_ / bare.popularity_.max())
