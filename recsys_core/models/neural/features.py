"""User and item side features of the feature-reading torch models (two-tower, factorization machine).

Items: their genres and tags as labels (multi-hot, labels shared by two or more items), the same vocabulary
LightFM reads. Users: their demographics one-hot (categorical values shared by two or more users, age in
bands). A brand-new item or user described by metadata is mapped to the same columns
(:meth:`FeatureSpace.item_row`, :meth:`FeatureSpace.user_row`); labels outside the vocabulary are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ...dataset import Dataset
from ..hybrid import AGE_EDGES, AGE_LABELS, _item_metadata, _user_metadata


@dataclass
class FeatureSpace:
    """Metadata feature matrices of a data set (no identity columns) and how to map new rows onto them."""

    item_matrix: sp.csr_matrix
    user_matrix: sp.csr_matrix
    item_names: list[str]
    user_names: list[str]
    _vocabularies: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, dataset: Dataset, items: bool = True, users: bool = True) -> "FeatureSpace":
        if items:
            item_matrix, item_names, vocabularies, _ = _item_metadata(dataset.items, None, None, max_words=0)
        else:
            item_matrix, item_names, vocabularies = sp.csr_matrix((dataset.n_items, 0)), [], {}
        user_matrix, user_names = _user_metadata(dataset.users) if users else (sp.csr_matrix((dataset.n_users, 0)), [])
        return cls(sp.csr_matrix(item_matrix, dtype=np.float32), sp.csr_matrix(user_matrix, dtype=np.float32),
                   list(item_names), list(user_names), vocabularies)

    @property
    def n_item_features(self) -> int:
        return self.item_matrix.shape[1]

    @property
    def n_user_features(self) -> int:
        return self.user_matrix.shape[1]

    def describe(self) -> str:
        """What the model reads, for notes ("19 genre/tag labels, 31 demographic values")."""
        parts = []
        if self.n_item_features:
            parts.append(f"{self.n_item_features} genre/tag labels")
        if self.n_user_features:
            parts.append(f"{self.n_user_features} demographic values")
        return ", ".join(parts) if parts else "ids only"

    def item_row(self, metadata: Mapping[str, object]) -> sp.csr_matrix:
        """A new item's labels in this vocabulary (1 x n_item_features)."""
        frame = pd.DataFrame([{str(key): ("" if value is None else (
            "|".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)))
            for key, value in metadata.items()}])
        if not self._vocabularies:
            return sp.csr_matrix((1, 0), dtype=np.float32)
        return sp.csr_matrix(_item_metadata(frame, self._vocabularies, None)[0], dtype=np.float32)

    def user_row(self, demographics: Mapping[str, object]) -> sp.csr_matrix:
        """A new user's demographics in this vocabulary (1 x n_user_features); unknown values are ignored."""
        index = {name: position for position, name in enumerate(self.user_names)}
        columns = []
        for column, value in demographics.items():
            if value is None or str(value).strip() == "":
                continue
            if str(column).lower() == "age":
                try:
                    age = float(value)
                except (TypeError, ValueError):
                    continue
                band = AGE_LABELS[int(np.searchsorted(AGE_EDGES, age, side="right")) - 1]
                name = f"age={band}"
            else:
                name = f"{column}={str(value).strip()}"
            if name in index:
                columns.append(index[name])
        row = sp.csr_matrix((np.ones(len(columns), dtype=np.float32), (np.zeros(len(columns), int), columns)),
                            shape=(1, self.n_user_features))
        return row


def torch_csr(torch, matrix: sp.csr_matrix, device: str = "cpu"):
    """A scipy matrix as a torch sparse COO tensor (float32)."""
    coo = sp.coo_matrix(matrix)
    indices = torch.as_tensor(np.vstack([coo.row, coo.col]).astype(np.int64))
    return torch.sparse_coo_tensor(indices, torch.as_tensor(coo.data.astype(np.float32)), coo.shape,
                                   device=device).coalesce()
