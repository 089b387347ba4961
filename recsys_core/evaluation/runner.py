"""Model x fold x metric: one tidy results table.

``evaluate`` fits every model on every split's train part and measures

* rating accuracy on the test pairs (``rmse``, ``mae``; Surprise's semantics:
  where a model cannot predict, the training global mean stands in and the
  share of such pairs is reported as ``fallback_rate``);
* ranking quality of full-catalogue top-K lists, each user's training items
  excluded (``precision``, ``recall``, ``ndcg``, ``map``, ``hit_rate``,
  ``mrr``), over the test users with at least one relevant test item;
* beyond accuracy (``coverage``, ``novelty``, ``diversity``,
  ``personalization``) and how popular the recommended items are
  (``median_popularity``: median training count of the top-K items);
  popularity bias, calibration and surprise (``arp``, ``long_tail_share``,
  ``gini``, ``aggregate_diversity``, ``calibration_kl``, ``serendipity``;
  see :mod:`recsys_core.evaluation.metrics`), also per activity bucket;
* with ``rerank=``, re-ranked variants of every model as rows of their own
  (:mod:`recsys_core.reranking`);
* ``fit_seconds`` and ``score_seconds``.

Rating and ranking metrics are also given per user-activity bucket (training
ratings per user, e.g. ``≤5``, ``6–20``, ``>20``); ``bucket`` is ``all``
otherwise. The result has columns ``model, fold, metric, k, bucket, value``.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..dataset import Dataset
from ..errors import RecsysError, SplitUnsuitableError
from ..models import Recommender, make_model
from ..models.base import FitEvent
from ..system import FitContext
from . import metrics as M
from .splits import Split, make_splits, validation_holdout

COLUMNS = ["model", "fold", "metric", "k", "bucket", "value"]
#: Columns of the per-user values (``evaluate(..., per_user=True)``), read by ``evaluation.significance``.
PER_USER_COLUMNS = ["model", "fold", "metric", "k", "user", "bucket", "value"]
#: Columns of the per-epoch training history (models trained per epoch).
HISTORY_COLUMNS = ["model", "fold", "epoch", "loss", "validation", "validation_metric", "best"]
# Views of the metric registry (recsys_core.evaluation.metrics.METRICS), kept for callers.
RANKING = M.metric_names("ranking")
RANKING_FUNCTIONS = M.RANKING_METRICS
#: Metric -> True when larger is better (for highlighting the best model).
HIGHER_IS_BETTER = {name: metric.higher_is_better for name, metric in M.METRICS.items()}

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ModelSpec:
    """A model to evaluate: registry name, hyper-parameters, and the label shown in results."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str | None = None

    @property
    def display(self) -> str:
        return self.label or self.name

    def build(self) -> Recommender:
        return make_model(self.name, **self.params)

    @classmethod
    def coerce(cls, spec: "ModelSpec | str") -> "ModelSpec":
        return spec if isinstance(spec, ModelSpec) else cls(spec)


@dataclass
class EvaluationResult:
    """The tidy table, the error of each model that failed, the last fold's fitted models, epoch histories."""

    table: pd.DataFrame
    errors: dict[str, str] = field(default_factory=dict)
    models: dict[str, Recommender] = field(default_factory=dict)
    #: One row per (model, fold, epoch) of the models trained per epoch (``HISTORY_COLUMNS``).
    history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=HISTORY_COLUMNS))
    #: Per user, fold, metric and K (``PER_USER_COLUMNS``): kept with ``evaluate(..., per_user=True)``.
    per_user: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PER_USER_COLUMNS))


def training_history(model: Recommender, label: str, fold: int = 0) -> pd.DataFrame:
    """A fitted model's per-epoch loss and validation score as tidy rows (empty for other models).

    ``best`` marks the epoch whose parameters the model kept (early stopping on the validation part).
    """
    rows = getattr(model, "history_", None) or []
    best = getattr(model, "best_epoch_", None)
    metric = getattr(model, "validation_metric_", "")
    return pd.DataFrame(
        [(label, fold, row["epoch"], row.get("loss"), row.get("validation"), metric, row["epoch"] == best)
         for row in rows], columns=HISTORY_COLUMNS)


def item_feature_vectors(dataset: Dataset) -> sp.csr_matrix | None:
    """Multi-hot genre vectors for intra-list diversity (None without genres)."""
    if "genres" not in dataset.items.columns:
        return None
    genres = dataset.items["genres"].fillna("").astype(str)
    if not genres.str.len().any():
        return None
    dummies = genres.str.get_dummies(sep="|")
    return sp.csr_matrix(dummies.to_numpy(dtype=np.float64))


def evaluate(
    dataset: Dataset,
    models: Iterable[ModelSpec | str],
    *,
    split: str = "kfold",
    split_params: dict[str, Any] | None = None,
    ks: Sequence[int] = (10,),
    bucket_edges: Sequence[int] = M.BUCKET_EDGES,
    relevance_threshold: float | None = None,
    progress: Progress | None = None,
    splits: list[Split] | None = None,
    context: FitContext | None = None,
    fit_events: Callable[[str, int, FitEvent], None] | None = None,
    per_user: bool = False,
    rerank: Sequence[tuple[str, float, str]] = (),
) -> EvaluationResult:
    """Evaluate every model on every fold; one failing model does not stop the others.

    Parameters
    ----------
    dataset : Dataset
    models : iterable of ModelSpec or registry names
    split : {"kfold", "random", "temporal", "leave-last-out"}
    split_params : dict, optional
        Passed to :func:`recsys_core.evaluation.splits.make_splits` (``n_folds``, ``seed``, ...).
    ks : sequence of int
        Cut-offs of the ranking metrics (empty: rating metrics only).
    bucket_edges : sequence of int
        Upper edges of the user-activity buckets (training ratings per user).
    relevance_threshold : float, optional
        Test ratings at or above it are relevant (default: 75% up the rating scale).
    progress : callable(fraction, message), optional
    splits : list of Split, optional
        Precomputed splits (otherwise made from ``split`` and ``split_params``).
    context : FitContext, optional
        Device and threads of every fit (not hyper-parameters; see :class:`recsys_core.system.FitContext`).
    fit_events : callable(model label, fold, FitEvent), optional
        Every fit's progress events (epoch, loss, validation score), e.g. for a live loss curve.
    per_user : bool
        Also keep every evaluated user's value of the rating and ranking metrics (``result.per_user``),
        the evidence the paired tests of :mod:`recsys_core.evaluation.significance` rest on.
    rerank : sequence of (re-ranker, value, similarity)
        Re-ranked variants of every model (:mod:`recsys_core.reranking`, e.g. ``("calibrated", 0.5,
        "genres")``): each is measured on the same fitted model and fold as its own row
        ``model+calibrated(0.5)``, with ranking and beyond-accuracy metrics from its re-ranked lists (no
        rating metrics: re-ranking predicts no ratings) and the base's fit time.
    """
    specs = [ModelSpec.coerce(spec) for spec in models]
    if splits is None:
        splits = make_splits(dataset, split, **(split_params or {}))
    frames, errors, fitted, histories = [], {}, {}, []
    user_frames: list[pd.DataFrame] = []
    total = max(1, len(specs) * len(splits))
    features = item_feature_vectors(dataset)
    for spec_number, spec in enumerate(specs):
        for fold_number, fold in enumerate(splits):
            if progress:
                done = spec_number * len(splits) + fold_number
                progress(done / total, f"{spec.display}: fold {fold.fold + 1} of {len(splits)}")
            fit_progress = None
            if progress or fit_events:
                done = spec_number * len(splits) + fold_number
                report = progress or (lambda fraction, message: None)

                def fit_progress(event: FitEvent, done: int = done, fold: Split = fold, spec: ModelSpec = spec) -> None:
                    report((done + 0.9 * min(max(event.fraction, 0.0), 1.0)) / total,
                             f"{spec.display}: fold {fold.fold + 1} of {len(splits)} · {event.message}")
                    if fit_events is not None:
                        fit_events(spec.display, fold.fold, event)
            try:
                model, frame = evaluate_fold(spec, fold, ks=ks, bucket_edges=bucket_edges,
                                             relevance_threshold=relevance_threshold, features=features,
                                             fit_progress=fit_progress if progress or fit_events else None,
                                             context=context, per_user=user_frames if per_user else None)
            except Exception as error:  # noqa: BLE001 -- reported per model, the others go on
                errors[spec.display] = _describe(error)
                frames = [f for f in frames if not (f["model"] == spec.display).any()]
                histories = [h for h in histories if not (h["model"] == spec.display).any()]
                user_frames = [u for u in user_frames if not (u["model"] == spec.display).any()]
                break
            frames.append(frame)
            histories.append(training_history(model, spec.display, fold.fold))
            fitted[spec.display] = model
            fit_seconds = float(frame.loc[frame["metric"] == "fit_seconds", "value"].iloc[0])
            for variant in rerank:
                if _variant_label(spec.display, variant) in errors:
                    continue  # failed on an earlier fold: no partial rows
                label, variant_frame, variant_model, error = _evaluate_variant(
                    model, spec.display, variant, fold, fit_seconds, ks, bucket_edges, relevance_threshold, features,
                    user_frames if per_user else None)
                if error is not None:
                    errors[label] = error
                    frames = [f for f in frames if not (f["model"] == label).any()]
                    user_frames = [u for u in user_frames if not (u["model"] == label).any()]
                else:
                    frames.append(variant_frame)
                    fitted[label] = variant_model
    if progress:
        progress(1.0, "done")
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    table = table[COLUMNS]
    table["k"] = table["k"].astype("Int64")
    history = [h for h in histories if len(h)]
    history = pd.concat(history, ignore_index=True) if history else pd.DataFrame(columns=HISTORY_COLUMNS)
    kept = [u for u in user_frames if len(u)]
    users = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=PER_USER_COLUMNS)
    users["k"] = users["k"].astype("Int64")
    return EvaluationResult(table=table, errors=errors, models=fitted, history=history, per_user=users)


def _variant_label(base_label: str, variant: tuple[str, float, str]) -> str:
    """``als+calibrated(0.5)``: a re-ranked variant's row label."""
    from ..reranking import describe

    return f"{base_label}+{describe(*variant)}"


def _evaluate_variant(model: Recommender, base_label: str, variant: tuple[str, float, str], fold: Split,
                      fit_seconds: float, ks, bucket_edges, relevance_threshold, features, per_user):
    """One re-ranked variant of a fitted model on one fold: (label, rows, model, error message or None)."""
    from ..reranking import ReRankedModel

    name, value, similarity = variant
    label = _variant_label(base_label, variant)
    rows: list[tuple] = []

    def add(metric: str, number: float, k: int | None = None, bucket: str = "all") -> None:
        rows.append((label, fold.fold, metric, k, bucket, float(number)))

    try:
        wrapped = ReRankedModel.wrap(model, name, value, similarity)
        add("fit_seconds", fit_seconds)
        keep = _UserValues(label, fold.fold) if per_user is not None else None
        add("score_seconds", _measure(wrapped, fold, ks, bucket_edges, relevance_threshold, features, add, keep))
    except Exception as error:  # noqa: BLE001 -- reported per variant, the others go on
        return label, None, None, _describe(error)
    if keep is not None:
        per_user.append(keep.frame())
    return label, pd.DataFrame(rows, columns=COLUMNS), wrapped, None


def _describe(error: Exception) -> str:
    if isinstance(error, (RecsysError, ValueError, NotImplementedError)):
        return f"{type(error).__name__}: {error}"
    # An unexpected failure: keep the last frame so the bug can be found, without a full dump.
    last = traceback.extract_tb(error.__traceback__)[-1]
    return f"{type(error).__name__}: {error} (at {last.filename.rsplit('/', 1)[-1]}:{last.lineno})"


def evaluate_fold(
    spec: ModelSpec,
    fold: Split,
    *,
    ks: Sequence[int] = (10,),
    bucket_edges: Sequence[int] = M.BUCKET_EDGES,
    relevance_threshold: float | None = None,
    features: sp.csr_matrix | None = None,
    fit_progress: Callable[[FitEvent], None] | None = None,
    context: FitContext | None = None,
    validation: Dataset | None = None,
    per_user: list[pd.DataFrame] | None = None,
) -> tuple[Recommender, pd.DataFrame]:
    """Fit one model on one split and measure it; returns the model and its tidy rows.

    A model trained per epoch gets a validation part carved from ``fold.train`` (one interaction per
    user, :func:`~recsys_core.evaluation.splits.validation_holdout`, unless ``validation`` is given) for
    early stopping; the test part is never passed to a fit. Its per-epoch history is the model's
    ``history_`` (see :func:`training_history`). With a ``per_user`` list, the fold's per-user values
    (``PER_USER_COLUMNS``) are appended to it.
    """
    rows: list[tuple] = []

    def add(metric: str, value: float, k: int | None = None, bucket: str = "all") -> None:
        rows.append((spec.display, fold.fold, metric, k, bucket, float(value)))

    model = spec.build()
    problem = split_problem(model, fold)
    if problem:
        raise SplitUnsuitableError(problem)
    if model.can("trains_per_epoch") and validation is None:
        validation = validation_holdout(fold.train, seed=model.seed)
    start = time.perf_counter()
    model.fit(fold.train, progress=fit_progress, validation=validation, context=context)
    add("fit_seconds", time.perf_counter() - start)

    keep = _UserValues(spec.display, fold.fold) if per_user is not None else None
    score_seconds = _measure(model, fold, ks, bucket_edges, relevance_threshold, features, add, keep)
    add("score_seconds", score_seconds)
    if keep is not None:
        per_user.append(keep.frame())
    return model, pd.DataFrame(rows, columns=COLUMNS)


def split_problem(model: Recommender | type[Recommender], fold: Split | None = None, *,
                  respects_time: bool | None = None) -> str | None:
    """Why ``model`` cannot be tested on this split, or None when it can.

    A model that reads the order of histories (``uses_order``) needs a split whose test part comes after the
    training part in time (``Split.respects_time``: temporal, leave-last-out with timestamps, global time):
    on a random split its test items sit in the middle of histories whose later items it trains on, and it
    would be scored on predicting the past from the future. Pass a fold, or ``respects_time`` for a split
    not made yet (the Train page asks before anything is fitted).
    """
    ordered = respects_time if respects_time is not None else bool(fold is not None and fold.respects_time)
    if model.capabilities()["uses_order"] and not ordered:
        return (f"{model.name} predicts the next item from the order of each history, so it is tested only on a "
                "split by time (leave-last-out or temporal with timestamps, or the global time split): on this "
                "split its test items lie in the middle of histories whose later items it would train on")
    return None


def _measure(model, fold: Split, ks, bucket_edges, relevance_threshold, features, add, keep=None) -> float:
    """Rating and ranking rows of a fitted model on one fold (through ``add``); returns the scoring seconds."""
    user_bucket = M.activity_buckets(fold.train.user_counts, edges=tuple(bucket_edges))
    labels = M.activity_bucket_labels(tuple(bucket_edges))
    rated = _rates(model, fold)
    score_seconds = _rating_rows(model, fold, user_bucket, labels, add, keep) if rated else 0.0
    score_seconds += _ranking_rows(model, fold, ks, user_bucket, labels, relevance_threshold, features, add,
                                   fallback=not rated, keep=keep)
    return score_seconds


class _UserValues:
    """Collects per-user metric values of one model on one fold (``PER_USER_COLUMNS``)."""

    def __init__(self, label: str, fold: int) -> None:
        self.label, self.fold, self.parts = label, fold, []

    def __call__(self, metric: str, k: int | None, users: np.ndarray, buckets: np.ndarray, values: np.ndarray) -> None:
        self.parts.append(pd.DataFrame({"model": self.label, "fold": self.fold, "metric": metric, "k": k,
                                        "user": np.asarray(users, dtype=np.int64), "bucket": buckets,
                                        "value": np.asarray(values, dtype=np.float64)}))

    def frame(self) -> pd.DataFrame:
        frame = pd.concat(self.parts, ignore_index=True) if self.parts else pd.DataFrame(columns=PER_USER_COLUMNS)
        frame["k"] = frame["k"].astype("Int64")
        return frame[PER_USER_COLUMNS]


def per_user_metrics(model: Recommender, fold: Split, *, label: str | None = None, ks: Sequence[int] = (10,),
                     bucket_edges: Sequence[int] = M.BUCKET_EDGES,
                     relevance_threshold: float | None = None) -> pd.DataFrame:
    """Per-user rating and ranking values (``PER_USER_COLUMNS``) of a model already fitted on ``fold.train``.

    The same numbers ``evaluate(..., per_user=True)`` keeps, without refitting: rating metrics are each
    user's RMSE / MAE over their test ratings, ranking metrics each user's value on their top-K list.
    """
    keep = _UserValues(label or model.name, fold.fold)
    _measure(model, fold, ks, bucket_edges, relevance_threshold, item_feature_vectors(fold.train),
             lambda *args, **kwargs: None, keep)
    return keep.frame()


def _rates(model: Recommender, fold: Split) -> bool:
    """Whether rating metrics apply: the model predicts ratings, the data has them, the test part is not empty."""
    return model.predicts_ratings and not fold.train.implicit and fold.test.n_ratings > 0


def _rating_rows(model, fold: Split, user_bucket: np.ndarray, labels: list[str], add, keep=None) -> float:
    """RMSE, MAE (overall and per activity bucket) and the fall-back rate; returns the seconds spent predicting."""
    test = fold.test.interactions
    users = test["user_idx"].to_numpy()
    start = time.perf_counter()
    estimate, fallback = model.predict_indices(users, test["item_idx"].to_numpy())
    seconds = time.perf_counter() - start
    truth = test["rating"].to_numpy()
    add("rmse", M.rmse(truth, estimate))
    add("mae", M.mae(truth, estimate))
    add("fallback_rate", fallback.mean())
    buckets = user_bucket[users]
    for label in labels:
        mask = buckets == label
        if mask.any():
            add("rmse", M.rmse(truth[mask], estimate[mask]), bucket=label)
            add("mae", M.mae(truth[mask], estimate[mask]), bucket=label)
    if keep is not None:
        # Each test user's own RMSE and MAE over their test ratings (the unit of the paired tests).
        rated, inverse = np.unique(users, return_inverse=True)
        n = np.bincount(inverse)
        error = estimate - truth
        keep("rmse", None, rated, user_bucket[rated], np.sqrt(np.bincount(inverse, error ** 2) / n))
        keep("mae", None, rated, user_bucket[rated], np.bincount(inverse, np.abs(error)) / n)
    return seconds


def _ranking_rows(model, fold: Split, ks: Sequence[int], user_bucket: np.ndarray, labels: list[str],
                  relevance_threshold: float | None, features, add, fallback: bool, keep=None) -> float:
    """Ranking and beyond-accuracy metrics of full-catalogue top-K lists; returns the seconds spent ranking.

    ``fallback``: for models without rating metrics, the share of evaluated users served by their fall-back.
    """
    train = fold.train
    relevant = M.relevant_items(fold.test, threshold=relevance_threshold)
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    if not len(users) or not len(ks):
        return 0.0
    start = time.perf_counter()
    recommended = model.recommend_indices(users, n=max(ks), exclude_seen=True)
    seconds = time.perf_counter() - start
    if fallback:
        add("fallback_rate", model.fallback_users(users).mean())
    relevant_rows = relevant[users]
    buckets = user_bucket[users]
    expected = popularity_baseline_lists(train, users, max(ks))
    for k in ks:
        top = recommended[:, :k]
        for metric in RANKING:
            per_user = RANKING_FUNCTIONS[metric](top, relevant_rows, k)
            if keep is not None:
                keep(metric, k, users, buckets, per_user)
            add(metric, np.nanmean(per_user), k)
            for label in labels:
                mask = buckets == label
                if mask.any():
                    add(metric, np.nanmean(per_user[mask]), k, label)
        add("coverage", M.catalog_coverage(top, train.n_items), k)
        add("novelty", M.novelty(top, train.item_counts, train.n_users), k)
        add("personalization", M.personalization(top), k)
        picked = top[top >= 0]
        add("median_popularity", np.median(train.item_counts[picked]) if len(picked) else np.nan, k)
        _beyond_rows(top, k, users, buckets, labels, train, relevant_rows, features, expected[:, :k], add, keep)
    return seconds


def popularity_baseline_lists(train: Dataset, users: np.ndarray, n: int) -> np.ndarray:
    """The most popular items each user has not seen (ties by index), top ``n``: serendipity's expected list E_u."""
    counts = train.item_counts.astype(np.float64)
    order = np.argsort(-counts, kind="stable")
    users = np.asarray(users, dtype=np.int64)
    out = np.full((len(users), int(n)), -1, dtype=np.int64)
    lengths = train.user_counts[users]
    width = min(train.n_items, int(n) + int(lengths.max(initial=0)))
    head = order[:width]
    columns = train.matrix[:, head].tocsr()
    block = max(1, 4_000_000 // max(width, 1))  # users per block: bounded memory on large data
    for start in range(0, len(users), block):
        part = users[start:start + block]
        rows = columns[part]
        seen = np.zeros((len(part), width), dtype=bool)
        seen[np.repeat(np.arange(len(part)), np.diff(rows.indptr)), rows.indices] = True
        # The first n unseen items of the popularity order, per user.
        rank = np.where(seen, width, np.cumsum(~seen, axis=1) - 1)
        user_pos, slot = np.nonzero(rank < int(n))
        out[start + user_pos, rank[user_pos, slot]] = head[slot]
    return out


def _beyond_rows(top: np.ndarray, k: int, users: np.ndarray, buckets: np.ndarray, labels: list[str], train: Dataset,
                 relevant_rows, features, expected: np.ndarray, add, keep=None) -> None:
    """Diversity, popularity bias, calibration and serendipity of top-K lists: overall and per activity bucket.

    Per-user metrics (diversity, ARP, long-tail share, calibration KL, serendipity) are means over the users
    and kept per user for the paired tests; aggregate ones (Gini of exposure, aggregate diversity) are one value
    per group of lists (each bucket's lists on their own) and have no per-user values.
    """
    per_user: dict[str, np.ndarray] = {
        "arp": M.average_recommendation_popularity(top, train.item_counts),
        "long_tail_share": M.long_tail_share(top, ~M.head_items(train.item_counts)),
        "serendipity": M.serendipity(top, relevant_rows, expected, k),
    }
    if features is not None:
        per_user["diversity"] = M.intra_list_diversity(top, features)
        per_user["calibration_kl"] = M.calibration_kl(top, M.liked_items(train, users), features)
    groups = [("all", np.ones(len(users), dtype=bool))] + [(label, buckets == label) for label in labels]
    for bucket, mask in groups:
        if not mask.any():
            continue
        for metric, values in per_user.items():
            chosen = values[mask]
            if np.isfinite(chosen).any():
                add(metric, np.nanmean(chosen), k, bucket)
        add("gini", M.gini_index(top[mask], train.n_items), k, bucket)
        add("aggregate_diversity", M.aggregate_diversity(top[mask]), k, bucket)
    if keep is not None:
        for metric, values in per_user.items():
            keep(metric, k, users, buckets, values)


def summarise(table: pd.DataFrame, bucket: str = "all") -> pd.DataFrame:
    """Mean over folds: one row per model, one column per metric (``ndcg@10`` style for ranking)."""
    part = table[table["bucket"] == bucket].copy()
    part["column"] = np.where(part["k"].isna(), part["metric"], part["metric"] + "@" + part["k"].astype(str))
    wide = part.pivot_table(index="model", columns="column", values="value", aggfunc="mean", sort=False)
    order = [c for c in _column_order(part) if c in wide.columns]
    return wide[order]


def _column_order(part: pd.DataFrame) -> list[str]:
    first = ["rmse", "mae"]
    ranked = [c for c in pd.unique(part["column"]) if "@" in c]
    rest = [c for c in pd.unique(part["column"]) if "@" not in c and c not in first]
    return first + ranked + rest
