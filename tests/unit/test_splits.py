"""Splits: disjoint, complete, seeded, per-user order, and equal to Surprise's."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from surprise import Dataset as SurpriseDataset
from surprise import Reader
from surprise.model_selection import KFold, train_test_split

from recsys_core.dataset import Dataset
from recsys_core.errors import DataValidationError
from recsys_core.evaluation.splits import (
    SPLIT_METHODS,
    Split,
    kfold,
    leave_last_n_out,
    make_splits,
    random_holdout,
    temporal_per_user,
)

# user, item, rating, timestamp in file order. "a" has a timestamp tie (t=30,
# items i3 then i4 in file order) and an out-of-order row (i5 at t=5 comes
# last in the file but first in time); "d" has one rating.
ROWS = [
    ("a", "i1", 4.0, 10),
    ("b", "i1", 3.0, 50),
    ("a", "i2", 5.0, 20),
    ("a", "i3", 2.0, 30),
    ("c", "i2", 1.0, 70),
    ("b", "i3", 4.0, 40),
    ("a", "i4", 3.0, 30),
    ("c", "i4", 5.0, 60),
    ("d", "i1", 2.0, 90),
    ("b", "i5", 5.0, 45),
    ("c", "i5", 4.0, 80),
    ("a", "i5", 1.0, 5),
    ("b", "i2", 2.0, 55),
    ("e", "i3", 4.5, 15),
    ("e", "i1", 3.5, 15),
]


def make_dataset(with_timestamps: bool = True) -> Dataset:
    frame = pd.DataFrame(ROWS, columns=["user", "item", "rating", "timestamp"])
    if not with_timestamps:
        frame = frame.drop(columns="timestamp")
    return Dataset.from_frames(frame, name="tiny", rating_scale=(1, 5))


def random_dataset(n_rows: int, seed: int = 3) -> Dataset:
    rng = np.random.default_rng(seed)
    pairs = rng.choice(40 * 30, size=n_rows, replace=False)
    frame = pd.DataFrame(
        {
            "user": [f"u{p // 30}" for p in pairs],
            "item": [f"i{p % 30}" for p in pairs],
            "rating": rng.integers(1, 6, size=n_rows).astype(float),
            "timestamp": rng.integers(0, 1000, size=n_rows),
        }
    )
    return Dataset.from_frames(frame, name="random", rating_scale=(1, 5))


def triples(dataset: Dataset) -> list[tuple[str, str, float]]:
    frame = dataset.interactions
    return list(zip(frame["user"], frame["item"], frame["rating"].astype(float)))


def keys(dataset: Dataset) -> list[tuple[str, str]]:
    return list(zip(dataset.interactions["user"], dataset.interactions["item"]))


def all_splits(dataset: Dataset) -> list[Split]:
    return (
        kfold(dataset, n_folds=4, seed=1)
        + random_holdout(dataset, test_size=0.3, seed=1)
        + temporal_per_user(dataset, test_fraction=0.4)
        + leave_last_n_out(dataset, n=2)
    )


@pytest.mark.parametrize("split", all_splits(make_dataset()), ids=lambda s: s.test.name)
def test_no_interaction_in_both_and_none_lost(split: Split) -> None:
    dataset = make_dataset()
    train, test = keys(split.train), keys(split.test)
    assert not set(train) & set(test)
    assert len(train) + len(test) == dataset.n_ratings
    assert sorted(train + test) == sorted(keys(dataset))
    # Vocabularies are kept, so indices agree between train and test.
    assert list(split.train.item_ids) == list(dataset.item_ids)
    assert list(split.test.user_ids) == list(dataset.user_ids)


def test_kfold_test_folds_partition_the_rows() -> None:
    dataset = random_dataset(103)
    folds = kfold(dataset, n_folds=5, seed=0)
    assert [split.fold for split in folds] == [0, 1, 2, 3, 4]
    # 103 = 5 * 20 + 3: the first three folds get one extra row.
    assert [split.test.n_ratings for split in folds] == [21, 21, 21, 20, 20]
    tested = [key for split in folds for key in keys(split.test)]
    assert sorted(tested) == sorted(keys(dataset))


class _CapturingData:
    """Wraps a Surprise data set to record the raw train rows in the order KFold passes them."""

    def __init__(self, data: SurpriseDataset) -> None:
        self.data = data
        self.raw_trainsets: list[list[tuple]] = []

    def __getattr__(self, name: str):
        return getattr(self.data, name)

    def construct_trainset(self, raw_trainset):
        self.raw_trainsets.append([(u, i, r) for u, i, r, _ in raw_trainset])
        return self.data.construct_trainset(raw_trainset)


def surprise_data(dataset: Dataset) -> _CapturingData:
    frame = dataset.interactions[["user", "item", "rating"]]
    return _CapturingData(SurpriseDataset.load_from_df(frame, Reader(rating_scale=dataset.rating_scale)))


@pytest.mark.parametrize("n_rows, n_folds, seed, shuffle", [(103, 5, 0, True), (57, 3, 42, True), (20, 4, 7, False)])
def test_kfold_equals_surprise_row_for_row(n_rows: int, n_folds: int, seed: int, shuffle: bool) -> None:
    dataset = random_dataset(n_rows)
    data = surprise_data(dataset)
    theirs = list(KFold(n_splits=n_folds, random_state=seed, shuffle=shuffle).split(data))
    ours = kfold(dataset, n_folds=n_folds, seed=seed, shuffle=shuffle)
    assert len(ours) == len(theirs) == len(data.raw_trainsets) == n_folds
    for split, (_, testset), raw_train in zip(ours, theirs, data.raw_trainsets):
        assert triples(split.test) == [(u, i, float(r)) for u, i, r in testset]
        assert triples(split.train) == raw_train


@pytest.mark.parametrize("n_rows, test_size, seed", [(100, 0.2, 0), (50, 0.14, 5), (37, 0.25, 9), (40, 7, 1)])
def test_random_holdout_equals_surprise_train_test_split(n_rows: int, test_size: float, seed: int) -> None:
    # n=50, 0.14: 0.14 * 50 = 7.000000000000001 in floats, so Surprise's ceil gives 8 test rows; we agree.
    dataset = random_dataset(n_rows)
    data = surprise_data(dataset)
    _, testset = train_test_split(data, test_size=test_size, random_state=seed)
    [split] = random_holdout(dataset, test_size=test_size, seed=seed)
    assert split.test.n_ratings == {100: 20, 50: 8, 37: 10, 40: 7}[n_rows]
    assert triples(split.test) == [(u, i, float(r)) for u, i, r in testset]
    assert triples(split.train) == data.raw_trainsets[0]


@pytest.mark.parametrize("method, params", [("random", {"seed": 4}), ("kfold", {"seed": 4, "n_folds": 3})])
def test_random_splits_are_deterministic_and_seed_dependent(method: str, params: dict) -> None:
    dataset = random_dataset(60)
    first = make_splits(dataset, method, **params)
    again = make_splits(dataset, method, **params)
    other = make_splits(dataset, method, **{**params, "seed": params["seed"] + 1})
    assert [keys(s.test) for s in first] == [keys(s.test) for s in again]
    assert [keys(s.train) for s in first] == [keys(s.train) for s in again]
    assert [keys(s.test) for s in first] != [keys(s.test) for s in other]


def test_temporal_tests_each_users_latest_interactions() -> None:
    [split] = temporal_per_user(make_dataset(), test_fraction=0.4)
    # a: 5 ratings, round(5 * 0.4) = 2 -> timeline i5(5) i1(10) i2(20) i3(30) i4(30, later in file):
    #    test i3, i4.  b: 4 ratings, round(1.6) = 2 -> i3(40) i5(45) i1(50) i2(55): test i1, i2.
    # c: 3 ratings, round(1.2) = 1 -> i4(60) i2(70) i5(80): test i5.  d: 1 rating, train only.
    # e: 2 ratings, tie at 15 -> round(0.8) = 1, the later in file (i1) is tested.
    # Test keeps file order.
    assert keys(split.test) == [("b", "i1"), ("a", "i3"), ("a", "i4"), ("c", "i5"), ("b", "i2"), ("e", "i1")]
    assert ("d", "i1") in keys(split.train)


def test_temporal_test_rows_are_never_older_than_train_rows_of_the_same_user() -> None:
    dataset = random_dataset(300)
    [split] = temporal_per_user(dataset, test_fraction=0.2)
    train = split.train.interactions.groupby("user")["timestamp"].max()
    test = split.test.interactions.groupby("user")["timestamp"].min()
    assert (test >= train.reindex(test.index)).all()
    counts = dataset.interactions.groupby("user").size()
    tested = split.test.interactions.groupby("user").size().reindex(counts.index, fill_value=0)
    expected = np.clip(np.floor(counts * 0.2 + 0.5), 1, counts - 1).where(counts > 1, 0)
    assert (tested == expected).all()


def test_temporal_without_timestamps_raises_a_clear_error() -> None:
    with pytest.raises(DataValidationError, match="no timestamp column"):
        temporal_per_user(make_dataset(with_timestamps=False))
    with pytest.raises(DataValidationError, match="timestamp"):
        make_splits(make_dataset(with_timestamps=False), "temporal")


def test_leave_last_out_by_timestamp() -> None:
    [split] = leave_last_n_out(make_dataset(), n=1)
    # Latest of a is i4 (tie with i3 at t=30, later in file); b: i2; c: i5; e: i1 (tie, later in file);
    # d has only one rating, so it is not tested.
    assert keys(split.test) == [("a", "i4"), ("c", "i5"), ("b", "i2"), ("e", "i1")]


def test_leave_last_n_out_by_file_order_without_timestamps() -> None:
    [split] = leave_last_n_out(make_dataset(with_timestamps=False), n=2)
    # File order: a's last two are i4, i5; b's i5, i2; c's i4, i5; d (1) and e (2) are not tested.
    assert keys(split.test) == [("a", "i4"), ("c", "i4"), ("b", "i5"), ("c", "i5"), ("a", "i5"), ("b", "i2")]


def test_make_splits_dispatches_and_rejects_unknown_names() -> None:
    dataset = make_dataset()
    assert set(SPLIT_METHODS) == {"random", "kfold", "temporal", "leave-last-out", "global-time"}
    assert len(make_splits(dataset, "kfold", n_folds=3)) == 3
    assert keys(make_splits(dataset, "leave-last-out")[0].test) == keys(leave_last_n_out(dataset)[0].test)
    with pytest.raises(ValueError, match="'random', 'kfold', 'temporal', 'leave-last-out', 'global-time'"):
        make_splits(dataset, "bootstrap")


@pytest.mark.parametrize(
    "call",
    [
        lambda d: kfold(d, n_folds=1),
        lambda d: kfold(d, n_folds=16),
        lambda d: random_holdout(d, test_size=0.0),
        lambda d: random_holdout(d, test_size=15),
        lambda d: temporal_per_user(d, test_fraction=1.0),
        lambda d: leave_last_n_out(d, n=0),
    ],
)
def test_invalid_parameters_raise_value_error(call) -> None:
    with pytest.raises(ValueError):
        call(make_dataset())
