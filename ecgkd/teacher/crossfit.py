"""Cross-fitted soft targets: each training window's teacher logit from a teacher that never saw
its patient.

A teacher scores its own training windows almost perfectly (notebook 03 measures how much better
than on validation), so in-sample soft targets on the students' training windows are nearly the
hard labels, and distillation has little to pass on. Our remedy, after
cross-fitting in statistics: the training patients are split into :data:`FOLDS` folds; for each
fold a teacher of the same spec (architecture, settings, seed, input view) is trained on the other
folds, with early stopping on the same validation split, and scores the held-out fold. Every
training window's target then comes from a teacher that did not see that patient, as the validation
and test windows' targets do.

Only the window term is cross-fitted (our choice): a teacher that reads rhythm adds its window term
to a fixed rhythm anchor, and every fold teacher keeps the anchor fitted on the *whole* training
split, the very anchor each student holds. A soft target is then (the student's own anchor + a
window term that never saw the patient). Had each fold teacher refitted its anchor on its half of
the patients, the targets would carry another anchor than the student's, and distillation would
pull the student away from its own.

Validation and test targets stay those of the teacher trained on all training patients (the one
notebook 02 evaluates and every table compares with). Cost: K teachers on (K-1)/K of the training
data each, with epochs shrunk to match (:func:`fold_settings`); for K = 2, about one more teacher.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import cache
from ..config import Config
from ..rhythm_head import fit_rhythm_model
from ..scoring.metrics import calibration, roc_auc, sigmoid, unit_scores
from ..train import TrainSettings
from .finetune import TeacherRun, TeacherSpec, finite_logits, train_teacher
from .outputs import expand_to_windows

if TYPE_CHECKING:
    from ..data.split import PreparedData
    from .stage import PreparedTeacher

FOLDS = 2  # our choice: two half-data teachers cost about one full one


def patient_folds(patients: np.ndarray, k: int = FOLDS, seed: int = 0) -> np.ndarray:
    """The fold (0 .. k-1) of each row: all rows of a patient in one fold, folds balanced by rows.

    Patients are shuffled by ``seed``, then taken largest first, each into the fold with the fewest
    rows so far (ties: the lowest fold), so the folds hold similar numbers of windows.
    """
    patients = np.asarray(patients).astype(str)
    names, counts = np.unique(patients, return_counts=True)
    if k < 2 or len(names) < k:
        raise ValueError(
            f"cross-fitting needs k >= 2 folds and at least k patients; got k={k} and "
            f"{len(names)} patients"
        )
    order = np.random.default_rng(seed).permutation(len(names))
    order = order[np.argsort(-counts[order], kind="stable")]
    sizes, fold_of = np.zeros(k, np.int64), {}
    for i in order:
        fold = int(np.argmin(sizes))
        fold_of[names[i]] = fold
        sizes[fold] += counts[i]
    return np.array([fold_of[p] for p in patients], dtype=np.int64)


@dataclass
class CrossFit:
    """Out-of-fold teacher logits aligned with the students' training split, and their teachers."""

    logits: np.ndarray
    folds: np.ndarray  # fold of each row of the teacher's training split
    runs: list[TeacherRun]
    fingerprint: str

    @property
    def probabilities(self) -> np.ndarray:
        return sigmoid(self.logits)


def fold_settings(settings: TrainSettings, share: float) -> TrainSettings:
    """A fold teacher's settings: the main teacher's, with epochs of random samples (MIT-BIH)
    shrunk to its ``share`` of the training data, so that it makes the same passes over its data and
    the K fold teachers together cost (K - 1) main teachers' worth of steps, not K."""
    if settings.samples_per_epoch is None:
        return settings  # an epoch is already one pass over the fold's own data
    spe = max(settings.batch_size, round(settings.samples_per_epoch * share))
    return replace(settings, samples_per_epoch=spe)


def fold_teacher_calls(
    cfg: Config, spec: TeacherSpec, views: PreparedData, k: int = FOLDS
) -> list[dict]:
    """The arguments of :func:`~.finetune.train_teacher` for each of the ``k`` fold teachers of
    the teacher ``spec``: the training split without one fold of patients, the main teacher's
    settings (epochs shrunk to the fold's share) and, with rhythm, the whole training split's
    anchor, the students' (only the window term is cross-fitted)."""
    train = views.train
    folds = patient_folds(train.patient, k, cfg.seed)
    anchor = fit_rhythm_model({"train": train, "val": views.val})[0] if spec.rhythm else None
    return [
        {
            "train": train.subset(folds != fold),
            "val": views.val,
            "weights": spec.weights,
            "method": spec.method,
            "settings": fold_settings(spec.settings, float(np.mean(folds != fold))),
            "rhythm": spec.rhythm,
            "anchor": anchor,
        }
        for fold in range(k)
    ]


def cross_fit(
    cfg: Config, teacher: PreparedTeacher, k: int = FOLDS, progress: bool = True
) -> CrossFit:
    """Train (or reload) the ``k`` fold teachers of ``teacher`` and return the out-of-fold logits
    of the students' training windows (cached under ``<cache>/teacher_outputs/``). On PTB-XL the
    teachers read records and each student window inherits its record's out-of-fold logit.
    """
    views, students = teacher.teacher_data, teacher.student_data.train
    train = views.train
    folds = patient_folds(train.patient, k, cfg.seed)
    runs = [
        train_teacher(cfg, **call, progress=progress)
        for call in fold_teacher_calls(cfg, teacher.run.spec, views, k)
    ]
    key = cache.fingerprint(
        {"runs": [r.key for r in runs], "students": students.fingerprint(), "k": k}
    )
    path = cfg.cache_root / "teacher_outputs" / f"{train.dataset}-crossfit{k}-{key}.npz"
    if path.is_file():
        arrays, _ = cache.load_arrays(path)
        return CrossFit(arrays["logits"], arrays["folds"], runs, key)
    logits = np.zeros(len(train), np.float32)
    for fold, run in enumerate(runs):
        held = folds == fold
        logits[held] = finite_logits(
            run.logits(train.subset(held), device=cfg.device), f"fold teacher {fold}"
        )
    if not train.same_rows(students):
        logits = expand_to_windows(logits, train.record, students)
    meta = {"k": k, "runs": [r.key for r in runs]}
    cache.save_arrays(path, {"logits": logits, "folds": folds}, meta)
    return CrossFit(logits, folds, runs, key)


def targets_quality(teacher: PreparedTeacher, fitted: CrossFit) -> pd.DataFrame:
    """How the training split's soft targets read against its labels, in-sample and cross-fitted:
    AUROC, Brier score and ECE of sigmoid(logit), at the unit the dataset is judged on (MIT-BIH
    beats, PTB-XL records). In-sample targets near AUROC 1 are nearly the labels themselves."""
    train = teacher.student_data.train
    rows = []
    for targets, logits in (
        ("in-sample", teacher.outputs["train"].logits),
        ("cross-fitted", fitted.logits),
    ):
        y, scores = unit_scores(train, logits)
        rows.append(
            {
                "dataset": train.dataset,
                "targets": targets,
                "units": len(y),
                "auroc": roc_auc(y, scores),
                **calibration(y, sigmoid(scores)),
            }
        )
    return pd.DataFrame(rows)
