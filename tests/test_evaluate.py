"""Calibration and bootstrap intervals."""

import numpy as np
import pytest

from ecgkd.evaluate import binary_metrics, bootstrap_intervals, calibration


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
    by_record = bootstrap_intervals(y, score, 0.5, groups=records, resamples=300, seed=0, metrics=("auroc",))
    width = lambda t: float(t.loc["auroc", "high"] - t.loc["auroc", "low"])  # noqa: E731
    assert by_record.loc["auroc", "resampled units"] == 10 and width(by_record) > 2 * width(by_beat)
    with pytest.raises(ValueError, match="groups"):
        bootstrap_intervals(y, score, 0.5, groups=records[:5])
