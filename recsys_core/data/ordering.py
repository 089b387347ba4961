"""A file whose rows are in the order things happened, without a timestamp column: its row order as time.

Event logs and "history" exports are often written as they happen and carry no time. Models that read the
order of histories (GRU4Rec, SASRec) and the splits by time need one; when the person confirms the rows are
chronological, each row's position becomes its timestamp (row 1 is time 0, row 2 is time 1, ...), said in
the data set's report. Nothing is assumed without that confirmation.
"""
from __future__ import annotations

import numpy as np

from ..dataset import TIMESTAMP, Dataset

FILE_ORDER_NOTE = ("No timestamp column: the rows are taken to be in the order they happened (as confirmed), so "
                   "each row's position in the file is its time.")


def with_file_order_as_time(dataset: Dataset) -> Dataset:
    """``dataset`` with ``timestamp`` = the row's position in the file (a data set with timestamps is returned as is)."""
    if dataset.has_timestamps:
        return dataset
    frame = dataset.interactions.copy(deep=False)
    frame[TIMESTAMP] = np.arange(len(frame), dtype=np.int64)
    return Dataset.from_frames(frame, name=dataset.name, rating_scale=dataset.rating_scale,
                               implicit=dataset.implicit, items=dataset.items, users=dataset.users,
                               report=(*dataset.report, FILE_ORDER_NOTE), user_ids=dataset.user_ids,
                               item_ids=dataset.item_ids, _indexed=True)
