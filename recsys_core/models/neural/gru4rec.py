"""GRU4Rec: a recurrent network reads a history item by item and predicts the next item (Hidasi et al. 2016).

.. math:: h_t = \\mathrm{GRU}(e_{s_t}, h_{t-1}),\\qquad
          P(s_{t+1} = i \\mid s_{\\le t}) = \\operatorname{softmax}_i\\big(h_t^\\top e_i\\big)

The item embeddings ``e`` are shared by input and output (Hidasi & Karatzoglou 2018 report tied tables and a
cross-entropy over the catalogue among the changes that made GRU4Rec competitive). Trained on every position of
every history (see :mod:`.sequences`); a user's score row is their state after their latest item.
"""
from __future__ import annotations

from ..params import Param
from .sequences import PAD, SequenceRanker, sequence_params
from .training import training_params


class GRU4Rec(SequenceRanker):
    """GRU over the item sequence, tied item table, full softmax or sampled BCE."""

    name = "gru4rec"
    loss_name = "cross-entropy"
    formula = (r"h_t = \mathrm{GRU}(e_{s_t}, h_{t-1}),\quad "
               r"P(s_{t+1}=i \mid s_{\le t}) = \mathrm{softmax}_i\big(h_t^\top e_i\big)")
    explanation = (
        "Reads what a person watched in the order they watched it, one item at a time, keeping a running "
        "summary (the GRU's state) of where they are going; after each item it guesses the next one, and "
        "training nudges it to guess what really came next. The recommendation is its guess after the person's "
        "latest item: what you just watched counts most, what you watched long ago fades."
    )
    params = (*sequence_params(),
              Param("layers", "Stacked GRU layers.", kind="int", low=1, high=4, step=1, search=(1, 2)),
              *training_params())

    # Defaults measured on the sample (leave-last-out, validation NDCG@10): lr 0.003 stalls at 0.08 (popular's
    # level) for the first epochs and stops early; 0.01 reaches 0.28-0.30; dropout 0.3 overfits less than 0.1.
    def __init__(self, max_length: int = 50, factors: int = 64, dropout: float = 0.3, loss: str = "softmax",
                 negatives: int = 8, layers: int = 1, epochs: int = 40, learning_rate: float = 0.01,
                 batch_size: int = 128, weight_decay: float = 0.0, patience: int = 5, feedback: str = "all",
                 threshold: float | None = None, random_state: int = 0):
        self.max_length = max_length
        self.factors = factors
        self.dropout = dropout
        self.loss = loss
        self.negatives = negatives
        self.layers = layers
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.patience = patience
        self.feedback = feedback
        self.threshold = threshold
        self.random_state = random_state

    def _network(self, torch, train):
        return _build(torch, train.shape[1], int(self.factors), int(self.layers), float(self.dropout))


_CLASS = None


def _build(torch, n_items: int, factors: int, layers: int, dropout: float):
    global _CLASS
    if _CLASS is None:
        nn = torch.nn

        class GRUNet(nn.Module):
            def __init__(self, n_items, factors, layers, dropout):
                super().__init__()
                self.items = nn.Embedding(n_items + 1, factors, padding_idx=PAD)
                nn.init.normal_(self.items.weight, std=0.1)
                with torch.no_grad():
                    self.items.weight[PAD].zero_()
                self.dropout = nn.Dropout(dropout)
                self.gru = nn.GRU(factors, factors, num_layers=layers, batch_first=True,
                                  dropout=dropout if layers > 1 else 0.0)

            def forward(self, tokens):
                states, _ = self.gru(self.dropout(self.items(tokens)))
                return self.dropout(states)

        _CLASS = GRUNet
    return _CLASS(n_items, factors, layers, dropout)
