"""Train page: a time and memory estimate before fitting, and the pruning that fits when it is over the machine."""
from __future__ import annotations

import numpy as np

from recsys_core.models import make_model, memory
from app_helpers import new_app, texts


def test_ease_over_the_machine_offers_the_pruning_that_fits(monkeypatch):
    at = new_app()
    at.switch_page("pages/train.py").run()
    at.multiselect(key="train_models").set_value(["ease"]).run()
    assert not at.exception
    notes = [c for c in texts(at.caption) if "Estimate on this data" in c and "of memory" in c]
    assert any(" s on " in c or " min on " in c for c in notes), notes  # the time is known for ease

    dataset = at.session_state["dataset"]  # the bundled sample: size the free memory so that ease does not fit
    per_item = np.bincount(dataset.matrix.indices, minlength=dataset.n_items)
    kept = per_item >= 5
    budget = make_model("ease").memory_estimate(dataset.n_users, int(kept.sum()), int(per_item[kept].sum()))
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: int(budget / memory.MEMORY_SHARE) + 1)
    at.run()
    warning = next(w for w in texts(at.warning) if "'min_item_interactions' to" in w)
    assert "Training would be refused" in warning
    threshold = int(warning.split("'min_item_interactions' to ")[1].split(":")[0])
    assert 1 < threshold <= 5
    at.number_input(key="param:ease:min_item_interactions").set_value(threshold).run()
    assert not any("EASE keeps" in w for w in texts(at.warning))
    assert any(f"on the {int((per_item >= threshold).sum()):,} items it keeps" in c for c in texts(at.caption))


def test_on_play_counts_the_train_page_defaults_to_the_ranking_models_and_says_why():
    from recsys_core.models.feedback import DEFAULT_IMPLICIT_MODELS

    at = new_app()
    next(b for b in at.button if b.label == "Use the sample's play counts").click().run()
    assert at.session_state["dataset"].feedback_kind == "counts"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.multiselect(key="train_models").value == list(DEFAULT_IMPLICIT_MODELS)
    assert any("the default models are the ranking models" in c for c in texts(at.caption))
    at.multiselect(key="train_models").set_value(["popular", "svd", "ease"]).run()
    assert any("svd predicts ratings: on counts they refuse" in c for c in texts(at.caption))
    next(b for b in at.button if b.label == "Use the ranking models").click().run()
    assert at.multiselect(key="train_models").value == list(DEFAULT_IMPLICIT_MODELS)
