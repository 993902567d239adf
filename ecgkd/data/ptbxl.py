"""PTB-XL: 10 s 12-lead records -> binary normal/abnormal labels, official folds, student windows.

Our choices (the study's details are not public):

* Label from the diagnostic superclasses of ``scp_statements.csv`` (rows with ``diagnostic == 1``),
  as in the PTB-XL benchmark code: every diagnostic statement in ``scp_codes`` counts, whatever its
  likelihood. Normal = the only superclass is NORM; abnormal = any of MI, STTC, CD, HYP (also when
  NORM is present too). Records with no diagnostic statement are excluded and counted.
* Splits: ``strat_fold`` 1-8 train, 9 validation, 10 test, never re-split (the folds keep each
  patient in one fold; :func:`ecgkd.data.overlap_report` checks it).
* Students see lead II (the classic rhythm lead, and the closest to MIT-BIH's MLII) at 100 Hz,
  cleaned with the recipe's filters and z-scored per record, cut into four 256-sample (2.56 s)
  windows at starts 0, 248, 496, 744 that cover the 10 s record; each window carries its record's
  label, and record-level scores are the mean over a record's windows.
* The teacher sees the whole 12-lead record (``view="records"``), at 500 Hz when ``records500`` is
  present for every record, else 100 Hz (resampled to 500 Hz by the teacher's preprocessing).
"""

from __future__ import annotations

import ast
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import wfdb

from .. import cache
from ..config import Config
from . import integrity, preprocess
from . import split as split_mod
from . import windows as windows_mod
from .integrity import ChecksumIndex, DataError, require_path
from .split import PreparedData, Split

DATABASE = "ptb-xl"
LEADS = ("I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6")
STUDENT_LEAD = "II"
STUDENT_FS = 100
WINDOW = 256
WINDOWS_PER_RECORD = 4
MAINS_HZ = 50.0  # recorded in Germany
SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")
ABNORMAL_SUPERCLASSES = ("MI", "STTC", "CD", "HYP")
FOLDS = {"train": tuple(range(1, 9)), "val": (9,), "test": (10,)}
QUICK_RECORDS = 500  # quick mode uses the first 500 ecg_ids (the repository's sample)
View = Literal["windows", "records"]


def find_database_csv(folder: Path) -> tuple[Path, bool]:
    """The metadata table: ``ptbxl_database.csv`` (original) or a ``ptbxl_database*.csv``
    excerpt."""
    original = Path(folder) / "ptbxl_database.csv"
    if original.is_file():
        return original, True
    excerpts = sorted(Path(folder).glob("ptbxl_database*.csv"))
    if excerpts:
        return excerpts[0], False
    raise DataError(f"no ptbxl_database.csv in {folder}. {integrity.GET_DATA_HINT}")


def diagnostic_classes(folder: Path) -> dict[str, str]:
    """SCP code -> diagnostic superclass, for the statements marked diagnostic."""
    path = require_path(Path(folder) / "scp_statements.csv", "PTB-XL scp_statements.csv")
    table = pd.read_csv(path, index_col=0)
    for column in ("diagnostic", "diagnostic_class"):
        if column not in table.columns:
            raise DataError(
                f"{path}: column {column!r} missing; is this PTB-XL's scp_statements.csv?"
            )
    diagnostic = table[table["diagnostic"] == 1]
    return {str(code): str(cls) for code, cls in diagnostic["diagnostic_class"].items()}


def parse_scp_codes(text: str, ecg_id: int) -> dict[str, float]:
    """The ``scp_codes`` cell, a Python dict literal such as ``{'NORM': 100.0, 'SR': 0.0}``."""
    try:
        codes = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise DataError(f"ecg_id {ecg_id}: scp_codes {text!r} is not a dict literal") from None
    if not isinstance(codes, dict):
        raise DataError(f"ecg_id {ecg_id}: scp_codes {text!r} is not a dict literal")
    return codes


def binary_label(superclasses: set[str]) -> int | None:
    """1 if any of MI/STTC/CD/HYP, 0 if NORM alone, None if no diagnostic superclass."""
    if superclasses & set(ABNORMAL_SUPERCLASSES):
        return 1
    if superclasses == {"NORM"}:
        return 0
    return None


def label_table(folder: Path, max_records: int | None = None) -> tuple[pd.DataFrame, dict]:
    """One row per record: ids, fold, superclasses, label (NaN when excluded), split; plus a
    report."""
    csv_path, original = find_database_csv(folder)
    db = pd.read_csv(csv_path)
    needed = ("ecg_id", "patient_id", "scp_codes", "strat_fold", "filename_lr", "filename_hr")
    missing = [c for c in needed if c not in db.columns]
    if missing:
        raise DataError(
            f"{csv_path}: columns {missing} missing; is this PTB-XL's ptbxl_database.csv?"
        )
    db = db.sort_values("ecg_id")
    if max_records is not None:
        db = db.head(max_records)
    classes = diagnostic_classes(folder)
    supers = [
        sorted({classes[c] for c in parse_scp_codes(t, i) if c in classes})
        for t, i in zip(db["scp_codes"], db["ecg_id"])
    ]
    db = db.assign(
        superclasses=[" ".join(s) for s in supers], label=[binary_label(set(s)) for s in supers]
    )
    fold_to_split = {f: name for name, folds in FOLDS.items() for f in folds}
    db["split"] = db["strat_fold"].map(fold_to_split)
    bad_fold = db["split"].isna()
    if bad_fold.any():
        raise DataError(
            f"{csv_path}: strat_fold outside 1-10 for ecg_id "
            f"{db.loc[bad_fold, 'ecg_id'].tolist()[:5]}"
        )
    excluded = db["label"].isna()
    report = {
        "database_csv": csv_path.name,
        "database_csv_original": original,
        "records_listed": len(db),
        "excluded_no_diagnostic": int(excluded.sum()),
        "excluded_ids": db.loc[excluded, "ecg_id"].astype(int).tolist(),
    }
    db["patient_id"] = db["patient_id"].astype("Int64").astype(str)
    return db, report


def read_leads(
    path: Path, leads: tuple[str, ...], checksums: ChecksumIndex | None
) -> tuple[np.ndarray, float]:
    """Read the named leads of one record (names matched case-insensitively): ((leads, n) mV,
    fs)."""
    files = [path.with_suffix(".hea"), path.with_suffix(".dat")]
    for f in files:
        require_path(f, "PTB-XL record file")
    if checksums is not None:
        checksums.verify_all(files)
    signal, fs, sig_name = _read_record(path)
    names = [n.upper() for n in sig_name]
    absent = [lead for lead in leads if lead.upper() not in names]
    if absent:
        raise DataError(f"{files[0]}: leads {absent} missing (record has {sig_name}).")
    if fs not in (100, 500):
        raise DataError(f"{files[0]}: sampling rate {fs} Hz; PTB-XL records are 100 or 500 Hz.")
    rows = [names.index(lead.upper()) for lead in leads]
    return signal[:, rows].T.astype(float), float(fs)


# wfdb parses the header on every read, most of a PTB-XL read (benchmarks/records.py), and
# notebook 01 reads the same 500 records under four views and filters: a process keeps the records
# it read, up to 64 MB (the quick sample's 500 records at 100 Hz: 48 MB), the oldest dropped first.
_RECORDS = cache.Kept(64 * 2**20, size=lambda record: record[0].nbytes)


def _read_record(path: Path) -> tuple[np.ndarray, float, tuple[str, ...]]:
    """(samples x leads physical signal, fs, lead names) of the record at ``path`` (no suffix),
    kept by this process while its files are unchanged (same size and modification time)."""

    def read() -> tuple[np.ndarray, float, tuple[str, ...]]:
        rec = wfdb.rdrecord(str(path))  # all leads: wfdb parses the header once (its slow part)
        return rec.p_signal, rec.fs, tuple(rec.sig_name)

    files = [path.with_suffix(ext) for ext in (".hea", ".dat")]
    return _RECORDS.get((str(path), str(cache.file_stamp(files, path.parent))), read)


def read_student_lead(root: Path, ecg_id: int) -> tuple[np.ndarray, float]:
    """The raw students' lead (II, mV, (1, n)) of record ``ecg_id`` and its rate: what the filters
    of :func:`ecgkd.data.preprocess.clean` are shown on in notebook 01."""
    folder = require_path(Path(root) / DATABASE, "PTB-XL folder")
    table, _ = label_table(folder)
    rows = table[table["ecg_id"] == ecg_id]
    if rows.empty:
        raise DataError(f"PTB-XL ecg_id {ecg_id} is not in {find_database_csv(folder)[0]}")
    return read_leads(_student_path(folder, rows.iloc[0]), (STUDENT_LEAD,), None)


def window_starts(n: int, length: int = WINDOW, count: int = WINDOWS_PER_RECORD) -> np.ndarray:
    """``count`` window starts spread evenly so the windows cover the record (0, 248, 496, 744 for
    1000)."""
    if n < length:
        return np.zeros(0, dtype=np.int64)
    return np.round(np.linspace(0, n - length, count)).astype(np.int64)


def _record_path(folder: Path, row: pd.Series, fs: int) -> Path:
    return folder / str(row["filename_lr" if fs == 100 else "filename_hr"])


def _student_path(folder: Path, row: pd.Series) -> Path:
    """The 100 Hz file, or the 500 Hz one when only that exists (decimated to 100 Hz on reading)."""
    low, high = _record_path(folder, row, 100), _record_path(folder, row, 500)
    return (
        high if not low.with_suffix(".hea").exists() and high.with_suffix(".hea").exists() else low
    )


def _student_windows(
    folder: Path, row: pd.Series, checksums: ChecksumIndex, filters: preprocess.Filters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lead II at 100 Hz (decimated from 500 Hz when only records500 exists), cleaned, cut."""
    raw, fs = read_leads(_student_path(folder, row), (STUDENT_LEAD,), checksums)
    if fs != STUDENT_FS:
        raw = preprocess.resample(raw, fs, STUDENT_FS)
    clean = windows_mod.student_signal(raw, STUDENT_FS, MAINS_HZ, filters)
    starts = window_starts(raw.shape[-1])
    x, reasons = windows_mod.cut_windows(clean, raw, starts, WINDOW)
    return x, starts[reasons == windows_mod.KEPT], reasons


def _prepare(
    folder: Path,
    view: View,
    fs_records: int,
    table: pd.DataFrame,
    report: dict,
    checksums: ChecksumIndex,
    filters: preprocess.Filters,
    progress: bool,
) -> tuple[dict[str, np.ndarray], dict]:
    from ..progress import progress_bar

    report = dict(report)
    table = table[table["label"].notna()]
    parts: dict[str, list] = {k: [] for k in split_mod.SPLIT_NAMES}
    drops: Counter = Counter()
    for _, row in progress_bar(
        table.iterrows(), desc=f"PTB-XL {view}", enabled=progress, total=len(table)
    ):
        if view == "windows":
            x, starts, reasons = _student_windows(folder, row, checksums, filters)
            drops.update(r for r in reasons.tolist() if r)
        else:
            raw, _ = read_leads(_record_path(folder, row, fs_records), LEADS, checksums)
            x = preprocess.clean(raw, fs_records, MAINS_HZ, filters)[None].astype(np.float32)
            starts = np.zeros(1, dtype=np.int64)
        parts[row["split"]].append((row, x, starts))
    checksums.warn_unlisted("PTB-XL")
    arrays: dict[str, np.ndarray] = {}
    fs, leads = view_layout(view, fs_records)
    for name, chunks in parts.items():
        n = [len(x) for _, x, _ in chunks]
        rep = lambda key: np.repeat([str(r[key]) for r, _, _ in chunks], n).astype(str)  # noqa: E731
        length = WINDOW if view == "windows" else (chunks[0][1].shape[-1] if chunks else 0)
        x = (
            np.concatenate([x for _, x, _ in chunks])
            if chunks
            else np.zeros((0, len(leads), length), np.float32)
        )
        y = np.repeat([int(r["label"]) for r, _, _ in chunks], n).astype(np.int64)
        starts = np.concatenate([s for _, _, s in chunks]) if chunks else np.zeros(0, np.int64)
        arrays.update(
            Split(
                name,
                "ptbxl",
                x.astype(np.float32),
                y,
                rep("ecg_id"),
                rep("patient_id"),
                starts,
                fs,
                leads,
            ).to_arrays()
        )
    counts = table.groupby(["split", "label"]).size().unstack(fill_value=0)
    report.update(
        {
            "view": view,
            "fs": fs,
            "filters": filters,
            "dropped_windows": dict(drops),
            "checksums": checksums.summary(),
            "records_per_split_label": {
                s: {int(k): int(v) for k, v in r.items()} for s, r in counts.iterrows()
            },
            "superclass_counts": dict(Counter(c for s in table["superclasses"] for c in s.split())),
        }
    )
    return arrays, report


def view_layout(view: View, fs_records: int) -> tuple[int, tuple[str, ...]]:
    """Sampling rate and lead names of a view's arrays."""
    return (STUDENT_FS, (STUDENT_LEAD,)) if view == "windows" else (fs_records, LEADS)


def records_fs(folder: Path, table: pd.DataFrame) -> int:
    """500 when every record has its 500 Hz file, else 100."""
    has_500 = all(
        _record_path(folder, row, 500).with_suffix(".hea").exists() for _, row in table.iterrows()
    )
    return 500 if has_500 and len(table) else 100


def load_ptbxl(
    cfg: Config | None = None,
    *,
    view: View = "windows",
    root: Path | None = None,
    quick: bool | None = None,
    cache_root: Path | None = None,
    max_records: int | None = None,
    filters: preprocess.Filters = preprocess.STUDENT_FILTERS["ptbxl"],
    progress: bool = True,
) -> PreparedData:
    """PTB-XL train/val/test splits, prepared once and cached.

    ``view="windows"``: the students' lead-II 256-sample windows at 100 Hz (four per record).
    ``view="records"``: whole 12-lead records for the teacher (500 Hz when present, else 100 Hz),
    cleaned at that rate and kept in mV; the teacher's view
    (:func:`ecgkd.teacher.teacher_inputs`) resamples them to 500 Hz and z-scores them.
    Quick mode keeps the first :data:`QUICK_RECORDS` records unless ``max_records`` says otherwise.
    ``filters``: see :func:`ecgkd.data.preprocess.clean` (the recipe's only for the released
    ECGFounder weights).
    """
    from ..config import load

    if view not in ("windows", "records"):
        raise ValueError(f"view={view!r}: use 'windows' (students) or 'records' (teacher)")
    cfg = cfg or load()
    preprocess.check_filters(filters)
    root = Path(root or cfg.data_root).resolve()
    folder = require_path(root / DATABASE, "PTB-XL folder")
    quick = cfg.quick if quick is None else quick
    if max_records is None and quick:
        max_records = QUICK_RECORDS
    checksums = ChecksumIndex(root)
    tables = [find_database_csv(folder)[0], folder / "scp_statements.csv"]
    checksums.verify_all(tables)  # small files: verified on every load, before they are parsed
    table, label_report = label_table(folder, max_records)
    fs_records = records_fs(folder, table) if view == "records" else STUDENT_FS
    files = list(tables)
    for _, row in table[table["label"].notna()].iterrows():
        base = (
            _record_path(folder, row, fs_records)
            if view == "records"
            else _student_path(folder, row)
        )
        files += [
            require_path(base.with_suffix(ext), "PTB-XL record file") for ext in (".hea", ".dat")
        ]
    key = cache.fingerprint(
        {
            "dataset": "ptbxl",
            "view": view,
            "filters": filters,
            "fs": fs_records,
            "max_records": max_records,
            "window": WINDOW,
            "per_record": WINDOWS_PER_RECORD,
            "lead": STUDENT_LEAD,
            "flat": windows_mod.FLAT_PTP_MV,
            "files": cache.file_stamp(files, root),
            "code": cache.code_version(
                preprocess, windows_mod, integrity, split_mod, sys.modules[__name__]
            ),
        }
    )
    path = Path(cache_root or cfg.cache_root) / "data" / f"ptbxl-{view}-{filters}-{key}.npz"
    arrays, meta, _ = cache.cached_arrays(
        path,
        lambda: _prepare(
            folder, view, fs_records, table, label_report, checksums, filters, progress
        ),
        key,
    )
    fs, leads = view_layout(view, fs_records)
    splits = {
        name: Split.from_arrays(arrays, name, "ptbxl", fs, leads) for name in split_mod.SPLIT_NAMES
    }
    meta["cache_file"] = str(path)
    if not meta["database_csv_original"] and not is_shipped_sample(folder):
        # The shipped sample's excerpt is documented (data/README.md, notebook 01): no warning for
        # it.
        warnings.warn(
            f"PTB-XL labels come from {meta['database_csv']}, not PhysioNet's original "
            "ptbxl_database.csv (see data/README.md).",
            stacklevel=2,
        )
    return PreparedData("ptbxl", splits, meta)


def is_shipped_sample(folder: Path) -> bool:
    """Whether ``folder`` is the repository's own ``data/ptb-xl`` (whose label excerpt is
    documented)."""
    from ..config import project_root

    return Path(folder).resolve() == (project_root() / "data" / "ptb-xl").resolve()


def split_table(data: PreparedData) -> pd.DataFrame:
    """Records and windows per split and label, with the folds each split uses."""
    rows = {}
    for name, s in data.splits.items():
        per_record = pd.Series(s.y).groupby(s.record).first()
        rows[name] = {
            "folds": ",".join(map(str, FOLDS[name])),
            "records": len(per_record),
            "normal records": int((per_record == 0).sum()),
            "abnormal records": int((per_record == 1).sum()),
            "windows": len(s),
            "patients": len(np.unique(s.patient)),
        }
    return pd.DataFrame(rows).T
