"""Next-item models: each user's history as an ordered sequence, the sequence batcher, the shared base class.

GRU4Rec and SASRec (:mod:`.gru4rec`, :mod:`.sasrec`) differ only in the network that turns a sequence of items
into one hidden state per position. Everything else lives here once:

* :func:`histories` -- each user's items ordered by time (ties by file order), as CSR-like ``(indptr, items)``;
* :func:`training_windows` -- the histories cut, from the most recent end, into windows of ``max_length + 1``
  items: input ``s[t]`` predicts target ``s[t + 1]`` at every position (left-padded with 0; item ``i`` is
  token ``i + 1``), so every transition of every history is trained on once;
* :func:`last_windows` -- each user's latest ``max_length`` items, the input at scoring time;
* :class:`SequenceRanker` -- on the loop of :class:`~.training.TorchRanker` (seeding, early stopping on the
  validation part -- each user's latest training interaction -- NaN guard, loss history): full softmax over
  the catalogue or sampled BCE (a visible choice), the learnt item table as ``item_factors_`` and each user's
  final hidden state as ``user_factors_`` (so maps, similar items and scoring reuse the shared code), and
  :meth:`SequenceRanker.fold_in_sequence` for a new user given as an ordered list.

Scores are ``h_u^T e_i`` with ``h_u`` the network's state after the user's last item and ``e_i`` the item's
embedding (tied input and output tables, as SASRec does).
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from ...dataset import TIMESTAMP, Dataset
from ...errors import DataValidationError
from ..feedback import positive_threshold
from ..params import Param
from .training import TorchRanker, as_tensors, bce_loss, factors_param, require_torch, shuffled_batches, without_validation

#: Token of an empty position (items are tokens 1..n_items).
PAD = 0

NO_TIMESTAMPS = ("'{data}' has no timestamp column, so {model} cannot tell in which order each person took "
                 "their items. If the file's rows are in the order things happened (a log written as it "
                 "went), say so -- 'rows are in time order' on the Data page, or --file-order-is-time in the "
                 "CLI -- and the file order is used; otherwise load a file with timestamps. The other models "
                 "do not need them.")


def histories(dataset: Dataset, keep: sp.csr_matrix | None = None,
              model: str = "a next-item model") -> tuple[np.ndarray, np.ndarray]:
    """Each user's items in the order they took them: ``items[indptr[u]:indptr[u + 1]]``, oldest first.

    Ordered by timestamp, ties by file order. ``keep`` (users x items, e.g. the feedback matrix minus the
    validation part) limits the histories to its stored pairs.

    Raises
    ------
    DataValidationError
        Without timestamps.
    """
    if not dataset.has_timestamps:
        raise DataValidationError(NO_TIMESTAMPS.format(data=dataset.name.split(" [")[0], model=model))
    frame = dataset.interactions
    users = frame["user_idx"].to_numpy().astype(np.int64)
    items = frame["item_idx"].to_numpy().astype(np.int64)
    order = np.lexsort((np.arange(len(users)), frame[TIMESTAMP].to_numpy(), users))
    users, items = users[order], items[order]
    if keep is not None:
        keep = keep.tocsr()
        stored = np.asarray(keep[users, items]).ravel() != 0 if len(users) else np.zeros(0, bool)
        users, items = users[stored], items[stored]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(users, minlength=dataset.n_users))]).astype(np.int64)
    return indptr, items


def training_windows(indptr: np.ndarray, items: np.ndarray, max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Input and target tokens ``(n_windows, max_length)`` covering every transition of every history once.

    A history ``s`` of ``m >= 2`` items gives ``ceil((m - 1) / L)`` windows, cut from its most recent end:
    the first has targets ``s[m-L:m]`` and inputs ``s[m-L-1:m-1]``, the next ends ``L`` earlier, and so on;
    positions before the history's start are padding (token 0) in both. Item ``i`` is token ``i + 1``.
    """
    length = int(max_length)
    counts = np.diff(indptr)
    n_windows = np.where(counts >= 2, -(-(counts - 1) // length), 0)
    user = np.repeat(np.arange(len(counts)), n_windows)
    if not len(user):
        empty = np.zeros((0, length), dtype=np.int64)
        return empty, empty.copy()
    within = np.arange(len(user)) - np.repeat(np.cumsum(n_windows) - n_windows, n_windows)
    end = indptr[user] + counts[user] - within * length  # one past the window's last target
    target_at = end[:, None] - length + np.arange(length)[None, :]
    valid = target_at - 1 >= indptr[user][:, None]
    safe = np.where(valid, target_at, indptr[user][:, None] + 1)
    inputs = np.where(valid, items[safe - 1] + 1, PAD)
    targets = np.where(valid, items[safe] + 1, PAD)
    return inputs.astype(np.int64), targets.astype(np.int64)


def last_windows(indptr: np.ndarray, items: np.ndarray, max_length: int) -> np.ndarray:
    """Each user's latest ``max_length`` items as tokens ``(n_users, max_length)``, left-padded, latest last."""
    length = int(max_length)
    counts = np.diff(indptr)
    at = indptr[1:, None] - length + np.arange(length)[None, :]
    valid = at >= indptr[:-1, None]
    out = np.where(valid, items[np.clip(at, 0, max(len(items) - 1, 0))] + 1 if len(items) else PAD, PAD)
    out[counts == 0] = PAD
    return out.astype(np.int64)


def typical_positions(indptr: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Each item's mean relative place in the histories that hold it (0 = first, 1 = last; 0.5 if none)."""
    counts = np.diff(indptr)
    user = np.repeat(np.arange(len(counts)), counts)
    rank = np.arange(len(items)) - indptr[user]
    relative = np.where(counts[user] > 1, rank / np.maximum(counts[user] - 1, 1), 0.5)
    total = np.bincount(items, weights=relative, minlength=n_items)
    seen = np.bincount(items, minlength=n_items)
    return np.where(seen > 0, total / np.maximum(seen, 1), 0.5)


def sequence_params() -> tuple[Param, ...]:
    """Parameters every next-item model has (its own constructor holds the defaults)."""
    return (
        Param("max_length", "Most recent items of a history the network reads (longer histories are cut to the "
              "latest; training covers every item in windows of this length).", kind="int", low=2, high=500,
              step=5, search=(10, 200), log=True),
        factors_param(),
        Param("dropout", "Share of the hidden units switched off at random in training (regularisation).",
              low=0.0, high=0.9, step=0.05, search=(0.0, 0.5)),
        Param("loss", "softmax: every item of the catalogue competes for each next position (exact, the best "
              "numbers, cost grows with the catalogue); bce: the true next item against a few sampled items "
              "(cheaper on large catalogues).", kind="choice", choices=("softmax", "bce"),
              labels={"softmax": "full softmax", "bce": "sampled BCE"}, search=("softmax", "bce")),
        Param("negatives", "With bce: sampled items per position (uniform over the catalogue).", kind="int",
              low=1, high=100, step=1, search=(1, 16), log=True),
    )


class SequenceRanker(TorchRanker):
    """Shared part of the next-item models: ordered histories in, the next item's scores out."""

    family = "Sequential (next item)"
    uses_order = True
    fit_note = ("Reads each person's history in time order and learns what comes next; tested only on splits by "
                "time (leave-last-out, temporal, global time).")
    finite_state = ("user_factors_", "item_factors_")

    #: The network rebuilt from ``network_state_`` for fold-ins (torch objects are not pickled).
    _net_cache: Any = None

    # ------------------------------------------------------------- data
    def _fit_matrix(self, feedback: sp.csr_matrix) -> None:
        torch = require_torch(self.name)
        dataset = self.dataset_
        train = without_validation(feedback, self.validation_data)
        self.train_matrix_ = train
        self._train_histories = histories(dataset, keep=train, model=self.name)
        self._full_histories = histories(dataset, keep=feedback, model=self.name)
        self._scoring = self._train_histories
        self._windows = training_windows(*self._train_histories, int(self.max_length))
        self.item_position_ = typical_positions(*self._full_histories, dataset.n_items)
        counts = np.diff(self._full_histories[0])
        single = int((counts == 1).sum())
        if single:
            self.notes_.append(f"{single:,} user{'s' if single != 1 else ''} with a single interaction gave no "
                               "transition to learn from (they are still scored from that one item).")
        longer = int((counts > int(self.max_length)).sum())
        if longer:
            self.notes_.append(f"{longer:,} user{'s' if longer != 1 else ''} had more than {int(self.max_length)} "
                               "items: scoring reads their latest ones (training covered every item in windows).")
        if not len(self._windows[0]):
            raise DataValidationError(
                f"No user of '{dataset.name.split(' [')[0]}' has two interactions in the training part, so "
                f"{self.name} has no 'what came next' to learn from. Every other model is unaffected.")
        try:
            self._train(torch, train)
        finally:
            del self._train_histories, self._full_histories, self._scoring, self._windows

    def _batches(self, train, rng):
        inputs, targets = self._windows
        for index in shuffled_batches(len(inputs), int(self.batch_size), rng):
            batch_targets = targets[index]
            if str(self.loss) == "bce":
                negatives = rng.integers(1, train.shape[1] + 1, size=batch_targets.shape + (int(self.negatives),))
                yield inputs[index], batch_targets, negatives
            else:
                yield inputs[index], batch_targets

    def _batch_loss(self, torch, network, batch):
        tensors = as_tensors(torch, self.context_.device, *batch)
        inputs, targets = tensors[0], tensors[1]
        hidden = network(inputs)  # (batch, length, factors)
        valid = targets != PAD
        states = hidden[valid]
        table = network.items.weight
        if str(self.loss) == "bce":
            negatives = tensors[2][valid]  # (positions, negatives)
            positive = (states * table[targets[valid]]).sum(dim=1)
            negative = torch.einsum("pd,pnd->pn", states, table[negatives])
            logits = torch.cat([positive[:, None], negative], dim=1)
            labels = torch.zeros_like(logits)
            labels[:, 0] = 1.0
            return bce_loss(torch, logits, labels)
        logits = states @ table[1:].T
        return torch.nn.functional.cross_entropy(logits, targets[valid] - 1)

    def _export(self, torch, network) -> None:
        self.item_factors_ = network.items.weight.detach()[1:].cpu().numpy().astype(np.float64)
        self.user_factors_ = self._encode(torch, network, last_windows(*self._scoring, int(self.max_length)))

    def _export_final(self, torch, network) -> None:
        # Scoring reads each user's whole training history, the validation interaction (their latest) included;
        # the kept epoch's network is stored once, for fold-ins of ordered lists.
        self._scoring = self._full_histories
        self._export(torch, network)
        self.network_state_ = {name: value.detach().cpu().numpy().copy()
                               for name, value in network.state_dict().items()}
        self._net_cache = None

    def _encode(self, torch, network, tokens: np.ndarray, block: int = 1024) -> np.ndarray:
        """The hidden state after the last position of each row of tokens, ``(rows, factors)``."""
        out = []
        network.eval()
        with torch.no_grad():
            for start in range(0, len(tokens), block):
                (part,) = as_tensors(torch, self.context_.device, tokens[start:start + block])
                out.append(network(part)[:, -1, :].cpu().numpy())
        if not out:
            return np.zeros((0, int(self.factors)))
        return np.vstack(out).astype(np.float64)

    # ------------------------------------------------------------- new users
    def fold_in_sequence(self, item_idx) -> np.ndarray:
        """Scores of every item for a new user who took ``item_idx`` in this order (oldest first).

        The network reads the latest ``max_length`` of them; no refit, a forward pass (milliseconds).
        """
        self.check_fitted()
        items = np.asarray(item_idx, dtype=np.int64)
        if not len(items):
            return self.popularity_ / max(self.popularity_.max(), 1.0)
        torch = require_torch(self.name)
        tokens = np.zeros((1, int(self.max_length)), dtype=np.int64)
        recent = items[-int(self.max_length):]
        tokens[0, -len(recent):] = recent + 1
        with self.context_.torch_threads():
            network = self._restored_network(torch)
            vector = self._encode(torch, network, tokens)[0]
        return self.item_factors_ @ vector

    def sequence_note(self, n_given: int) -> str | None:
        """What happens to an ordered list longer than the network reads (said once), or None."""
        if n_given > int(self.max_length):
            return (f"{self.name} reads the latest {int(self.max_length)} of the {n_given} items given "
                    "(its max_length); the earlier ones are left out.")
        return None

    def fold_in(self, item_idx, ratings):
        """A few rated items, an unordered set, as a history: in the order people usually take them.

        Ratings (and a sentence's seed items) carry no order, so the items that count as feedback are read in
        the order of their typical place in training histories (``item_position_``: mean relative position,
        0 = first, 1 = last); an ordered list goes through :meth:`fold_in_sequence` as given.
        """
        dataset = self.check_fitted()
        item_idx = np.asarray(item_idx, dtype=np.int64)
        ratings = np.asarray(ratings, dtype=np.float64)
        keep = np.ones(len(item_idx), dtype=bool)
        if self.feedback == "positive" and not dataset.implicit:
            keep = ratings >= positive_threshold(dataset, self.threshold)
        kept = np.array(list(dict.fromkeys(item_idx[keep].tolist())), dtype=np.int64)
        kept = kept[np.argsort(self.item_position_[kept], kind="stable")] if len(kept) else kept
        return self.fold_in_sequence(kept)

    def _restored_network(self, torch):
        if self._net_cache is None:
            network = self._network(torch, sp.csr_matrix((1, len(self.item_factors_))))
            network.load_state_dict({name: torch.as_tensor(value) for name, value in self.network_state_.items()})
            network.eval()
            self._net_cache = network
        return self._net_cache

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_net_cache", None)
        return state


__all__ = ["PAD", "SequenceRanker", "histories", "training_windows", "last_windows", "sequence_params"]
