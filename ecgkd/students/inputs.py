"""The students' input contract: the splits of one dataset and the teacher's logits aligned with
them.

Every student (classical or quantum) trains from a :class:`StudentData`; its fingerprint (the
splits' and the teacher's) is part of every run key, so a run is never reused for other windows or
another teacher.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import cache
from ..data.split import Split


@dataclass
class StudentData:
    """The student splits of one dataset and the teacher's logits aligned with them."""

    splits: dict[str, Split]
    teacher_logits: dict[str, np.ndarray]
    teacher_label: str
    teacher_fingerprint: str

    @classmethod
    def from_stage(cls, stage) -> StudentData:
        """From a :class:`ecgkd.teacher.TeacherStage` (outputs checked against the splits)."""
        splits = stage.student_data.splits
        logits = {name: stage.outputs[name].check(split).logits for name, split in splits.items()}
        return cls(splits, logits, stage.label, stage.outputs["train"].model_fingerprint)

    @classmethod
    def labels_only(cls, prepared) -> StudentData:
        """Splits without a teacher (its logits are zeros, never read): runs with alpha = 0 only."""
        splits = prepared.splits
        zeros = {name: np.zeros(len(split), np.float32) for name, split in splits.items()}
        return cls(splits, zeros, "none (labels only)", "labels-only")

    @property
    def dataset(self) -> str:
        return self.splits["train"].dataset

    def fingerprint(self) -> str:
        splits = {n: s.fingerprint() for n, s in self.splits.items()}
        return cache.fingerprint(splits | {"teacher": self.teacher_fingerprint})
