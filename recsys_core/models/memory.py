"""Memory estimates before a fit, and a refusal with the estimate instead of an out-of-memory kill.

Every model answers ``memory_estimate(n_users, n_items, n_ratings)`` in bytes
(its largest structures, measured against what they allocate here); ``fit``
compares it with what the operating system can give now and raises
:class:`~recsys_core.errors.ModelMemoryError` before allocating when it would
not fit. The Train page shows the same estimate beside each model.
"""
from __future__ import annotations

from ..system import MEMORY_SHARE, available_memory_bytes, fits, gib  # noqa: F401  (the models' names for them)

#: Bytes per rating of Surprise's Trainset (dicts of lists of (id, rating) tuples, both ways), measured.
SURPRISE_BYTES_PER_RATING = 250
#: Bytes per stored entry of a float64 CSR matrix (value + int32 index).
CSR_BYTES = 12
