"""Teacher outputs saved once per split and reused by every student.

Each file holds the teacher's logits (and optionally its 1024-d features) aligned row for row with a
*student* split, plus the fingerprints of that split, of the teacher's own input split and of the
model. Loading checks all three: outputs of another teacher or of other windows are refused by name,
never silently reused. On PTB-XL the teacher reads whole records, so each student window inherits
the logit of its record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import cache
from ..config import Config
from ..data.split import PreparedData, Split
from ..scoring.metrics import sigmoid
from .finetune import TeacherRun, finite_logits


class StaleOutputsError(RuntimeError):
    """Saved teacher outputs do not belong to this split or this teacher."""


@dataclass
class TeacherOutputs:
    """Logits (n,) aligned with a student split; ``features`` (n, 1024) when saved."""

    dataset: str
    split: str
    logits: np.ndarray
    split_fingerprint: str
    model_fingerprint: str
    teacher: str
    threshold: float
    features: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def probabilities(self) -> np.ndarray:
        return sigmoid(self.logits)

    def check(self, split: Split, model_fingerprint: str | None = None) -> TeacherOutputs:
        """Raise :class:`StaleOutputsError` unless these outputs were made for ``split`` (and
        model)."""
        if split.fingerprint() != self.split_fingerprint or len(split) != len(self.logits):
            raise StaleOutputsError(
                f"teacher outputs for {self.dataset}/{self.split} were saved for other windows "
                f"(fingerprint {self.split_fingerprint}, {len(self.logits)} rows) than "
                f"{split.dataset}/{split.name} "
                f"({split.fingerprint()}, {len(split)} rows): recompute them with "
                "teacher_outputs()."
            )
        if model_fingerprint is not None and model_fingerprint != self.model_fingerprint:
            raise StaleOutputsError(
                f"teacher outputs for {self.dataset}/{self.split} come from model "
                f"{self.model_fingerprint}, not {model_fingerprint}: recompute them."
            )
        return self


def expand_to_windows(record_logits: np.ndarray, records: np.ndarray, windows: Split) -> np.ndarray:
    """Give each window the logit of its record (PTB-XL: the teacher reads records, students
    windows)."""
    index = {str(r): i for i, r in enumerate(records)}
    missing = sorted({str(r) for r in windows.record} - set(index))
    if missing:
        raise ValueError(
            f"{windows.dataset}/{windows.name}: records {missing[:5]} have windows but no teacher "
            "output (were the teacher's and students' data prepared from the same files?)"
        )
    return record_logits[np.array([index[str(r)] for r in windows.record], dtype=np.int64)]


def save_outputs(path: Path, out: TeacherOutputs) -> Path:
    arrays = {"logits": out.logits} | (
        {"features": out.features} if out.features is not None else {}
    )
    meta = {
        "dataset": out.dataset,
        "split": out.split,
        "split_fingerprint": out.split_fingerprint,
        "model_fingerprint": out.model_fingerprint,
        "teacher": out.teacher,
        "threshold": out.threshold,
        **out.meta,
    }
    return cache.save_arrays(path, arrays, meta)


def load_outputs(path: Path) -> TeacherOutputs:
    arrays, meta = cache.load_arrays(path)
    known = ("dataset", "split", "split_fingerprint", "model_fingerprint", "teacher", "threshold")
    missing = [k for k in known if k not in meta]
    if missing or "logits" not in arrays:
        raise StaleOutputsError(
            f"{path} is not a teacher-outputs file (missing {missing or ['logits']}); delete it"
        )
    return TeacherOutputs(
        *(meta[k] for k in known[:2]),
        arrays["logits"],
        *(meta[k] for k in known[2:]),
        features=arrays.get("features"),
        meta={k: v for k, v in meta.items() if k not in known},
    )


def teacher_outputs(
    cfg: Config,
    run: TeacherRun,
    students: PreparedData,
    teacher_data: PreparedData | None = None,
    *,
    features: bool = False,
    progress: bool = True,
    splits: tuple[str, ...] | None = None,
) -> dict[str, TeacherOutputs]:
    """The teacher's outputs for every student split (or only ``splits``), computed once and cached.

    ``teacher_data``: the teacher's own splits when they differ from the students' (PTB-XL records);
    by default the students' splits. Features are only available when the teacher reads the same
    examples as the students (MIT-BIH).
    """
    teacher_data = teacher_data or students
    same_rows = all(teacher_data[n].same_rows(s) for n, s in students.splits.items())
    if features and not same_rows:
        raise ValueError(
            "features are per teacher input; on PTB-XL the teacher reads records, not windows"
        )
    model_fp = run.fingerprint
    outputs = {}
    for name, split in students.splits.items():
        if splits is not None and name not in splits:
            continue
        source = teacher_data[name]
        fp = split.fingerprint()
        path = (
            Path(cfg.cache_root) / "teacher_outputs" / f"{split.dataset}-{name}-{model_fp}-{fp}.npz"
        )
        if path.is_file():
            saved = load_outputs(path)
            if saved.features is not None or not features:
                outputs[name] = saved.check(split, model_fp)
                continue
        got = run.logits(source, features=features, progress=progress, device=cfg.device)
        logits, feats = got if features else (got, None)
        logits = finite_logits(logits, f"teacher on {split.dataset}/{name}")
        if not same_rows:
            logits = expand_to_windows(logits, source.record, split)
        out = TeacherOutputs(
            split.dataset,
            name,
            logits.astype(np.float32),
            fp,
            model_fp,
            run.label,
            run.threshold,
            feats,
            meta={"teacher_split_fingerprint": source.fingerprint(), "run_key": run.key},
        )
        save_outputs(path, out)
        outputs[name] = out
    return outputs
