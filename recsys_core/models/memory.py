"""Memory estimates before a fit, and a refusal with the estimate instead of an out-of-memory kill.

Every model answers ``memory_estimate(n_users, n_items, n_ratings)`` in bytes
(its largest structures, measured against what they allocate here); ``fit``
compares it with what the operating system can give now and raises
:class:`~recsys_core.errors.ModelMemoryError` before allocating when it would
not fit. The Train page shows the same estimate beside each model.
"""
from __future__ import annotations

#: A fit may plan to use at most this share of the memory available now.
MEMORY_SHARE = 0.8
#: Bytes per rating of Surprise's Trainset (dicts of lists of (id, rating) tuples, both ways), measured.
SURPRISE_BYTES_PER_RATING = 250
#: Bytes per stored entry of a float64 CSR matrix (value + int32 index).
CSR_BYTES = 12


def available_memory_bytes() -> int:
    """Memory the operating system can give us now (MemAvailable), or a conservative 4 GiB."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 * 1024**3


def gib(n_bytes: float) -> str:
    """Bytes as a short human figure (MiB under 1 GiB)."""
    if n_bytes < 1024**3:
        return f"{n_bytes / 1024**2:,.0f} MiB"
    return f"{n_bytes / 1024**3:,.1f} GiB"


def fits(n_bytes: float, available: int | None = None) -> bool:
    available = available_memory_bytes() if available is None else available
    return n_bytes <= MEMORY_SHARE * available
