"""Train page on implicit data: a minimum count for relevance, applied by the runner and kept with the run."""
from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_core import data
from recsys_core.evaluation.metrics import relevant_items
from recsys_core.evaluation.runner import evaluate
from recsys_core.evaluation.splits import make_splits
from app_helpers import new_app, texts

MODELS = ["popular", "ease"]


def ndcg10(table, model: str) -> float:
    rows = table[(table["model"] == model) & (table["metric"] == "ndcg") & (table["k"] == 10)
                 & (table["bucket"] == "all")]
    assert len(rows)
    return float(rows["value"].mean())


def _train(at, minimum: float | None):
    at.switch_page("pages/train.py").run()
    at.multiselect(key="train_models").set_value(MODELS).run()
    if minimum is not None:
        at.number_input(key="train_relevant_from").set_value(minimum).run()
    next(b for b in at.button if b.label == "Train and evaluate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    results = at.session_state["results"]
    # The run's table, read from the app's own session (Results.table needs a script run).
    results.measured = pd.concat([at.session_state["runs"][key].table for key in results.keys], ignore_index=True)
    return results


def test_a_minimum_count_is_applied_kept_with_the_run_and_equals_the_runner_called_directly():
    at = new_app()
    next(b for b in at.button if b.label == "Use the sample's play counts").click().run()
    default = _train(at, None)
    assert default.relevance_threshold is None and not default.errors
    minimum = float(np.median(data.load_sample("counts").interactions["rating"]))  # about half the plays
    chosen = _train(at, minimum)
    assert chosen.relevance_threshold == minimum and not chosen.errors
    assert not chosen.reused  # measured under another rule: nothing reused
    assert f"at least {minimum:g}" in chosen.split_description()
    assert any(f"is at least {minimum:g}" in c for c in texts(at.caption))

    # The same numbers from the runner called directly on the same split and rule.
    counts = data.load_sample("counts")
    split = make_splits(counts, chosen.split_method, **chosen.split_params)
    direct = evaluate(counts, MODELS, splits=split, ks=chosen.ks, relevance_threshold=minimum).table
    for name in MODELS:
        assert np.isclose(ndcg10(chosen.measured, name), ndcg10(direct, name), atol=1e-12)
    assert not np.isclose(ndcg10(chosen.measured, "ease"), ndcg10(default.measured, "ease"))
    assert relevant_items(split[0].test, threshold=minimum).nnz < split[0].test.n_ratings

    # Compare reads the same rule: its evidence counts only the interactions that reach it.
    at.switch_page("pages/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]


def test_a_minimum_nothing_reaches_is_refused_before_training():
    at = new_app()
    next(b for b in at.button if b.label == "Use the sample's play counts").click().run()
    at.switch_page("pages/train.py").run()
    at.number_input(key="train_relevant_from").set_value(1e9).run()
    assert any("No held-out interaction reaches 1e+09" in w for w in texts(at.warning))
    assert next(b for b in at.button if b.label == "Train and evaluate").disabled
