"""item2vec: item embeddings from co-occurrence, Word2Vec's skip-gram over each user's items in time order.

Each user's training items, ordered by timestamp (ties, and files without timestamps, by file order), form a
"sentence"; skip-gram with negative sampling (Mikolov et al. 2013) learns a vector per item such that items
that appear within ``window`` positions of each other in many histories get similar vectors -- what music
services do with listening sessions (Barkan & Koenigstein 2016, "Item2Vec"). A user is the mean of their
items' vectors, and an item's score the skip-gram's own prediction of it as context of those items (the user
vector against the item's output vector), so a new user folds in from any list of items. Similar items and
maps use the input vectors, as item2vec does.

.. math:: \\max \\sum_{u}\\sum_{t}\\sum_{|c| \\le w,\\,c \\ne 0} \\Big[\\log\\sigma(v_{i_t}^\\top v'_{i_{t+c}})
          + \\sum_{j \\sim P_n} \\log\\sigma(-v_{i_t}^\\top v'_j)\\Big]

Fitted by gensim's ``Word2Vec`` on one worker with a fixed seed and a fixed hash, so a refit gives the same
vectors.
"""
from __future__ import annotations

import zlib

import numpy as np
import scipy.sparse as sp

from ..dataset import TIMESTAMP, Dataset
from ..errors import RecsysError
from .base import FactorVectors, cosine_rows
from .params import Param, feedback_params
from .ranking import RankingModel

GENSIM_INSTALL = "pip install gensim==4.4.0"


def stable_hash(text: str) -> int:
    """Python's ``hash`` changes per process for strings; gensim seeds each vector by this instead."""
    return zlib.crc32(str(text).encode("utf-8"))


def item_sequences(dataset: Dataset, feedback: sp.csr_matrix) -> list[list[str]]:
    """Each user's feedback items as a list of item-index strings, by time (then file order) when timestamps exist."""
    frame = dataset.interactions
    users = frame["user_idx"].to_numpy()
    items = frame["item_idx"].to_numpy()
    keep = np.asarray(feedback[users, items]).ravel() > 0
    order_key = frame[TIMESTAMP].to_numpy() if dataset.has_timestamps else np.zeros(len(frame))
    order = np.lexsort((np.arange(len(frame)), order_key, users))
    order = order[keep[order]]
    sorted_users, sorted_items = users[order], items[order]
    bounds = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1], True])
    return [[str(i) for i in sorted_items[a:b]] for a, b in zip(bounds[:-1], bounds[1:])]


class Item2Vec(FactorVectors, RankingModel):
    """Skip-gram with negative sampling over time-ordered item histories (gensim)."""

    name = "item2vec"
    family = "Embedding models (co-occurrence)"
    reports_progress = True
    explains_by = "neighbours"
    finite_state = ("item_factors_",)
    formula = (
        r"\max\sum_u\sum_t\sum_{0<|c|\le w}\Big[\log\sigma(v_{i_t}^\top v'_{i_{t+c}})"
        r"+\sum_{j\sim P_n}\log\sigma(-v_{i_t}^\top v'_j)\Big],\quad \mathrm{score}(u,j) = \bar v_u^\top v_j"
    )
    explanation = (
        "Treats each person's items, in the order they were taken, as a sentence and each item as a word, then "
        "learns word vectors as Word2Vec does: items that keep turning up close to each other in people's "
        "histories get similar vectors. A person is the average of their items' vectors; the items closest to it "
        "are recommended. No ratings, no features: co-occurrence only."
    )
    params = (
        Param("factors", "Length of the item vectors.", kind="int", low=2, high=512, step=8, search=(16, 128),
              log=True),
        Param("window", "Items before and after each item that count as its context.", kind="int", low=1,
              high=100, step=1, search=(2, 20)),
        Param("negatives", "Negative samples per (item, context) pair.", kind="int", low=1, high=50, step=1,
              search=(2, 15)),
        Param("epochs", "Passes over the histories.", kind="int", low=1, high=200, step=1, search=(5, 50)),
        Param("min_count", "Items seen in fewer histories get no vector (score 0).", kind="int", low=1, high=100,
              step=1),
        *feedback_params(),
    )

    def __init__(self, factors: int = 64, window: int = 5, negatives: int = 5, epochs: int = 20,
                 min_count: int = 1, feedback: str = "all", threshold: float | None = None, random_state: int = 0):
        self.factors = factors
        self.window = window
        self.negatives = negatives
        self.epochs = epochs
        self.min_count = min_count
        self.feedback = feedback
        self.threshold = threshold
        self.random_state = random_state

    def memory_estimate(self, n_users, n_items, n_ratings):
        return 8 * 4 * (int(self.factors) + 1) * (n_users + n_items) + 80 * int(n_ratings) + 8 * 3 * 4_000_000

    def _fit_matrix(self, feedback):
        try:
            from gensim.models import Word2Vec
            from gensim.models.callbacks import CallbackAny2Vec
        except ImportError:
            raise RecsysError(f"The item2vec model needs gensim, which is not installed: {GENSIM_INSTALL}.") from None
        dataset = self.dataset_
        sentences = item_sequences(dataset, feedback)
        self.order_note_ = (None if dataset.has_timestamps else
                            f"'{dataset.name}' has no timestamps: item2vec reads each user's items in file order.")
        if self.order_note_:
            self.notes_.append(self.order_note_)
        epochs = int(self.epochs)
        model_ref = self

        class Progress(CallbackAny2Vec):
            def __init__(self):
                self.epoch, self.previous = 0, 0.0
                model_ref.history_ = []

            def on_epoch_end(self, model):
                self.epoch += 1
                total = model.get_latest_training_loss()
                loss = total - self.previous
                self.previous = total
                model_ref.history_.append({"epoch": self.epoch, "loss": float(loss), "validation": None})
                model_ref._report(self.epoch / epochs, f"epoch {self.epoch} of {epochs}, skip-gram loss {loss:,.0f}",
                                  epoch=self.epoch, n_epochs=epochs, loss=float(loss))

        word2vec = Word2Vec(sentences=sentences, vector_size=int(self.factors), window=int(self.window), sg=1,
                            negative=int(self.negatives), min_count=int(self.min_count), workers=1,
                            epochs=epochs, seed=self.seed, hashfxn=stable_hash, compute_loss=True,
                            callbacks=[Progress()], sorted_vocab=1)
        vectors = np.zeros((dataset.n_items, int(self.factors)))
        context = np.zeros((dataset.n_items, int(self.factors)))
        for word, position in word2vec.wv.key_to_index.items():
            vectors[int(word)] = word2vec.wv.vectors[position]
            context[int(word)] = word2vec.syn1neg[position]
        self.item_factors_ = vectors
        self.context_factors_ = context
        self.best_epoch_ = epochs
        self.validation_metric_ = ""
        self.has_vector_ = np.linalg.norm(vectors, axis=1) > 0
        self.user_factors_ = self._mean_vectors(feedback)

    def _mean_vectors(self, rows: sp.csr_matrix) -> np.ndarray:
        weights = sp.diags(1.0 / np.maximum(np.diff(rows.indptr), 1)) @ (rows > 0).astype(np.float64)
        return np.asarray(weights @ self.item_factors_)

    def _score_rows(self, rows, user_idx):
        # The skip-gram's own prediction: the user's items as input words, each candidate's context (output)
        # vector. Measured on the sample (random 80/20): NDCG@10 0.22 this way against 0.01 for the cosine of
        # input vectors, which favours items seen in one or two histories (their vectors barely move from
        # the centroid of their few contexts).
        vectors = self.user_factors_[np.asarray(user_idx)] if user_idx is not None else self._mean_vectors(rows)
        scores = vectors @ self.context_factors_.T
        scores[:, ~self.has_vector_] = np.nan  # never in a training history: no vector, cannot score
        return scores

    def item_similarity_rows(self, item_idx):
        return cosine_rows(self.item_factors_, np.asarray(item_idx))
