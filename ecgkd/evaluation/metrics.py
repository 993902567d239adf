"""Metrics for a binary normal (0) / abnormal (1) score, all computed by scikit-learn.

The operating threshold is chosen on the validation split (Youden's J, as ECGFounder's authors do)
and then applied unchanged to the test split: choosing it on the test split would flatter every
model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sklearn import metrics as skm

if TYPE_CHECKING:
    import pandas as pd

    from ..data.split import Split


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits, without overflow warnings for large magnitudes."""
    z = np.asarray(logits, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def _check(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y, score = np.asarray(y), np.asarray(score, dtype=np.float64)
    if y.shape != score.shape or y.ndim != 1:
        raise ValueError(f"labels {y.shape} and scores {score.shape} must be 1-d and aligned")
    if not set(np.unique(y)) <= {0, 1}:
        raise ValueError("labels must be 0 (normal) or 1 (abnormal)")
    if not np.isfinite(score).all():
        raise ValueError("scores hold NaN or infinite values")
    return y.astype(int), score


def youden_threshold(y: np.ndarray, score: np.ndarray) -> float:
    """The score threshold maximising sensitivity + specificity - 1 (Youden's J) on these labels."""
    y, score = _check(y, score)
    if len(np.unique(y)) < 2:
        raise ValueError("Youden's J needs both classes in the labels")
    fpr, tpr, thresholds = skm.roc_curve(y, score)
    best = int(np.argmax(tpr - fpr))
    return float(np.clip(thresholds[best], np.min(score), np.max(score)))


def binary_metrics(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    """AUROC, AUPRC and the threshold-dependent metrics of one score on one split.

    ``score`` is any monotone score (logit or probability); ``threshold`` is on the same scale and
    a score >= threshold means "abnormal".
    """
    y, score = _check(y, score)
    pred = (score >= threshold).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    both = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "auroc": float(skm.roc_auc_score(y, score)) if both else float("nan"),
        "auprc": float(skm.average_precision_score(y, score)) if both else float("nan"),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y, pred)) if both else float("nan"),
        "sensitivity": float(tp / (tp + fn)) if tp + fn else float("nan"),
        "specificity": float(tn / (tn + fp)) if tn + fp else float("nan"),
        "f1": float(skm.f1_score(y, pred, zero_division=0)),
        "threshold": float(threshold),
    }


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """AUROC, or NaN when only one class is present (early stopping treats NaN as no
    improvement)."""
    y, score = _check(y, score)
    return float(skm.roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def per_record(
    y: np.ndarray, score: np.ndarray, record: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window scores averaged per record (PTB-XL labels belong to records): (records, labels,
    scores)."""
    y, score = _check(y, score)
    record = np.asarray(record).astype(str)
    ids, inverse = np.unique(record, return_inverse=True)
    sums = np.bincount(inverse, weights=score, minlength=len(ids))
    counts = np.bincount(inverse, minlength=len(ids))
    labels = np.zeros(len(ids), dtype=int)
    labels[inverse] = y
    if not np.array_equal(labels[inverse], y):
        raise ValueError("windows of one record carry different labels")
    return ids, labels, sums / counts


def latency_ms(model, shape: tuple[int, ...], repeats: int = 30, warmup: int = 3) -> float:
    """Median CPU time of one forward pass on a batch of ``shape`` (e.g. (1, 1, 256): one window),
    in ms.

    A timing, not a result: it varies with the machine and its load, so tables that must reproduce
    exactly keep it in a separate column.
    """
    import time

    import torch

    model = model.eval()
    x = torch.randn(*shape)
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            start = time.perf_counter()
            model(x)
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def per_class_detection(classes: np.ndarray, score: np.ndarray, threshold: float) -> pd.DataFrame:
    """Share of each class called abnormal at ``threshold`` (MIT-BIH: sensitivity per AAMI class,
    and the false-alarm rate for N)."""
    import pandas as pd

    classes = np.asarray(classes).astype(str)
    called = np.asarray(score) >= threshold
    rows = {
        c: {
            "windows": int((classes == c).sum()),
            "called abnormal": float(called[classes == c].mean()),
        }
        for c in sorted(np.unique(classes))
    }
    return pd.DataFrame(rows).T.astype({"windows": int})


def calibration(y: np.ndarray, probability: np.ndarray, bins: int = 10) -> dict[str, float]:
    """Brier score (scikit-learn) and expected calibration error over ``bins`` equal-width bins.

    ECE: the mean, weighted by bin size, of |observed abnormal rate - mean predicted probability|.
    Only meaningful for probabilities (a sigmoid of logits), not for arbitrary scores.
    """
    y, p = _check(y, probability)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("calibration needs probabilities in [0, 1]: pass sigmoid(logits)")
    which = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    observed = np.bincount(which, weights=y, minlength=bins)
    predicted = np.bincount(which, weights=p, minlength=bins)
    filled = counts > 0
    ece = np.sum(np.abs(observed[filled] - predicted[filled])) / len(y)
    return {"brier": float(skm.brier_score_loss(y, p)), "ece": float(ece)}


def group_resamples(n: int, groups: np.ndarray | None, resamples: int, seed: int):
    """Yield (row index, number of groups) for each bootstrap resample of whole groups (of single
    rows when ``groups`` is None): the one resampling scheme of every interval here."""
    groups = np.arange(n) if groups is None else np.asarray(groups).astype(str)
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} rows, the labels {n}")
    ids, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == i) for i in range(len(ids))]
    rng = np.random.default_rng(seed)
    for _ in range(resamples):
        yield np.concatenate([members[i] for i in rng.integers(0, len(ids), len(ids))]), len(ids)


def paired_auroc_difference(
    y: np.ndarray,
    score: np.ndarray,
    reference: np.ndarray,
    groups: np.ndarray | None = None,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """AUROC(score) - AUROC(reference) on the same units, and its bootstrap interval: each resample
    draws the same groups for both models, so what they share (hard patients, easy ones) cancels.
    Returns (difference, low, high)."""
    y, score = _check(y, score)
    _, reference = _check(y, reference)
    draws = []
    for index, _ in group_resamples(len(y), groups, resamples, seed):
        if len(np.unique(y[index])) == 2:
            draws.append(
                skm.roc_auc_score(y[index], score[index])
                - skm.roc_auc_score(y[index], reference[index])
            )
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail]) if draws else (np.nan, np.nan)
    difference = skm.roc_auc_score(y, score) - skm.roc_auc_score(y, reference)
    return float(difference), float(low), float(high)


def bootstrap_intervals(
    y: np.ndarray,
    score: np.ndarray,
    threshold: float,
    groups: np.ndarray | None = None,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    metrics: tuple[str, ...] = (
        "auroc",
        "auprc",
        "balanced_accuracy",
        "sensitivity",
        "specificity",
        "f1",
    ),
) -> pd.DataFrame:
    """Percentile bootstrap intervals of :func:`binary_metrics` at a fixed ``threshold``.

    With ``groups`` (MIT-BIH: the record of each beat) whole groups are resampled, because beats of
    one patient are not independent: resampling beats would give intervals that are too narrow.
    """
    import pandas as pd

    y, score = _check(y, score)
    draws = []
    units = len(y) if groups is None else len(np.unique(np.asarray(groups).astype(str)))
    for index, _ in group_resamples(len(y), groups, resamples, seed):
        values = binary_metrics(y[index], score[index], threshold)
        draws.append([values[m] for m in metrics])
    draws = np.asarray(draws, dtype=np.float64)
    estimate = binary_metrics(y, score, threshold)
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(draws, [tail, 100 - tail], axis=0)
    return pd.DataFrame(
        {
            "metric": list(metrics),
            "estimate": [estimate[m] for m in metrics],
            "low": low,
            "high": high,
            "resampled units": units,
        }
    ).set_index("metric")


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
    role: str = "student"  # "teacher", "student" or "baseline" (see ecgkd.evaluation.baselines)
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
    y, s = _check(y_test, test_scores)
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


def unit_scores(split: Split, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) at the unit a dataset is judged on: beats for MIT-BIH, records for PTB-XL
    (the mean of a record's window logits, since PTB-XL's labels belong to records)."""
    if split.dataset == "ptbxl":
        _, y, s = per_record(split.y, logits, split.record)
        return y, s
    return split.y, logits


def unit_groups(split: Split) -> np.ndarray:
    """What the bootstrap resamples, for each unit :func:`unit_scores` scores: MIT-BIH beats go by
    record (DS2's 22 records are 22 patients), PTB-XL records by ``patient_id``, since one patient
    may have several records in the test fold and they are not independent."""
    if split.dataset == "ptbxl":
        records = np.asarray(split.record).astype(str)
        _, first = np.unique(records, return_index=True)  # the order of unit_scores' records
        return np.asarray(split.patient).astype(str)[first]
    return np.asarray(split.record).astype(str)
