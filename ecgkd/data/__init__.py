"""Real ECG data: MIT-BIH and PTB-XL read from WFDB files into the :class:`Split` contract."""

from .integrity import ChecksumError, ChecksumIndex, DataError
from .mitbih import AAMI_CLASSES, DS1, DS2, VAL_RECORDS, load_mitbih
from .ptbxl import load_ptbxl
from .split import PreparedData, Split, overlap_report

__all__ = [
    "AAMI_CLASSES", "ChecksumError", "ChecksumIndex", "DS1", "DS2", "DataError", "PreparedData", "Split",
    "VAL_RECORDS", "load_mitbih", "load_ptbxl", "overlap_report",
]
