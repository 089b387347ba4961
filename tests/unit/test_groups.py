"""Metrics per group of users on a literal data set with known groups (every value worked out by hand)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_core.dataset import Dataset
from recsys_core.evaluation import groups as G
from recsys_ui.reading import group_gap_sentence

AGES = [18, 19, 22, 24, 30, 33, 41, 47, 55, 63]
GENDERS = ["F", "M", "F", "M", "F", "M", "F", "M", "F", None]


@pytest.fixture(scope="module")
def data() -> Dataset:
    # User u0 rated 1 item, u1 2 items, ... u9 10 items: activity buckets <=5 (u0-u4), 6-20 (u5-u9).
    rows = [(f"u{u}", f"i{i}", 4.0) for u in range(10) for i in range(u + 1)]
    users = pd.DataFrame({"user": [f"u{u}" for u in range(10)], "age": AGES, "gender": GENDERS,
                          "country": ["NL"] * 10, "code": [f"c{u}" for u in range(10)]})
    return Dataset.from_frames(pd.DataFrame(rows, columns=["user", "item", "rating"]), users=users,
                               rating_scale=(1, 5))


#: NDCG@10 per user for two models; RMSE for one.
NDCG_A = [0.4, 0.4, 0.6, 0.1, 0.5, 0.3, 0.1, 0.1, 0.1, 0.1]
NDCG_B = [0.2, 0.2, 0.2, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]


@pytest.fixture(scope="module")
def per_user() -> pd.DataFrame:
    frames = []
    for model, values in (("a", NDCG_A), ("b", NDCG_B)):
        frames.append(pd.DataFrame({"model": model, "fold": 0, "metric": "ndcg", "k": 10, "user": range(10),
                                    "bucket": "all", "value": values}))
    frames.append(pd.DataFrame({"model": "a", "fold": 0, "metric": "rmse", "k": None, "user": range(10),
                                "bucket": "all", "value": [1.0] * 5 + [2.0] * 5}))
    frame = pd.concat(frames, ignore_index=True)
    frame["k"] = frame["k"].astype("Int64")
    return frame


def test_numeric_column_in_readable_ranges(data):
    grouping = G.user_groups(data, "age")
    # Quartiles 22.5, 31.5, 45.5 rounded to 5s: 20, 30, 45.
    assert grouping.order == ["under 20", "20–29", "30–44", "45 and over"]
    assert list(grouping.labels) == ["under 20"] * 2 + ["20–29"] * 2 + ["30–44"] * 3 + ["45 and over"] * 3
    assert grouping.phrase("45 and over") == "users aged 45 and over"


def test_text_column_and_missing_values(data):
    grouping = G.user_groups(data, "gender")
    assert list(grouping.labels) == GENDERS[:9] + [None]
    assert set(grouping.order) == {"F", "M"}


def test_activity_groups_need_no_user_features(data):
    grouping = G.user_groups(data, G.ACTIVITY)
    assert list(grouping.labels) == ["≤5"] * 5 + ["6–20"] * 5
    assert G.group_columns(data) == ["activity", "age", "gender", "country", "code"]


def test_one_value_or_too_many_values_give_a_sentence(data):
    one = G.user_groups(data, "country")
    assert not one.usable and "same country (NL)" in one.note
    many = Dataset.from_frames(
        pd.DataFrame({"user": [f"u{u}" for u in range(60)], "item": "i", "rating": 3.0}),
        users=pd.DataFrame({"user": [f"u{u}" for u in range(60)], "code": [f"c{u}" for u in range(60)]}))
    too_many = G.user_groups(many, "code")
    assert not too_many.usable and "60 different values" in too_many.note and "more than 50" in too_many.note
    assert G.metrics_by_group(pd.DataFrame(columns=["model", "user", "value"]), too_many).empty
    with pytest.raises(KeyError, match="No user column 'nope'"):
        G.user_groups(data, "nope")


def test_metrics_per_group_by_hand(data, per_user):
    table = G.metrics_by_group(per_user, G.user_groups(data, "age"))
    a = table[(table["model"] == "a") & (table["metric"] == "ndcg")]
    assert a["group"].tolist() == ["under 20", "20–29", "30–44", "45 and over"]
    np.testing.assert_allclose(a["value"], [0.4, (0.6 + 0.1) / 2, (0.5 + 0.3 + 0.1) / 3, 0.1])
    assert a["users"].tolist() == [2, 2, 3, 3]
    rmse = table[table["metric"] == "rmse"]
    np.testing.assert_allclose(rmse["value"], [1.0, 1.0, (1 + 2 + 2) / 3, 2.0])
    gender = G.metrics_by_group(per_user, G.user_groups(data, "gender"))
    b = gender[(gender["model"] == "b")].set_index("group")["value"]
    np.testing.assert_allclose([b["F"], b["M"]], [(0.2 + 0.2 + 0.3 + 0.3 + 0.3) / 5, (0.2 + 0.2 + 0.3 + 0.3) / 4])


def test_gap_and_its_interval(data, per_user):
    grouping = G.user_groups(data, "age")
    # Constant values inside both groups: every resample has the same means, the interval is the gap itself.
    gap = G.group_gap(per_user, grouping, "a", "ndcg", 10, "45 and over", "under 20")
    assert gap.difference == pytest.approx(0.1 - 0.4)
    assert (gap.low, gap.high) == (pytest.approx(-0.3), pytest.approx(-0.3)) and gap.clear
    # Spread inside a group: the interval holds the gap and stays within the extreme resamples.
    spread = G.group_gap(per_user, grouping, "a", "ndcg", 10, "30–44", "under 20", seed=1)
    assert spread.difference == pytest.approx(0.3 - 0.4)
    assert 0.1 - 0.4 <= spread.low <= spread.difference <= spread.high <= 0.5 - 0.4
    assert G.group_gap(per_user, grouping, "a", "ndcg", 10, "30–44", "under 20", seed=1) == spread  # seeded


def test_widest_gap_follows_the_metric_direction(data, per_user):
    grouping = G.user_groups(data, "age")
    [ndcg] = G.widest_gaps(per_user, grouping, "ndcg", 10, models=["a"], min_users=1)
    assert (ndcg.first, ndcg.second) == ("45 and over", "under 20")  # lowest NDCG minus highest
    [rmse] = G.widest_gaps(per_user, grouping, "rmse", None, min_users=1)
    assert (rmse.first, rmse.second) == ("45 and over", "under 20") and rmse.difference == pytest.approx(1.0)
    assert G.widest_gaps(per_user, grouping, "ndcg", 10, models=["a"], min_users=3) == [
        G.group_gap(per_user, grouping, "a", "ndcg", 10, "45 and over", "30–44")]


def test_reading_sentence(data, per_user):
    grouping = G.user_groups(data, "age")
    gap = G.group_gap(per_user, grouping, "a", "ndcg", 10, "45 and over", "under 20")
    assert group_gap_sentence(gap, grouping, min_users=2) == (
        "**a** serves users aged 45 and over with 0.300 lower NDCG@10 than users aged under 20 (0.100 against "
        "0.400; 95% CI of the gap 0.300 to 0.300; 3 and 2 users).")
    assert group_gap_sentence(gap, grouping).endswith("too few users in a group to tell.")
    [rmse] = G.widest_gaps(per_user, grouping, "rmse", None, min_users=1)
    assert "1.000 higher (worse) RMSE" in group_gap_sentence(rmse, grouping, min_users=1)
    noisy = G.group_gap(per_user, grouping, "a", "ndcg", 10, "30–44", "20–29")
    assert group_gap_sentence(noisy, grouping, min_users=1).endswith("the gap may be chance.")
