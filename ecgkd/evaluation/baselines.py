"""The simplest models that could explain a result, on the same splits as every other model.

- **Prevalence**: one constant score for every test unit (the training split's abnormal share):
  what a model is worth that has learnt nothing but the class balance (AUROC 0.5).
- **Rhythm only** (MIT-BIH): a logistic regression on the beat's RR features
  (:mod:`ecgkd.data.rhythm`), standardised on the training split, classes weighted by their
  frequency, its regularisation C chosen on validation AUROC
  (:func:`ecgkd.rhythm_head.fit_rhythm_model`, the anchor of every rhythm model too). Since de
  Chazal et al. (2004) this is the baseline of inter-patient beat classification; a model that
  reads one beat's window and cannot beat it has not learnt more than the rhythm says.
"""

from __future__ import annotations

import numpy as np

from ..data.rhythm import RHYTHM_FEATURES
from ..data.split import Split
from ..rhythm_head import RHYTHM, fit_rhythm_model
from ..scoring import ModelReport, evaluate_scores, unit_groups, unit_scores

PREVALENCE = "prevalence (constant score)"


def prevalence_report(
    splits: dict[str, Split], resamples: int = 1000, seed: int = 0
) -> ModelReport:
    """The constant model: every unit scores the training split's log-odds of abnormal."""
    prior = float(np.mean(splits["train"].y))
    logit = float(np.log(prior / (1 - prior)))
    val, test = splits["val"], splits["test"]
    (y_val, s_val), (y_test, s_test) = (
        unit_scores(s, np.full(len(s), logit, np.float32)) for s in (val, test)
    )
    report = evaluate_scores(
        PREVALENCE,
        test.dataset,
        y_val,
        s_val,
        y_test,
        s_test,
        groups=unit_groups(test),
        classes=test.aami if test.aami is not None else None,
        efficiency={"parameters": 1, "trainable parameters": 1},
        resamples=resamples,
        seed=seed,
    )
    report.role = "baseline"
    return report


def rhythm_report(splits: dict[str, Split], resamples: int = 1000, seed: int = 0) -> ModelReport:
    """The rhythm-only baseline on the test split, evaluated like every model."""
    model, c, _ = fit_rhythm_model(splits)
    val, test = splits["val"], splits["test"]
    report = evaluate_scores(
        RHYTHM,
        test.dataset,
        val.y,
        model.decision_function(val.rhythm),
        test.y,
        model.decision_function(test.rhythm),
        groups=unit_groups(test),
        classes=test.aami,
        efficiency={
            "parameters": len(RHYTHM_FEATURES) + 1,
            "trainable parameters": len(RHYTHM_FEATURES) + 1,
            "C (chosen on validation)": c,
        },
        resamples=resamples,
        seed=seed,
    )
    report.role = "baseline"
    return report


def baseline_reports(
    splits: dict[str, Split], resamples: int = 1000, seed: int = 0
) -> list[ModelReport]:
    """Every baseline that applies to these splits: prevalence, and rhythm only where the splits
    carry rhythm features (MIT-BIH)."""
    reports = [prevalence_report(splits, resamples, seed)]
    if splits["train"].rhythm is not None:
        reports.append(rhythm_report(splits, resamples, seed))
    return reports
