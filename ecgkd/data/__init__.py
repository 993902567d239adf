"""Real ECG data: MIT-BIH and PTB-XL read from WFDB files into the :class:`Split` contract."""

from .integrity import ChecksumError, ChecksumIndex, DataError
from .mitbih import AAMI_CLASSES, DS1, DS2, VAL_RECORDS, load_mitbih
from .ptbxl import load_ptbxl
from .split import PreparedData, Split, overlap_report

__all__ = [
    "AAMI_CLASSES", "ChecksumError", "ChecksumIndex", "DS1", "DS2", "DataError", "PreparedData", "Split",
    "DATASETS", "VAL_RECORDS", "load", "load_mitbih", "load_ptbxl", "overlap_report",
]


DATASETS = ("mitbih", "ptbxl")


def load(cfg=None, dataset: str = "mitbih", *, teacher: bool = False, progress: bool = True) -> PreparedData:
    """The students' splits of ``dataset`` or, with ``teacher=True``, the teacher's (PTB-XL: whole records)."""
    if dataset == "mitbih":
        return load_mitbih(cfg, progress=progress)
    if dataset == "ptbxl":
        return load_ptbxl(cfg, view="records" if teacher else "windows", progress=progress)
    raise ValueError(f"dataset={dataset!r}: use one of {DATASETS}")
