"""The teacher stage: data in both views, the trained teacher, its cached outputs and its rhythm
ablation. :func:`run_teacher` is the stage in one call (notebook 02 and ``python -m ecgkd`` call
it); :func:`prepare_teacher` is what later stages call to reload the teacher and its targets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import data as data_mod
from ..config import Config
from ..data.rhythm import has_rhythm
from ..data.split import PreparedData, Split
from ..rhythm_head import RHYTHM, fit_rhythm_model
from ..scoring.bootstrap import paired_difference
from ..scoring.metrics import binary_metrics, roc_auc, unit_groups, unit_scores
from .checkpoint import released_weights
from .crossfit import FOLDS, CrossFit, cross_fit, fold_teacher_calls
from .finetune import LEADS, Method, TeacherRun, teacher_spec, train_teacher, train_teachers
from .inputs import teacher_length
from .outputs import TeacherOutputs, teacher_outputs


@dataclass
class PreparedTeacher:
    """What :func:`prepare_teacher` hands the students: their splits, the teacher's outputs aligned
    with them, the trained teacher, and the cross-fitted targets of its fold teachers."""

    run: TeacherRun
    student_data: PreparedData  # the students' windows
    teacher_data: PreparedData  # the teacher's view (PTB-XL: records; MIT-BIH: the same windows)
    outputs: dict[str, TeacherOutputs]
    cross_fitted: CrossFit | None = None  # out-of-fold logits of the training split

    @property
    def label(self) -> str:
        return self.run.label

    def input_shape(self) -> tuple[int, int, int]:
        """(1, leads, samples) of one teacher input: what a latency measurement feeds it."""
        split = self.teacher_data.train
        return 1, len(split.leads), teacher_length(split, self.run.spec.rhythm)

    def split_logits(
        self, split: str = "test", per_record: bool | None = None
    ) -> tuple[Split, np.ndarray]:
        """(rows, logits) of a split at the unit the teacher is judged on: the students' windows
        (from the cached outputs), or PTB-XL's whole records (``per_record``, the default when the
        views differ)."""
        per_record = (
            not self.teacher_data[split].same_rows(self.student_data[split])
            if per_record is None
            else per_record
        )
        if per_record:
            rows = self.teacher_data[split]
            return rows, self.run.logits(rows)
        return self.student_data[split], self.outputs[split].logits

    def test_metrics(self, split: str = "test", per_record: bool | None = None) -> dict[str, float]:
        """The teacher's metrics on a split at its validation threshold (PTB-XL: one row per
        record)."""
        rows, logits = self.split_logits(split, per_record)
        return binary_metrics(rows.y, logits, self.run.threshold)

    def zero_shot_table(self) -> pd.DataFrame:
        """AUROC of the released head's output 0 minus output 2 before fine-tuning (real weights
        only)."""
        if not self.run.zero_shot:
            return pd.DataFrame(
                {"zero-shot": [f"not available: no ECGFounder weights ({self.label})"]}
            )
        return pd.DataFrame(
            [
                {
                    "teacher": "ECGFounder, zero-shot (output 0 - output 2)",
                    "split": s,
                    "auroc": roc_auc(self.teacher_data[s].y, np.asarray(v)),
                }
                for s, v in self.run.zero_shot.items()
            ]
        )

    def metrics_table(self) -> pd.DataFrame:
        """Validation and test metrics, one row per split, labelled with the teacher's name."""
        rows = [
            {
                "teacher": self.label,
                "dataset": self.student_data.dataset,
                "split": s,
                **self.test_metrics(s),
            }
            for s in ("val", "test")
        ]
        return pd.DataFrame(rows)


def teacher_filters(weights: str | Path | None, dataset: str) -> data_mod.Filters:
    """The recipe's filters for the released weights (trained on them); for the stand-in, trained
    here from scratch, the students' filters, which keep the ST level and the T wave."""
    return data_mod.RECIPE if weights else data_mod.student_filters(dataset)


def teacher_views(dataset: str, rhythm: bool | None = None) -> tuple[bool, ...]:
    """The views whose teachers (each with its fold teachers) train in one pool when the teacher
    of view ``rhythm`` is asked for: on data with rhythm features, the rhythm teacher and the
    window-only one (the ablation and notebook 07's control, which every run needs), six teachers
    on two cores in three rounds instead of four; elsewhere the one view."""
    if rhythm is not False and has_rhythm(dataset):
        return (True, False)
    return (bool(rhythm),)


def prepare_teacher(
    cfg: Config,
    dataset: str,
    *,
    weights: str | Path | None = None,
    method: Method = "full",
    features: bool = False,
    progress: bool = True,
    rhythm: bool | None = None,
    folds: int = FOLDS,
    splits: tuple[str, ...] | None = None,
) -> PreparedTeacher:
    """Load both views of ``dataset``, train or reload the teacher, compute or reload its outputs,
    and the cross-fitted training targets of ``folds`` fold teachers (:mod:`.crossfit`; 0: none).
    ``splits``: the splits whose outputs are computed (default: all; a baseline needs no training
    targets).

    ``weights``: a released checkpoint; by default the one in ``cfg.weights`` (``ECGKD_WEIGHTS``),
    else none, and the stand-in teacher is trained. ``rhythm``: the teacher's head reads the beats'
    rhythm features too; by default where the data carry them (MIT-BIH); ``rhythm=False`` gives
    the window-only teacher, the ablation.
    """
    weights = weights or released_weights(cfg.weights, LEADS.get(dataset, 1))
    student_data = data_mod.load(cfg, dataset, progress=progress)
    filters = teacher_filters(weights, dataset)
    teacher_view = (
        data_mod.load(cfg, dataset, teacher=True, filters=filters, progress=progress)
        if dataset == "ptbxl" or filters != data_mod.student_filters(dataset)
        else student_data
    )
    main = {
        "train": teacher_view.train,
        "val": teacher_view.val,
        "weights": weights,
        "method": method,
        "rhythm": rhythm,
        "test": teacher_view.test,  # the released model's zero-shot logits are saved for it too
    }
    if folds:  # every teacher of the dataset side by side, then reloaded below
        calls = []
        for view in teacher_views(dataset, rhythm):
            spec = teacher_spec(cfg, dataset, weights, method, None, view)
            calls += [{**main, "rhythm": view}, *fold_teacher_calls(cfg, spec, teacher_view, folds)]
        train_teachers(cfg, calls, progress)
    run = train_teacher(cfg, **main, progress=progress)
    outputs = teacher_outputs(
        cfg, run, student_data, teacher_view, features=features, progress=progress, splits=splits
    )
    teacher = PreparedTeacher(run, student_data, teacher_view, outputs)
    if folds:
        teacher.cross_fitted = cross_fit(cfg, teacher, folds, progress=progress)
    return teacher


def window_only_teacher(
    cfg: Config, dataset: str, *, progress: bool = True, **kwargs
) -> PreparedTeacher | None:
    """The ablation of the teacher's rhythm: the same teacher reading the window alone, where the
    main one reads rhythm too (MIT-BIH); None elsewhere. A baseline, and the control teacher of
    notebook 07 (a teacher that knows no more than a window-only student), so it has its fold
    teachers and cross-fitted targets too. ``kwargs`` go to :func:`prepare_teacher`.

    Its outputs are computed on validation and test only (by default): its students learn from
    the cross-fitted targets, so its in-sample logits on the training split would go unread."""
    if not has_rhythm(dataset):
        return None
    kwargs.setdefault("splits", WINDOW_ONLY_SPLITS)
    return prepare_teacher(cfg, dataset, progress=progress, rhythm=False, **kwargs)


WINDOW_ONLY_SPLITS = ("val", "test")  # the window-only teacher's outputs (its students: crossed)


def anchor_scores(splits: dict[str, Split]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(labels, logits) on validation and test of the rhythm anchor alone: the rhythm-only
    logistic regression fitted on the training split, the anchor a rhythm teacher's head holds."""
    anchor, _, _ = fit_rhythm_model(splits)
    return {
        name: unit_scores(splits[name], anchor.decision_function(splits[name].rhythm))
        for name in ("val", "test")
    }


def rhythm_ablation(
    with_rhythm: PreparedTeacher, window_only: PreparedTeacher, resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """The teacher with rhythm against what it is made of, on the same units: its window-only
    ablation and its rhythm anchor alone (the rhythm-only baseline, fitted on the same training
    split). Validation and test AUROC of each, and the paired test difference (the teacher with
    rhythm minus the row) with a bootstrap interval that resamples the same records for both."""
    test, s_with = with_rhythm.split_logits("test")
    other, s_without = window_only.split_logits("test")
    if not np.array_equal(test.y, other.y):
        raise ValueError("the two teachers were scored on other test units: not comparable")
    anchor = anchor_scores(with_rhythm.student_data.splits)
    rows = [
        (t.label, t.test_metrics("val")["auroc"], t.test_metrics("test")["auroc"], s)
        for t, s in ((with_rhythm, s_with), (window_only, s_without))
    ]
    rows.append(
        (
            "its rhythm anchor alone: " + RHYTHM,
            roc_auc(*anchor["val"]),
            roc_auc(*anchor["test"]),
            anchor["test"][1],
        )
    )
    table = []
    for label, val_auroc, test_auroc, scores in rows:
        row = {"model": label, "val auroc": val_auroc, "test auroc": test_auroc}
        if scores is not s_with:
            paired = paired_difference(test.y, s_with, scores, unit_groups(test), resamples, seed)
            row["teacher with rhythm - this row"] = paired.pop("difference")
            row |= paired
        table.append(row)
    return pd.DataFrame(table).set_index("model")


@dataclass
class TeacherStudy:
    """The teacher stage of one dataset: the teacher the students learn from, and (MIT-BIH) its
    window-only ablation."""

    teacher: PreparedTeacher
    window_only: PreparedTeacher | None

    def metrics_table(self) -> pd.DataFrame:
        """Validation and test metrics of both teachers, one row per (teacher, split)."""
        teachers = [t for t in (self.teacher, self.window_only) if t is not None]
        return pd.concat([t.metrics_table() for t in teachers], ignore_index=True)


def run_teacher(cfg: Config, dataset: str, progress: bool = True) -> TeacherStudy:
    """The teacher stage of ``dataset`` in one call: the teacher with its fold teachers and cached
    outputs (:func:`prepare_teacher`), and its window-only ablation
    (:func:`window_only_teacher`)."""
    return TeacherStudy(
        prepare_teacher(cfg, dataset, progress=progress),
        window_only_teacher(cfg, dataset, progress=progress),
    )
