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


# ------------------------------------------------------------------ threads and BLAS
import contextlib  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402

#: BLAS thread limits are process-wide: two fits in one server (two sessions) would change each other's
#: setting mid-fit, and the thread count changes rounding, so a fit would not reproduce. Fits that depend on
#: BLAS (EASE's inverse, implicit's ALS/BPR, torch's matrix products) take this lock and run with the threads
#: the fit context gives, so every fit gives the same numbers whatever else the process runs.
BLAS_LOCK = threading.RLock()


def cpu_cores() -> int:
    """Cores this process may use (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def blas_threads(n_threads: int = 1):
    """``n_threads`` BLAS/LAPACK threads under the process-wide lock, for one fit or fold-in.

    A fixed thread count gives the same numbers run after run (LAPACK's blocked factorisations split the
    same work the same way); a different count may change the last bits (see ``EASE``'s tolerance).
    """
    from threadpoolctl import threadpool_limits

    with BLAS_LOCK, threadpool_limits(max(1, int(n_threads)), "blas"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*configured to use .* threads", category=RuntimeWarning)
        yield


@contextlib.contextmanager
def blas_single_thread():
    """One BLAS thread under the process-wide lock, for the duration of a fit or fold-in.

    implicit asks for one BLAS thread anyway (it parallelises itself). Its start-up check still sees a BLAS
    library it cannot limit (torch's) and warns; the limit is in place for the libraries the fit uses, so
    that warning is silenced here.
    """
    from threadpoolctl import threadpool_limits

    with BLAS_LOCK, threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*configured to use .* threads", category=RuntimeWarning)
        yield


@dataclass(frozen=True)
class FitContext:
    """Where and how a fit runs -- kept apart from a model's hyper-parameters.

    A model's parameters are what the person chose and what an export reproduces; the context is the
    machine's business: which device, how many threads, and an optional seed that overrides the model's
    own ``random_state`` for one fit (seed-spread studies refit the same parameters under several seeds).

    Attributes
    ----------
    device : str
        ``"cpu"`` (the only device this lab is tested on; torch models accept any torch device string).
    n_threads : int or None
        Intra-op threads for torch fits (None: one). Measured on the 2-core machine: a small MF-BCE fit took
        0.2 s on one thread and 1.9-4.2 s on two while other work ran (threads spinning for a busy core);
        the embedding models' batches are too small to gain from a second thread, and a server runs several
        sessions' fits side by side anyway. Ask for more (up to :func:`cpu_cores`) on an idle machine.
    seed : int or None
        Replaces the model's ``random_state`` for this fit when given.
    """

    device: str = "cpu"
    n_threads: int | None = None
    seed: int | None = None

    @property
    def threads(self) -> int:
        return max(1, min(int(self.n_threads), cpu_cores())) if self.n_threads else 1

    @property
    def dense_threads(self) -> int:
        """Threads for one large dense factorisation (EASE's inverse): ``n_threads`` when given, else every core.

        Unlike the embedding models' small batches, an n^3 factorisation keeps every core busy (2 cores,
        3,000 items, float32 potrf+potri: 0.22 s on two threads against 0.62 s on one, measured under load);
        the count is fixed per machine, and a fixed count gives the same numbers run after run (tested).
        """
        return max(1, min(int(self.n_threads), cpu_cores())) if self.n_threads else cpu_cores()

    @contextlib.contextmanager
    def torch_threads(self):
        """Torch's intra-op thread count set for one fit, under the BLAS lock (the setting is process-wide)."""
        import torch

        with BLAS_LOCK:
            before = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            try:
                yield
            finally:
                torch.set_num_threads(before)


#: The context of a fit that was given none.
DEFAULT_CONTEXT = FitContext()
