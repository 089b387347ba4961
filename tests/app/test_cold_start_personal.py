"""Cold start page: rating-prediction models ranked by the personal part, offered beside the predicted rating."""
from __future__ import annotations

from app_helpers import texts


def test_ranking_by_the_personal_part_is_offered_and_explained(trained):
    at = trained.switch_page("pages/cold_start.py").run()
    assert not at.exception
    choice = at.radio(key="cold_rank_by")
    assert choice.value == "prediction"
    choice.set_value("personal").run()
    assert any("the item's bias (what everybody rates highly)" in c for c in texts(at.caption))
    at.multiselect(key="cold_items").set_value([0, 1, 2]).run()
    next(b for b in at.button if b.key == "cold_go_ratings").click().run()
    assert not at.exception and not at.error
    answers = at.session_state["cold_answer"]["answers"]
    svd = answers["svd"]
    assert "personal part" in svd.recommendations.columns and "Ranked by the personal part" in svd.note
    assert "has no personal part" in answers["baseline"].note
