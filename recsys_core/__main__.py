"""Command-line interface: the same functions the dashboard calls.

    python -m recsys_core compare [--ratings PATH] [--items PATH] [--users PATH]
        [--models svd,knn-basic,...] [--split kfold] [--folds 5] [--seed 0]
        [--k 10] [--output results.csv]
    python -m recsys_core models
    python -m recsys_core sample --out DIR [--users N --items N --ratings N --seed S]

Without ``--ratings`` the bundled sample is used. Errors in the input are
printed as the same readable messages the dashboard shows (exit status 2).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

DEFAULT_MODELS = "svd,knn-basic,knn-means,knn-baseline,coclustering,baseline,popular"


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
    if not text:
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"--params must be JSON, e.g. '{{\"svd\": {{\"n_factors\": 50}}}}' ({error})")
    if not isinstance(params, dict):
        raise argparse.ArgumentTypeError("--params must be a JSON object keyed by model name")
    return params


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recsys_core", description="recsys-lab: compare recommender models on your ratings.")
    sub = parser.add_subparsers(dest="command", required=True)
    compare = sub.add_parser("compare", help="cross-validate models and print a comparison table")
    compare.add_argument("--ratings", help="ratings file (user, item, rating[, timestamp]); default: bundled sample")
    compare.add_argument("--items", help="item metadata file (id, title, genres, description...)")
    compare.add_argument("--users", help="user metadata file (id, age, gender, occupation...)")
    compare.add_argument("--tags", help="tags file (MovieLens tags.csv, or Goodbooks book_tags.csv)")
    compare.add_argument("--tag-names", help="Goodbooks tags.csv (tag_id, tag_name)")
    compare.add_argument("--skip-bad-lines", action="store_true",
                         help="skip malformed lines (wrong number of fields, empty ids, ratings that are not numbers) "
                              "instead of stopping; each skipped line is listed in the notes")
    compare.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated model names (default: {DEFAULT_MODELS})")
    compare.add_argument("--params", type=_parse_params, default={}, help='JSON hyper-parameters per model, e.g. \'{"svd": {"n_factors": 50}}\'')
    compare.add_argument("--split", default="kfold", choices=["kfold", "random", "temporal", "leave-last-out"])
    compare.add_argument("--folds", type=int, default=5, help="folds for --split kfold")
    compare.add_argument("--test-size", type=float, default=0.2, help="test share for random/temporal splits")
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument("--k", type=_parse_k, default=(10,), help="ranking cut-off(s), e.g. 10 or 5,10,20")
    compare.add_argument("--output", help="write the tidy results (model, fold, metric, k, bucket, value) to this CSV")
    compare.add_argument("--no-progress", action="store_true")
    sub.add_parser("models", help="list the available models")
    sample = sub.add_parser("sample", help="write a synthetic data set (the bundled sample, or a larger one)")
    sample.add_argument("--out", required=True)
    sample.add_argument("--users", type=int)
    sample.add_argument("--items", type=int)
    sample.add_argument("--ratings", type=int)
    sample.add_argument("--seed", type=int, default=0)
    return parser


def split_params(args: argparse.Namespace) -> dict:
    if args.split == "kfold":
        return {"n_folds": args.folds, "seed": args.seed}
    if args.split == "random":
        return {"test_size": args.test_size, "seed": args.seed}
    if args.split == "temporal":
        return {"test_fraction": args.test_size}
    return {"n": 1}


def run_compare(args: argparse.Namespace) -> int:
    from . import data
    from .evaluation.runner import ModelSpec, evaluate, summarise
    from .models import REGISTRY

    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        print(f"error: unknown model(s) {', '.join(unknown)}. Available: {', '.join(REGISTRY)}", file=sys.stderr)
        return 2
    if args.ratings:
        dataset = data.load_dataset(args.ratings, items=args.items, users=args.users, tags=args.tags, tag_names=args.tag_names,
                                    skip_bad_lines=args.skip_bad_lines)
    else:
        dataset = data.load_sample()
    summary = dataset.summary()
    print(f"{dataset.name}: {summary['users']} users, {summary['items']} items, {summary['ratings']} ratings "
          f"(density {summary['density']:.2%}, scale {summary['rating_min']:g}–{summary['rating_max']:g})")
    for line in dataset.report:
        print(f"  note: {line}")
    specs = [ModelSpec(name, args.params.get(name, {})) for name in names]
    bar, progress = (None, None) if args.no_progress else _progress_bar("evaluating")
    try:
        result = evaluate(dataset, specs, split=args.split, split_params=split_params(args), ks=args.k, progress=progress)
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
    return 1 if result.errors and len(result.errors) == len(specs) else 0


def run_models() -> int:
    from .models import REGISTRY

    for name, cls in REGISTRY.items():
        print(f"{name:14s} {cls.family:22s} {cls.explanation.split('.')[0]}.")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    from . import synthetic

    params = {key: value for key, value in (("n_users", args.users), ("n_items", args.items), ("n_ratings", args.ratings)) if value}
    synthetic.write_sample(args.out, seed=args.seed, **params)
    print(f"wrote ratings.csv, items.csv, users.csv to {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from .errors import RecsysError

    args = build_parser().parse_args(argv)
    try:
        if args.command == "compare":
            return run_compare(args)
        if args.command == "models":
            return run_models()
        return run_sample(args)
    except (RecsysError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
