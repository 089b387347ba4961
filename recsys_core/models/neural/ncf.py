"""Neural Collaborative Filtering: NeuMF, a GMF branch and an MLP branch fused in one output layer (He et al. 2017).

.. math:: \\phi^{GMF} = p^G_u \\odot q^G_i,\\qquad
          \\phi^{MLP} = \\mathrm{MLP}\\big([p^M_u; q^M_i]\\big),\\qquad
          \\hat y_{ui} = \\sigma\\big(h^\\top [\\phi^{GMF}; \\phi^{MLP}] + b\\big)

trained with binary cross-entropy on ``negatives`` sampled negatives per positive (the paper's log loss).
Rendle et al. (2020) showed that a well-tuned dot product matches or beats the learnt MLP similarity: the lab
puts both side by side so the claim can be checked on the data at hand.

Scoring runs the fused network in numpy from the exported weights (users in blocks, every item at once). A new
user has no trained vectors and the network is not a dot product, so fold-in takes the similarity-weighted mean
of the vectors of the trained users most like the new one (a neighbourhood estimate).
"""
from __future__ import annotations

import numpy as np

from ..params import Param, feedback_params
from .training import TorchRanker, as_tensors, bce_loss, factors_param, negatives_param, training_params

#: Cells of (users x items x hidden units) computed at once when scoring.
_SCORE_CELLS = 8_000_000


class NeuMF(TorchRanker):
    """NeuMF with pre-activation fusion; the GMF and MLP embeddings together are the model's vectors."""

    name = "ncf"
    loss_name = "BCE"
    formula = (
        r"\hat y_{ui} = \sigma\Big(h^\top\big[\,p^G_u \odot q^G_i\,;\ \mathrm{MLP}([p^M_u; q^M_i])\,\big] + b\Big)"
    )
    explanation = (
        "Two ways of combining a person's and an item's vectors, learnt together: an element-wise product (a "
        "generalised dot product, GMF) and a small neural network on the two vectors side by side (MLP). A last "
        "layer weighs both. Trained like MF with BCE on sampled negatives. The network can in principle learn any "
        "similarity; in practice a tuned dot product is often as good (Rendle et al. 2020)."
    )
    params = (
        factors_param(),
        Param("mlp_layers", "Hidden units of the MLP branch, halved layer by layer (e.g. 64: 64 -> 32 -> 16).",
              kind="int", low=4, high=1024, step=8, search=(16, 128), log=True),
        Param("n_layers", "Hidden layers of the MLP branch.", kind="int", low=1, high=5, step=1, search=(1, 3)),
        negatives_param(),
        *training_params(),
        *feedback_params(),
    )

    def __init__(self, factors: int = 32, mlp_layers: int = 64, n_layers: int = 2, negatives: int = 4,
                 epochs: int = 25, learning_rate: float = 0.003, batch_size: int = 2048, weight_decay: float = 1e-6,
                 patience: int = 3, feedback: str = "all", threshold: float | None = None, random_state: int = 0):
        self.factors = factors
        self.mlp_layers = mlp_layers
        self.n_layers = n_layers
        self.negatives = negatives
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.patience = patience
        self.feedback = feedback
        self.threshold = threshold
        self.random_state = random_state

    def _hidden(self) -> list[int]:
        first = int(self.mlp_layers)
        return [max(first // 2**layer, 2) for layer in range(int(self.n_layers))]

    def _network(self, torch, train):
        nn = torch.nn
        factors, hidden = int(self.factors), self._hidden()

        class NeuMFNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.user_gmf = nn.Embedding(train.shape[0], factors)
                self.item_gmf = nn.Embedding(train.shape[1], factors)
                self.user_mlp = nn.Embedding(train.shape[0], factors)
                self.item_mlp = nn.Embedding(train.shape[1], factors)
                for table in (self.user_gmf, self.item_gmf, self.user_mlp, self.item_mlp):
                    nn.init.normal_(table.weight, std=0.1)
                sizes = [2 * factors] + hidden
                self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
                self.output = nn.Linear(factors + hidden[-1], 1)

            def forward(self, users, items):
                gmf = self.user_gmf(users) * self.item_gmf(items)
                h = torch.cat([self.user_mlp(users), self.item_mlp(items)], dim=1)
                for layer in self.layers:
                    h = torch.relu(layer(h))
                return self.output(torch.cat([gmf, h], dim=1)).squeeze(1)

        return NeuMFNet()

    def _batches(self, train, rng):
        return self._bce_batches(train, rng)

    def _batch_loss(self, torch, network, batch):
        users, items, labels = as_tensors(torch, self.context_.device, *batch)
        return bce_loss(torch, network(users, items), labels)

    def _export(self, torch, network):
        def numpy(tensor):  # float32: the numpy network is the scoring hot path (users x items x hidden)
            return tensor.detach().cpu().numpy().astype(np.float32)

        self.user_gmf_, self.item_gmf_ = numpy(network.user_gmf.weight), numpy(network.item_gmf.weight)
        self.user_mlp_, self.item_mlp_ = numpy(network.user_mlp.weight), numpy(network.item_mlp.weight)
        self.layers_ = [(numpy(layer.weight), numpy(layer.bias)) for layer in network.layers]
        self.output_ = (numpy(network.output.weight).ravel(), float(network.output.bias.detach()))
        # The model's vectors (maps, similar items): both branches' embeddings side by side.
        self.user_factors_ = np.hstack([self.user_gmf_, self.user_mlp_])
        self.item_factors_ = np.hstack([self.item_gmf_, self.item_mlp_])

    def _score_vectors(self, user_gmf: np.ndarray, user_mlp: np.ndarray) -> np.ndarray:
        """Logits of every item for users given by their two vectors (the network in numpy, in blocks)."""
        n_items = self.item_gmf_.shape[0]
        factors = self.item_gmf_.shape[1]
        (first_w, first_b), rest = self.layers_[0], self.layers_[1:]
        user_part = user_mlp @ first_w[:, :factors].T          # (users, h1)
        item_part = self.item_mlp_ @ first_w[:, factors:].T + first_b  # (items, h1)
        h_out, b_out = self.output_
        out = np.empty((len(user_gmf), n_items))
        user_gmf, user_mlp = np.asarray(user_gmf, np.float32), np.asarray(user_mlp, np.float32)
        step = max(1, _SCORE_CELLS // max(1, n_items * first_w.shape[0]))
        for start in range(0, len(user_gmf), step):
            stop = min(start + step, len(user_gmf))
            h = np.maximum(user_part[start:stop, None, :] + item_part[None, :, :], 0.0)
            for weight, bias in rest:
                h = np.maximum(h @ weight.T + bias, 0.0)
            gmf = (user_gmf[start:stop] * h_out[:factors]) @ self.item_gmf_.T
            out[start:stop] = gmf + h @ h_out[factors:] + b_out
        return out

    def _score_rows(self, rows, user_idx):
        if user_idx is not None:
            user_idx = np.asarray(user_idx)
            return self._score_vectors(self.user_gmf_[user_idx], self.user_mlp_[user_idx])
        vectors = np.vstack([self._fold_in_vector(rows[r]) for r in range(rows.shape[0])])
        factors = self.user_gmf_.shape[1]
        return self._score_vectors(vectors[:, :factors], vectors[:, factors:])

    #: Trained users a new user's vectors are averaged from (the most similar by co-taken items).
    FOLD_IN_NEIGHBOURS = 20

    def _fold_in_vector(self, row):
        """Mean of the vectors of the trained users most like the new one (cosine of taken items), by similarity.

        Averaging over every user who took one of the items (weighted by overlap) was tried first and gave the
        heavy users' generic taste (0 of 10 of a planted genre on the sample for five items of it).
        """
        items = row.indices
        overlap = np.asarray(self.train_matrix_[:, items].getnnz(axis=1) if len(items) else
                             np.zeros(self.train_matrix_.shape[0])).astype(np.float64).ravel()
        if overlap.sum() <= 0:
            return self.user_factors_.mean(axis=0)
        activity = np.maximum(np.diff(self.train_matrix_.indptr), 1)
        similarity = overlap / np.sqrt(activity * max(len(items), 1))
        keep = np.argsort(-similarity, kind="stable")[: self.FOLD_IN_NEIGHBOURS]
        keep = keep[similarity[keep] > 0]
        weights = similarity[keep]
        return (weights @ self.user_factors_[keep]) / weights.sum()
