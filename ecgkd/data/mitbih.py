"""MIT-BIH Arrhythmia Database: beats -> 256-sample MLII windows with AAMI and binary labels.

Our choices (the study's details are not public):

* Lead: MLII, found by its signal name (record 114 stores it second). Records without MLII are an
  error.
* One sample = one annotated beat: 256 samples at 360 Hz (0.71 s) from 90 samples (250 ms) before
  the R peak to 166 samples (461 ms) after it. 250 ms before R holds the P wave (PR interval 120-200
  ms plus half a QRS); 461 ms after R reaches the end of the T wave at normal heart rates (QT about
  400 ms).
* Labels: AAMI classes from the beat symbols (EC57 mapping used by de Chazal et al. 2004); binary
  label normal = AAMI N, abnormal = S, V, F or Q. Non-beat annotations (rhythm, noise, ``x``,
  ``!``...) are ignored and counted.
* Split: the inter-patient split of de Chazal et al. 2004, paced records 102, 104, 107, 217
  excluded; DS1 trains, DS2 tests, and five whole DS1 records are held out for validation, so no
  validation beat comes from a training record. Our choice of :data:`VAL_RECORDS` (114, 118, 124,
  205, 220): N, S, V and F all among them, and no record holding more than about a quarter of their
  abnormal beats (in the full records: 433 abnormal beats, at most 112 from one record), so that
  early stopping, thresholds and every choice made on validation do not rest on one patient. (An
  earlier choice, 101, 118, 124 and 223, had 74% of its abnormal beats in record 223.)
* Caveat shown, not hidden: records 201 (DS1) and 202 (DS2) come from the same subject. Both keep
  their published place (for comparability); they share the patient id ``201+202`` so the overlap is
  visible.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb

from .. import cache
from ..config import Config
from . import integrity, preprocess
from . import rhythm as rhythm_mod
from . import split as split_mod
from . import windows as windows_mod
from .integrity import ChecksumIndex, DataError, require_path
from .split import PreparedData, Split

DATABASE = "mitdb"
FS = 360
LEAD = "MLII"
WINDOW = 256
PRE_R = 90
POST_R = WINDOW - PRE_R
MAINS_HZ = 60.0  # recorded in Boston: 60 Hz power line
QUICK_SECONDS = 300  # quick mode reads the first 5 minutes of each record (the repository's sample)

DS1 = (
    "101",
    "106",
    "108",
    "109",
    "112",
    "114",
    "115",
    "116",
    "118",
    "119",
    "122",
    "124",
    "201",
    "203",
    "205",
    "207",
    "208",
    "209",
    "215",
    "220",
    "223",
    "230",
)
DS2 = (
    "100",
    "103",
    "105",
    "111",
    "113",
    "117",
    "121",
    "123",
    "200",
    "202",
    "210",
    "212",
    "213",
    "214",
    "219",
    "221",
    "222",
    "228",
    "231",
    "232",
    "233",
    "234",
)
VAL_RECORDS = ("114", "118", "124", "205", "220")
PACED = ("102", "104", "107", "217")
SAME_SUBJECT = {"201": "201+202", "202": "201+202"}

AAMI_CLASSES: dict[str, tuple[str, ...]] = {
    "N": ("N", "L", "R", "e", "j"),
    "S": ("A", "a", "J", "S"),
    "V": ("V", "E"),
    "F": ("F",),
    "Q": ("/", "f", "Q"),
}
SYMBOL_TO_AAMI = {sym: cls for cls, syms in AAMI_CLASSES.items() for sym in syms}
AAMI_ORDER = tuple(AAMI_CLASSES)
ABNORMAL_AAMI = ("S", "V", "F", "Q")

#: Beats per AAMI class in DS1 and DS2 as published by de Chazal et al. (2004), Table I.
DECHAZAL_COUNTS = {
    "DS1": {"N": 45866, "S": 944, "V": 3788, "F": 415, "Q": 8},
    "DS2": {"N": 44259, "S": 1837, "V": 3221, "F": 388, "Q": 7},
}


def aami_class(symbol: str) -> str | None:
    """AAMI class letter of a beat symbol, or None for a non-beat annotation."""
    return SYMBOL_TO_AAMI.get(symbol)


def binary_label(aami: str) -> int:
    """0 for AAMI N (normal), 1 for S, V, F, Q (abnormal)."""
    if aami not in AAMI_CLASSES:
        raise ValueError(f"unknown AAMI class {aami!r}; expected one of {AAMI_ORDER}")
    return int(aami != "N")


@dataclass
class RecordBeats:
    """One record's lead and annotated beats, as read from WFDB."""

    record: str
    raw: np.ndarray  # (1, n) MLII in mV, NaN where the file marks a missing sample
    r_peaks: np.ndarray  # sample of each beat annotation kept
    aami: np.ndarray  # AAMI class per beat
    ignored: Counter  # non-beat annotation symbols


def record_files(root: Path, record: str) -> list[Path]:
    base = Path(root) / DATABASE / record
    return [base.with_suffix(ext) for ext in (".hea", ".dat", ".atr")]


def read_record(
    root: Path,
    record: str,
    checksums: ChecksumIndex | None = None,
    max_seconds: float | None = None,
) -> RecordBeats:
    """Read the MLII lead and the beat annotations of one record, verifying checksums first."""
    files = record_files(root, record)
    for path in files:
        require_path(path, f"MIT-BIH record {record} file")
    if checksums is not None:
        checksums.verify_all(files)
    base = str(files[0].with_suffix(""))
    header = wfdb.rdheader(base)
    if header.fs != FS:
        raise DataError(
            f"{files[0]}: sampling rate {header.fs} Hz, but MIT-BIH records are {FS} Hz. "
            "Resample the record to 360 Hz (annotations too) or restore the original file."
        )
    if LEAD not in header.sig_name:
        raise DataError(
            f"{files[0]}: no {LEAD} lead (signals: {', '.join(header.sig_name)}). ecgkd reads "
            f"{LEAD}; records {', '.join(PACED)} lack it or are paced and are excluded by design."
        )
    sampto = (
        header.sig_len if max_seconds is None else min(header.sig_len, int(round(max_seconds * FS)))
    )
    rec = wfdb.rdrecord(base, sampto=sampto, channels=[header.sig_name.index(LEAD)])
    ann = wfdb.rdann(base, "atr", sampto=sampto)
    symbols = np.asarray(ann.symbol, dtype=str)
    classes = np.array([SYMBOL_TO_AAMI.get(s, "") for s in symbols], dtype=str)
    is_beat = classes != ""
    return RecordBeats(
        record,
        rec.p_signal.T.astype(float),
        np.asarray(ann.sample)[is_beat],
        classes[is_beat],
        Counter(symbols[~is_beat].tolist()),
    )


def beat_windows(
    beats: RecordBeats, filters: preprocess.Filters = preprocess.STUDENT_FILTERS["mitbih"]
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Windows around every beat of a record; returns (x, kept beat index, dropped-beat rows)."""
    clean = windows_mod.student_signal(beats.raw, FS, MAINS_HZ, filters)
    starts = beats.r_peaks - PRE_R
    x, reasons = windows_mod.cut_windows(clean, beats.raw, starts, WINDOW)
    dropped = [
        {
            "record": beats.record,
            "sample": int(beats.r_peaks[i]),
            "aami": str(beats.aami[i]),
            "reason": str(reasons[i]),
        }
        for i in np.flatnonzero(reasons != windows_mod.KEPT)
    ]
    return x, np.flatnonzero(reasons == windows_mod.KEPT), dropped


def split_of(record: str, val_records: Iterable[str]) -> str:
    """train / val / test place of a record in the inter-patient split."""
    if record in DS2:
        return "test"
    if record in DS1:
        return "val" if record in set(val_records) else "train"
    raise DataError(
        f"MIT-BIH record {record} is in neither DS1 nor DS2 (paced records {PACED} are excluded)"
    )


def _prepare(
    root: Path,
    val_records: tuple[str, ...],
    max_seconds: float | None,
    filters: preprocess.Filters,
    progress: bool,
    rhythm_set: str = rhythm_mod.RHYTHM_SET,
) -> tuple[dict[str, np.ndarray], dict]:
    from ..progress import progress_bar

    checksums = ChecksumIndex(root)
    parts: dict[str, list] = {k: [] for k in split_mod.SPLIT_NAMES}
    dropped: list[dict] = []
    ignored: Counter = Counter()
    annotated: dict[str, Counter] = {"DS1": Counter(), "DS2": Counter()}
    for record in progress_bar(DS1 + DS2, desc="MIT-BIH records", enabled=progress):
        beats = read_record(root, record, checksums, max_seconds)
        x, kept, lost = beat_windows(beats, filters)
        place = split_of(record, val_records)
        annotated["DS1" if record in DS1 else "DS2"].update(beats.aami.tolist())
        for row in lost:
            row["split"] = place
        dropped += lost
        ignored.update(beats.ignored)
        rhythm = rhythm_mod.rr_features(beats.r_peaks, FS, feature_set=rhythm_set)[kept]
        parts[place].append((record, x, beats.r_peaks[kept] - PRE_R, beats.aami[kept], rhythm))
    checksums.warn_unlisted("MIT-BIH")
    arrays: dict[str, np.ndarray] = {}
    for name, chunks in parts.items():
        records = np.concatenate([np.full(len(x), r) for r, x, *_ in chunks]).astype(str)
        aami = np.concatenate([c[3] for c in chunks]).astype(str)
        arrays.update(
            Split(
                name,
                "mitbih",
                np.concatenate([c[1] for c in chunks]).astype(np.float32),
                (aami != "N").astype(np.int64),
                records,
                np.array([SAME_SUBJECT.get(r, r) for r in records]),
                np.concatenate([c[2] for c in chunks]),
                FS,
                (LEAD,),
                aami,
                np.concatenate([c[4] for c in chunks]).astype(np.float32),
            ).to_arrays()
        )
    report = {
        "dropped": dropped,
        "ignored_symbols": dict(ignored),
        "annotated": {k: dict(v) for k, v in annotated.items()},
        "checksums": checksums.summary(),
        "max_seconds": max_seconds,
        "filters": filters,
    }
    return arrays, report


def load_mitbih(
    cfg: Config | None = None,
    *,
    root: Path | None = None,
    quick: bool | None = None,
    cache_root: Path | None = None,
    val_records: Iterable[str] = VAL_RECORDS,
    max_seconds: float | None = None,
    filters: preprocess.Filters = preprocess.STUDENT_FILTERS["mitbih"],
    progress: bool = True,
    rhythm_set: str = rhythm_mod.RHYTHM_SET,
) -> PreparedData:
    """MIT-BIH train/val/test splits of beat windows, prepared once and cached.

    ``rhythm_set``: the beats' rhythm features (:data:`ecgkd.data.rhythm.FEATURE_SETS`; default
    the set every model reads).
    ``cfg`` (default: :func:`ecgkd.config.load`) gives the data root, cache folder and mode; keyword
    arguments override it. Quick mode reads the first :data:`QUICK_SECONDS` of each record unless
    ``max_seconds`` says otherwise. ``filters``: see :func:`ecgkd.data.preprocess.clean` (the
    recipe's only for the released ECGFounder weights).
    """
    from ..config import load

    cfg = cfg or load()
    root = Path(root or cfg.data_root).resolve()
    quick = cfg.quick if quick is None else quick
    if max_seconds is None and quick:
        max_seconds = QUICK_SECONDS
    val_records = tuple(sorted(str(r) for r in val_records))
    preprocess.check_filters(filters)
    if rhythm_set not in rhythm_mod.FEATURE_SETS:
        raise ValueError(f"rhythm_set={rhythm_set!r}: use one of {sorted(rhythm_mod.FEATURE_SETS)}")
    unknown = set(val_records) - set(DS1)
    if unknown:
        raise ValueError(
            f"val_records {sorted(unknown)} are not DS1 records; validation must come from DS1"
        )
    require_path(root / DATABASE, "MIT-BIH folder")
    files = [p for r in DS1 + DS2 for p in record_files(root, r)]
    for path in files:
        require_path(path, "MIT-BIH record file")
    key = cache.fingerprint(
        {
            "dataset": "mitbih",
            "val": val_records,
            "max_seconds": max_seconds,
            "filters": filters,
            "window": [WINDOW, PRE_R],
            "mains": MAINS_HZ,
            "flat": windows_mod.FLAT_PTP_MV,
            "rhythm": rhythm_set,
            "files": cache.file_stamp(files, root),
            "code": cache.code_version(
                preprocess, windows_mod, integrity, split_mod, rhythm_mod, sys.modules[__name__]
            ),
        }
    )
    path = Path(cache_root or cfg.cache_root) / "data" / f"mitbih-{filters}-{key}.npz"
    arrays, meta, _ = cache.cached_arrays(
        path, lambda: _prepare(root, val_records, max_seconds, filters, progress, rhythm_set), key
    )
    splits = {
        name: Split.from_arrays(arrays, name, "mitbih", FS, (LEAD,))
        for name in split_mod.SPLIT_NAMES
    }
    meta["cache_file"] = str(path)
    return PreparedData("mitbih", splits, meta)


def class_table(data: PreparedData) -> pd.DataFrame:
    """Windows per AAMI class and binary label for each split."""
    rows = {}
    for name, s in data.splits.items():
        counts = Counter(s.aami.tolist())
        rows[name] = {
            **{c: counts.get(c, 0) for c in AAMI_ORDER},
            "normal": int((s.y == 0).sum()),
            "abnormal": int((s.y == 1).sum()),
            "total": len(s),
            "records": len(np.unique(s.record)),
        }
    return pd.DataFrame(rows).T


def validation_composition(data: PreparedData) -> pd.DataFrame:
    """Beats per AAMI class of each validation record, and each record's share of the validation
    set's abnormal beats: a set where one record dominates makes every choice rest on one
    patient."""
    val = data.val
    rows = {}
    for record in np.unique(val.record):
        counts = Counter(val.aami[val.record == record].tolist())
        rows[str(record)] = {c: counts.get(c, 0) for c in AAMI_ORDER}
    table = pd.DataFrame(rows).T
    abnormal = table[list(ABNORMAL_AAMI)].sum(axis=1)
    table["share of abnormal beats"] = abnormal / max(int(abnormal.sum()), 1)
    return table


def dechazal_comparison(data: PreparedData) -> pd.DataFrame:
    """Our DS1 (train + val) and DS2 beat counts next to de Chazal et al. 2004, with the losses
    explained.

    ``annotated``: beats in the annotation files we read; ``windows``: beats that became windows;
    ``lost at edges`` / ``nan`` / ``flat``: why the difference.
    """
    dropped = pd.DataFrame(
        data.report["dropped"], columns=["record", "sample", "aami", "reason", "split"]
    )
    dropped["set"] = np.where(dropped["split"] == "test", "DS2", "DS1")
    rows = []
    for ds, names in (("DS1", ("train", "val")), ("DS2", ("test",))):
        ours = Counter(a for n in names for a in data[n].aami.tolist())
        for cls in AAMI_ORDER + ("total",):
            pick = (lambda c: sum(c.values())) if cls == "total" else (lambda c: c.get(cls, 0))
            lost = (
                dropped[dropped["set"] == ds]
                if cls == "total"
                else dropped[(dropped["set"] == ds) & (dropped["aami"] == cls)]
            )
            rows.append(
                {
                    "set": ds,
                    "class": cls,
                    "de Chazal 2004": pick(DECHAZAL_COUNTS[ds]),
                    "annotated": pick(Counter(data.report["annotated"][ds])),
                    "windows": pick(ours),
                    **{
                        f"lost: {r}": int((lost["reason"] == r).sum())
                        for r in windows_mod.DROP_REASONS
                    },
                }
            )
    return pd.DataFrame(rows).set_index(["set", "class"])
