"""What this machine can give now: free memory, and whether a planned allocation fits in it.

Read by the loaders (a file too large to load is refused before reading it)
and by the models' memory estimates (``recsys_core.models.memory``).
"""
from __future__ import annotations

#: A fit or a load may plan to use at most this share of the memory available now.
MEMORY_SHARE = 0.8


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
    """Whether ``n_bytes`` is within :data:`MEMORY_SHARE` of ``available`` (default: what is free now)."""
    available = available_memory_bytes() if available is None else available
    return n_bytes <= MEMORY_SHARE * available
