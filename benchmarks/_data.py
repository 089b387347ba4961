"""Benchmark data: generated with the project's own seeded generator (no third-party data)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recsys_core import synthetic  # noqa: E402
from recsys_core.dataset import Dataset  # noqa: E402


def generated_dataset(n_users: int = 943, n_items: int = 1682, n_ratings: int = 100_000, seed: int = 42) -> Dataset:
    """A MovieLens-100k-shaped data set from recsys_core.synthetic."""
    ratings, items, users = synthetic.generate(n_users=n_users, n_items=n_items, n_ratings=n_ratings, seed=seed)
    return Dataset.from_frames(ratings, rating_scale=(1, 5), items=items, users=users, name="generated")
