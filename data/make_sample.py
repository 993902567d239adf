"""Regenerate this folder's real-data sample from the original PhysioNet files.

    python data/make_sample.py --source ../shared/data            # or a PhysioNet download
    python data/make_sample.py --source DIR --minutes 5 --dest data

MIT-BIH: the first ``--minutes`` of each DS1/DS2 record (MLII and the second lead, with every
annotation in that span), rewritten with wfdb in the original format 212 with the original gains, so
the digital samples are the original ones. PTB-XL: the records present in the source's
``records100`` plus ``scp_statements.csv`` and the metadata table, copied byte for byte. Then
``SHA256SUMS`` is rewritten. Nothing is invented: every sample comes from the source files.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

import numpy as np
import wfdb

from ecgkd.data.mitbih import DS1, DS2, FS

HERE = Path(__file__).resolve().parent


def write_mitdb_excerpt(source: Path, dest: Path, record: str, seconds: int) -> None:
    """First ``seconds`` of a record: signals (digital values kept) and annotations."""
    base = str(source / "mitdb" / record)
    n = seconds * FS
    rec = wfdb.rdrecord(base, sampto=n, physical=False)
    ann = wfdb.rdann(base, "atr", sampto=n - 1)
    out = dest / "mitdb"
    out.mkdir(parents=True, exist_ok=True)
    wfdb.wrsamp(
        record,
        fs=rec.fs,
        units=rec.units,
        sig_name=rec.sig_name,
        d_signal=rec.d_signal,
        fmt=rec.fmt,
        adc_gain=rec.adc_gain,
        baseline=rec.baseline,
        comments=rec.comments + [f"ecgkd sample: first {seconds} s of MIT-BIH record {record}"],
        write_dir=str(out),
    )
    aux = [a.rstrip("\x00") for a in ann.aux_note]
    wfdb.wrann(
        record,
        "atr",
        np.asarray(ann.sample),
        symbol=ann.symbol,
        subtype=np.asarray(ann.subtype),
        chan=np.asarray(ann.chan),
        num=np.asarray(ann.num),
        aux_note=aux,
        fs=rec.fs,
        write_dir=str(out),
    )


def copy_ptbxl(source: Path, dest: Path) -> int:
    """Copy the metadata tables and every records100 record of the source, byte for byte."""
    src, out = source / "ptb-xl", dest / "ptb-xl"
    out.mkdir(parents=True, exist_ok=True)
    for table in ["scp_statements.csv", *[p.name for p in src.glob("ptbxl_database*.csv")]]:
        shutil.copyfile(src / table, out / table)
    count = 0
    for hea in sorted((src / "records100").rglob("*.hea")):
        target = out / hea.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        for ext in (".hea", ".dat"):
            shutil.copyfile(hea.with_suffix(ext), target.with_suffix(ext))
        count += 1
    return count


def write_checksums(dest: Path) -> int:
    """``SHA256SUMS`` over every data file below ``dest`` (paths relative to it)."""
    skip = {"SHA256SUMS", "README.md", "make_sample.py"}
    files = sorted(
        p
        for p in dest.rglob("*")
        if p.is_file() and p.name not in skip and "__pycache__" not in p.parts
    )
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(dest).as_posix()}"
        for p in files
    ]
    (dest / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--source", type=Path, required=True, help="folder with the original mitdb/ and ptb-xl/"
    )
    parser.add_argument(
        "--dest", type=Path, default=HERE, help="where to write the sample (default: this folder)"
    )
    parser.add_argument(
        "--minutes", type=int, default=5, help="minutes kept from each MIT-BIH record"
    )
    args = parser.parse_args()
    for record in DS1 + DS2:
        write_mitdb_excerpt(args.source, args.dest, record, args.minutes * 60)
    n_ptbxl = copy_ptbxl(args.source, args.dest)
    n_files = write_checksums(args.dest)
    print(
        f"wrote {len(DS1 + DS2)} MIT-BIH excerpts, {n_ptbxl} PTB-XL records, {n_files} checksums "
        f"to {args.dest}"
    )


if __name__ == "__main__":
    main()
