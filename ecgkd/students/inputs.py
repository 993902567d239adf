"""The students' input contract: the splits of one dataset and the teacher's logits aligned with
them.

Every student (classical or quantum) trains from a :class:`StudentData`; its fingerprint (the
splits' and the teacher's) is part of every run key, so a run is never reused for other windows or
another teacher.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from .. import cache
from ..data.split import Split

if TYPE_CHECKING:
    from ..teacher.stage import PreparedTeacher

Targets = Literal["cross-fitted", "in-sample"]
TARGETS = ("cross-fitted", "in-sample")


@dataclass
class StudentData:
    """The student splits of one dataset and the teacher's logits aligned with them."""

    splits: dict[str, Split]
    teacher_logits: dict[str, np.ndarray]
    teacher_label: str
    teacher_fingerprint: str
    targets: str = "in-sample"  # how the training split's soft targets were made
    # the labels the student trains on, when not the training split's own (NaN: a label the
    # student may not see; notebook 07's scarce labels), and what they are
    train_labels: np.ndarray | None = None
    labels: str = "all"

    @classmethod
    def from_teacher(
        cls, teacher: PreparedTeacher, targets: Targets = "cross-fitted"
    ) -> StudentData:
        """From a :class:`ecgkd.teacher.PreparedTeacher` (outputs checked against the splits).

        ``targets``: the training split's soft targets, ``"cross-fitted"`` (from fold teachers that
        never saw the window's patient: :mod:`ecgkd.teacher.crossfit`; the default wherever the
        teacher has them) or ``"in-sample"`` (from the teacher trained on every training window).
        Validation and test targets are the full teacher's either way.
        """
        if targets not in TARGETS:
            raise ValueError(f"targets={targets!r}: use one of {TARGETS}")
        if targets == "cross-fitted" and teacher.cross_fitted is None:
            raise ValueError(
                f"{teacher.student_data.dataset}: this prepared teacher has no fold teachers "
                "(prepare_teacher(..., folds=0)): pass targets='in-sample', or prepare it with "
                "folds=2"
            )
        splits = teacher.student_data.splits
        crossed = targets == "cross-fitted"  # the training split's in-sample outputs go unread
        read = [name for name in splits if not (crossed and name == "train")]
        missing = [name for name in read if name not in teacher.outputs]
        if missing:
            raise ValueError(
                f"{teacher.student_data.dataset}: the prepared teacher has no outputs on "
                f"{', '.join(missing)}: prepare it with those splits"
            )
        logits = {name: teacher.outputs[name].check(splits[name]).logits for name in read}
        fingerprint = teacher.run.fingerprint  # the model every saved output was checked against
        if crossed:
            logits["train"] = teacher.cross_fitted.logits
            fingerprint = cache.fingerprint([fingerprint, teacher.cross_fitted.fingerprint])
        return cls(splits, logits, teacher.label, fingerprint, targets)

    @classmethod
    def labels_only(cls, prepared) -> StudentData:
        """Splits without a teacher (its logits are zeros, never read): runs with alpha = 0 only."""
        splits = prepared.splits
        zeros = {name: np.zeros(len(split), np.float32) for name, split in splits.items()}
        return cls(splits, zeros, "none (labels only)", "labels-only")

    @property
    def dataset(self) -> str:
        return self.splits["train"].dataset

    @property
    def train_y(self) -> np.ndarray:
        """The training labels the student learns from: float, NaN where it may not see one."""
        if self.train_labels is not None:
            return self.train_labels
        return self.splits["train"].y.astype(np.float32)

    def with_train_labels(self, labels: np.ndarray, name: str) -> StudentData:
        """The same splits and targets, the student training on ``labels`` (0, 1 or NaN for
        unlabelled; one per training window), named ``name`` in its fingerprint."""
        labels = np.asarray(labels, np.float32)
        train = self.splits["train"]
        if labels.shape != (len(train),):
            raise ValueError(
                f"{self.dataset}: train_labels has shape {labels.shape}, the training split "
                f"{len(train)} windows"
            )
        known = labels[~np.isnan(labels)]
        if not set(np.unique(known)) <= {0.0, 1.0} or len(np.unique(known)) < 2:
            raise ValueError(
                f"{self.dataset} ({name}): the known training labels must hold both classes, "
                "0 and 1 only (NaN: unlabelled)"
            )
        return replace(self, train_labels=labels, labels=name)

    def restricted(self, rows: np.ndarray, name: str) -> StudentData:
        """Only the training windows ``rows`` (a mask or index), their labels and targets: a
        student that never sees the other windows (validation and test unchanged)."""
        train = self.splits["train"]
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        splits = self.splits | {"train": train.subset(rows)}
        logits = self.teacher_logits | {"train": self.teacher_logits["train"][rows]}
        labels = None if self.train_labels is None else self.train_labels[rows]
        return replace(self, splits=splits, teacher_logits=logits, train_labels=labels, labels=name)

    def fingerprint(self, teacher: bool = True) -> str:
        """The splits' fingerprint and, with ``teacher``, that of the soft targets (a run without
        KD never reads them, so its key leaves them out and any teacher's data reuse it)."""
        splits = {n: s.fingerprint() for n, s in self.splits.items()}
        if self.train_labels is not None:
            splits["train labels"] = cache.fingerprint(
                [self.labels, self.train_labels.tobytes().hex()]
            )
        return cache.fingerprint(
            splits | ({"teacher": self.teacher_fingerprint} if teacher else {})
        )
