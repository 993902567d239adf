"""The rhythm head: how every model that reads a beat's rhythm features uses them (our choice).

MIT-BIH beats carry eight RR features (:mod:`ecgkd.data.rhythm` computes them). Since de Chazal et
al. (2004) a logistic regression on such features is the baseline of inter-patient beat
classification. Every model here that reads them starts from that very regression, fixed: a
:class:`RhythmAnchor` fitted on the model's training split (:func:`fit_rhythm_model`, C chosen on
validation) and set by :func:`anchor_rhythm`; the model adds what it learns from the window to the
anchor's logit (:class:`RhythmClassifier` for the teacher and the classical students, the latent
students' heads in :mod:`ecgkd.quantum.model`). The evaluation reports the same regression alone as
the rhythm-only baseline, so each model's own share is its score beside the anchor's.

This module sits below every stage (it needs the data's features and the scoring floor only):
the teacher, the students and the evaluation all read the anchor from here.
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from . import cache
from .data.rhythm import RHYTHM_FEATURES, split_rhythm
from .data.split import Split
from .scoring.bootstrap import ABOVE, paired_difference
from .scoring.metrics import roc_auc

RHYTHM_C = (0.001, 0.01, 0.1, 1.0, 10.0)  # candidates for C, chosen on validation
#: The rhythm-only baseline's name in every table.
RHYTHM = f"rhythm only (logistic regression, {len(RHYTHM_FEATURES)} RR features)"


def fit_rhythm_model(
    splits: dict[str, Split], c_values: tuple[float, ...] = RHYTHM_C
) -> tuple[Pipeline, float, dict[float, float]]:
    """The rhythm-only logistic regression with the C of best validation AUROC; returns (model, C,
    {C: validation AUROC}).

    Every rhythm model of a split fits the same regression (each grid run, each reload), so the
    fit is kept per process, keyed by the features and labels it read; each caller gets a copy.
    """
    train, val = splits["train"], splits["val"]
    if train.rhythm is None or val.rhythm is None:
        raise ValueError(
            f"{train.dataset}: the splits carry no rhythm features (only MIT-BIH beats have them)"
        )
    fit = _FITTED.get(_rhythm_key(train, val, c_values), lambda: _fit(train, val, c_values))
    model, best, scores = fit
    return copy.deepcopy(model), best, dict(scores)


_FITTED = cache.Kept(16)  # the fits a process keeps: each a few kilobytes


def _rhythm_key(train: Split, val: Split, c_values: tuple[float, ...]) -> str:
    """sha256 of what the regression reads: both splits' features and labels, and the Cs."""
    digest = hashlib.sha256(repr(tuple(c_values)).encode())
    for array in (train.rhythm, train.y, val.rhythm, val.y):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _fit(
    train: Split, val: Split, c_values: tuple[float, ...]
) -> tuple[Pipeline, float, dict[float, float]]:
    scores = {}
    fitted = {}
    for c in c_values:
        model = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=c, class_weight="balanced", max_iter=2000),
        )
        model.fit(train.rhythm, train.y)
        fitted[c] = model
        scores[c] = roc_auc(val.y, model.decision_function(val.rhythm))
    best = max(scores, key=lambda c: (scores[c], -c))  # ties: the stronger regularisation
    return fitted[best], best, scores


class RhythmAnchor(nn.Module):
    """The rhythm-only baseline's logit (b,) as a fixed module: a logistic regression on the ``k``
    rhythm features (:func:`fit_rhythm_model`), fitted on the model's
    training split and set by :meth:`set` (:func:`anchor_rhythm`).

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
                "this rhythm head has no anchor: call ecgkd.rhythm_head.anchor_rhythm("
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


def anchor_fingerprint(pipeline: Pipeline) -> str:
    """What identifies a fitted anchor: its scaler's means and scales, its weights and bias."""
    scaler, logistic = pipeline[0], pipeline[-1]
    numbers = (scaler.mean_, scaler.scale_, logistic.coef_, logistic.intercept_)
    return cache.fingerprint([np.asarray(v).tolist() for v in numbers])


def anchor_rhythm(
    model: nn.Module, train: Split, val: Split, pipeline: Pipeline | None = None
) -> int:
    """Fix every rhythm anchor in ``model`` (:class:`RhythmAnchor`: the heads of the teacher, the
    classical and the latent students) to the rhythm-only baseline fitted on ``train`` (C chosen
    on ``val``), or to ``pipeline``, an anchor fitted elsewhere (a fold teacher takes the one of
    the whole training split); returns how many were set."""
    anchors = [m for m in model.modules() if isinstance(m, RhythmAnchor)]
    if anchors:
        if pipeline is None:
            pipeline, _, _ = fit_rhythm_model({"train": train, "val": val})
        for anchor in anchors:
            anchor.set(pipeline)
    return len(anchors)


def feature_set_study(
    splits_by_set: dict[str, dict[str, Split]], resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """What the causal rhythm features cost against the look-ahead ones
    (:data:`ecgkd.data.rhythm.FEATURE_SETS`), measured with the rhythm-only regression, the anchor
    every rhythm model starts from: per set, its C, validation and test AUROC, and the set minus
    the causal one on validation (the choice rests on it: paired over the validation records) and
    on test (reported, not used), with bootstrap intervals. The splits of every set must hold the
    same beats."""
    causal = splits_by_set["causal"]
    scores = {}
    for name, splits in splits_by_set.items():
        for split in ("val", "test"):
            if not np.array_equal(splits[split].y, causal[split].y):
                raise ValueError(f"the {name} and causal {split} splits hold other beats")
        model, c, _ = fit_rhythm_model(splits)
        scores[name] = (c, {s: model.decision_function(splits[s].rhythm) for s in ("val", "test")})
    rows = []
    for name, (c, by_split) in scores.items():
        row = {"features": name, "C (chosen on validation)": c}
        for split in ("val", "test"):
            y, groups = causal[split].y, causal[split].record
            row[f"{split} auroc"] = roc_auc(y, by_split[split])
            if name != "causal":
                paired = paired_difference(
                    y, by_split[split], scores["causal"][1][split], groups, resamples, seed
                )
                row |= {f"{split}: minus causal, {k}": v for k, v in paired.items()}
        rows.append(row)
    return pd.DataFrame(rows).set_index("features")


def chosen_feature_set(study: pd.DataFrame) -> str:
    """The rule applied to a :func:`feature_set_study`: the causal set, what a monitor knows,
    unless the look-ahead set is better on validation with a paired interval above zero."""
    verdict = study.loc["lookahead", "val: minus causal, distinguishable from zero"]
    return "lookahead" if verdict == ABOVE else "causal"
