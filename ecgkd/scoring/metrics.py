"""Metrics of a binary normal (0) / abnormal (1) score, all computed by scikit-learn: the floor
every stage scores with (it imports nothing of the pipeline but the :class:`Split` contract).

The operating threshold is chosen on the validation split (Youden's J, as ECGFounder's authors do;
Youden 1950) and then applied unchanged to the test split: choosing it on the test split would
flatter every model. Calibration: the Brier score and the expected calibration error (ECE; Naeini
et al. 2015, Guo et al. 2017).
"""

from __future__ import annotations

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


def check_scores(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    y, score = check_scores(y, score)
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
    y, score = check_scores(y, score)
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
    y, score = check_scores(y, score)
    return float(skm.roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def per_record(
    y: np.ndarray, score: np.ndarray, record: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window scores averaged per record (PTB-XL labels belong to records): (records, labels,
    scores)."""
    y, score = check_scores(y, score)
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
    y, p = check_scores(y, probability)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("calibration needs probabilities in [0, 1]: pass sigmoid(logits)")
    which = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    observed = np.bincount(which, weights=y, minlength=bins)
    predicted = np.bincount(which, weights=p, minlength=bins)
    filled = counts > 0
    ece = np.sum(np.abs(observed[filled] - predicted[filled])) / len(y)
    return {"brier": float(skm.brier_score_loss(y, p)), "ece": float(ece)}


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


def fidelity_terms(
    student: np.ndarray, student_threshold: float, teacher: np.ndarray, teacher_threshold: float
) -> dict[str, np.ndarray]:
    """Per-unit terms whose means give :func:`fidelity`: whether the two models decide alike at
    their own thresholds, the KL divergence from the teacher's probability to the student's, and
    the moments of their logits' correlation. Means of per-unit terms resample exactly under a
    bootstrap that reweights units (:func:`ecgkd.scoring.bootstrap.resampled_fidelity`)."""
    s, t = np.asarray(student, np.float64), np.asarray(teacher, np.float64)
    if s.shape != t.shape or s.ndim != 1:
        raise ValueError(f"student {s.shape} and teacher {t.shape} logits must be 1-d and aligned")
    log_ps1, log_ps0 = -np.logaddexp(0.0, -s), -np.logaddexp(0.0, s)
    log_pt1, log_pt0 = -np.logaddexp(0.0, -t), -np.logaddexp(0.0, t)
    kl = np.exp(log_pt1) * (log_pt1 - log_ps1) + np.exp(log_pt0) * (log_pt0 - log_ps0)
    agree = ((s >= student_threshold) == (t >= teacher_threshold)).astype(np.float64)
    return {"agreement": agree, "kl": kl, "s": s, "t": t, "ss": s * s, "tt": t * t, "st": s * t}


def fidelity_from_means(means: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Agreement, logit correlation and KL from the means of :func:`fidelity_terms` (arrays: one
    value per resample, or scalars)."""
    cov = means["st"] - means["s"] * means["t"]
    var_s, var_t = means["ss"] - means["s"] ** 2, means["tt"] - means["t"] ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = cov / np.sqrt(var_s * var_t)
    return {"agreement": means["agreement"], "logit correlation": correlation, "kl": means["kl"]}


def fidelity(
    student: np.ndarray, student_threshold: float, teacher: np.ndarray, teacher_threshold: float
) -> dict[str, float]:
    """How closely a student behaves like its teacher on the same units (Stanton et al. 2021):
    the share of units both call alike at their own validation thresholds, the Pearson
    correlation of their logits, and the mean KL divergence KL(teacher || student) of their
    probabilities sigmoid(logit)."""
    terms = fidelity_terms(student, student_threshold, teacher, teacher_threshold)
    values = fidelity_from_means({k: v.mean() for k, v in terms.items()})
    return {k: float(v) for k, v in values.items()}
