"""Bridge to Surprise: build its Trainset from a Dataset, read fitted arrays back.

Surprise fits where it fits; its fitted parameters are then re-indexed to our
dense indices and scored in bulk. The trainset is built from the data set's
rows in their order, exactly as Surprise's own ``KFold`` builds it, so a
model fitted here is the model ``cross_validate`` fits on the same fold.
"""
from __future__ import annotations

import numpy as np

from ..dataset import Dataset


def build_trainset(dataset: Dataset):
    """A ``surprise.Trainset`` whose raw ids are our dense indices (ints)."""
    import pandas as pd
    from surprise import Dataset as SurpriseDataset
    from surprise import Reader

    frame = dataset.interactions
    rows = pd.DataFrame(
        {
            "user": frame["user_idx"].to_numpy(dtype=np.int64),
            "item": frame["item_idx"].to_numpy(dtype=np.int64),
            "rating": frame["rating"].to_numpy(dtype=np.float64),
        }
    )
    data = SurpriseDataset.load_from_df(rows, Reader(rating_scale=dataset.rating_scale))
    return data.build_full_trainset()


def inner_to_index(trainset) -> tuple[np.ndarray, np.ndarray]:
    """Our user and item index of each Surprise inner id."""
    users = np.array([trainset.to_raw_uid(inner) for inner in range(trainset.n_users)], dtype=np.int64)
    items = np.array([trainset.to_raw_iid(inner) for inner in range(trainset.n_items)], dtype=np.int64)
    return users, items


def scatter(values: np.ndarray, index: np.ndarray, size: int, fill: float = 0.0) -> np.ndarray:
    """Place per-inner-id ``values`` at our indices; ids Surprise never saw get ``fill``."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full((size,) + values.shape[1:], fill, dtype=np.float64)
    out[index] = values
    return out
