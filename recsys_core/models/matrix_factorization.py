"""Biased matrix factorisation (Funk SVD as in Koren, Bell & Volinsky 2009) and NMF.

SVD predicts :math:`\\hat r_{ui} = \\mu + b_u + b_i + q_i^\\top p_u`, fitted by
SGD on the regularised squared error with Surprise's ``SVD`` defaults (100
factors, 20 epochs, lr 0.005, reg 0.02, init N(0, 0.1)). The fit is
:mod:`._sgd`, a numba copy of Surprise's SGD on arrays that gives Surprise's
parameters bit for bit without building its Trainset (Python dicts, ~250 B a
rating); SVD++ and NMF still fit with Surprise. The factors are scored in bulk. As in Surprise, a user
or item without training ratings contributes neither bias nor factors (the
prediction falls back to the known side's bias, or the global mean).
"""
from __future__ import annotations

import numpy as np

from ..dataset import Dataset
from ._surprise import build_trainset, inner_to_index, scatter
from . import _sgd, memory
from .params import Param
from .base import Recommender

#: Factor cells gathered per side at a time when predicting pairs (32 MB of float64).
_PAIR_CHUNK_CELLS = 4_000_000


class SVD(Recommender):
    name = "svd"
    family = "Matrix factorisation"
    has_item_embeddings = True
    has_user_embeddings = True
    folds_in = True
    fold_in_needs_contrast = True
    explains_by = "factors"
    reports_progress = True
    finite_state = ("user_bias_", "item_bias_", "user_factors_", "item_factors_")

    def item_biases(self):
        """The learnt b_i (None without biases: then the prediction is the personal part already)."""
        self.check_fitted()
        return self.item_bias_ if self.biased else None
    formula = (
        r"\hat r_{ui} = \mu + b_u + b_i + q_i^\top p_u,\qquad "
        r"\min \sum_{r_{ui}} (r_{ui} - \hat r_{ui})^2 + \lambda\,(b_u^2 + b_i^2 + \|q_i\|^2 + \|p_u\|^2)"
    )
    explanation = (
        "Every user and item becomes a short vector of latent factors learnt by stochastic gradient descent; "
        "the predicted rating is the global mean plus user and item biases plus the dot product of the two vectors. "
        "Users with similar taste end up close together, as do items liked by the same people."
    )
    params = (
        Param("n_factors", "Length of the latent vectors: more factors fit finer taste, and overfit sooner.",
              kind="int", low=1, high=500, step=10, search=(10, 200), log=True),
        Param("n_epochs", "Passes of SGD over the training ratings.", kind="int", low=1, high=200, step=5,
              search=(10, 60)),
        Param("lr_all", "SGD learning rate for all parameters.", low=0.0001, high=0.5, step=0.001, fmt="%.4f",
              search=(0.001, 0.02), log=True),
        Param("reg_all", "L2 regularisation for all parameters: larger keeps vectors small (less overfitting).",
              low=0.0, high=5.0, step=0.01, fmt="%.3f", search=(0.005, 0.2), log=True),
        Param("biased", "Include the user and item biases (False gives plain probabilistic MF).", kind="bool"),
    )

    def __init__(
        self,
        n_factors: int = 100,
        n_epochs: int = 20,
        lr_all: float = 0.005,
        reg_all: float = 0.02,
        biased: bool = True,
        init_std_dev: float = 0.1,
        random_state: int = 0,
    ):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.lr_all = lr_all
        self.reg_all = reg_all
        self.biased = biased
        self.init_std_dev = init_std_dev
        self.random_state = random_state

    def memory_estimate(self, n_users, n_items, n_ratings):
        """The ratings in visiting order (arrays, ~32 B a rating while ordering) and the factors."""
        if not _sgd.AVAILABLE:
            return self._surprise_memory_estimate(n_users, n_items, n_ratings)
        factors = int(getattr(self, "n_factors", 100))
        # pu and qi over inner ids, their copies over our indices, and a block of bulk scores.
        return _sgd.BYTES_PER_RATING * n_ratings + 8 * 2 * factors * (n_users + n_items) + 8 * 4_000_000

    def _surprise_memory_estimate(self, n_users, n_items, n_ratings):
        """Surprise's Trainset (Python dicts of tuples, ~250 B a rating) and the factors."""
        factors = int(getattr(self, "n_factors", 100))
        return memory.SURPRISE_BYTES_PER_RATING * n_ratings + 8 * 3 * factors * (n_users + n_items) + 8 * 4_000_000

    def _surprise_algo(self):
        from surprise import SVD as SurpriseSVD

        return SurpriseSVD(
            n_factors=self.n_factors,
            n_epochs=self.n_epochs,
            lr_all=self.lr_all,
            reg_all=self.reg_all,
            biased=self.biased,
            init_std_dev=self.init_std_dev,
            random_state=self.seed,
            verbose=False,
        )

    def _fit(self, dataset: Dataset) -> None:
        if not _sgd.AVAILABLE:  # pragma: no cover - numba ships with umap-learn
            self._fit_surprise(dataset)
            return
        frame = dataset.interactions

        def report(epochs_done: int) -> None:
            self._report(epochs_done / self.n_epochs, f"SGD epoch {epochs_done} of {self.n_epochs}",
                         epoch=int(epochs_done), n_epochs=int(self.n_epochs))

        # The rows in the order build_trainset hands them to Surprise, so the fit is Surprise's.
        fitted = _sgd.fit_svd(
            frame["user_idx"].to_numpy(), frame["item_idx"].to_numpy(), frame["rating"].to_numpy(dtype=np.float64),
            dataset.n_users, dataset.n_items, n_factors=self.n_factors, n_epochs=self.n_epochs,
            biased=self.biased, init_std_dev=self.init_std_dev, lr_all=self.lr_all, reg_all=self.reg_all,
            random_state=self.seed, progress=report,
        )
        self._store(dataset, fitted.users, fitted.items, fitted.global_mean, fitted.bu, fitted.bi, fitted.pu,
                    fitted.qi)

    def _fit_surprise(self, dataset: Dataset):
        """Fit with Surprise and read its parameters into arrays over our indices; returns Surprise's model."""
        trainset = build_trainset(dataset)
        algo = self._surprise_algo().fit(trainset)
        users, items = inner_to_index(trainset)
        self._store(dataset, users, items, trainset.global_mean, algo.bu, algo.bi, algo.pu, algo.qi)
        return algo

    def _store(self, dataset: Dataset, users, items, global_mean, bu, bi, pu, qi) -> None:
        """Parameters over Surprise's inner ids (``users``/``items``: our index of each) into our indices."""
        self.global_mean_ = global_mean if self.biased else 0.0
        self.user_bias_ = scatter(bu, users, dataset.n_users) if self.biased else np.zeros(dataset.n_users)
        self.item_bias_ = scatter(bi, items, dataset.n_items) if self.biased else np.zeros(dataset.n_items)
        # Zero factors for ids without training ratings reproduce Surprise's "skip the dot product".
        self.user_factors_ = scatter(pu, users, dataset.n_users)
        self.item_factors_ = scatter(qi, items, dataset.n_items)
        self.known_users_ = np.zeros(dataset.n_users, bool)
        self.known_users_[users] = True
        self.known_items_ = np.zeros(dataset.n_items, bool)
        self.known_items_[items] = True

    def _score_users(self, user_idx):
        scores = (
            self.global_mean_
            + self.user_bias_[user_idx, None]
            + self.item_bias_[None, :]
            + self.user_factors_[user_idx] @ self.item_factors_.T
        )
        if not self.biased:
            # Surprise's unbiased SVD cannot predict an unknown pair.
            unknown = ~self.known_users_[user_idx, None] | ~self.known_items_[None, :]
            scores[unknown] = np.nan
        return scores

    def _predict_pairs(self, user_idx, item_idx):
        # Dot products in chunks: both sides' factors for every pair at once would take
        # 16 x n_factors bytes a pair (8 GB for a 5M-rating test set at 100 factors).
        dot = np.empty(len(user_idx))
        step = max(1, _PAIR_CHUNK_CELLS // max(1, self.user_factors_.shape[1]))
        for start in range(0, len(user_idx), step):
            chunk = slice(start, start + step)
            dot[chunk] = np.einsum("ij,ij->i", self.user_factors_[user_idx[chunk]], self.item_factors_[item_idx[chunk]])
        estimate = self.global_mean_ + self.user_bias_[user_idx] + self.item_bias_[item_idx] + dot
        if not self.biased:
            estimate[~self.known_users_[user_idx] | ~self.known_items_[item_idx]] = np.nan
        return estimate

    def item_embeddings(self):
        return self.item_factors_

    def user_embeddings(self):
        return self.user_factors_

    def fold_in(self, item_idx, ratings):
        """Solve the new user's bias and factors against the fixed item parameters.

        Minimises the same objective as training for this user alone,
        :math:`\\sum_j (r_j - \\mu - b_u - b_j - q_j^\\top p_u)^2 + n\\lambda (b_u^2 + \\|p_u\\|^2)`
        (SGD's per-rating regularisation summed over the user's n ratings): a ridge regression.
        """
        item_idx = np.asarray(item_idx, dtype=np.int64)
        implicit = self._implicit_part(item_idx)
        target = np.asarray(ratings, float) - self.global_mean_ - self.item_bias_[item_idx]
        target = target - self.item_factors_[item_idx] @ implicit
        features = self.item_factors_[item_idx]
        if self.biased:
            features = np.hstack([np.ones((len(item_idx), 1)), features])
        penalty = len(item_idx) * self.reg_all * np.eye(features.shape[1])
        solution = np.linalg.solve(features.T @ features + penalty, features.T @ target)
        user_bias, factors = (solution[0], solution[1:]) if self.biased else (0.0, solution)
        return self.global_mean_ + user_bias + self.item_bias_ + self.item_factors_ @ (factors + implicit)

    def _implicit_part(self, item_idx: np.ndarray) -> np.ndarray:
        """What the rated items add to a new user's vector (nothing in plain SVD)."""
        return np.zeros(self.item_factors_.shape[1])


class SVDpp(SVD):
    """SVD++ (Koren 2008): SVD plus implicit feedback from which items a user rated."""

    name = "svdpp"
    formula = (
        r"\hat r_{ui} = \mu + b_u + b_i + q_i^\top\Big(p_u + |I_u|^{-1/2}\sum_{j\in I_u} y_j\Big)"
    )
    explanation = (
        "SVD where a user's vector is corrected by the items they chose to rate, whatever the rating: "
        "the fact of rating carries information. Slower to fit (Surprise defaults: 20 factors, lr 0.007, reg 0.02)."
    )
    params = tuple(param for param in SVD.params if param.name != "biased")  # always biased
    reports_progress = False

    def __init__(self, n_factors: int = 20, n_epochs: int = 20, lr_all: float = 0.007, reg_all: float = 0.02,
                 init_std_dev: float = 0.1, random_state: int = 0):
        super().__init__(n_factors=n_factors, n_epochs=n_epochs, lr_all=lr_all, reg_all=reg_all,
                         biased=True, init_std_dev=init_std_dev, random_state=random_state)

    def get_params(self):
        params = super().get_params()
        params.pop("biased", None)
        return params

    def memory_estimate(self, n_users, n_items, n_ratings):
        return self._surprise_memory_estimate(n_users, n_items, n_ratings)

    def _surprise_algo(self):
        from surprise import SVDpp as SurpriseSVDpp

        return SurpriseSVDpp(n_factors=self.n_factors, n_epochs=self.n_epochs, lr_all=self.lr_all,
                             reg_all=self.reg_all, init_std_dev=self.init_std_dev,
                             random_state=self.seed, verbose=False)

    def _fit(self, dataset: Dataset) -> None:
        algo = self._fit_surprise(dataset)
        _, items = inner_to_index(algo.trainset)
        self.implicit_factors_ = scatter(algo.yj, items, dataset.n_items)
        # Effective user vector p_u + |I_u|^-1/2 sum_j y_j, as Surprise's estimate() forms it.
        matrix = dataset.matrix.copy()
        matrix.data[:] = 1.0
        counts = np.maximum(dataset.user_counts, 1)
        implicit = (matrix @ self.implicit_factors_) / np.sqrt(counts)[:, None]
        self.user_factors_ = self.user_factors_ + np.where(self.known_users_[:, None], implicit, 0.0)

    def _implicit_part(self, item_idx):
        return self.implicit_factors_[item_idx].sum(0) / np.sqrt(len(item_idx))


class NMF(SVD):
    """Non-negative matrix factorisation (Luo et al. 2014), Surprise's NMF defaults."""

    name = "nmf"
    reports_progress = False
    formula = r"\hat r_{ui} = q_i^\top p_u,\quad p_u, q_i \ge 0"
    explanation = (
        "Factors constrained to be non-negative, fitted by multiplicative updates, so each factor reads "
        "as an additive 'part' of taste. Unknown users or items cannot be scored."
    )
    params = (
        Param("n_factors", "Number of non-negative factors.", kind="int", low=1, high=500, step=5, search=(5, 50)),
        Param("n_epochs", "Multiplicative-update passes.", kind="int", low=1, high=200, step=5, search=(20, 100)),
        Param("reg_pu", "Regularisation of user factors.", low=0.0, high=5.0, step=0.01, fmt="%.3f",
              search=(0.01, 0.5), log=True),
        Param("reg_qi", "Regularisation of item factors.", low=0.0, high=5.0, step=0.01, fmt="%.3f",
              search=(0.01, 0.5), log=True),
    )

    def __init__(self, n_factors: int = 15, n_epochs: int = 50, reg_pu: float = 0.06, reg_qi: float = 0.06,
                 random_state: int = 0):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.reg_pu = reg_pu
        self.reg_qi = reg_qi
        self.random_state = random_state
        self.biased = False
        self.reg_all = (reg_pu + reg_qi) / 2

    def get_params(self):
        return {k: getattr(self, k) for k in ("n_factors", "n_epochs", "reg_pu", "reg_qi", "random_state")}

    def memory_estimate(self, n_users, n_items, n_ratings):
        return self._surprise_memory_estimate(n_users, n_items, n_ratings)

    def _fit(self, dataset: Dataset) -> None:
        self._fit_surprise(dataset)

    def _surprise_algo(self):
        from surprise import NMF as SurpriseNMF

        return SurpriseNMF(n_factors=self.n_factors, n_epochs=self.n_epochs, reg_pu=self.reg_pu,
                           reg_qi=self.reg_qi, random_state=self.seed, verbose=False)

    def fold_in(self, item_idx, ratings):
        # Non-negative least squares for the new user's factors (fixed item factors).
        from scipy.optimize import nnls

        item_idx = np.asarray(item_idx, dtype=np.int64)
        features = self.item_factors_[item_idx]
        ridge = np.sqrt(len(item_idx) * self.reg_pu) * np.eye(features.shape[1])
        factors, _ = nnls(np.vstack([features, ridge]), np.concatenate([np.asarray(ratings, float), np.zeros(features.shape[1])]))
        return self.item_factors_ @ factors
