"""LightFM: a hybrid whose user and item vectors are sums of feature embeddings (Kula 2015).

Every item is described by a set of features -- its own identity, its genres,
its tags, the words of its title and description -- and every user by their
identity and demographics (categorical columns, binned age). Each feature
has a learnt vector and bias; an item's representation is the weighted sum
over its features, a user's likewise, and the score is

.. math:: \\hat r_{ui} = \\big(\\textstyle\\sum_{f\\in F_u} w_{uf} e^U_f\\big)^\\top
          \\big(\\textstyle\\sum_{g\\in F_i} w_{ig} e^I_g\\big) + \\sum_{f} w_{uf} b^U_f + \\sum_g w_{ig} b^I_g

trained on implicit feedback with the WARP (Weston et al. 2011) or BPR
(Rendle et al. 2009) loss by the ``lightfm`` package. Because genres and
words are shared, what is learnt about them carries over to items nobody
rated: such an item has no identity feature (it was never trained) and is
served through its metadata alone, as is a brand-new item described only by
its metadata (:meth:`LightFMHybrid.new_item_scores`). Users without training
feedback but with demographics are scored through their demographics.

Words are off by default (``max_words=0``): on the bundled sample the
descriptions' words multiply the fit time and lower NDCG@10, genres already
carrying the taste; turn them on to place items described by text only.

Feature rows are normalised to sum to 1 (LightFM's advice when features are
many), so an item with twenty words is not twenty times as long as one
with a single genre.

Reference: M. Kula, "Metadata Embeddings for User and Item Cold-start
Recommendations", CBRecSys workshop at RecSys 2015.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..dataset import Dataset
from ..errors import ColdStartError, RecsysError
from .params import Param, feedback_params, weighting_param
from .base import FactorVectors
from .ranking import RankingModel

#: How to install the package (it has no wheel; see README "Set-up").
LIGHTFM_INSTALL = ('pip install cython wheel numpy && pip install --no-build-isolation lightfm==1.17 '
                   '(lightfm builds from source with gcc in about 15 s)')

#: Columns that hold the synthetic sample's answers (planted genre, user segment): never features.
GROUND_TRUTH_COLUMNS = frozenset({"genre_truth", "segment"})
#: Item columns read as lists of labels (pipe-separated), each label one feature.
LABEL_COLUMNS = ("genres", "tags")
#: Columns never read as text or demographics.
_NOT_FEATURES = frozenset({"item", "user", "year"}) | GROUND_TRUTH_COLUMNS
#: Age bands (MovieLens-1M's own bands, so its coded ages fall one per band).
AGE_EDGES = (0, 18, 25, 35, 45, 50, 56, np.inf)
AGE_LABELS = ("under 18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+")
#: Bound on each label vocabulary (genres, tags, each demographic column): the most frequent shared labels.
MAX_LABELS = 2000
#: Words of 3+ letters (digits and raw ids are not words).
_WORD_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"


def _split_labels(text: str) -> list[str]:
    return [label.strip().lower() for label in str(text).split("|") if label.strip()]


def _text_columns(items: pd.DataFrame) -> list[str]:
    return [column for column in items.columns
            if column not in _NOT_FEATURES and column not in LABEL_COLUMNS
            and (pd.api.types.is_string_dtype(items[column]) or items[column].dtype == object)]


@dataclass
class HybridFeatures:
    """Sparse feature matrices of a data set's items and users, plus their vocabularies.

    Attributes
    ----------
    item_matrix, user_matrix : csr_matrix
        ``n_items x n_item_features`` and ``n_users x n_user_features``,
        rows normalised to sum to 1 (all-zero rows stay zero). Columns are
        identity features first (one per item/user *with training feedback*:
        an identity that was never trained would only add its random start),
        then metadata features.
    item_feature_names, user_feature_names : list of str
        ``item:<id>``, ``genre:<g>``, ``tag:<t>``, ``word:<w>``;
        ``user:<id>``, ``<column>=<value>``, ``age=<band>``.
    item_metadata_features, user_metadata_features : int
        How many metadata (non-identity) features each side has.
    """

    item_matrix: sp.csr_matrix
    user_matrix: sp.csr_matrix
    item_feature_names: list[str]
    user_feature_names: list[str]
    item_metadata_features: int
    user_metadata_features: int
    _label_vocabularies: dict = field(default_factory=dict, repr=False)
    _word_vectorizer: object | None = field(default=None, repr=False)
    _item_identities: int = 0

    def item_rows(self, items: pd.DataFrame) -> sp.csr_matrix:
        """Feature rows (no identity, normalised) for items described by metadata columns only."""
        metadata = _item_metadata(items, self._label_vocabularies, self._word_vectorizer)[0]
        rows = sp.hstack([sp.csr_matrix((len(items), self._item_identities), dtype=np.float32), metadata],
                         format="csr", dtype=np.float32)
        return _normalise_rows(rows)


def _normalise_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    sums[sums == 0] = 1.0
    return (sp.diags(1.0 / sums) @ matrix).astype(np.float32).tocsr()


def _identity(has_feedback: np.ndarray) -> sp.csr_matrix:
    rows = np.flatnonzero(has_feedback)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, np.arange(len(rows)))),
                         shape=(len(has_feedback), len(rows)))




def _item_metadata(items: pd.DataFrame, vocabularies: dict | None, vectorizer, max_words: int = 0):
    """Genres, tags and words of ``items`` as a binary matrix (fitting the vocabularies when not given)."""
    from sklearn.feature_extraction.text import CountVectorizer

    fitting = vocabularies is None
    vocabularies = {} if fitting else vocabularies
    blocks, names = [], []
    for column in LABEL_COLUMNS:
        if fitting:
            if column not in items.columns:
                continue
            # A label on one item only teaches nothing that carries over: keep labels shared by two or more.
            counter = CountVectorizer(tokenizer=_split_labels, token_pattern=None, lowercase=False, binary=True,
                                      min_df=2, max_features=MAX_LABELS)
            try:
                counter.fit(items[column].fillna("").astype(str))
            except ValueError:  # no label shared by two items
                continue
            vocabularies[column] = counter
        elif column not in vocabularies:
            continue
        counter = vocabularies[column]
        values = items[column].fillna("").astype(str) if column in items.columns else pd.Series([""] * len(items))
        blocks.append(counter.transform(values))
        names += [f"{column[:-1]}:{label}" for label in counter.get_feature_names_out()]
    columns = _text_columns(items)
    text = (items[columns].fillna("").astype(str).agg(" ".join, axis=1) if columns
            else pd.Series([""] * len(items), index=items.index))
    if fitting and max_words <= 0:
        vectorizer = None
    elif fitting:
        # Words shared by >= 2 items and at most half of them, the most frequent max_words: a bounded vocabulary.
        vectorizer = CountVectorizer(token_pattern=_WORD_PATTERN, stop_words="english", binary=True, min_df=2,
                                     max_df=0.5, max_features=int(max_words))
        try:
            vectorizer.fit(text)
        except ValueError:  # no word shared by two items (e.g. titles are raw ids)
            vectorizer = None
    if vectorizer is not None:
        blocks.append(vectorizer.transform(text))
        names += [f"word:{word}" for word in vectorizer.get_feature_names_out()]
    matrix = (sp.hstack(blocks, format="csr", dtype=np.float32) if blocks
              else sp.csr_matrix((len(items), 0), dtype=np.float32))
    return matrix, names, vocabularies, vectorizer


def _user_metadata(users: pd.DataFrame, max_values: int = MAX_LABELS) -> tuple[sp.csr_matrix, list[str]]:
    """Demographics as one-hot features: categorical values shared by >= 2 users, age in bands."""
    tokens: list[pd.Series] = []
    for column in users.columns:
        if column in _NOT_FEATURES:
            continue
        values = users[column]
        if column.lower() == "age":
            ages = pd.to_numeric(values, errors="coerce")
            bands = pd.cut(ages, AGE_EDGES, right=False, labels=AGE_LABELS).astype(object)
            tokens.append(bands.map(lambda band: f"age={band}" if isinstance(band, str) else None))
            continue
        if pd.api.types.is_numeric_dtype(values):
            numeric = pd.to_numeric(values, errors="coerce")
            if numeric.nunique() > 10:  # a continuous column: quartiles
                values = pd.qcut(numeric, 4, duplicates="drop").astype(str).where(numeric.notna())
        values = values.astype("string").str.strip()
        counts = values.value_counts()
        keep = set(counts[counts >= 2].index[:max_values])
        tokens.append(values.map(lambda v, c=column: f"{c}={v}" if v in keep else None, na_action="ignore"))
    if not tokens:
        return sp.csr_matrix((len(users), 0), dtype=np.float32), []
    table = pd.concat(tokens, axis=1).to_numpy(dtype=object)
    rows, cols = np.nonzero(pd.notna(table))
    labels = table[rows, cols]
    names, codes = np.unique(labels.astype(str), return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, codes)), shape=(len(users), len(names)))
    return matrix, [str(name) for name in names]


def build_features(dataset: Dataset, feedback: sp.csr_matrix, *, item_metadata: bool = True,
                   user_metadata: bool = True, max_words: int = 0) -> HybridFeatures:
    """Item and user feature matrices of ``dataset`` for LightFM (identity + metadata, rows sum to 1).

    Parameters
    ----------
    dataset : Dataset
        Its ``items`` (genres and tags pipe-separated, every other text column
        read as words) and ``users`` (categorical columns, ``age`` in bands)
        frames; ground-truth columns of the synthetic sample are never read.
    feedback : csr_matrix
        The users x items training feedback: identity features are given to
        the users and items that have some.
    item_metadata, user_metadata : bool
        False: identity features only on that side.
    max_words : int
        Vocabulary bound for title/description words: the most frequent
        ones shared by at least two items and by at most half of them
        (0: no words). Genres and tags are bounded by ``MAX_LABELS``.
    """
    item_identity = _identity(np.diff(feedback.tocsc().indptr) > 0)
    user_identity = _identity(np.diff(feedback.indptr) > 0)
    if item_metadata:
        item_meta, item_names, vocabularies, vectorizer = _item_metadata(dataset.items, None, None, max_words)
    else:
        item_meta, item_names, vocabularies, vectorizer = sp.csr_matrix((dataset.n_items, 0)), [], {}, None
    user_meta, user_names = _user_metadata(dataset.users) if user_metadata else (
        sp.csr_matrix((dataset.n_users, 0)), [])
    item_ids = dataset.item_ids[np.diff(feedback.tocsc().indptr) > 0]
    user_ids = dataset.user_ids[np.diff(feedback.indptr) > 0]
    return HybridFeatures(
        item_matrix=_normalise_rows(sp.hstack([item_identity, item_meta], format="csr", dtype=np.float32)),
        user_matrix=_normalise_rows(sp.hstack([user_identity, user_meta], format="csr", dtype=np.float32)),
        item_feature_names=[f"item:{i}" for i in item_ids] + item_names,
        user_feature_names=[f"user:{u}" for u in user_ids] + user_names,
        item_metadata_features=len(item_names),
        user_metadata_features=len(user_names),
        _label_vocabularies=vocabularies,
        _word_vectorizer=vectorizer,
        _item_identities=item_identity.shape[1],
    )


def _import_lightfm():
    try:
        from lightfm import LightFM
    except ImportError as error:
        raise RecsysError(f"The lightfm model needs the lightfm package, which is not installed: {LIGHTFM_INSTALL}."
                          ) from error
    return LightFM


class LightFMHybrid(FactorVectors, RankingModel):
    """LightFM with item features (genres, tags, words) and user features (demographics)."""

    name = "lightfm"
    family = "Hybrid (feedback + metadata)"
    uses_features = True
    has_item_embeddings = True
    has_user_embeddings = True
    folds_in = True
    reports_progress = True
    explains_by = "factors"
    formula = (
        r"p_u = \sum_{f \in F_u} w_{uf}\, e^U_f,\quad q_i = \sum_{g \in F_i} w_{ig}\, e^I_g,\qquad "
        r"\hat r_{ui} = p_u^\top q_i + b_u + b_i,\quad F_i = \{\text{item } i,\ \text{its genres, tags, words}\}"
    )
    explanation = (
        "Each item is the sum of vectors of what describes it: its own identity, its genres, its tags and the "
        "words of its title and description; each person the sum of their identity and demographic vectors "
        "(gender, occupation, age band...). The vectors are learnt from who took what, with the WARP loss "
        "(push a taken item above the first wrongly-ranked untaken one) or BPR. Because a genre's vector is "
        "shared, an item nobody has rated yet still has a place: the sum of its genre, tag and word vectors. "
        "That is how new items and people without history are served."
    )
    params = (
        Param("no_components", "Length of the feature vectors.", kind="int", low=2, high=512, step=8,
              search=(16, 128), log=True),
        Param("loss", "'warp' pushes a taken item above the first untaken one found ranked higher (best for top-K); "
              "'bpr' compares it with one random untaken item.",
              kind="choice", choices=("warp", "bpr"), labels={"warp": "WARP", "bpr": "BPR"}, search=("warp", "bpr")),
        Param("learning_rate", "Initial step size (adagrad).", low=0.0001, high=1.0, step=0.005, fmt="%.4f",
              search=(0.01, 0.2), log=True),
        Param("item_alpha", "L2 penalty on the item feature vectors.", low=0.0, high=0.1, step=1e-6, fmt="%.2e",
              search=(1e-8, 1e-4), log=True),
        Param("user_alpha", "L2 penalty on the user feature vectors.", low=0.0, high=0.1, step=1e-6, fmt="%.2e",
              search=(1e-8, 1e-4), log=True),
        Param("epochs", "Passes over the interactions.", kind="int", low=1, high=500, step=5, search=(5, 80)),
        Param("use_item_features", "Learn from the items' genres, tags and words (off: identity only, "
              "plain matrix factorisation on the item side).", kind="bool", search=(True, False)),
        Param("use_user_features", "Learn from the users' demographics (off: identity only).", kind="bool",
              search=(True, False)),
        # Off by default: on the bundled sample words add 3-10x fit time and lower NDCG@10 (0.349 with the 50
        # most frequent words vs 0.385 without; genres already carry the taste), but they place new items
        # described by text only and may help where genres are coarse.
        Param("max_words", "Words of titles and descriptions kept as item features: the most frequent ones shared "
              "by two or more items (0: no words). Each word an item has costs training time.", kind="int",
              low=0, high=20000, step=50, search=(0, 1000)),
        *feedback_params(),
        weighting_param(),
    )

    def __init__(self, no_components: int = 64, loss: str = "warp", learning_rate: float = 0.05,
                 item_alpha: float = 0.0, user_alpha: float = 0.0, epochs: int = 20,
                 use_item_features: bool = True, use_user_features: bool = True, max_words: int = 0,
                 feedback: str = "all",
                 threshold: float | None = None, weighting: str = "auto", random_state: int = 0):
        self.no_components = no_components
        self.loss = loss
        self.learning_rate = learning_rate
        self.item_alpha = item_alpha
        self.user_alpha = user_alpha
        self.epochs = epochs
        self.use_item_features = use_item_features
        self.use_user_features = use_user_features
        self.max_words = max_words
        self.feedback = feedback
        self.threshold = threshold
        self.weighting = weighting
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def lightfm_model(self):
        """An unfitted ``lightfm.LightFM`` with this model's hyper-parameters."""
        LightFM = _import_lightfm()
        if self.loss not in ("warp", "bpr"):
            raise ValueError(f"loss must be 'warp' or 'bpr', not {self.loss!r}.")
        return LightFM(no_components=int(self.no_components), loss=self.loss,
                       learning_rate=float(self.learning_rate), item_alpha=float(self.item_alpha),
                       user_alpha=float(self.user_alpha), random_state=self.seed)

    def _fit_matrix(self, feedback):
        model = self.lightfm_model()
        dataset = self.dataset_
        self.features_ = build_features(dataset, feedback, item_metadata=bool(self.use_item_features),
                                        user_metadata=bool(self.use_user_features), max_words=int(self.max_words))
        interactions = feedback.tocoo()
        # WARP/BPR read which cells are positive; a weighting other than 0/1 reaches them as each interaction's
        # sample weight, scaled to mean 1 so the learning rate keeps its meaning.
        weights = None
        if interactions.nnz and not np.all(interactions.data == interactions.data[0]):
            weights = sp.coo_matrix((interactions.data / interactions.data.mean(), (interactions.row, interactions.col)),
                                    shape=interactions.shape)
        epochs = int(self.epochs)
        for epoch in range(epochs):
            # One thread: lightfm's threads update shared vectors without locks, so only one is reproducible.
            model.fit_partial(interactions, user_features=self.features_.user_matrix,
                              item_features=self.features_.item_matrix, sample_weight=weights, epochs=1,
                              num_threads=1)
            self._report((epoch + 1) / max(epochs, 1), f"epoch {epoch + 1} of {epochs}")
        self.model_ = model
        item_bias, item_repr = model.get_item_representations(self.features_.item_matrix)
        user_bias, user_repr = model.get_user_representations(self.features_.user_matrix)
        self.item_factors_ = np.asarray(item_repr, dtype=np.float64)
        self.item_bias_ = np.asarray(item_bias, dtype=np.float64)
        self.user_factors_ = np.asarray(user_repr, dtype=np.float64)
        self.user_bias_ = np.asarray(user_bias, dtype=np.float64)
        # A user is scored through their features when they have any (feedback or demographics).
        self.user_represented_ = np.diff(self.features_.user_matrix.indptr) > 0
        self.fallback_users_ = int((~self.user_represented_).sum())

    # --------------------------------------------------------------- scores
    def _score_users(self, user_idx):
        scores = self.user_factors_[user_idx] @ self.item_factors_.T
        scores += self.user_bias_[user_idx, None] + self.item_bias_[None, :]
        missing = ~self.user_represented_[user_idx]
        if missing.any():  # neither feedback nor demographics: the most popular items
            scores[missing] = self.popularity_ / max(self.popularity_.max(), 1.0)
        return scores

    def fallback_users(self, user_idx):
        """Users served the most popular items: neither training feedback nor demographics to go on."""
        self.check_fitted()
        return ~self.user_represented_[np.asarray(user_idx, dtype=np.int64)]

    def _score_rows(self, rows, user_idx):
        if user_idx is not None:
            return self._score_users(np.asarray(user_idx))
        return np.vstack([self._fold_in_row(rows[r]) for r in range(rows.shape[0])])

    def _fold_in_row(self, row):
        """A new user's vector: the mean of the representations of the items they took.

        No refit and no sampling (deterministic): the dot product then measures
        how close an item is to the user's items on average, plus the item's
        bias. The mean of several item vectors is shorter than a trained user
        vector, so it is rescaled to the median length of the trained users'
        vectors, which keeps the balance between taste and item bias the
        training found.
        """
        items = row.indices
        if len(items) == 0:
            return self.popularity_ / max(self.popularity_.max(), 1.0)
        vector = self.item_factors_[items].mean(axis=0)
        length = np.linalg.norm(vector)
        if length > 0:
            vector *= self._typical_user_length() / length
        return self.item_factors_ @ vector + self.item_bias_

    def _typical_user_length(self) -> float:
        lengths = np.linalg.norm(self.user_factors_[self.user_represented_], axis=1)
        return float(np.median(lengths)) if len(lengths) else 1.0

    # ----------------------------------------------------------- new items
    def new_item_scores(self, metadata: Mapping[str, object]) -> np.ndarray:
        """Scores of a new item, described only by its metadata, for every training user.

        Parameters
        ----------
        metadata : mapping
            Item columns as in the items file: ``genres`` and ``tags``
            (pipe-separated), ``title``, ``description`` or any other text
            column. Labels and words outside the fitted vocabulary are ignored.

        Returns
        -------
        ndarray of shape (n_users,)
            Unclipped scores; NaN for users the model cannot represent.

        Raises
        ------
        ColdStartError
            When the model has no item metadata features, or none of the given
            metadata is in their vocabulary.
        """
        dataset = self.check_fitted()
        features = self.features_
        if features.item_metadata_features == 0:
            if not self.use_item_features:
                reason = "it was fitted with use_item_features=False (identity features only)"
            else:
                reason = (f"the data set '{dataset.name}' has no item metadata it could learn from: no genres, "
                          "tags or title/description words shared by two or more items")
            raise ColdStartError(f"lightfm cannot place a new item by its metadata: {reason}. Load an items file "
                                 "with genres, tags or descriptions and fit again.")
        frame = pd.DataFrame([{str(key): ("" if value is None else (
            "|".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)))
            for key, value in metadata.items()}])
        row = features.item_rows(frame)
        if row.nnz == 0:
            known = ", ".join(sorted({name.split(":")[0] for name in features.item_feature_names[
                features._item_identities:]}))
            raise ColdStartError("None of the new item's genres, tags or words is in the vocabulary lightfm "
                                 f"learnt ({known}); describe it with genres, tags or words from the catalogue.")
        bias, vector = self.model_.get_item_representations(row)
        scores = self.user_factors_ @ np.asarray(vector[0], dtype=np.float64) + float(bias[0]) + self.user_bias_
        return np.where(self.user_represented_, scores, np.nan)

    # ----------------------------------------------------------- embeddings
    # item/user embeddings and similar items: FactorVectors (learnt representations, their cosine).


__all__ = ["LightFMHybrid", "HybridFeatures", "build_features", "LIGHTFM_INSTALL"]
