"""Reference rows: global mean, baseline estimates (BaselineOnly), most popular.

Every comparison shows these beside the real models: a model that cannot beat
the global mean on RMSE, or "most popular" on NDCG, has learnt little.
"""
from __future__ import annotations

import numpy as np

from ..dataset import Dataset
from ._surprise import build_trainset, inner_to_index, scatter
from . import memory
from .params import Param
from .base import Recommender


class GlobalMean(Recommender):
    """Predicts the mean training rating for every pair: the floor of RMSE."""

    name = "global-mean"
    family = "Baseline"
    formula = r"\hat r_{ui} = \mu"
    explanation = "Every prediction is the mean of all training ratings. Any model worth its fit time must beat it on RMSE."
    folds_in = True
    personalises = False

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def _fit(self, dataset: Dataset) -> None:
        self.global_mean_ = dataset.global_mean

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return np.full((len(user_idx), self.dataset_.n_items), self.global_mean_)

    def _predict_pairs(self, user_idx, item_idx):
        return np.full(len(user_idx), self.global_mean_)

    def fold_in(self, item_idx, ratings):
        return np.full(self.dataset_.n_items, self.global_mean_)

    def explain(self, top, rated, rated_values, scores):
        return [f"every item gets the global mean ({self.global_mean_:.2f})" for _ in top]


class BaselineOnly(Recommender):
    """Surprise's BaselineOnly: global mean plus user and item biases (Koren 2010, eq. 2).

    Biases are fitted by Surprise (ALS by default: ``reg_i=10, reg_u=15,
    n_epochs=10``). Unknown users or items contribute a zero bias, as in Surprise.
    """

    name = "baseline"
    family = "Baseline"
    formula = r"\hat r_{ui} = \mu + b_u + b_i,\quad \min_{b}\sum_{r_{ui}}(r_{ui}-\mu-b_u-b_i)^2 + \lambda_u b_u^2 + \lambda_i b_i^2"
    explanation = (
        "Each user is a bit more generous or strict than average (b_u), each item a bit better or worse (b_i). "
        "Fitted by alternating least squares with separate regularisation for users and items."
    )
    folds_in = True
    finite_state = ("user_bias_", "item_bias_")

    def item_biases(self):
        """The learnt b_i: a baseline's prediction has no personal part beyond the user's bias."""
        self.check_fitted()
        return self.item_bias_
    personalises = False  # a new user's bias shifts every item alike: the order is the item biases'
    params = (
        Param("method", "'als' (alternating least squares) or 'sgd'.", kind="choice", choices=("als", "sgd")),
        Param("n_epochs", "Passes of ALS/SGD over the data.", kind="int", low=1, high=200, step=5, search=(5, 30)),
        Param("reg_u", "ALS regularisation of user biases (larger pulls them to 0).", low=0.0, high=200.0, step=1.0,
              search=(1.0, 50.0), log=True),
        Param("reg_i", "ALS regularisation of item biases.", low=0.0, high=200.0, step=1.0, search=(1.0, 50.0),
              log=True),
    )

    def __init__(self, method: str = "als", n_epochs: int = 10, reg_u: float = 15, reg_i: float = 10, random_state: int = 0):
        self.method = method
        self.n_epochs = n_epochs
        self.reg_u = reg_u
        self.reg_i = reg_i
        self.random_state = random_state

    def bsl_options(self) -> dict:
        options = {"method": self.method, "n_epochs": self.n_epochs}
        if self.method == "als":
            options.update(reg_u=self.reg_u, reg_i=self.reg_i)
        return options

    def memory_estimate(self, n_users, n_items, n_ratings):
        """Surprise's Trainset (~250 B a rating) dominates."""
        return memory.SURPRISE_BYTES_PER_RATING * n_ratings + 8 * 4_000_000 + 64 * (n_users + n_items)

    def _fit(self, dataset: Dataset) -> None:
        from surprise import BaselineOnly as SurpriseBaselineOnly

        trainset = build_trainset(dataset)
        algo = SurpriseBaselineOnly(bsl_options=self.bsl_options(), verbose=False).fit(trainset)
        users, items = inner_to_index(trainset)
        self.global_mean_ = trainset.global_mean
        self.user_bias_ = scatter(algo.bu, users, dataset.n_users)
        self.item_bias_ = scatter(algo.bi, items, dataset.n_items)

    def _score_users(self, user_idx):
        return self.global_mean_ + self.user_bias_[user_idx, None] + self.item_bias_[None, :]

    def _predict_pairs(self, user_idx, item_idx):
        return self.global_mean_ + self.user_bias_[user_idx] + self.item_bias_[item_idx]

    def item_embeddings(self):
        return None

    def fold_in(self, item_idx, ratings):
        # One ALS step for the new user's bias against the fixed item biases.
        residual = np.asarray(ratings, float) - self.global_mean_ - self.item_bias_[item_idx]
        user_bias = residual.sum() / (self.reg_u + len(residual))
        return self.global_mean_ + user_bias + self.item_bias_

    def explain(self, top, rated, rated_values, scores):
        return [f"item bias {self.item_bias_[i]:+.2f} (raters like it more than average)" for i in top]


class MostPopular(Recommender):
    """Ranks items by their number of training interactions; predicts no ratings.

    The honest reference for ranking metrics: on MovieLens-100k it beats every
    rating-prediction model here on NDCG@10.
    """

    name = "popular"
    family = "Baseline"
    predicts_ratings = False
    formula = r"\mathrm{score}(u, i) = |\{v : r_{vi} \text{ observed}\}|"
    explanation = (
        "Recommends what most people rated, the same list for everyone (minus what you already saw). "
        "It ignores taste entirely, yet it is hard to beat on precision and NDCG."
    )
    folds_in = True
    personalises = False
    explains_by = "popularity"

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    forgets_users = True
    forget_explanation = "each item's count loses the removed users' interactions (exact: a count is a sum)."

    def _fit(self, dataset: Dataset) -> None:
        self.popularity_ = dataset.item_counts.astype(np.float64)

    def _forget(self, dataset, removed, keep):
        gone = self.dataset_.matrix[removed]
        self.popularity_ = self.popularity_ - np.bincount(gone.indices, minlength=len(self.popularity_))

    def _score_users(self, user_idx):
        return np.broadcast_to(self.popularity_, (len(user_idx), len(self.popularity_))).copy()

    def _predict_pairs(self, user_idx, item_idx):
        raise NotImplementedError("'popular' ranks items; it does not predict ratings.")

    def fold_in(self, item_idx, ratings):
        return self.popularity_.copy()

    def explain(self, top, rated, rated_values, scores):
        n = self.dataset_.item_counts
        return [f"rated by {n[i]:,} user{'s' if n[i] != 1 else ''}" for i in top]
