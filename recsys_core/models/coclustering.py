"""Co-clustering (George & Merugu 2005) with Surprise's semantics and defaults.

Users and items are each assigned to one of a few clusters; the prediction is

.. math:: \\hat r_{ui} = \\bar C_{ui} + (\\mu_u - \\bar C_u) + (\\mu_i - \\bar C_i)

where :math:`\\bar C_{ui}` is the mean rating of the co-cluster, :math:`\\bar
C_u`, :math:`\\bar C_i` the means of the user's and the item's cluster.
Surprise fits the clusters (3 x 3, 20 epochs); the fitted means are read back
and scored in bulk. A user or item without training ratings cannot be scored.
"""
from __future__ import annotations

import numpy as np

from ..dataset import Dataset
from ._surprise import build_trainset, inner_to_index, scatter
from . import memory
from .params import Param
from .base import Recommender


class CoClustering(Recommender):
    name = "coclustering"
    family = "Co-clustering"
    formula = r"\hat r_{ui} = \overline{C_{ui}} + (\mu_u - \overline{C_u}) + (\mu_i - \overline{C_i})"
    explanation = (
        "Users are grouped into a few clusters and items into a few clusters, alternately reassigning each to the "
        "cluster that predicts its ratings best. A prediction is the co-cluster's mean rating, shifted by how the "
        "user and the item differ from their own cluster's mean."
    )
    has_item_embeddings = True
    has_user_embeddings = True
    folds_in = True
    explains_by = "clusters"
    params = (
        Param("n_cltr_u", "Number of user clusters.", kind="int", low=1, high=50, step=1, search=(1, 10)),
        Param("n_cltr_i", "Number of item clusters.", kind="int", low=1, high=50, step=1, search=(1, 10)),
        Param("n_epochs", "Reassignment passes.", kind="int", low=1, high=200, step=5, search=(10, 40)),
    )

    def __init__(self, n_cltr_u: int = 3, n_cltr_i: int = 3, n_epochs: int = 20, random_state: int = 0):
        self.n_cltr_u = n_cltr_u
        self.n_cltr_i = n_cltr_i
        self.n_epochs = n_epochs
        self.random_state = random_state

    def memory_estimate(self, n_users, n_items, n_ratings):
        """Surprise's Trainset (~250 B a rating) dominates."""
        return memory.SURPRISE_BYTES_PER_RATING * n_ratings + 8 * 4_000_000 + 64 * (n_users + n_items)

    def _fit(self, dataset: Dataset) -> None:
        from surprise import CoClustering as SurpriseCoClustering

        trainset = build_trainset(dataset)
        algo = SurpriseCoClustering(
            n_cltr_u=self.n_cltr_u, n_cltr_i=self.n_cltr_i, n_epochs=self.n_epochs,
            random_state=self.seed, verbose=False,
        ).fit(trainset)
        users, items = inner_to_index(trainset)
        self.user_cluster_ = scatter(algo.cltr_u, users, dataset.n_users, fill=-1).astype(np.int64)
        self.item_cluster_ = scatter(algo.cltr_i, items, dataset.n_items, fill=-1).astype(np.int64)
        self.user_mean_ = scatter(algo.user_mean, users, dataset.n_users)
        self.item_mean_ = scatter(algo.item_mean, items, dataset.n_items)
        self.cocluster_mean_ = np.asarray(algo.avg_cocltr, dtype=np.float64)
        self.user_cluster_mean_ = np.asarray(algo.avg_cltr_u, dtype=np.float64)
        self.item_cluster_mean_ = np.asarray(algo.avg_cltr_i, dtype=np.float64)

    def _item_part(self) -> np.ndarray:
        """Per item: mu_i - mean of its cluster (NaN for items without training ratings)."""
        known = self.item_cluster_ >= 0
        part = np.full(len(known), np.nan)
        part[known] = self.item_mean_[known] - self.item_cluster_mean_[self.item_cluster_[known]]
        return part

    def _scores_for(self, cluster: np.ndarray, user_mean: np.ndarray) -> np.ndarray:
        """Scores of every item for users given by cluster and mean rating."""
        known_items = self.item_cluster_ >= 0
        co_mean = self.cocluster_mean_[cluster][:, np.where(known_items, self.item_cluster_, 0)]
        scores = co_mean + (user_mean - self.user_cluster_mean_[cluster])[:, None] + self._item_part()[None, :]
        scores[:, ~known_items] = np.nan
        return scores

    def _score_users(self, user_idx):
        cluster = self.user_cluster_[user_idx]
        known = cluster >= 0
        scores = self._scores_for(np.where(known, cluster, 0), self.user_mean_[user_idx])
        scores[~known] = np.nan
        return scores

    def item_embeddings(self):
        # One-hot item cluster scaled by the item's offset: enough for a cluster-coloured projection.
        return self._cluster_vectors(self.item_cluster_, self.n_cltr_i, self.item_mean_)

    def user_embeddings(self):
        return self._cluster_vectors(self.user_cluster_, self.n_cltr_u, self.user_mean_)

    @staticmethod
    def _cluster_vectors(cluster, n_clusters, means):
        vectors = np.zeros((len(cluster), n_clusters + 1))
        known = cluster >= 0
        vectors[np.flatnonzero(known), cluster[known]] = 1.0
        vectors[:, -1] = np.where(known, means - means[known].mean() if known.any() else 0.0, 0.0)
        return vectors

    def nearest_user_cluster(self, item_idx, ratings) -> tuple[int, np.ndarray]:
        """The user cluster that best predicts the given ratings, and its scores of every item."""
        item_idx = np.asarray(item_idx, dtype=np.int64)
        ratings = np.asarray(ratings, dtype=np.float64)
        clusters = np.arange(self.n_cltr_u)
        candidates = self._scores_for(clusters, np.full(len(clusters), ratings.mean()))
        errors = np.nansum((candidates[:, item_idx] - ratings[None, :]) ** 2, axis=1)
        best = int(np.argmin(errors))
        return best, candidates[best]

    def fold_in(self, item_idx, ratings):
        """Assign the new user to the nearest user cluster (see :meth:`nearest_user_cluster`)."""
        return self.nearest_user_cluster(item_idx, ratings)[1]

    def explain(self, top, rated, rated_values, scores):
        if not len(rated):
            return [self._score_reason(scores[i]) for i in top]
        cluster = self.nearest_user_cluster(rated, rated_values)[0]
        return [f"your user cluster {cluster} rates item cluster {self.item_cluster_[i]} "
                f"{self.cocluster_mean_[cluster, self.item_cluster_[i]]:.2f} on average" for i in top]

    def cannot_personalise(self, item_idx, ratings):
        """Co-clustering has only ``n_cltr_u`` lists to give: say which one, and how many share it."""
        cluster = self.nearest_user_cluster(item_idx, ratings)[0]
        known = self.user_cluster_ >= 0
        share = float((self.user_cluster_[known] == cluster).mean()) if known.any() else 0.0
        return (f"co-clustering put this user in user cluster {cluster} of {self.n_cltr_u} ({share:.0%} of the "
                f"training users are there): every new user who lands in it gets this same list, shifted only "
                f"by their mean rating.")
