"""The sample as an event log (issue 18 item 7): derived from its ratings, same pairs, strength following the stars."""
from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_core import data
from recsys_core.__main__ import main as cli
from recsys_core.synthetic_events import ratings_to_events

RATINGS = pd.DataFrame({"user": ["a", "a", "b", "b", "c"], "item": ["x", "y", "x", "z", "y"],
                        "rating": [5.0, 1.0, 4.0, 2.0, 5.0], "timestamp": [100, 200, 300, 400, 500]})


def test_every_rated_pair_becomes_events_in_order_and_the_log_is_seeded():
    log = ratings_to_events(RATINGS, seed=3)
    pairs = set(zip(log["visitorid"], log["itemid"]))
    assert pairs == set(zip(RATINGS["user"], RATINGS["item"]))
    assert set(log["event"]) <= {"view", "addtocart", "transaction"}
    # Only items rated 4 or 5 are carted or bought; every purchase has a transaction id, nothing else has one.
    carted = set(zip(*log.loc[log["event"] != "view", ["visitorid", "itemid"]].to_numpy().T))
    assert carted <= {("a", "x"), ("b", "x"), ("c", "y")}
    assert (log.loc[log["event"] == "transaction", "transactionid"] != "").all()
    assert (log.loc[log["event"] != "transaction", "transactionid"] == "").all()
    # Within a pair: views first, then the cart, then the purchase; the first view at the rating's time.
    for (user, item), events in log.groupby(["visitorid", "itemid"]):
        order = events.sort_values("timestamp")["event"].map({"view": 0, "addtocart": 1, "transaction": 2})
        assert order.is_monotonic_increasing
        rated = RATINGS.loc[(RATINGS["user"] == user) & (RATINGS["item"] == item), "timestamp"].iloc[0]
        assert events["timestamp"].min() == rated * 1000
    pd.testing.assert_frame_equal(log, ratings_to_events(RATINGS, seed=3))


def test_the_sample_event_log_keeps_its_pairs_and_weighs_loved_items_more():
    stars = data.load_sample()
    events = data.load_sample("events")
    assert events.name == "sample (event log)" and events.feedback_kind == "counts"
    assert events.n_users == stars.n_users and events.n_items == stars.n_items
    assert events.n_ratings == stars.n_ratings
    assert any("event log: column 'event' holds view" in line for line in events.report)
    frame = stars.interactions[["user", "item", "rating"]].merge(
        events.interactions[["user", "item", "rating"]].rename(columns={"rating": "weight"}), on=["user", "item"])
    assert len(frame) == stars.n_ratings
    means = frame.groupby(frame["rating"].round())["weight"].mean()
    assert means.is_monotonic_increasing and means.iloc[-1] > 3 * means.iloc[0]


def test_cli_writes_the_sample_as_an_event_log_that_loads(tmp_path, capsys):
    assert cli(["sample", "--out", str(tmp_path), "--feedback", "events", "--users", "60", "--items", "80",
                "--ratings", "900"]) == 0
    assert "wrote events.csv, items.csv, users.csv" in capsys.readouterr().out
    assert not (tmp_path / "ratings.csv").exists()
    loaded = data.load_dataset(tmp_path / "events.csv", items=tmp_path / "items.csv")
    assert loaded.feedback_kind == "counts" and loaded.n_ratings == 900
    assert np.all(loaded.matrix.data >= 1)


def test_every_default_ranking_model_beats_popular_on_the_sample_event_log():
    from recsys_core.evaluation.runner import evaluate, summarise
    from recsys_core.evaluation.splits import make_splits
    from recsys_core.models.feedback import DEFAULT_IMPLICIT_MODELS

    events = data.load_sample("events")
    names = [name for name in DEFAULT_IMPLICIT_MODELS if name != "bpr"]  # bpr: covered on counts, slow here
    result = evaluate(events, names, splits=make_splits(events, "random", test_size=0.2, seed=0), ks=(10,))
    assert not result.errors
    ndcg = summarise(result.table)["ndcg@10"]
    for name in names[1:]:
        assert ndcg[name] > 1.5 * ndcg["popular"], (name, ndcg.to_dict())
