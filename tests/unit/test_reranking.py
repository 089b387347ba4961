"""Re-rankers and the beyond-accuracy metrics on literal fixtures worked out by hand."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys_core import reranking as R
from recsys_core.dataset import Dataset
from recsys_core.errors import RerankError
from recsys_core.evaluation import metrics as M
from recsys_core.models import make_model

GENRES = {"A": "x", "B": "x", "C": "y", "D": "x|y", "H1": "x", "H2": "x", "H3": "y"}


def _dataset(genres: dict[str, str] | None = GENRES) -> Dataset:
    """User u1 rated H1, H2, H3; user u2 rated the candidates A-D (so every item has a training count)."""
    rows = [("u1", "H1", 5), ("u1", "H2", 4), ("u1", "H3", 5)] + [("u2", item, 3) for item in "ABCD"]
    ratings = pd.DataFrame(rows, columns=["user", "item", "rating"])
    items = pd.DataFrame({"item": list(GENRES), "title": list(GENRES)})
    if genres is not None:
        items["genres"] = [genres[item] for item in GENRES]
    return Dataset.from_frames(ratings, rating_scale=(1, 5), items=items)


def _context(dataset: Dataset, similarity: str = "genres") -> R.ReRankContext:
    return R.ReRankContext(make_model("popular").fit(dataset), similarity)


def _candidates(dataset: Dataset, items: list[str], scores: list[float], user: str = "u1") -> R.Candidates:
    index = dataset.item_indices(items)
    return R.Candidates(np.array([index]), np.array([scores], dtype=float), dataset.matrix[[dataset.user_index(user)]])


def _names(dataset: Dataset, picked: np.ndarray) -> list[str]:
    return [str(dataset.item_ids[i]) for i in picked[0] if i >= 0]


# ------------------------------------------------------------------ MMR
def test_mmr_with_lambda_one_keeps_the_models_order():
    data = _dataset()
    cands = _candidates(data, ["A", "B", "C", "D"], [4, 3, 2, 1])
    assert _names(data, R.rerank(cands, _context(data), "mmr", 1.0, 4)) == ["A", "B", "C", "D"]


def test_mmr_with_lambda_zero_takes_the_most_relevant_then_the_least_similar():
    # Cosines of the genre vectors: A-B 1, A-C 0, A-D 1/sqrt2, B-C 0, B-D 1/sqrt2, C-D 1/sqrt2.
    # First the most relevant (A); then the least similar to {A}: C (0); to {A, C}: D (max 0.71) before B (1).
    data = _dataset()
    cands = _candidates(data, ["A", "B", "C", "D"], [4, 3, 2, 1])
    assert _names(data, R.rerank(cands, _context(data), "mmr", 0.0, 4)) == ["A", "C", "D", "B"]


def test_mmr_in_between_mixes_relevance_and_difference():
    # λ = 0.5, normalised scores A 1, B 2/3, C 1/3, D 0. Step 2: B 0.5*2/3 - 0.5*1 = -1/6, C 1/6, D -0.35 -> C.
    # Step 3 (chosen A, C): B 1/3 - 0.5 = -1/6, D 0 - 0.5*0.707 = -0.35 -> B; then D.
    data = _dataset()
    cands = _candidates(data, ["A", "B", "C", "D"], [4, 3, 2, 1])
    assert _names(data, R.rerank(cands, _context(data), "mmr", 0.5, 4)) == ["A", "C", "B", "D"]


def test_mmr_by_co_ratings_and_vectors_run_and_refuse_plainly():
    data = _dataset()
    cands = _candidates(data, ["A", "B", "C", "D"], [4, 3, 2, 1])
    # Co-ratings: A-D were all rated by u2 only, so they are identical (cosine 1): λ = 0 keeps A then any of them.
    picked = R.rerank(cands, _context(data, "co-ratings"), "mmr", 0.0, 2)
    assert _names(data, picked)[0] == "A"
    with pytest.raises(RerankError, match="no item vectors"):
        R.rerank(cands, _context(data, "vectors"), "mmr", 0.5, 2)


def test_missing_genres_are_named_and_alternatives_offered():
    data = _dataset(genres=None)
    cands = _candidates(data, ["A", "B", "C", "D"], [4, 3, 2, 1])
    with pytest.raises(RerankError, match="no genres or tags.*item vectors or co-ratings"):
        R.rerank(cands, _context(data), "calibrated", 0.5, 2)
    with pytest.raises(RerankError, match="MMR by genres needs genres or tags.*co-ratings"):
        R.rerank(cands, _context(data), "mmr", 0.5, 2)


# ------------------------------------------------------------------ calibrated
def _kl(p, q, alpha=0.01):
    return sum(pg * math.log(pg / ((1 - alpha) * qg + alpha * pg)) for pg, qg in zip(p, q) if pg > 0)


def test_calibrated_matches_a_hand_computation():
    # History H1 (x), H2 (x), H3 (y): p = (2/3, 1/3). Candidates A (x) 1.0, B (x) 0.9, C (y) 0.2:
    # normalised relevance A 1, B 0.875, C 0. λ = 0.5, K = 2.
    data = _dataset()
    p = (2 / 3, 1 / 3)
    step1 = {"A": 0.5 * 1 - 0.5 * _kl(p, (1, 0)), "B": 0.5 * 0.875 - 0.5 * _kl(p, (1, 0)), "C": -0.5 * _kl(p, (0, 1))}
    first = max(step1, key=step1.get)
    assert first == "A"
    step2 = {"B": 0.5 * 0.875 - 0.5 * _kl(p, (1, 0)), "C": -0.5 * _kl(p, (0.5, 0.5))}
    second = max(step2, key=step2.get)
    assert second == "C"  # KL of (1/2, 1/2) is about 0.056, of (1, 0) about 1.27
    cands = _candidates(data, ["A", "B", "C"], [1.0, 0.9, 0.2])
    assert _names(data, R.rerank(cands, _context(data), "calibrated", 0.5, 2)) == [first, second]
    assert _names(data, R.rerank(cands, _context(data), "calibrated", 0.0, 2)) == ["A", "B"]
    # The KL reported for the list equals the hand value.
    picked = R.rerank(cands, _context(data), "calibrated", 0.5, 2)
    genres = R.item_genre_matrix(data)
    assert M.calibration_kl(picked, cands.history, genres)[0] == pytest.approx(_kl(p, (0.5, 0.5)), abs=1e-12)


def test_calibrated_greedy_equals_a_plain_python_greedy_on_random_cases():
    rng = np.random.default_rng(4)
    items = [f"i{j}" for j in range(12)]
    genre_names = ["g0", "g1", "g2"]
    genres = {item: "|".join(sorted(set(rng.choice(genre_names, size=rng.integers(1, 3))))) for item in items}
    history = items[:5]
    ratings = pd.DataFrame([("u", h, 4) for h in history] + [("v", i, 3) for i in items[5:]],
                           columns=["user", "item", "rating"])
    catalogue = pd.DataFrame({"item": items, "title": items, "genres": [genres[i] for i in items]})
    data = Dataset.from_frames(ratings, rating_scale=(1, 5), items=catalogue)
    context = _context(data)
    share = {i: {g: (1 / len(genres[i].split("|")) if g in genres[i].split("|") else 0.0) for g in genre_names}
             for i in items}
    p = [np.mean([share[h][g] for h in history]) for g in genre_names]
    candidates = items[5:]
    scores = rng.normal(size=len(candidates))
    rel = dict(zip(candidates, (scores - scores.min()) / (scores.max() - scores.min())))
    for lam in (0.0, 0.3, 0.8, 1.0):
        chosen: list[str] = []
        for _ in range(5):
            def objective(item):
                mix = [sum(share[c][g] for c in chosen + [item]) for g in genre_names]
                q = [m / sum(mix) for m in mix]
                return (1 - lam) * rel[item] - lam * _kl(p, q)
            rest = [c for c in candidates if c not in chosen]
            chosen.append(max(rest, key=lambda c: (objective(c), -candidates.index(c))))
        cands = _candidates(data, candidates, list(scores), user="u")
        assert _names(data, R.rerank(cands, context, "calibrated", lam, 5)) == chosen, lam


# ------------------------------------------------------------------ popularity and xQuAD
def test_popularity_penalty_divides_by_popularity_to_the_beta():
    # Training counts: B 3 (u2, u3, u4), A 1, C 1.
    rows = [("u1", "H1", 5), ("u2", "A", 3), ("u2", "B", 3), ("u3", "B", 3), ("u4", "B", 3), ("u2", "C", 3)]
    data = Dataset.from_frames(pd.DataFrame(rows, columns=["user", "item", "rating"]), rating_scale=(1, 5))
    cands = _candidates(data, ["B", "A", "C"], [3.0, 2.0, 1.0])
    # Normalised: B 1, A 0.5, C 0; popularity B 3, A 1, C 1. β = 1: B 1/4, A 0.5/2 = 1/4 (tie: B first), C 0.
    assert _names(data, R.rerank(cands, _context(data), "popularity", 1.0, 3)) == ["B", "A", "C"]
    # β = 2: B 1/16 < A 0.5/4 = 1/8.
    assert _names(data, R.rerank(cands, _context(data), "popularity", 2.0, 3)) == ["A", "B", "C"]
    assert _names(data, R.rerank(cands, _context(data), "popularity", 0.0, 3)) == ["B", "A", "C"]


def test_xquad_covers_head_and_tail_in_the_users_proportion():
    # P1-P3 rated by 10 users each (30 of 33 interactions: the head), T1-T3 once (tail). u0's history: P3, T3,
    # so P(head|u0) = P(tail|u0) = 1/2. Normalised scores P1 1, P2 0.9, T1 0.5, T2 0; λ = 0.5:
    # step 1 every bonus is 1/2 -> P1 (0.75); step 2 the head is covered: P2 0.45, T1 0.25 + 0.25 -> T1;
    # step 3 each kind has half: P2 0.45 + 0.125 beats T2 0.125 -> P2, then T2.
    rows = [(f"u{u}", item, 4) for u in range(1, 10) for item in ("P1", "P2", "P3")]
    rows += [("u0", "P3", 5), ("u0", "T3", 5), ("u10", "P1", 3), ("u10", "P2", 3), ("u11", "T1", 3), ("u12", "T2", 3)]
    data = Dataset.from_frames(pd.DataFrame(rows, columns=["user", "item", "rating"]), rating_scale=(1, 5))
    assert M.head_items(data.item_counts)[data.item_indices(["P1", "P2", "P3", "T1", "T2", "T3"])].tolist() == \
        [True, True, True, False, False, False]
    cands = _candidates(data, ["P1", "P2", "T1", "T2"], [1.0, 0.9, 0.5, 0.0], user="u0")
    assert _names(data, R.rerank(cands, _context(data), "xquad", 0.5, 4)) == ["P1", "T1", "P2", "T2"]
    assert _names(data, R.rerank(cands, _context(data), "xquad", 0.0, 4)) == ["P1", "P2", "T1", "T2"]


def test_neutral_values_keep_every_models_own_lists_on_the_sample():
    from recsys_core.data import load_sample

    data = load_sample()
    model = make_model("ease").fit(data)
    users = np.arange(0, data.n_users, 7)
    own = model.recommend_indices(users, 10)
    cands = R.candidates(model, users)
    for name, spec in R.RERANKERS.items():
        assert (R.rerank(cands, R.ReRankContext(model), name, spec.neutral, 10) == own).all(), name


def test_reranked_variants_are_rows_of_the_runner_without_rating_metrics():
    from recsys_core.evaluation.runner import evaluate

    data = _sample_small()
    result = evaluate(data, ["svd"], split="random", split_params={"seed": 0}, per_user=True,
                      rerank=[("calibrated", 0.5, "genres"), ("mmr", 0.3, "genres")])
    table = result.table
    assert set(table["model"]) == {"svd", "svd+calibrated(0.5)", "svd+mmr(0.3)"}
    assert not (table[(table["model"] != "svd") & table["metric"].isin(["rmse", "mae"])]).any().any()
    plain = table[(table["model"] == "svd") & (table["metric"] == "diversity") & (table["bucket"] == "all")]
    mmr = table[(table["model"] == "svd+mmr(0.3)") & (table["metric"] == "diversity") & (table["bucket"] == "all")]
    assert mmr["value"].iloc[0] > plain["value"].iloc[0]
    # Per-user values of the variants go to the paired tests; aggregate ones (Gini) are not per user.
    per_user = result.per_user
    assert {"calibration_kl", "serendipity", "arp"} <= set(per_user[per_user["model"] == "svd+mmr(0.3)"]["metric"])
    assert "gini" not in set(per_user["metric"])
    assert (table[table["metric"] == "gini"]["bucket"] != "all").any()  # per activity bucket too


def _sample_small() -> Dataset:
    from recsys_core.data import load_sample

    data = load_sample()
    frame = data.interactions
    keep = frame[frame["user_idx"] < 120]
    ratings = pd.DataFrame({"user": data.user_ids[keep["user_idx"]], "item": data.item_ids[keep["item_idx"]],
                            "rating": keep["rating"].to_numpy()})
    return Dataset.from_frames(ratings, rating_scale=(1, 5), items=data.items)


def test_the_tradeoff_curve_is_monotone_on_the_bundled_sample():
    # MMR on ALS's lists (the sample's strongest model family): as λ moves away from 1, diversity rises and
    # NDCG@10 falls, point by point. Near λ = 0 relevance hardly counts any more and the last points coincide up
    # to which of several equally different items comes first: NDCG may wobble there by < 0.001.
    from recsys_core.data import load_sample
    from recsys_core.evaluation.splits import make_splits
    from recsys_core.evaluation.tradeoff import tradeoff_curve

    split = make_splits(load_sample(), "random", seed=0)[0]
    model = make_model("als").fit(split.train)
    curve = tradeoff_curve(model, split, "mmr")
    assert list(curve["value"]) == pytest.approx(list(np.linspace(1, 0, 11)))
    assert (np.diff(curve["diversity"]) >= -1e-9).all()
    assert (np.diff(curve["ndcg"]) <= 1e-3).all()
    assert (np.diff(curve["ndcg"].iloc[:8]) < 0).all()  # strictly down while relevance still counts
    assert curve["diversity"].iloc[-1] > curve["diversity"].iloc[0] + 0.2
    assert curve["ndcg"].iloc[-1] < curve["ndcg"].iloc[0]
    calibrated = tradeoff_curve(model, split, "calibrated")
    assert (np.diff(calibrated["calibration_kl"]) <= 1e-9).all()


def test_parse_specs_reads_the_cli_and_refuses_plainly():
    assert R.parse_specs("calibrated:0.5,mmr:0.3") == [("calibrated", 0.5, "genres"), ("mmr", 0.3, "genres")]
    assert R.parse_specs("mmr:0.3:co-ratings") == [("mmr", 0.3, "co-ratings")]
    with pytest.raises(RerankError, match="Unknown re-ranker 'diverse'"):
        R.parse_specs("diverse:0.3")
    with pytest.raises(RerankError, match="between 0 and 1"):
        R.parse_specs("mmr:3")
    with pytest.raises(RerankError, match="where a number belongs"):
        R.parse_specs("mmr:high")


# ------------------------------------------------------------------ metrics by hand
def test_gini_index_by_hand():
    # Exposure over 4 items: [2, 1, 1, 0]; sorted 0, 1, 1, 2; sum (2j - 5) x_j = 0 - 1 + 1 + 6 = 6; 6 / (4 * 4).
    assert M.gini_index(np.array([[0, 1], [0, 2]]), 4) == pytest.approx(0.375)
    # The same by the mean absolute difference: sum |x_i - x_j| over ordered pairs 12 / (2 * 16 * mean 1).
    assert M.gini_index(np.array([[0, 1], [2, 3]]), 4) == pytest.approx(0.0)
    assert M.gini_index(np.array([[0, -1], [0, -1]]), 4) == pytest.approx(0.75)  # all on one item: 1 - 1/n


def test_arp_long_tail_and_aggregate_diversity_by_hand():
    counts = np.array([10, 5, 1, 0])
    assert M.average_recommendation_popularity(np.array([[0, 1], [2, -1]]), counts) == pytest.approx([7.5, 1.0])
    head = M.head_items(np.array([50, 30, 10, 5, 5]))  # 50 + 30 = 80% of 100
    assert head.tolist() == [True, True, False, False, False]
    assert M.head_items(np.array([10, 50, 30, 5, 5])).tolist() == [False, True, True, False, False]
    assert M.long_tail_share(np.array([[0, 2, 3], [1, -1, -1]]), ~head) == pytest.approx([2 / 3, 0.0])
    assert M.aggregate_diversity(np.array([[0, 2, 3], [3, 0, -1]])) == 3


def test_serendipity_and_calibration_kl_by_hand():
    # Top 3 = [0, 1, 2]; relevant {1, 2}; the popular list [0, 1, 5]: only 2 is relevant and unexpected.
    assert M.serendipity(np.array([[0, 1, 2]]), [{1, 2}], np.array([[0, 1, 5]]), 3) == pytest.approx([1 / 3])
    # History items 0 (x), 1 (y): p = (1/2, 1/2); the list [2] is x: q = (1, 0), q~ = (0.995, 0.005).
    genres = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 0]]))
    history = sp.csr_matrix(np.array([[1, 1, 0]]))
    expected = 0.5 * math.log(0.5 / 0.995) + 0.5 * math.log(0.5 / 0.005)
    assert M.calibration_kl(np.array([[2]]), history, genres)[0] == pytest.approx(expected, abs=1e-12)


def test_cli_compare_rerank_adds_rows_and_refuses_unknown_rerankers(tmp_path, capsys):
    from recsys_core.__main__ import main

    out = tmp_path / "results.csv"
    assert main(["compare", "--models", "popular", "--split", "random", "--rerank", "calibrated:0.5,mmr:0.3",
                 "--no-progress", "--output", str(out)]) == 0
    table = pd.read_csv(out)
    assert {"popular", "popular+calibrated(0.5)", "popular+mmr(0.3)"} == set(table["model"])
    printed = capsys.readouterr().out
    assert "popular+calibrated(0.5)" in printed and "calibration_kl@10" in printed
    with pytest.raises(SystemExit):
        main(["compare", "--models", "popular", "--rerank", "diverse:0.3", "--no-progress"])
    assert "Unknown re-ranker 'diverse'" in capsys.readouterr().err


def test_gini_and_kl_agree_with_independent_formulas_on_random_cases():
    from scipy.stats import entropy

    rng = np.random.default_rng(11)
    lists = rng.integers(-1, 30, size=(40, 8))
    exposure = np.bincount(lists[lists >= 0], minlength=30).astype(float)
    # Gini as the mean absolute difference over all ordered pairs / (2 * mean).
    mad = np.abs(exposure[:, None] - exposure[None, :]).mean()
    assert M.gini_index(lists, 30) == pytest.approx(mad / (2 * exposure.mean()), abs=1e-12)
    p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    assert M.kl_divergence(p, q, alpha=0.0) == pytest.approx(entropy(p, q), abs=1e-12)  # scipy's KL
    assert M.kl_divergence(p, q) == pytest.approx(entropy(p, 0.99 * q + 0.01 * p), abs=1e-12)


def test_mmr_equals_a_plain_python_greedy_on_random_cases():
    rng = np.random.default_rng(5)
    items = [f"i{j}" for j in range(14)]
    names = ["g0", "g1", "g2", "g3"]
    genres = {i: "|".join(sorted(set(rng.choice(names, size=rng.integers(1, 3))))) for i in items}
    ratings = pd.DataFrame([("u", items[0], 4)] + [("v", i, 3) for i in items[1:]], columns=["user", "item", "rating"])
    data = Dataset.from_frames(ratings, rating_scale=(1, 5),
                               items=pd.DataFrame({"item": items, "title": items, "genres": [genres[i] for i in items]}))
    vector = {i: np.array([g in genres[i].split("|") for g in names], dtype=float) for i in items}
    cosine = {(a, b): float(vector[a] @ vector[b] / np.linalg.norm(vector[a]) / np.linalg.norm(vector[b]))
              for a in items for b in items}
    candidates = items[1:]
    scores = rng.normal(size=len(candidates))
    rel = dict(zip(candidates, (scores - scores.min()) / (scores.max() - scores.min())))
    # The model's order: candidates sorted by score (MMR sees them best first).
    ordered = [c for _, c in sorted(zip(-scores, candidates))]
    for lam in (0.0, 0.25, 0.7, 1.0):
        chosen: list[str] = []
        for _ in range(6):
            rest = [c for c in ordered if c not in chosen]
            value = {c: lam * rel[c] - (1 - lam) * max((cosine[c, j] for j in chosen), default=0.0) for c in rest}
            chosen.append(max(rest, key=lambda c: (round(value[c], 12), -rest.index(c))))
        cands = _candidates(data, ordered, [float(s) for s in sorted(scores, reverse=True)], user="u")
        assert _names(data, R.rerank(cands, _context(data), "mmr", lam, 6)) == chosen, lam


def test_a_reranked_model_survives_pickling():
    import pickle

    data = _dataset()
    wrapped = R.ReRankedModel.wrap(make_model("popular").fit(data), "calibrated", 0.5)
    again = pickle.loads(pickle.dumps(wrapped))
    users = np.arange(data.n_users)
    assert (again.recommend_indices(users, 3) == wrapped.recommend_indices(users, 3)).all()
    assert not again.predicts_ratings


def test_a_variant_that_cannot_run_is_reported_and_the_others_stand():
    from recsys_core.evaluation.runner import evaluate

    data = _dataset(genres=None)
    result = evaluate(data, ["popular"], split="random", split_params={"seed": 0, "test_size": 0.3},
                      rerank=[("calibrated", 0.5, "genres"), ("popularity", 1.0, "genres")])
    assert "no genres or tags" in result.errors["popular+calibrated(0.5)"]
    assert set(result.table["model"]) == {"popular", "popular+popularity(1)"}
