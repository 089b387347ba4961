"""Train/test splits of a :class:`~recsys_core.dataset.Dataset`.

Every split is a list of :class:`Split` whose ``train`` and ``test`` are built
with ``Dataset.subset``, so both keep the full vocabularies and indices agree
between them. Random splits are seeded and deterministic; the k-fold split
reproduces ``surprise.model_selection.KFold`` row for row and the random
hold-out reproduces ``surprise.model_selection.train_test_split``, so scores
can be checked against Surprise on the same folds.

Methods (``make_splits`` names):

``"random"``
    One random hold-out of ``test_size`` of the interactions.
``"kfold"``
    ``n_folds`` disjoint test folds covering every interaction once.
``"temporal"``
    Per user, the latest ``test_fraction`` of their timeline is tested on.
``"leave-last-out"``
    Per user, the last ``n`` interactions are tested on.
``"global-time"``
    One cut-off time for everyone: everything after it is tested on, for the
    users with history before it (the only split where no model ever trains
    on anything later than a test interaction of *any* user).

Splits that order by time carry ``respects_time=True``: models that read the
order of a history (``uses_order``) run only on those.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..dataset import TIMESTAMP, Dataset
from ..errors import DataValidationError


@dataclass(frozen=True)
class Split:
    """One train/test fold.

    Attributes
    ----------
    fold : int
        0-based fold number.
    train, test : Dataset
        Disjoint subsets of the source data set's interactions, with its
        vocabularies, metadata and rating scale.
    """

    fold: int
    train: Dataset
    test: Dataset
    #: True when the test part comes after the train part in time (per user or globally): what models
    #: reading the order of a history need (on a random split they would learn from each user's future).
    respects_time: bool = False
    #: Sentences about how the split was made (ties, rows left out), shown with the results.
    notes: tuple[str, ...] = ()


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _too_small(dataset: Dataset, what: str, needs: str, has: str, advice: str) -> DataValidationError:
    """The data set is too small for the split: a message for a person, not about parameters."""
    return DataValidationError(
        f"The data set '{dataset.name}' is too small for {what}: it needs {needs}, and it has {has}. "
        f"Load a larger data set, or {advice}."
    )


def _make_split(dataset: Dataset, fold: int, train_rows: np.ndarray, test_rows: np.ndarray, label: str,
                respects_time: bool = False, notes: tuple[str, ...] = ()) -> Split:
    return Split(
        fold=fold,
        train=dataset.subset(train_rows, name=f"{dataset.name} [{label} train]"),
        test=dataset.subset(test_rows, name=f"{dataset.name} [{label} test]"),
        respects_time=respects_time,
        notes=tuple(notes),
    )


# ---------------------------------------------------------------- random splits
def kfold(dataset: Dataset, n_folds: int = 5, seed: int = 0, shuffle: bool = True) -> list[Split]:
    """K-fold cross-validation, identical to ``surprise.model_selection.KFold``.

    Rows are shuffled with ``np.random.RandomState(seed).shuffle`` (Surprise's
    ``get_rng`` for an int seed); fold ``i`` tests on the next
    ``n // n_folds`` shuffled rows, plus one for the first ``n % n_folds``
    folds, and trains on the shuffled rows before that block followed by the
    rows after it. Given the same seed and the interactions in the same order,
    every fold has the same train and test rows in the same order as
    Surprise's.

    Parameters
    ----------
    dataset : Dataset
        Data set to split.
    n_folds : int, default 5
        Number of folds, at least 2 and at most the number of interactions.
    seed : int, default 0
        Seed of the shuffle.
    shuffle : bool, default True
        Shuffle before cutting the folds (False: consecutive blocks in file
        order).

    Returns
    -------
    list of Split
        ``n_folds`` splits; the test sets partition the interactions.

    Raises
    ------
    ValueError
        If ``n_folds`` is below 2.
    DataValidationError
        If the data set has fewer interactions than folds.
    """
    n_rows = dataset.n_ratings
    n_folds = int(n_folds)
    if n_folds < 2:
        raise ValueError(f"kfold needs n_folds >= 2; got n_folds={n_folds}.")
    if n_folds > n_rows:
        raise _too_small(dataset, f"{n_folds}-fold cross-validation",
                         f"at least {_plural(n_folds, 'rating')} (one per test fold)", _plural(n_rows, "rating"),
                         "choose fewer folds")
    indices = np.arange(n_rows)
    if shuffle:
        np.random.RandomState(seed).shuffle(indices)
    splits = []
    stop = 0
    for fold in range(n_folds):
        start = stop
        stop += n_rows // n_folds + (1 if fold < n_rows % n_folds else 0)
        train_rows = np.concatenate([indices[:start], indices[stop:]])
        splits.append(_make_split(dataset, fold, train_rows, indices[start:stop], f"fold {fold + 1}/{n_folds}"))
    return splits


def random_holdout(dataset: Dataset, test_size: float | int = 0.2, seed: int = 0) -> list[Split]:
    """One random train/test split, identical to ``surprise.model_selection.train_test_split``.

    With ``perm = np.random.RandomState(seed).permutation(n)`` and
    ``n_test = ceil(test_size * n)`` (or ``test_size`` itself when it is an
    int), train is ``perm[:n - n_test]`` and test is ``perm[n - n_test:]``,
    in that order -- what Surprise's ``ShuffleSplit`` yields for
    ``train_size=None``.

    Parameters
    ----------
    dataset : Dataset
        Data set to split.
    test_size : float or int, default 0.2
        Fraction of interactions (float in (0, 1)) or number of interactions
        (int) to test on.
    seed : int, default 0
        Seed of the permutation.

    Returns
    -------
    list of Split
        A single split (fold 0).

    Raises
    ------
    ValueError
        If ``test_size`` is not a fraction in (0, 1) or a positive count.
    DataValidationError
        If the data set is too small to keep interactions on both sides.
    """
    n_rows = dataset.n_ratings
    by_count = isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool)
    if by_count and int(test_size) < 1 or not by_count and not 0 < float(test_size) < 1:
        raise ValueError(
            f"random_holdout needs test_size to be a fraction in (0, 1) or a count of at least 1; "
            f"got test_size={test_size!r}."
        )

    def test_count(n: int) -> int:
        # Same float expression as Surprise, so the rounding agrees too.
        return int(test_size) if by_count else math.ceil(float(test_size) * n)

    n_test = test_count(n_rows)
    if not n_test < n_rows:
        # The fewest interactions that leave at least one to train on.
        needed = int(test_size) + 1 if by_count else max(2, math.ceil(1 / (1 - float(test_size))) - 1)
        while test_count(needed) >= needed:
            needed += 1
        share = f"{_plural(int(test_size), 'rating')}" if by_count else f"{float(test_size):.0%} of the ratings"
        raise _too_small(dataset, f"a random hold-out of {share}",
                         f"at least {_plural(needed, 'rating')} (some to train on, some to test on)",
                         _plural(n_rows, "rating"), "test on a smaller share")
    permutation = np.random.RandomState(seed).permutation(n_rows)
    n_train = n_rows - n_test
    return [_make_split(dataset, 0, permutation[:n_train], permutation[n_train:], "hold-out")]


# ------------------------------------------------------------ per-user splits
def _timeline_rank(dataset: Dataset, by_time: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each row's 0-based position from the end of its user's timeline, and the user's count.

    Timelines are ordered by timestamp (when ``by_time``), ties and the
    no-timestamp case by file order.
    """
    frame = dataset.interactions
    users = frame["user_idx"].to_numpy()
    n_rows = len(users)
    if by_time:
        # lexsort: last key is primary; file position breaks timestamp ties.
        order = np.lexsort((np.arange(n_rows), frame[TIMESTAMP].to_numpy(), users))
    else:
        order = np.lexsort((np.arange(n_rows), users))
    counts = np.bincount(users, minlength=dataset.n_users)
    ends = np.cumsum(counts)  # position after each user's block in ``order``
    sorted_users = users[order]
    from_end = np.empty(n_rows, dtype=np.int64)
    from_end[order] = ends[sorted_users] - 1 - np.arange(n_rows)
    return from_end, counts[users]


def _need_users_with_more_than(dataset: Dataset, n: int, what: str) -> None:
    """A per-user split tests only users with more than ``n`` interactions: at least one must have that many."""
    counts = dataset.user_counts
    if not (counts > n).any():
        raise _too_small(
            dataset, what, f"at least one user with {n + 1} or more ratings (some to train on, the last to test on)",
            f"{_plural(dataset.n_users, 'user')}, the most active with "
            f"{_plural(int(counts.max()) if len(counts) else 0, 'rating')}",
            "choose the random or k-fold split, which do not need several ratings per user",
        )


def _split_by_from_end(dataset: Dataset, is_test: np.ndarray, label: str, respects_time: bool = False,
                       notes: tuple[str, ...] = ()) -> list[Split]:
    # Both parts keep file order.
    return [_make_split(dataset, 0, np.flatnonzero(~is_test), np.flatnonzero(is_test), label,
                        respects_time=respects_time, notes=notes)]


def _tie_note(dataset: Dataset, is_test: np.ndarray) -> tuple[str, ...]:
    """How many users' first test interaction shares its timestamp with their last training one (file order decides)."""
    frame = dataset.interactions
    users = frame["user_idx"].to_numpy()
    times = frame[TIMESTAMP].to_numpy()
    if not is_test.any():
        return ()
    n_users = dataset.n_users
    last_train = np.full(n_users, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_train, users[~is_test], times[~is_test].astype(np.int64))
    first_test = np.full(n_users, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_test, users[is_test], times[is_test].astype(np.int64))
    tied = int((first_test == last_train).sum())
    if not tied:
        return ()
    return (f"{_plural(tied, 'user')} had a tested interaction at the same time as a training one; "
            "file order decided which came last.",)


def temporal_per_user(dataset: Dataset, test_fraction: float = 0.2) -> list[Split]:
    """Per-user temporal split: each user's latest interactions are the test set.

    A user with ``c >= 2`` interactions, ordered by timestamp (ties by file
    order), has their last ``n_test = clip(round_half_up(c * test_fraction),
    1, c - 1)`` interactions in test and the rest in train, so every such user
    has at least one interaction on each side; users with one interaction
    stay wholly in train. Train and test keep file order.

    Parameters
    ----------
    dataset : Dataset
        Data set with a ``timestamp`` column.
    test_fraction : float, default 0.2
        Fraction of each user's timeline to test on, in (0, 1).

    Returns
    -------
    list of Split
        A single split (fold 0).

    Raises
    ------
    DataValidationError
        If the data set has no timestamps, or no user with 2 or more interactions.
    ValueError
        If ``test_fraction`` is not in (0, 1).
    """
    if not dataset.has_timestamps:
        raise DataValidationError(
            f"The data set '{dataset.name}' has no timestamp column, so it cannot be split by time. "
            "Load a file with a timestamp column (or, if the file's rows are in the order they happened, say so "
            "on the Data page / with --file-order-is-time), or choose the 'random', 'kfold' or 'leave-last-out' "
            "split."
        )
    if not 0 < test_fraction < 1:
        raise ValueError(f"temporal_per_user needs 0 < test_fraction < 1; got {test_fraction!r}.")
    _need_users_with_more_than(dataset, 1, "a split by time")
    from_end, counts = _timeline_rank(dataset, by_time=True)
    n_test = np.clip(np.floor(counts * test_fraction + 0.5).astype(np.int64), 1, counts - 1)
    is_test = (counts >= 2) & (from_end < n_test)
    return _split_by_from_end(dataset, is_test, f"temporal {test_fraction:g}", respects_time=True,
                              notes=_tie_note(dataset, is_test))


def leave_last_n_out(dataset: Dataset, n: int = 1) -> list[Split]:
    """Per-user leave-last-``n``-out: each user's last ``n`` interactions are the test set.

    "Last" is by timestamp when the data set has timestamps (ties by file
    order), else by file order. Only users with more than ``n`` interactions
    contribute to test; the others stay wholly in train. Train and test keep
    file order.

    Parameters
    ----------
    dataset : Dataset
        Data set to split.
    n : int, default 1
        Interactions per user to hold out, at least 1.

    Returns
    -------
    list of Split
        A single split (fold 0).

    Raises
    ------
    ValueError
        If ``n`` is below 1.
    DataValidationError
        If no user has more than ``n`` interactions.
    """
    n = int(n)
    if n < 1:
        raise ValueError(f"leave_last_n_out needs n >= 1; got n={n}.")
    _need_users_with_more_than(dataset, n, f"leaving the last {_plural(n, 'rating')} of each user out")
    from_end, counts = _timeline_rank(dataset, by_time=dataset.has_timestamps)
    is_test = (counts > n) & (from_end < n)
    if dataset.has_timestamps:
        return _split_by_from_end(dataset, is_test, f"leave-last-{n}-out", respects_time=True,
                                  notes=_tie_note(dataset, is_test))
    return _split_by_from_end(dataset, is_test, f"leave-last-{n}-out", notes=(
        "No timestamps: 'last' is the last in file order, which is only the latest if the file is chronological.",))


def global_time_split(dataset: Dataset, test_fraction: float = 0.2, cutoff: float | None = None) -> list[Split]:
    """Global temporal split: one cut-off time for every user; what happens after it is the test part.

    The cut-off is ``cutoff`` (a timestamp) or, by default, the time that leaves ``test_fraction`` of the
    interactions after it (the ``ceil(n * (1 - test_fraction))``-th smallest timestamp; interactions *at* the
    cut-off are training). Training is every interaction at or before the cut-off. The test part is every
    interaction after it by a user with at least one training interaction; interactions after the cut-off by
    users with no earlier history are in neither part (they cannot be tested, and training on them would be
    learning from the future) and counted in the split's notes. Unlike the per-user splits, no model trains on
    anything that happened after a test interaction of any user (Meng et al. 2020, "Exploring Data Splitting
    Strategies for the Evaluation of Recommendation Models"). Both parts keep file order.

    Raises
    ------
    DataValidationError
        Without timestamps, or when the cut-off leaves no training or no testable interaction.
    ValueError
        If ``test_fraction`` is not in (0, 1).
    """
    if not dataset.has_timestamps:
        raise DataValidationError(
            f"The data set '{dataset.name}' has no timestamp column, so it cannot be cut at one time. Load a "
            "file with a timestamp column (or, if the file's rows are in the order they happened, say so on "
            "the Data page / with --file-order-is-time), or choose another split.")
    if cutoff is None and not 0 < test_fraction < 1:
        raise ValueError(f"global_time_split needs 0 < test_fraction < 1; got {test_fraction!r}.")
    frame = dataset.interactions
    times = frame[TIMESTAMP].to_numpy().astype(np.float64)
    users = frame["user_idx"].to_numpy()
    if cutoff is None:
        ordered = np.sort(times)
        cutoff = float(ordered[max(math.ceil(len(ordered) * (1 - float(test_fraction))) - 1, 0)])
    cutoff = float(cutoff)
    after = times > cutoff
    shown = _when(cutoff)
    if after.all():
        raise DataValidationError(
            f"The cut-off {shown} is before every interaction of '{dataset.name}' "
            f"(the first is {_when(times.min())}): nothing is left to train on. Choose a later cut-off.")
    known = np.bincount(users[~after], minlength=dataset.n_users) > 0
    is_test = after & known[users]
    if not is_test.any():
        why = ("nothing happens after it" if not after.any()
               else "everyone active after it is new (no history before it)")
        raise DataValidationError(
            f"The cut-off {shown} leaves nothing to test in '{dataset.name}': {why} "
            f"(the last interaction is {_when(times.max())}). Choose an earlier cut-off or a larger test share.")
    dropped = after & ~known[users]
    notes = [f"Cut-off {shown}: {_plural(int((~after).sum()), 'interaction')} before it train, "
             f"{_plural(int(is_test.sum()), 'interaction')} after it by "
             f"{_plural(int(np.unique(users[is_test]).size), 'user')} are tested."]
    if dropped.any():
        notes.append(f"{_plural(int(dropped.sum()), 'interaction')} after the cut-off by "
                     f"{_plural(int(np.unique(users[dropped]).size), 'user')} with no history before it are left "
                     "out of both parts (nothing to predict them from).")
    return [_make_split(dataset, 0, np.flatnonzero(~after), np.flatnonzero(is_test), f"global time cut {shown}",
                        respects_time=True, notes=tuple(notes))]


def _when(timestamp: float) -> str:
    """A timestamp as a date a person reads (unix seconds), or the number itself when it is not one."""
    import datetime as _dt

    if 1e8 < timestamp < 4e9:  # unix seconds of 1973-2096
        return _dt.datetime.fromtimestamp(timestamp, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{timestamp:g}"


def per_user_holdout(dataset: Dataset, fraction: float = 0.2, seed: int = 0) -> Split:
    """Per-user random hold-out: a seeded share of each user's interactions.

    A user with ``c >= 2`` interactions has ``clip(round(c * fraction), 1, c - 1)``
    of them, chosen at random, held out; users with one interaction stay in
    the kept part. Used by the tuner to carve a validation set out of a
    training part, so every validated user is also known to the model.

    Raises
    ------
    DataValidationError
        If no user has 2 or more interactions.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"per_user_holdout needs 0 < fraction < 1; got {fraction!r}.")
    _need_users_with_more_than(dataset, 1, "a per-user validation hold-out")
    users = dataset.interactions["user_idx"].to_numpy()
    rng = np.random.default_rng([int(seed), 104729])
    key = rng.random(len(users))
    order = np.lexsort((key, users))  # per user, a random order
    counts = np.bincount(users, minlength=dataset.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(len(users), dtype=np.int64)
    position[order] = np.arange(len(users)) - np.repeat(starts, counts)
    n_out = np.clip(np.floor(counts * fraction + 0.5).astype(np.int64), 1, np.maximum(counts - 1, 1))
    held = (counts[users] >= 2) & (position < n_out[users])
    return _make_split(dataset, 0, np.flatnonzero(~held), np.flatnonzero(held), f"per-user hold-out {fraction:g}")


def validation_holdout(dataset: Dataset, seed: int = 0, min_interactions: int = 3) -> Dataset:
    """The validation part handed to ``fit`` for early stopping: one interaction of each user, from training.

    Each user with at least ``min_interactions`` interactions gives one: the latest when the data has
    timestamps (the future is never learnt from to predict the past; ties by file order), else a seeded
    random one. The result is a *subset of* ``dataset``'s interactions (same vocabularies and indices):
    models trained per epoch leave these pairs out of their training and stop when the validation NDCG
    stops improving; every other model ignores it. One interaction per user keeps what the model loses
    small (a 20% hold-out would cost the neural models a fifth of their data, the classics nothing).

    Returns an empty data set (0 interactions) when no user has enough interactions.
    """
    users = dataset.interactions["user_idx"].to_numpy()
    counts = np.bincount(users, minlength=dataset.n_users)
    rng = np.random.default_rng([int(seed), 15485863])
    if dataset.has_timestamps:
        key = dataset.interactions[TIMESTAMP].to_numpy().astype(np.float64)
    else:
        key = rng.random(len(users))
    # Per user, the last row of (user, key, file order): the latest or a random interaction.
    order = np.lexsort((np.arange(len(users)), key, users))
    last = np.zeros(len(users), dtype=bool)
    is_last = np.r_[users[order][1:] != users[order][:-1], True]
    last[order[is_last]] = True
    held = last & (counts[users] >= int(min_interactions))
    return dataset.subset(np.flatnonzero(held), name=f"{dataset.name} [validation]")


# ----------------------------------------------------------------- dispatch
#: Split method name (as the CLI and the dashboard spell it) -> function.
SPLIT_METHODS: dict[str, Callable[..., list[Split]]] = {
    "random": random_holdout,
    "kfold": kfold,
    "temporal": temporal_per_user,
    "leave-last-out": leave_last_n_out,
    "global-time": global_time_split,
}
#: How each split method is named to a person (the dashboard and the CLI's help read this).
SPLIT_LABELS: dict[str, str] = {
    "random": "Random hold-out",
    "kfold": "K-fold cross-validation",
    "temporal": "Temporal (each user's latest ratings are tested)",
    "leave-last-out": "Leave last out (each user's last ratings are tested)",
    "global-time": "Global time split (everything after one cut-off date is tested)",
}
#: Split methods whose test part comes after the training part in time (per user or globally): models that
#: read the order of a history (``uses_order``) run on these only (leave-last-out needs timestamps too).
TIME_SPLITS = ("temporal", "leave-last-out", "global-time")


def make_splits(dataset: Dataset, method: str, **params: Any) -> list[Split]:
    """Split ``dataset`` with the method called ``method``.

    Parameters
    ----------
    dataset : Dataset
        Data set to split.
    method : {"random", "kfold", "temporal", "leave-last-out", "global-time"}
        Which split: :func:`random_holdout`, :func:`kfold`,
        :func:`temporal_per_user`, :func:`leave_last_n_out` or :func:`global_time_split`.
    **params
        Keyword arguments of that function (``test_size``, ``seed``,
        ``n_folds``, ``test_fraction``, ``n`` ...).

    Returns
    -------
    list of Split

    Raises
    ------
    ValueError
        If ``method`` is not one of the names above.
    """
    try:
        function = SPLIT_METHODS[method]
    except (KeyError, TypeError):
        valid = ", ".join(repr(name) for name in SPLIT_METHODS)
        raise ValueError(f"Unknown split method {method!r}; choose one of {valid}.") from None
    return function(dataset, **params)
