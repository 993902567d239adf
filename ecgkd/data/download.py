"""Download the full MIT-BIH and PTB-XL databases from PhysioNet (for users with internet).

    python -m ecgkd.data.download --dest ~/ecg-data                 # both, PTB-XL at 100 Hz
    python -m ecgkd.data.download --dest ~/ecg-data --ptbxl-500hz   # also PTB-XL's 500 Hz files

The result has the layout ecgkd reads (``DEST/mitdb``, ``DEST/ptb-xl``); set ``ECGKD_DATA=DEST``.
Files already complete are skipped (wfdb resumes partial ones), and every file is checked against
PhysioNet's ``SHA256SUMS.txt`` afterwards. Tests and CI never call this: they have no internet.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import wfdb

from .integrity import ChecksumIndex
from .mitbih import DATABASE as MITDB
from .ptbxl import DATABASE as PTBXL

MITDB_RECORDS = tuple(
    str(r)
    for r in [*range(100, 125), *range(200, 235)]
    if r not in (110, 120, 204, 206, 211, 216, 218, 224, 225, 226, 227, 229)
)


def _verify(dest: Path, db: str, files: list[str]) -> int:
    index = ChecksumIndex(dest, databases=(db,))
    index.verify_all([dest / db / f for f in files])
    return len(index.verified)


def download_mitdb(dest: Path) -> Path:
    """All 48 MIT-BIH records (.hea, .dat, .atr) and PhysioNet's checksum list into
    ``dest/mitdb``."""
    dest = Path(dest)
    files = ["RECORDS", "SHA256SUMS.txt"] + [
        f"{r}.{ext}" for r in MITDB_RECORDS for ext in ("hea", "dat", "atr")
    ]
    wfdb.dl_files(MITDB, str(dest / MITDB), files)
    print(f"MIT-BIH: {_verify(dest, MITDB, files)} files verified in {dest / MITDB}")
    return dest / MITDB


def download_ptbxl(dest: Path, include_500hz: bool = False) -> Path:
    """PTB-XL's tables, checksum list and every record at 100 Hz (and 500 Hz if asked) into
    ``dest/ptb-xl``."""
    dest = Path(dest)
    folder = dest / PTBXL
    tables = ["ptbxl_database.csv", "scp_statements.csv", "SHA256SUMS.txt"]
    wfdb.dl_files(PTBXL, str(folder), tables)
    db = pd.read_csv(folder / "ptbxl_database.csv")
    columns = ["filename_lr"] + (["filename_hr"] if include_500hz else [])
    records = [f"{name}.{ext}" for col in columns for name in db[col] for ext in ("hea", "dat")]
    wfdb.dl_files(PTBXL, str(folder), records)
    print(f"PTB-XL: {_verify(dest, PTBXL, tables[:2] + records)} files verified in {folder}")
    return folder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dest", type=Path, required=True, help="folder to download into (becomes ECGKD_DATA)"
    )
    parser.add_argument("--only", choices=("mitdb", "ptb-xl"), help="download one database only")
    parser.add_argument(
        "--ptbxl-500hz",
        action="store_true",
        help="also PTB-XL's 500 Hz records (about 1.5 GB more)",
    )
    args = parser.parse_args(argv)
    if args.only in (None, "mitdb"):
        download_mitdb(args.dest)
    if args.only in (None, "ptb-xl"):
        download_ptbxl(args.dest, args.ptbxl_500hz)
    print(f"Done. Use it with: export ECGKD_DATA={args.dest.resolve()}")


if __name__ == "__main__":
    main()
