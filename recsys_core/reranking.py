"""Re-rankers: change the order of a model's candidate list for diversity, calibration or the long tail.

A re-ranker never changes a model's scores. It takes each user's top-``N`` candidates (default 100, by the
model's own scores, the user's training items left out), their scores and what it needs about the items
and the user, and picks the ``K`` items shown. Each registered re-ranker (:data:`RERANKERS`) has a formula,
a plain explanation, and one strength parameter with a *neutral* value at which the list is the model's
own top ``K``:

* **mmr** -- maximal marginal relevance (Carbonell & Goldstein 1998), :math:`\\lambda = 1` neutral;
* **calibrated** -- calibrated recommendations (Steck 2018), :math:`\\lambda = 0` neutral;
* **popularity** -- popularity penalty, score / popularity^β, :math:`\\beta = 0` neutral;
* **xquad** -- xQuAD over head and tail items (Abdollahpouri et al. 2019), :math:`\\lambda = 0` neutral.

The relevance the re-rankers mix with their other term is the model's score normalised per user over the
candidates, :math:`\\hat s = (s - \\min) / (\\max - \\min)` (1 for every candidate when they tie), so one
λ means the same for a model scoring in stars and one scoring in dot products. Candidates the model could
not score (NaN) get :math:`\\hat s = 0`. Ties in the greedy choices go to the earlier candidate, i.e. the
model's own order.

All re-rankers are greedy over ``K`` steps, vectorised over blocks of users (numpy arrays of shape
users x candidates x ...); :class:`ReRankedModel` wraps a fitted model so that the evaluation runner, the
CLI and the pages rank with the re-ranked lists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .dataset import Dataset
from .errors import RerankError
from .evaluation import metrics as M
from .models.base import RANK_DECIMALS, Recommender
from .vectors import unit_rows

#: Candidates per user taken from the model before re-ranking.
N_CANDIDATES = 100
#: Item-similarity sources of MMR: name -> how it is called in a sentence.
SIMILARITIES = {
    "genres": "genres and tags (cosine of the multi-hot vectors)",
    "vectors": "the model's own item vectors (cosine)",
    "co-ratings": "co-ratings (cosine of the items' columns of the training matrix)",
}
#: At most this many distinct candidate items per block of users (their similarity matrix is |C| x |C|).
_BLOCK_ITEMS = 3000
_BLOCK_USERS = 1024
#: At most this many cells (users x candidates x genres, or x candidates) per block's working arrays.
_BLOCK_CELLS = 16_000_000


# ------------------------------------------------------------------ candidates
@dataclass
class Candidates:
    """Each user's candidate list, best first by the model's score, and the user's history.

    ``items`` (n_users, n) int, -1 for an empty slot; ``scores`` (n_users, n) the model's scores (NaN where
    it could not score, or for an empty slot); ``history`` (n_users, n_items) sparse: the items each user
    liked (:func:`recsys_core.evaluation.metrics.liked_items`: what calibration and xQuAD read).
    """

    items: np.ndarray
    scores: np.ndarray
    history: sp.csr_matrix

    def __len__(self) -> int:
        return len(self.items)

    def rows(self, positions: np.ndarray) -> "Candidates":
        return Candidates(self.items[positions], self.scores[positions], self.history[positions])


def candidates(model: Recommender, user_idx: np.ndarray, n: int = N_CANDIDATES) -> Candidates:
    """The model's top-``n`` for each user (training items left out) with their scores: the same order as
    ``model.recommend_indices(user_idx, n)``."""
    dataset = model.check_fitted()
    user_idx = np.asarray(user_idx, dtype=np.int64)
    items = np.full((len(user_idx), n), -1, dtype=np.int64)
    scores = np.full((len(user_idx), n), np.nan)
    for positions, block in model.iter_score_blocks(user_idx):
        rows = dataset.matrix[user_idx[positions]]
        exclude = np.zeros(block.shape, dtype=bool)
        exclude[np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)), rows.indices] = True
        top = model.top_n(block, n, exclude)
        items[positions] = top
        scores[positions] = np.where(top >= 0, np.take_along_axis(block, np.maximum(top, 0), axis=1), np.nan)
    return Candidates(items, scores, M.liked_items(dataset, user_idx))


def candidates_from_scores(model: Recommender, scores: np.ndarray, history_items: np.ndarray,
                           n: int = N_CANDIDATES, on_rating_scale: bool = True) -> Candidates:
    """Candidates of one new user (cold start) from a score row over the catalogue and the items they gave.

    A rating model's predictions are clipped to the rating scale first (as its own ranking does), unless the
    row is not on that scale (``on_rating_scale=False``: e.g. the personal part, prediction minus item bias,
    whose clipping would tie every negative part at the bottom of the scale).
    """
    dataset = model.check_fitted()
    scores = np.asarray(scores, dtype=np.float64).reshape(1, -1)
    history_items = np.unique(np.asarray(history_items, dtype=np.int64))
    exclude = np.zeros(scores.shape, dtype=bool)
    exclude[0, history_items] = True
    if model.predicts_ratings and not dataset.implicit and on_rating_scale:
        scores = np.clip(scores, *dataset.rating_scale)
    scores = np.where(np.isfinite(scores), scores, np.nan)
    top = model.top_n(scores, n, exclude)
    history = sp.csr_matrix((np.ones(len(history_items)), (np.zeros(len(history_items), dtype=np.int64),
                                                           history_items)), shape=(1, dataset.n_items))
    return Candidates(top, np.where(top >= 0, np.take_along_axis(scores, np.maximum(top, 0), axis=1), np.nan),
                      history)


def normalised_relevance(scores: np.ndarray) -> np.ndarray:
    """Per row, min-max scaled scores in [0, 1] (all 1 when they tie; NaN -> 0)."""
    scores = np.round(np.asarray(scores, dtype=np.float64), RANK_DECIMALS)
    finite = np.isfinite(scores)
    low = np.where(finite, scores, np.inf).min(axis=1, keepdims=True)
    high = np.where(finite, scores, -np.inf).max(axis=1, keepdims=True)
    span = high - low
    with np.errstate(invalid="ignore"):
        scaled = np.where(span > 0, (scores - low) / np.where(span > 0, span, 1.0), 1.0)
    return np.where(finite, scaled, 0.0)


# ------------------------------------------------------------------ what the re-rankers read
def item_genre_matrix(dataset: Dataset, with_tags: bool = False) -> sp.csr_matrix | None:
    """Multi-hot item x genre matrix from the ``genres`` column (plus ``tags`` with ``with_tags``); None if empty.

    Calibration uses genres (tags when there are no genres); MMR's "genres" similarity uses both.
    """
    columns = [c for c in ("genres", "tags") if c in dataset.items.columns]
    if not with_tags and "genres" in columns:
        columns = ["genres"]
    parts = []
    for column in columns:
        values = dataset.items[column].fillna("").astype(str).str.strip()
        if values.str.len().any():
            dummies = values.str.get_dummies(sep="|")
            dummies = dummies.loc[:, [c for c in dummies.columns if c.strip()]]
            if dummies.shape[1]:
                parts.append(sp.csr_matrix(dummies.to_numpy(dtype=np.float64)))
    if not parts:
        return None
    return sp.hstack(parts, format="csr")


class ReRankContext:
    """What the re-rankers read about the items besides the candidates; built once per fitted model.

    Parameters
    ----------
    model : Recommender
        A fitted model (its training data gives popularity, genres and co-ratings; its item vectors, if
        it has them, serve MMR's "vectors" similarity).
    similarity : {"genres", "vectors", "co-ratings"}
        MMR's item similarity.
    """

    def __init__(self, model: Recommender, similarity: str = "genres") -> None:
        if similarity not in SIMILARITIES:
            raise RerankError(f"Unknown item similarity {similarity!r}; choose one of {', '.join(SIMILARITIES)}.")
        self.model = model
        self.dataset = model.check_fitted()
        self.similarity = similarity
        self._features: np.ndarray | sp.csr_matrix | None = None
        self._distribution: np.ndarray | None = None
        self._head: np.ndarray | None = None

    # popularity
    @property
    def popularity(self) -> np.ndarray:
        return self.dataset.item_counts.astype(np.float64)

    @property
    def head(self) -> np.ndarray:
        if self._head is None:
            self._head = M.head_items(self.dataset.item_counts)
        return self._head

    # genres
    def genre_distribution(self) -> np.ndarray:
        """``p(g | i)`` of every item (genres, or tags when there are none); RerankError without either."""
        if self._distribution is None:
            genres = item_genre_matrix(self.dataset)
            if genres is None:
                raise RerankError(
                    f"Calibrated re-ranking matches the genre mix of a list to the user's history, but the items "
                    f"of {self.dataset.name} have no genres or tags (no 'genres' or 'tags' column in the item "
                    "file, or only empty ones). Load an item file with genres or tags, or re-rank for diversity "
                    "with MMR using the model's item vectors or co-ratings as item similarity.")
            self._distribution = M.genre_distributions(genres)
        return self._distribution

    # MMR similarity
    def _unit_features(self) -> np.ndarray | sp.csr_matrix:
        if self._features is not None:
            return self._features
        if self.similarity == "genres":
            genres = item_genre_matrix(self.dataset, with_tags=True)
            if genres is None:
                vectors = "the model's item vectors ('vectors')" if self.model.can("item_embeddings") else None
                offer = f"{vectors} or co-ratings ('co-ratings')" if vectors else "co-ratings ('co-ratings')"
                raise RerankError(
                    f"MMR by genres needs genres or tags, but the items of {self.dataset.name} have neither "
                    f"(no 'genres' or 'tags' column in the item file). Use {offer} as the item similarity.")
            features = unit_rows(genres)
        elif self.similarity == "vectors":
            vectors = self.model.item_embeddings() if self.model.can("item_embeddings") else None
            if vectors is None:
                raise RerankError(
                    f"{self.model.name} has no item vectors to measure how similar two items are. Use genres "
                    "('genres', where the items have them) or co-ratings ('co-ratings') as the item similarity.")
            features = unit_rows(vectors.toarray() if sp.issparse(vectors) else np.asarray(vectors, dtype=np.float64))
        else:
            columns = sp.csr_matrix(self.dataset.matrix.T, dtype=np.float64)
            columns.data = np.ones_like(columns.data)
            features = unit_rows(columns)
        self._features = sp.csr_matrix(features) if sp.issparse(features) else np.asarray(features, dtype=np.float64)
        return self._features

    def pairwise(self, items: np.ndarray) -> np.ndarray:
        """``sim[u, a, b]``: similarity of candidates ``a`` and ``b`` of user ``u`` (0 for empty slots)."""
        features = self._unit_features()
        distinct, inverse = np.unique(np.maximum(items, 0), return_inverse=True)
        inverse = inverse.reshape(items.shape)
        block = features[distinct]
        gram = block @ block.T
        gram = gram.toarray() if sp.issparse(gram) else np.asarray(gram)
        gram = gram.astype(np.float32)
        sim = gram[inverse[:, :, None], inverse[:, None, :]]
        empty = items < 0
        sim[empty] = 0.0
        sim[np.broadcast_to(empty[:, None, :], sim.shape)] = 0.0
        return sim


# ------------------------------------------------------------------ the re-rankers
def _greedy_pick(objective: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Per row, the first available position with the largest objective (-1 when none is available)."""
    masked = np.where(available, objective, -np.inf)
    picked = np.argmax(masked, axis=1)
    return np.where(available.any(axis=1), picked, -1)


def _take(cands: Candidates, positions: np.ndarray) -> np.ndarray:
    return np.where(positions >= 0, np.take_along_axis(cands.items, np.maximum(positions, 0), axis=1), -1)


def mmr(cands: Candidates, context: ReRankContext, lam: float, k: int) -> np.ndarray:
    """MMR: each next item maximises ``λ ŝ(i) - (1 - λ) max_{j chosen} sim(i, j)`` (the first: ``λ ŝ(i)``)."""
    rel = normalised_relevance(cands.scores)
    sim = context.pairwise(cands.items)
    n_users, n = cands.items.shape
    available = cands.items >= 0
    closest = np.zeros((n_users, n))
    chosen = np.full((n_users, k), -1, dtype=np.int64)
    rows = np.arange(n_users)
    for step in range(min(k, n)):
        picked = _greedy_pick(lam * rel - (1.0 - lam) * closest, available)
        ok = picked >= 0
        chosen[:, step] = picked
        available[rows[ok], picked[ok]] = False
        closest[ok] = np.maximum(closest[ok], sim[rows[ok], picked[ok], :])
    return chosen


def calibrated(cands: Candidates, context: ReRankContext, lam: float, k: int) -> np.ndarray:
    """Calibrated (Steck 2018): each next item maximises ``(1 - λ) ŝ(i) - λ C_KL(p, q~(chosen ∪ {i}))``."""
    distribution = context.genre_distribution()
    rel = normalised_relevance(cands.scores)
    p = M.history_genre_distribution(cands.history, distribution)  # (users, genres)
    genres = distribution[np.maximum(cands.items, 0)] * (cands.items >= 0)[..., None]  # (users, n, genres)
    n_users, n = cands.items.shape
    available = cands.items >= 0
    summed = np.zeros_like(p)
    chosen = np.full((n_users, k), -1, dtype=np.int64)
    rows = np.arange(n_users)
    for step in range(min(k, n)):
        trial = summed[:, None, :] + genres
        mass = trial.sum(axis=2, keepdims=True)
        q = np.divide(trial, mass, out=np.zeros_like(trial), where=mass > 0)
        kl = M.kl_divergence(p[:, None, :], q)
        picked = _greedy_pick((1.0 - lam) * rel - lam * kl, available)
        ok = picked >= 0
        chosen[:, step] = picked
        available[rows[ok], picked[ok]] = False
        summed[ok] += genres[rows[ok], picked[ok]]
    return chosen


def popularity_penalty(cands: Candidates, context: ReRankContext, beta: float, k: int) -> np.ndarray:
    """Popularity penalty: rank by ``ŝ(i) / (1 + φ(i))^β`` (φ: training interactions of the item)."""
    rel = normalised_relevance(cands.scores)
    penalty = (1.0 + context.popularity[np.maximum(cands.items, 0)]) ** float(beta)
    adjusted = np.where(cands.items >= 0, rel / penalty, -np.inf)
    order = np.argsort(-adjusted, axis=1, kind="stable")[:, :k]
    return np.where(np.take_along_axis(cands.items, order, axis=1) >= 0, order, -1)


def xquad(cands: Candidates, context: ReRankContext, lam: float, k: int) -> np.ndarray:
    """Smooth xQuAD over head/tail: ``(1 - λ) ŝ(i) + λ Σ_c P(c|u) [i ∈ c] (1 - |chosen ∩ c| / |chosen|)``."""
    rel = normalised_relevance(cands.scores)
    head = context.head
    rows_history = sp.csr_matrix(cands.history)
    lengths = np.diff(rows_history.indptr)
    in_head = np.add.reduceat(head[rows_history.indices].astype(np.float64), rows_history.indptr[:-1]) \
        if len(rows_history.indices) else np.zeros(len(lengths))
    in_head = np.where(lengths > 0, in_head, 0.0)
    p_head = np.where(lengths > 0, in_head / np.maximum(lengths, 1), 0.5)
    is_head = head[np.maximum(cands.items, 0)]
    n_users, n = cands.items.shape
    available = cands.items >= 0
    head_chosen = np.zeros(n_users)
    chosen = np.full((n_users, k), -1, dtype=np.int64)
    rows = np.arange(n_users)
    for step in range(min(k, n)):
        share_head = head_chosen / step if step else np.zeros(n_users)
        cover_head = 1.0 - share_head if step else np.ones(n_users)
        cover_tail = share_head if step else np.ones(n_users)  # 1 - share of tail items chosen
        bonus = np.where(is_head, (p_head * cover_head)[:, None], ((1.0 - p_head) * cover_tail)[:, None])
        picked = _greedy_pick((1.0 - lam) * rel + lam * bonus, available)
        ok = picked >= 0
        chosen[:, step] = picked
        available[rows[ok], picked[ok]] = False
        head_chosen[ok] += is_head[rows[ok], picked[ok]]
    return chosen


@dataclass(frozen=True)
class ReRanker:
    """A registered re-ranker: its strength parameter, where it is neutral, its formula and plain words."""

    name: str
    label: str
    parameter: str
    neutral: float
    default: float
    low: float
    high: float
    formula: str
    explanation: str
    function: Callable[[Candidates, ReRankContext, float, int], np.ndarray] = field(repr=False)
    #: Which beyond-accuracy metric it is meant to move (the trade-off chart's default).
    moves: str = "diversity"

    def check(self, value: float) -> float:
        value = float(value)
        if not (self.low <= value <= self.high) or not np.isfinite(value):
            raise RerankError(f"{self.label}: {self.parameter} must lie between {self.low:g} and {self.high:g}; "
                              f"got {value:g}.")
        return value

    def sweep(self, n: int = 11) -> np.ndarray:
        """``n`` values from the neutral end to the other (the trade-off curve's grid)."""
        other = self.low if self.neutral == self.high else self.high
        return np.linspace(self.neutral, other, n)


RERANKERS: dict[str, ReRanker] = {r.name: r for r in (
    ReRanker("mmr", "MMR (diversity)", "λ", 1.0, 0.7, 0.0, 1.0,
             r"i^* = \arg\max_{i \notin S} \Big[\lambda\, \hat s(u,i) - (1-\lambda) \max_{j \in S} \mathrm{sim}(i,j)\Big]",
             "Maximal marginal relevance (Carbonell & Goldstein 1998). The list is built one item at a time: each "
             "next item is the one with the best mix of the model's (normalised) score and *difference* from the "
             "items already chosen. λ = 1 keeps the model's order; lower λ trades relevance for variety. "
             "Similarity comes from genres/tags, the model's item vectors or co-ratings.",
             mmr, "diversity"),
    ReRanker("calibrated", "Calibrated (genre mix)", "λ", 0.0, 0.5, 0.0, 1.0,
             r"I^* = \arg\max_{I, |I|=K} (1-\lambda) \sum_{i \in I} \hat s(u,i) - \lambda\, C_{KL}(p, \tilde q(I))",
             "Calibrated recommendations (Steck 2018). Someone who watched 70% romance and 30% action should get "
             "roughly that mix, not ten romances. Items are added greedily; each step weighs the model's score "
             "against the KL divergence between the genre mix of the history p(g|u) and that of the list q(g|u) "
             "(smoothed with α = 0.01). λ = 0 keeps the model's order.",
             calibrated, "calibration_kl"),
    ReRanker("popularity", "Popularity penalty (long tail)", "β", 0.0, 0.5, 0.0, 2.0,
             r"\tilde s(u,i) = \hat s(u,i) \,/\, (1 + \phi(i))^{\beta}",
             "Each candidate's normalised score is divided by its popularity φ (training interactions) to the "
             "power β, so that popular items must earn their place. β = 0 keeps the model's order; β = 1 "
             "divides by popularity itself.",
             popularity_penalty, "long_tail_share"),
    ReRanker("xquad", "xQuAD (head/tail)", "λ", 0.0, 0.5, 0.0, 1.0,
             r"i^* = \arg\max_{i \notin S} (1-\lambda)\hat s(u,i) + \lambda \sum_{c \in \{H,T\}} P(c|u)\,"
             r"\mathbb{1}[i \in c] \Big(1 - \tfrac{|S \cap c|}{|S|}\Big)",
             "xQuAD for popularity bias (Abdollahpouri et al. 2019, smooth version). Items are short head (the "
             "most popular ones holding 80% of the interactions) or long tail; the list covers both in the "
             "proportion P(c|u) of the user's history, rewarding an item of a kind the list has few of so far. "
             "λ = 0 keeps the model's order.",
             xquad, "long_tail_share"),
)}


def get(name: str) -> ReRanker:
    try:
        return RERANKERS[name]
    except KeyError:
        raise RerankError(f"Unknown re-ranker {name!r}; available: {', '.join(RERANKERS)}.") from None


def rerank(cands: Candidates, context: ReRankContext, reranker: str | ReRanker, value: float, k: int = 10
           ) -> np.ndarray:
    """Re-ranked top-``k`` item indices, ``(len(cands), k)``, -1 padded; vectorised over blocks of users."""
    spec = reranker if isinstance(reranker, ReRanker) else get(reranker)
    value = spec.check(value)
    out = np.full((len(cands), k), -1, dtype=np.int64)
    width = max(1, cands.items.shape[1])
    per_user = width * width if spec.name == "mmr" else width
    if spec.name == "calibrated":
        per_user = width * context.genre_distribution().shape[1]  # (users, candidates, genres) arrays
    users_per_block = int(min(_BLOCK_USERS, max(1, _BLOCK_CELLS // per_user)))
    start = 0
    while start < len(cands):
        stop = min(len(cands), start + users_per_block)
        # Bound the distinct candidates of a block: their similarity matrix is |C| x |C|.
        while stop - start > 1 and spec.name == "mmr" and \
                len(np.unique(cands.items[start:stop])) > _BLOCK_ITEMS:
            stop = start + max(1, (stop - start) // 2)
        block = cands.rows(np.arange(start, stop))
        positions = spec.function(block, context, value, k)
        out[start:stop] = _take(block, positions)
        start = stop
    return out


def describe(reranker: str, value: float, similarity: str | None = None) -> str:
    """The label a re-ranked variant gets in tables: ``mmr(0.3)``, ``mmr(0.3, co-ratings)``."""
    spec = get(reranker)
    extra = f", {similarity}" if spec.name == "mmr" and similarity and similarity != "genres" else ""
    return f"{spec.name}({float(value):g}{extra})"


def parse_specs(text: str) -> list[tuple[str, float, str]]:
    """``calibrated:0.5,mmr:0.3,mmr:0.3:vectors`` -> [(name, value, similarity), ...] (the CLI's ``--rerank``)."""
    specs = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        pieces = [piece.strip() for piece in part.split(":")]
        name = pieces[0]
        spec = get(name)
        try:
            value = float(pieces[1]) if len(pieces) > 1 and pieces[1] else spec.default
        except ValueError:
            raise RerankError(f"--rerank takes name:value pairs such as calibrated:0.5,mmr:0.3; {part!r} has "
                              f"{pieces[1]!r} where a number belongs.") from None
        similarity = pieces[2] if len(pieces) > 2 else "genres"
        if similarity not in SIMILARITIES:
            raise RerankError(f"--rerank {part!r}: unknown similarity {similarity!r}; choose one of "
                              f"{', '.join(SIMILARITIES)}.")
        specs.append((spec.name, spec.check(value), similarity))
    if not specs:
        raise RerankError("--rerank needs at least one name:value, e.g. calibrated:0.5,mmr:0.3.")
    return specs


# ------------------------------------------------------------------ a re-ranked model
class ReRankedModel(Recommender):
    """A fitted model whose lists are re-ranked: ranks like any model, predicts no ratings of its own.

    ``recommend_indices`` and ``recommend`` take the base model's top ``n_candidates`` and re-rank them;
    the scores are the base model's, unchanged. It declares no rating predictions, so the runner gives it
    ranking and beyond-accuracy rows only (never the base's RMSE under another name).
    """

    name = "reranked"
    family = "Re-ranked"
    predicts_ratings = False

    def __init__(self, base: Recommender | None = None, reranker: str = "mmr", value: float = 0.5,
                 similarity: str = "genres", n_candidates: int = N_CANDIDATES) -> None:
        self.base = base
        self.reranker = reranker
        self.value = value
        self.similarity = similarity
        self.n_candidates = n_candidates

    @classmethod
    def wrap(cls, fitted: Recommender, reranker: str, value: float, similarity: str = "genres",
             n_candidates: int = N_CANDIDATES) -> "ReRankedModel":
        """Re-rank an already fitted model (no refit): what the runner and the pages use."""
        model = cls(fitted, reranker, value, similarity, n_candidates)
        get(reranker).check(value)
        model._adopt()
        return model

    def _adopt(self) -> None:
        self.dataset_ = self.base.check_fitted()
        self.tie_break_ = self.base.tie_break_
        self.context_ = getattr(self.base, "context_", None)
        self.notes_ = list(getattr(self.base, "notes_", []))
        self.rerank_context_ = ReRankContext(self.base, self.similarity)

    def _fit(self, dataset: Dataset) -> None:
        if self.base is None:
            raise RerankError("A re-ranked model needs the model whose lists it re-ranks.")
        self.base.fit(dataset, progress=self._progress, validation=self._validation, context=self.context_)
        self._adopt()

    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        return self.base.score_users(user_idx)  # the base's scores, unchanged: only the order of lists differs

    @property
    def label_suffix(self) -> str:
        return "+" + describe(self.reranker, self.value, self.similarity)

    def recommend_indices(self, user_idx: np.ndarray, n: int = 10, exclude_seen: bool = True) -> np.ndarray:
        self.check_fitted()
        if not exclude_seen:
            raise RerankError("Re-ranked lists always leave out the user's training items.")
        cands = candidates(self.base, user_idx, max(int(self.n_candidates), n))
        return rerank(cands, self.rerank_context_, self.reranker, self.value, n)

    def recommend(self, user: object, n: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        dataset = self.check_fitted()
        cands = candidates(self.base, np.array([dataset.user_index(user)]), max(int(self.n_candidates), n))
        return self.frame(cands, n)

    def frame(self, cands: Candidates, n: int = 10) -> pd.DataFrame:
        """A one-user re-ranked list as a person reads it, with the rank the model itself gave each item."""
        items = rerank(cands, self.rerank_context_, self.reranker, self.value, n)[0]
        items = items[items >= 0]
        order = {int(item): position + 1 for position, item in enumerate(cands.items[0]) if item >= 0}
        score = dict(zip(cands.items[0].tolist(), cands.scores[0].tolist()))
        frame = self.base.items_frame(items, np.array([score[int(i)] for i in items]))
        frame.insert(1, "model rank", [order[int(i)] for i in items])
        return frame

    def fallback_users(self, user_idx: np.ndarray) -> np.ndarray:
        return self.base.fallback_users(user_idx)

    def explain(self, top, rated, rated_values, scores):
        return self.base.explain(top, rated, rated_values, scores)


def rerank_new_user(model: Recommender, scores: np.ndarray, history_items: np.ndarray, reranker: str,
                    value: float, n: int = 10, similarity: str = "genres", on_rating_scale: bool = True) -> pd.DataFrame:
    """A cold-start user's list re-ranked: ``scores`` is the model's score row for them (e.g. a fold-in);
    ``on_rating_scale=False`` for a row that is not a predicted rating (the personal part)."""
    wrapped = ReRankedModel.wrap(model, reranker, value, similarity)
    frame = wrapped.frame(candidates_from_scores(model, scores, history_items, on_rating_scale=on_rating_scale), n)
    liked = np.asarray(history_items, dtype=np.int64)
    high = model.check_fitted().rating_scale[1]
    frame["reason"] = model.explain(model.dataset_.item_indices(frame["item"]), liked, np.full(len(liked), high),
                                    np.asarray(scores, dtype=np.float64))
    return frame


def calibration_change(model: Recommender, user_idx: int, reranked: np.ndarray, n: int = 10) -> tuple[float, float]:
    """Calibration KL (Steck) of a user's own top-``n`` and of a re-ranked list: what calibration bought them.

    NaN when the items have no genres or the user liked no item with one.
    """
    dataset = model.check_fitted()
    genres = item_genre_matrix(dataset)
    if genres is None:
        return float("nan"), float("nan")
    own = model.recommend_indices(np.array([user_idx]), n)
    history = M.liked_items(dataset, np.array([user_idx]))
    lists = np.full((2, max(n, len(reranked))), -1, dtype=np.int64)
    lists[0, :own.shape[1]] = own[0]
    lists[1, :len(reranked)] = reranked
    before, after = M.calibration_kl(lists, sp.vstack([history, history]).tocsr(), genres)
    return float(before), float(after)
