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


def resample_weights(
    groups: np.ndarray | None, n: int, resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The bootstrap of every interval here: each resample draws as many whole groups as there are
    (single rows when ``groups`` is None), with replacement. Returned as counts: (counts
    (resamples, groups), the group of each row, number of groups); row ``i`` appears
    ``counts[r, group[i]]`` times in resample ``r``, so a metric weighted by these counts equals the
    metric on the resample's rows put together, without building them."""
    groups = np.arange(n) if groups is None else np.asarray(groups).astype(str)
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} rows, the labels {n}")
    _, inverse = np.unique(groups, return_inverse=True)
    count = int(inverse.max()) + 1 if n else 0
    rng = np.random.default_rng(seed)
    counts = (
        np.stack(
            [np.bincount(rng.integers(0, count, count), minlength=count) for _ in range(resamples)]
        )
        if resamples
        else np.zeros((0, count), np.int64)
    )
    return counts.astype(np.float64), inverse, count


def weighted_auroc(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUROC for each row of ``weights`` (k, n): the probability that a positive outranks a
    negative, ties counting one half, each row counted as often as its weight; NaN where a row of
    weights leaves one class only. Sorting happens once for all k."""
    order = np.argsort(score, kind="stable")
    s, positive = score[order], y[order] == 1
    w = weights[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # runs of tied scores
    pos = np.add.reduceat(w * positive, starts, axis=1)
    neg = np.add.reduceat(w * ~positive, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    total = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (pos * (below + 0.5 * neg)).sum(axis=1) / total, np.nan)


def weighted_average_precision(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """scikit-learn's average precision for each row of ``weights`` (k, n): the precision at each
    distinct threshold, from the highest score down, weighted by the recall it adds."""
    order = np.argsort(-score, kind="stable")
    s, positive = score[order], y[order] == 1
    w = weights[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    tp = np.add.reduceat(w * positive, starts, axis=1)
    called = np.cumsum(np.add.reduceat(w, starts, axis=1), axis=1)
    positives = tp.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(called > 0, np.cumsum(tp, axis=1) / called, 0.0)
        value = (tp * precision).sum(axis=1) / positives[:, 0]
    both = (positives[:, 0] > 0) & (positives[:, 0] < w.sum(axis=1))
    return np.where(both, value, np.nan)


def weighted_binary_metrics(
    y: np.ndarray, score: np.ndarray, threshold: float, weights: np.ndarray, auroc: bool = True
) -> dict[str, np.ndarray]:
    """:func:`binary_metrics` for each row of ``weights`` (k, n) at once (each value an array of
    k): the same definitions, counts weighted (``auroc=False``: all but the AUROC)."""
    positive, called = y == 1, score >= threshold
    tp = weights @ (positive & called)
    fn = weights @ (positive & ~called)
    fp = weights @ (~positive & called)
    tn = weights @ (~positive & ~called)
    both = (tp + fn > 0) & (tn + fp > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sensitivity = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        specificity = np.where(tn + fp > 0, tn / (tn + fp), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return {
        **({"auroc": weighted_auroc(y, score, weights)} if auroc else {}),
        "auprc": weighted_average_precision(y, score, weights),
        "accuracy": (tp + tn) / weights.sum(axis=1),
        "balanced_accuracy": np.where(both, (sensitivity + specificity) / 2, np.nan),
        "sensitivity": sensitivity,
        "specificity": specificity,
        "f1": f1,
    }


GROUP_PAIRS_LIMIT = 4096  # up to this many groups, bootstrap AUROCs come from a group pair matrix


def group_pair_counts(
    y: np.ndarray, score: np.ndarray, rows: np.ndarray, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The AUROC's ingredients by group (``rows``: the group of each row, 0..count-1): ``wins[g,
    h]``, how often a positive of group g outranks a negative of group h (ties count one half), and
    the positives and negatives of each group. A resample that draws group g c_g times has AUROC
    c'Wc / (c'P)(c'N): the same number :func:`weighted_auroc` gives with each row weighted by its
    group's count, at a cost that does not grow with the rows."""
    positive = y == 1
    wins = np.zeros((count, count))
    pos_rows, pos_scores = rows[positive], score[positive]
    for h in range(count):
        negatives = np.sort(score[~positive & (rows == h)])
        if len(negatives) and len(pos_scores):
            below = np.searchsorted(negatives, pos_scores, "left")
            ties = np.searchsorted(negatives, pos_scores, "right") - below
            wins[:, h] = np.bincount(pos_rows, weights=below + 0.5 * ties, minlength=count)
    positives = np.bincount(rows, weights=positive, minlength=count).astype(np.float64)
    negatives_per_group = np.bincount(rows, weights=~positive, minlength=count).astype(np.float64)
    return wins, positives, negatives_per_group


def resampled_auroc(
    y: np.ndarray, score: np.ndarray, counts: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """AUROC of each bootstrap resample in ``counts`` (resamples, groups), as :func:`weighted_auroc`
    of the rows weighted by ``counts[:, rows]``: exactly, through :func:`group_pair_counts` when
    there are few groups (records, patients), else a few resamples at a time."""
    count = counts.shape[1]
    if count > GROUP_PAIRS_LIMIT:
        parts = [weighted_auroc(y, score, w) for w in _chunks(counts, rows)]
        return np.concatenate(parts) if parts else np.zeros(0)
    wins, positives, negatives = group_pair_counts(y, score, rows, count)
    total = (counts @ positives) * (counts @ negatives)
    won = np.einsum("kg,gh,kh->k", counts, wins, counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, won / total, np.nan)


def _chunks(counts: np.ndarray, rows: np.ndarray, size: int = 64):
    """Per-row weights (k, n) of the resamples in ``counts``, a few resamples at a time (memory)."""
    for start in range(0, len(counts), size):
        yield counts[start : start + size][:, rows]


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
    counts, rows, _ = resample_weights(groups, len(y), resamples, seed)
    draws = resampled_auroc(y, score, counts, rows) - resampled_auroc(y, reference, counts, rows)
    draws = draws[np.isfinite(draws)]  # resamples holding one class only have no AUROC
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail]) if len(draws) else (np.nan, np.nan)
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
    counts, rows, units = resample_weights(groups, len(y), resamples, seed)
    columns = [
        weighted_binary_metrics(y, score, threshold, w, auroc=False) for w in _chunks(counts, rows)
    ]
    by_metric = {  # each metric's draws, one per resample; the AUROC exact by group
        m: resampled_auroc(y, score, counts, rows)
        if m == "auroc"
        else np.concatenate([c[m] for c in columns] or [np.zeros(0)])
        for m in metrics
    }
    draws = np.stack([by_metric[m] for m in metrics], axis=1)
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
