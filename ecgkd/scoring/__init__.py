"""Scoring, the floor below every stage: metrics and the validation threshold (:mod:`.metrics`),
bootstrap intervals and paired differences (:mod:`.bootstrap`), one model's report
(:mod:`.reports`). It imports nothing of the pipeline but the data's :class:`Split` contract, so
that the training loop, the teacher and every student score the same way without reaching up to
the evaluation stage."""

from .bootstrap import bootstrap_intervals, paired_auroc_difference, paired_difference, verdict
from .metrics import (
    binary_metrics,
    calibration,
    per_class_detection,
    roc_auc,
    sigmoid,
    unit_groups,
    unit_scores,
    youden_threshold,
)
from .reports import ModelReport, evaluate_scores, paired_reports

__all__ = [
    "ModelReport",
    "binary_metrics",
    "bootstrap_intervals",
    "calibration",
    "evaluate_scores",
    "paired_auroc_difference",
    "paired_difference",
    "paired_reports",
    "per_class_detection",
    "roc_auc",
    "sigmoid",
    "unit_groups",
    "unit_scores",
    "verdict",
    "youden_threshold",
]
