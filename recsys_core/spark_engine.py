"""ALS on Apache Spark (MLlib), evaluated exactly like the in-process models.

``evaluate_spark`` fits :class:`pyspark.ml.recommendation.ALS` on every
split's training part -- on ``local[*]`` by default, on a cluster when given a
master URL -- and measures it with :func:`recsys_core.evaluation.runner.evaluate_fold`,
so the metrics, the relevance rule, the exclusion of training items, the
tie-break and the tidy frame (``model, fold, metric, k, bucket, value``) are
those of every other model by construction, not by copy.

How the in-process ``als`` (``implicit``'s ALS, Hu, Koren & Volinsky 2008)
maps onto MLlib's ALS -- the two differ in three places:

* **Confidence.** implicit weighs an observed cell ``c = alpha * x``
  (``x = 1`` here) and every other cell 1; MLlib weighs it ``1 + alpha * x``.
  MLlib's ``alpha`` is therefore ``alpha - 1`` (so implicit's default
  ``alpha = 1`` is MLlib's ``alpha = 0``: every cell weighs the same).
  implicit's ``alpha < 1`` (an observed cell weighing less than an empty one)
  has no MLlib equivalent and is refused.
* **Regularisation.** implicit adds a constant ``lambda`` to every solve;
  MLlib multiplies ``regParam`` by the number of ratings of the user or item
  being solved (ALS-WR, Zhou et al. 2008). No single ``regParam`` equals a
  constant ``lambda``; :func:`matched_reg_param` uses ``lambda / n_typical``
  with ``n_typical`` the geometric mean of the interaction-weighted mean
  count per user and per item (``sum n_u^2 / nnz``: the activity of the user
  behind a random interaction), so the penalty is right where most of the
  data is. Heavy users and popular items are still penalised more than by
  implicit, light ones less: where regularisation dominates the two models
  differ. Pass ``reg_param`` to set MLlib's value directly.
* **Ids and scoring.** MLlib needs integer ids: the data set's dense
  ``user_idx``/``item_idx`` are used as they are. ``recommendForAllUsers``
  does not exclude seen items, and asking for ``k + max seen`` explodes for
  heavy users; the fitted factors (``n x rank`` floats, small next to the
  data) are collected instead and scored on the driver in blocks, as the
  in-process model scores. Users or items absent from a training part get
  what the in-process ``als`` gives them: popularity for such a user, a zero
  vector (score 0) for such an item. ``coldStartStrategy="drop"`` is still
  set, so ``transform`` on unseen pairs drops them rather than returning NaN.

pyspark is imported lazily: this module imports (and reports what is
missing) without it. Spark 4.x needs Java 17 or 21.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import socket
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .dataset import Dataset
from .errors import RecsysError
from .evaluation.runner import COLUMNS, ModelSpec, evaluate_fold, item_feature_vectors
from .evaluation.splits import Split
from .models.feedback import FEEDBACK_MODES
from .models.ranking import ALS

#: The pyspark release this module was verified with (also pinned in requirements.txt).
PYSPARK_VERSION = "4.3.0"
#: Seconds to wait for a spark:// master to accept a connection before giving up.
CONNECT_TIMEOUT = 5.0
#: Oldest Java that Spark 4.x runs on.
MIN_JAVA = 17

Progress = Callable[[float, str], None]


class SparkUnavailableError(RecsysError, RuntimeError):
    """Spark cannot run as asked (pyspark or Java missing, master unreachable, a failed job); the message says what to do."""


class SparkParameterError(RecsysError, ValueError):
    """A hyper-parameter of the in-process ``als`` has no MLlib equivalent."""


# ------------------------------------------------------------------ checks
def spark_problem() -> str | None:
    """Why Spark cannot start on this machine (pyspark or Java missing, Java too old), or None.

    Cheap enough for a page to call to decide whether to offer the engine.
    """
    if importlib.util.find_spec("pyspark") is None:
        return (f"pyspark is not installed. Install it with `pip install pyspark=={PYSPARK_VERSION}` "
                f"(it also needs Java {MIN_JAVA} or 21), or use the in-process engine (--engine local).")
    java = _java_executable()
    if java is None:
        return (f"Java was not found (no JAVA_HOME, no `java` on PATH). Spark needs Java {MIN_JAVA} or 21: install "
                f"it (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME, or use --engine local.")
    version = _java_major_version(java)
    if version is not None and version < MIN_JAVA:
        return (f"Spark {PYSPARK_VERSION.split('.')[0]}.x needs Java {MIN_JAVA} or 21, and {java} is Java {version}. "
                f"Install Java {MIN_JAVA} and point JAVA_HOME at it, or use --engine local.")
    return None


def _java_executable() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = os.path.join(home, "bin", "java")
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("java")


def _java_major_version(java: str) -> int | None:
    try:
        output = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=20).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def check_master(master: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise :class:`SparkUnavailableError` unless ``master`` is local or answers within ``timeout`` seconds.

    ``spark://host:port`` (or ``spark://h1:port,h2:port`` for a standby
    setup) and ``k8s://https://host:port`` are probed with a TCP connection:
    without it, a master that does not answer leaves Spark retrying for
    minutes. ``local``, ``local[N]``, ``local[*]`` and ``yarn`` are not probed.
    """
    if master == "local" or master.startswith("local[") or master == "yarn":
        return
    if master.startswith("spark://"):
        hosts = master[len("spark://"):].split(",")
        addresses = [_host_port(host, 7077) for host in hosts]
    elif master.startswith("k8s://"):
        rest = master[len("k8s://"):]
        url = urlsplit(rest if "://" in rest else "https://" + rest)
        addresses = [(url.hostname or "", url.port or 443)]
    else:
        raise SparkUnavailableError(
            f"'{master}' is not a Spark master URL this command understands. Use local[*] (this machine), "
            f"spark://host:7077 (a standalone cluster), k8s://https://host:port or yarn."
        )
    for host, port in addresses:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except OSError:
            continue
    tried = ", ".join(f"{host}:{port}" for host, port in addresses)
    raise SparkUnavailableError(
        f"The Spark master {master} does not answer (no connection to {tried} within {timeout:g} s). Check that "
        f"the master is running (`$SPARK_HOME/sbin/start-master.sh`; its web page lists the URL as spark://host:port) "
        f"and reachable from this machine, or leave out --master to run on this machine (local[*])."
    )


def _host_port(text: str, default_port: int) -> tuple[str, int]:
    host, _, port = text.strip().rstrip("/").rpartition(":")
    if not host:
        return port, default_port
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise SparkUnavailableError(f"The port in the Spark master URL part '{text}' is not a number.") from None


# ----------------------------------------------------------------- session
def start_session(master: str | None = None, app_name: str = "recsys-lab", local_partitions: int = 4):
    """A SparkSession on ``master`` (default ``local[*]``), after checking Java and the master.

    Raises :class:`SparkUnavailableError` (with what to do) instead of a Java
    or py4j traceback. The console progress bar and the web UI are off; on a
    local master, shuffles use ``local_partitions`` partitions instead of 200
    (the data fits one machine, 200 tiny tasks only cost time).
    """
    master = master or "local[*]"
    problem = spark_problem()
    if problem:
        raise SparkUnavailableError(problem)
    check_master(master)
    with _quiet_pyspark():
        from pyspark.sql import SparkSession

        builder = (SparkSession.builder.master(master).appName(app_name)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
        if master.startswith("local"):
            builder = builder.config("spark.sql.shuffle.partitions", str(local_partitions))
        try:
            session = builder.getOrCreate()
        except Exception as error:  # noqa: BLE001 -- py4j/pyspark raise many types; the message is what matters
            raise SparkUnavailableError(
                f"Spark did not start on {master}: {_first_line(error)}. Check that Java {MIN_JAVA} works "
                f"(`java -version`) and that JAVA_HOME points at it, or use --engine local."
            ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextlib.contextmanager
def _quiet_pyspark() -> Iterator[None]:
    # pyspark 4.3 warns that it "does not yet fully support pandas >= 3"; this module hands it Arrow tables, not pandas.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not yet fully support pandas.*")
        yield


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]


def _running_session():
    if importlib.util.find_spec("pyspark") is None:
        return None
    with _quiet_pyspark():
        from pyspark.sql import SparkSession

        return SparkSession.getActiveSession()


# -------------------------------------------------------------------- model
def matched_reg_param(regularization: float, feedback: sp.csr_matrix) -> float:
    """MLlib ``regParam`` matching implicit's constant ``lambda`` on this feedback matrix.

    MLlib penalises a user's vector by ``regParam * n_u`` (and an item's by
    ``regParam * n_i``); implicit by ``lambda``. With ``n_typical =
    sqrt((sum n_u^2 / nnz) * (sum n_i^2 / nnz))`` -- the geometric mean of
    the counts of the user and of the item behind an average interaction --
    the penalty agrees there. (The plain mean count per user and per item
    was tried first: it over-penalises the heavy users and popular items
    that hold most interactions, and on a 200 x 300 set with 6,000 ratings
    MLlib's NDCG@10 fell to popularity's.)
    """
    nnz = int(feedback.nnz)
    if nnz == 0:
        return float(regularization)
    users = np.diff(feedback.indptr)
    items = np.bincount(feedback.indices, minlength=feedback.shape[1])
    typical = np.sqrt(float((users ** 2).sum()) * float((items ** 2).sum())) / nnz
    return float(regularization) / typical


def mllib_als_params(als: ALS, feedback: sp.csr_matrix, reg_param: float | None = None) -> dict[str, Any]:
    """MLlib ALS parameters equivalent to an in-process :class:`~recsys_core.models.ranking.ALS`."""
    alpha = float(als.alpha)
    if alpha < 1.0:
        raise SparkParameterError(
            f"alpha={alpha:g} cannot run on Spark: implicit weighs an observed interaction alpha and an empty cell "
            f"1, MLlib weighs it 1 + alpha' with alpha' >= 0, so only alpha >= 1 has an equivalent. Use alpha >= 1 "
            f"or --engine local."
        )
    return {
        "rank": int(als.factors),
        "regParam": float(reg_param) if reg_param is not None else matched_reg_param(als.regularization, feedback),
        "alpha": alpha - 1.0,
        "maxIter": int(als.iterations),
        "seed": int(als.random_state),
    }


class SparkALS(ALS):
    """The ``als`` model fitted by Spark MLlib; scored, ranked and evaluated as the in-process ``als``.

    Takes the in-process ALS's hyper-parameters (translated by
    :func:`mllib_als_params`), plus ``reg_param`` (MLlib's ``regParam``
    directly; None: :func:`matched_reg_param`) and the ``session`` to fit on.
    """

    # Fold-in reuses implicit's solver and its own confidence rule; a Spark model does not have one.
    folds_in = False
    reports_progress = True

    def __init__(self, factors: int = 64, regularization: float = 10.0, alpha: float = 1.0, iterations: int = 15,
                 feedback: str = "all", threshold: float | None = None, random_state: int = 0,
                 reg_param: float | None = None, session: Any = None):
        super().__init__(factors=factors, regularization=regularization, alpha=alpha, iterations=iterations,
                         feedback=feedback, threshold=threshold, random_state=random_state)
        self.reg_param = reg_param
        self.session = session

    def _fit_matrix(self, feedback: sp.csr_matrix) -> None:
        if self.session is None:
            raise SparkUnavailableError("SparkALS needs a SparkSession: pass session=start_session(master).")
        params = mllib_als_params(self, feedback, self.reg_param)
        self.mllib_params_ = params
        self._report(0.0, f"Spark ALS: {feedback.nnz:,} interactions, rank {params['rank']}, "
                          f"regParam {params['regParam']:.4g}, alpha {params['alpha']:g}")
        self.user_factors_, self.item_factors_ = fit_factors(self.session, feedback, params)
        self._report(1.0, "Spark ALS fitted")

    def _fold_in_row(self, row):
        raise NotImplementedError("A Spark-fitted ALS does not fold in new users; use the in-process als.")


def fit_factors(session, feedback: sp.csr_matrix, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Fit MLlib ALS (implicit preferences) on a 0/1 feedback matrix; dense user and item factors.

    Rows of users (items) absent from ``feedback`` are zero, as implicit
    leaves them after its first sweep.
    """
    import pyarrow as pa

    with _quiet_pyspark():
        from pyspark.ml.recommendation import ALS as MLlibALS

        coo = feedback.tocoo()
        table = pa.table({"user": coo.row.astype(np.int32), "item": coo.col.astype(np.int32),
                          "rating": coo.data.astype(np.float32)})
        context = session.sparkContext
        checkpoint = None
        # Long ALS lineages overflow the stack without checkpoints; keep a configured directory
        # (a cluster needs a shared one, e.g. on HDFS), otherwise use a temporary local one.
        if not context.getCheckpointDir():
            checkpoint = tempfile.mkdtemp(prefix="recsys-spark-checkpoint-")
            context.setCheckpointDir(checkpoint)
        try:
            frame = session.createDataFrame(table)
            estimator = MLlibALS(userCol="user", itemCol="item", ratingCol="rating", implicitPrefs=True,
                                 coldStartStrategy="drop", nonnegative=False, checkpointInterval=5, **params)
            model = estimator.fit(frame)
            users = _factor_matrix(model.userFactors, feedback.shape[0], params["rank"])
            items = _factor_matrix(model.itemFactors, feedback.shape[1], params["rank"])
        except Exception as error:  # noqa: BLE001 -- a failed Spark job surfaces as a py4j error with a Java stack
            if not _is_spark_error(error):
                raise
            raise SparkUnavailableError(
                f"The Spark ALS job failed: {_first_line(error)}. On a cluster, check that the workers are up and "
                f"have memory; locally, try --engine local."
            ) from None
        finally:
            if checkpoint is not None:
                shutil.rmtree(checkpoint, ignore_errors=True)
    return users, items


def _is_spark_error(error: BaseException) -> bool:
    module = type(error).__module__ or ""
    return module.startswith(("py4j", "pyspark"))


def _factor_matrix(frame, n_rows: int, rank: int) -> np.ndarray:
    table = frame.toArrow()
    ids = table.column("id").to_numpy()
    out = np.zeros((n_rows, rank), dtype=np.float64)
    if len(ids):
        values = table.column("features").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        out[ids] = values.reshape(len(ids), rank)
    return out


# --------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class _SparkSpec(ModelSpec):
    """A ModelSpec whose model is fitted on a given SparkSession (so ``evaluate_fold`` can be reused as is)."""

    session: Any = field(default=None, compare=False, repr=False)

    def build(self) -> SparkALS:
        return SparkALS(session=self.session, **self.params)


def evaluate_spark(
    dataset: Dataset,
    splits: list[Split],
    params: dict[str, Any] | None = None,
    ks: Sequence[int] = (10,),
    master: str | None = None,
    progress: Progress | None = None,
    *,
    session: Any = None,
    label: str = "als (spark)",
    bucket_edges: Sequence[int] = (5, 20),
    relevance_threshold: float | None = None,
) -> pd.DataFrame:
    """Fit MLlib ALS on every split and measure it as the in-process runner does.

    Parameters
    ----------
    dataset : Dataset
        The data set the splits come from (its genres feed the diversity metric).
    splits : list of Split
        From :func:`recsys_core.evaluation.splits.make_splits`, so results are
        comparable with ``evaluate`` on the same splits.
    params : dict, optional
        Hyper-parameters of the in-process ``als`` (``factors``,
        ``regularization``, ``alpha``, ``iterations``, ``feedback``,
        ``threshold``, ``random_state``) and optionally ``reg_param``.
    ks : sequence of int
        Ranking cut-offs.
    master : str, optional
        Spark master URL (default ``local[*]``); ignored when ``session`` is given.
    progress : callable(fraction, message), optional
    session : SparkSession, optional
        The session to fit on. Without it, an already active session is reused
        (and left running); otherwise one is started on ``master`` and
        stopped at the end.
    label : str
        The ``model`` column of the result.

    Returns
    -------
    DataFrame
        Columns ``model, fold, metric, k, bucket, value`` (``fit_seconds``
        includes shipping the data to Spark and collecting the factors).

    Raises
    ------
    SparkUnavailableError
        pyspark or Java missing, a master that does not answer, a failed job.
    SparkParameterError
        A parameter without an MLlib equivalent (``alpha < 1``).
    """
    params = dict(params or {})
    unknown = set(params) - set(SparkALS().get_params()) - {"session"}
    if unknown:
        raise SparkParameterError(f"als on Spark has no parameter(s) {', '.join(sorted(unknown))}; valid: "
                                  f"{', '.join(p for p in SparkALS().get_params() if p != 'session')}.")
    if params.get("feedback", "all") not in FEEDBACK_MODES:
        raise SparkParameterError(f"feedback must be one of {', '.join(FEEDBACK_MODES)}, not {params['feedback']!r}.")
    mllib_als_params(SparkALS(**params), sp.csr_matrix((1, 1)))  # refuse alpha < 1 before paying for a session
    # Stop only a session started here: one already running (a notebook's, a test's) is reused and left alone.
    own_session = session is None and _running_session() is None
    if session is None:
        if progress:
            progress(0.0, f"starting Spark on {master or 'local[*]'}")
        session = start_session(master)
    spec = _SparkSpec(label, params, label, session=session)
    features = item_feature_vectors(dataset)
    frames = []
    try:
        for number, fold in enumerate(splits):
            fit_progress = None
            if progress:
                progress(number / max(len(splits), 1), f"{label}: fold {fold.fold + 1} of {len(splits)}")

                def fit_progress(event, number: int = number, fold: Split = fold) -> None:
                    fraction, message = event.fraction, event.message
                    progress((number + 0.9 * min(max(fraction, 0.0), 1.0)) / max(len(splits), 1),
                             f"{label}: fold {fold.fold + 1} of {len(splits)} · {message}")
            _, frame = evaluate_fold(spec, fold, ks=ks, bucket_edges=bucket_edges,
                                     relevance_threshold=relevance_threshold, features=features,
                                     fit_progress=fit_progress)
            frames.append(frame)
    finally:
        if own_session:
            session.stop()
    if progress:
        progress(1.0, "done")
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    table = table[COLUMNS]
    table["k"] = table["k"].astype("Int64")
    return table

