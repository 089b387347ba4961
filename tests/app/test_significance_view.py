"""Compare page, "Is the difference real?": paired tests, intervals, the matrix and protocol checks."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from app_helpers import new_app, plotly_charts, texts, train
from recsys_core.evaluation import significance as S
from recsys_ui.exports import csv_bytes
from recsys_ui.significance_view import BETTER, pairwise_matrix, statistics_table


@pytest.fixture(scope="module")
def sample_compare():
    """The bundled sample (600 users) with popular, ease and item-knn-cosine trained on a random hold-out."""
    at = new_app()
    at.switch_page("pages/train.py").run()
    at.radio(key="train_split").set_value("random").run()
    train(at, ["popular", "ease", "item-knn-cosine"])
    assert not at.session_state["results"].errors
    return at.switch_page("pages/compare.py").run()


def _section(at) -> list[str]:
    return texts(at.markdown)


def test_section_reads_the_paired_evidence_in_plain_words(sample_compare):
    at = sample_compare
    assert not at.exception and not at.error
    assert "Is the difference real?" in texts(at.subheader)
    # The paired verdicts (the per-group section's gap sentences, "x serves users ...", carry intervals too).
    sentences = [s for s in _section(at) if "95% CI" in s and " serves " not in s]
    against_reference = [s for s in sentences if s.startswith("- **ease** beats **popular** on NDCG@10 by ")]
    assert len(sentences) == 2 and against_reference  # best vs runner-up, best vs the reference
    assert "after Holm's correction" in against_reference[0] and " users" in against_reference[0]
    keys = [chart.proto.id for chart in plotly_charts(at)]
    assert len(keys) == len(set(keys))
    assert any("Wilcoxon signed-rank test, Holm correction" in c for c in texts(at.caption))
    # A random split of timestamped data leaks: the check says how much.
    assert any(w.startswith("Leakage in time:") for w in texts(at.warning))
    assert [b.label for b in at.get("download_button")][-2:] == ["Download statistics (CSV)", "Download report (.zip)"]


def test_test_correction_and_user_group_follow_the_controls(sample_compare):
    at = sample_compare
    at.segmented_control(key="sig_test").set_value("ttest").run()
    at.selectbox(key="sig_correction").set_value("bonferroni").run()
    assert not at.exception
    sentence = next(s for s in _section(at) if " beats " in s and "95% CI" in s)
    assert "after Bonferroni's correction" in sentence and "; d = " in sentence
    at.segmented_control(key="sig_bucket").set_value(">20").run()
    assert not at.exception
    assert any("among users with >20 training ratings" in s for s in _section(at))
    at.selectbox(key="sig_metric").set_value("recall").run()
    assert not at.exception and any("Recall@10" in s for s in _section(at))
    at.segmented_control(key="sig_test").set_value("wilcoxon").run()
    at.selectbox(key="sig_correction").set_value("holm").run()
    at.segmented_control(key="sig_bucket").set_value("all").run()
    at.selectbox(key="sig_metric").set_value("ndcg").run()


def test_sampled_metrics_sit_beside_the_full_catalogue(sample_compare):
    at = sample_compare
    at.toggle(key="sig_sampled").set_value(True).run()
    assert not at.exception
    frame = next(df.value for df in at.dataframe if "NDCG@10 (sampled)" in df.value.columns)
    frame = frame.set_index("model")
    assert (frame["NDCG@10 (sampled)"] > frame["NDCG@10 (full)"]).all()
    assert (frame["Hit rate@10 (sampled)"] > frame["Hit rate@10 (full)"]).all()
    assert any("full-catalogue" in c for c in texts(at.caption))
    at.toggle(key="sig_sampled").set_value(False).run()


def test_pairwise_matrix_colours_the_winner_in_its_row():
    pairs = pd.DataFrame([{"model_a": "ease", "model_b": "popular", "difference": 0.2, "significant": True,
                           "p_adjusted": 1e-5, "n_users": 500, "note": ""}])
    fig = pairwise_matrix(pairs, ["ease", "popular"], "ndcg", 10)
    heat = fig.data[0]
    assert list(heat.z[0]) == [2.0, 1.0] and list(heat.z[1]) == [-1.0, 2.0]
    assert heat.text[0][1] == "+0.200" and heat.text[1][0] == "-0.200"
    # RMSE: lower is better, so the row with the negative difference is the winner.
    fig = pairwise_matrix(pairs.assign(difference=-0.1), ["ease", "popular"], "rmse", None)
    assert list(fig.data[0].z[0]) == [2.0, 1.0]
    assert BETTER in [c for _, c in fig.data[0].colorscale]


def test_seed_spread_refits_on_request(sample_compare):
    at = sample_compare
    next(b for b in at.button if b.label == "Refit every model with 5 seeds").click().run()
    assert not at.exception
    spread = next(df.value for df in at.dataframe if "range" in df.value.columns)
    assert set(spread["model"]) == {"popular", "ease", "item-knn-cosine"} and (spread["n_seeds"] == 5).all()
    assert any("seed noise" in c or "seed-to-seed range" in c for c in texts(at.caption))


def test_a_tuned_model_beside_untuned_ones_is_flagged(sample_compare):
    from recsys_core.evaluation.tuning import TuningResult

    at = sample_compare
    run = next(r for r in at.session_state["runs"].values() if r.name == "ease")
    searched = {name: value for name, value in run.params.items() if isinstance(value, (int, float))}
    assert searched
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda trial: trial.suggest_float("reg", 1.0, 2.0), n_trials=12)
    tuned = TuningResult("ease", "ndcg", 10, {}, best_params=searched, trials=pd.DataFrame({"number": range(12)}),
                         study=study)
    at.session_state["tune_results"] = {at.session_state["dataset"].fingerprint: {"ease": tuned}}
    at.run()
    assert not at.exception
    warnings = texts(at.warning)
    # popular has nothing to tune: only item-knn-cosine is the untuned one.
    assert any(w.startswith("Not tuned: item-knn-cosine.") and "not a fair comparison" in w for w in warnings)
    assert any("Tuned: ease (12 trials on validation NDCG@10)." in c for c in texts(at.caption))
    assert any(chart.proto.id and "sig-tuning-ease" in chart.proto.id for chart in plotly_charts(at))
    next(b for b in at.button if b.label == "Tune every model with the same budget (12 trials)").click().run()
    assert not at.exception
    assert at.session_state["tune_models"] == ["ease", "item-knn-cosine"] and at.session_state["tune_trials"] == 10
    assert at.multiselect(key="tune_models").value == ["ease", "item-knn-cosine"]
    del at.session_state["tune_results"]
    at.switch_page("pages/compare.py").run()


def test_statistics_download_carries_its_provenance(sample_compare):
    at = sample_compare
    data = at.session_state["dataset"]
    assert any(b.label == "Download statistics (CSV)" for b in at.get("download_button"))
    rng = np.random.default_rng(0)
    per_user = pd.DataFrame({"model": ["a"] * 30 + ["b"] * 30, "fold": 0, "metric": "ndcg", "k": 10,
                             "user": list(range(30)) * 2, "bucket": ">20", "value": rng.random(60)})
    result = S.compare(per_user, n_resamples=50)
    prov = {"dataset": data.name, "data_fingerprint": data.fingerprint, "seed": 0,
            "split": {"method": "random", "params": {"seed": 0, "test_size": 0.2}},
            "models": {"a": {"params": {"reg": 1.0}}, "b": {"params": {}}}}
    frame = statistics_table(result, prov, 0)
    assert set(frame["kind"]) == {"pair", "interval"}
    assert (frame["data_fingerprint"] == data.fingerprint).all() and (frame["resamples"] == 50).all()
    assert frame.loc[frame["kind"] == "pair", "model_params"].iloc[0] == '{"reg": 1.0}'
    assert len(pd.read_csv(io.BytesIO(csv_bytes(frame)))) == len(frame)


def test_train_page_says_before_a_run_whether_the_split_leaks():
    at = new_app()
    at.switch_page("pages/train.py").run()
    at.radio(key="train_split").set_value("random").run()
    assert any(c.startswith(":material/schedule: Leakage in time:") for c in texts(at.caption))
    at.radio(key="train_split").set_value("temporal").run()
    assert not at.exception
    note = next(c for c in texts(at.caption) if "Leakage in time:" in c)
    assert "0 of" in note  # each user's latest ratings are tested: none older than their own training ones


def test_comparison_report_holds_charts_numbers_settings_and_the_command(sample_compare):
    import time
    import zipfile

    from recsys_ui.significance_view import comparison_report, interval_bars, reproduce_command

    at = sample_compare
    assert any(b.label == "Download report (.zip)" for b in at.get("download_button"))
    per_user = pd.DataFrame({"model": ["<b>a</b>"] * 40 + ["b"] * 40, "fold": 0, "metric": "ndcg", "k": 10,
                             "user": list(range(40)) * 2, "bucket": ">20",
                             "value": np.r_[np.linspace(0.2, 0.9, 40), np.linspace(0.1, 0.8, 40)]})
    result = S.compare(per_user, n_resamples=100)
    prov = {"dataset": "sample", "data_fingerprint": "abc123", "seed": 0, "ks": [10], "versions": {"numpy": "2"},
            "split": {"method": "random", "params": {"seed": 0, "test_size": 0.2}, "description": "random 20%"},
            "models": {"<b>a</b>": {"model": "ease", "params": {"reg": 250.0}}, "b": {"model": "popular", "params": {}}}}
    command = reproduce_command(prov, [10], "wilcoxon", "holm", from_sample=True)
    assert command == ("python -m recsys_core compare --models ease,popular --split random --test-size 0.2 --seed 0 "
                       "--k 10 --params '{\"ease\": {\"reg\": 250.0}}' --significance --test wilcoxon --correction holm "
                       "--output results.csv")
    start = time.perf_counter()
    blob = comparison_report(provenance=prov, sentences=S.reading(result, "ndcg", 10), checks=["No leakage."],
                             figures=[interval_bars(result.interval("ndcg", 10), "ndcg", 10, ["<b>a</b>", "b"])],
                             statistics=statistics_table(result, prov, 0), per_user=per_user, command=command)
    assert time.perf_counter() - start < 5 and len(blob) < 5_000_000
    archive = zipfile.ZipFile(io.BytesIO(blob))
    assert set(archive.namelist()) == {"report.html", "per_user.csv", "significance.csv", "provenance.json"}
    page = archive.read("report.html").decode()
    assert "abc123" in page and "&lt;b&gt;a&lt;/b&gt; beats b on NDCG@10" in page and "<b>a</b>" not in page
    assert page.count("plotly.js v") <= 2 and "python -m recsys_core compare --models ease,popular" in page
    assert len(pd.read_csv(io.BytesIO(archive.read("per_user.csv")))) == 80


def test_the_pages_report_of_a_real_run(sample_compare):
    import zipfile

    from recsys_core.evaluation.runner import per_user_metrics
    from recsys_ui import exports
    from recsys_ui.significance_view import report_bytes

    at = sample_compare
    runs = [r for r in at.session_state["runs"].values() if r.name in ("ease", "popular")]
    runs = sorted(runs, key=lambda r: r.name)  # ease, popular
    splits = next(v for key, v in at.session_state["splits"].items() if key[1] == "random")
    per_user = pd.concat([per_user_metrics(r.model, splits[-1], label=r.label, ks=(5, 10, 20)) for r in runs])
    data = at.session_state["dataset"]
    prov = exports.provenance(dataset=data.name, fingerprint=data.fingerprint, split_method="random",
                              split_params={"test_size": 0.2, "seed": 0}, ks=(5, 10, 20),
                              models={r.label: {"model": r.name, "params": r.params} for r in runs})
    import time

    start = time.perf_counter()
    blob = report_bytes(per_user, [r.label for r in runs], splits, prov, {}, test="wilcoxon", correction="holm",
                        seed=0, metric="ndcg", metric_k=10, ranking_k=10, ks=(5, 10, 20), from_sample=True)
    assert time.perf_counter() - start < 5  # the goal for building the report
    page = zipfile.ZipFile(io.BytesIO(blob)).read("report.html").decode()
    assert "ease beats popular on NDCG@10 by" in page and "Leakage in time" in page
    assert "--models ease,popular" in page or "--models popular,ease" in page
    assert len(blob) < 5_000_000
