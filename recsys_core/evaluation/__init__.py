"""Evaluation: seeded splits, metrics as pure functions of arrays, and the runner.

``splits`` turns a ``Dataset`` into train/test ``Split`` objects; ``metrics``
scores predictions and ranked lists; ``runner`` (model x fold x metric) builds
the tidy result table from both.
"""
from .metrics import (
    RANKING_METRICS,
    activity_bucket_labels,
    activity_buckets,
    average_precision_at_k,
    catalog_coverage,
    default_relevance_threshold,
    hit_rate_at_k,
    intra_list_diversity,
    mae,
    ndcg_at_k,
    novelty,
    personalization,
    precision_at_k,
    recall_at_k,
    reciprocal_rank_at_k,
    relevant_items,
    rmse,
)
from .splits import SPLIT_METHODS, Split, kfold, leave_last_n_out, make_splits, random_holdout, temporal_per_user

__all__ = [
    "RANKING_METRICS",
    "SPLIT_METHODS",
    "Split",
    "activity_bucket_labels",
    "activity_buckets",
    "average_precision_at_k",
    "catalog_coverage",
    "default_relevance_threshold",
    "hit_rate_at_k",
    "intra_list_diversity",
    "kfold",
    "leave_last_n_out",
    "mae",
    "make_splits",
    "ndcg_at_k",
    "novelty",
    "personalization",
    "precision_at_k",
    "random_holdout",
    "recall_at_k",
    "reciprocal_rank_at_k",
    "relevant_items",
    "rmse",
    "temporal_per_user",
]
