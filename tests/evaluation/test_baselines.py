"""The baselines every model must beat: a constant score and, on MIT-BIH, rhythm alone."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from conftest import windows
from ecgkd import rhythm_head
from ecgkd.data.rhythm import N_RHYTHM, RHYTHM_FEATURES, model_inputs
from ecgkd.evaluation.baselines import PREVALENCE, baseline_reports, prevalence_report
from ecgkd.evaluation.stage import baseline_table
from ecgkd.rhythm_head import RHYTHM, RhythmClassifier, anchor_rhythm, fit_rhythm_model
from ecgkd.scoring.bootstrap import ABOVE, HOLDS_ZERO
from ecgkd.scoring.reports import evaluate_scores
from ecgkd.students.models import build_student


def with_rhythm(name: str, n: int, seed: int):
    """Synthetic beats whose abnormal ones come early (pre/local well below 1), with noise."""
    split = windows(name, n, seed)
    rng = np.random.default_rng(seed)
    rhythm = rng.normal(1.0, 0.1, size=(n, len(RHYTHM_FEATURES)))
    rhythm[:, RHYTHM_FEATURES.index("pre/local")] -= 0.1 * split.y
    split.rhythm = rhythm.astype(np.float32)
    return split


def splits_with_rhythm():
    return {s: with_rhythm(s, 90, i) for i, s in enumerate(("train", "val", "test"))}


def test_prevalence_is_a_constant_at_chance():
    splits = {s: windows(s, 30, i) for i, s in enumerate(("train", "val", "test"))}
    report = prevalence_report(splits, resamples=20)
    assert report.model == PREVALENCE and report.role == "baseline"
    assert np.unique(report.scores).size == 1 and report.metrics["auroc"] == 0.5


def test_rhythm_baseline_learns_prematurity_and_chooses_c_on_validation():
    splits = splits_with_rhythm()
    model, c, scores = fit_rhythm_model(splits)
    assert scores[c] == max(scores.values()) and len(scores) > 1
    reports = baseline_reports(splits, resamples=20)
    assert [r.model for r in reports] == [PREVALENCE, RHYTHM]
    assert 0.65 < reports[1].metrics["auroc"] < 0.95 and reports[1].efficiency["parameters"] == 9
    no_rhythm = {
        s: replace(windows(s, 30, i), rhythm=None) for i, s in enumerate(("train", "val", "test"))
    }
    assert [r.model for r in baseline_reports(no_rhythm, resamples=10)] == [PREVALENCE]
    with pytest.raises(ValueError, match="no rhythm features"):
        fit_rhythm_model(no_rhythm)


def test_a_process_fits_the_rhythm_baseline_once_per_data_and_hands_out_copies(monkeypatch):
    splits = splits_with_rhythm()
    model, c, scores = fit_rhythm_model(splits)
    fits = []
    monkeypatch.setattr(rhythm_head, "_fit", lambda *a: fits.append(a) or 1 / 0)
    again, c_again, scores_again = fit_rhythm_model(splits)  # kept: not fitted again
    assert not fits and (c_again, scores_again) == (c, scores) and again is not model
    x = splits["test"].rhythm
    assert np.array_equal(again.decision_function(x), model.decision_function(x))
    again[-1].coef_[:] = 0.0  # a caller's copy is its own
    assert np.array_equal(
        fit_rhythm_model(splits)[0].decision_function(x), model.decision_function(x)
    )
    changed = dict(splits, train=replace(splits["train"], rhythm=splits["train"].rhythm * 2.0))
    with pytest.raises(ZeroDivisionError):  # other features: fitted anew
        fit_rhythm_model(changed)
    assert len(fits) == 1


def test_anchored_rhythm_head_starts_as_the_baseline_and_learns_only_the_window():
    splits = splits_with_rhythm()
    model = build_student("cnn1d", seed=0, width=0.25, rhythm=N_RHYTHM).eval()
    assert anchor_rhythm(model, splits["train"], splits["val"]) == 1
    window_only = build_student("cnn1d", seed=0, width=0.25)
    assert anchor_rhythm(window_only, splits["train"], splits["val"]) == 0
    baseline, _, _ = fit_rhythm_model(splits)
    test = splits["test"]
    with torch.no_grad():
        logits = model(torch.from_numpy(model_inputs(test, True)))[:, 0].numpy()
    np.testing.assert_allclose(logits, baseline.decision_function(test.rhythm), atol=1e-4)
    anchor = {n: p.clone() for n, p in model.head.named_parameters() if n.startswith("anchor")}
    model.train()
    x = torch.from_numpy(model_inputs(splits["train"], True))
    y = torch.from_numpy(splits["train"].y.astype(np.float32))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.01)
    for _ in range(3):
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(x)[:, 0], y).backward()
        optimizer.step()
    assert model.head.linear.weight.abs().sum() > 0  # the window's layer learnt
    for name, value in model.head.named_parameters():
        if name.startswith("anchor"):
            assert torch.equal(value, anchor[name])  # the baseline stayed fixed
    with pytest.raises(ValueError, match="cannot anchor"):
        RhythmClassifier(4, 3).set_anchor(baseline)


def test_baseline_table_says_who_beats_rhythm_with_a_paired_interval():
    splits = splits_with_rhythm()
    test = splits["test"]
    base = baseline_reports(splits, resamples=50)
    groups = test.record
    perfect = evaluate_scores(
        "perfect", "mitbih", test.y, 4.0 * test.y, test.y, 4.0 * test.y, groups=groups, resamples=50
    )
    noise = np.random.default_rng(1).normal(size=len(test))
    chance = evaluate_scores(
        "chance", "mitbih", test.y, noise, test.y, noise, groups=groups, resamples=50
    )
    table = baseline_table(base + [perfect, chance], resamples=200).set_index("model")
    assert list(table.index) == ["perfect", "chance"] and (table["baseline"] == RHYTHM).all()
    assert table.loc["perfect", "distinguishable from zero"] == ABOVE
    assert table.loc["chance", "distinguishable from zero"] != ABOVE
    assert table.loc["chance", "difference"] < 0


def test_kd_gain_pairs_each_student_with_its_own_no_kd_twin():
    from ecgkd.evaluation.stage import kd_gain_table

    rng = np.random.default_rng(0)
    y = np.tile([0, 0, 0, 1], 60)
    groups = np.repeat(np.arange(24), 10)
    shared = rng.normal(size=len(y))

    def student(family, kd, signal):
        scores = signal * y + shared + 0.3 * rng.normal(size=len(y))
        r = evaluate_scores(
            f"{family}, {'KD' if kd else 'no KD'}",
            "mitbih",
            y,
            scores,
            y,
            scores,
            groups=groups,
            resamples=20,
        )
        r.family, r.kd = family, kd
        return r

    reports = [
        student("A", False, 1.0),
        student("A", True, 3.0),
        student("B", False, 1.0),
        student("B", True, 1.0),
    ]
    table = kd_gain_table(reports, resamples=300).set_index("student")
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", "distinguishable from zero"] == ABOVE
    assert table.loc["B", "distinguishable from zero"] == HOLDS_ZERO
    assert table.loc["A", "difference"] == pytest.approx(
        table.loc["A", "KD auroc"] - table.loc["A", "no KD auroc"]
    )
    assert table.loc["A", "KD configuration"] == "KD"


def test_rhythm_gain_pairs_each_model_with_its_window_only_twin():
    from ecgkd.evaluation.stage import rhythm_gain_table

    rng = np.random.default_rng(0)
    y = np.tile([0, 0, 0, 1], 60)
    groups = np.repeat(np.arange(24), 10)
    shared = rng.normal(size=len(y))

    def model(name, signal):
        scores = signal * y + shared + 0.3 * rng.normal(size=len(y))
        return evaluate_scores(name, "mitbih", y, scores, y, scores, groups=groups, resamples=20)

    reports = [
        model("teacher (T + rhythm)", 3.0),
        model("teacher (T)", 1.0),
        model("CNN-1D + rhythm, KD T=2 alpha=0.5", 1.0),
        model("CNN-1D, KD T=2 alpha=0.5", 1.0),
        model("CNN-1D + rhythm, no KD", 2.0),  # its window-only twin is missing: no row
    ]
    table = rhythm_gain_table(reports, resamples=300).set_index("model")
    assert list(table.index) == ["teacher (T + rhythm)", "CNN-1D + rhythm, KD T=2 alpha=0.5"]
    assert table.loc["teacher (T + rhythm)", "distinguishable from zero"] == ABOVE
    assert table.loc["CNN-1D + rhythm, KD T=2 alpha=0.5", "distinguishable from zero"] == HOLDS_ZERO
    row = table.loc["teacher (T + rhythm)"]
    assert row["difference"] == pytest.approx(row["auroc with rhythm"] - row["window-only auroc"])


def test_the_causal_rhythm_set_is_kept_unless_looking_ahead_is_better_on_validation():
    """The rule of notebook 01: what a monitor knows, unless the look-ahead features beat it on
    validation with a paired interval above zero; the test split is scored, never used."""
    from dataclasses import replace

    from ecgkd.rhythm_head import chosen_feature_set, feature_set_study

    causal = splits_with_rhythm()
    ahead = {}
    for name, split in causal.items():
        rhythm = split.rhythm.copy()
        rhythm[:, 1] += 0.5 * split.y  # a look-ahead column that tells the class well
        ahead[name] = replace(split, rhythm=rhythm)
    study = feature_set_study({"causal": causal, "lookahead": ahead}, resamples=200)
    assert list(study.index) == ["causal", "lookahead"]
    assert study.loc["lookahead", "val auroc"] > study.loc["causal", "val auroc"]
    assert study.loc["lookahead", "val: minus causal, distinguishable from zero"] == ABOVE
    assert chosen_feature_set(study) == "lookahead"
    same = feature_set_study({"causal": causal, "lookahead": causal}, resamples=200)
    assert same.loc["lookahead", "val: minus causal, difference"] == 0
    assert chosen_feature_set(same) == "causal"
    shuffled = {**ahead, "val": replace(ahead["val"], y=ahead["val"].y[::-1].copy())}
    with pytest.raises(ValueError, match="other beats"):
        feature_set_study({"causal": causal, "lookahead": shuffled})
