"""Per-user paired statistics and protocol checks, against scipy / statsmodels and hand-worked literals."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from recsys_core.dataset import Dataset
from recsys_core.evaluation import significance as S
from recsys_core.evaluation.runner import PER_USER_COLUMNS, evaluate, per_user_metrics
from recsys_core.evaluation.splits import Split, make_splits



def _multitest():
    """statsmodels' corrections, the independent reference (requirements-test.txt installs statsmodels)."""
    return pytest.importorskip("statsmodels.stats.multitest")


# ------------------------------------------------------------------ corrections
def test_corrections_hand_worked():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.06.
    np.testing.assert_allclose(S.adjust_pvalues(p, "holm"), [0.03, 0.06, 0.06, 0.02], atol=1e-12)
    np.testing.assert_allclose(S.adjust_pvalues(p, "bonferroni"), [0.04, 0.16, 0.12, 0.02], atol=1e-12)
    # BH: p_(i) * 4 / i = 0.02, 0.02, 0.04, 0.04 (already monotone).
    np.testing.assert_allclose(S.adjust_pvalues(p, "fdr_bh"), [0.02, 0.04, 0.04, 0.02], atol=1e-12)
    np.testing.assert_allclose(S.adjust_pvalues(p, "none"), p)


@pytest.mark.parametrize("method", ["holm", "bonferroni", "fdr_bh"])
def test_corrections_agree_with_statsmodels(method):
    multitest = _multitest()
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 40):
        p = np.concatenate([rng.random(size) ** 3, [0.5, 0.5]])  # includes equal p-values
        expected = multitest.multipletests(p, method=method)[1]
        np.testing.assert_allclose(S.adjust_pvalues(p, method), expected, rtol=0, atol=1e-12)


def test_corrections_skip_missing_tests_and_refuse_bad_input():
    adjusted = S.adjust_pvalues([0.01, np.nan, 0.04], "holm")
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2]], [0.02, 0.04])  # two comparisons, not three
    with pytest.raises(ValueError, match="Unknown correction"):
        S.adjust_pvalues([0.1], "sidak-ish")
    with pytest.raises(ValueError, match="between 0 and 1"):
        S.adjust_pvalues([1.5])


# ------------------------------------------------------------------ tests and effect sizes
def _paired_sample(n: int, seed: int, shift: float = 0.02, ties: float = 0.3):
    rng = np.random.default_rng(seed)
    a = np.round(rng.random(n), 2)  # rounded: tied magnitudes, as per-user metrics have
    b = np.round(a + rng.normal(shift, 0.1, n), 2)
    same = rng.random(n) < ties
    b[same] = a[same]
    return a, b


@pytest.mark.parametrize("n,seed", [(60, 0), (300, 1), (943, 2)])
def test_wilcoxon_agrees_with_scipy_on_tied_data(n, seed):
    a, b = _paired_sample(n, seed)
    result = S.paired_test(a, b, "wilcoxon")
    reference = stats.wilcoxon(a, b, zero_method="wilcox", method="approx")
    assert result.statistic == pytest.approx(float(reference.statistic), abs=1e-9)
    assert result.p_value == pytest.approx(float(reference.pvalue), rel=1e-9, abs=1e-12)
    assert result.n_users == n and result.n_ties == int(np.sum(a == b)) > 0


def test_wilcoxon_small_untied_sample_is_exact_as_scipy():
    a = np.array([0.10, 0.32, 0.55, 0.70, 0.21, 0.90, 0.45, 0.63, 0.05, 0.38, 0.81, 0.27])
    b = a - np.array([0.011, -0.023, 0.037, 0.042, -0.005, 0.061, 0.078, -0.019, 0.093, 0.104, 0.029, 0.057])
    result = S.paired_test(a, b, "wilcoxon")
    reference = stats.wilcoxon(a, b, method="exact")
    assert result.p_value == pytest.approx(float(reference.pvalue), abs=1e-12)
    assert result.statistic == float(reference.statistic)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_t_agrees_with_scipy(seed):
    a, b = _paired_sample(200, seed)
    result = S.paired_test(a, b, "ttest")
    reference = stats.ttest_rel(a, b)
    assert result.statistic == pytest.approx(float(reference.statistic), rel=1e-9)
    assert result.p_value == pytest.approx(float(reference.pvalue), rel=1e-9, abs=1e-15)
    d = a - b
    assert result.effect_size == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-12)


def test_effect_sizes_hand_worked():
    # Non-zero differences 1, -2, 3, 4 have ranks 1, 2, 3, 4: R+ = 8, R- = 2, r = (8 - 2) / 10.
    assert S.rank_biserial(np.array([1.0, -2.0, 3.0, 0.0, 4.0])) == pytest.approx(0.6)
    # Tied magnitudes share the mean rank: |d| = 1, 1, 2 -> ranks 1.5, 1.5, 3; R+ = 1.5 + 3, R- = 1.5.
    assert S.rank_biserial(np.array([1.0, -1.0, 2.0])) == pytest.approx((4.5 - 1.5) / 6)
    assert S.cohens_dz(np.array([1.0, 2.0, 3.0])) == pytest.approx(2.0)
    assert math.isnan(S.cohens_dz(np.array([0.5, 0.5, 0.5])))


def test_ties_are_counted_not_dropped_and_small_or_constant_cases_say_why():
    a = np.r_[np.linspace(0.1, 0.9, 20), np.full(5, 0.5)]
    b = np.r_[np.linspace(0.1, 0.9, 20) - 0.05, np.full(5, 0.5)]
    result = S.paired_test(a, b)
    assert (result.n_users, result.n_ties) == (25, 5)
    assert result.difference == pytest.approx(20 * 0.05 / 25)
    few = S.paired_test(a[:9], b[:9])
    assert math.isnan(few.p_value) and few.note == "too few users to tell"
    constant = S.paired_test(np.zeros(30), np.zeros(30))
    assert math.isnan(constant.p_value) and constant.note == "no difference to test"
    same = S.paired_test(a, a.copy())
    assert math.isnan(same.p_value) and "no difference" in same.note
    with pytest.raises(ValueError, match="user for user"):
        S.paired_test(a, b[:-1])
    with pytest.raises(ValueError, match="Unknown test"):
        S.paired_test(a, b, "sign")


# ------------------------------------------------------------------ bootstrap
def test_bootstrap_interval_covers_a_known_difference_93_to_97_percent():
    # 150 users per simulation (a small bucket). The percentile interval undercovers a little at fewer users
    # (about 92.5% at 80, as any percentile bootstrap does), which is why buckets under 10 users get no test.
    rng = np.random.default_rng(12345)
    truth, covered = 0.05, 0
    for simulation in range(400):
        a = rng.normal(0.3, 0.2, 150)
        b = a - truth + rng.normal(0, 0.15, 150)
        low, high = S.paired_bootstrap_ci(a, b, seed=simulation)
        covered += low <= truth <= high
    assert 0.93 * 400 <= covered <= 0.97 * 400, covered


def test_bootstrap_is_reproducible_and_paired():
    rng = np.random.default_rng(0)
    a = rng.random(100)
    b = a + 0.01  # a constant gap: paired resampling keeps it exactly
    assert S.paired_bootstrap_ci(a, b, seed=4) == S.paired_bootstrap_ci(a, b, seed=4)
    assert S.bootstrap_ci(a, seed=4) != S.bootstrap_ci(a, seed=5)
    low, high = S.paired_bootstrap_ci(b, a, seed=4)
    assert low == pytest.approx(0.01) and high == pytest.approx(0.01)
    replicates = S.bootstrap_means(np.vstack([a, b]), 50, seed=1)
    assert replicates.shape == (2, 50)
    np.testing.assert_allclose(replicates[1] - replicates[0], 0.01)
    # One resample is a mean of users drawn with replacement: always within the range of the values.
    assert replicates.min() >= a.min() and replicates.max() <= b.max()
    with pytest.raises(ValueError, match="NaN"):
        S.bootstrap_means(np.array([1.0, np.nan]))


# ------------------------------------------------------------------ the comparison table
def _per_user(values: dict[str, np.ndarray], metric: str = "ndcg", k: int | None = 10, fold: int = 0,
              buckets: np.ndarray | None = None, users: np.ndarray | None = None) -> pd.DataFrame:
    frames = []
    for model, v in values.items():
        u = np.arange(len(v)) if users is None else users
        frames.append(pd.DataFrame({"model": model, "fold": fold, "metric": metric, "k": k, "user": u,
                                    "bucket": ">20" if buckets is None else buckets, "value": v}))
    return pd.concat(frames, ignore_index=True)


def test_compare_matches_the_single_tests_and_corrects_across_pairs():
    multitest = _multitest()
    rng = np.random.default_rng(7)
    base = rng.random(200)
    values = {"a": base + 0.05, "b": base + rng.normal(0, 0.05, 200), "c": base}
    result = S.compare(_per_user(values), n_resamples=200, buckets=False)
    pairs = result.pairs("ndcg", 10)
    assert list(zip(pairs["model_a"], pairs["model_b"])) == [("a", "b"), ("a", "c"), ("b", "c")]
    raw = [stats.wilcoxon(values[x], values[y], method="approx").pvalue for x, y in
           [("a", "b"), ("a", "c"), ("b", "c")]]
    np.testing.assert_allclose(pairs["p_value"], raw, rtol=1e-9)
    np.testing.assert_allclose(pairs["p_adjusted"], multitest.multipletests(raw, method="holm")[1], rtol=1e-9)
    assert pairs.loc[1, "difference"] == pytest.approx(0.05)
    assert pairs.loc[1, "significant"]
    intervals = result.interval("ndcg", 10)
    assert intervals["n_users"].tolist() == [200, 200, 200]
    assert (intervals["ci_low"] < intervals["mean"]).all() and (intervals["mean"] < intervals["ci_high"]).all()


def test_two_copies_of_a_model_are_never_significantly_different():
    rng = np.random.default_rng(1)
    v = rng.random(500)
    result = S.compare(_per_user({"ease": v, "ease (copy)": v.copy()}), n_resamples=100)
    row = result.pairs("ndcg", 10).iloc[0]
    assert not row["significant"] and math.isnan(row["p_value"]) and row["n_ties"] == 500
    assert "cannot be told apart" in S.describe_pair(row.to_dict()) or "no difference" in S.describe_pair(row.to_dict())


def test_models_on_different_users_are_refused_for_paired_tests_but_keep_their_intervals():
    table = pd.concat([_per_user({"a": np.linspace(0, 1, 50)}),
                       _per_user({"b": np.linspace(0, 1, 50)}, users=np.arange(10, 60))])
    result = S.compare(table, n_resamples=100, buckets=False)
    row = result.pairs("ndcg", 10).iloc[0]
    assert row["n_users"] == 0 and math.isnan(row["p_value"]) and not row["significant"]
    assert "different splits or users" in row["note"] and "own intervals" in row["note"]
    assert result.interval("ndcg", 10)["ci_low"].notna().all()
    assert "different splits or users" in S.describe_pair(row.to_dict())


def test_buckets_with_few_users_get_no_test_and_k_fold_users_count_once():
    rng = np.random.default_rng(2)
    buckets = np.where(np.arange(100) < 8, "≤5", ">20")
    folds = [_per_user({"a": rng.random(100) + 0.3, "b": rng.random(100)}, fold=f, buckets=buckets) for f in (0, 1)]
    result = S.compare(pd.concat(folds), n_resamples=100)
    few = result.pairs("ndcg", 10, "≤5").iloc[0]
    assert few["note"] == "too few users to tell" and few["n_users"] == 8 and not few["significant"]
    many = result.pairs("ndcg", 10, ">20").iloc[0]
    assert many["n_users"] == 92 and many["significant"]
    assert result.pairs("ndcg", 10).iloc[0]["n_users"] == 100  # two folds, each user once (mean over folds)


def test_sentences_say_who_wins_by_how_much_and_respect_lower_is_better():
    row = {"metric": "rmse", "k": None, "bucket": "all", "model_a": "svd", "model_b": "baseline", "n_users": 921,
           "n_ties": 3, "difference": -0.021, "ci_low": -0.03, "ci_high": -0.012, "p_adjusted": 0.0004,
           "significant": True, "effect_size": -0.4, "test": "wilcoxon", "note": ""}
    sentence = S.describe_pair(row, "holm")
    assert sentence.startswith("svd beats baseline on RMSE by 0.021 (95% CI 0.012 to 0.030, p < 0.001 after Holm")
    assert "921 users, 3 tied" in sentence and "r = 0.400" in sentence
    row.update(metric="ndcg", k=10, significant=False, p_adjusted=0.41, difference=-0.004, ci_low=-0.014,
               ci_high=0.006, model_a="ease", model_b="als")
    sentence = S.describe_pair(row, "holm")
    assert sentence.startswith("als and ease cannot be told apart on NDCG@10 (difference 0.004, 95% CI −0.006 to "
                               "0.014, p = 0.410")


# ------------------------------------------------------------------ per-user values from the runner
@pytest.fixture(scope="module")
def sample_run():
    from recsys_core.data import load_sample

    data = load_sample()
    splits = make_splits(data, "random", seed=0)
    result = evaluate(data, ["ease", "popular"], splits=splits, ks=(10,), per_user=True)
    assert not result.errors
    return data, splits, result


def test_per_user_values_average_to_the_results_table(sample_run):
    _, splits, result = sample_run
    per_user = result.per_user
    assert list(per_user.columns) == PER_USER_COLUMNS
    table = result.table
    for metric in ("ndcg", "recall", "hit_rate"):
        for model in ("ease", "popular"):
            expected = table[(table["model"] == model) & (table["metric"] == metric) & (table["bucket"] == "all")]
            values = per_user[(per_user["model"] == model) & (per_user["metric"] == metric)]["value"]
            assert values.mean() == pytest.approx(float(expected["value"].iloc[0]), rel=1e-12)
    again = per_user_metrics(result.models["ease"], splits[-1], label="ease", ks=(10,))
    mine = per_user[per_user["model"] == "ease"].reset_index(drop=True)
    pd.testing.assert_frame_equal(again.reset_index(drop=True), mine, check_dtype=False)


def test_per_user_rating_errors_are_each_users_own(sample_run):
    data, splits, _ = sample_run
    result = evaluate(data, ["baseline"], splits=splits, ks=(), per_user=True)
    frame = result.per_user
    rmse = frame[frame["metric"] == "rmse"].set_index("user")["value"]
    model, test = result.models["baseline"], splits[0].test.interactions
    user = int(rmse.index[0])
    rows = test[test["user_idx"] == user]
    estimate, _ = model.predict_indices(rows["user_idx"].to_numpy(), rows["item_idx"].to_numpy())
    assert rmse[user] == pytest.approx(math.sqrt(np.mean((estimate - rows["rating"].to_numpy()) ** 2)))
    assert len(rmse) == test["user_idx"].nunique()


def test_ease_beats_popular_on_the_sample_in_every_bucket_of_50_users_or_more(sample_run):
    _, _, result = sample_run
    significance = S.compare(result.per_user, metrics=["ndcg"], n_resamples=500)
    checked = 0
    for _, row in significance.pairwise.iterrows():
        if row["n_users"] >= 50:
            assert row["significant"] and row["difference"] > 0, row.to_dict()
            checked += 1
    assert checked >= 2
    sentence = S.reading(significance, "ndcg", 10, reference="popular")[0]
    assert sentence.startswith("ease beats popular on NDCG@10 by ") and "users" in sentence


# ------------------------------------------------------------------ time leakage and losses
LEAK_ROWS = [("a", "i1", 4.0, 10), ("a", "i2", 5.0, 20), ("a", "i3", 2.0, 5), ("b", "i1", 3.0, 30),
             ("b", "i2", 4.0, 40)]


def _leak_data() -> Dataset:
    return Dataset.from_frames(pd.DataFrame(LEAK_ROWS, columns=["user", "item", "rating", "timestamp"]),
                               name="leak", rating_scale=(1, 5))


def _split(data: Dataset, train: list[int], test: list[int]) -> Split:
    return Split(0, data.subset(np.array(train)), data.subset(np.array(test)))


def test_time_leakage_is_exact_on_a_literal_split():
    data = _leak_data()
    # Test a@5 is older than a's newest training rating (20) and than the newest overall (30); b@40 is neither.
    leaky = S.time_leakage([_split(data, [0, 1, 3], [2, 4])])
    assert (leaky.n_test, leaky.before_user_newest, leaky.before_newest) == (2, 1, 1) and leaky.leaks
    assert "1 of 2 test interactions (50%)" in leaky.sentence() and "global time split" in leaky.sentence()
    # Global time split: everything at t <= 20 trains, t >= 30 is tested.
    clean = S.time_leakage([_split(data, [0, 1, 2], [3, 4])])
    assert (clean.before_user_newest, clean.before_newest) == (0, 0) and not clean.leaks
    assert clean.sentence().startswith("No leakage in time")


def test_time_leakage_of_a_random_split_matches_a_plain_count():
    from recsys_core.data import load_sample

    data = load_sample()
    splits = make_splits(data, "kfold", n_folds=3, seed=1)
    leak = S.time_leakage(splits)
    per_user = overall = 0
    for split in splits:
        train, test = split.train.interactions, split.test.interactions
        newest = train.groupby("user_idx")["timestamp"].max().to_dict()
        overall += int((test["timestamp"] < train["timestamp"].max()).sum())
        per_user += sum(int(t < newest.get(u, -np.inf)) for u, t in zip(test["user_idx"], test["timestamp"]))
    assert (leak.before_user_newest, leak.before_newest) == (per_user, overall)
    assert leak.before_newest > 0.5 * leak.n_test  # a random split leaks most of its test part
    without = S.time_leakage([Split(0, s.train, s.test) for s in make_splits(
        Dataset.from_frames(data.interactions[["user", "item", "rating"]].astype({"user": str, "item": str}),
                            rating_scale=data.rating_scale), "random", seed=0)])
    assert not without.has_timestamps and "no timestamps" in without.sentence()


def test_split_losses_count_who_cannot_be_evaluated():
    data = _leak_data()
    # Train a's ratings only; test b's: b has no training data and item i2 ... i1 and i2 have training rows.
    losses = S.split_losses([_split(data, [0, 1, 2], [3, 4])], threshold=4.0)
    assert losses.n_test_users == 1 and losses.users_without_training == 1
    assert losses.ranked_users == 1 and losses.users_without_relevant == 0
    assert losses.interactions_of_unseen_items == 0 and losses.users_never_tested == 1
    losses = S.split_losses([_split(data, [0, 3], [1, 2, 4])], threshold=4.5)
    # Test: a-i2 (5.0, relevant), a-i3 (2.0), b-i2 (4.0); i2 and i3 have no training row.
    assert losses.interactions_of_unseen_items == 3 and losses.ranked_users == 1 and losses.users_without_relevant == 1
    assert any("no relevant test item" in s for s in losses.sentences())


# ------------------------------------------------------------------ sampled metrics
def test_sampled_metrics_hand_worked():
    scores = np.array([[9.0, 5.0, 7.0, 3.0, 6.0, 4.0]])
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0, 0, 0]]))
    relevant = sp.csr_matrix(np.array([[0, 1, 0, 1, 0, 0]]))
    # 10 negatives asked, 3 exist ({2, 4, 5}): all are drawn, the seen item 0 and the other positive never.
    # Positive 1 (score 5): items 2 (7) and 4 (6) above -> rank 2. Positive 3 (score 3): 2, 4, 5 above -> rank 3.
    values = S.sampled_per_user(lambda rows: scores[rows], seen, relevant, np.array([0]), ks=(3, 4), n_negatives=10)
    assert values[("hit_rate", 3)][0] == pytest.approx(0.5)
    assert values[("ndcg", 3)][0] == pytest.approx((1 / math.log2(4)) / 2)
    assert values[("hit_rate", 4)][0] == pytest.approx(1.0)
    assert values[("ndcg", 4)][0] == pytest.approx((1 / math.log2(4) + 1 / math.log2(5)) / 2)
    # A tie with a negative: lost without a tie-break, won with one that puts the positive first.
    tied = np.array([[9.0, 6.0, 7.0, 3.0, 6.0, 4.0]])
    loses = S.sampled_per_user(lambda rows: tied[rows], seen, relevant, np.array([0]), ks=(2,), n_negatives=10)
    wins = S.sampled_per_user(lambda rows: tied[rows], seen, relevant, np.array([0]), ks=(2,), n_negatives=10,
                              tie_break=np.array([5, 0, 1, 2, 3, 4]))
    assert loses[("hit_rate", 2)][0] == 0.0 and wins[("hit_rate", 2)][0] == 0.5
    with pytest.raises(ValueError, match="n_negatives"):
        S.sampled_per_user(lambda rows: scores[rows], seen, relevant, np.array([0]), n_negatives=0)


def test_sampled_metrics_are_higher_than_full_catalogue_on_the_sample(sample_run):
    _, splits, result = sample_run
    full = result.per_user
    sentences = {}
    for model in ("ease", "popular"):
        sampled = S.sampled_metrics(result.models[model], splits[-1], ks=(10,), n_negatives=100, label=model)
        assert set(sampled["metric"]) == {"hit_rate_sampled", "ndcg_sampled"}
        for metric in ("hit_rate", "ndcg"):
            honest = full[(full["model"] == model) & (full["metric"] == metric)]["value"].mean()
            inflated = sampled[sampled["metric"] == f"{metric}_sampled"]["value"].mean()
            assert inflated > honest, (model, metric, inflated, honest)
            sentences.setdefault(metric, {})[model] = (honest, inflated)
        again = S.sampled_metrics(result.models[model], splits[-1], ks=(10,), label=model)
        pd.testing.assert_frame_equal(sampled, again)  # seeded
    full_ndcg = {m: v[0] for m, v in sentences["ndcg"].items()}
    sampled_ndcg = {m: v[1] for m, v in sentences["ndcg"].items()}
    assert "full-catalogue" in S.ranking_agreement(full_ndcg, sampled_ndcg)


def test_ranking_agreement_says_when_sampled_metrics_reorder_models():
    text = S.ranking_agreement({"a": 0.30, "b": 0.20}, {"a": 0.80, "b": 0.85})
    assert text.startswith("The sampled metrics reorder the models: full catalogue a > b, sampled b > a")


# ------------------------------------------------------------------ tuning parity and seeds
def test_tuning_note_warns_when_only_some_models_were_tuned():
    note = S.tuning_note({"ease": S.TuningInfo(30, "ndcg", 10), "als": None}, ["ease", "als", "popular"])
    assert note[0] == "Tuned: ease (30 trials on validation NDCG@10)."
    assert "Not tuned: als, popular" in note[1]
    assert S.tuning_note({}, ["ease"]) == []
    # "popular" has nothing to search: beside a tuned ease it is not an unfair comparison.
    assert len(S.tuning_note({"ease": S.TuningInfo(30, "ndcg", 10)}, ["ease", "popular"], tunable=["ease"])) == 1
    equal = S.tuning_note({"ease": S.TuningInfo(30, "ndcg", 10), "als": S.TuningInfo(30, "ndcg", 10)}, ["ease", "als"])
    assert len(equal) == 1


def test_seed_spread_and_the_noise_sentence():
    values = pd.DataFrame({"model": ["als"] * 3 + ["ease"], "seed": [0, 1, 2, 0], "metric": "ndcg", "k": 10,
                           "value": [0.360, 0.372, 0.366, 0.368]})
    spread = S.seed_spread(values)
    als = spread[spread["model"] == "als"].iloc[0]
    assert als["n_seeds"] == 3 and als["range"] == pytest.approx(0.012) and als["mean"] == pytest.approx(0.366)
    row = {"metric": "ndcg", "k": 10, "model_a": "ease", "model_b": "als", "difference": 0.004}
    assert "seed noise" in S.seed_noise_sentence(spread, row)
    row["difference"] = 0.05
    assert "larger than the seed-to-seed range" in S.seed_noise_sentence(spread, row)


# ------------------------------------------------------------------ the CLI
def test_cli_compare_significance_prints_verdicts_and_writes_the_files(tmp_path, capsys):
    from recsys_core.__main__ import main

    output = tmp_path / "results.csv"
    code = main(["compare", "--models", "ease,popular", "--split", "random", "--significance", "--resamples", "200",
                 "--sampled-negatives", "50", "--output", str(output), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Leakage in time:" in printed
    assert "- ease beats popular on NDCG@10 by " in printed
    assert "against 50 sampled negatives" in printed
    pairs = pd.read_csv(tmp_path / "results.significance.csv")
    assert {"pair", "interval"} == set(pairs["kind"])
    row = pairs[(pairs["kind"] == "pair") & (pairs["metric"] == "ndcg") & (pairs["bucket"] == "all")].iloc[0]
    assert row["significant"] and row["n_users"] > 100
    per_user = pd.read_csv(tmp_path / "results.per_user.csv")
    assert list(per_user.columns) == PER_USER_COLUMNS


def test_intervals_do_not_depend_on_which_other_metrics_are_compared():
    rng = np.random.default_rng(5)
    table = pd.concat([_per_user({"a": rng.random(120), "b": rng.random(120)}, metric=m) for m in ("ndcg", "recall")])
    both = S.compare(table, n_resamples=300, seed=3)
    alone = S.compare(table[table["metric"] == "ndcg"], n_resamples=300, seed=3)
    pd.testing.assert_frame_equal(both.interval("ndcg", 10), alone.interval("ndcg", 10))
    pd.testing.assert_frame_equal(both.pairs("ndcg", 10), alone.pairs("ndcg", 10))
    other = S.compare(table, n_resamples=300, seed=4).interval("ndcg", 10)
    assert not np.allclose(other["ci_low"], alone.interval("ndcg", 10)["ci_low"])


def test_seed_runs_refit_with_each_seed_and_only_the_seed_changes(sample_run):
    from recsys_core.evaluation.runner import ModelSpec

    _, splits, result = sample_run
    runs = S.seed_runs(splits[-1], [ModelSpec("svd", {"n_epochs": 3}), "popular"], seeds=(0, 1, 2), ks=(10,))
    assert len(runs) == 6 and set(runs["seed"]) == {0, 1, 2}
    svd = runs[runs["model"] == "svd"]["value"]
    assert svd.nunique() == 3  # a random initialisation per seed
    popular = runs[runs["model"] == "popular"]["value"].to_numpy()
    table = result.table
    same_seed = table[(table["model"] == "popular") & (table["metric"] == "ndcg") & (table["bucket"] == "all")]
    assert popular[0] == pytest.approx(float(same_seed["value"].iloc[0]))  # seed 0 is the default fit
    spread = S.seed_spread(runs)
    assert (spread["n_seeds"] == 3).all() and spread.set_index("model").loc["svd", "range"] > 0
