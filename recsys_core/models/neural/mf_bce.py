"""Matrix factorisation trained with binary cross-entropy on sampled negatives (the textbook embedding model).

Each user and each item has an embedding and the item a bias; the score is their dot product plus the bias,
read as the log-odds that the user takes the item:

.. math:: \\hat y_{ui} = \\sigma(p_u^\\top q_i + b_i),\\qquad
          \\mathcal L = -\\sum_{(u,i)} \\Big[\\log \\sigma(s_{ui}) + \\sum_{j \\sim \\mathcal U} \\log\\big(1 - \\sigma(s_{uj})\\big)\\Big]

with ``negatives`` items ``j`` drawn uniformly among those the user has not taken, for each taken item.
It is the model behind most "embedding" lectures and, tuned, a strong baseline that neural models often do not
beat (Rendle, Krichene, Zhang & Anderson 2020, "Neural Collaborative Filtering vs. Matrix Factorization Revisited").
"""
from __future__ import annotations

import numpy as np

from ..params import Param, feedback_params
from .training import TorchRanker, as_tensors, bce_loss, factors_param, negatives_param, training_params


class MFBCE(TorchRanker):
    """Dot-product MF, BCE on sampled negatives, Adam; numpy tables after the fit."""

    name = "mf-bce"
    loss_name = "BCE"
    formula = (
        r"s_{ui} = p_u^\top q_i + b_i,\quad \mathcal{L} = -\sum_{(u,i)}\Big[\log\sigma(s_{ui})"
        r" + \sum_{j\sim\mathcal{U}}\log\big(1-\sigma(s_{uj})\big)\Big]"
    )
    explanation = (
        "Every person and every item gets a vector; their dot product (plus the item's bias) is the log-odds that "
        "the person takes the item. Training shows the model each interaction as a 1 and a few random items the "
        "person did not take as 0s (negatives), and nudges the vectors to tell them apart (binary cross-entropy). "
        "Tuned, this plain model is hard to beat: see whether the neural ones do on your data."
    )
    params = (factors_param(), negatives_param(),
              Param("l2", "Penalty on the squared length of the vectors used in each example.", low=0.0, high=1.0,
                    step=1e-5, fmt="%.6f", search=(1e-6, 1e-2), log=True),
              *training_params(), *feedback_params())

    def __init__(self, factors: int = 64, negatives: int = 8, epochs: int = 30, learning_rate: float = 0.005,
                 batch_size: int = 1024, weight_decay: float = 0.0, patience: int = 3, l2: float = 0.01,
                 feedback: str = "all", threshold: float | None = None, random_state: int = 0):
        self.factors = factors
        self.negatives = negatives
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.patience = patience
        self.l2 = l2
        self.feedback = feedback
        self.threshold = threshold
        self.random_state = random_state

    def _network(self, torch, train):
        return _DotProduct.build(torch, train.shape[0], train.shape[1], int(self.factors))

    def _batches(self, train, rng):
        return self._bce_batches(train, rng)

    def _batch_loss(self, torch, network, batch):
        users, items, labels = as_tensors(torch, self.context_.device, *batch)
        logits, penalty = network(users, items)
        return bce_loss(torch, logits, labels) + float(self.l2) * penalty

    def _export(self, torch, network):
        self.user_factors_ = network.users.weight.detach().cpu().numpy().astype(np.float64)
        self.item_factors_ = network.items.weight.detach().cpu().numpy().astype(np.float64)
        self.item_bias_ = network.item_bias.weight.detach().cpu().numpy().astype(np.float64).ravel()


class _DotProduct:
    """``nn.Module`` factory (torch is imported lazily, so the class is made on first use)."""

    _class = None

    @classmethod
    def build(cls, torch, n_users: int, n_items: int, factors: int):
        if cls._class is None:
            nn = torch.nn

            class DotProduct(nn.Module):
                def __init__(self, n_users, n_items, factors):
                    super().__init__()
                    self.users = nn.Embedding(n_users, factors)
                    self.items = nn.Embedding(n_items, factors)
                    self.item_bias = nn.Embedding(n_items, 1)
                    nn.init.normal_(self.users.weight, std=0.1)
                    nn.init.normal_(self.items.weight, std=0.1)
                    nn.init.zeros_(self.item_bias.weight)

                def forward(self, users, items):
                    p, q = self.users(users), self.items(items)
                    logits = (p * q).sum(dim=1) + self.item_bias(items).squeeze(1)
                    # Per-example L2 of the vectors used (the usual "reg" of MF with SGD).
                    penalty = ((p * p).sum(dim=1) + (q * q).sum(dim=1)).mean()
                    return logits, penalty

            cls._class = DotProduct
        return cls._class(n_users, n_items, factors)
