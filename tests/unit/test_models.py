"""Models: bulk scores equal Surprise's own predict; one contract for every registered model."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import surprise

from recsys_core.dataset import Dataset
from recsys_core.errors import NotFittedError, UnknownIdError
from recsys_core.models import REGISTRY, make_model
from recsys_core.models._surprise import build_trainset


def random_ratings(n_users=60, n_items=90, n_ratings=1200, seed=1, half_stars=False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_ratings * 3)
    items = rng.zipf(1.4, n_ratings * 3) % n_items  # long tail: some items with one rating
    frame = pd.DataFrame({"user": users, "item": items}).drop_duplicates().head(n_ratings)
    scale = np.arange(1, 11) / 2 if half_stars else np.arange(1, 6)
    frame["rating"] = rng.choice(scale, len(frame)).astype(float)
    frame["timestamp"] = rng.integers(0, 10**6, len(frame))
    return frame.reset_index(drop=True)


@pytest.fixture(scope="module")
def split_data():
    """A train set with full vocabularies, where some users and items have no training ratings."""
    full = Dataset.from_frames(random_ratings(), rating_scale=(1, 5), name="random")
    rng = np.random.default_rng(3)
    rows = rng.permutation(full.n_ratings)[: int(full.n_ratings * 0.8)]
    return full, full.subset(rows, name="train")


def surprise_predictions(algo, train: Dataset, users: np.ndarray, items: np.ndarray):
    """Surprise's predict on index pairs (our indices are the raw ids of the trainset)."""
    estimates, impossible = np.empty(len(users)), np.zeros(len(users), bool)
    for position, (user, item) in enumerate(zip(users, items)):
        prediction = algo.predict(int(user), int(item))
        estimates[position] = prediction.est
        impossible[position] = prediction.details.get("was_impossible", False)
    return estimates, impossible


SURPRISE_CASES = [
    ("svd", {}, lambda: surprise.SVD(random_state=0, verbose=False)),
    ("svd", {"n_factors": 5, "biased": False}, lambda: surprise.SVD(n_factors=5, biased=False, random_state=0, verbose=False)),
    ("svdpp", {"n_epochs": 5}, lambda: surprise.SVDpp(n_epochs=5, random_state=0, verbose=False)),
    ("nmf", {}, lambda: surprise.NMF(random_state=0, verbose=False)),
    ("baseline", {}, lambda: surprise.BaselineOnly(verbose=False)),
    ("coclustering", {}, lambda: surprise.CoClustering(random_state=0, verbose=False)),
] + [
    (name, {"similarity": sim, "user_based": user_based, "k": 8},
     lambda cls=cls, sim=sim, user_based=user_based: cls(k=8, sim_options={"name": sim, "user_based": user_based}, verbose=False))
    for name, cls in (("knn-basic", surprise.KNNBasic), ("knn-means", surprise.KNNWithMeans), ("knn-baseline", surprise.KNNBaseline))
    for sim in ("msd", "cosine", "pearson", "pearson_baseline")
    for user_based in (True, False)
]


@pytest.mark.parametrize("name,params,make_surprise", SURPRISE_CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in p.items())}" for n, p, _ in SURPRISE_CASES])
def test_bulk_scores_equal_surprise_predict(split_data, name, params, make_surprise):
    full, train = split_data
    algo = make_surprise().fit(build_trainset(train))
    model = make_model(name, **params).fit(train)
    # Every pair, including users and items that have no training ratings.
    users = np.repeat(np.arange(full.n_users), full.n_items)
    items = np.tile(np.arange(full.n_items), full.n_users)
    expected, expected_impossible = surprise_predictions(algo, train, users, items)
    ours, impossible = model.predict_indices(users, items)
    np.testing.assert_allclose(ours, expected, atol=1e-6, rtol=0)
    # Surprise flags impossible predictions for KNN; SVD/co-clustering silently give a fall-back,
    # which we flag too where it is the bare global mean.
    assert (impossible | ~expected_impossible).all()
    if name.startswith("knn-basic") or name == "nmf":
        np.testing.assert_array_equal(impossible, expected_impossible)


def test_sparse_neighbour_mode_matches_dense_when_it_keeps_every_neighbour(split_data):
    _, train = split_data
    dense = make_model("knn-means", user_based=False, k=5).fit(train)
    sparse = make_model("knn-means", user_based=False, k=5, max_dense=10, max_neighbours=train.n_items).fit(train)
    assert sparse.sparse_ and not dense.sparse_
    users = np.arange(train.n_users)
    np.testing.assert_allclose(sparse.score_users(users), dense.score_users(users), atol=1e-12)


def test_sparse_neighbour_mode_keeps_top_neighbours_only(split_data):
    _, train = split_data
    model = make_model("knn-basic", k=5, max_dense=10, max_neighbours=7).fit(train)
    assert model.sim_.getnnz(axis=1).max() <= 7
    scores = model.score_users(np.arange(train.n_users))
    assert np.isfinite(scores).any()


@pytest.fixture(scope="module")
def small_dataset():
    frame = random_ratings(n_users=40, n_items=50, n_ratings=600, seed=5)
    items = pd.DataFrame({
        "item": np.arange(50),
        "title": [f"Film {i}" for i in range(50)],
        "genres": np.where(np.arange(50) % 2 == 0, "Space|Adventure", "Romance|Drama"),
        "description": np.where(np.arange(50) % 2 == 0, "A starship crew explores distant planets.",
                                "Two lovers meet in a small seaside town."),
    })
    return Dataset.from_frames(frame, rating_scale=(1, 5), items=items, name="small")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_model_contract(small_dataset, name):
    dataset = small_dataset
    model = make_model(name)
    with pytest.raises(NotFittedError):
        model.recommend("0", n=5)
    assert model.fit(dataset) is model
    users = np.arange(dataset.n_users)
    scores = model.score_users(users)
    assert scores.shape == (dataset.n_users, dataset.n_items)
    rated_users = dataset.user_counts > 0
    if name not in ("knn-basic",):  # knn-basic may honestly have no usable neighbour for a pair
        assert np.isfinite(scores[rated_users][:, dataset.item_counts > 0]).all()
    if model.predicts_ratings:
        finite = scores[np.isfinite(scores)]
        assert finite.min() >= 1 and finite.max() <= 5
    top = model.recommend_indices(users, n=10)
    assert top.shape == (dataset.n_users, 10)
    seen = dataset.matrix.toarray() != 0
    for user in users:
        picked = top[user][top[user] >= 0]
        assert len(set(picked)) == len(picked)
        assert not seen[user, picked].any(), "seen items must be excluded"
    # Deterministic with a seed.
    again = make_model(name).fit(dataset).recommend_indices(users, n=10)
    np.testing.assert_array_equal(top, again)
    raw_user = dataset.user_ids[0]
    frame = model.recommend(raw_user, n=5)
    assert list(frame.columns[:4]) == ["rank", "item", "title", "score"]
    assert len(frame) <= 5
    with pytest.raises(UnknownIdError):
        model.recommend("no-such-user")
    if model.predicts_ratings:
        assert 1 <= model.predict(raw_user, dataset.item_ids[0]) <= 5
        with pytest.raises(UnknownIdError):
            model.predict(raw_user, "no-such-item")
    # Cold start: a new user with three ratings gets a full score vector.
    folded = model.fold_in(np.array([0, 1, 2]), np.array([5.0, 4.0, 1.0]))
    assert folded.shape == (dataset.n_items,)


@pytest.mark.parametrize("name,params", [
    ("knn-basic", {"user_based": False, "similarity": "cosine"}),
    ("knn-means", {"user_based": True, "similarity": "pearson"}),
    ("knn-baseline", {"user_based": True, "similarity": "msd"}),
    ("knn-basic", {"user_based": True, "similarity": "cosine"}),
])
def test_knn_fold_in_of_an_existing_user_reproduces_their_scores(name, params):
    # Half-star ratings make similarity ties unlikely, so neighbour order cannot matter.
    dataset = Dataset.from_frames(random_ratings(half_stars=True, seed=9), rating_scale=(0.5, 5))
    model = make_model(name, **params).fit(dataset)
    user = int(np.argmax(dataset.user_counts))
    rows = dataset.interactions[dataset.interactions.user_idx == user]
    folded = model.fold_in(rows.item_idx.to_numpy(), rows.rating.to_numpy())
    expected = model._score_users(np.array([user]))[0]
    unseen = np.setdiff1d(np.arange(dataset.n_items), rows.item_idx.to_numpy())
    np.testing.assert_allclose(folded[unseen], expected[unseen], atol=1e-9)


def planted_two_tastes(seed=0) -> Dataset:
    """Users of taste A love items of kind A (5) and dislike kind B (1), and vice versa."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 80, 4000)
    items = rng.integers(0, 60, 4000)
    frame = pd.DataFrame({"user": users, "item": items}).drop_duplicates()
    match = (frame.user % 2) == (frame["item"] % 2)
    frame["rating"] = np.where(match, 5.0, 1.0)
    return Dataset.from_frames(frame, rating_scale=(1, 5))


@pytest.mark.parametrize("name", ["svd", "svdpp", "nmf", "coclustering", "baseline", "knn-basic", "knn-means"])
def test_fold_in_of_a_new_user_follows_their_ratings(name):
    dataset = planted_two_tastes()
    model = make_model(name).fit(dataset)
    liked = dataset.item_indices([0, 2, 4])  # kind A (even ids)
    disliked = dataset.item_indices([1, 3])
    scores = model.fold_in(np.concatenate([liked, disliked]), np.array([5.0, 5.0, 5.0, 1.0, 1.0]))
    kind_a = np.array([int(raw) % 2 == 0 for raw in dataset.item_ids])
    if name == "baseline":  # biases only: no taste, so both kinds score alike
        assert abs(np.nanmean(scores[kind_a]) - np.nanmean(scores[~kind_a])) < 0.5
    else:
        assert np.nanmean(scores[kind_a]) > np.nanmean(scores[~kind_a]) + 1.5


def test_ties_are_broken_by_seeded_permutation_not_by_id(small_dataset):
    model = make_model("popular").fit(small_dataset)
    scores = np.zeros((1, small_dataset.n_items))  # every item tied
    first = model.top_n(scores, small_dataset.n_items)[0]
    other = make_model("popular", random_state=1).fit(small_dataset).top_n(scores, small_dataset.n_items)[0]
    assert sorted(first) == list(range(small_dataset.n_items))
    assert not np.array_equal(first, np.arange(small_dataset.n_items)), "ties must not follow index order"
    assert not np.array_equal(first, other), "the seed decides the tie-break"
    np.testing.assert_array_equal(first, make_model("popular").fit(small_dataset).top_n(scores, small_dataset.n_items)[0])


def test_top_n_puts_unscored_items_last_and_pads():
    from recsys_core.models import rank_top_n

    scores = np.array([[np.nan, 2.0, 5.0, np.nan, 1.0]])
    exclude = np.array([[False, False, False, False, True]])
    top = rank_top_n(scores, 5, np.arange(5), exclude)
    np.testing.assert_array_equal(top, [[2, 1, 0, 3, -1]])
    top = rank_top_n(scores, 2, np.arange(5), exclude)
    np.testing.assert_array_equal(top, [[2, 1]])
    # Ties: lower tie-break rank first.
    top = rank_top_n(np.array([[1.0, 1.0, 1.0]]), 2, np.array([2, 0, 1]))
    np.testing.assert_array_equal(top, [[1, 2]])


def test_top_n_equals_a_full_lexicographic_sort():
    from recsys_core.models import rank_top_n

    rng = np.random.default_rng(0)
    for _ in range(30):
        n_rows, n_cols = rng.integers(1, 8), rng.integers(1, 40)
        scores = rng.integers(1, 4, (n_rows, n_cols)).astype(float)  # many ties
        scores[rng.random(scores.shape) < 0.2] = np.nan
        exclude = rng.random(scores.shape) < 0.3
        tie_break = rng.permutation(n_cols)
        n = int(rng.integers(1, n_cols + 3))
        top = rank_top_n(scores, n, tie_break, exclude)
        for row in range(n_rows):
            candidates = np.flatnonzero(~exclude[row])
            value = np.where(np.isnan(scores[row, candidates]), -np.inf, scores[row, candidates])
            expected = candidates[np.lexsort((tie_break[candidates], -value))][:n]
            np.testing.assert_array_equal(top[row, : len(expected)], expected)
            assert (top[row, len(expected):] == -1).all()


def test_compiled_top_n_equals_the_numpy_rule():
    from recsys_core.models.base import rank_top_n, rank_top_n_numpy

    rng = np.random.default_rng(1)
    for case in range(60):
        n_rows, n_cols = int(rng.integers(1, 12)), int(rng.integers(1, 70))
        scores = rng.integers(-2, 3, (n_rows, n_cols)) / 2.0  # many ties, -0.0 and 0.0
        scores[rng.random(scores.shape) < 0.15] = np.nan
        scores[rng.random(scores.shape) < 0.05] = -np.inf  # never a candidate, like an excluded item
        scores[rng.random(scores.shape) < 0.05] = np.inf
        exclude = (rng.random(scores.shape) < rng.random()) if case % 3 else None
        # A permutation (as the models use), or repeated ranks (then column order decides).
        tie_break = rng.permutation(n_cols) if case % 2 else rng.integers(0, 3, n_cols)
        for n in (1, 3, 10, n_cols + 2):
            np.testing.assert_array_equal(rank_top_n(scores, n, tie_break, exclude),
                                          rank_top_n_numpy(scores, n, tie_break, exclude), err_msg=f"case {case}")


def test_compiled_neighbour_kernel_equals_the_numpy_reference():
    from recsys_core.models._neighbours import select_sums, select_sums_numpy

    rng = np.random.default_rng(2)
    sims = rng.integers(-2, 5, (50, 80)) / 4.0  # ties and non-positive similarities
    for n_members, k in [(5, 10), (30, 10), (80, 1), (40, 40)]:
        members = rng.choice(80, n_members, replace=False)
        values = rng.random(n_members)
        rows = rng.choice(50, 20, replace=False)
        compiled = select_sums(np.ascontiguousarray(sims), rows, members, values, k)
        reference = select_sums_numpy(sims[rows][:, members], values, k)
        for ours, expected in zip(compiled, reference):
            np.testing.assert_allclose(ours, expected, atol=1e-12)


def test_sparse_block_kernel_equals_the_dense_reference():
    import scipy.sparse as sp

    from recsys_core.models._neighbours import csr_select_sums, select_sums_numpy

    rng = np.random.default_rng(5)
    dense = rng.integers(-2, 5, (40, 30)) / 4.0
    dense[rng.random(dense.shape) < 0.5] = 0.0  # unstored entries are similarity 0
    values = rng.random(30)
    for k in (1, 5, 40):
        ours = csr_select_sums(sp.csr_matrix(dense), values, k)
        expected = select_sums_numpy(dense, values, k)
        for got, want in zip(ours, expected):
            np.testing.assert_allclose(got, want, atol=1e-12)


def test_content_model_sparse_mode_matches_dense_when_it_keeps_every_neighbour(small_dataset):
    dense = make_model("content-tfidf", k=5).fit(small_dataset)
    sparse = make_model("content-tfidf", k=5, max_dense=10, max_neighbours=small_dataset.n_items).fit(small_dataset)
    assert sparse.sparse_ and not dense.sparse_
    users = np.arange(small_dataset.n_users)
    np.testing.assert_allclose(sparse.score_users(users), dense.score_users(users), atol=1e-12)


def test_kernel_warm_up_compiles_every_kernel():
    from recsys_core.models import _neighbours, warm_up_kernels

    warm_up_kernels()  # compiles or loads every kernel; raises if a signature is wrong
    if _neighbours.njit is not None:  # the three entry kernels now hold a compiled signature each
        for name in ("_select_sums", "_grouped_select_sums", "_csr_select_sums"):
            assert getattr(_neighbours, name).signatures, name


#: Settings whose instances have other capabilities than the defaults (checked like the defaults).
CAPABILITY_VARIANTS = [(name, {}) for name in sorted(REGISTRY)] + [
    ("knn-basic", {"user_based": False}), ("knn-means", {"user_based": False, "similarity": "cosine"}),
]


@pytest.mark.parametrize("name,settings", CAPABILITY_VARIANTS)
def test_declared_capabilities_are_true_in_fact(small_dataset, name, settings):
    """What an instance says it can do it does, and what it says it cannot it does not; parameters round-trip."""
    dataset = small_dataset
    cls = REGISTRY[name]
    model = make_model(name, **settings)
    params = model.get_params()
    assert model.set_params(**params) is model and model.get_params() == params
    twin = model.clone()
    assert twin is not model and twin.get_params() == params and not twin.is_fitted
    with pytest.raises(ValueError, match="no parameter"):
        model.set_params(no_such_parameter=1)
    model.fit(dataset)
    capabilities = model.capabilities()
    declared = cls.capabilities()
    # The class says what some setting can do; an instance never claims more than its class.
    assert all(declared[name] or not value for name, value in capabilities.items())
    vectors = model.item_embeddings()
    assert (vectors is not None) == capabilities["item_embeddings"]
    if vectors is not None:
        assert vectors.shape[0] == dataset.n_items
    vectors = model.user_embeddings()
    assert (vectors is not None) == capabilities["user_embeddings"]
    if vectors is not None:
        assert vectors.shape[0] == dataset.n_users
    if capabilities["similar_items"]:
        frame = model.similar_items(dataset.item_ids[0], n=5)
        assert 0 < len(frame) <= 5 and dataset.item_ids[0] not in set(frame["item"])
        assert {"similarity", "support"} <= set(frame.columns)
    if capabilities["folds_in"]:
        scores = model.fold_in(np.array([0, 1, 2]), np.array([5.0, 4.0, 5.0]))
        assert scores.shape == (dataset.n_items,)
    if capabilities["reads_text"]:
        assert np.asarray(model.text_vector("a starship crew")).size > 0
    if capabilities["uses_order"]:  # an ordered list answers, and its order is what the model reads
        ordered = model.fold_in_sequence(np.array([0, 1, 2]))
        assert ordered.shape == (dataset.n_items,) and np.isfinite(ordered).all()
    else:
        assert not hasattr(model, "fold_in_sequence")
    if not capabilities["predicts_ratings"]:
        assert model.predicts_ratings is False
    for param in cls.params:  # every declared parameter is a real constructor argument
        assert param.name in params, param.name
    # The progress callback reaches the caller for models that say they report progress.
    calls: list[float] = []
    make_model(name, **settings).fit(dataset, progress=lambda event: calls.append(event.fraction))
    if capabilities["reports_progress"]:
        assert calls and max(calls) <= 1.0


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_model_survives_a_pickle_round_trip(small_dataset, name):
    """Stored sessions pickle fitted models: the copy scores, ranks and folds in exactly as the original."""
    import pickle

    model = make_model(name).fit(small_dataset, progress=lambda event: None)  # a closure is not kept
    copy = pickle.loads(pickle.dumps(model))
    users = np.arange(small_dataset.n_users)
    np.testing.assert_array_equal(copy.score_users(users), model.score_users(users))
    np.testing.assert_array_equal(copy.recommend_indices(users, n=5), model.recommend_indices(users, n=5))
    assert copy.capabilities() == model.capabilities()
    if model.can("folds_in"):
        items, ratings = np.array([0, 1, 2]), np.array([5.0, 4.0, 5.0])
        np.testing.assert_array_equal(copy.fold_in(items, ratings), model.fold_in(items, ratings))


def test_a_model_missing_its_scoring_method_cannot_be_built():
    from recsys_core.models.base import Recommender

    class Incomplete(Recommender):
        name = "incomplete"

        def _fit(self, dataset):
            pass

    with pytest.raises(TypeError, match="_score_users"):
        Incomplete()
