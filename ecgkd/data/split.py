"""The contract between stages: a :class:`Split` of windows and a :class:`PreparedData` of splits.

Every later stage (teacher, students, quantum student, evaluation) takes these objects and never
re-reads WFDB files. Arrays are aligned index for index, so teacher outputs saved for a split line
up with its windows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SPLIT_NAMES = ("train", "val", "test")
LABEL_NAMES = {0: "normal", 1: "abnormal"}


@dataclass
class Split:
    """One split of one dataset.

    x: float32 (n, leads, length) signals; y: int64 (n,) 0 = normal, 1 = abnormal;
    record: (n,) record id of each window; patient: (n,) patient id (the unit kept disjoint);
    start: (n,) first sample of the window in its record; aami: (n,) AAMI class letter (MIT-BIH)
    or empty strings; fs: sampling rate of x; leads: lead names of x's second axis; rhythm: float32
    (n, k) rhythm features of each beat (MIT-BIH: :mod:`ecgkd.data.rhythm`) or None.
    """

    name: str
    dataset: str
    x: np.ndarray
    y: np.ndarray
    record: np.ndarray
    patient: np.ndarray
    start: np.ndarray
    fs: float
    leads: tuple[str, ...]
    aami: np.ndarray | None = None
    rhythm: np.ndarray | None = None
    # the content's hash, computed once: a split's arrays are never changed in place (every stage
    # makes new splits: subset, replace), and the grids ask for it at every run's key
    _fingerprint: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.x)
        if self.x.ndim != 3:
            raise ValueError(
                f"{self.dataset}/{self.name}: x must be (n, leads, length), got {self.x.shape}"
            )
        if self.x.shape[1] != len(self.leads):
            raise ValueError(
                f"{self.dataset}/{self.name}: x has {self.x.shape[1]} leads, names {self.leads}"
            )
        optional = tuple(k for k in ("aami", "rhythm") if getattr(self, k) is not None)
        for key in ("y", "record", "patient", "start") + optional:
            if len(getattr(self, key)) != n:
                raise ValueError(
                    f"{self.dataset}/{self.name}: {key} has {len(getattr(self, key))} rows, x has "
                    f"{n}"
                )
        if n and not set(np.unique(self.y)) <= {0, 1}:
            raise ValueError(
                f"{self.dataset}/{self.name}: y must hold 0 (normal) and 1 (abnormal) only"
            )

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return (
            f"Split({self.dataset}/{self.name}: {len(self)} windows {self.x.shape[1:]} at "
            f"{self.fs:g} Hz, "
            f"{self.y.mean() if len(self) else 0:.1%} abnormal, {len(np.unique(self.record))} "
            "records)"
        )

    @property
    def length(self) -> int:
        return int(self.x.shape[-1])

    def subset(self, index: np.ndarray | Iterable[int]) -> Split:
        """Rows selected by a boolean mask or integer index, as a new Split."""
        idx = np.asarray(index)
        return Split(
            self.name,
            self.dataset,
            self.x[idx],
            self.y[idx],
            self.record[idx],
            self.patient[idx],
            self.start[idx],
            self.fs,
            self.leads,
            None if self.aami is None else self.aami[idx],
            None if self.rhythm is None else self.rhythm[idx],
        )

    def same_rows(self, other: Split) -> bool:
        """Whether ``other`` holds the same examples in the same order (same records and starts),
        whatever their filtering: the MIT-BIH teacher's windows under the recipe's filters are the
        students' windows; PTB-XL's whole records are not."""
        return (
            self.dataset == other.dataset
            and len(self) == len(other)
            and self.x.shape[-1] == other.x.shape[-1]
            and bool(np.array_equal(self.record.astype(str), other.record.astype(str)))
            and bool(np.array_equal(self.start, other.start))
        )

    def fingerprint(self) -> str:
        """sha256 of the content: teacher outputs saved for this split are keyed by it."""
        if self._fingerprint is None:
            self._fingerprint = self._content_hash()
        return self._fingerprint

    def _content_hash(self) -> str:
        digest = hashlib.sha256()
        rhythm = () if self.rhythm is None else (self.rhythm,)
        for arr in (self.x, self.y, self.record.astype(str), self.start, *rhythm):
            digest.update(np.ascontiguousarray(arr).tobytes())
        digest.update(f"{self.dataset}/{self.name}/{self.fs}/{self.leads}".encode())
        return digest.hexdigest()[:16]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat arrays for :func:`ecgkd.cache.save_arrays` (prefix ``<split>.``)."""
        out = {
            "x": self.x,
            "y": self.y,
            "record": self.record.astype(str),
            "patient": self.patient.astype(str),
            "start": self.start,
        }
        if self.aami is not None:
            out["aami"] = self.aami.astype(str)
        if self.rhythm is not None:
            out["rhythm"] = self.rhythm
        return {f"{self.name}.{k}": v for k, v in out.items()}

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], name: str, dataset: str, fs: float, leads: Iterable[str]
    ) -> Split:
        get = lambda k: arrays.get(f"{name}.{k}")  # noqa: E731
        return cls(
            name,
            dataset,
            get("x"),
            get("y"),
            get("record"),
            get("patient"),
            get("start"),
            fs,
            tuple(leads),
            get("aami"),
            get("rhythm"),
        )

    def class_counts(self) -> pd.Series:
        """Windows per binary label (and per AAMI class when known)."""
        if self.aami is not None:
            return pd.Series(self.aami).value_counts()
        return pd.Series(self.y).map(LABEL_NAMES).value_counts()


@dataclass
class PreparedData:
    """The splits of one dataset plus a report of everything excluded or dropped on the way."""

    dataset: str
    splits: dict[str, Split]
    report: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Split:
        if name not in self.splits:
            raise KeyError(f"{self.dataset} has splits {list(self.splits)}, not {name!r}")
        return self.splits[name]

    @property
    def train(self) -> Split:
        return self["train"]

    @property
    def val(self) -> Split:
        return self["val"]

    @property
    def test(self) -> Split:
        return self["test"]

    def summary(self) -> pd.DataFrame:
        """Windows, records, patients and binary counts per split."""
        rows = []
        for name, s in self.splits.items():
            rows.append(
                {
                    "split": name,
                    "windows": len(s),
                    "records": len(np.unique(s.record)),
                    "patients": len(np.unique(s.patient)),
                    "normal": int((s.y == 0).sum()),
                    "abnormal": int((s.y == 1).sum()),
                    "abnormal %": round(100 * float(s.y.mean()) if len(s) else 0.0, 1),
                }
            )
        return pd.DataFrame(rows).set_index("split")


def overlap_report(splits: dict[str, Split], key: str = "patient") -> pd.DataFrame:
    """Ids (records or patients) found in more than one split, one row each; empty if disjoint."""
    owners: dict[str, set[str]] = {}
    for name, s in splits.items():
        for ident in np.unique(getattr(s, key)):
            owners.setdefault(str(ident), set()).add(name)
    rows = [
        {key: ident, "splits": ", ".join(sorted(names))}
        for ident, names in owners.items()
        if len(names) > 1
    ]
    return pd.DataFrame(rows, columns=[key, "splits"])
