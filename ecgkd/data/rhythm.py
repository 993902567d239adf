"""Rhythm features of every MIT-BIH beat, from the annotated R peaks of its own record.

A 0.71 s window shows one beat's shape but not when it came. Since de Chazal et al. (2004), the
RR intervals around a beat are what makes a premature (AAMI S) beat detectable across patients.
For beat ``i`` of a record, with R peaks ``r`` in seconds (our choice of the standard set):

- ``pre_rr``: ``r[i] - r[i-1]``; ``post_rr``: ``r[i+1] - r[i]``;
- ``local_rr``: the mean ``pre_rr`` of the last :data:`LOCAL_BEATS` beats up to ``i`` (causal);
- ``record_rr``: the median RR of the whole record (or of the part read, in quick mode);
- the ratios ``pre_rr / local_rr``, ``post_rr / pre_rr``, ``pre_rr / record_rr`` and
  ``local_rr / record_rr``: rhythm relative to the patient's own, comparable across patients.

What they know of the future: ``post_rr`` needs the next beat, so a model that uses it decides one
beat late; ``record_rr`` uses the whole record, where a monitor would use a running value over the
past minutes. The first beat of a record has no ``pre_rr`` and takes its ``post_rr``; the last beat
has no ``post_rr`` and takes its ``pre_rr``. Nothing crosses a record boundary: each record is
computed alone.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

RHYTHM_FEATURES = (
    "pre_rr",
    "post_rr",
    "local_rr",
    "record_rr",
    "pre/local",
    "post/pre",
    "pre/record",
    "local/record",
)
LOCAL_BEATS = 10  # our choice: about 10 s of rhythm at rest


def rr_features(r_peaks: np.ndarray, fs: float, local_beats: int = LOCAL_BEATS) -> np.ndarray:
    """Rhythm features (n_beats, len(RHYTHM_FEATURES)) float32 of the beats of one record.

    ``r_peaks``: sample index of every annotated beat of the record, increasing. Intervals are in
    seconds.
    """
    r = np.asarray(r_peaks, dtype=np.float64)
    if r.ndim != 1 or len(r) < 2:
        raise ValueError(f"rr_features needs two or more R peaks of one record, got {r.shape}")
    if not np.all(np.diff(r) > 0):
        raise ValueError("rr_features: R peaks must be strictly increasing within a record")
    if not fs > 0:
        raise ValueError(f"rr_features: fs={fs!r} must be a positive number of Hz")
    rr = np.diff(r) / fs
    pre = np.concatenate([rr[:1], rr])  # the first beat takes its next interval
    post = np.concatenate([rr, rr[-1:]])  # the last beat takes its previous one
    sums = np.concatenate([[0.0], np.cumsum(pre)])
    idx = np.arange(len(r))
    first = np.maximum(0, idx - local_beats + 1)
    local = (sums[idx + 1] - sums[first]) / (idx + 1 - first)
    record = np.full(len(r), np.median(rr))
    columns = (pre, post, local, record, pre / local, post / pre, pre / record, local / record)
    return np.stack(columns, axis=1).astype(np.float32)


# How a model reads a beat together with its rhythm (our choice): the rhythm features are appended
# to the window along time, one array per batch, so that the training loop, the caches and the
# latency measurement handle a rhythm model exactly like a window model. Only the model's head
# knows: :func:`split_rhythm` takes the tail off again.
N_RHYTHM = len(RHYTHM_FEATURES)
RHYTHM_DATASETS = ("mitbih",)  # whose examples carry rhythm features: MIT-BIH beats
RHYTHM_SUFFIX = " + rhythm"  # appended to the name of every model that reads the rhythm features


def join_rhythm(x: np.ndarray, rhythm: np.ndarray) -> np.ndarray:
    """Windows (n, leads, L) and rhythm features (n, k) -> (n, leads, L + k) float32, the features
    appended to every lead."""
    x, rhythm = np.asarray(x), np.asarray(rhythm)
    if x.ndim != 3 or rhythm.ndim != 2 or len(x) != len(rhythm):
        raise ValueError(
            f"join_rhythm: windows {x.shape} and rhythm {rhythm.shape} must be (n, leads, L) and "
            "(n, k) with the same n"
        )
    tail = np.broadcast_to(rhythm[:, None, :], (len(x), x.shape[1], rhythm.shape[1]))
    return np.concatenate([x, tail], axis=2).astype(np.float32, copy=False)


def has_rhythm(dataset: str) -> bool:
    """Whether the examples of ``dataset`` carry rhythm features (a PTB-XL record holds its own
    rhythm in its 10 s, so its windows carry none)."""
    return dataset in RHYTHM_DATASETS


def model_inputs(split, rhythm: bool) -> np.ndarray:
    """What a model reads from a split: the windows, with the rhythm features appended when
    ``rhythm`` (:func:`join_rhythm`)."""
    if not rhythm:
        return split.x
    if split.rhythm is None:
        raise ValueError(
            f"{split.dataset}/{split.name} has no rhythm features: only MIT-BIH beats carry them "
            "(a PTB-XL record holds its own rhythm); train this model with rhythm=False"
        )
    return join_rhythm(split.x, split.rhythm)


def split_rhythm(x, k: int = N_RHYTHM):
    """A joined batch (b, leads, L + k) -> (windows (b, leads, L), rhythm features (b, k))."""
    if x.shape[-1] <= k:
        raise ValueError(f"split_rhythm: a batch of {x.shape[-1]} samples cannot hold {k} features")
    return x[..., :-k], x[:, 0, -k:]


class RhythmAnchor(nn.Module):
    """The rhythm-only baseline's logit (b,) as a fixed module: a logistic regression on the ``k``
    rhythm features (:func:`ecgkd.evaluation.baselines.fit_rhythm_model`), fitted on the model's
    training split and set by :meth:`set` (:func:`ecgkd.evaluation.baselines.anchor_rhythm`).

    Its ``3 k + 1`` numbers (the scaler's means and scales, the weights, the bias) are parameters
    that never train: they count in a model's size, not among its trainable parameters. Every model
    that reads rhythm adds what it learns to this logit (our choice, see
    :class:`RhythmClassifier`), so training starts from the baseline.
    """

    def __init__(self, k: int):
        super().__init__()
        if k < 1:
            raise ValueError(f"RhythmAnchor: k={k!r} must be one or more rhythm features")
        self.k = k
        for name, size in (("mean", k), ("scale", k), ("coef", k), ("bias", 1)):
            self.register_parameter(name, nn.Parameter(torch.zeros(size), requires_grad=False))

    @property
    def is_set(self) -> bool:
        """Whether :meth:`set` has run (fitted scales are positive; unset, they are 0)."""
        return bool((self.scale > 0).all())

    @torch.no_grad()
    def set(self, pipeline) -> None:
        """Fix the anchor to a fitted scikit-learn ``StandardScaler`` + ``LogisticRegression``
        pipeline on the ``k`` rhythm features (the rhythm-only baseline)."""
        scaler, logistic = pipeline[0], pipeline[-1]
        if logistic.coef_.shape != (1, self.k):
            raise ValueError(
                f"set_anchor: a logistic regression on {logistic.coef_.shape[1]} features cannot "
                f"anchor a head that reads {self.k} rhythm features"
            )
        for name, value in (
            ("mean", scaler.mean_),
            ("scale", scaler.scale_),
            ("coef", logistic.coef_[0]),
            ("bias", logistic.intercept_),
        ):
            getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))

    def forward(self, rhythm: torch.Tensor) -> torch.Tensor:
        if not self.is_set:
            raise RuntimeError(
                "this rhythm head has no anchor: call ecgkd.evaluation.baselines.anchor_rhythm("
                "model, train, val) after building the model (training does it)"
            )
        return (rhythm - self.mean) / self.scale @ self.coef + self.bias


class RhythmClassifier(nn.Module):
    """The classifier of every classical model that may read rhythm (students and teacher): one
    linear layer on the pooled window features, plus, when ``rhythm`` > 0, a rhythm anchor
    (:class:`RhythmAnchor`).

    The anchor is the rhythm-only baseline itself, fitted on the model's training split and fixed;
    the window's linear layer starts at zero, so training starts from the baseline and learns only
    what the window adds to it (our choice: in a head that learnt both at once, the window's
    features, which fit the training patients best, crowded out the rhythm weights).
    """

    def __init__(self, features: int, rhythm: int = 0, outputs: int = 1):
        super().__init__()
        self.rhythm = rhythm
        self.linear = nn.Linear(features, outputs)
        if rhythm:
            nn.init.zeros_(self.linear.weight)
            nn.init.zeros_(self.linear.bias)
            self.anchor = RhythmAnchor(rhythm)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(windows, rhythm features or None) of a batch: the rhythm tail comes off when there is
        one."""
        return split_rhythm(x, self.rhythm) if self.rhythm else (x, None)

    def set_anchor(self, pipeline) -> None:
        """Fix the anchor to the fitted rhythm-only baseline (:meth:`RhythmAnchor.set`)."""
        self.anchor.set(pipeline)

    def forward(self, pooled: torch.Tensor, rhythm: torch.Tensor | None = None) -> torch.Tensor:
        if not self.rhythm:
            return self.linear(pooled)
        return self.linear(pooled) + self.anchor(rhythm)[:, None]
