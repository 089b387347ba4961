"""Forgetting users: the data set, every model's state, the exactness of the incremental updates, refusals."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_core.data import without_users
from recsys_core.dataset import Dataset
from recsys_core.errors import DataValidationError, ModelBusyError
from recsys_core.forget import forget, forget_model, user_data
from recsys_core.models import REGISTRY, make_model

GONE = ("gone-u7", "gone-u13")

#: Models whose default instance forgets incrementally (by the declared capability, never by name).
INCREMENTAL = sorted(name for name, cls in REGISTRY.items() if cls().capabilities()["forgets_users"])
#: A cheap model of each kind that refits (the rest of the registry refits through the same code path).
REFITTING = sorted(name for name, cls in REGISTRY.items()
                   if not cls().capabilities()["forgets_users"] and name in ("svd", "baseline", "knn-baseline"))


@pytest.fixture(scope="module")
def data() -> Dataset:
    rng = np.random.default_rng(3)
    users = [f"gone-u{u}" if f"gone-u{u}" in GONE else f"u{u}" for u in range(30)]
    pairs = {(u, i) for u, i in zip(rng.integers(0, 30, 700), rng.integers(0, 40, 700))}
    frame = pd.DataFrame(sorted(pairs), columns=["u", "i"])
    frame = pd.DataFrame({"user": [users[u] for u in frame["u"]], "item": [f"i{i}" for i in frame["i"]],
                          "rating": rng.integers(1, 6, len(frame)).astype(float),
                          "timestamp": np.arange(len(frame)) * 1000})
    meta = pd.DataFrame({"user": users, "age": np.arange(30) + 20, "gender": ["F", "M"] * 15})
    return Dataset.from_frames(frame, rating_scale=(1, 5), users=meta, name="literal")


def test_without_users_drops_their_rows_metadata_and_ids(data):
    kept = without_users(data, list(GONE))
    assert kept.n_users == data.n_users - 2 and kept.n_items == data.n_items
    assert not set(GONE) & set(kept.user_ids.astype(str)) and not set(GONE) & set(kept.users["user"])
    assert not kept.interactions["user"].astype(str).isin(GONE).any()
    expected = data.interactions[~data.interactions["user"].astype(str).isin(GONE)]
    assert len(kept.interactions) == len(expected)
    keep = ~np.isin(data.user_ids.astype(str), GONE)
    assert abs(kept.matrix - data.matrix[keep]).max() == 0  # the others' rows, in order, unchanged
    assert list(kept.item_ids) == list(data.item_ids)
    assert (kept.users["user"].to_numpy() == kept.user_ids.astype(str)).all()
    assert kept.users.loc[kept.users["user"] == "u8", "age"].item() == 28


def test_refusals_name_the_problem(data):
    with pytest.raises(DataValidationError, match="'nobody'.*no such user"):
        without_users(data, ["u1", "nobody"])
    with pytest.raises(DataValidationError, match="every user"):
        without_users(data, data.user_ids)
    with pytest.raises(DataValidationError, match="No user id"):
        without_users(data, [" "])


def test_user_data_holds_every_row_about_them(data):
    exported = user_data(data, ["gone-u7"])
    profile = exported[exported["record"] == "profile"]
    assert profile[["user", "age", "gender"]].values.tolist() == [["gone-u7", 27, "M"]]
    rows = exported[exported["record"] == "interaction"]
    mine = data.interactions[data.interactions["user"].astype(str) == "gone-u7"]
    assert sorted(zip(rows["item"], rows["rating"], rows["timestamp"])) == \
        sorted(zip(mine["item"].astype(str), mine["rating"], mine["timestamp"]))
    assert (rows["user"] == "gone-u7").all()


def _arrays(value, depth=0, seen=None):
    """Every numpy array and sparse matrix reachable from a model's attributes (a few levels of objects)."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 3:
        return
    seen.add(id(value))
    if isinstance(value, (np.ndarray, sp.spmatrix)):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays(item, depth + 1, seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _arrays(item, depth + 1, seen)
    elif hasattr(value, "__dict__") and not isinstance(value, (Dataset, type)):
        yield from _arrays(vars(value), depth + 1, seen)


@pytest.mark.parametrize("name", INCREMENTAL + REFITTING)
def test_no_trace_of_the_forgotten_users(data, name):
    model = make_model(name).fit(data)
    everyone = np.arange(data.n_users)
    before = model.score_users(everyone)
    outcome = forget_model(model, list(GONE), compare_refit=False)
    forgotten = outcome.model
    assert outcome.method == ("incremental" if name in INCREMENTAL else "refit")
    held = forgotten.dataset_
    assert held.n_users == data.n_users - 2 and not set(GONE) & set(held.user_ids.astype(str))
    assert not held.interactions["user"].astype(str).isin(GONE).any()
    assert not held.users["user"].isin(GONE).any()
    # No learnt array still has a row per old user (the vectors, feedback rows, ... of the forgotten users).
    for array in _arrays(forgotten):
        assert array.shape[0] != data.n_users, (name, array.shape)
    blob = pickle.dumps(forgotten)
    assert not any(user.encode() in blob for user in GONE)
    # The model given is unchanged: forgetting works on a copy.
    assert model.dataset_ is data
    np.testing.assert_array_equal(model.score_users(everyone), before)
    assert any(array.shape[0] == data.n_users for array in _arrays(model)) or not model.can("user_embeddings")


@pytest.mark.parametrize("name", [n for n in INCREMENTAL if REGISTRY[n].forgets_exactly])
def test_incremental_equals_an_exact_refit(data, name):
    model = make_model(name).fit(data)
    outcome = forget_model(model, list(GONE), compare_refit=True)
    assert outcome.method == "incremental"
    assert outcome.refit_max_difference is not None and outcome.refit_max_difference < 1e-6
    assert outcome.refit_changed_share == 0.0
    refit = make_model(name).fit(without_users(data, list(GONE)))
    users = np.arange(data.n_users - 2)
    np.testing.assert_allclose(outcome.model.score_users(users), refit.score_users(users), atol=1e-6)


@pytest.mark.parametrize("name", [n for n in INCREMENTAL if not REGISTRY[n].forgets_exactly])
def test_partial_update_equals_the_least_squares_it_states(data, name):
    """ALS: item vectors re-solved against the remaining users' fixed vectors, by numpy's closed form (1e-4: float32)."""
    model = make_model(name).fit(data)
    outcome = forget_model(model, list(GONE), compare_refit=False)
    assert outcome.method == "incremental" and outcome.exact is False
    keep = ~np.isin(data.user_ids.astype(str), GONE)
    users = model.user_factors_[keep]
    np.testing.assert_array_equal(outcome.model.user_factors_, users)
    feedback = outcome.model.feedback_.toarray() * model.alpha  # confidence c_ui of each observed cell
    reg = model.regularization
    expected = np.empty_like(model.item_factors_)
    for item in range(data.n_items):
        confidence = np.where(feedback[:, item] > 0, feedback[:, item], 1.0)
        preference = (feedback[:, item] > 0).astype(float)
        a = users.T @ (confidence[:, None] * users) + reg * np.eye(users.shape[1])
        expected[item] = np.linalg.solve(a, users.T @ (confidence * preference))
    np.testing.assert_allclose(outcome.model.item_factors_, expected, atol=1e-4)


def test_counts_weighting_refits_instead(data):
    counts = Dataset.from_frames(data.interactions.assign(rating=data.interactions["rating"] * 30),
                                 implicit=True, users=data.users, name="counts")
    model = make_model("ease").fit(counts)
    assert model.can("forgets_users") is (model.weighting == "binary")
    assert forget_model(model, ["gone-u7"], compare_refit=False).method == "refit"


@pytest.mark.parametrize("params", [dict(max_dense=10), dict(similarity="pearson_baseline")])
def test_neighbourhood_settings_without_an_exact_update_refit(data, params):
    model = make_model("knn-basic", **params).fit(data)
    assert not model.can("forgets_users")
    assert forget_model(model, ["gone-u7"], compare_refit=False).method == "refit"


@pytest.mark.parametrize("params", [dict(similarity="pearson", min_support=2), dict(similarity="cosine", k=3),
                                    dict(user_based=False), dict(user_based=False, similarity="pearson", min_support=2)])
def test_neighbourhoods_forget_exactly_with_other_settings(data, params):
    model = make_model("knn-means", **params).fit(data)
    outcome = forget_model(model, list(GONE))
    assert outcome.method == "incremental" and outcome.refit_max_difference < 1e-9
    refit = make_model("knn-means", **params).fit(without_users(data, list(GONE)))
    np.testing.assert_array_equal(outcome.model.sim_, refit.sim_)  # the similarities themselves, bit for bit


def test_forget_refuses_unknown_users_before_changing_anything(data):
    models = {"a": make_model("popular").fit(data), "b": make_model("ease").fit(data)}
    before = models["b"].weights_.copy()
    with pytest.raises(DataValidationError, match="'nobody'"):
        forget(models, ["gone-u7", "nobody"])
    np.testing.assert_array_equal(models["b"].weights_, before)


def test_forgetting_during_a_fit_is_refused(data):
    refusals = []
    model = make_model("als", iterations=2)

    def progress(event):
        try:
            model.forget_users(without_users(data, ["gone-u7"]), np.array([data.user_index("gone-u7")]))
        except ModelBusyError as error:
            refusals.append(str(error))

    model.fit(data, progress=progress)
    assert refusals and "being fitted" in refusals[0]
    assert model.user_factors_.shape[0] == data.n_users  # the fit finished whole


def test_change_report_counts_changed_lists(data):
    model = make_model("popular").fit(data)
    outcome = forget_model(model, list(GONE))
    assert outcome.n_other_users == data.n_users - 2
    assert 0.0 <= outcome.changed_share <= 1.0
    assert (outcome.largest_changes["replaced"] > 0).all()
    assert not outcome.largest_changes["user"].isin(GONE).any()


def test_cli_forget_writes_one_row_per_model(data, tmp_path, capsys):
    from recsys_core.__main__ import main

    ratings = tmp_path / "ratings.csv"
    data.interactions[["user", "item", "rating", "timestamp"]].to_csv(ratings, index=False)
    out, export, kept = tmp_path / "forget.csv", tmp_path / "theirs.csv", tmp_path / "kept.csv"
    code = main(["forget", "--ratings", str(ratings), "--users", ",".join(GONE), "--models", "popular,ease,baseline",
                 "--output", str(out), "--export", str(export), "--write-data", str(kept), "--no-progress"])
    assert code == 0
    table = pd.read_csv(out)
    assert table["model"].tolist() == ["popular", "ease", "baseline"]
    assert table["method"].tolist() == ["incremental", "incremental", "refit"]
    assert table["exact"][:2].tolist() == [True, True] and table["exact"][2:].isna().all()
    assert (table["refit_max_difference"][:2] < 1e-6).all() and table["refit_max_difference"][2:].isna().all()
    assert table["changed_share"].between(0, 1).all() and (table["other_users"] == data.n_users - 2).all()
    theirs = pd.read_csv(export, dtype={"user": str})
    assert set(theirs["user"]) == set(GONE)
    assert (theirs["record"] == "interaction").sum() == data.interactions["user"].astype(str).isin(GONE).sum()
    remaining = pd.read_csv(kept, dtype={"user": str})
    assert not remaining["user"].isin(GONE).any() and len(remaining) == len(data.interactions) - \
        data.interactions["user"].astype(str).isin(GONE).sum()
    assert main(["forget", "--ratings", str(ratings), "--users", "nobody", "--models", "popular"]) == 2
    assert "no such user" in capsys.readouterr().err
