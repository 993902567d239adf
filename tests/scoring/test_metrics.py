"""Calibration and bootstrap intervals."""

import numpy as np
import pytest

from ecgkd.scoring.bootstrap import bootstrap_intervals
from ecgkd.scoring.metrics import binary_metrics, calibration


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
    from ecgkd.scoring import evaluate_scores, youden_threshold

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


def test_ptbxl_intervals_resample_patients_in_the_order_records_are_scored():
    """Records are scored in sorted order; each gets its patient, so a patient's records move
    together in the bootstrap (two records of patient p1 here)."""
    from ecgkd.data.split import Split
    from ecgkd.scoring import unit_groups, unit_scores

    records = np.repeat(["r3", "r1", "r2"], 4)
    patients = np.repeat(["p2", "p1", "p1"], 4)
    y = np.repeat([1, 0, 1], 4)
    x, start = np.zeros((12, 1, 8), np.float32), np.zeros(12, np.int64)
    split = Split("test", "ptbxl", x, y, records, patients, start, 100, ("II",))
    labels, scores = unit_scores(split, np.repeat([0.9, 0.1, 0.7], 4))
    assert list(unit_groups(split)) == ["p1", "p1", "p2"]  # r1, r2, r3
    assert list(labels) == [0, 1, 1] and np.allclose(scores, [0.1, 0.7, 0.9])
    beats = Split("test", "mitbih", x, y, records, records, start, 360, ("MLII",))
    assert list(unit_groups(beats)) == list(records)  # MIT-BIH: every beat, by its record


def test_retention_is_a_paired_difference_and_a_share_above_chance():
    """Student against teacher on the same units: the paired interval is narrower than the two
    models' own intervals would suggest, and a chance-level student keeps none of the margin."""
    from ecgkd.evaluation.stage import retention_table
    from ecgkd.scoring import evaluate_scores, paired_auroc_difference

    rng = np.random.default_rng(0)
    y = np.tile([0, 0, 0, 1], 100)
    groups = np.repeat(np.arange(40), 10)  # 40 "records"
    hard = np.repeat(rng.normal(size=40), 10)  # a per-record difficulty both models share
    teacher = 2.0 * y + hard + rng.normal(size=len(y))
    student = 2.0 * y + hard + 1.2 * rng.normal(size=len(y))
    noise = rng.normal(size=len(y))  # a chance-level model

    def report(name, scores):
        return evaluate_scores(name, "mitbih", y, scores, y, scores, groups=groups, resamples=50)

    reports = [report("teacher", teacher), report("student", student), report("chance", noise)]
    reports[0].role = "teacher"
    baseline = report("a baseline", student)
    baseline.role = "baseline"
    table = retention_table(reports + [baseline], resamples=200).set_index("model")
    assert list(table.index) == ["student", "chance"] and (table["dataset"] == "mitbih").all()
    difference, low, high = paired_auroc_difference(y, student, teacher, groups, resamples=200)
    assert table.loc["student", "difference"] == difference and low < difference < high
    assert table.loc["student", "95% CI"] == f"[{low:.3f}, {high:.3f}]"
    share = table["share of the teacher's AUROC above chance"]
    assert abs(share["chance"]) < 0.15 < table.loc["chance", "auroc / teacher"]  # ratio flatters
    reversed_units = evaluate_scores("other", "mitbih", y[::-1], student, y[::-1], student)
    with pytest.raises(ValueError, match="other test units"):
        retention_table([reports[0], reversed_units])


def test_weighted_metrics_equal_scikit_learn_on_the_resampled_rows():
    """The vectorised bootstrap: weights that count each row's copies give exactly the metrics of
    the rows put together (ties in the scores, one-class resamples included)."""
    from ecgkd.scoring.bootstrap import resample_weights, weighted_binary_metrics

    rng = np.random.default_rng(0)
    y = (rng.random(120) < 0.2).astype(int)
    score = np.round(rng.normal(size=120) + y, 1)  # many ties
    groups = rng.integers(0, 12, 120).astype(str)
    counts, rows, units = resample_weights(groups, 120, 30, seed=1)
    assert counts.shape == (30, units) and units == 12 and (counts.sum(axis=1) == 12).all()
    weights = counts[:, rows]
    weights[0] = (y == 0).astype(float)  # a resample holding one class only
    got = weighted_binary_metrics(y, score, 0.4, weights)
    for r in range(len(weights)):
        index = np.repeat(np.arange(120), weights[r].astype(int))
        expected = binary_metrics(y[index], score[index], 0.4)
        for name, values in got.items():
            assert np.isclose(values[r], expected[name], rtol=1e-12, equal_nan=True), (r, name)


def test_resampled_auroc_by_group_pairs_equals_the_weighted_rows_exactly(monkeypatch):
    """The group pair matrix gives each resample's AUROC bit for bit as the row-weighted one (ties,
    a group with one class, a resample with one class), and the row path above the group limit
    agrees too."""
    from ecgkd.scoring import bootstrap as metrics
    from ecgkd.scoring.bootstrap import resample_weights, resampled_auroc, weighted_auroc

    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.3).astype(int)
    score = np.round(rng.normal(size=400) + y, 1)  # many ties, across groups too
    groups = rng.integers(0, 9, 400)
    y[groups == 4] = 0  # a group of negatives only
    counts, rows, _ = resample_weights(groups.astype(str), 400, 50, seed=2)
    counts[0] = 0
    counts[0, rows[groups == 4][0]] = 9  # a resample holding that group alone: no AUROC
    exact = resampled_auroc(y, score, counts, rows)
    expected = weighted_auroc(y, score, counts[:, rows])
    assert np.isnan(exact[0]) and np.array_equal(exact, expected, equal_nan=True)
    monkeypatch.setattr(metrics, "GROUP_PAIRS_LIMIT", 5)  # 9 groups: the row path
    assert np.array_equal(resampled_auroc(y, score, counts, rows), expected, equal_nan=True)


def test_save_tables_writes_each_table_and_keeps_a_named_index(tmp_path):
    import pandas as pd

    from ecgkd.report import save_tables

    plain = pd.DataFrame({"model": ["a", "b"], "auroc": [0.9, 0.8]})
    per_class = pd.DataFrame({"a": [0.1, 0.7], "b": [0.2, 0.6]}, index=["N", "S"])
    per_class = per_class.rename_axis(columns="model").T  # models as rows, as notebook 06 shows
    paths = save_tables(tmp_path / "out", {"comparison": plain, "per_class": per_class})
    assert [p.name for p in paths] == ["comparison.csv", "per_class.csv"]
    assert pd.read_csv(paths[0]).equals(plain)
    again = pd.read_csv(paths[1])
    assert list(again.columns) == ["model", "N", "S"]
    assert list(again["model"]) == ["a", "b"] and list(again["S"]) == [0.7, 0.6]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.name for p in paths]


def test_every_paired_table_reads_one_verdict_off_its_interval():
    """The verdict says "distinguishable" only when the whole interval lies on one side of zero,
    in the same words for every table; the row's interval is the bootstrap's."""
    from ecgkd.scoring.bootstrap import (
        ABOVE,
        BELOW,
        HOLDS_ZERO,
        paired_auroc_difference,
        paired_difference,
        verdict,
    )

    assert (verdict(0.01, 0.2), verdict(-0.2, -0.01), verdict(-0.1, 0.1)) == (
        ABOVE,
        BELOW,
        HOLDS_ZERO,
    )
    assert verdict(0.0, 0.1) == HOLDS_ZERO  # an interval that touches zero holds it
    rng = np.random.default_rng(0)
    y = np.tile([0, 0, 1], 40)
    groups = np.repeat(np.arange(12), 10)
    good, bad = 3 * y + rng.normal(size=len(y)), rng.normal(size=len(y))
    row = paired_difference(y, good, bad, groups, resamples=200, seed=1)
    difference, low, high = paired_auroc_difference(y, good, bad, groups, 200, 1)
    assert row["difference"] == difference and (row["CI low"], row["CI high"]) == (low, high)
    assert row["95% CI"] == f"[{low:.3f}, {high:.3f}]"
    assert row["distinguishable from zero"] == ABOVE
    assert paired_difference(y, bad, good, groups, 200, 1)["distinguishable from zero"] == BELOW


def test_paired_reports_refuse_reports_on_other_units():
    from ecgkd.scoring import evaluate_scores, paired_reports

    y = np.tile([0, 1], 20)
    a = evaluate_scores("a", "mitbih", y, y * 1.0, y, y * 1.0, resamples=10)
    b = evaluate_scores("b", "mitbih", y, y * 1.0, y[::-1], y[::-1] * 1.0, resamples=10)
    with pytest.raises(ValueError, match="other test units"):
        paired_reports(a, b, resamples=10)
