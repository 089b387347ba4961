"""Experiments as plain files: the data set comes back with its fingerprint; bad archives get clear messages."""
from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from recsys_core import data
from recsys_core.errors import DataValidationError
from recsys_core.experiment import export_experiment, import_experiment, read_dataset, write_dataset


@pytest.fixture(scope="module")
def sample():
    return data.load_sample()


def test_a_directory_round_trip_keeps_the_fingerprint(sample, tmp_path):
    write_dataset(sample, tmp_path / "saved")
    again = read_dataset(tmp_path / "saved")
    assert again.fingerprint == sample.fingerprint
    assert (again.item_ids == sample.item_ids).all() and again.rating_scale == sample.rating_scale
    pd.testing.assert_frame_equal(again.interactions, sample.interactions)


def test_an_archive_round_trip_keeps_data_settings_and_results(sample):
    results = pd.DataFrame({"model": ["ease"], "fold": [0], "metric": ["ndcg"], "k": [10], "bucket": ["all"],
                            "value": [0.35]})
    settings = {"models": {"ease": {"reg": 250.0}}, "split": "random", "split_params": {"seed": 0}, "ks": (10,)}
    archive = export_experiment(sample, settings, results)
    assert not any(name.endswith((".pkl", ".pickle")) for name in zipfile.ZipFile(io.BytesIO(archive)).namelist())
    dataset, back, table = import_experiment(archive)
    assert dataset.fingerprint == sample.fingerprint
    assert back["models"] == {"ease": {"reg": 250.0}} and back["ks"] == [10]
    pd.testing.assert_frame_equal(table, results)


def test_bad_archives_are_refused_with_a_message(sample):
    with pytest.raises(DataValidationError, match="not an experiment archive"):
        import_experiment(b"user,item\n1,2\n", "ratings.csv")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("experiment.json", json.dumps({"format": "something else"}))
    with pytest.raises(DataValidationError, match="not a recsys-lab experiment"):
        import_experiment(buffer.getvalue(), "x.zip")
    # Edited data no longer matches the fingerprint it was saved with.
    original = zipfile.ZipFile(io.BytesIO(export_experiment(sample, {})))
    edited = io.BytesIO()
    with zipfile.ZipFile(edited, "w") as archive:
        for name in original.namelist():
            content = original.read(name)
            if name == "data/interactions.parquet":
                frame = pd.read_parquet(io.BytesIO(content))
                frame.loc[0, "rating"] = 1.0 if frame.loc[0, "rating"] != 1.0 else 2.0
                content = frame.to_parquet(index=False)
            archive.writestr(name, content)
    with pytest.raises(DataValidationError, match="does not match the fingerprint"):
        import_experiment(edited.getvalue(), "edited.zip")


def test_what_older_versions_saved_still_reads_back(sample, tmp_path):
    """Before ids were stored as categories the fingerprint hashed the raw ids per row; this is the value the
    version of 2026-11-30 morning (0848a37~1) computes for the bundled sample as regenerated with its planted
    viewing order (checked out and run on today's sample_data files)."""
    write_dataset(sample, tmp_path / "old")
    meta_path = tmp_path / "old" / "dataset.json"
    meta = json.loads(meta_path.read_text())
    meta["fingerprint"] = "fb6421e4873b2da0"
    meta_path.write_text(json.dumps(meta))
    assert read_dataset(tmp_path / "old").fingerprint == sample.fingerprint
    meta["fingerprint"] = "0123456789abcdef"  # anything else is still refused as damaged
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(DataValidationError, match="fingerprint"):
        read_dataset(tmp_path / "old")
