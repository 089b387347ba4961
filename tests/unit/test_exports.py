"""Downloads: formula cells neutralised (OWASP CSV injection), provenance carried along."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from recsys_ui import exports

ATTACKS = ['=HYPERLINK("http://evil.example")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx", "\rx"]


def test_text_cells_starting_a_formula_get_a_quote():
    frame = pd.DataFrame({"title": ATTACKS + ["Star Wars", "", "a=b"]})
    out = exports.neutralise(frame)["title"].tolist()
    assert out[:6] == ["'" + a for a in ATTACKS]
    assert out[6:] == ["Star Wars", "", "a=b"]


def test_numbers_stay_numbers():
    frame = pd.DataFrame({"value": [-0.5, 1.0, -3.0], "k": [1, -2, 3], "id": ["-3", "+1.5e3", "=1+2"]})
    out = exports.neutralise(frame)
    assert out["value"].tolist() == [-0.5, 1.0, -3.0]
    assert out["k"].tolist() == [1, -2, 3]
    # A text cell that is a plain number is read as that number by a spreadsheet, never as a formula.
    assert out["id"].tolist() == ["-3", "+1.5e3", "'=1+2"]


def test_mixed_object_column_keeps_its_numbers_and_missing_values():
    frame = pd.DataFrame({"x": pd.Series([-1, "=A1", None, np.nan, "@x"], dtype=object)})
    out = exports.neutralise(frame)["x"].tolist()
    assert out[0] == -1 and out[1] == "'=A1" and out[2] is None and np.isnan(out[3]) and out[4] == "'@x"


def test_column_names_are_neutralised_too():
    frame = pd.DataFrame({"=cmd": [1], "ok": [2]})
    assert list(exports.neutralise(frame).columns) == ["'=cmd", "ok"]


def test_csv_bytes_round_trip():
    frame = pd.DataFrame({"title": ["=HYPERLINK(\"x\")", "Alien"], "rating": [-1.5, 4.0]})
    back = pd.read_csv(io.BytesIO(exports.csv_bytes(frame)))
    assert back["title"].tolist() == ["'=HYPERLINK(\"x\")", "Alien"]
    assert back["rating"].tolist() == [-1.5, 4.0]


def test_json_bytes_neutralise_strings_and_keep_numbers():
    document = {"title": "=1+1", "value": -2.0, "nan": float("nan"), "n": np.int64(3),
                "nested": [{"@k": "-x"}, "-4"]}
    back = json.loads(exports.json_bytes(document))
    assert back == {"title": "'=1+1", "value": -2.0, "nan": None, "n": 3, "nested": [{"'@k": "'-x"}, "-4"]}


def test_file_csv_bytes_keeps_the_file_and_neutralises_cells(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text('item,title,score\n1,"=HYPERLINK(""http://evil.example"")",-1.5\n2,"Toy Story, the",3\n')
    rows = list(io.StringIO(exports.file_csv_bytes(path).decode()).read().splitlines())
    assert rows[0] == "item,title,score"
    assert rows[1] == '1,"\'=HYPERLINK(""http://evil.example"")",-1.5'
    assert rows[2] == '2,"Toy Story, the",3'


TABLE = pd.DataFrame({"model": ["popular", "ease"], "fold": [0, 0], "metric": ["ndcg", "ndcg"], "k": [10, 10],
                      "bucket": ["all", "all"], "value": [0.1, 0.3]})
PROV = exports.provenance(dataset="=evil name", fingerprint="abc123", split_method="random",
                          split_params={"test_size": 0.2, "seed": 7}, ks=(5, 10),
                          models={"popular": {"model": "popular", "params": {}},
                                  "ease": {"model": "ease", "params": {"l2": 500.0}}},
                          split_description="random hold-out of 20% of the ratings (seed 7)")


def test_provenance_names_everything_needed_to_reproduce():
    assert PROV["seed"] == 7 and PROV["ks"] == [5, 10] and PROV["data_fingerprint"] == "abc123"
    assert set(PROV["versions"]) == set(exports.PACKAGES)
    assert PROV["versions"]["numpy"] == np.__version__ and PROV["versions"]["recsys-lab"]
    assert PROV["models"]["ease"]["params"] == {"l2": 500.0}


def test_results_csv_carries_provenance_columns():
    back = pd.read_csv(io.BytesIO(exports.results_csv(TABLE, PROV)))
    assert back["value"].tolist() == [0.1, 0.3]
    assert json.loads(back.loc[1, "params"]) == {"l2": 500.0}
    assert back["data_fingerprint"].unique().tolist() == ["abc123"]
    assert back["dataset"].unique().tolist() == ["'=evil name"]
    assert back["split_method"].unique().tolist() == ["random"]
    assert json.loads(back.loc[0, "split_params"]) == {"seed": 7, "test_size": 0.2}
    assert back["seed"].tolist() == [7, 7] and back["ks"].tolist() == ["5 10", "5 10"]
    assert f"numpy={np.__version__}" in back.loc[0, "versions"]


def test_results_json_is_self_contained():
    back = json.loads(exports.results_json(TABLE, PROV, titles={"1": "=x"}))
    assert back["provenance"]["split"]["params"] == {"test_size": 0.2, "seed": 7}
    assert back["provenance"]["dataset"] == "'=evil name"
    assert back["results"][1] == {"model": "ease", "fold": 0, "metric": "ndcg", "k": 10, "bucket": "all", "value": 0.3}
    assert back["titles"] == {"1": "'=x"}
