"""Command-line interface: the same functions the dashboard calls.

    python -m recsys_core compare [--ratings PATH] [--items PATH] [--users PATH]
        [--user-col C --item-col C --rating-col C | --columns user=C,item=C,value=C]
        [--feedback auto|ratings|counts|unary|events]
        [--models svd,knn-basic,...] [--split kfold] [--folds 5] [--seed 0]
        [--k 10] [--rerank calibrated:0.5,mmr:0.3] [--output results.csv]
    python -m recsys_core tune [--ratings PATH ...] --models ease,als [--trials 30]
        [--timeout S] [--metric ndcg] [--k 10] [--seed 0] [--output best.json]
    python -m recsys_core forget --users ID[,ID...] [--ratings PATH ...] [--models ...] [--output rows.csv]
        [--export their_data.csv] [--write-data ratings_without.csv]
    python -m recsys_core models
    python -m recsys_core sample --out DIR [--users N --items N --ratings N --seed S]

``tune`` splits the data as ``compare`` would, carves a validation hold-out
out of the *training* part and searches each model's declared space with
Optuna; the test part is never read. ``best.json`` is what ``compare
--params best.json`` reads. Without ``--ratings`` the bundled sample is used. Errors in the input are
printed as the same readable messages the dashboard shows (exit status 2).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

DEFAULT_MODELS = "ease,als,item-knn-cosine,svd,knn-basic,knn-means,knn-baseline,coclustering,baseline,popular"
#: The defaults on counts (plays, clicks): ranking models only, since rating models refuse counts.
#: Spelled out so the CLI starts without importing the models; equal to models.feedback.DEFAULT_IMPLICIT_MODELS
#: (tests/unit/test_implicit_feedback.py checks it).
DEFAULT_IMPLICIT_MODELS = "popular,ease,als,item-knn-cosine,rp3beta,bpr"
#: The defaults of ``forget``: the models that forget incrementally beside one that refits.
FORGET_MODELS = "popular,ease,item-knn-cosine,rp3beta,als,knn-basic,svd"


def _progress_bar(total_hint: str):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is in requirements; stay usable without it
        return None, lambda fraction, message: print(f"[{fraction:5.0%}] {message}", file=sys.stderr)
    bar = tqdm(total=100, desc=total_hint, unit="%", file=sys.stderr, leave=False,
               bar_format="{desc} {bar} {n_fmt}% [{elapsed}<{remaining}] {postfix}")

    def update(fraction: float, message: str) -> None:
        bar.n = int(round(fraction * 100))
        bar.set_postfix_str(message)
        bar.refresh()

    return bar, update


def _parse_k(text: str) -> tuple[int, ...]:
    values = tuple(int(part) for part in text.split(",") if part.strip())
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("--k takes positive integers, e.g. 10 or 5,10,20")
    return values


def _parse_params(text: str | None) -> dict:
    """JSON text, or the path of a JSON file (e.g. the ``best.json`` that ``tune`` writes)."""
    if not text:
        return {}
    from pathlib import Path

    if not text.lstrip().startswith("{") and Path(text).is_file():
        text = Path(text).read_text(encoding="utf-8")
    try:
        params = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"--params must be JSON, e.g. '{{\"svd\": {{\"n_factors\": 50}}}}' ({error})")
    if not isinstance(params, dict):
        raise argparse.ArgumentTypeError("--params must be a JSON object keyed by model name")
    return params


def _parse_rerank(text: str) -> list:
    """``calibrated:0.5,mmr:0.3`` -> [(re-ranker, value, similarity), ...] (``compare --rerank``)."""
    from .errors import RerankError
    from .reranking import parse_specs

    try:
        return parse_specs(text)
    except RerankError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


_COLUMN_ROLES = {"user": "user", "item": "item", "rating": "rating", "value": "rating", "count": "rating",
                 "timestamp": "timestamp", "time": "timestamp", "event": "event"}


def _parse_columns(text: str) -> dict:
    """``user=userID,item=artistID,value=weight`` -> {"user": "userID", "item": "artistID", "rating": "weight"}."""
    mapping = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        role, sep, column = part.partition("=")
        role = role.strip().lower()
        if not sep or role not in _COLUMN_ROLES or not column.strip():
            raise argparse.ArgumentTypeError(
                f"--columns takes role=column pairs separated by commas, e.g. user=userID,item=artistID,value=weight; "
                f"{part!r} is not one (roles: {', '.join(_COLUMN_ROLES)})")
        mapping[_COLUMN_ROLES[role]] = None if column.strip().lower() == "none" else column.strip()
    return mapping


def _parse_event_weights(text: str) -> dict:
    """``view=1,addtocart=3`` -> {"view": 1.0, "addtocart": 3.0}."""
    weights = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, value = part.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(
                f"--event-weights takes type=weight pairs, e.g. view=1,addtocart=3,transaction=5; {part!r} is not one")
    return weights


def column_mapping(args: argparse.Namespace) -> dict:
    """The ratings file's column mapping from ``--columns`` and the ``--*-col`` flags (which win)."""
    mapping = dict(getattr(args, "columns", {}) or {})
    for role in ("user", "item", "rating", "timestamp", "event"):
        column = getattr(args, f"{role}_col", None)
        if column is not None:
            mapping[role] = None if column.strip().lower() == "none" else column
    return mapping


def _data_and_split_arguments(default_split: str) -> argparse.ArgumentParser:
    """Options ``compare`` and ``tune`` share: the files to read and how to split them."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--ratings", help="ratings file (user, item, rating[, timestamp]); default: bundled sample")
    parent.add_argument("--items", help="item metadata file (id, title, genres, description...)")
    parent.add_argument("--users", help="user metadata file (id, age, gender, occupation...)")
    parent.add_argument("--tags", help="tags file (MovieLens tags.csv, or Goodbooks book_tags.csv)")
    parent.add_argument("--tag-names", help="Goodbooks tags.csv (tag_id, tag_name)")
    parent.add_argument("--user-col", help="column of the ratings file holding the user id (default: detected)")
    parent.add_argument("--item-col", help="column of the ratings file holding the item id (default: detected)")
    parent.add_argument("--rating-col", "--value-col", dest="rating_col",
                        help="column holding the rating or the count (plays, clicks); 'none' for a file without one")
    parent.add_argument("--timestamp-col", help="column holding the time; 'none' to ignore one")
    parent.add_argument("--event-col", help="an event log's column of event types (view, addtocart, transaction)")
    parent.add_argument("--event-weights", type=_parse_event_weights, default=None,
                        help="weight per event type, e.g. view=1,addtocart=3,transaction=5 (the defaults); "
                             "each (user, item) pair's weights are summed into a count")
    parent.add_argument("--columns", type=_parse_columns, default={},
                        help="the whole mapping at once, e.g. user=userID,item=artistID,value=weight "
                             "(roles: user, item, rating or value, timestamp)")
    parent.add_argument("--feedback", choices=["auto", "ratings", "counts", "unary", "events"], default="auto",
                        help="what the value column holds: ratings (explicit), counts (plays, clicks, quantities: "
                             "implicit feedback weighted per model), unary (ignore it: one line, one interaction), "
                             "events (an event log: each line weighs its event type, see --event-col and "
                             "--event-weights); auto (default) detects it and says why in the notes")
    parent.add_argument("--skip-bad-lines", action="store_true",
                        help="skip malformed lines (wrong number of fields, empty ids, ratings that are not numbers) "
                             "instead of stopping; each skipped line is listed in the notes")
    parent.add_argument("--params", type=_parse_params, default={},
                        help='hyper-parameters per model: JSON, e.g. \'{"svd": {"n_factors": 50}}\', or a JSON file '
                             '(such as the best.json written by tune)')
    from .evaluation.splits import SPLIT_METHODS

    parent.add_argument("--split", default=default_split, choices=list(SPLIT_METHODS))
    parent.add_argument("--folds", type=int, default=5, help="folds for --split kfold")
    parent.add_argument("--test-size", type=float, default=0.2,
                        help="test share for random, temporal and global-time splits")
    parent.add_argument("--cutoff", type=float, default=None,
                        help="for --split global-time: the cut-off as a unix timestamp (default: the time that "
                             "leaves --test-size of the interactions after it)")
    parent.add_argument("--file-order-is-time", action="store_true",
                        help="the ratings file has no timestamp but its rows are in the order things happened: "
                             "use the row order as time (for gru4rec/sasrec and the splits by time)")
    parent.add_argument("--relevant-from", type=float, default=None, dest="relevant_from",
                        help="a held-out interaction is relevant (a hit) from this value: a rating (default 75%% up "
                             "the scale), or for counts and event logs a minimum count / summed event weight "
                             "(default: every held-out interaction; e.g. 5 = a purchase with the default event weights)")
    parent.add_argument("--seed", type=int, default=0)
    parent.add_argument("--no-progress", action="store_true")
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recsys_core", description="recsys-lab: compare recommender models on your ratings.")
    sub = parser.add_subparsers(dest="command", required=True)
    # One parent per command: argparse shares the parents' action objects, so a default set on one would leak.
    compare = sub.add_parser("compare", parents=[_data_and_split_arguments("kfold")], help="cross-validate models and print a comparison table")
    compare.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated model names (default: {DEFAULT_MODELS})")
    compare.add_argument("--k", type=_parse_k, default=(10,), help="ranking cut-off(s), e.g. 10 or 5,10,20")
    compare.add_argument("--output", help="write the tidy results (model, fold, metric, k, bucket, value) to this CSV")
    compare.add_argument("--significance", action="store_true",
                         help="paired per-user tests of every pair of models (overall and per user group), bootstrap "
                              "95%% intervals, effect sizes and the time-leakage check; with --output also writes "
                              "<output>.significance.csv and <output>.per_user.csv")
    compare.add_argument("--test", choices=["wilcoxon", "ttest"], default="wilcoxon",
                         help="paired test of --significance (default: wilcoxon signed-rank)")
    compare.add_argument("--correction", choices=["holm", "bonferroni", "fdr_bh", "none"], default="holm",
                         help="correction across the pairs of each metric (default: holm)")
    compare.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    compare.add_argument("--sampled-negatives", type=int, default=0,
                         help="also report HR/NDCG against this many sampled negatives per test item (last fold), "
                              "beside the full-catalogue numbers")
    compare.add_argument("--rerank", type=_parse_rerank, default=(),
                         help="also evaluate re-ranked variants of every model, each as its own row "
                              "(als+calibrated(0.5)), e.g. calibrated:0.5,mmr:0.3; re-rankers: mmr (λ, 1 = the "
                              "model's order), calibrated and xquad (λ, 0 = the model's order), popularity (β, 0 = "
                              "the model's order); mmr:0.3:vectors or mmr:0.3:co-ratings picks MMR's item "
                              "similarity (default genres)")
    compare.add_argument("--engine", choices=["local", "spark"], default="local",
                         help="local: fit in this process (default); spark: fit als with Spark MLlib (pyspark, Java 17)")
    compare.add_argument("--master", help="with --engine spark: the Spark master URL, e.g. spark://host:7077 "
                                          "(default: local[*], this machine)")
    tune = sub.add_parser("tune", parents=[_data_and_split_arguments("random")],
                          help="search hyper-parameters with Optuna on a validation hold-out of the training part")
    tune.add_argument("--models", required=True, help="comma-separated model names, e.g. ease,als")
    tune.add_argument("--trials", type=int, default=30, help="trials per model (default 30)")
    tune.add_argument("--timeout", type=float, help="stop each model's search after this many seconds")
    from .evaluation.metrics import metric_names

    tune.add_argument("--metric", default="ndcg", choices=list(metric_names("ranking")))
    tune.add_argument("--k", type=int, default=10, help="ranking cut-off of the metric (default 10)")
    tune.add_argument("--output", help="write the best parameters as JSON ({model: {param: value}})")
    forget = sub.add_parser("forget", parents=[_data_and_split_arguments("random")], conflict_handler="resolve",
                            help="remove users from the data and from each fitted model; report what changed")
    forget.add_argument("--users", dest="forget_users", required=True,
                        help="the raw ids of the users to forget, comma-separated (e.g. 42 or 42,77)")
    forget.add_argument("--user-file", dest="users",
                        help="user metadata file (id, age, gender, ...): --users names the ids to forget here")
    forget.add_argument("--models", default=FORGET_MODELS, help=f"comma-separated model names (default: {FORGET_MODELS})")
    forget.add_argument("--k", type=int, default=10, help="length of the lists compared before and after (default 10)")
    forget.add_argument("--no-refit-check", action="store_true",
                        help="skip the exact refit that incremental models are compared with")
    forget.add_argument("--output", help="write one row per model (model, method, seconds, changed_share, ...) to this CSV")
    forget.add_argument("--export", help="before removing them, write every row held about the users to this CSV")
    forget.add_argument("--write-data", help="write the ratings without the users to this CSV")
    sub.add_parser("models", help="list the available models")
    sample = sub.add_parser("sample", help="write a synthetic data set (the bundled sample, or a larger one)")
    sample.add_argument("--out", required=True)
    sample.add_argument("--users", type=int)
    sample.add_argument("--items", type=int)
    sample.add_argument("--ratings", type=int)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--feedback", choices=["ratings", "counts", "events"], default="ratings",
                        help="ratings (stars, ratings.csv), counts (play counts, plays.tsv in Last.fm's layout) or "
                             "events (an event log, events.csv: views, carts and purchases drawn from the ratings)")
    return parser


def split_params(args: argparse.Namespace) -> dict:
    if args.split == "kfold":
        return {"n_folds": args.folds, "seed": args.seed}
    if args.split == "random":
        return {"test_size": args.test_size, "seed": args.seed}
    if args.split == "temporal":
        return {"test_fraction": args.test_size}
    if args.split == "global-time":
        return {"test_fraction": args.test_size, "cutoff": args.cutoff}
    return {"n": 1}


def _model_names(args: argparse.Namespace) -> list[str]:
    from .models import REGISTRY

    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        from .errors import RecsysError

        raise RecsysError(f"unknown model(s) {', '.join(unknown)}. Available: {', '.join(REGISTRY)}")
    return names


def _load(args: argparse.Namespace):
    from . import data

    mapping = column_mapping(args)
    if args.ratings:
        dataset = data.load_dataset(args.ratings, items=args.items, users=args.users, tags=args.tags,
                                    tag_names=args.tag_names, skip_bad_lines=args.skip_bad_lines,
                                    mapping=mapping or None, feedback=args.feedback,
                                    event_weights=args.event_weights)
    else:
        if mapping:
            from .errors import RecsysError

            raise RecsysError("--columns and --user-col/--item-col/--rating-col/--timestamp-col describe the file "
                              "given by --ratings; the bundled sample needs none.")
        dataset = data.load_sample("counts" if args.feedback == "counts" else "ratings")
    if getattr(args, "file_order_is_time", False):
        dataset = data.with_file_order_as_time(dataset)
    summary = dataset.summary()
    if dataset.feedback_kind == "ratings":
        values = f"{summary['ratings']} ratings (density {summary['density']:.2%}, scale " \
                 f"{summary['rating_min']:g}–{summary['rating_max']:g})"
    else:
        what = "counts " + f"{summary['rating_min']:g}–{summary['rating_max']:g}" \
            if dataset.feedback_kind == "counts" else "unary"
        values = f"{summary['ratings']} interactions (density {summary['density']:.2%}, implicit feedback: {what})"
    print(f"{dataset.name}: {summary['users']} users, {summary['items']} items, {values}")
    for line in dataset.report:
        print(f"  note: {line}")
    return dataset


def _spark_model_names(args: argparse.Namespace) -> list[str]:
    """``compare --engine spark`` runs als only (MLlib's ALS); say so instead of silently dropping models."""
    from .errors import RecsysError
    from .spark_engine import SparkALS

    spark_model = SparkALS.name  # the one model the Spark engine implements
    if args.engine != "spark":
        raise RecsysError("--master is only used with --engine spark, e.g. --engine spark --master spark://host:7077.")
    if args.models == DEFAULT_MODELS:  # --models not given: the one model Spark runs
        return [spark_model]
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    others = [name for name in names if name != spark_model]
    if others:
        raise RecsysError(f"--engine spark runs {spark_model} only (Spark MLlib's ALS); {', '.join(others)} cannot "
                          f"run on Spark. Use --models {spark_model}, or run the others with --engine local "
                          "(the default).")
    return [spark_model]


def _evaluate_on_spark(args: argparse.Namespace, dataset, progress):
    """MLlib ALS on the same splits and metrics as ``evaluate``, into the same results table."""
    from .evaluation.runner import EvaluationResult
    from .evaluation.splits import make_splits
    from .spark_engine import SparkALS, evaluate_spark

    splits = make_splits(dataset, args.split, **split_params(args))
    table = evaluate_spark(dataset, splits, args.params.get(SparkALS.name, {}), ks=args.k, master=args.master,
                           progress=progress)
    return EvaluationResult(table=table)


def run_compare(args: argparse.Namespace) -> int:
    from .evaluation.runner import ModelSpec, evaluate, summarise

    names = _spark_model_names(args) if args.engine == "spark" or args.master else _model_names(args)
    if args.rerank and args.engine == "spark":
        from .errors import RecsysError

        raise RecsysError("--rerank re-ranks each model's candidate lists in this process; run it with --engine "
                          "local (the default).")
    dataset = _load(args)
    if args.engine != "spark" and args.models == DEFAULT_MODELS and dataset.implicit:
        names = [name.strip() for name in DEFAULT_IMPLICIT_MODELS.split(",")]
        what = "counts are" if dataset.feedback_kind == "counts" else "interactions without a value are"
        print(f"{what} implicit feedback: the default models are the ranking models ({DEFAULT_IMPLICIT_MODELS}); "
              "rating-prediction models refuse them")
    specs = [ModelSpec(name, args.params.get(name, {})) for name in names]
    bar, progress = (None, None) if args.no_progress else _progress_bar("evaluating")
    try:
        if args.engine == "spark":
            result = _evaluate_on_spark(args, dataset, progress)
        else:
            result = evaluate(dataset, specs, split=args.split, split_params=split_params(args), ks=args.k,
                              progress=progress, per_user=args.significance, rerank=args.rerank,
                              relevance_threshold=args.relevant_from)
    finally:
        if bar is not None:
            bar.close()
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 50, "display.float_format", "{:.4f}".format):
        table = summarise(result.table)
        print()
        print(table.to_string())
    for label, message in result.errors.items():
        print(f"\n{label} failed: {message}", file=sys.stderr)
    if args.output:
        result.table.to_csv(args.output, index=False)
        print(f"\nwrote {len(result.table)} rows to {args.output}")
    if (args.significance or args.sampled_negatives) and args.engine != "spark":
        _report_significance(args, dataset, result)
    elif args.significance:
        print("\n--significance needs per-user values, which the Spark engine does not return; run without "
              "--engine spark for paired tests.", file=sys.stderr)
    return 1 if result.errors and len(result.errors) >= len(specs) * (1 + len(args.rerank)) else 0


def _report_significance(args: argparse.Namespace, dataset, result) -> None:
    """``compare --significance`` / ``--sampled-negatives``: the paired evidence, in words and in files."""
    from pathlib import Path

    import pandas as pd

    from .evaluation import significance as S
    from .evaluation.splits import make_splits

    splits = make_splits(dataset, args.split, **split_params(args))
    k = int(args.k[0]) if args.k else None
    print()
    print(S.time_leakage(splits).sentence())
    if args.significance and len(result.per_user):
        stats = S.compare(result.per_user, test=args.test, correction=args.correction, n_resamples=args.resamples,
                          seed=args.seed)
        from .reranking import RERANKERS

        # With re-ranked variants, also what each re-ranker is meant to move (diversity, calibration, long tail).
        moved = list(dict.fromkeys(RERANKERS[name].moves for name, _, _ in getattr(args, "rerank", ()) or ()))
        for metric, metric_k in (("ndcg", k), ("rmse", None), *((m, k) for m in moved)):
            for sentence in S.reading(stats, metric, metric_k, reference="popular"):
                print(f"- {sentence}")
        if args.output:
            stem = Path(args.output)
            pairs_path = stem.with_name(stem.stem + ".significance.csv")
            users_path = stem.with_name(stem.stem + ".per_user.csv")
            pd.concat([stats.pairwise.assign(kind="pair"), stats.intervals.assign(kind="interval")],
                      ignore_index=True).to_csv(pairs_path, index=False)
            result.per_user.to_csv(users_path, index=False)
            print(f"wrote {len(stats.pairwise)} pairwise tests and {len(stats.intervals)} intervals to {pairs_path}, "
                  f"{len(result.per_user)} per-user values to {users_path}")
    if args.sampled_negatives and k is not None:
        full, sampled = {}, {}
        from .reranking import ReRankedModel

        for label, model in result.models.items():
            if isinstance(model, ReRankedModel):  # sampled negatives rank by score: a re-ranked list has none
                print(f"{label}: no sampled-negatives numbers (re-ranking needs the whole candidate list)")
                continue
            frame = S.sampled_metrics(model, splits[-1], ks=(k,), n_negatives=args.sampled_negatives,
                                      seed=args.seed, label=label, relevance_threshold=args.relevant_from)
            sampled[label] = float(frame[frame["metric"] == "ndcg_sampled"]["value"].mean())
            table = result.table
            rows = table[(table["model"] == label) & (table["metric"] == "ndcg") & (table["k"] == k)
                         & (table["bucket"] == "all") & (table["fold"] == splits[-1].fold)]
            full[label] = float(rows["value"].mean()) if len(rows) else float("nan")
            print(f"{label}: NDCG@{k} {full[label]:.4f} full catalogue, {sampled[label]:.4f} against "
                  f"{args.sampled_negatives} sampled negatives (last fold)")
        sentence = S.ranking_agreement(full, sampled)
        if sentence:
            print(sentence)


def run_tune(args: argparse.Namespace) -> int:
    """Tune each model on the first fold's training part; write best.json for ``compare --params``."""
    from .evaluation.splits import make_splits
    from .evaluation.tuning import best_params_json, tune

    names = _model_names(args)
    dataset = _load(args)
    train = make_splits(dataset, args.split, **split_params(args))[0].train
    print(f"tuning on the training part of the {args.split} split ({train.n_ratings:,} ratings); "
          f"validation: a per-user hold-out of it; the test part is not read")
    results = {}
    for name in names:
        bar, progress = (None, None) if args.no_progress else _progress_bar(f"tuning {name}")

        def trial_done(result, done: int, total: int, progress=progress) -> None:
            if progress is not None:
                best = f"best {result.metric}@{result.k} {result.best_value:.4f}" if result.best_value == result.best_value else "no valid trial yet"
                progress(done / max(total, 1), f"trial {done} of {total}, {best}")

        try:
            results[name] = tune(train, name, n_trials=args.trials, timeout=args.timeout, metric=args.metric, k=args.k,
                                 seed=args.seed, fixed_params=args.params.get(name, {}), trial_done=trial_done,
                                 relevance_threshold=args.relevant_from)
        finally:
            if bar is not None:
                bar.close()
        result = results[name]
        print(f"{name}: best validation {args.metric}@{args.k} = {result.best_value:.4f} after "
              f"{len(result.trials)} trials in {result.seconds:.1f} s: {json.dumps(best_params_json({name: result})[name])}")
        for error in result.errors[:3]:
            print(f"  failed {error}", file=sys.stderr)
    best = best_params_json(results)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump(best, handle, indent=2)
        print(f"wrote {args.output}; evaluate with: python -m recsys_core compare --models {','.join(names)} "
              f"--params {args.output} --split {args.split} --seed {args.seed}")
    else:
        print(json.dumps(best, indent=2))
    return 0


def run_forget(args: argparse.Namespace) -> int:
    """Fit each model on all the data, forget the users, and report how each forgot and what changed."""
    import pandas as pd

    from .data import user_positions, without_users
    from .forget import forget_model, user_data
    from .models import make_model

    dataset = _load(args)
    ids = [part.strip() for part in args.forget_users.split(",") if part.strip()]
    user_positions(dataset, ids)  # refuses unknown ids and removing everyone before any fit
    names = _model_names(args)
    if args.export:
        user_data(dataset, ids).to_csv(args.export, index=False)
        print(f"wrote every row held about {len(ids)} user(s) to {args.export}")
    kept = without_users(dataset, ids)
    rows = []
    for name in names:
        try:
            model = make_model(name, **args.params.get(name, {})).fit(dataset)
            outcome = forget_model(model, ids, label=name, n=args.k, compare_refit=not args.no_refit_check,
                                   training=kept)
        except Exception as error:  # noqa: BLE001 -- one model's failure is its row, the others go on
            print(f"  {name}: could not forget ({type(error).__name__}: {error})", file=sys.stderr)
            continue
        rows.append(outcome.row())
        refit = ("" if outcome.refit_max_difference is None
                 else f"; largest score difference to a refit {outcome.refit_max_difference:.2g}"
                      f" ({outcome.refit_seconds:.2f} s)")
        print(f"{name}: {outcome.method} in {outcome.seconds:.3f} s; top-{args.k} changed for "
              f"{outcome.changed_share:.1%} of the other {outcome.n_other_users:,} users{refit}")
        print(f"  how: {outcome.how}")
    table = pd.DataFrame(rows)
    if args.output:
        table.to_csv(args.output, index=False)
        print(f"wrote {args.output}")
    if args.write_data:
        columns = ["user", "item", "rating"] + (["timestamp"] if kept.has_timestamps else [])
        kept.interactions[columns].to_csv(args.write_data, index=False)
        print(f"wrote the data without them ({kept.n_ratings:,} ratings) to {args.write_data}")
    return 0 if rows else 1


def run_models() -> int:
    from .models import REGISTRY

    for name, cls in REGISTRY.items():
        print(f"{name:14s} {cls.family:22s} {cls.explanation.split('.')[0]}.")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    from . import synthetic

    params = {key: value for key, value in (("n_users", args.users), ("n_items", args.items), ("n_ratings", args.ratings)) if value}
    paths = synthetic.write_sample(args.out, seed=args.seed, feedback="ratings" if args.feedback == "events"
                                   else args.feedback, **params)
    if args.feedback == "events":  # the same pairs as an event log, in place of ratings.csv
        import pandas as pd

        from .synthetic_events import write_events

        ratings = pd.read_csv(paths["ratings"], dtype={"user": str, "item": str})
        paths["ratings"].unlink()
        paths["ratings"] = write_events(args.out, ratings, seed=args.seed)
    print(f"wrote {', '.join(path.name for path in paths.values())} to {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from .errors import RecsysError

    args = build_parser().parse_args(argv)
    try:
        if args.command == "compare":
            return run_compare(args)
        if args.command == "tune":
            return run_tune(args)
        if args.command == "forget":
            return run_forget(args)
        if args.command == "models":
            return run_models()
        return run_sample(args)
    except (RecsysError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
