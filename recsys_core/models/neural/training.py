"""The one training loop of the torch models, their negative sampler, validation metric and fold-in.

A model subclasses :class:`TorchRanker` and writes three small parts:

* ``_network(torch, train)`` -- the ``nn.Module`` (built after seeding, so its initial weights are seeded);
* ``_batches(train, rng)`` -- the epoch's batches as tuples of numpy arrays (positives, sampled negatives);
* ``_batch_loss(torch, network, batch)`` -- the mean loss of one batch (a scalar tensor);
* ``_export(torch, network)`` -- copy the learnt tables into numpy attributes.

The loop (:meth:`TorchRanker._train`) does the rest, identically for every model:

1. ``torch.manual_seed`` and a seeded numpy generator per fit (the fit's seed: the context's or
   ``random_state``), torch's threads set from the fit context under the process-wide BLAS lock, so two fits
   with the same seed give the same numbers on the same machine;
2. per epoch: the batches, Adam steps, the epoch's mean loss; a NaN or infinite loss stops the fit with
   :class:`~recsys_core.errors.ModelDivergedError` (never a model that ranks garbage);
3. after each epoch, NDCG@10 on the validation part handed to ``fit`` (one held-out interaction per user,
   carved from training by the runner), the parameters of the best epoch kept, training stopped after
   ``patience`` epochs without improvement; without a validation part every epoch runs and the last is kept;
4. a :class:`~recsys_core.models.base.FitEvent` per epoch (epoch, loss, validation score) to the progress
   callback, and ``history_`` / ``best_epoch_`` kept on the fitted model (the Train page draws the curve).

The validation interactions are left out of what the network learns from, but stay "seen" for ranking: the
model's data set is the whole training part, as for every other model.
"""
from __future__ import annotations

import copy
import time
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from ...errors import ModelDivergedError, RecsysError
from ..base import FactorVectors
from ..params import Param
from ..ranking import RankingModel

TORCH_INSTALL = "pip install torch==2.13.0 (the CPU build; a plain `pip install torch` pulls a multi-GB CUDA build)"

#: Cut-off of the validation metric (NDCG@10, as the comparison's default).
VALIDATION_K = 10
#: Validation users scored after each epoch (a seeded subset beyond this), so validation stays a small part
#: of an epoch on large data (NCF's network scores the whole catalogue for each of them).
MAX_VALIDATION_USERS = 1000


def require_torch(model_name: str):
    """Import torch for a fit, or say plainly that it is missing and how to install it."""
    try:
        import torch
    except ImportError:
        raise RecsysError(f"The {model_name} model is trained with torch, which is not installed here: "
                          f"{TORCH_INSTALL}. Every other model works without it.") from None
    return torch


# ------------------------------------------------------------------ sampling
def positive_pairs(train: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """(user, item) index arrays of the training interactions, row-major."""
    coo = train.tocoo()
    return coo.row.astype(np.int64), coo.col.astype(np.int64)


def sample_negatives(users: np.ndarray, train: sp.csr_matrix, n_per: int, rng: np.random.Generator,
                     rounds: int = 3, keys: np.ndarray | None = None) -> np.ndarray:
    """Uniform random items per user that the user has not interacted with, ``(len(users), n_per)``.

    Candidates that hit one of the user's training items are redrawn (``rounds`` times; on a catalogue
    where a user took most items a few collisions may remain, which only makes the loss slightly noisier).
    Membership is checked on the sorted keys ``user * n_items + item`` (:func:`pair_keys`; pass them when
    sampling many batches from one matrix): no Python loop per sample.
    """
    n_items = train.shape[1]
    users = np.asarray(users, dtype=np.int64)
    negatives = rng.integers(0, n_items, size=(len(users), int(n_per)), dtype=np.int64)
    if not len(users) or n_per <= 0:
        return negatives
    keys = pair_keys(train) if keys is None else keys
    for _ in range(rounds):
        flat = (users[:, None] * n_items + negatives).ravel()
        position = np.searchsorted(keys, flat).clip(max=len(keys) - 1) if len(keys) else np.zeros_like(flat)
        hit = (keys[position] == flat).reshape(negatives.shape) if len(keys) else np.zeros(negatives.shape, bool)
        if not hit.any():
            break
        negatives[hit] = rng.integers(0, n_items, size=int(hit.sum()), dtype=np.int64)
    return negatives


def pair_keys(train: sp.csr_matrix) -> np.ndarray:
    """Sorted ``user * n_items + item`` of the matrix's stored pairs (for membership tests)."""
    users, items = positive_pairs(train)
    return np.sort(users * train.shape[1] + items)


def shuffled_batches(n: int, batch_size: int, rng: np.random.Generator):
    """Index arrays of a seeded random permutation of ``range(n)``, ``batch_size`` at a time."""
    order = rng.permutation(n)
    for start in range(0, n, int(batch_size)):
        yield order[start:start + int(batch_size)]


def without_validation(feedback: sp.csr_matrix, validation) -> sp.csr_matrix:
    """The feedback matrix minus the validation pairs (what the network learns from)."""
    if validation is None or validation.n_ratings == 0:
        return feedback
    frame = validation.interactions
    held = sp.csr_matrix((np.ones(len(frame), dtype=np.float32),
                          (frame["user_idx"].to_numpy(), frame["item_idx"].to_numpy())), shape=feedback.shape)
    kept = feedback - feedback.multiply(held > 0)
    kept.eliminate_zeros()
    return kept.tocsr()


def validation_ndcg(scores: np.ndarray, exclude: sp.csr_matrix, targets: np.ndarray, k: int = VALIDATION_K) -> float:
    """Mean NDCG@k of one held-out item per row: ``1 / log2(rank + 2)`` when it ranks in the top k, else 0.

    ``scores`` are the rows' scores of every item, ``exclude`` the items each row trained on (never ranked),
    ``targets`` the held-out item of each row. Ties are counted against the target (pessimistic), so a model
    that scores everything equally gets 0, not a lucky rank.
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    rows = np.arange(len(targets))
    target_scores = scores[rows, targets]
    scores[np.repeat(rows, np.diff(exclude.indptr)), exclude.indices] = -np.inf
    scores[rows, targets] = -np.inf
    rank = (scores >= target_scores[:, None]).sum(axis=1)
    gains = np.where((rank < k) & np.isfinite(target_scores), 1.0 / np.log2(rank + 2.0), 0.0)
    return float(gains.mean()) if len(gains) else float("nan")


# ------------------------------------------------------------------ fold-in
def logistic_fold_in(item_vectors: np.ndarray, item_bias: np.ndarray | None, positives: np.ndarray,
                     reg: float = 1.0, negative_weight: float | None = None, max_iter: int = 60) -> np.ndarray:
    """A new user's vector against fixed item vectors: L2-regularised logistic regression, deterministic.

    The taken items are the positives (label 1), every other item a negative (label 0) weighted so that the
    negatives together weigh as much as the positives (``negative_weight``), the expectation of what uniform
    negative sampling shows a user in training. Solved by L-BFGS with the exact gradient: no sampling, the
    same vector every time, a few milliseconds for thousands of items.
    """
    from scipy.optimize import minimize

    n_items, dims = item_vectors.shape
    labels = np.zeros(n_items)
    labels[positives] = 1.0
    weight = np.full(n_items, 1.0)
    n_negative = max(n_items - len(positives), 1)
    weight[labels == 0] = negative_weight if negative_weight is not None else len(positives) / n_negative
    bias = np.zeros(n_items) if item_bias is None else np.asarray(item_bias, dtype=np.float64)

    def objective(vector):
        logits = item_vectors @ vector + bias
        probability = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
        loss = -(weight * (labels * np.log(probability + 1e-12) + (1 - labels) * np.log(1 - probability + 1e-12))).sum()
        gradient = item_vectors.T @ (weight * (probability - labels))
        return loss + 0.5 * reg * vector @ vector, gradient + reg * vector

    result = minimize(objective, np.zeros(dims), jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    return np.asarray(result.x, dtype=np.float64)


# ------------------------------------------------------------------ the base class
def training_params() -> tuple[Param, ...]:
    """The loop's parameters, declared once (each model's constructor holds its own defaults)."""
    return (
        Param("epochs", "Passes over the training interactions (at most: early stopping may end sooner).",
              kind="int", low=1, high=500, step=1, search=(5, 60)),
        Param("learning_rate", "Adam's step size.", low=1e-5, high=1.0, step=0.001, fmt="%.4f",
              search=(1e-4, 3e-2), log=True),
        Param("batch_size", "Training examples per Adam step.", kind="int", low=16, high=65536, step=256,
              search=(256, 8192), log=True),
        Param("weight_decay", "L2 penalty on the parameters (Adam's weight decay).", low=0.0, high=1.0,
              step=1e-5, fmt="%.6f", search=(1e-7, 1e-2), log=True),
        Param("patience", "Epochs without a better validation NDCG@10 before training stops (0: never stop "
              "early). The validation part is carved from training, never the test part.", kind="int", low=0,
              high=100, step=1),
    )


class TorchRanker(FactorVectors, RankingModel):
    """Shared part of the torch models: the loop, seeding, early stopping, history, numpy tables after fit.

    Scores are ``user_factors_ @ item_factors_.T + item_bias_`` unless a model overrides ``_score_rows``;
    a new user folds in by :func:`logistic_fold_in` against the fixed item vectors.
    """

    family = "Embedding models (torch)"
    trains_per_epoch = True
    reports_progress = True
    explains_by = "factors"
    finite_state = ("user_factors_", "item_factors_")
    fit_note = "Trained with torch on the CPU, epoch by epoch; the loss curve shows on the Train page."

    #: How the loss is named in progress messages ("BCE", "BPR", "softmax").
    loss_name: ClassVar[str] = "loss"
    #: The validation metric early stopping reads, and whether larger is better.
    validation_metric: ClassVar[str] = f"NDCG@{VALIDATION_K}"
    validation_higher_is_better: ClassVar[bool] = True

    def _loop_settings(self) -> dict[str, Any]:
        return {"epochs": int(self.epochs), "learning_rate": float(self.learning_rate),
                "weight_decay": float(self.weight_decay), "patience": int(self.patience)}

    def memory_estimate(self, n_users, n_items, n_ratings):
        """Embedding tables with Adam's two moments, a best-epoch copy, numpy copies and score blocks."""
        dims = int(getattr(self, "factors", 64)) + 1
        return 8 * 6 * dims * (n_users + n_items) + 64 * int(n_ratings) + 8 * 3 * 4_000_000

    # ------------------------------------------------------------- fitting
    def _fit_matrix(self, feedback: sp.csr_matrix) -> None:
        torch = require_torch(self.name)
        train = without_validation(feedback, self.validation_data)
        self.train_matrix_ = train
        self._train(torch, train)

    def _train(self, torch, train: sp.csr_matrix) -> None:
        settings = self._loop_settings()
        seed = self.seed
        rng = np.random.default_rng([seed, 2718])
        targets = self._validation_targets(train)
        self.history_: list[dict[str, Any]] = []
        self.best_epoch_ = None
        self.validation_metric_ = self._validation_name()
        with self.context_.torch_threads():
            torch.manual_seed(seed)
            network = self._network(torch, train).to(self.context_.device)
            optimisers = make_optimisers(torch, network, settings["learning_rate"], settings["weight_decay"])
            sign = 1.0 if self._validation_higher_is_better() else -1.0
            best_score, best_state, waited = -np.inf, None, 0
            n_epochs = settings["epochs"]
            for epoch in range(1, n_epochs + 1):
                start = time.perf_counter()
                network.train()
                total, count = 0.0, 0
                for batch in self._batches(train, rng):
                    for optimiser in optimisers:
                        optimiser.zero_grad()
                    loss = self._batch_loss(torch, network, batch)
                    value = float(loss.detach())
                    if not np.isfinite(value):
                        raise ModelDivergedError(
                            f"{self.name} diverged in epoch {epoch}: the {self.loss_name} loss became {value} "
                            "(not a finite number). Lower the learning rate or raise the weight decay, then "
                            "train again.")
                    loss.backward()
                    for optimiser in optimisers:
                        optimiser.step()
                    size = len(batch[0])
                    total += value * size
                    count += size
                epoch_loss = total / max(count, 1)
                network.eval()
                with torch.no_grad():
                    self._export(torch, network)
                score = self._validate(targets)
                self.history_.append({"epoch": epoch, "loss": epoch_loss, "validation": score,
                                      "seconds": time.perf_counter() - start})
                improved = score is not None and sign * score > best_score + 1e-9
                if score is None or improved:
                    best_score = best_score if score is None else sign * score
                    self.best_epoch_ = epoch
                    best_state = copy.deepcopy(network.state_dict())
                    waited = 0
                else:
                    waited += 1
                message = f"epoch {epoch} of {n_epochs}, {self.loss_name} loss {epoch_loss:.4f}"
                if score is not None:
                    message += f", validation {self._validation_name()} {score:.4f}"
                self._report(epoch / n_epochs, message, epoch=epoch, n_epochs=n_epochs, loss=epoch_loss,
                             validation=score)
                if score is not None and settings["patience"] > 0 and waited >= settings["patience"]:
                    break
            if best_state is not None and self.best_epoch_ != len(self.history_):
                network.load_state_dict(best_state)
            network.eval()
            with torch.no_grad():
                self._export_final(torch, network)
        self.stopped_early_ = len(self.history_) < n_epochs

    def _validation_name(self) -> str:
        return self.validation_metric

    def _validation_higher_is_better(self) -> bool:
        return self.validation_higher_is_better

    def _validation_targets(self, train: sp.csr_matrix):
        validation = self.validation_data
        if validation is None or validation.n_ratings == 0:
            return None
        frame = validation.interactions
        users = frame["user_idx"].to_numpy()
        items = frame["item_idx"].to_numpy()
        keep = np.diff(train.indptr)[users] > 0  # a user left with no training row cannot be validated
        if not keep.any():
            return None
        _, first = np.unique(users[keep], return_index=True)  # one target per user
        users, items = users[keep][first], items[keep][first]
        if len(users) > MAX_VALIDATION_USERS:  # a fixed seeded subset: the same users every epoch
            chosen = np.sort(np.random.default_rng([self.seed, 31337]).choice(len(users), MAX_VALIDATION_USERS,
                                                                             replace=False))
            users, items = users[chosen], items[chosen]
        return users, items

    def _validate(self, targets) -> float | None:
        if targets is None:
            return None
        users, items = targets
        rows = self.train_matrix_[users]
        scores = np.asarray(self._score_rows(rows, users), dtype=np.float64)
        return validation_ndcg(scores, rows, items)

    # ------------------------------------------------------------- per model
    def _network(self, torch, train: sp.csr_matrix):
        raise NotImplementedError

    def _batches(self, train: sp.csr_matrix, rng: np.random.Generator):
        raise NotImplementedError

    def _batch_loss(self, torch, network, batch):
        raise NotImplementedError

    def _export(self, torch, network) -> None:
        raise NotImplementedError

    def _export_final(self, torch, network) -> None:
        """The export after the last epoch (the best one's parameters); next-item models re-read full histories."""
        self._export(torch, network)

    # ------------------------------------------------------------- scoring
    def _score_rows(self, rows, user_idx):
        if user_idx is not None:
            scores = self.user_factors_[np.asarray(user_idx)] @ self.item_factors_.T
        else:
            scores = np.vstack([self._fold_in_vector(rows[r]) @ self.item_factors_.T for r in range(rows.shape[0])])
        bias = getattr(self, "item_bias_", None)
        return scores + bias[None, :] if bias is not None else scores

    def _fold_in_vector(self, row: sp.csr_matrix) -> np.ndarray:
        """The vector of a new user who took ``row``'s items (fixed item vectors, no refit)."""
        return logistic_fold_in(self.item_factors_, getattr(self, "item_bias_", None), row.indices,
                                reg=self._fold_in_reg())

    #: Fold-in L2 relative to 1 / (typical trained user vector length)^2. Measured on the sample (five
    #: popular items of one planted genre given, share of that genre in the top 10): LightGCN 0.3-0.8 at 1,
    #: 0.9-1.0 at 0.1; MF-BCE 0.1-0.5 at 1, 0.2-0.7 at 0.1.
    FOLD_IN_REG: ClassVar[float] = 0.1

    def _fold_in_reg(self) -> float:
        """L2 of the fold-in, scaled by the typical length of a trained user vector (keeps the new one in scale)."""
        lengths = np.linalg.norm(self.user_factors_, axis=1)
        typical = float(np.median(lengths[lengths > 0])) if (lengths > 0).any() else 1.0
        return self.FOLD_IN_REG / max(typical, 1e-3) ** 2

    def _fold_in_row(self, row):
        return self._score_rows(row, None)[0]

    # ------------------------------------------------------------- batches shared by several models
    def _bce_batches(self, train: sp.csr_matrix, rng: np.random.Generator):
        """Positives and ``negatives`` sampled negatives per positive, as (users, items, labels)."""
        users, items = positive_pairs(train)
        keys = pair_keys(train)
        n_neg = int(self.negatives)
        for index in shuffled_batches(len(users), self.batch_size, rng):
            batch_users = users[index]
            negative = sample_negatives(batch_users, train, n_neg, rng, keys=keys)
            all_users = np.concatenate([batch_users, np.repeat(batch_users, n_neg)])
            all_items = np.concatenate([items[index], negative.ravel()])
            labels = np.concatenate([np.ones(len(index)), np.zeros(negative.size)]).astype(np.float32)
            yield all_users, all_items, labels

    def _bpr_batches(self, train: sp.csr_matrix, rng: np.random.Generator):
        """(user, taken item, sampled untaken item) triples."""
        users, items = positive_pairs(train)
        keys = pair_keys(train)
        for index in shuffled_batches(len(users), self.batch_size, rng):
            batch_users = users[index]
            yield batch_users, items[index], sample_negatives(batch_users, train, 1, rng, keys=keys)[:, 0]


def make_optimisers(torch, network, learning_rate: float, weight_decay: float) -> list:
    """Adam for the dense parameters, SparseAdam for sparse embedding tables.

    A sparse table (``nn.Embedding(sparse=True)``) gets gradients for the rows a batch used only, so a step
    costs what the batch touches, not the whole catalogue (measured: most of an MF epoch went into dense
    Adam updates of the full tables). SparseAdam has no weight decay: the models put an L2 penalty on the
    rows they use in the loss instead (the classic per-example regularisation of MF).
    """
    sparse, dense = [], []
    for module in network.modules():
        if isinstance(module, torch.nn.Embedding) and module.sparse:
            sparse += list(module.parameters(recurse=False))
    sparse_ids = {id(parameter) for parameter in sparse}
    dense = [parameter for parameter in network.parameters() if id(parameter) not in sparse_ids]
    out = []
    if dense:
        out.append(torch.optim.Adam(dense, lr=learning_rate, weight_decay=weight_decay))
    if sparse:
        out.append(torch.optim.SparseAdam(sparse, lr=learning_rate))
    return out


def bce_loss(torch, logits, labels):
    """Mean binary cross-entropy of logits against 0/1 labels: ``-[y log σ(z) + (1-y) log(1-σ(z))]``."""
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)


def bpr_loss(torch, positive, negative):
    """Mean BPR loss ``-log σ(s_ui - s_uj)`` (Rendle et al. 2009)."""
    return -torch.nn.functional.logsigmoid(positive - negative).mean()


def as_tensors(torch, device, *arrays):
    """numpy batch arrays as torch tensors (int64 indices, float32 values) on ``device``."""
    out = []
    for array in arrays:
        array = np.asarray(array)
        dtype = torch.long if np.issubdtype(array.dtype, np.integer) else torch.float32
        out.append(torch.as_tensor(array, dtype=dtype, device=device))
    return out


def factors_param() -> Param:
    return Param("factors", "Length of the user and item embeddings.", kind="int", low=2, high=512, step=8,
                 search=(16, 128), log=True)


def negatives_param() -> Param:
    return Param("negatives", "Sampled negative items per positive interaction (uniform over the items the user "
                 "has not taken).", kind="int", low=1, high=100, step=1, search=(1, 16), log=True)
