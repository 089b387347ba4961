"""The bundled sample as an event log: views, carts and purchases drawn from its ratings (same planted truth).

An online shop logs events, not stars (RetailRocket's ``events.csv``:
``timestamp, visitorid, event, itemid, transactionid``). This module turns
each rated (user, item) pair of the sample into the events a shopper who
felt that way would leave, so the event-log variant keeps every pair and the
sample's planted structure (genres, segments), with strength following the
rating:

* every pair is viewed once, plus ``Binomial(2, (r - 1) / 4)`` repeat views;
* a rating of 4 or 5 puts the item in the cart with probability 0.5 / 0.85;
* a carted item is bought with probability 0.3 (rating 4) / 0.6 (rating 5).

Loaded with the default event weights (view 1, addtocart 3, transaction 5,
summed per pair), a pair weighs 1-3 for a disliked item and up to 11 for a
loved one. Times are the rating's time in milliseconds plus seconds to
a minute per later event (views, then cart, then purchase). Seeded: the same ratings and seed give the same log.

Kept apart from :mod:`recsys_core.synthetic` (which generates the ratings) so
either can change without the other; the log is derived, never committed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: Event-log file name written by ``python -m recsys_core sample --feedback events``.
EVENTS_FILE = "events.csv"
_CART = {4: 0.5, 5: 0.85}
_BUY = {4: 0.3, 5: 0.6}


def ratings_to_events(ratings: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """An event log (``timestamp, visitorid, event, itemid, transactionid``) from ``user, item, rating[, timestamp]``.

    Ratings are rounded to whole stars 1-5 for the draw; without a timestamp column the rows' order gives
    the times (one hour apart).
    """
    rng = np.random.default_rng([int(seed), 4111])
    stars = np.clip(np.rint(ratings["rating"].to_numpy(dtype=np.float64)), 1, 5).astype(np.int64)
    if "timestamp" in ratings:
        start = ratings["timestamp"].to_numpy(dtype=np.int64) * 1000
    else:
        start = np.arange(len(ratings), dtype=np.int64) * 3_600_000
    users, items = ratings["user"].to_numpy(), ratings["item"].to_numpy()
    views = 1 + rng.binomial(2, (stars - 1) / 4.0)
    cart = rng.random(len(stars)) < np.vectorize(_CART.get)(stars, 0.0)
    buy = cart & (rng.random(len(stars)) < np.vectorize(_BUY.get)(stars, 0.0))
    # Rows: each pair's views, then its cart, then its purchase, seconds to minutes apart.
    pair = np.concatenate([np.repeat(np.arange(len(stars)), views), np.flatnonzero(cart), np.flatnonzero(buy)])
    kind = np.concatenate([np.zeros(views.sum(), np.int64), np.ones(cart.sum(), np.int64),
                           np.full(buy.sum(), 2, np.int64)])
    step = np.concatenate([_rank_within(np.repeat(np.arange(len(stars)), views)),
                           views[cart], views[buy] + 1])
    # The first view at the rating's time, each later event a minute (plus jitter) after the one before.
    offsets = step * 60_000 + (step > 0) * rng.integers(0, 50_000, len(pair))
    frame = pd.DataFrame({
        "timestamp": start[pair] + offsets,
        "visitorid": users[pair],
        "event": np.array(["view", "addtocart", "transaction"])[kind],
        "itemid": items[pair],
    })
    transaction = np.full(len(pair), "", dtype=object)
    bought = kind == 2
    transaction[bought] = (np.arange(bought.sum()) + 1).astype(str)
    frame["transactionid"] = transaction
    return frame.sort_values(["timestamp", "visitorid"], kind="stable").reset_index(drop=True)


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2 ... within each run of equal, sorted group labels."""
    if not len(groups):
        return groups
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)]))


def write_events(directory: str | Path, ratings: pd.DataFrame, seed: int = 0) -> Path:
    """Write :func:`ratings_to_events` of ``ratings`` as ``events.csv`` in ``directory``; returns the path."""
    path = Path(directory) / EVENTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    ratings_to_events(ratings, seed).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path
