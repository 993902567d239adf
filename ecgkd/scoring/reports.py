"""One model's report on one dataset's test split, made the same way for every model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from .bootstrap import bootstrap_intervals, paired_difference
from .metrics import binary_metrics, calibration, check_scores, sigmoid, youden_threshold


@dataclass
class ModelReport:
    """Everything the comparison needs about one model on one dataset's test split.

    ``scores`` are test logits at the unit the dataset is judged on (beats for MIT-BIH, records for
    PTB-XL); ``threshold`` was chosen on validation. ``efficiency`` holds parameters, size on disk
    and, for the VQC, qubits, depth and two-qubit gates; ``latency_ms`` is a timing kept apart
    because it is not reproducible.
    """

    model: str
    dataset: str
    y: np.ndarray
    scores: np.ndarray
    threshold: float
    metrics: dict[str, float]
    intervals: pd.DataFrame
    confusion: np.ndarray
    efficiency: dict = field(default_factory=dict)
    classes: np.ndarray | None = None
    latency_ms: float = float("nan")
    groups: np.ndarray | None = None  # what its intervals resample, row for row with ``y``
    role: str = "student"  # "teacher", "student" or "baseline" (ecgkd.evaluation.baselines)
    family: str = ""  # a student's model without its configuration ("CNN-1D"), for pairing
    kd: bool | None = None  # a student's configuration: distilled or not

    def row(self) -> dict:
        """One tidy row: metrics with their 95% intervals, calibration, efficiency."""
        row = {"dataset": self.dataset, "model": self.model, "role": self.role}
        for name, value in self.metrics.items():
            if name in self.intervals.index:
                low, high = self.intervals.loc[name, ["low", "high"]]
                row[name] = value
                row[f"{name} 95% CI"] = f"[{low:.3f}, {high:.3f}]"
            elif name not in ("n", "threshold"):
                row[name] = value
        return {**row, **self.efficiency}


def evaluate_scores(
    model: str,
    dataset: str,
    y_val: np.ndarray,
    val_scores: np.ndarray,
    y_test: np.ndarray,
    test_scores: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    classes: np.ndarray | None = None,
    efficiency: dict | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> ModelReport:
    """Evaluate one model from its validation and test logits, the same way for every model.

    The threshold is Youden's J on validation; the test metrics (scikit-learn) are taken at it, with
    calibration of sigmoid(logit) (Brier, ECE), the confusion matrix, and bootstrap 95% intervals
    that resample ``groups`` (MIT-BIH: records) when given.
    """
    threshold = youden_threshold(y_val, val_scores)
    metrics = binary_metrics(y_test, test_scores, threshold) | calibration(
        y_test, sigmoid(test_scores)
    )
    intervals = bootstrap_intervals(
        y_test, test_scores, threshold, groups=groups, resamples=resamples, seed=seed
    )
    y, s = check_scores(y_test, test_scores)
    confusion = skm.confusion_matrix(y, (s >= threshold).astype(int), labels=[0, 1])
    return ModelReport(
        model,
        dataset,
        y,
        s,
        threshold,
        metrics,
        intervals,
        confusion,
        dict(efficiency or {}),
        None if classes is None else np.asarray(classes),
        groups=None if groups is None else np.asarray(groups).astype(str),
    )


def paired_reports(
    report: ModelReport, reference: ModelReport, resamples: int = 1000, seed: int = 0
) -> dict[str, float | str]:
    """``report``'s AUROC minus ``reference``'s on the same test units, as
    :func:`~ecgkd.scoring.bootstrap.paired_difference` gives it: the row every paired table of the
    tutorial is made of. Refuses two reports scored on other units."""
    if report.dataset != reference.dataset or not np.array_equal(report.y, reference.y):
        raise ValueError(
            f"{report.model} and {reference.model} are scored on other test units: a paired "
            "difference needs the same units in one order"
        )
    return paired_difference(
        report.y, report.scores, reference.scores, report.groups, resamples, seed
    )
