"""Data page: the sample's event-log variant in one click, read as counts with the event types listed."""
from __future__ import annotations

from app_helpers import new_app


def test_the_sample_event_log_loads_in_one_click():
    at = new_app()
    next(b for b in at.button if b.label == "Use the sample's event log").click().run()
    assert not at.exception and not at.error
    dataset = at.session_state["dataset"]
    assert dataset.name == "sample (event log)" and dataset.feedback_kind == "counts"
    assert {m.label: m.value for m in at.metric}["Feedback"] == "counts (implicit)"
    assert not any(b.label == "Use the sample's event log" for b in at.button)  # already loaded
