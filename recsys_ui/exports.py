"""Every file the dashboard lets a person download: safe to open in a spreadsheet, and reproducible.

Pure functions (no streamlit), unit-tested in ``tests/unit/test_exports.py``.

* CSV injection (OWASP): a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is read as a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` becomes a live
  link, ``=cmd|...`` worse). Such cells get a leading ``'``, which spreadsheets show as text. Numeric
  columns are left alone (a negative number stays a number), and so is a text cell that is a plain
  number (``-3``, ``+1.5e3``): a spreadsheet reads it as the number it is, never as a formula.
* Provenance: a result without the parameters, split, seed, K list, data fingerprint and package
  versions that produced it cannot be reproduced; :func:`provenance` gathers them, :func:`results_csv`
  adds them as columns, :func:`results_json` as a header of a self-contained document.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

#: First characters a spreadsheet may read as the start of a formula (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
#: Distributions whose versions go with every result.
PACKAGES = ("recsys-lab", "numpy", "pandas", "scikit-learn", "scikit-surprise", "implicit", "optuna", "streamlit")


# ------------------------------------------------------------------ CSV injection
def neutralise_cell(value: Any) -> Any:
    """A text value made inert for spreadsheets; anything else (numbers, None, NaN) unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot start a formula.

    Numeric, boolean and datetime columns are returned as they are.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        out[column] = series.map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) if not isinstance(c, (int, float, np.number)) else c for c in out.columns]
    return out


def neutralise_json(value: Any) -> Any:
    """The same rule inside a JSON document (people open JSON exports in spreadsheets too)."""
    if isinstance(value, Mapping):
        return {neutralise_cell(str(k)): neutralise_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [neutralise_json(v) for v in value]
    return neutralise_cell(value)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV, neutralised; the one way the dashboard writes a CSV download."""
    return neutralise(frame).to_csv(index=False).encode("utf-8")


def json_bytes(document: Any) -> bytes:
    """``document`` as indented UTF-8 JSON, neutralised (NaN written as null, as JSON has no NaN)."""
    return json.dumps(neutralise_json(_plain(document)), indent=1, ensure_ascii=False, allow_nan=False).encode("utf-8")


def file_csv_bytes(path: Path | str) -> bytes:
    """A CSV file on disk (e.g. the bundled sample), neutralised cell by cell, the rest kept as written."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [[neutralise_cell(cell) for cell in row] for row in csv.reader(handle)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _plain(value: Any) -> Any:
    """numpy / pandas scalars and containers as plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


# ------------------------------------------------------------------ provenance
@lru_cache(maxsize=1)
def package_versions() -> dict[str, str | None]:
    """Installed version of each package in :data:`PACKAGES` (None when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    if versions["recsys-lab"] is None:
        # Run from a checkout (streamlit run app.py) rather than an installed wheel: the version it declares.
        versions["recsys-lab"] = _checkout_version()
    return versions


def _checkout_version() -> str | None:
    import tomllib

    path = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle).get("project", {}).get("version")
    except (OSError, tomllib.TOMLDecodeError):
        return None


def provenance(*, dataset: str, fingerprint: str, split_method: str, split_params: Mapping[str, Any],
               ks: Sequence[int], models: Mapping[str, Mapping[str, Any]],
               split_description: str = "") -> dict[str, Any]:
    """What produced a result: data, split, seed, K list, each model's hyper-parameters, versions.

    ``models`` maps a model label to ``{"model": registry name, "params": {...}}``.
    """
    return {
        "dataset": dataset,
        "data_fingerprint": fingerprint,
        "split": {"method": split_method, "params": dict(split_params), "description": split_description},
        "seed": split_params.get("seed"),
        "ks": [int(k) for k in ks],
        "models": {label: {"model": spec.get("model", label), "params": dict(spec.get("params", {}))}
                   for label, spec in models.items()},
        "versions": package_versions(),
    }


def run_provenance(results: Any, dataset: Any) -> dict[str, Any]:
    """:func:`provenance` of a training (a ``recsys_ui.ui.Results``) on a ``Dataset``."""
    return provenance(
        dataset=dataset.name, fingerprint=dataset.fingerprint, split_method=results.split_method,
        split_params=results.split_params, ks=results.ks, split_description=results.split_description(),
        models={run.label: {"model": run.name, "params": run.params} for run in results.runs},
    )


def _compact(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False)


def results_csv(table: pd.DataFrame, prov: Mapping[str, Any]) -> bytes:
    """The tidy results with their provenance as columns, so that one file answers "what produced this row".

    A row carries its model's hyper-parameters (``params``, JSON); the run-wide settings (data set and
    fingerprint, split and its parameters, seed, K list, versions) repeat on every row: an analyst
    concatenating several exports can still group and filter by them.
    """
    out = table.copy()
    models = prov.get("models", {})
    out["params"] = out["model"].map(lambda m: _compact(models.get(m, {}).get("params", {})))
    out["dataset"] = prov.get("dataset")
    out["data_fingerprint"] = prov.get("data_fingerprint")
    out["split_method"] = prov["split"]["method"]
    out["split_params"] = _compact(prov["split"]["params"])
    out["seed"] = prov.get("seed")
    out["ks"] = " ".join(str(k) for k in prov.get("ks", []))
    out["versions"] = "; ".join(f"{name}={version}" for name, version in prov.get("versions", {}).items())
    return csv_bytes(out)


def results_json(table: pd.DataFrame, prov: Mapping[str, Any], **extra: Any) -> bytes:
    """A self-contained document: ``{"provenance": …, "results": [one record per row], **extra}``."""
    records = [dict(zip(table.columns, row)) for row in table.itertuples(index=False, name=None)]
    return json_bytes({"provenance": dict(prov), "results": records, **extra})
