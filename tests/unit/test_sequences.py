"""Next-item models (GRU4Rec, SASRec), ordered histories, splits that respect time, ordered cold start."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_core import cold_start, data
from recsys_core.dataset import Dataset
from recsys_core.errors import ColdStartError, DataValidationError
from recsys_core.evaluation import runner
from recsys_core.evaluation.splits import global_time_split, leave_last_n_out, make_splits, random_holdout
from recsys_core.models import make_model
from recsys_core.models.neural.sequences import PAD, histories, last_windows, training_windows

torch = pytest.importorskip("torch")

FAST = {"factors": 16, "epochs": 40, "patience": 0, "learning_rate": 0.01, "batch_size": 16, "dropout": 0.0}


def _frame(rows, timestamps=True):
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    return frame if timestamps else frame.drop(columns="timestamp")


def _chains(n_users: int = 40) -> Dataset:
    """Every even user watched A, B, C, D in that order, every odd one E, F, G, H."""
    rows = []
    for u in range(n_users):
        chain = "ABCD" if u % 2 == 0 else "EFGH"
        rows += [(f"u{u}", item, 5.0, 1000 * u + t) for t, item in enumerate(chain)]
    return Dataset.from_frames(_frame(rows), name="chains", rating_scale=(1.0, 5.0))


# ------------------------------------------------------------------ histories and windows
def test_histories_order_by_time_and_break_ties_by_file_order():
    rows = [("a", "x", 5, 30), ("a", "y", 4, 10), ("b", "x", 3, 5), ("a", "z", 2, 10), ("b", "w", 1, 1)]
    dataset = Dataset.from_frames(_frame(rows), name="literal")
    indptr, items = histories(dataset)
    ids = dataset.item_ids
    user_a, user_b = dataset.user_indices(["a", "b"])
    assert [ids[i] for i in items[indptr[user_a]:indptr[user_a + 1]]] == ["y", "z", "x"]  # y, z tie at 10: file order
    assert [ids[i] for i in items[indptr[user_b]:indptr[user_b + 1]]] == ["w", "x"]


def test_histories_refuse_a_file_without_timestamps_and_name_the_way_out():
    rows = [("a", "x", 5, 0), ("a", "y", 4, 0)]
    dataset = Dataset.from_frames(_frame(rows, timestamps=False), name="no-times")
    with pytest.raises(DataValidationError, match="no timestamp column.*file-order-is-time"):
        histories(dataset)
    ordered = data.with_file_order_as_time(dataset)
    assert ordered.interactions["timestamp"].tolist() == [0, 1]
    assert any("order they happened" in line for line in ordered.report)


def test_training_windows_cover_every_transition_once_from_the_recent_end():
    # One history of 6 items (0..5), max_length 2: windows (targets) [4,5], [2,3], [1] -- tokens are items + 1.
    indptr, items = np.array([0, 6, 7]), np.array([0, 1, 2, 3, 4, 5, 9])
    inputs, targets = training_windows(indptr, items, 2)
    np.testing.assert_array_equal(targets, [[5, 6], [3, 4], [PAD, 2]])
    np.testing.assert_array_equal(inputs, [[4, 5], [2, 3], [PAD, 1]])
    # The second user has one item: no transition, no window. Scoring reads each user's latest items.
    np.testing.assert_array_equal(last_windows(indptr, items, 3), [[4, 5, 6], [PAD, PAD, 10]])


# ------------------------------------------------------------------ networks
def test_sasrec_causal_mask_hides_later_items():
    model = make_model("sasrec", factors=16, layers=2, heads=2, dropout=0.0, max_length=6)
    network = model._network(torch, np.zeros((1, 20)))
    network.eval()
    tokens = torch.tensor([[0, 3, 5, 7, 9, 11]])
    changed = tokens.clone()
    changed[0, 4:] = torch.tensor([2, 4])
    with torch.no_grad():
        before, after = network(tokens), network(changed)
    torch.testing.assert_close(before[0, :4], after[0, :4])  # positions 0..3 never see positions 4, 5
    assert not torch.allclose(before[0, 4:], after[0, 4:])


@pytest.mark.parametrize("name", ["gru4rec", "sasrec"])
@pytest.mark.parametrize("loss", ["softmax", "bce"])
def test_given_a_then_b_then_c_the_next_item_is_d(name, loss):
    dataset = _chains()
    model = make_model(name, loss=loss, **FAST).fit(dataset)
    given = dataset.item_indices(["A", "B", "C"])
    answer = cold_start.from_sequence(model, ["A", "B", "C"], n=3)
    assert answer.recommendations["item"].iloc[0] == "D"
    assert "Read in order" in answer.note
    scores = model.fold_in_sequence(np.asarray(given))
    assert np.argmax(np.where(np.isin(np.arange(dataset.n_items), given), -np.inf, scores)) == \
        dataset.item_indices(["D"])[0]
    # A training user's list (history A, B, C, D) comes from their own sequence: E..H, never the seen ones.
    top = model.recommend_indices(np.array([0]), n=2)[0]
    assert not set(top) & set(dataset.item_indices(list("ABCD")))


def test_same_seed_same_scores_and_the_order_changes_the_answer():
    dataset = _chains()
    first = make_model("sasrec", **FAST).fit(dataset)
    second = make_model("sasrec", **FAST).fit(dataset)
    users = np.arange(dataset.n_users)
    np.testing.assert_array_equal(first.score_users(users), second.score_users(users))
    forward = first.fold_in_sequence(dataset.item_indices(["A", "B"]))
    backward = first.fold_in_sequence(dataset.item_indices(["B", "A"]))
    assert not np.allclose(forward, backward)


def test_an_unordered_model_answers_the_same_items_as_a_set():
    dataset = _chains()
    model = make_model("item-knn-cosine").fit(dataset)
    one = cold_start.from_sequence(model, ["A", "B", "C"])
    other = cold_start.from_sequence(model, ["C", "A", "B"])
    assert one.recommendations["item"].tolist() == other.recommendations["item"].tolist()
    assert "does not read order" in one.note
    with pytest.raises(ColdStartError, match="not in the catalogue"):
        cold_start.from_sequence(model, ["A", "nope"])


def test_a_long_list_is_cut_to_the_latest_items_and_said_once():
    dataset = _chains()
    model = make_model("gru4rec", max_length=2, **{k: v for k, v in FAST.items() if k != "epochs"}, epochs=3)
    model.fit(dataset)
    assert any("more than 2" in note for note in model.fit_notes())
    answer = cold_start.from_sequence(model, ["E", "A", "B", "C"])
    assert answer.note.count("latest 2 of the 4") == 1


# ------------------------------------------------------------------ splits that respect time
def _literal_times() -> Dataset:
    rows = [("a", "i1", 5, 10), ("a", "i2", 4, 20), ("a", "i3", 3, 30), ("b", "i1", 2, 15), ("b", "i4", 5, 15),
            ("c", "i2", 4, 40), ("c", "i3", 1, 50), ("a", "i4", 2, 35)]
    return Dataset.from_frames(_frame(rows), name="times")


def test_leave_last_out_holds_each_users_latest_and_says_how_ties_were_broken():
    dataset = _literal_times()
    (split,) = leave_last_n_out(dataset, 1)
    rows = lambda part: sorted(zip(part.interactions["user"].astype(str), part.interactions["item"].astype(str)))
    assert rows(split.test) == [("a", "i4"), ("b", "i4"), ("c", "i3")]  # b's two share t=15: file order decides
    assert split.respects_time
    assert any("file order decided" in note for note in split.notes)
    test_times = split.test.interactions.groupby("user", observed=True)["timestamp"].min()
    train_times = split.train.interactions.groupby("user", observed=True)["timestamp"].max()
    assert (test_times >= train_times.reindex(test_times.index)).all()


def test_global_time_split_cuts_everyone_at_one_time():
    dataset = _literal_times()
    (split,) = global_time_split(dataset, cutoff=30)
    rows = lambda part: sorted(zip(part.interactions["user"].astype(str), part.interactions["item"].astype(str)))
    assert rows(split.train) == [("a", "i1"), ("a", "i2"), ("a", "i3"), ("b", "i1"), ("b", "i4")]
    # After t=30: a's i4 (a has history) is tested; c has none before the cut-off, so c's rows are in neither part.
    assert rows(split.test) == [("a", "i4")]
    assert split.test.interactions["timestamp"].min() > split.train.interactions["timestamp"].max()
    assert any("no history before it" in note for note in split.notes)
    # The default cut-off leaves the given share after it: the ceil(8 * 0.6) = 5th smallest time, 30.
    (default,) = make_splits(dataset, "global-time", test_fraction=0.4)
    assert rows(default.train) == rows(split.train)


def test_global_time_split_refuses_cut_offs_that_leave_nothing():
    dataset = _literal_times()
    with pytest.raises(DataValidationError, match="nothing is left to train on"):
        global_time_split(dataset, cutoff=5)
    with pytest.raises(DataValidationError, match="nothing to test.*nothing happens after it"):
        global_time_split(dataset, cutoff=50)
    with pytest.raises(DataValidationError, match="everyone active after it is new"):
        global_time_split(dataset, cutoff=36)
    no_times = Dataset.from_frames(_frame([("a", "x", 1, 0), ("b", "y", 2, 0)], timestamps=False), name="n")
    with pytest.raises(DataValidationError, match="no timestamp column"):
        global_time_split(no_times)


def test_a_next_item_model_is_refused_on_a_random_split_and_the_others_stand():
    dataset = _chains()
    result = runner.evaluate(dataset, ["popular", runner.ModelSpec("gru4rec", dict(FAST, epochs=2))],
                             splits=random_holdout(dataset, 0.25), ks=(3,))
    assert "popular" in set(result.table["model"]) and "gru4rec" not in set(result.table["model"])
    assert "split by time" in result.errors["gru4rec"]
    assert runner.split_problem(make_model("gru4rec"), respects_time=True) is None
    assert runner.split_problem(make_model("ease"), respects_time=False) is None
    # On a split by time it runs: runs of 5 around a ring of 8 items (i -> i + 1), starting anywhere, so every
    # transition is trained on (the runner carves each user's latest training item for validation) and every
    # user's last item follows from the one before it.
    rows = [(f"u{u}", f"r{(u + t) % 8}", 5.0, 100 * u + t) for u in range(48) for t in range(5)]
    ring = Dataset.from_frames(_frame(rows), name="ring", rating_scale=(1.0, 5.0))
    ordered = runner.evaluate(ring, [runner.ModelSpec("gru4rec", dict(FAST, epochs=30))],
                              splits=leave_last_n_out(ring, 1), ks=(1,))
    assert not ordered.errors
    hit = ordered.table.query("metric == 'hit_rate' and bucket == 'all'")["value"].iloc[0]
    assert hit == pytest.approx(1.0)


def test_the_tuner_validates_a_next_item_model_on_each_users_latest_items():
    from recsys_core.evaluation import tuning

    rows = [(f"u{u}", f"r{(u + t) % 8}", 5.0, 100 * u + t) for u in range(48) for t in range(6)]
    ring = Dataset.from_frames(_frame(rows), name="ring", rating_scale=(1.0, 5.0))
    split = tuning.validation_split(ring, fraction=0.2, by_time=True)
    assert split.respects_time
    result = tuning.tune(ring, "gru4rec", n_trials=2, k=3, fixed_params=dict(FAST, epochs=3))
    assert len(result.trials) == 2 and np.isfinite(result.best_value)


def test_cli_runs_next_item_models_on_a_global_time_split_and_file_order(tmp_path, capsys):
    from recsys_core.__main__ import main

    rows = [(f"u{u}", f"r{(u + t) % 8}", 5.0, 100 * u + t) for u in range(48) for t in range(5)]
    path = tmp_path / "log.csv"
    _frame(rows).sort_values(["timestamp"]).drop(columns="timestamp").to_csv(path, index=False)
    params = '{"gru4rec": {"epochs": 2, "factors": 8}}'
    # Without times the model says so; with the file order confirmed it runs beside popular on a cut-off.
    assert main(["compare", "--ratings", str(path), "--models", "gru4rec,popular", "--split", "global-time",
                 "--no-progress", "--params", params]) == 2
    assert "no timestamp column" in capsys.readouterr().err
    out = tmp_path / "results.csv"
    code = main(["compare", "--ratings", str(path), "--models", "gru4rec,popular", "--split", "global-time",
                 "--file-order-is-time", "--test-size", "0.2", "--no-progress", "--params", params,
                 "--output", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "order they happened" in printed
    assert set(pd.read_csv(out)["model"]) == {"gru4rec", "popular"}


def test_an_unordered_set_is_read_in_the_order_people_usually_take_its_items():
    from recsys_core.models.neural.sequences import typical_positions

    # Histories (0, 1, 2) and (1, 2): item 0 always first, 2 always last, 1 in between; item 3 never seen.
    positions = typical_positions(np.array([0, 3, 5]), np.array([0, 1, 2, 1, 2]), 4)
    np.testing.assert_allclose(positions, [0.0, 0.25, 1.0, 0.5])
    dataset = _chains()
    model = make_model("sasrec", **FAST).fit(dataset)
    items = dataset.item_indices(["C", "A", "B"])
    np.testing.assert_array_equal(model.fold_in(items, np.full(3, 5.0)),
                                  model.fold_in_sequence(dataset.item_indices(["A", "B", "C"])))
