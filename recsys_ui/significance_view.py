"""The Compare page's "Is the difference real?" section: paired per-user evidence and protocol checks.

The statistics are :mod:`recsys_core.evaluation.significance`; this module draws them. The evidence is
each test user's value under each model, measured on the fitted models of the results (the last fold of
the split: a training keeps the models of its last fold), cached on the results' content key. Figures are
built by pure functions (:func:`interval_bars`, :func:`pairwise_matrix`), unit-testable without streamlit.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recsys_core.evaluation import significance as S
from recsys_core.evaluation.runner import ModelSpec, per_user_metrics
from recsys_core.evaluation.tuning import search_space

from . import ui  # first: at some revisions ui re-exports training, which imports ui
from . import charts, exports, fmt, reading, training

#: Cell colours of the pairwise matrix: the row model is better / worse (after correction) / no verdict.
BETTER, WORSE, UNCLEAR, SELF = "#2e7d32", "#c62828", "#d9d9d9", "#ffffff"


# ------------------------------------------------------------------ cached computations
@st.cache_data(show_spinner=False, max_entries=16)
def _per_user(key: tuple, _models: Mapping[str, Any], _fold: Any, ks: tuple[int, ...]) -> pd.DataFrame:
    frames = [per_user_metrics(model, _fold, label=label, ks=ks) for label, model in _models.items()]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=S.PER_USER_COLUMNS)


@st.cache_data(show_spinner=False, max_entries=32)
def _significance(key: tuple, _per_user_table: pd.DataFrame, models: tuple[str, ...], test: str, correction: str,
                  metrics: tuple[str, ...]) -> S.Significance:
    return S.compare(_per_user_table, models=list(models), test=test, correction=correction, metrics=list(metrics))


@st.cache_data(show_spinner=False, max_entries=16)
def _sampled(key: tuple, _models: Mapping[str, Any], _fold: Any, k: int, negatives: int) -> pd.DataFrame:
    frames = [S.sampled_metrics(model, _fold, ks=(k,), n_negatives=negatives, label=label)
              for label, model in _models.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=S.PER_USER_COLUMNS)


# ------------------------------------------------------------------ figures (pure)
def interval_bars(intervals: pd.DataFrame, metric: str, k: int | None, models: Sequence[str]) -> go.Figure:
    """Each model's mean over users with its bootstrap interval as an error bar."""
    part = intervals.set_index("model").reindex([m for m in models if m in set(intervals["model"])])
    colours = charts.model_colours(models)
    fig = go.Figure(go.Bar(
        x=list(part.index), y=part["mean"],
        marker_color=[colours[m] for m in part.index],
        error_y=dict(type="data", symmetric=False, array=part["ci_high"] - part["mean"],
                     arrayminus=part["mean"] - part["ci_low"], color="#333"),
        customdata=np.c_[part["ci_low"], part["ci_high"], part["n_users"]],
        hovertemplate="%{x}: %{y:.3f}<br>95% CI %{customdata[0]:.3f} to %{customdata[1]:.3f}<br>"
                      "%{customdata[2]} users<extra></extra>",
    ))
    label = S.metric_label(metric, k)
    fig.update_layout(title=dict(text=f"{label}: mean per user, 95% bootstrap interval", x=0, xanchor="left"),
                      height=340, margin=dict(l=10, r=10, t=50, b=10), yaxis_title=label, xaxis_title=None)
    return fig


def pairwise_matrix(pairs: pd.DataFrame, models: Sequence[str], metric: str, k: int | None) -> go.Figure:
    """Models x models: the cell (row, column) shows row minus column, coloured by the corrected verdict."""
    present = [m for m in models if m in set(pairs["model_a"]) | set(pairs["model_b"])]
    higher = reading.higher_is_better(metric) is not False
    n = len(present)
    code = np.zeros((n, n))
    text = [["" for _ in range(n)] for _ in range(n)]
    hover = [["" for _ in range(n)] for _ in range(n)]
    where = {m: i for i, m in enumerate(present)}
    for row in pairs.itertuples(index=False):
        i, j = where[row.model_a], where[row.model_b]
        for r, c, sign in ((i, j, 1.0), (j, i, -1.0)):
            difference = sign * row.difference
            if row.significant:
                code[r, c] = 1.0 if (difference > 0) == higher else -1.0
            text[r][c] = "–" if np.isnan(difference) else f"{difference:+.3f}"
            hover[r][c] = (f"{present[r]} − {present[c]}: {text[r][c]}<br>"
                           + (S.format_p(row.p_adjusted) + f", {row.n_users} users" if not row.note else row.note))
    for i in range(n):
        code[i, i], text[i][i] = 2.0, ""
    scale = [[0.0, WORSE], [0.33, WORSE], [0.33, UNCLEAR], [0.66, UNCLEAR], [0.66, BETTER], [0.9, BETTER],
             [0.9, SELF], [1.0, SELF]]
    fig = go.Figure(go.Heatmap(z=code, x=present, y=present, text=text, texttemplate="%{text}", zmin=-1, zmax=2,
                               colorscale=scale, showscale=False, hovertext=hover, hoverinfo="text", xgap=2, ygap=2))
    fig.update_layout(title=dict(text=f"{S.metric_label(metric, k)}: row minus column", x=0, xanchor="left"),
                      height=120 + 42 * n, margin=dict(l=10, r=10, t=50, b=10),
                      yaxis=dict(autorange="reversed"), xaxis=dict(side="top"))
    return fig


# ------------------------------------------------------------------ helpers
def tuned_runs(results: Any, fingerprint: str) -> dict[str, Any]:
    """Run label -> the tuning (``TuningResult``) whose best parameters it was trained with, this session."""
    from .tuning import RESULTS

    found = st.session_state.get(RESULTS, {}).get(fingerprint, {})
    out = {}
    for run in results.runs:
        tuned = found.get(run.name)
        if tuned is None or not tuned.best_params:
            continue
        if all(_close(run.params.get(name), value) for name, value in tuned.best_params.items()):
            out[run.label] = tuned
    return out


def tuning_info(results: Any, fingerprint: str) -> dict[str, S.TuningInfo]:
    """Which runs carry the parameters a tuning found, with its budget and validation metric."""
    return {label: S.TuningInfo(len(tuned.trials), tuned.metric, tuned.k)
            for label, tuned in tuned_runs(results, fingerprint).items()}


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=0))
    return a == b


def statistics_table(result: S.Significance, provenance: Mapping[str, Any], fold: int) -> pd.DataFrame:
    """Pairs and intervals in one tidy frame, with what produced them (data, split, seeds, test, correction)."""
    frame = pd.concat([result.pairwise.assign(kind="pair"), result.intervals.assign(kind="interval")],
                      ignore_index=True)
    return frame.assign(
        evidence_fold=fold, resamples=result.n_resamples, bootstrap_seed=result.seed, level=result.level,
        alpha=result.alpha, dataset=provenance.get("dataset"), data_fingerprint=provenance.get("data_fingerprint"),
        split_method=provenance["split"]["method"],
        split_params=json.dumps(provenance["split"]["params"], sort_keys=True), split_seed=provenance.get("seed"),
        model_params=frame["model"].fillna(frame["model_a"]).map(
            lambda m: json.dumps(provenance["models"].get(m, {}).get("params", {}), sort_keys=True, default=str)))


def reproduce_command(provenance: Mapping[str, Any], ks: Sequence[int], test: str, correction: str,
                      from_sample: bool) -> str:
    """The CLI call that reruns this comparison (data file path left for the person when it was an upload)."""
    split = provenance["split"]
    method, params = split["method"], split.get("params", {})
    parts = ["python -m recsys_core compare"]
    if not from_sample:
        parts.append("--ratings <your ratings file>")
    models = provenance.get("models", {})
    parts.append("--models " + ",".join(spec.get("model", label) for label, spec in models.items()))
    parts.append(f"--split {method}")
    if method == "kfold":
        parts.append(f"--folds {params.get('n_folds', 5)} --seed {params.get('seed', 0)}")
    elif method == "random":
        parts.append(f"--test-size {params.get('test_size', 0.2)} --seed {params.get('seed', 0)}")
    elif method == "temporal":
        parts.append(f"--test-size {params.get('test_fraction', 0.2)}")
    parts.append("--k " + ",".join(str(int(k)) for k in ks))
    chosen = {spec.get("model", label): spec.get("params", {}) for label, spec in models.items() if spec.get("params")}
    if chosen:
        parts.append("--params '" + json.dumps(chosen, sort_keys=True, default=str) + "'")
    parts.append(f"--significance --test {test} --correction {correction} --output results.csv")
    return " ".join(parts)


def comparison_report(*, provenance: Mapping[str, Any], sentences: Sequence[str], checks: Sequence[str],
                      figures: Sequence[go.Figure], statistics: pd.DataFrame, per_user: pd.DataFrame,
                      command: str) -> bytes:
    """One zip: ``report.html`` (charts embedded, plotly.js once), ``per_user.csv``, ``significance.csv``,
    ``provenance.json``. Everything from a file is HTML-escaped; CSVs are neutralised for spreadsheets."""
    import html
    import io
    import zipfile

    def para(text: str) -> str:
        return f"<p>{html.escape(text)}</p>"

    versions = ", ".join(f"{name} {version}" for name, version in provenance.get("versions", {}).items() if version)
    models = "".join(f"<li><b>{html.escape(label)}</b> ({html.escape(str(spec.get('model', label)))}): "
                     f"{html.escape(json.dumps(spec.get('params', {}), sort_keys=True, default=str))}</li>"
                     for label, spec in provenance.get("models", {}).items())
    charts_html = "".join(fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures))
    pairs = statistics[statistics["kind"] == "pair"][
        ["metric", "k", "bucket", "model_a", "model_b", "n_users", "n_ties", "difference", "ci_low", "ci_high",
         "p_value", "p_adjusted", "significant", "effect_size", "note"]]
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>recsys-lab comparison</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:2px 6px}}code{{background:#f4f4f4;padding:4px;display:block;white-space:pre-wrap}}</style>
</head><body><h1>recsys-lab comparison</h1>
<h2>What was compared</h2>
{para(f"Data: {provenance.get('dataset')} (fingerprint {provenance.get('data_fingerprint')}).")}
{para(f"Split: {provenance['split'].get('description') or provenance['split']['method']}; parameters "
      f"{json.dumps(provenance['split'].get('params', {}), sort_keys=True)}; K: {provenance.get('ks')}.")}
<ul>{models}</ul>
{para(f"Packages: {versions}.")}
<h2>Reproduce</h2><code>{html.escape(command)}</code>
<h2>What the evidence says</h2>{''.join(para(s) for s in sentences)}
<h2>Protocol checks</h2>{''.join(para(s) for s in checks)}
<h2>Charts</h2>{charts_html}
<h2>Every pair</h2>{pairs.to_html(index=False, float_format=lambda v: f"{v:.4g}", escape=True)}
</body></html>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.html", body)
        archive.writestr("per_user.csv", exports.csv_bytes(per_user))
        archive.writestr("significance.csv", exports.csv_bytes(statistics))
        archive.writestr("provenance.json", exports.json_bytes(dict(provenance)))
    return buffer.getvalue()


def report_bytes(per_user: pd.DataFrame, models: Sequence[str], splits: Sequence[Any], provenance: Mapping[str, Any],
                 tuning: Mapping[str, S.TuningInfo], *, test: str, correction: str, seed: int, metric: str,
                 metric_k: int | None, ranking_k: int, ks: Sequence[int], from_sample: bool) -> bytes:
    """The report of a comparison (every metric's statistics), as the page's "Download report" builds it."""
    models = list(models)
    everything = S.compare(per_user, models=models, test=test, correction=correction, seed=seed)
    sentences = [s for m, mk in ((metric, metric_k), ("ndcg", ranking_k), ("rmse", None)) for s in
                 S.reading(everything, m, mk, reference=reading.REFERENCE)]
    checks = [S.time_leakage(splits).sentence(), *S.split_losses(splits).sentences(), *S.tuning_note(tuning, models)]
    figures = [interval_bars(everything.interval(metric, metric_k), metric, metric_k, models),
               pairwise_matrix(everything.pairs(metric, metric_k), models, metric, metric_k)]
    return comparison_report(
        provenance=provenance, sentences=list(dict.fromkeys(sentences)), checks=checks, figures=figures,
        statistics=statistics_table(everything, provenance, splits[-1].fold), per_user=per_user,
        command=reproduce_command(provenance, ks, test, correction, from_sample))


def _bold(name: str) -> str:
    return f"**{fmt.text(name)}**"


# ------------------------------------------------------------------ the section
def section(current: Any, table: pd.DataFrame, k: int | None, bucket_labels: Sequence[str]) -> None:
    """Paired tests, intervals, the pairwise matrix, protocol checks and a statistics download."""
    data = ui.dataset()
    st.subheader("Is the difference real?", divider="gray")
    models = [m for m in current.labels if m in set(table["model"])]
    if len(models) < 2:
        st.info("Train at least two models to test whether one is really better.", icon=":material/info:")
        return
    splits = training.splits_for(data, current.split_method, current.split_params)
    fold = splits[-1]
    ks = tuple(sorted(int(v) for v in current.ks))
    per_user = _per_user(current.content_key, current.models, fold, ks)
    # Per-user beyond-accuracy metrics (ARP, long-tail share, calibration KL, serendipity, diversity) are tested
    # like the ranking ones; aggregate ones (Gini, coverage, aggregate diversity) have no per-user values.
    candidates = [m for m in reading.RANKING_METRICS + ("rmse", "mae") + reading.BEYOND_ACCURACY
                  if (per_user["metric"] == m).any()]
    if not candidates:
        st.info("No per-user values to test (no test user has a relevant item).", icon=":material/info:")
        return
    cells = st.columns([2, 2, 2, 3])
    metric = cells[0].selectbox("Metric", candidates, format_func=lambda m: reading.METRICS[m].label,
                                key="sig_metric", help="The metric the tests, intervals and matrix use.")
    test = cells[1].segmented_control("Test", list(S.TESTS), default="wilcoxon", key="sig_test", required=True,
                                      format_func=lambda t: {"wilcoxon": "Wilcoxon", "ttest": "paired t"}[t],
                                      help="Wilcoxon signed-rank (default) assumes nothing about the shape of the "
                                           "per-user differences; the paired t-test compares their mean.")
    correction = cells[2].selectbox("Correction", list(S.CORRECTIONS), key="sig_correction",
                                    format_func=lambda c: {"holm": "Holm", "bonferroni": "Bonferroni",
                                                           "fdr_bh": "Benjamini–Hochberg", "none": "none"}[c],
                                    help="Many pairs are compared at once: the p-values are corrected across "
                                         "the pairs of the matrix, so that 'significant' keeps its meaning.")
    groups = ["all"] + [b for b in bucket_labels if (per_user["bucket"] == b).any()]
    bucket = cells[3].segmented_control("Users", groups, default="all", key="sig_bucket", required=True,
                                        format_func=lambda b: "all" if b == "all" else b,
                                        help="Users grouped by their number of training ratings.")
    metric_k = None if metric in ("rmse", "mae") else (k or ks[-1])
    result = _significance(current.content_key, per_user, tuple(models), test, correction, (metric,))
    pairs = result.pairs(metric, metric_k, bucket)
    intervals = result.interval(metric, metric_k, bucket)
    n_users = int(intervals["n_users"].max()) if len(intervals) else 0
    st.caption(
        f"Evidence: each of the {fmt.plural(n_users, 'test user')} "
        f"{'of the last fold ' if len(splits) > 1 else ''}scored under every model, paired user by user. "
        f"{S.TESTS[test].capitalize()} test, {S.CORRECTIONS[correction]} correction across the "
        f"{fmt.plural(len(pairs), 'pair')} below, 95% intervals from {result.n_resamples:,} bootstrap resamples of "
        "the users (seeded: the same numbers every time). Users with the same value under both models are counted "
        "as ties.")
    for sentence in S.reading(result, metric, metric_k, bucket, reference=reading.REFERENCE, bold=_bold):
        st.markdown(f"- {sentence}")
    left, right = st.columns(2)
    if len(intervals):
        left.plotly_chart(interval_bars(intervals, metric, metric_k, models), key="sig-bars")
    if len(pairs):
        right.plotly_chart(pairwise_matrix(pairs, models, metric, metric_k), key="sig-matrix")
        right.caption("Green: the row model is better after correction (and the interval of the difference "
                      "excludes 0); red: worse; grey: cannot be told apart. Each cell is row minus column.")
    with st.expander("Every pair in numbers"):
        shown = pairs[["model_a", "model_b", "n_users", "n_ties", "difference", "ci_low", "ci_high", "p_value",
                       "p_adjusted", "significant", "effect_name", "effect_size", "note"]]
        st.dataframe(shown, hide_index=True, width="stretch")
    _protocol(current, splits, fold, models, table, metric_k or 10)
    provenance = exports.run_provenance(current, data)
    download = statistics_table(result, provenance, fold.fold)
    cells = st.columns([1, 1, 3])
    cells[0].download_button("Download statistics (CSV)", exports.csv_bytes(download),
                             file_name="recsys-lab-significance.csv", mime="text/csv", icon=":material/download:",
                             on_click="ignore", key="sig-download",
                             help="Every pair's test, interval and effect size, and every model's interval, for the "
                                  "metric shown, overall and per user group, with what produced them.")

    def build_report() -> bytes:
        return report_bytes(per_user, models, splits, provenance, tuning_info(current, current.fingerprint),
                            test=test, correction=correction, seed=result.seed, metric=metric, metric_k=metric_k,
                            ranking_k=k or ks[-1], ks=ks, from_sample=ui.dataset_source() == "the bundled sample")

    cells[1].download_button("Download report (.zip)", data=build_report, file_name="recsys-lab-comparison.zip",
                             mime="application/zip", icon=":material/summarize:", key="sig-report",
                             help="An HTML report (charts included) with every metric's tests, the raw per-user "
                                  "values as CSV, the settings and the command that reruns the comparison.")


def leakage_note(splits: Sequence[Any]) -> None:
    """Before a run (Train page): whether the chosen split tests on interactions older than training ones."""
    leak = S.time_leakage(splits)
    if leak.has_timestamps:
        st.caption(f":material/schedule: {leak.sentence()}" if leak.leaks else leak.sentence())


def _seed_spread(current: Any, fold: Any, models: list[str], k: int) -> None:
    """On request: refit every model with 5 seeds on the last fold; spread beside the gap between models."""
    store = st.session_state.setdefault("sig_seed_spread", {})
    key = current.content_key + (k,)
    if key not in store:
        if st.button("Refit every model with 5 seeds", key="sig_seeds", icon=":material/casino:",
                     help="Only each model's own seed changes (same split, same parameters): how much of a gap "
                          "between two models is seed noise. Costs five fits per model."):
            bar = st.progress(0.0, text="Refitting…")
            specs = [ModelSpec(run.name, dict(run.params), run.label) for run in current.runs]
            runs = S.seed_runs(fold, specs, ks=(k,), progress=lambda f, m: bar.progress(min(1.0, f), text=m))
            store[key] = S.seed_spread(runs)
            bar.empty()
    if key in store:
        spread = store[key]
        st.dataframe(spread[["model", "n_seeds", "mean", "std", "low", "high", "range"]], hide_index=True,
                     width="stretch")
        ranked = spread.sort_values("mean", ascending=False)["model"].tolist()
        if len(ranked) >= 2:
            top = spread.set_index("model")["mean"]
            row = {"metric": "ndcg", "k": k, "model_a": ranked[0], "model_b": ranked[1],
                   "difference": float(top[ranked[0]] - top[ranked[1]])}
            sentence = S.seed_noise_sentence(spread, row)
            if sentence:
                st.caption(fmt.text(sentence))


def _protocol(current: Any, splits: list, fold: Any, models: list[str], table: pd.DataFrame, k: int) -> None:
    st.markdown("**Protocol checks**")
    leak = S.time_leakage(splits)
    (st.warning if leak.leaks else st.caption)(leak.sentence())
    for sentence in S.split_losses(splits).sentences():
        st.caption(sentence)
    tuned = tuned_runs(current, current.fingerprint)
    info = {label: S.TuningInfo(len(t.trials), t.metric, t.k) for label, t in tuned.items()}
    names = {run.label: run.name for run in current.runs}
    tunable = [m for m in models if search_space(names.get(m, m))]
    notes = S.tuning_note(info, models, tunable)
    for note in notes:
        st.warning(fmt.text(note), icon=":material/tune:") if "not a fair" in note else st.caption(fmt.text(note))
    untuned = [names.get(m, m) for m in tunable if m not in info]
    if info and untuned:
        budget = max(i.n_trials for i in info.values())
        if st.button(f"Tune every model with the same budget ({budget} trials)", key="sig_tune_all",
                     icon=":material/tune:", help="Opens the Train page's Tune section with every model that has "
                                                   "parameters to search and the same number of trials."):
            st.session_state["tune_models"] = [names.get(m, m) for m in tunable]
            st.session_state["tune_trials"] = int(min(100, max(5, 5 * round(budget / 5))))  # the slider's step
            st.switch_page("pages/train.py")
    if not notes:
        st.caption("No model was tuned in this session: every model runs with the parameters set on the Train page.")
    studies = {label: t.study for label, t in tuned.items() if t.study is not None}
    if studies:
        import optuna

        with st.expander("How each tuning progressed (best so far per trial)"):
            for label, study in studies.items():
                st.plotly_chart(optuna.visualization.plot_optimization_history(study).update_layout(
                    title=f"{label}: validation score per trial", height=300), key=f"sig-tuning-{label}")
    _seed_spread(current, fold, models, k)
    if st.toggle("Also show sampled metrics (HR and NDCG against sampled negatives)", key="sig_sampled",
                 help="Many papers rank each test item among 100 random items instead of the whole catalogue."):
        negatives = int(st.number_input("Negatives per positive", 1, 10_000, 100, step=50, key="sig_negatives"))
        sampled = _sampled(current.content_key + (negatives, k), current.models, fold, k, negatives)
        full = _per_user(current.content_key, current.models, fold, tuple(sorted(int(v) for v in current.ks)))
        rows = []
        for model in models:
            row = {"model": model}
            for metric in ("hit_rate", "ndcg"):
                f = full[(full["model"] == model) & (full["metric"] == metric) & (full["k"] == k)]["value"]
                s_ = sampled[(sampled["model"] == model) & (sampled["metric"] == f"{metric}_sampled")]["value"]
                row[f"{reading.METRICS[metric].label}@{k} (full)"] = f.mean() if len(f) else np.nan
                row[f"{reading.METRICS[metric].label}@{k} (sampled)"] = s_.mean() if len(s_) else np.nan
            rows.append(row)
        frame = pd.DataFrame(rows)
        st.dataframe(frame, hide_index=True, width="stretch")
        column = f"{reading.METRICS['ndcg'].label}@{k}"
        sentence = S.ranking_agreement(dict(zip(frame["model"], frame[f"{column} (full)"])),
                                       dict(zip(frame["model"], frame[f"{column} (sampled)"])))
        if sentence:
            st.caption(fmt.text(sentence))
