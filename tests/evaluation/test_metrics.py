"""Calibration and bootstrap intervals."""

import numpy as np
import pytest

from ecgkd.evaluation.metrics import binary_metrics, bootstrap_intervals, calibration


def test_calibration_of_perfect_and_overconfident_probabilities():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 20000)
    y = (rng.uniform(0, 1, 20000) < p).astype(int)  # outcomes drawn at the stated probability
    good = calibration(y, p)
    assert good["ece"] < 0.02
    bad = calibration(y, np.where(p > 0.5, 1.0, 0.0))  # certain where it should be unsure
    assert bad["ece"] > 0.2 and bad["brier"] > good["brier"]
    assert calibration(np.array([0, 1]), np.array([0.0, 1.0])) == {"brier": 0.0, "ece": 0.0}
    with pytest.raises(ValueError, match="sigmoid"):
        calibration(np.array([0, 1]), np.array([-2.0, 3.0]))


def test_bootstrap_intervals_cover_the_estimate_and_are_seeded():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 0, 1, 0, 0, 1, 0], 50)
    score = y + rng.normal(scale=1.0, size=len(y))
    table = bootstrap_intervals(y, score, 0.5, resamples=200, seed=3)
    assert (table["low"] <= table["estimate"]).all() and (table["estimate"] <= table["high"]).all()
    assert table.loc["auroc", "estimate"] == pytest.approx(binary_metrics(y, score, 0.5)["auroc"])
    again = bootstrap_intervals(y, score, 0.5, resamples=200, seed=3)
    assert table.equals(again)


def test_bootstrap_resamples_whole_groups_and_widens_for_correlated_units():
    rng = np.random.default_rng(2)
    records = np.repeat(np.arange(10), 100)
    record_effect = rng.normal(scale=1.5, size=10)[records]  # beats of one record move together
    y = np.repeat(rng.permutation([0, 1] * 5), 100)
    score = y + record_effect + rng.normal(scale=0.3, size=len(y))
    by_beat = bootstrap_intervals(y, score, 0.5, resamples=300, seed=0, metrics=("auroc",))
    by_record = bootstrap_intervals(
        y, score, 0.5, groups=records, resamples=300, seed=0, metrics=("auroc",)
    )
    width = lambda t: float(t.loc["auroc", "high"] - t.loc["auroc", "low"])  # noqa: E731
    assert by_record.loc["auroc", "resampled units"] == 10 and width(by_record) > 2 * width(by_beat)
    with pytest.raises(ValueError, match="groups"):
        bootstrap_intervals(y, score, 0.5, groups=records[:5])


def test_evaluate_scores_uses_the_validation_threshold_and_reports_everything():
    from ecgkd.evaluation.metrics import evaluate_scores, youden_threshold

    rng = np.random.default_rng(4)
    y_val, y_test = np.repeat([0, 1], 60), np.repeat([0, 1, 0], 40)
    s_val, s_test = 2 * y_val + rng.normal(size=120), 2 * y_test + rng.normal(size=120)
    records = np.repeat(np.arange(12), 10)
    report = evaluate_scores(
        "m",
        "mitbih",
        y_val,
        s_val,
        y_test,
        s_test,
        groups=records,
        efficiency={"parameters": 7},
        resamples=50,
        seed=0,
    )
    assert report.threshold == youden_threshold(y_val, s_val)  # never chosen on test
    assert report.metrics["auroc"] == binary_metrics(y_test, s_test, report.threshold)["auroc"]
    assert report.confusion.sum() == 120 and report.confusion[1].sum() == 40
    assert {"brier", "ece"} <= set(report.metrics) and report.intervals.loc[
        "auroc", "resampled units"
    ] == 12
    row = report.row()
    assert row["parameters"] == 7 and row["auroc 95% CI"].startswith("[") and "threshold" not in row


def test_comparison_picks_no_kd_and_the_best_kd_by_validation():
    import pandas as pd

    from ecgkd.evaluation.stage import keeps_of_teacher, selected_jobs

    rows = pd.DataFrame(
        {
            "dataset": "mitbih",
            "student": "cnn1d",
            "width": 1.0,
            "model": "CNN-1D",
            "temperature": [np.nan, 2.0, 4.0, np.nan, 2.0, 4.0],
            "alpha": [0, 0.5, 0.5, 0, 0.5, 0.5],
            "seed": [0, 0, 0, 1, 1, 1],
            "val_auroc": [0.8, 0.7, 0.9, 0.8, 0.72, 0.88],
            "test_auroc": [0.8, 0.95, 0.7, 0.8, 0.95, 0.7],
        }
    )  # the best on test is never picked
    chosen = selected_jobs(rows, "cnn1d", seed=3)
    assert [kind for kind, _ in chosen] == ["no KD", "KD T=4 alpha=0.5"]
    assert (
        chosen[1][1].temperature == 4.0
        and chosen[1][1].seed == 3
        and np.isnan(chosen[0][1].temperature)
    )
    assert selected_jobs(rows, "resnet1d", seed=0) == []
    table = pd.DataFrame(
        {
            "dataset": ["a", "a", "b", "b"],
            "model": ["t", "s", "t2", "s2"],
            "auroc": [0.8, 0.6, 0.5, 0.5],
        }
    )
    keeps = keeps_of_teacher(table)
    np.testing.assert_allclose(keeps["auroc / teacher"].to_numpy(), [1.0, 0.75, 1.0, 1.0])
    assert keeps.index.names == ["dataset", "model"]  # two datasets' rows are told apart
    above_chance = keeps["share of the teacher's AUROC above chance"]
    assert above_chance.iloc[0] == 1.0 and above_chance.iloc[1] < keeps["auroc / teacher"].iloc[1]
