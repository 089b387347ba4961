"""A whole experiment as plain files: the data set, the settings and the results, never pickles.

``export_experiment`` writes one zip (Parquet tables + ``experiment.json``)
that ``import_experiment`` reads back on another machine: the data set comes
back with the same fingerprint, so results and settings stay tied to the data
they were measured on. Nothing in the archive is executable: tables are
Parquet, everything else JSON. ``write_dataset``/``read_dataset`` do the same
for a directory (the dashboard's per-session store uses them).
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .dataset import Dataset, legacy_fingerprint
from .errors import DataValidationError

FORMAT = "recsys-lab-experiment"
VERSION = 1
#: Largest archive content accepted (uncompressed), against zip bombs.
MAX_UNCOMPRESSED = 4 * 1024**3
_TABLES = ("interactions", "items", "users", "user_ids", "item_ids")


def _frames(dataset: Dataset) -> dict[str, pd.DataFrame]:
    columns = [c for c in ("user", "item", "rating", "timestamp") if c in dataset.interactions.columns]
    return {
        "interactions": dataset.interactions[columns].reset_index(drop=True),
        "items": dataset.items.reset_index(drop=True),
        "users": dataset.users.reset_index(drop=True),
        "user_ids": pd.DataFrame({"user": dataset.user_ids.astype(str)}),
        "item_ids": pd.DataFrame({"item": dataset.item_ids.astype(str)}),
    }


def _meta(dataset: Dataset) -> dict[str, Any]:
    return {"name": dataset.name, "rating_scale": list(dataset.rating_scale), "implicit": dataset.implicit,
            "report": list(dataset.report), "fingerprint": dataset.fingerprint}


def _rebuild(tables: dict[str, pd.DataFrame], meta: dict[str, Any], source: str) -> Dataset:
    try:
        dataset = Dataset.from_frames(
            tables["interactions"], name=str(meta["name"]), rating_scale=tuple(meta["rating_scale"]),
            implicit=bool(meta["implicit"]), items=tables["items"], users=tables["users"],
            report=[str(line) for line in meta.get("report", [])],
            user_ids=tables["user_ids"]["user"].astype(str).to_numpy(),
            item_ids=tables["item_ids"]["item"].astype(str).to_numpy(),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise DataValidationError(f"{source}: the data tables do not fit together ({error}).") from None
    saved = meta.get("fingerprint")
    # Archives and sessions saved before ids were stored as categories carry the older fingerprint.
    if saved and dataset.fingerprint != saved and legacy_fingerprint(dataset) != saved:
        raise DataValidationError(
            f"{source}: the data read back does not match the fingerprint it was saved with "
            f"({dataset.fingerprint} instead of {meta['fingerprint']}); the file is damaged or was edited."
        )
    return dataset


# ------------------------------------------------------------- directories
def write_dataset(dataset: Dataset, directory: str | Path) -> None:
    """Write the data set as Parquet tables plus ``dataset.json`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in _frames(dataset).items():
        frame.to_parquet(directory / f"{name}.parquet", index=False)
    (directory / "dataset.json").write_text(json.dumps(_meta(dataset)), encoding="utf-8")


def read_dataset(directory: str | Path) -> Dataset:
    """The data set :func:`write_dataset` wrote (same fingerprint, or :class:`DataValidationError`)."""
    directory = Path(directory)
    try:
        meta = json.loads((directory / "dataset.json").read_text(encoding="utf-8"))
        tables = {name: pd.read_parquet(directory / f"{name}.parquet") for name in _TABLES}
    except (OSError, ValueError) as error:
        raise DataValidationError(f"The saved data set in {directory.name} cannot be read ({error}).") from None
    return _rebuild(tables, meta, "saved session")


# ---------------------------------------------------------------- archives
def export_experiment(dataset: Dataset, settings: dict[str, Any], results: pd.DataFrame | None = None) -> bytes:
    """A zip with the data set, the settings (models, parameters, split, K...) and the tidy results."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, frame in _frames(dataset).items():
            archive.writestr(f"data/{name}.parquet", frame.to_parquet(index=False))
        if results is not None:
            archive.writestr("results.parquet", results.to_parquet(index=False))
        manifest = {"format": FORMAT, "version": VERSION, "dataset": _meta(dataset), "settings": _plain(settings),
                    "versions": package_versions()}
        archive.writestr("experiment.json", json.dumps(manifest, indent=2))
    return buffer.getvalue()


def import_experiment(data: bytes, name: str = "experiment.zip") -> tuple[Dataset, dict[str, Any], pd.DataFrame | None]:
    """Read an archive written by :func:`export_experiment`: ``(dataset, settings, results)``.

    Raises :class:`DataValidationError` naming the file and what is wrong (not a zip, not an
    experiment, missing tables, too large, damaged data).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DataValidationError(f"{name} is not an experiment archive (a .zip written by 'Export experiment').") from None
    with archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED:
            raise DataValidationError(f"{name} unpacks to more than {MAX_UNCOMPRESSED / 1024**3:.0f} GiB; refused.")
        try:
            manifest = json.loads(archive.read("experiment.json"))
        except (KeyError, ValueError):
            raise DataValidationError(f"{name} has no readable experiment.json: it was not written by "
                                      "'Export experiment'.") from None
        if manifest.get("format") != FORMAT or int(manifest.get("version", 0)) > VERSION:
            raise DataValidationError(f"{name} is not a recsys-lab experiment of a version this app reads "
                                      f"(format {manifest.get('format')!r}, version {manifest.get('version')!r}).")
        try:
            tables = {table: pd.read_parquet(io.BytesIO(archive.read(f"data/{table}.parquet"))) for table in _TABLES}
            results = (pd.read_parquet(io.BytesIO(archive.read("results.parquet")))
                       if "results.parquet" in archive.namelist() else None)
        except (KeyError, ValueError, OSError) as error:
            raise DataValidationError(f"{name}: a data table is missing or damaged ({error}).") from None
    dataset = _rebuild(tables, manifest["dataset"], name)
    return dataset, dict(manifest.get("settings", {})), results


def package_versions() -> dict[str, str]:
    """Versions of the packages behind a result (for reproducing it)."""
    from importlib import metadata

    versions = {}
    for package in ("numpy", "pandas", "scipy", "scikit-learn", "scikit-surprise", "implicit", "optuna", "lightfm",
                    "streamlit", "sentence-transformers", "torch"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _plain(value: Any) -> Any:
    """JSON-safe copy (numpy scalars to Python, tuples to lists)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
