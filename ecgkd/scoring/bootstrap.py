"""Bootstrap intervals and paired differences, for every table that compares models.

Beats of one patient are not independent, so every interval here resamples whole groups (MIT-BIH:
records; PTB-XL: patients) with replacement: the cluster bootstrap (Field and Welsh 2007; Efron and
Tibshirani 1993). A paired difference draws the same groups for both models, so what they share
(hard patients, easy ones) cancels. Resamples are counts per group, so a resample's metric is a
weighted metric of the rows, and its AUROC is read exactly off a table of wins between groups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn import metrics as skm

from .metrics import binary_metrics, check_scores, fidelity_from_means

if TYPE_CHECKING:
    import pandas as pd


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
    y, score = check_scores(y, score)
    _, reference = check_scores(y, reference)
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

    y, score = check_scores(y, score)
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


#: The one wording of every paired table's verdict (:func:`verdict`).
ABOVE, BELOW, HOLDS_ZERO = "yes, above 0", "yes, below 0", "no, the interval holds 0"


def verdict(low: float, high: float) -> str:
    """Whether a paired difference is distinguishable from zero: only when its whole interval lies
    on one side of it."""
    return ABOVE if low > 0 else BELOW if high < 0 else HOLDS_ZERO


def paired_difference(
    y: np.ndarray,
    score: np.ndarray,
    reference: np.ndarray,
    groups: np.ndarray | None = None,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float | str]:
    """The columns every paired table shows: AUROC(score) - AUROC(reference)
    (:func:`paired_auroc_difference`, the same groups resampled for both), its interval and the
    :func:`verdict` "distinguishable from zero"."""
    difference, low, high = paired_auroc_difference(
        y, score, reference, groups, resamples, seed, level
    )
    return {
        "difference": difference,
        f"{level:.0%} CI": f"[{low:.3f}, {high:.3f}]",
        "CI low": low,
        "CI high": high,
        "distinguishable from zero": verdict(low, high),
    }


def resampled_fidelity(
    terms: dict[str, np.ndarray], counts: np.ndarray, rows: np.ndarray
) -> dict[str, np.ndarray]:
    """:func:`~ecgkd.scoring.metrics.fidelity` of each bootstrap resample in ``counts``
    (resamples, groups): every term's mean over a resample is its groups' sums weighted by how
    often the resample draws them, divided by its units."""
    units = np.bincount(rows, minlength=counts.shape[1]).astype(np.float64)
    total = counts @ units
    means = {
        name: counts @ np.bincount(rows, weights=values, minlength=counts.shape[1]) / total
        for name, values in terms.items()
    }
    return fidelity_from_means(means)


def paired_fidelity_difference(
    terms: dict[str, np.ndarray],
    reference: dict[str, np.ndarray],
    groups: np.ndarray | None = None,
    resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, dict[str, float | str]]:
    """Each fidelity metric of ``terms`` minus that of ``reference`` (both
    :func:`~ecgkd.scoring.metrics.fidelity_terms` on the same units against the same teacher),
    with a bootstrap interval that resamples the same groups for both and the :func:`verdict`."""
    n = len(terms["s"])
    counts, rows, _ = resample_weights(groups, n, resamples, seed)
    ours, theirs = (
        resampled_fidelity(terms, counts, rows),
        resampled_fidelity(reference, counts, rows),
    )
    point = fidelity_from_means({k: v.mean() for k, v in terms.items()})
    base = fidelity_from_means({k: v.mean() for k, v in reference.items()})
    tail = (1 - level) / 2 * 100
    out = {}
    for metric in ours:
        draws = ours[metric] - theirs[metric]
        draws = draws[np.isfinite(draws)]
        low, high = np.percentile(draws, [tail, 100 - tail]) if len(draws) else (np.nan, np.nan)
        out[metric] = {
            "difference": float(point[metric] - base[metric]),
            f"{level:.0%} CI": f"[{low:.3f}, {high:.3f}]",
            "distinguishable from zero": verdict(low, high),
        }
    return out


def seeded_auroc_draws(
    y: np.ndarray,
    scores: list[np.ndarray],
    references: list[np.ndarray] | None = None,
    groups: np.ndarray | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, np.ndarray]:
    """The mean over seeds of AUROC(scores[s]) (minus AUROC(references[s]), seed for seed, when
    given) and its bootstrap draws, resampling records and seeds together: each resample draws the
    groups (the same for every model and seed) and, independently, as many seeds as there are,
    with replacement. With one seed it is the plain (paired) cluster bootstrap.

    Why both: a KD gain measured on one seed varies with the seed as much as with the patients, and
    an interval that resamples only the patients would read a lucky seed as a finding."""
    if not scores or (references is not None and len(references) != len(scores)):
        raise ValueError("give one score array per seed (and as many references, paired by seed)")
    y = np.asarray(y)
    counts, rows, _ = resample_weights(groups, len(y), resamples, seed)
    per_seed, estimates = [], []
    for i, score in enumerate(scores):
        _, score = check_scores(y, score)
        draws, estimate = resampled_auroc(y, score, counts, rows), skm.roc_auc_score(y, score)
        if references is not None:
            _, reference = check_scores(y, references[i])
            draws = draws - resampled_auroc(y, reference, counts, rows)
            estimate -= skm.roc_auc_score(y, reference)
        per_seed.append(draws)
        estimates.append(estimate)
    table = np.stack(per_seed)  # (seeds, resamples)
    picks = np.random.default_rng(seed + 1).integers(0, len(scores), (resamples, len(scores)))
    draws = table[picks, np.arange(resamples)[:, None]].mean(axis=1)
    return float(np.mean(estimates)), draws[np.isfinite(draws)]


def bootstrap_p_value(draws: np.ndarray) -> float:
    """Two-sided bootstrap p-value of "the difference is 0": twice the share of draws on the far
    side of zero (at most 1), with the draw-count floor 1/(draws + 1) so that it is never 0."""
    draws = np.asarray(draws, float)
    if not len(draws):
        return float("nan")
    tail = min(np.mean(draws <= 0), np.mean(draws >= 0))
    return float(min(1.0, max(2 * tail, 1 / (len(draws) + 1))))


def draws_summary(estimate: float, draws: np.ndarray, level: float = 0.95) -> dict:
    """The columns of a paired row from bootstrap draws: estimate, interval, verdict, p-value."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail]) if len(draws) else (np.nan, np.nan)
    return {
        "difference": estimate,
        f"{level:.0%} CI": f"[{low:.3f}, {high:.3f}]",
        "CI low": float(low),
        "CI high": float(high),
        "distinguishable from zero": verdict(low, high),
        "p (bootstrap)": bootstrap_p_value(draws),
    }


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (Holm 1979) of a family of p-values: the k-th smallest is
    multiplied by (m - k + 1), then made non-decreasing in that order and capped at 1. A contrast is
    significant at level a across the family when its adjusted p-value is below a."""
    p = np.asarray(p_values, float)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.minimum(1.0, np.maximum.accumulate(scaled))
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out
