"""Fixtures of the AppTest suite (helpers live in app_helpers.py: both test folders have a conftest)."""
from app_helpers import movielens_bytes, trained  # noqa: F401 -- fixtures
