"""Factorization machine over the user, the item and their features (Rendle 2010).

Each example is a sparse feature vector ``x``: the one-hot user index, the user's demographics, the one-hot
item index and the item's genres/tags. The model is a bias, a weight per feature and a factor vector per
feature, with every pair of features interacting through the dot product of their vectors:

.. math:: \\hat y(x) = w_0 + \\sum_f w_f x_f + \\sum_{f<g} \\langle v_f, v_g\\rangle x_f x_g,
          \\qquad \\sum_{f<g} \\langle v_f, v_g\\rangle x_f x_g
          = \\tfrac12 \\sum_{k}\\Big[\\big(\\sum_f v_{fk} x_f\\big)^2 - \\sum_f v_{fk}^2 x_f^2\\Big]

(the identity that makes it O(k n) instead of O(k n^2): :func:`pairwise_interactions`). With ``task="ratings"``
it regresses the rating (squared error; predicts ratings, RMSE comparable to SVD); with ``task="ranking"`` it is
trained with BPR on implicit feedback; ``"auto"`` picks ratings for a ratings file and ranking for an implicit
one. In ranking mode each interaction's BPR term is weighted by the shared ``weighting`` of the ranking models
(:mod:`recsys_core.models.feedback`: 0/1, the count, log(1 + count), BM25, TF-IDF), the usual answer to "a
purchase should count more than a view" when the file says how many of each.

A user's features add up to one vector ``U_u`` and an item's to ``I_i``, so the pairwise term splits into
``U_u . I_i`` plus terms that depend on one side only; after the fit these are stored as factors and biases and
the whole catalogue is scored with one matrix product. A new user known only by demographics (no index) and a
new user from a few ratings (vector fitted against the fixed items) are both served.

Reference: S. Rendle, "Factorization Machines", ICDM 2010.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...errors import ColdStartError
from ..params import Param, feedback_params, weighting_param
from .features import FeatureSpace, torch_csr
from .training import TorchRanker, as_tensors, factors_param, pair_keys, sample_negatives, shuffled_batches, training_params

TASKS = ("auto", "ratings", "ranking")


def pairwise_interactions(torch, vectors, x):
    """``sum_{f<g} <v_f, v_g> x_f x_g`` for each row of dense ``x`` (n x p), by Rendle's O(k p) identity."""
    summed = x @ vectors
    squared = (x * x) @ (vectors * vectors)
    return 0.5 * (summed * summed - squared).sum(dim=1)


def side_terms(x, vectors: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One side's share of the FM score: its summed vector and the terms that depend on that side only.

    For a pair, ``score = w0 + bias_u + bias_i + vector_u . vector_i`` equals the FM over the concatenated
    ``[x_user; x_item]``: the pairwise sum splits into user-item pairs (the dot product) and the pairs within
    each side (``0.5 (|x v|^2 - x^2 . v^2)``, in the bias with the linear term).
    """
    x = sp.csr_matrix(x, dtype=np.float64)
    vector = np.asarray(x @ vectors)
    squares = np.asarray(x.multiply(x) @ (vectors * vectors))
    bias = np.asarray(x @ weights).ravel() + 0.5 * ((vector * vector).sum(axis=1) - squares.sum(axis=1))
    return vector, bias


class FactorizationMachine(TorchRanker):
    """Second-order FM on [user one-hot, user features, item one-hot, item features]."""

    name = "fm"
    family = "Embedding models (torch, features)"
    uses_features = True
    new_user_features = True  # demographic_scores, when the data has user attributes (see _instance_capabilities)
    predicts_ratings = True  # with task="ratings" (or "auto" on a ratings file); see _instance_capabilities
    formula = (
        r"\hat y(x) = w_0 + \sum_f w_f x_f + \tfrac12\sum_k\Big[\big(\sum_f v_{fk}x_f\big)^2 - \sum_f v_{fk}^2x_f^2\Big],"
        r"\quad x = [\,\mathbb{1}_u;\ \text{user features};\ \mathbb{1}_i;\ \text{item features}\,]"
    )
    explanation = (
        "Describes each (person, item) pair by a list of features: who the person is, their age band and other "
        "attributes, which item it is, its genres and tags. Every feature has a weight and a vector; every pair of "
        "features adds the dot product of their vectors. With only the person and the item it is matrix "
        "factorisation; the attributes let it place a person or item it has not seen. On ratings it predicts the "
        "rating (squared error); on implicit feedback it ranks (BPR)."
    )
    params = (
        factors_param(),
        Param("task", "ratings: regress the rating (RMSE applies); ranking: BPR on implicit feedback; auto: ratings "
              "when the file has ratings.", kind="choice", choices=TASKS, search=None),
        Param("use_features", "Read user demographics and item genres/tags (False: user and item ids only).",
              kind="bool", search=(True, False)),
        weighting_param(),
        Param("l2", "Penalty on the squared length of the vectors used in each example.", low=0.0, high=1.0,
              step=1e-5, fmt="%.6f", search=(1e-6, 1e-1), log=True),
        *training_params(),
        *feedback_params(),
    )

    def __init__(self, factors: int = 32, task: str = "auto", use_features: bool = True, weighting: str = "auto",
                 l2: float = 0.02, epochs: int = 40, learning_rate: float = 0.005, batch_size: int = 1024,
                 weight_decay: float = 0.0, patience: int = 3, feedback: str = "all", threshold: float | None = None,
                 random_state: int = 0):
        self.factors = factors
        self.task = task
        self.use_features = use_features
        self.weighting = weighting
        self.l2 = l2
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.patience = patience
        self.feedback = feedback
        self.threshold = threshold
        self.random_state = random_state

    # ------------------------------------------------------------- capabilities
    def _resolved_task(self, dataset=None) -> str:
        if self.task not in TASKS:
            raise ValueError(f"fm: task must be one of {', '.join(TASKS)}, not {self.task!r}.")
        if self.task != "auto":
            return self.task
        dataset = dataset if dataset is not None else getattr(self, "dataset_", None)
        return "ranking" if dataset is not None and dataset.implicit else "ratings"

    def _instance_capabilities(self):
        space = getattr(self, "space_", None)
        return {"predicts_ratings": self._resolved_task() == "ratings",
                "new_user_features": bool(self.use_features) and (space is None or space.n_user_features > 0)}

    def predicts_ratings_on(self, dataset) -> bool:
        return self._resolved_task(dataset) == "ratings"

    @property
    def rates(self) -> bool:
        return self._resolved_task() == "ratings"

    def _validation_name(self):
        return "RMSE" if self.rates else super()._validation_name()

    def _validation_higher_is_better(self):
        return not self.rates

    # ------------------------------------------------------------- fitting
    def _fit(self, dataset):
        # An instance attribute: what this fitted model does (the class says what it can do).
        self.predicts_ratings = self._resolved_task(dataset) == "ratings"
        # On ratings, a fold-in from liked seeds alone mostly raises the new user's bias (as for explicit MF):
        # a text query also gets the least fitting items as disliked (on the sample: 2 -> 9 of 10 in genre).
        self.fold_in_needs_contrast = self.predicts_ratings
        self.space_ = FeatureSpace.build(dataset, items=bool(self.use_features), users=bool(self.use_features))
        self.feature_note_ = (None if self.space_.n_item_features or self.space_.n_user_features else
                              f"fm found no user or item features in '{dataset.name}' and runs on user and item ids "
                              "only (a plain factorisation); load item genres/tags or user demographics to use them.")
        if self.feature_note_:
            self.notes_.append(self.feature_note_)
        super()._fit(dataset)

    def _fit_matrix(self, feedback):
        from .training import require_torch, without_validation

        torch = require_torch(self.name)
        dataset = self.dataset_
        values = dataset.matrix if self.predicts_ratings else feedback
        train = without_validation(feedback, self.validation_data)
        # Ratings (or counts) of the kept pairs: the values matrix restricted to the training pattern.
        self.values_ = sp.csr_matrix(dataset.matrix.multiply(train > 0), dtype=np.float64) if not self.predicts_ratings \
            else sp.csr_matrix(values.multiply(train > 0), dtype=np.float64)
        self.values_.eliminate_zeros()
        self.train_matrix_ = train
        self.global_mean_ = float(self.values_.data.mean()) if self.predicts_ratings and self.values_.nnz else 0.0
        self._train(torch, train)

    def _side_matrices(self):
        """[identity | metadata] per user and per item; metadata rows scaled to sum to 1 (identity weighs 1)."""
        def scaled(matrix):
            sums = np.asarray(matrix.sum(axis=1)).ravel()
            sums[sums == 0] = 1.0
            return sp.diags(1.0 / sums) @ matrix

        users = sp.hstack([sp.identity(self.dataset_.n_users, format="csr"), scaled(self.space_.user_matrix)],
                          format="csr", dtype=np.float32)
        items = sp.hstack([sp.identity(self.dataset_.n_items, format="csr"), scaled(self.space_.item_matrix)],
                          format="csr", dtype=np.float32)
        return users, items

    def _network(self, torch, train):
        nn = torch.nn
        users, items = self._side_matrices()
        device = self.context_.device
        factors = int(self.factors)
        global_mean = self.global_mean_

        class FMNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.user_x, self.item_x = torch_csr(torch, users, device), torch_csr(torch, items, device)
                self.user_x2 = torch_csr(torch, users.multiply(users).tocsr(), device)
                self.item_x2 = torch_csr(torch, items.multiply(items).tocsr(), device)
                self.user_v = nn.Parameter(torch.randn(users.shape[1], factors) * 0.05)
                self.item_v = nn.Parameter(torch.randn(items.shape[1], factors) * 0.05)
                self.user_w = nn.Parameter(torch.zeros(users.shape[1], 1))
                self.item_w = nn.Parameter(torch.zeros(items.shape[1], 1))
                self.bias = nn.Parameter(torch.tensor(float(global_mean)))

            def sides(self):
                """Per user and per item: summed vector, summed squares, linear term."""
                mm = torch.sparse.mm
                return (mm(self.user_x, self.user_v), mm(self.user_x2, self.user_v * self.user_v),
                        mm(self.user_x, self.user_w).squeeze(1),
                        mm(self.item_x, self.item_v), mm(self.item_x2, self.item_v * self.item_v),
                        mm(self.item_x, self.item_w).squeeze(1))

            def score(self, sides, users, items):
                u, uq, ul, i, iq, il = sides
                summed = u[users] + i[items]
                pairwise = 0.5 * (summed * summed - uq[users] - iq[items]).sum(dim=1)
                return self.bias + ul[users] + il[items] + pairwise, (u[users].pow(2).sum(1) + i[items].pow(2).sum(1))

        return FMNet()

    def _batches(self, train, rng):
        if self.predicts_ratings:
            coo = self.values_.tocoo()
            users, items, ratings = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(np.float32)
            for index in shuffled_batches(len(users), self.batch_size, rng):
                yield users[index], items[index], ratings[index]
            return
        # The training matrix holds each interaction's weight (the shared weighting; 1 with "binary").
        coo = train.tocoo()
        users, items = coo.row.astype(np.int64), coo.col.astype(np.int64)
        weights = (coo.data / max(float(coo.data.mean()), 1e-12)).astype(np.float32)
        keys = pair_keys(train)
        for index in shuffled_batches(len(users), self.batch_size, rng):
            negatives = sample_negatives(users[index], train, 1, rng, keys=keys)[:, 0]
            yield users[index], items[index], negatives, weights[index]

    def _batch_loss(self, torch, network, batch):
        sides = network.sides()
        if self.predicts_ratings:
            users, items, ratings = as_tensors(torch, self.context_.device, *batch)
            estimate, lengths = network.score(sides, users, items)
            return ((estimate - ratings) ** 2).mean() + float(self.l2) * lengths.mean()
        users, positives, negatives, weights = as_tensors(torch, self.context_.device, *batch)
        positive, length_i = network.score(sides, users, positives)
        negative, length_j = network.score(sides, users, negatives)
        loss = -(weights * torch.nn.functional.logsigmoid(positive - negative)).mean()
        return loss + float(self.l2) * (length_i + length_j).mean() / 2

    @property
    def loss_name(self):  # noqa: D401 -- shown in progress messages
        return "squared-error" if getattr(self, "predicts_ratings", True) and self.rates else "BPR"

    def _export(self, torch, network):
        def numpy(tensor):
            return tensor.detach().cpu().numpy().astype(np.float64)

        users, items = self._side_matrices()
        user_v, user_w = numpy(network.user_v), numpy(network.user_w).ravel()
        self.user_factors_, self.user_bias_ = side_terms(users, user_v, user_w)
        self.item_factors_, self.item_bias_ = side_terms(items, numpy(network.item_v), numpy(network.item_w).ravel())
        self.global_bias_ = float(network.bias.detach())
        # Kept for new users from demographics (the user side without its identity column).
        n_users = self.dataset_.n_users
        self.user_feature_v_, self.user_feature_w_ = user_v[n_users:], user_w[n_users:]

    # ------------------------------------------------------------- scoring
    def _score_users(self, user_idx):
        user_idx = np.asarray(user_idx)
        scores = (self.user_factors_[user_idx] @ self.item_factors_.T + self.item_bias_[None, :]
                  + self.user_bias_[user_idx, None] + self.global_bias_)
        if self.predicts_ratings:
            return scores  # every user has at least the identity (and features): no popularity fall-back
        rows = self.feedback_[user_idx]
        return self._popular_where_empty(rows, scores)

    def _score_rows(self, rows, user_idx):
        if user_idx is not None:
            user_idx = np.asarray(user_idx)
            return (self.user_factors_[user_idx] @ self.item_factors_.T + self.item_bias_[None, :]
                    + self.user_bias_[user_idx, None] + self.global_bias_)
        return super()._score_rows(rows, None)

    def _validate(self, targets):
        if not self.predicts_ratings:
            return super()._validate(targets)
        validation = self.validation_data
        if validation is None or validation.n_ratings == 0:
            return None
        frame = validation.interactions
        users, items = frame["user_idx"].to_numpy(), frame["item_idx"].to_numpy()
        estimate = ((self.user_factors_[users] * self.item_factors_[items]).sum(1) + self.item_bias_[items]
                    + self.user_bias_[users] + self.global_bias_)
        low, high = self.dataset_.rating_scale
        return float(np.sqrt(np.mean((np.clip(estimate, low, high) - frame["rating"].to_numpy()) ** 2)))

    def fold_in(self, item_idx, ratings):
        if not self.predicts_ratings:
            return super().fold_in(item_idx, ratings)
        # Ratings: a least-squares vector and bias against the fixed item side (ridge, closed form).
        self.check_fitted()
        item_idx = np.asarray(item_idx, dtype=np.int64)
        ratings = np.asarray(ratings, dtype=np.float64)
        target = ratings - self.global_bias_ - self.item_bias_[item_idx]
        design = np.hstack([self.item_factors_[item_idx], np.ones((len(item_idx), 1))])
        reg = np.eye(design.shape[1]) * max(float(self.l2), 1e-3) * len(item_idx)
        reg[-1, -1] = 1e-3
        solution = np.linalg.solve(design.T @ design + reg, design.T @ target)
        return self.item_factors_ @ solution[:-1] + solution[-1] + self.item_bias_ + self.global_bias_

    def fallback_users(self, user_idx):
        if self.predicts_ratings:
            return np.zeros(len(np.asarray(user_idx)), dtype=bool)
        return super().fallback_users(user_idx)

    def demographic_scores(self, demographics) -> np.ndarray:
        """Scores of every item for a new user known only by demographics (their features' vectors summed)."""
        self.check_fitted()
        row = self.space_.user_row(demographics)
        if self.space_.n_user_features == 0:
            raise ColdStartError("fm was fitted without user features (none in the data, or use_features=False): "
                                 "it cannot place a user by demographics.")
        if row.nnz == 0:
            raise ColdStartError("None of these attributes is among the demographic values fm learnt from.")
        vector, bias = side_terms(row / row.nnz, self.user_feature_v_, self.user_feature_w_)
        return self.item_factors_ @ vector[0] + self.item_bias_ + bias[0] + self.global_bias_
