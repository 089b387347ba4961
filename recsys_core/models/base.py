"""The contract every model follows: score, then rank.

A subclass implements ``_fit(dataset)`` and ``_score_users(user_idx)``, which
returns an ``(len(user_idx), n_items)`` float array of *unclipped* estimates
with NaN where the model cannot score (Surprise's ``PredictionImpossible``).
Everything else -- id translation, rating prediction with Surprise's clipping
and fall-back, excluding seen items, top-n with a seeded tie-break, similar
items, cold-start fold-in -- is shared here, so a model gets recommend,
evaluation and cold start once it can score.

Ranking ties: Surprise clips predictions to the rating scale, so memory-based
and co-clustering models put many items at exactly the top score. Ties are
broken by a seeded random permutation of the items (``tie_break_``), never by
raw id (MovieLens ids correlate with popularity); scores are rounded to
``RANK_DECIMALS`` first so summation-order noise does not decide a tie. Items a model cannot score
rank after every scored item.
"""
from __future__ import annotations

import abc
import functools
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

import numpy as np
import pandas as pd

from ..dataset import Dataset
from ..errors import ColdStartError, ModelBusyError, ModelDivergedError, ModelMemoryError, NotFittedError
from ..system import DEFAULT_CONTEXT, FitContext
from . import memory
from ._topn import top_rows
from .params import Param


@dataclass(frozen=True)
class FitEvent:
    """One progress report of a fit: how far it has come and, for models trained per epoch, how it goes.

    Attributes
    ----------
    fraction : float
        0..1 of the fit done.
    message : str
        What is happening, for a person ("epoch 3 of 20, loss 0.412").
    epoch, n_epochs : int or None
        The epoch just finished (1-based) and the planned number, for models trained per epoch.
    loss : float or None
        Mean training loss of that epoch.
    validation : float or None
        The validation metric after that epoch (NDCG@10 on the validation part), larger is better;
        what early stopping and a pruning tuner read.
    """

    fraction: float
    message: str
    epoch: int | None = None
    n_epochs: int | None = None
    loss: float | None = None
    validation: float | None = None


#: ``progress(event)``: called with a :class:`FitEvent` during long fits (implicit's callback carries
#: ``(iteration, elapsed, loss)`` the same way: enough for a bar, a loss curve and a pruning tuner).
FitProgress = Callable[[FitEvent], None]


class _ClassOrInstanceMethod:
    """A method that receives the class when called on the class, the instance when called on one.

    ``Model.capabilities()`` says what the model may do with some setting (the Train form reads it before
    anything is built); ``model.capabilities()`` says what this instance, with its parameters and after its
    fit, really does -- so no caller has to probe.
    """

    def __init__(self, function):
        self.function = function
        functools.update_wrapper(self, function)

    def __get__(self, instance, owner):
        return functools.partial(self.function, owner if instance is None else instance)

#: What a model can do; layers above ask these, never a model's name.
CAPABILITIES = (
    "predicts_ratings",     # estimates ratings on the data's scale (RMSE/MAE apply)
    "item_embeddings",      # item_embeddings() returns one vector per item
    "user_embeddings",      # user_embeddings() returns one vector per user
    "similar_items",        # similar_items() / item_similarity_rows() answer
    "folds_in",             # fold_in() scores a new user from a few ratings without refitting
    "reads_text",           # text_vector() places free text in the item space
    "uses_features",        # learns from item/user metadata (genres, tags, demographics)
    "reports_progress",     # calls the fit progress callback during long fits
    "trains_per_epoch",     # trained in epochs: reads the validation part (early stopping), keeps a loss history
    "serves_new_items",     # scores an item that had no training interaction from its features alone
    "new_user_features",    # demographic_scores() places a new user from their attributes alone
    "forgets_users",        # forget_users() removes users from the fitted state without a full refit
    "uses_order",           # reads the order of each history (next-item models): needs a split by time,
                            # and fold_in_sequence() answers an ordered list
)

#: Scores are rounded to this many decimals before ranking, so that two
#: estimates equal up to floating-point summation order (4.999999999999999
#: and 5.0) tie, and the seeded tie-break -- not rounding noise -- orders them.
RANK_DECIMALS = 10

#: Items scored per block when a model builds score rows for many users.
_BLOCK_CELLS = 4_000_000


class Recommender(abc.ABC):
    """Base class of every model (scikit-learn conventions).

    The constructor stores hyper-parameters only; ``fit`` returns ``self``;
    learnt state lives in attributes ending in ``_``. ``_fit`` and
    ``_score_users`` are abstract: a class missing one cannot be instantiated.
    """

    #: Registry name used by the CLI and the dashboard (``svd``, ``knn-basic`` ...).
    name: ClassVar[str] = ""
    #: Short label of the family, for the dashboard.
    family: ClassVar[str] = ""
    #: False for models that only rank (e.g. most popular): no RMSE/MAE for them.
    predicts_ratings: ClassVar[bool] = True
    #: One paragraph and a LaTeX formula for the dashboard's "How it works".
    formula: ClassVar[str] = ""
    explanation: ClassVar[str] = ""
    #: The main hyper-parameters: form, CLI and tuner all read this one list.
    params: ClassVar[tuple[Param, ...]] = ()
    #: Parameter name -> what it does (derived from ``params``).
    parameter_help: ClassVar[dict[str, str]] = {}
    #: Capabilities beyond ``predicts_ratings`` (see ``CAPABILITIES``).
    has_item_embeddings: ClassVar[bool] = False
    has_user_embeddings: ClassVar[bool] = False
    has_similar_items: ClassVar[bool] = False
    folds_in: ClassVar[bool] = False
    reads_text: ClassVar[bool] = False
    uses_features: ClassVar[bool] = False
    reports_progress: ClassVar[bool] = False
    trains_per_epoch: ClassVar[bool] = False
    serves_new_items: ClassVar[bool] = False
    new_user_features: ClassVar[bool] = False
    forgets_users: ClassVar[bool] = False
    #: Reads the order of each user's history (session-based / next-item models such as GRU4Rec and SASRec).
    uses_order: ClassVar[bool] = False
    #: With ``forgets_users``: True when the update equals a refit without the users (to 1e-6 on the scores);
    #: False when it is a partial update (ALS re-solves its item side only) whose result a refit does not reproduce.
    forgets_exactly: ClassVar[bool] = True
    #: How forgetting a user works for this model, in plain words (shown beside "incremental" or "refit").
    forget_explanation: ClassVar[str] = "refitted on the data without the user (no incremental update)."
    #: How a recommendation is explained: "neighbours" (the rated items that led to it),
    #: "text" (words or meaning shared with the query), "popularity", "factors" or "" (no reason).
    explains_by: ClassVar[str] = ""
    #: True when a fold-in from liked items alone leaves the taste direction undetermined (explicit matrix
    #: factorisation: all-top ratings mostly raise the user's bias), so text cold start also gives disliked examples.
    fold_in_needs_contrast: ClassVar[bool] = False
    #: Shown before a fit that takes noticeably long the first time (e.g. loading a language model).
    fit_note: ClassVar[str] = ""
    #: True when the scores for a new user do not depend on what they rated (global mean, popular).
    personalises: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "params" in cls.__dict__:
            cls.parameter_help = {param.name: param.help for param in cls.params}

    @_ClassOrInstanceMethod
    def capabilities(self_or_cls) -> dict[str, bool]:
        """Capability name -> whether the model has it (names in ``CAPABILITIES``).

        On the class: what the model can do with some setting (the Train form, before anything is built).
        On an instance: what this instance does with its parameters (and, once fitted, its data) -- an
        item-based k-NN has item similarity rows and no user ones; a two-tower model without user
        features still folds in. Subclasses refine the instance answer in :meth:`_instance_capabilities`.
        """
        declared = {
            "predicts_ratings": self_or_cls.predicts_ratings,
            "item_embeddings": self_or_cls.has_item_embeddings,
            "user_embeddings": self_or_cls.has_user_embeddings,
            "similar_items": self_or_cls.has_similar_items or self_or_cls.has_item_embeddings,
            "folds_in": self_or_cls.folds_in,
            "reads_text": self_or_cls.reads_text,
            "uses_features": self_or_cls.uses_features,
            "reports_progress": self_or_cls.reports_progress,
            "trains_per_epoch": self_or_cls.trains_per_epoch,
            "serves_new_items": self_or_cls.serves_new_items,
            "new_user_features": self_or_cls.new_user_features,
            "forgets_users": self_or_cls.forgets_users,
            "uses_order": self_or_cls.uses_order,
        }
        if isinstance(self_or_cls, Recommender):
            declared.update(self_or_cls._instance_capabilities())
        return declared

    def _instance_capabilities(self) -> dict[str, bool]:
        """Capabilities that differ, for this instance, from the class's declaration (default: none)."""
        return {}

    def can(self, capability: str) -> bool:
        """Whether this instance has ``capability`` (a name in ``CAPABILITIES``)."""
        if capability not in CAPABILITIES:
            raise KeyError(f"Unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}.")
        return bool(self.capabilities()[capability])

    @classmethod
    def param(cls, name: str) -> Param:
        for param in cls.params:
            if param.name == name:
                return param
        raise KeyError(f"{cls.name} has no parameter {name!r}.")

    random_state: int = 0

    # ------------------------------------------------------------ estimator
    def get_params(self) -> dict[str, Any]:
        import inspect

        signature = inspect.signature(type(self).__init__)
        return {
            name: getattr(self, name)
            for name in signature.parameters
            if name != "self" and hasattr(self, name)
        }

    def set_params(self, **params: Any) -> "Recommender":
        """Set hyper-parameters (unknown names raise ``ValueError``); returns ``self``."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{self.name or type(self).__name__} has no parameter {key!r}; "
                                 f"valid: {', '.join(valid)}.")
            setattr(self, key, value)
        return self

    def clone(self) -> "Recommender":
        """A new, unfitted model with the same hyper-parameters."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        params = ", ".join(f"{key}={value!r}" for key, value in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def fit(self, dataset: Dataset, progress: FitProgress | None = None, *, validation: Dataset | None = None,
            context: FitContext | None = None) -> "Recommender":
        """Learn from ``dataset``; returns ``self``.

        Parameters
        ----------
        dataset : Dataset
            The training part: what the model learns from and what counts as "seen" when ranking.
        progress : callable(FitEvent), optional
            Called during long fits by models that declare ``reports_progress``; others ignore it.
            Models trained per epoch report each epoch's loss and validation score. An exception raised
            by the callback (a tuner pruning the trial) stops the fit and propagates.
        validation : Dataset, optional
            Interactions of ``dataset`` held out for early stopping (same users, items and indices; a
            subset of its interactions, see :func:`recsys_core.evaluation.splits.validation_holdout`).
            Models trained per epoch leave them out of training and keep the epoch that scores best on
            them; every other model ignores it and learns from all of ``dataset``. Never the test part.
        context : FitContext, optional
            Device, threads and an optional seed for this fit -- not hyper-parameters (they are not
            exported as the model's settings).
        """
        from .feedback import check_feedback_kind  # a rating model given counts says so instead of scoring nonsense

        check_feedback_kind(self, dataset)
        self.check_memory(dataset)
        self.dataset_ = dataset
        self.context_ = context or DEFAULT_CONTEXT
        rng = np.random.default_rng([self.seed, 7919])
        # tie_break_[item] is the item's place among equally scored items.
        self.tie_break_ = np.argsort(rng.permutation(dataset.n_items)).astype(np.int64)
        self._progress = progress
        self._validation = validation
        self.notes_: list[str] = []
        self._fit_running = True  # forget_users() refuses meanwhile (a half-fitted model has nothing to forget from)
        try:
            self._fit(dataset)
        finally:
            self._progress = None
            self._validation = None
            self._fit_running = False
        self._check_finite()
        return self

    def fit_notes(self) -> list[str]:
        """What the last fit had to do without, in plain words (no features found, no timestamps ...)."""
        return list(getattr(self, "notes_", []))

    @property
    def seed(self) -> int:
        """The seed of the current fit: the context's when it gives one, else ``random_state``."""
        context = getattr(self, "context_", None)
        if context is not None and context.seed is not None:
            return int(context.seed)
        return int(self.random_state or 0)

    @property
    def validation_data(self) -> Dataset | None:
        """The validation part given to the running ``fit`` (None outside a fit or when none was given)."""
        return getattr(self, "_validation", None)

    def __getstate__(self) -> dict[str, Any]:
        # The progress callback and the validation part belong to one fit, not to the fitted model
        # (a callback may be a closure over a page); stored sessions pickle models.
        state = dict(self.__dict__)
        state.pop("_progress", None)
        state.pop("_validation", None)
        state.pop("_fit_running", None)
        return state

    # ------------------------------------------------------------- forgetting
    def forget_users(self, dataset: Dataset, removed: np.ndarray) -> "Recommender":
        """A fitted model that no longer holds the users at ``removed``; ``self`` is never changed.

        Parameters
        ----------
        dataset : Dataset
            This model's training data without those users (``recsys_core.data.without_users(model.dataset_,
            ids)``): the remaining users in order, the same item vocabulary.
        removed : ndarray of int
            The removed users' indices in the *current* training data.

        Models that can (``forgets_users``) update a copy of their learnt state (see
        :attr:`forget_explanation`); the others refit a clone on ``dataset`` with the same parameters and
        seed. The copy is only returned once complete, so a failure leaves the caller's model as it was.
        """
        import copy

        current = self.check_fitted()
        if getattr(self, "_fit_running", False):
            raise ModelBusyError(f"{self.name} is being fitted right now; forget the user once the fit has ended.")
        removed = np.unique(np.asarray(removed, dtype=np.int64))
        if dataset.n_items != current.n_items or dataset.n_users != current.n_users - len(removed):
            raise ValueError("forget_users needs the training data without exactly the removed users "
                             "(recsys_core.data.without_users).")
        if not self.can("forgets_users"):
            return self.clone().fit(dataset, context=getattr(self, "context_", None))
        # A shallow copy: _forget replaces learnt attributes, never changes them in place, so the copy shares
        # them with this model until replaced (no second n_items^2 matrix for EASE) and this model stays as it was.
        model = copy.copy(self)
        keep = np.ones(current.n_users, dtype=bool)
        keep[removed] = False
        model._forget(dataset, removed, keep)
        model.dataset_ = dataset
        model._check_finite()
        return model

    def _forget(self, dataset: Dataset, removed: np.ndarray, keep: np.ndarray) -> None:
        """Update this (copied) model's state for ``dataset`` = its data without users ``removed``.

        ``keep`` is the boolean mask of the remaining users over the old user indices. Only called for
        models declaring ``forgets_users``; ``dataset_`` is replaced by the caller afterwards. ``self`` is a
        shallow copy of the fitted model: *replace* attributes (and copy a sub-object before changing it),
        never modify an array in place, or the original model changes too.
        """
        raise NotImplementedError(f"{self.name} declares forgets_users but does not implement _forget.")

    #: Learnt arrays that must be finite after a fit (a diverged SGD leaves NaN or inf in them).
    finite_state: ClassVar[tuple[str, ...]] = ()

    def _check_finite(self) -> None:
        """Refuse a diverged fit: a model whose parameters are NaN/inf would rank garbage silently."""
        for name in self.finite_state:
            values = getattr(self, name, None)
            if values is None:
                continue
            values = np.atleast_1d(np.asarray(values))
            if values.dtype.kind not in "fc":
                values = values.astype(np.float64)
            # Row blocks: a float32 items x items matrix (EASE on 17.6k items) is checked without a float64
            # copy or a full-size mask.
            flat = values.reshape(values.shape[0], -1) if values.ndim > 1 else values.reshape(-1, 1)
            bad = sum(int((~np.isfinite(flat[start:start + 1024])).sum()) for start in range(0, len(flat), 1024))
            if bad:
                raise ModelDivergedError(
                    f"{self.name} diverged: {bad:,} values of {name.rstrip('_')} are not finite numbers (NaN or "
                    f"infinite). Lower the learning rate or raise the regularisation, then train again.")

    # --------------------------------------------------------------- memory
    def memory_estimate(self, n_users: int, n_items: int, n_ratings: int) -> int:
        """Bytes the fit and bulk scoring need at most (largest structures); subclasses refine it.

        Default: the rating matrix in a few copies plus the score blocks of :meth:`iter_score_blocks`.
        """
        return 4 * memory.CSR_BYTES * n_ratings + 3 * 8 * _BLOCK_CELLS + 16 * (n_users + n_items)

    def fit_size(self, dataset: Dataset) -> tuple[int, int, int]:
        """(users, items, interactions) this model's fit works on: the data set's, unless a parameter prunes it."""
        return dataset.n_users, dataset.n_items, dataset.n_ratings

    def time_estimate(self, n_users: int, n_items: int, n_ratings: int, threads: int = 1) -> float | None:
        """Seconds the fit should take here, for models whose cost is known in advance (None: no estimate)."""
        return None

    def check_memory(self, dataset: Dataset) -> int:
        """Refuse (before allocating) a fit whose estimate exceeds what is free; returns the estimate."""
        n_users, n_items, n_ratings = self.fit_size(dataset)
        need = int(self.memory_estimate(n_users, n_items, n_ratings))
        free = memory.available_memory_bytes()
        if not memory.fits(need, free):
            raise ModelMemoryError(
                f"{self.name or type(self).__name__} would need about {memory.gib(need)} for {n_users:,} "
                f"users x {n_items:,} items ({n_ratings:,} ratings), but only {memory.gib(free)} "
                f"is free. {self.memory_advice}"
            )
        return need

    #: What to do when the estimate does not fit (shown in the refusal).
    memory_advice: ClassVar[str] = "Use a smaller sample of the data, or a model with a smaller footprint."

    def _report(self, fraction: float, message: str, **epoch: Any) -> None:
        """Forward fit progress to the callback given to ``fit`` (if any); ``epoch``: FitEvent's other fields."""
        if getattr(self, "_progress", None) is not None:
            self._progress(FitEvent(float(fraction), message, **epoch))

    @abc.abstractmethod
    def _fit(self, dataset: Dataset) -> None:
        """Learn from ``dataset`` (checks, memory, id maps and tie-break are done by :meth:`fit`)."""

    @abc.abstractmethod
    def _score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """``(len(user_idx), n_items)`` unclipped scores, NaN where the model cannot score."""

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "dataset_")

    def check_fitted(self) -> Dataset:
        """The training data set of a fitted model; :class:`NotFittedError` before ``fit``."""
        if not self.is_fitted:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(dataset) first.")
        return self.dataset_

    # --------------------------------------------------------------- scores
    def score_users(self, user_idx: np.ndarray) -> np.ndarray:
        """Clipped scores of all items for the given user indices (NaN: cannot score)."""
        dataset = self.check_fitted()
        user_idx = np.asarray(user_idx, dtype=np.int64)
        scores = np.asarray(self._score_users(user_idx), dtype=np.float64)
        # Implicit data has the "scale" (1, 1): clipping to it would tie every item.
        return np.clip(scores, *dataset.rating_scale) if self.predicts_ratings and not dataset.implicit else scores

    def iter_score_blocks(self, user_idx: np.ndarray):
        """Yield ``(positions, scores)`` for blocks of users, bounded in memory."""
        dataset = self.check_fitted()
        user_idx = np.asarray(user_idx, dtype=np.int64)
        block = max(1, _BLOCK_CELLS // max(1, dataset.n_items))
        for start in range(0, len(user_idx), block):
            positions = np.arange(start, min(start + block, len(user_idx)))
            yield positions, self.score_users(user_idx[positions])

    def predict_indices(self, user_idx: np.ndarray, item_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rating estimates for (user, item) index pairs, as Surprise's ``predict`` gives them.

        Returns ``(estimate, impossible)``. Where the model cannot score a
        pair (an item or user without training ratings, no usable neighbour)
        the estimate is the training global mean -- Surprise's documented
        fall-back -- and ``impossible`` is True so callers can count it.
        Estimates are clipped to the rating scale.
        """
        dataset = self.check_fitted()
        user_idx = np.asarray(user_idx, dtype=np.int64)
        item_idx = np.asarray(item_idx, dtype=np.int64)
        raw = self._predict_pairs(user_idx, item_idx)
        impossible = np.isnan(raw)
        estimate = np.where(impossible, dataset.global_mean, raw)
        return np.clip(estimate, *dataset.rating_scale), impossible

    def _predict_pairs(self, user_idx: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
        """Unclipped estimates of pairs; default: score each distinct user's row once."""
        out = np.full(len(user_idx), np.nan)
        users, inverse = np.unique(user_idx, return_inverse=True)
        for positions, scores in self.iter_score_blocks(users):
            for local, position in enumerate(positions):
                mask = inverse == position
                out[mask] = scores[local, item_idx[mask]]
        return out

    def predict(self, user: object, item: object) -> float:
        """Predicted rating of a raw user id for a raw item id.

        Raises :class:`~recsys_core.errors.UnknownIdError` for ids that are
        not in the data set at all; for ids present but without training
        ratings the documented fall-back of :meth:`predict_indices` applies.
        """
        dataset = self.check_fitted()
        estimate, _ = self.predict_indices(
            np.array([dataset.user_index(user)]), np.array([dataset.item_index(item)])
        )
        return float(estimate[0])

    # -------------------------------------------------------------- ranking
    def top_n(self, scores: np.ndarray, n: int, exclude: np.ndarray | None = None) -> np.ndarray:
        """Indices of the ``n`` best items per row of ``scores``.

        ``exclude`` is a boolean mask of the same shape (items never to show,
        e.g. seen ones). Ties are broken by ``tie_break_``; items without a
        score (NaN) come after every scored item; excluded items never appear
        (-1 pads a row with fewer than ``n`` candidates).
        """
        return rank_top_n(np.round(scores, RANK_DECIMALS), n, self.tie_break_, exclude)

    def recommend_indices(self, user_idx: np.ndarray, n: int = 10, exclude_seen: bool = True) -> np.ndarray:
        """Top-``n`` item indices for many users, ``(len(user_idx), n)``, -1 padded."""
        dataset = self.check_fitted()
        user_idx = np.asarray(user_idx, dtype=np.int64)
        out = np.full((len(user_idx), n), -1, dtype=np.int64)
        for positions, scores in self.iter_score_blocks(user_idx):
            exclude = None
            if exclude_seen:
                # From the sparsity pattern, not the values: a rating of 0 is still seen.
                rows = dataset.matrix[user_idx[positions]]
                exclude = np.zeros(scores.shape, dtype=bool)
                exclude[np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr)), rows.indices] = True
            out[positions] = self.top_n(scores, n, exclude)
        return out

    def recommend(self, user: object, n: int = 10, exclude_seen: bool = True) -> pd.DataFrame:
        """Ranked recommendations for a raw user id: rank, item, title, score."""
        dataset = self.check_fitted()
        user_idx = dataset.user_index(user)
        scores = self.score_users(np.array([user_idx]))
        exclude = None
        if exclude_seen:
            exclude = np.zeros(scores.shape, dtype=bool)
            row = dataset.matrix[user_idx]
            exclude[0, row.indices] = True
        items = self.top_n(scores, n, exclude)[0]
        items = items[items >= 0]
        return self.items_frame(items, scores[0, items])

    def items_frame(self, items: np.ndarray, scores: np.ndarray, score_name: str = "score") -> pd.DataFrame:
        """Item indices with their scores as a person reads them: rank, raw id, title, score, popularity, genres."""
        dataset = self.check_fitted()
        frame = pd.DataFrame(
            {
                "rank": np.arange(1, len(items) + 1),
                "item": dataset.item_ids[items].astype(str),
                "title": dataset.titles(items),
                score_name: scores,
                "popularity": dataset.item_counts[items],
            }
        )
        if "genres" in dataset.items.columns:
            frame["genres"] = dataset.items["genres"].to_numpy()[items]
        return frame

    # ----------------------------------------------------------- embeddings
    def item_embeddings(self) -> np.ndarray | None:
        """One vector per item index, where the model learns them (else None)."""
        return None

    def user_embeddings(self) -> np.ndarray | None:
        """One vector per user index, where the model learns them (else None)."""
        return None

    def item_similarity_rows(self, item_idx: np.ndarray) -> np.ndarray | None:
        """Similarity of the given items to every item; default: cosine of item embeddings."""
        vectors = self.item_embeddings()
        if vectors is None:
            return None
        return cosine_rows(vectors, np.asarray(item_idx))

    #: Collaborative similarities are noisy for items with few raters: shrink them by evidence for display.
    #: True for every model learnt from interactions (k-NN, factors, neural: a factor vector of an item two
    #: people rated is barely trained, and its cosine is noise); content models, whose similarity is text, say False.
    similarity_needs_support: ClassVar[bool] = True
    #: lambda of the evidence weight n / (n + lambda) applied to such similarities (n: common raters).
    SUPPORT_SHRINKAGE: ClassVar[float] = 10.0

    def co_raters(self, item_idx: int) -> np.ndarray:
        """Number of training users who rated both ``item_idx`` and each item (the evidence of a similarity)."""
        dataset = self.check_fitted()
        columns = dataset.matrix.tocsc()
        raters = columns[:, [item_idx]].indices
        return np.bincount(dataset.matrix[raters].indices, minlength=dataset.n_items)

    def similar_items(self, item: object, n: int = 10, shrinkage: float | None = None) -> pd.DataFrame:
        """Items most similar to a raw item id in this model's space, with the evidence behind each.

        For models whose similarity comes from co-ratings (``similarity_needs_support``) the similarity is
        weighted by evidence, ``sim * n / (n + shrinkage)`` with ``n`` the number of common raters
        (default ``SUPPORT_SHRINKAGE``; 0 turns it off), so an item rated by two people is not "identical" to
        everything they rated. The frame's ``support`` column gives ``n`` for every model. The Embeddings and
        Explore pages both call this, so they agree.
        """
        dataset = self.check_fitted()
        item_idx = dataset.item_index(item)
        rows = self.item_similarity_rows(np.array([item_idx]))
        if rows is None:
            raise NotImplementedError(f"{self.name} has no item space to compare items in.")
        rows = np.where(np.isfinite(rows), np.asarray(rows, dtype=np.float64), np.nan)
        support = self.co_raters(item_idx)
        if self.similarity_needs_support:
            weight = self.SUPPORT_SHRINKAGE if shrinkage is None else float(shrinkage)
            rows = rows * (support / (support + weight))[None, :] if weight > 0 else rows
        exclude = np.zeros_like(rows, dtype=bool)
        exclude[0, item_idx] = True
        best = rank_top_n(rows, n, self.tie_break_, exclude)[0]
        best = best[best >= 0]
        frame = self.items_frame(best, rows[0, best], score_name="similarity")
        frame.insert(frame.columns.get_loc("similarity") + 1, "support", support[best])
        return frame

    # ---------------------------------------------------------- explanations
    def explain(self, top: np.ndarray, rated: np.ndarray, rated_values: np.ndarray, scores: np.ndarray) -> list[str]:
        """One reason per recommended item for a user who rated ``rated``.

        Default: the rated item closest to each recommendation in the model's item space, with the real
        similarity; where none is positively similar, the model's score. Models with another logic
        (popularity, clusters, biases) override this.
        """
        reasons = [self._score_reason(scores[i]) for i in top]
        if not len(rated):
            return reasons
        try:
            similarity = self.item_similarity_rows(np.asarray(rated))
        except (NotImplementedError, ColdStartError):
            similarity = None
        if similarity is None:
            return reasons
        similarity = np.nan_to_num(np.asarray(similarity, dtype=np.float64)[:, top], nan=0.0)
        closest = np.argmax(similarity, axis=0)
        titles = self.dataset_.titles(np.asarray(rated)[closest])
        for position, (title, value) in enumerate(zip(titles, similarity[closest, np.arange(len(top))])):
            if value > 0.005:
                reasons[position] = f"because you rated “{title}” (similarity {value:.2f})"
        return reasons

    def _score_reason(self, score: float) -> str:
        if self.predicts_ratings:
            low, high = self.dataset_.rating_scale
            return f"predicted rating {float(np.clip(score, low, high)):.2f}"
        return f"score {score:.3g}"

    def fallback_users(self, user_idx: np.ndarray) -> np.ndarray:
        """True for users this model serves by its fall-back (default: no training ratings at all)."""
        dataset = self.check_fitted()
        return dataset.user_counts[np.asarray(user_idx, dtype=np.int64)] == 0

    def cannot_personalise(self, item_idx: np.ndarray, ratings: np.ndarray) -> str | None:
        """Why this model's list for a new user would not depend on what they gave, or None when it does."""
        if not self.personalises:
            return f"{self.name} gives every new user the same list: what they rated only removes those items."
        return None

    # ----------------------------------------------------------- cold start
    def demographic_scores(self, demographics: Mapping[str, object]) -> np.ndarray:
        """Unclipped scores of every item for a new user known only by attributes (``new_user_features``).

        Models that learn from user features override this; others raise :class:`ColdStartError` (cold start
        then falls back to the training users with the same attributes).
        """
        raise ColdStartError(f"{self.name} does not read user attributes.")

    def fold_in(self, item_idx: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        """Unclipped scores of every item for a new user who rated only ``item_idx``.

        Models that can take a new user without refitting override this;
        others raise :class:`ColdStartError` saying why.
        """
        raise ColdStartError(f"{self.name} cannot take a new user without refitting.")

    def fold_in_with_support(self, item_idx: np.ndarray, ratings: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`fold_in` plus, where the model has it, the evidence behind each score.

        Neighbour models return the summed similarity of the neighbours used:
        with only top ratings given, every reachable item is predicted at the
        top of the scale, and the evidence is what tells them apart.
        """
        return self.fold_in(item_idx, ratings), None

    def predicts_ratings_on(self, dataset: Dataset) -> bool:
        """Whether this model, fitted on ``dataset``, would predict ratings (models whose task follows the data,
        such as fm with ``task="auto"``, rank implicit data); read before fitting to refuse what cannot fit."""
        return bool(self.predicts_ratings)

    def item_biases(self) -> np.ndarray | None:
        """Each item's learnt bias (how much above the mean everybody rates it), or None when the model has none.

        Models that predict mean + user bias + item bias + a personal part return theirs, so cold start can
        rank a new user by the personal part alone (:func:`recsys_core.cold_start.personal_scores`).
        """
        return None


from ..vectors import cosine_rows  # noqa: E402,F401 -- the one home of cosine normalisation; re-exported


class FactorVectors:
    """Mixin of factor models: the learnt ``item_factors_`` / ``user_factors_`` are their embeddings.

    Similar items then come from the base class's default, the cosine of the item embeddings.
    """

    has_item_embeddings = True
    has_user_embeddings = True

    def item_embeddings(self):
        return self.item_factors_

    def user_embeddings(self):
        return self.user_factors_


def rank_top_n(
    scores: np.ndarray, n: int, tie_break: np.ndarray, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Top-``n`` column indices per row: by score, then by ``tie_break`` (lower first).

    NaN scores rank after all finite scores; ``exclude`` removes entries.
    Rows with fewer than ``n`` candidates are padded with -1. One compiled
    pass per row (``_topn``); :func:`rank_top_n_numpy` is the same rule in numpy.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n_rows, n_cols = scores.shape
    n = int(n)
    take = min(n, n_cols)
    if take > 0 and n_rows > 0:
        compiled = top_rows(scores, take, tie_break, None if exclude is None else np.asarray(exclude, dtype=bool),
                            _UNSCORED)
        if compiled is not None:
            out = np.full((n_rows, n), -1, dtype=np.int64)
            out[:, :take] = compiled
            return out
    return rank_top_n_numpy(scores, n, tie_break, exclude)


def rank_top_n_numpy(
    scores: np.ndarray, n: int, tie_break: np.ndarray, exclude: np.ndarray | None = None
) -> np.ndarray:
    """:func:`rank_top_n` in numpy: the reference for the compiled kernel, and its fall-back."""
    scores = np.asarray(scores, dtype=np.float64)
    n_rows, n_cols = scores.shape
    n = int(n)
    out = np.full((n_rows, n), -1, dtype=np.int64)
    take = min(n, n_cols)
    if take <= 0 or n_rows == 0:
        return out
    tie_break = np.asarray(tie_break)
    key = -scores
    key[np.isnan(key)] = _UNSCORED  # after every scored item, still a candidate
    if exclude is not None:
        key[exclude] = np.inf  # never a candidate
    kth = np.partition(key, take - 1, axis=1)[:, take - 1 : take]
    valid = key < np.inf
    below = key < kth
    equal = (key == kth) & valid
    chosen = below | equal
    room = take - below.sum(axis=1)
    # Rows with more ties at the threshold than places left: the tie-break picks.
    for row in np.flatnonzero(equal.sum(axis=1) > room):
        tied = np.flatnonzero(equal[row])
        chosen[row, tied] = False
        chosen[row, tied[np.argsort(tie_break[tied], kind="stable")[: room[row]]]] = True
    counts = chosen.sum(axis=1)
    full = counts == take
    if full.any():
        columns = np.nonzero(chosen[full])[1].reshape(-1, take)
        within = np.lexsort((tie_break[columns], np.take_along_axis(key[full], columns, axis=1)))
        out[full, :take] = np.take_along_axis(columns, within, axis=1)
    for row in np.flatnonzero(~full):  # fewer candidates than n (most items excluded)
        columns = np.flatnonzero(chosen[row])
        out[row, : len(columns)] = columns[np.lexsort((tie_break[columns], key[row, columns]))]
    return out


#: Sort key of an item without a score: after every real score, before excluded items.
_UNSCORED = np.finfo(np.float64).max
