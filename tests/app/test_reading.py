"""The reading on degenerate results, on literal result tables: ties, zeros, too little data, no self-comparison."""
from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_core.dataset import Dataset
from recsys_core.evaluation.splits import Split
from recsys_ui import reading

RANKING = ("ndcg", "precision", "recall", "map", "hit_rate", "mrr")


def tidy(rows):
    return pd.DataFrame(rows, columns=["model", "fold", "metric", "k", "bucket", "value"]).astype({"k": "Int64"})


def ranking_rows(values: dict[str, float], k: int = 10):
    """Every ranking metric of each model at ``k`` equal to its given value (NDCG included)."""
    return [(model, 0, metric, k, "all", value) for model, value in values.items() for metric in RANKING]


#: Enough evidence for a verdict: 400 users with relevant test items, 20,000 interactions.
PLENTY = reading.Evidence(n_interactions=20_000, n_items=1_000, n_test_users=500, n_relevant_users=400,
                          n_test=4_000, n_relevant=1_800, n_relevant_known=1_790, rule="4 or more on 1–5")


def text_of(sentences: list[str]) -> str:
    return " ".join(sentences)


# ------------------------------------------------------------------ ties
def test_a_tie_at_the_top_is_called_a_tie_not_a_lead():
    # The "ease 0.028, ahead of als (0.028)": both print as 0.028.
    table = tidy(ranking_rows({"ease": 0.0284, "als": 0.0281, "svd": 0.0100, "popular": 0.0050}))
    sentences = reading.reading(table, k=10, n_folds=5, evidence=PLENTY)
    assert "Best top-10 lists (NDCG@10): a tie between **ease** and **als** at 0.028, ahead of **svd** (0.010)." \
        in sentences
    assert "ahead of **als**" not in text_of(sentences)


def test_a_model_equal_to_the_reference_ties_with_it_and_does_not_beat_it():
    table = tidy(ranking_rows({"popular": 0.1001, "ease": 0.1004, "svd": 0.0500, "als": 0.2000}))
    text = text_of(reading.reading(table, k=10, n_folds=5, evidence=PLENTY))
    assert "NDCG@10 = 0.100; 1 of 3 models beat it; **ease** ties with it; **svd** does not." in text
    only_ties = tidy(ranking_rows({"popular": 0.1001, "ease": 0.1004}))
    text = text_of(reading.reading(only_ties, k=10, n_folds=5, evidence=PLENTY))
    assert "no model beats it (**ease** ties with it)" in text
    assert "every other model beats it" not in text and "a tie, every model reaches 0.100" in text


def test_equal_rmse_is_a_tie_and_no_rating_versus_ranking_lesson_on_a_tie():
    table = tidy(ranking_rows({"svd": 0.0902, "ease": 0.0899, "popular": 0.01})
                 + [("svd", 0, "rmse", None, "all", 0.9121), ("baseline", 0, "rmse", None, "all", 0.9124),
                    ("knn", 0, "rmse", None, "all", 0.95)])
    text = text_of(reading.reading(table, k=10, n_folds=5, evidence=PLENTY))
    assert "lowest RMSE): a tie between **svd** and **baseline** at 0.912 stars." in text
    only_two = table[table.model != "knn"]
    assert "Rating predictions (RMSE): a tie, every model is off by 0.912 stars." in \
        reading.reading(only_two, k=10, n_folds=5, evidence=PLENTY)
    assert "Why the rating models rank badly" not in text  # ease 0.090 vs svd 0.090: nothing to explain


# ------------------------------------------------------------------ all zero
def test_every_ranking_metric_zero_says_there_is_nothing_to_read_and_names_the_relevance_rule():
    # Play counts read as ratings: a scale 1-5,000 puts the threshold at 3,750 plays; 12 of 2,000 reach it.
    counts = reading.Evidence(n_interactions=20_000, n_items=800, n_test_users=500, n_relevant_users=60,
                              n_test=2_000, n_relevant=12, n_relevant_known=12, rule="3750 or more on 1–5000")
    table = tidy(ranking_rows({"popular": 0.0, "als": 0.0, "ease": 0.0})
                 + [(m, 0, "coverage", 10, "all", 0.00057) for m in ("popular", "als", "ease")])
    sentences = reading.reading(table, k=10, n_folds=1, evidence=counts)
    text = text_of(sentences)
    assert sentences[0].startswith("**Nothing to read in the ranking metrics**: every model scores 0")
    assert "only 12 of 2,000 test ratings (0.6%) reach the relevance threshold (3750 or more on 1–5000)" in text
    assert "no rating column on the Data page" in text
    for verdict in ("Best", "ahead of", "beats it", "beat it", "single train/test split"):
        assert verdict not in text, verdict


def test_all_zero_because_the_split_tests_items_never_seen_in_training():
    unseen = reading.Evidence(n_interactions=20_000, n_items=800, n_test_users=500, n_relevant_users=300,
                              n_test=2_000, n_relevant=900, n_relevant_known=100, rule="4 or more on 1–5")
    table = tidy(ranking_rows({"popular": 0.0, "ease": 0.0}))
    text = text_of(reading.reading(table, k=10, evidence=unseen))
    assert "the split leaves little to find: 800 of the 900 relevant test items have no interaction in the " \
           "training part" in text
    assert "relevance definition" not in text


def test_all_zero_without_evidence_still_says_nothing_can_be_read():
    text = text_of(reading.reading(tidy(ranking_rows({"popular": 0.0, "ease": 0.0}, k=5)), k=5))
    assert "Nothing to read in the ranking metrics" in text and "the relevance definition, the data or the split" in text
    assert "no model beats it" not in text


def test_no_relevant_test_item_at_all_is_named():
    none = reading.Evidence(n_interactions=5_000, n_items=300, n_test_users=200, n_relevant_users=0, n_test=1_000,
                            n_relevant=0, n_relevant_known=0, rule="4 or more on 1–5")
    table = tidy([("svd", 0, "rmse", None, "all", 1.1), ("popular", 0, "fit_seconds", None, "all", 0.01),
                  ("svd", 0, "fit_seconds", None, "all", 0.2)])
    text = text_of(reading.reading(table, k=10, evidence=none))
    assert "No ranking metric could be measured" in text
    assert "no test rating reaches the relevance threshold (4 or more on 1–5)" in text


# ------------------------------------------------------------------ too little data
def test_too_little_data_comes_before_any_verdict():
    # The 99-row file: 30 users, 95 items; ease 0.028 against popular 0.000 was "every other model beats it".
    small = reading.Evidence(n_interactions=99, n_items=95, n_test_users=18, n_relevant_users=9, n_test=20,
                             n_relevant=11, n_relevant_known=6, rule="4 or more on 1–5")
    table = tidy(ranking_rows({"popular": 0.0, "ease": 0.028, "als": 0.0279})
                 + [("svd", 0, "rmse", None, "all", 1.05)])
    sentences = reading.reading(table, k=10, evidence=small)
    assert sentences[0].startswith("**Too little data to compare models**: only 9 users have a relevant test item")
    assert "the data set holds only 99 interactions (at least 100 are needed)" in sentences[0]
    text = text_of(sentences)
    for verdict in ("Best", "beats it", "ahead of", "Most accurate", "Why the rating models"):
        assert verdict not in text, verdict
    assert "NDCG@10 ranges from 0.000 to 0.028 over 3 models" in text


def test_enough_users_and_interactions_get_a_verdict():
    enough = reading.Evidence(n_interactions=100, n_items=40, n_test_users=60, n_relevant_users=50, n_test=100,
                              n_relevant=60, n_relevant_known=60, rule="4 or more on 1–5")
    text = text_of(reading.reading(tidy(ranking_rows({"popular": 0.05, "ease": 0.10})), k=10, evidence=enough))
    assert "Too little data" not in text and "every other model beats it" in text


# ------------------------------------------------------------------ no self-comparison
def test_no_sentence_compares_a_model_with_itself():
    # The "popular's lists use 0.057% …, popular's only 0.057%".
    models = ("popular", "als", "ease")
    table = tidy(ranking_rows({"popular": 0.10, "als": 0.20, "ease": 0.15})
                 + [(m, 0, "coverage", 10, "all", 0.00057) for m in models]
                 + [(m, 0, "median_popularity", 10, "all", 40.0) for m in models]
                 + [(m, 0, "fit_seconds", None, "all", 0.5) for m in models])
    sentences = reading.reading(table, k=10, n_folds=5, evidence=PLENTY)
    assert "Catalogue coverage: every model's lists use 0.057% of the items." in sentences
    assert "The median item in every model's top 10 has 40 training ratings." in text_of(sentences)
    assert "Every model fits in 0.50 s." in sentences
    for sentence in sentences:
        for model in models:
            assert sentence.count(f"**{model}**") <= 1 or "tie" in sentence, sentence


def test_a_single_model_is_described_not_compared():
    table = tidy(ranking_rows({"ease": 0.2}) + [("ease", 0, "median_popularity", 10, "all", 12.0)])
    text = text_of(reading.reading(table, k=10, evidence=PLENTY))
    assert "The median item in **ease**'s top 10 has 12 training ratings." in text
    assert "ranges from" not in text and "ahead of" not in text


def test_coverage_names_tied_widest_models_once_each():
    table = tidy(ranking_rows({"popular": 0.1, "als": 0.2, "ease": 0.3})
                 + [("popular", 0, "coverage", 10, "all", 0.01), ("als", 0, "coverage", 10, "all", 0.30),
                    ("ease", 0, "coverage", 10, "all", 0.30)])
    assert "Catalogue coverage: **als** and **ease**'s lists use 30% of the items, **popular**'s only 1%." in \
        reading.reading(table, k=10, n_folds=5, evidence=PLENTY)


# ------------------------------------------------------------------ evidence of a split
def test_split_evidence_counts_the_fold_with_the_fewest_users_to_measure():
    frame = pd.DataFrame({
        "user": ["a", "a", "a", "b", "b", "c", "c", "c"],
        "item": ["x", "y", "z", "x", "w", "y", "z", "w"],
        "rating": [5.0, 4.0, 1.0, 2.0, 5.0, 4.0, 5.0, 3.0],
    })
    data = Dataset.from_frames(frame, rating_scale=(1.0, 5.0))
    # Fold 0 tests a:z (1, not relevant), b:w (5, relevant, w also rated by c in training), c:z (5, relevant).
    # Fold 1 tests a:x (5, relevant; x is rated by b in training) and c:w (3, not relevant).
    folds = [Split(0, data.subset(np.array([0, 1, 3, 5, 7])), data.subset(np.array([2, 4, 6]))),
             Split(1, data.subset(np.array([1, 2, 3, 4, 5, 6])), data.subset(np.array([0, 7])))]
    evidence = reading.split_evidence(data, folds)
    assert evidence == reading.Evidence(n_interactions=8, n_items=4, n_test_users=2, n_relevant_users=1, n_test=2,
                                        n_relevant=1, n_relevant_known=1, rule="4 or more on 1–5", feedback="ratings")
    first = reading.split_evidence(data, folds[:1])
    assert (first.n_relevant_users, first.n_relevant, first.n_relevant_known) == (2, 2, 1)  # z: only a's test rating
