"""Fidelity to the teacher and each anchored model's own share, on synthetic scores."""

import numpy as np
import pytest

from ecgkd.evaluation.stage import fidelity_table, kd_fidelity_table, own_share_table
from ecgkd.rhythm_head import RHYTHM
from ecgkd.scoring import evaluate_scores, roc_auc
from ecgkd.scoring.bootstrap import (
    ABOVE,
    BELOW,
    paired_fidelity_difference,
    resample_weights,
    resampled_fidelity,
)
from ecgkd.scoring.metrics import fidelity, fidelity_terms

RNG = np.random.default_rng(0)
Y = np.tile([0, 0, 0, 1], 60)
GROUPS = np.repeat(np.arange(24), 10).astype(str)
TEACHER = 2.5 * Y + RNG.normal(size=len(Y))


def report(name, scores, role="student", family="", kd=None):
    r = evaluate_scores(name, "mitbih", Y, scores, Y, scores, groups=GROUPS, resamples=20)
    r.role, r.family, r.kd = role, family, kd
    return r


def test_a_copy_of_the_teacher_is_perfectly_faithful():
    same = fidelity(TEACHER, 0.5, TEACHER, 0.5)
    assert same["agreement"] == 1 and same["logit correlation"] == pytest.approx(1)
    assert same["kl"] == pytest.approx(0, abs=1e-12)
    flipped = fidelity(-TEACHER, -0.5, TEACHER, 0.5)
    assert flipped["logit correlation"] == pytest.approx(-1) and flipped["kl"] > 0.5


def test_resampled_fidelity_equals_fidelity_on_the_resampled_rows():
    student = TEACHER + RNG.normal(size=len(Y))
    terms = fidelity_terms(student, 0.3, TEACHER, 0.5)
    counts, rows, _ = resample_weights(GROUPS, len(Y), 5, seed=3)
    draws = resampled_fidelity(terms, counts, rows)
    for r in range(5):
        picked = np.concatenate(
            [
                np.flatnonzero(rows == g)
                for g in range(counts.shape[1])
                for _ in range(int(counts[r, g]))
            ]
        )
        direct = fidelity(student[picked], 0.3, TEACHER[picked], 0.5)
        for metric, value in direct.items():
            assert draws[metric][r] == pytest.approx(value, rel=1e-10, abs=1e-12)


def test_a_student_closer_to_the_teacher_is_more_faithful_paired():
    close = TEACHER + 0.2 * RNG.normal(size=len(Y))
    far = TEACHER + 2.0 * RNG.normal(size=len(Y))
    paired = paired_fidelity_difference(
        fidelity_terms(close, 0.5, TEACHER, 0.5),
        fidelity_terms(far, 0.5, TEACHER, 0.5),
        GROUPS,
        resamples=200,
        seed=0,
    )
    assert paired["agreement"]["distinguishable from zero"] == ABOVE
    assert paired["logit correlation"]["distinguishable from zero"] == ABOVE
    assert paired["kl"]["distinguishable from zero"] == BELOW  # closer: a smaller divergence


def test_kd_fidelity_pairs_each_student_with_its_no_kd_twin():
    teacher = report("teacher", TEACHER, role="teacher")
    plain = report("A, no KD", TEACHER + 2.0 * RNG.normal(size=len(Y)), family="A", kd=False)
    distilled = report("A, KD", TEACHER + 0.2 * RNG.normal(size=len(Y)), family="A", kd=True)
    table = fidelity_table([teacher, plain, distilled]).set_index("model")
    assert table.loc["A, KD", "agreement"] > table.loc["A, no KD", "agreement"]
    kd = kd_fidelity_table([teacher, plain, distilled], resamples=200).set_index("metric")
    assert list(kd.index) == ["agreement", "logit correlation", "kl"]
    assert kd.loc["agreement", "difference"] == pytest.approx(
        table.loc["A, KD", "agreement"] - table.loc["A, no KD", "agreement"]
    )
    assert kd.loc["kl", "distinguishable from zero"] == BELOW


def test_an_anchored_models_own_term_is_its_logit_minus_the_anchor():
    anchor_scores = 1.5 * Y + RNG.normal(size=len(Y))
    anchor = report(RHYTHM, anchor_scores, role="baseline")
    window = 0.5 * Y + RNG.normal(size=len(Y))
    model = report("CNN-1D + rhythm, no KD", anchor_scores + window, family="CNN-1D + rhythm")
    window_only = report("CNN-1D, no KD", window, family="CNN-1D")
    table = own_share_table([anchor, model, window_only], resamples=100)
    assert len(table) == 1  # only the models that read rhythm have an anchor
    row = table.iloc[0]
    assert row["what it is"] == "rhythm LR + CNN-1D correction"
    assert row["own term auroc"] == pytest.approx(roc_auc(Y, window))
    assert row["anchor auroc"] == anchor.metrics["auroc"]
    assert row["difference"] == pytest.approx(model.metrics["auroc"] - anchor.metrics["auroc"])
    total = np.var(anchor_scores + window)
    assert row["own term's share of the logit variance"] == pytest.approx(np.var(window) / total)
