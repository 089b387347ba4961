"""Two-tower retrieval model: a user tower and an item tower meet in one dot product (Yi et al. 2019).

The user tower reads the user's id and demographics; the item tower reads the item's id, its genres/tags and the
sentence embedding (all-MiniLM-L6-v2) of its title and description. Each tower sums its inputs' embeddings and
passes them through a small MLP; the outputs are L2-normalised and the score is their dot product over a
temperature:

.. math:: u = \\frac{f_\\theta(e_u + W_d\\, d_u)}{\\|\\cdot\\|},\\quad
          v = \\frac{g_\\phi(e_i + W_g\\, g_i + W_t\\, t_i)}{\\|\\cdot\\|},\\quad
          s_{ui} = \\frac{u^\\top v}{\\tau},\\quad
          \\mathcal L = -\\sum_{(u,i)\\in B} \\log \\frac{e^{s_{ui} - \\log Q_i}}{\\sum_{j \\in B} e^{s_{uj} - \\log Q_j}}

trained with the in-batch sampled softmax: the other items of the batch are the negatives, and the log of each
item's sampling probability (its share of the interactions) is subtracted (logQ correction), so popular items
are not penalised merely for appearing as negatives often. During training the id embedding is dropped for a
share of the examples (``id_dropout``), which teaches both towers to work from features alone: a brand-new
item is served from its genres and text (:meth:`TwoTower.new_item_scores`), a new user from demographics
(:meth:`TwoTower.demographic_scores`) or from a few ratings (fold-in against the fixed item vectors).

Reference: X. Yi et al., "Sampling-Bias-Corrected Neural Modeling for Large Corpus Item Recommendations",
RecSys 2019.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import scipy.sparse as sp

from ...errors import ColdStartError
from ..params import Param, feedback_params
from .features import FeatureSpace
from .training import TorchRanker, as_tensors, factors_param, positive_pairs, shuffled_batches, training_params

TEXT_CHOICES = ("sbert", "none")


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class TwoTower(TorchRanker):
    """User tower (id + demographics) and item tower (id + genres/tags + sentence embedding), in-batch softmax."""

    name = "two-tower"
    loss_name = "softmax"
    family = "Embedding models (torch, features)"
    uses_features = True
    new_user_features = True  # demographic_scores, when the data has user attributes (see _instance_capabilities)
    reads_text = False  # the item text is a feature of the items, not a query: free text goes through fold-in
    serves_new_items = True
    formula = (
        r"s_{ui} = \frac{1}{\tau}\,\frac{f(e_u + W_d d_u)^\top g(e_i + W_g g_i + W_t t_i)}{\|f(\cdot)\|\,\|g(\cdot)\|},"
        r"\quad \mathcal{L} = -\log\frac{e^{s_{ui}-\log Q_i}}{\sum_{j\in B} e^{s_{uj}-\log Q_j}}"
    )
    explanation = (
        "Two small networks: one turns a person (their id and demographics) into a vector, the other turns an item "
        "(its id, genres, tags and the meaning of its description) into a vector of the same length; the score is "
        "how well the two point the same way. Each batch of interactions trains the model to pick, for every "
        "person, their own item among the others in the batch. Because features feed the towers, a new item or a "
        "new person is placed from their description alone."
    )
    params = (
        factors_param(),
        Param("hidden", "Hidden units of each tower's MLP.", kind="int", low=8, high=1024, step=16,
              search=(32, 256), log=True),
        Param("temperature", "tau: divides the cosine scores before the softmax (smaller: sharper).", low=0.01,
              high=2.0, step=0.01, search=(0.03, 0.5), log=True),
        Param("id_dropout", "Share of training examples whose user and item ids are hidden, so the towers learn "
              "to work from features alone (new users and items).", low=0.0, high=0.9, step=0.05,
              search=(0.0, 0.5)),
        Param("text", "Item tower reads the MiniLM sentence embedding of each item's title and description "
              "(sbert) or not (none).", kind="choice", choices=TEXT_CHOICES, search=None),
        Param("logq_correction", "Subtract log(item share) from in-batch scores (sampling-bias correction).",
              kind="bool", search=(True, False)),
        *training_params(),
        *feedback_params(),
    )

    def __init__(self, factors: int = 64, hidden: int = 128, temperature: float = 0.1, id_dropout: float = 0.2,
                 text: str = "sbert", logq_correction: bool = True, epochs: int = 30, learning_rate: float = 0.003,
                 batch_size: int = 1024, weight_decay: float = 1e-6, patience: int = 4, feedback: str = "all",
                 threshold: float | None = None, random_state: int = 0):
        self.factors = factors
        self.hidden = hidden
        self.temperature = temperature
        self.id_dropout = id_dropout
        self.text = text
        self.logq_correction = logq_correction
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.patience = patience
        self.feedback = feedback
        self.threshold = threshold
        self.random_state = random_state

    fit_note = ("Trained with torch on the CPU; the first fit on a catalogue encodes the item texts with "
                "MiniLM (cached on disk afterwards).")

    def _instance_capabilities(self):
        space = getattr(self, "space_", None)
        if space is None:
            return {}
        return {"new_user_features": space.n_user_features > 0,
                "serves_new_items": space.n_item_features > 0 or self.text_vectors_ is not None}

    # ------------------------------------------------------------- features
    def _fit(self, dataset):
        if self.text not in TEXT_CHOICES:
            raise ValueError(f"two-tower: text must be one of {', '.join(TEXT_CHOICES)}, not {self.text!r}.")
        self.space_ = FeatureSpace.build(dataset)
        self.text_vectors_ = self._item_text_vectors(dataset)
        missing = []
        if self.space_.n_item_features == 0 and self.text_vectors_ is None:
            missing.append("item genres/tags or descriptions")
        if self.space_.n_user_features == 0:
            missing.append("user demographics")
        self.feature_note_ = (None if not missing else
                              f"two-tower found no {' and no '.join(missing)} in '{dataset.name}': that tower runs on "
                              "ids only" + (" and cannot place a new item from its description." if
                                            "item genres/tags or descriptions" in missing else "."))
        if self.feature_note_:
            self.notes_.append(self.feature_note_)
        super()._fit(dataset)

    def _item_text_vectors(self, dataset) -> np.ndarray | None:
        if self.text == "none":
            return None
        texts = dataset.item_text().fillna("").astype(str)
        titles = dataset.items["title"].astype(str) if "title" in dataset.items.columns else texts
        if not (texts.str.strip() != titles.str.strip()).any() and "description" not in dataset.items.columns:
            return None  # nothing but titles / raw ids: no meaning to read
        from ...text import encode_texts

        def progress(done, total):
            self._report(0.0, f"encoding item texts {done:,} of {total:,} (first time only)")

        return np.asarray(encode_texts(list(texts), progress=progress), dtype=np.float32)

    def _inputs(self):
        """Sparse feature rows (normalised to sum to 1) and the text matrix, as the towers read them."""
        def scaled(matrix):
            sums = np.asarray(matrix.sum(axis=1)).ravel()
            sums[sums == 0] = 1.0
            return sp.csr_matrix(sp.diags(1.0 / sums) @ matrix, dtype=np.float32)

        return scaled(self.space_.user_matrix), scaled(self.space_.item_matrix)

    # ------------------------------------------------------------- network
    def _network(self, torch, train):
        nn = torch.nn
        device = self.context_.device
        users_x, items_x = self._inputs()
        text = None if self.text_vectors_ is None else torch.as_tensor(self.text_vectors_, device=device)
        dims, hidden = int(self.factors), int(self.hidden)
        n_users, n_items = train.shape

        class Tower(nn.Module):
            def __init__(self, n_ids, n_features, text_dims):
                super().__init__()
                self.ids = nn.Embedding(n_ids, dims)
                nn.init.normal_(self.ids.weight, std=0.1)
                self.features = nn.Linear(n_features, dims, bias=False) if n_features else None
                self.text = nn.Linear(text_dims, dims) if text_dims else None
                self.mlp = nn.Sequential(nn.Linear(dims, hidden), nn.ReLU(), nn.Linear(hidden, dims))

            def forward(self, ids, keep, features, text_rows):
                x = self.ids(ids) * keep[:, None]
                if self.features is not None:
                    x = x + self.features(features)
                if self.text is not None:
                    x = x + self.text(text_rows)
                return torch.nn.functional.normalize(self.mlp(x), dim=1)

        class TwoTowerNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.user = Tower(n_users, users_x.shape[1], 0)
                self.item = Tower(n_items, items_x.shape[1], 0 if text is None else text.shape[1])
                # Feature rows are small (labels, demographics): dense tables indexed per batch are much
                # faster than sparse row selection (measured 3x on the sample's epoch).
                self.users_x = torch.as_tensor(users_x.toarray(), device=device) if users_x.shape[1] else None
                self.items_x = torch.as_tensor(items_x.toarray(), device=device) if items_x.shape[1] else None
                self.text_x = text

            def users(self, index, keep):
                rows = None if self.users_x is None else self.users_x[index]
                return self.user(index, keep, rows, None)

            def items(self, index, keep):
                text_rows = None if self.text_x is None else self.text_x[index]
                rows = None if self.items_x is None else self.items_x[index]
                return self.item(index, keep, rows, text_rows)

        return TwoTowerNet()

    def _batches(self, train, rng):
        users, items = positive_pairs(train)
        share = np.bincount(items, minlength=train.shape[1]) / max(len(items), 1)
        self._log_q = np.log(np.maximum(share, 1e-12)).astype(np.float32)
        drop = float(self.id_dropout)
        for index in shuffled_batches(len(users), self.batch_size, rng):
            keep_users = (rng.random(len(index)) >= drop).astype(np.float32)
            keep_items = (rng.random(len(index)) >= drop).astype(np.float32)
            yield users[index], items[index], keep_users, keep_items

    def _batch_loss(self, torch, network, batch):
        users, items, keep_users, keep_items = as_tensors(torch, self.context_.device, *batch)
        u, v = network.users(users, keep_users), network.items(items, keep_items)
        logits = (u @ v.T) / float(self.temperature)
        if self.logq_correction:
            logits = logits - torch.as_tensor(self._log_q, device=logits.device)[items][None, :]
        # The same item twice in a batch is not a negative of itself.
        same = (items[:, None] == items[None, :]) & ~torch.eye(len(items), dtype=torch.bool, device=logits.device)
        logits = logits.masked_fill(same, float("-inf"))
        target = torch.arange(len(items), device=logits.device)
        return torch.nn.functional.cross_entropy(logits, target)

    def _export(self, torch, network):
        device = self.context_.device
        n_users, n_items = self.dataset_.n_users, self.dataset_.n_items
        ones_u = torch.ones(n_users, device=device)
        ones_i = torch.ones(n_items, device=device)
        users = network.users(torch.arange(n_users, device=device), ones_u)
        items = network.items(torch.arange(n_items, device=device), ones_i)
        scale = 1.0 / float(self.temperature)
        self.user_factors_ = users.detach().cpu().numpy().astype(np.float64) * scale
        self.item_factors_ = items.detach().cpu().numpy().astype(np.float64)
        self.item_bias_ = None
        # Tower weights in numpy, for new items and users described by features alone.
        self.towers_ = {side: {name: tensor.detach().cpu().numpy().astype(np.float64)
                               for name, tensor in getattr(network, side).state_dict().items() if name != "ids.weight"}
                        for side in ("user", "item")}

    # ------------------------------------------------------------- features alone
    def _tower(self, side: str, features: np.ndarray | None, text: np.ndarray | None) -> np.ndarray:
        weights = self.towers_[side]
        x = np.zeros((1 if features is None else len(features), int(self.factors)))
        if features is not None and "features.weight" in weights:
            x = x + features @ weights["features.weight"].T
        if text is not None and "text.weight" in weights:
            x = x + text @ weights["text.weight"].T + weights["text.bias"]
        h = np.maximum(x @ weights["mlp.0.weight"].T + weights["mlp.0.bias"], 0.0)
        return _normalise(h @ weights["mlp.2.weight"].T + weights["mlp.2.bias"])

    def new_item_scores(self, metadata: Mapping[str, object]) -> np.ndarray:
        """Scores of a brand-new item (genres, tags, title, description) for every training user.

        The item tower runs without the id embedding, as it was trained to for ``id_dropout`` of the examples.
        Raises :class:`ColdStartError` when the model read no item features it could place the item by.
        """
        dataset = self.check_fitted()
        row = self.space_.item_row(metadata) if self.space_.n_item_features else None
        text = None
        if self.text_vectors_ is not None:
            from ...text import encode_texts

            words = " ".join(str(value) for key, value in metadata.items()
                             if key in ("title", "description", "genres", "tags") and value)
            text = np.asarray(encode_texts([words]), dtype=np.float64) if words.strip() else None
        if (row is None or row.nnz == 0) and text is None:
            raise ColdStartError(
                f"two-tower cannot place a new item in '{dataset.name}' from this description: it learnt no genre, "
                "tag or text features that match it. Give genres or tags from the catalogue, or a title and "
                "description (with item texts loaded and text='sbert').")
        features = None
        if row is not None:
            dense = row.toarray().astype(np.float64)
            features = dense / max(dense.sum(), 1.0)
        vector = self._tower("item", features, text)[0]
        return self.user_factors_ @ vector

    def demographic_scores(self, demographics: Mapping[str, object]) -> np.ndarray:
        """Scores of every item for a new user known only by demographics (user tower without the id)."""
        self.check_fitted()
        if self.space_.n_user_features == 0:
            raise ColdStartError("two-tower read no user demographics in this data set, so it cannot place a user "
                                 "by them; load a users file and fit again.")
        row = self.space_.user_row(demographics)
        if row.nnz == 0:
            raise ColdStartError("None of these attributes is among the demographic values two-tower learnt from.")
        dense = row.toarray().astype(np.float64)
        vector = self._tower("user", dense / dense.sum(), None)[0] / float(self.temperature)
        return self.item_factors_ @ vector
