"""AppTest: next-item models on the pages -- refused on a random split, trained on a split by time, the ordered
cold-start list, the timeline on Explore, the file order as time on the Data page."""
from __future__ import annotations

import numpy as np
import pytest

from app_helpers import movielens_bytes, new_app, texts, upload  # noqa: F401 -- fixture

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def ordered(movielens_bytes):  # noqa: F811
    at = new_app()
    upload(at, {"ratings": ("ratings.csv", movielens_bytes["ratings.csv"]),
                "items": ("movies.csv", movielens_bytes["movies.csv"])})
    at.switch_page("pages/train.py").run()
    at.multiselect(key="train_models").set_value(["popular", "gru4rec"]).run()
    at.number_input(key="param:gru4rec:epochs").set_value(3).run()
    at.radio(key="train_split").set_value("random").run()
    warning = " ".join(texts(at.warning))
    assert "gru4rec" in warning and "will not run" in warning and "split by time" in warning
    next(b for b in at.button if b.label == "Train and evaluate").click().run()
    assert not at.exception
    results = at.session_state["results"]
    assert "gru4rec" in results.errors and "split by time" in results.errors["gru4rec"]
    assert "popular" in [key[1] for key in results.keys]  # the others' results stand
    at.radio(key="train_split").set_value("leave-last-out").run()
    assert not any("will not run" in w for w in texts(at.warning))
    next(b for b in at.button if b.label == "Train and evaluate").click().run()
    assert not at.exception and not at.session_state["results"].errors
    assert "gru4rec" in [key[1] for key in at.session_state["results"].keys]
    return at


def test_the_ordered_list_is_read_in_order_by_the_sequence_model_only(ordered):
    at = ordered.switch_page("pages/cold_start.py").run()
    data = at.session_state["dataset"]
    items = [int(i) for i in np.argsort(-data.item_counts)[:3]]
    at.multiselect(key="cold_sequence").set_value(items).run()
    assert any(" → " in t for t in texts(at.markdown))
    next(b for b in at.button if b.key == "cold_go_sequence").click().run()
    assert not at.exception and not at.error
    answers = at.session_state["cold_answer"]["answers"]
    assert "Read in order" in answers["gru4rec"].note
    assert "does not read order" in answers["popular"].note
    assert answers["gru4rec"].recommendations is not None
    assert not set(answers["gru4rec"].recommendations["item"]) & {str(data.item_ids[i]) for i in items}


def test_explore_draws_the_users_history_as_a_timeline(ordered):
    at = ordered.switch_page("pages/explore.py").run()
    assert not at.exception and not at.error
    assert any("Their history in time order" in chart.proto.spec for chart in at.get("plotly_chart"))
    assert any("Latest trained on" in t and "gru4rec predicts the next items" in t for t in texts(at.caption))


def test_a_file_without_times_can_use_its_row_order(movielens_bytes):  # noqa: F811
    import io

    import pandas as pd

    frame = pd.read_csv(io.BytesIO(movielens_bytes["ratings.csv"])).drop(columns="timestamp")
    at = new_app()
    upload(at, {"ratings": ("ratings.csv", frame.to_csv(index=False).encode())})
    assert not at.session_state["dataset"].has_timestamps
    button = next(b for b in at.button if b.key == "data_file_order_time")
    button.click().run()
    assert not at.exception
    data = at.session_state["dataset"]
    assert data.has_timestamps and data.interactions["timestamp"].tolist()[:3] == [0, 1, 2]
    assert "file order as time" in at.session_state["dataset_source"]


def test_the_sequence_reading_says_what_order_adds_on_full_catalogue_numbers():
    import pandas as pd

    from recsys_ui import reading

    rows = [(m, 0, "ndcg", 10, "all", v) for m, v in (("sasrec", 0.31), ("als", 0.23), ("popular", 0.08))]
    table = pd.DataFrame(rows, columns=["model", "fold", "metric", "k", "bucket", "value"])
    sentence = reading.sequence_lesson(table, 10, {"sasrec"}, "leave-last-1-out")
    assert "**sasrec** (0.310 NDCG@10) beats" in sentence and "**als** (0.230)" in sentence
    assert "full-catalogue" in sentence and "100 sampled" in sentence
    worse = table.assign(value=[0.20, 0.23, 0.08])
    assert "the order adds too little" in reading.sequence_lesson(worse, 10, {"sasrec"}, "split")
    assert reading.sequence_lesson(table, 10, set(), "split") is None
