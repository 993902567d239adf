"""Real ECG data: MIT-BIH and PTB-XL read from WFDB files into the :class:`Split` contract."""

from pathlib import Path

import pandas as pd

from .integrity import ChecksumError, ChecksumIndex, DataError
from .mitbih import AAMI_CLASSES, DS1, DS2, VAL_RECORDS, load_mitbih
from .preprocess import FILTERS, RECIPE, STUDENT_FILTERS, Filters, student_filters
from .ptbxl import load_ptbxl
from .split import PreparedData, Split, overlap_report

__all__ = [
    "AAMI_CLASSES",
    "ChecksumError",
    "ChecksumIndex",
    "DS1",
    "DS2",
    "DataError",
    "PreparedData",
    "Split",
    "DATASETS",
    "FILTERS",
    "Filters",
    "RECIPE",
    "STUDENT_FILTERS",
    "VAL_RECORDS",
    "data_summary",
    "load",
    "load_mitbih",
    "load_ptbxl",
    "overlap_report",
    "student_filters",
]


DATASETS = ("mitbih", "ptbxl")


def load(
    cfg=None,
    dataset: str = "mitbih",
    *,
    teacher: bool = False,
    filters: Filters | None = None,
    progress: bool = True,
) -> PreparedData:
    """The students' splits of ``dataset`` or, with ``teacher=True``, the teacher's (PTB-XL: whole
    records), cleaned with ``filters`` (default: the students', :func:`student_filters`; the
    recipe's only for the released ECGFounder weights)."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r}: use one of {DATASETS}")
    filters = filters or student_filters(dataset)
    if dataset == "mitbih":
        return load_mitbih(cfg, filters=filters, progress=progress)
    if dataset == "ptbxl":
        view = "records" if teacher else "windows"
        return load_ptbxl(cfg, view=view, filters=filters, progress=progress)
    raise ValueError(f"dataset={dataset!r}: use one of {DATASETS}")


def data_summary(root: Path) -> pd.DataFrame:
    """What a data folder holds, counted from file names (nothing is read): a first check of
    ``ECGKD_DATA``."""
    root = Path(root)
    ptbxl = root / "ptb-xl"
    rows = [
        ("MIT-BIH records (mitdb/*.dat)", len(list((root / "mitdb").glob("*.dat"))), 48),
        (
            "PTB-XL records at 100 Hz (ptb-xl/records100/)",
            len(list((ptbxl / "records100").rglob("*.hea"))),
            21799,
        ),
        (
            "PTB-XL records at 500 Hz (ptb-xl/records500/)",
            len(list((ptbxl / "records500").rglob("*.hea"))),
            21799,
        ),
        ("PTB-XL label tables (ptb-xl/*.csv)", len(list(ptbxl.glob("*.csv"))), 2),
    ]
    return pd.DataFrame(rows, columns=["what", "found", "in the full release"]).set_index("what")
