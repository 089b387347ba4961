"""LightGCN: embeddings propagated over the normalised user-item graph, trained with BPR (He et al. 2020).

The users and items are the nodes of a bipartite graph whose edges are the training interactions. With
:math:`A = \\begin{pmatrix}0 & X\\\\ X^\\top & 0\\end{pmatrix}` and its symmetric normalisation
:math:`\\hat A = D^{-1/2} A D^{-1/2}` (``D`` the node degrees), each layer averages the neighbours' embeddings,
with no weights and no non-linearity, and the final embedding is the mean over layers:

.. math:: E^{(k+1)} = \\hat A E^{(k)},\\qquad E = \\frac{1}{K+1}\\sum_{k=0}^{K} E^{(k)},\\qquad
          \\hat y_{ui} = e_u^\\top e_i,\\qquad
          \\mathcal L = -\\sum \\log\\sigma(\\hat y_{ui} - \\hat y_{uj}) + \\lambda \\|E^{(0)}_{\\text{batch}}\\|^2

Propagation is a ``torch.sparse`` product per layer. A new user folds in against the fixed final item
embeddings (the loop's logistic fold-in). Propagating the new user's own layers through the graph instead
(their layer 0 empty) was tried and lost the taste: on the sample, five items of one planted genre gave 0 of
10 recommendations of it that way against 9-10 of 10 with the fold-in.

Reference: X. He, K. Deng, X. Wang, Y. Li, Y. Zhang and M. Wang, "LightGCN: Simplifying and Powering Graph
Convolution Network for Recommendation", SIGIR 2020.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..params import Param, feedback_params
from .training import TorchRanker, as_tensors, bpr_loss, factors_param, training_params


def normalized_adjacency(interactions: sp.csr_matrix) -> sp.csr_matrix:
    """:math:`D^{-1/2} A D^{-1/2}` of the bipartite graph (users first, then items); isolated nodes get 0 rows."""
    x = (interactions > 0).astype(np.float64)
    n_users, n_items = x.shape
    adjacency = sp.bmat([[None, x], [x.T, None]], format="csr", dtype=np.float64)
    adjacency.resize((n_users + n_items, n_users + n_items))
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    inverse_root = np.zeros_like(degree)
    inverse_root[degree > 0] = degree[degree > 0] ** -0.5
    scale = sp.diags(inverse_root)
    return (scale @ adjacency @ scale).tocsr()


_PROPAGATE = None


def _symmetric_product(torch):
    """``A @ x`` for a symmetric sparse ``A`` whose backward is ``A @ grad`` (no transpose built per step).

    torch's own backward of a sparse product transposes and coalesces the sparse matrix at every step;
    with a symmetric matrix the gradient is the same product again. Measured on a MovieLens-100k-sized
    graph, 3 layers forward and backward: ~4x faster than ``torch.sparse.mm``'s autograd.
    """
    global _PROPAGATE
    if _PROPAGATE is None:
        class SymmetricProduct(torch.autograd.Function):
            @staticmethod
            def forward(ctx, matrix, x):
                ctx.matrix = matrix
                return matrix @ x

            @staticmethod
            def backward(ctx, gradient):
                return None, ctx.matrix @ gradient

        _PROPAGATE = SymmetricProduct
    return _PROPAGATE


def propagate(torch, adjacency, embeddings, layers: int, keep_layers: bool = False):
    """Mean of ``embeddings`` and its ``layers`` propagations over the symmetric sparse ``adjacency`` (torch)."""
    product = _symmetric_product(torch)
    current, total, every = embeddings, embeddings, [embeddings]
    for _ in range(int(layers)):
        current = product.apply(adjacency, current)
        total = total + current
        every.append(current)
    mean = total / (int(layers) + 1)
    return (mean, every) if keep_layers else mean


def sparse_tensor(torch, matrix: sp.csr_matrix, device: str = "cpu"):
    """A scipy CSR matrix as a torch sparse CSR tensor (float32)."""
    import warnings

    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(torch.as_tensor(matrix.indptr.astype(np.int64)),
                                       torch.as_tensor(matrix.indices.astype(np.int64)),
                                       torch.as_tensor(matrix.data), size=matrix.shape, device=device)


class LightGCN(TorchRanker):
    """LightGCN with BPR; the propagated (layer-mean) embeddings are the model's vectors."""

    name = "lightgcn"
    loss_name = "BPR"
    family = "Embedding models (torch, graph)"
    formula = (
        r"E^{(k+1)} = D^{-1/2} A D^{-1/2} E^{(k)},\quad e = \tfrac{1}{K+1}\textstyle\sum_{k=0}^{K} e^{(k)},"
        r"\quad \mathcal{L} = -\sum\log\sigma(e_u^\top e_i - e_u^\top e_j)"
    )
    explanation = (
        "People and items are nodes of a graph, linked where someone took an item. Each starts with a vector; each "
        "layer replaces it by the average of its neighbours' vectors (an item's takers, a person's items), scaled "
        "down for very connected nodes. The final vector is the mean over layers, so it mixes your own taste with "
        "your neighbourhood's. Trained so that taken items score above random others (BPR)."
    )
    params = (
        factors_param(),
        Param("layers", "Propagation steps K over the graph (0: plain MF trained with BPR).", kind="int", low=0,
              high=6, step=1, search=(1, 4)),
        Param("l2", "lambda: penalty on the layer-0 embeddings used in a batch.", low=0.0, high=1.0, step=1e-5,
              fmt="%.6f", search=(1e-6, 1e-2), log=True),
        *training_params(),
        *feedback_params(),
    )

    def __init__(self, factors: int = 64, layers: int = 3, l2: float = 1e-4, epochs: int = 40,
                 learning_rate: float = 0.005, batch_size: int = 2048, weight_decay: float = 0.0, patience: int = 4,
                 feedback: str = "all", threshold: float | None = None, random_state: int = 0):
        self.factors = factors
        self.layers = layers
        self.l2 = l2
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.patience = patience
        self.feedback = feedback
        self.threshold = threshold
        self.random_state = random_state

    def _network(self, torch, train):
        nn = torch.nn
        adjacency = sparse_tensor(torch, normalized_adjacency(train), self.context_.device)
        n_users, n_items = train.shape
        factors, layers = int(self.factors), int(self.layers)

        class LightGCNNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.embeddings = nn.Embedding(n_users + n_items, factors)
                nn.init.normal_(self.embeddings.weight, std=0.1)
                self.adjacency = adjacency
                self.n_users = n_users

            def final(self, keep_layers=False):
                return propagate(torch, self.adjacency, self.embeddings.weight, layers, keep_layers)

        return LightGCNNet()

    def _batches(self, train, rng):
        return self._bpr_batches(train, rng)

    def _batch_loss(self, torch, network, batch):
        users, positives, negatives = as_tensors(torch, self.context_.device, *batch)
        final = network.final()
        items = final[network.n_users:]
        u, i, j = final[users], items[positives], items[negatives]
        start = network.embeddings.weight
        penalty = (start[users].pow(2).sum() + start[network.n_users + positives].pow(2).sum()
                   + start[network.n_users + negatives].pow(2).sum()) / len(users)
        return bpr_loss(torch, (u * i).sum(dim=1), (u * j).sum(dim=1)) + float(self.l2) * penalty

    def _export(self, torch, network):
        final = network.final()
        n_users = network.n_users
        table = final.detach().cpu().numpy().astype(np.float64)
        self.user_factors_, self.item_factors_ = table[:n_users], table[n_users:]
