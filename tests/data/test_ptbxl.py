import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from conftest import REPO_DATA, write_checksums
from ecgkd.data import DataError, overlap_report, ptbxl


def test_binary_label_rules():
    assert ptbxl.binary_label({"NORM"}) == 0
    assert ptbxl.binary_label({"NORM", "MI"}) == 1
    assert all(ptbxl.binary_label({c}) == 1 for c in ("MI", "STTC", "CD", "HYP"))
    assert ptbxl.binary_label(set()) is None


def test_label_table_excludes_and_counts_records_without_diagnosis(ptbxl_root: Path):
    table, report = ptbxl.label_table(ptbxl_root / "ptb-xl")
    # codes cycle: NORM, AMI, NORM+NDT, SR only, CLBBB, LVH -> 0, 1, 1, excluded, 1, 1
    assert table["label"].head(6).fillna(-1).tolist() == [0, 1, 1, -1, 1, 1]
    assert report["excluded_no_diagnostic"] == 2 and report["excluded_ids"] == [4, 10]
    assert report["database_csv_original"] is True
    assert table.set_index("ecg_id").loc[[1, 9, 10], "split"].tolist() == ["train", "val", "test"]


def test_windows_view(ptbxl_root: Path, tmp_path: Path):
    data = ptbxl.load_ptbxl(root=ptbxl_root, cache_root=tmp_path, quick=False, progress=False)
    assert ptbxl.window_starts(1000).tolist() == [0, 248, 496, 744]
    assert (
        data.train.x.shape[1:] == (1, 256) and data.train.fs == 100 and data.train.leads == ("II",)
    )
    assert (
        len(data.train) == 4 * 9 and len(data.val) == 4 and len(data.test) == 0
    )  # ecg 10 excluded
    per_record = pd.Series(data.train.y).groupby(data.train.record).agg(["min", "max", "size"])
    assert (per_record["min"] == per_record["max"]).all() and (per_record["size"] == 4).all()
    shared = overlap_report(data.splits, "patient")  # record 9's patient also has record 1
    assert shared.to_dict("records") == [{"patient": "100", "splits": "train, val"}]
    assert overlap_report(data.splits, "record").empty
    assert data.report["checksums"]["verified"] == 2 + 2 * 10


def test_records_view_has_twelve_leads(ptbxl_root: Path, tmp_path: Path):
    data = ptbxl.load_ptbxl(
        root=ptbxl_root, cache_root=tmp_path, view="records", quick=False, progress=False
    )
    assert (
        data.train.x.shape[1:] == (12, 1000)
        and data.train.leads == ptbxl.LEADS
        and data.train.fs == 100
    )
    with pytest.raises(ValueError, match="view='beats'"):
        ptbxl.load_ptbxl(root=ptbxl_root, cache_root=tmp_path, view="beats")


def test_500hz_only_records_are_decimated_for_students(ptbxl_root: Path, tmp_path: Path):
    folder = ptbxl_root / "ptb-xl"
    rec = wfdb.rdrecord(str(folder / "records100/00000/00001_lr"))
    high = np.repeat(rec.p_signal, 5, axis=0)  # the same ECG at 500 Hz
    out = folder / "records500/00000"
    out.mkdir(parents=True)
    wfdb.wrsamp(
        "00001_hr",
        fs=500,
        units=["mV"] * 12,
        sig_name=rec.sig_name,
        p_signal=high,
        fmt=["16"] * 12,
        adc_gain=[1000.0] * 12,
        baseline=[0] * 12,
        write_dir=str(out),
    )
    for ext in (".hea", ".dat"):
        (folder / "records100/00000/00001_lr").with_suffix(ext).unlink()
    write_checksums(ptbxl_root)
    data = ptbxl.load_ptbxl(root=ptbxl_root, cache_root=tmp_path, quick=False, progress=False)
    assert (data.train.record == "1").sum() == 4 and data.train.fs == 100


def test_missing_lead_and_odd_rate_are_clear_errors(ptbxl_root: Path, tmp_path: Path):
    folder = ptbxl_root / "ptb-xl" / "records100/00000"
    wfdb.wrsamp(
        "00002_lr",
        fs=100,
        units=["mV"] * 2,
        sig_name=["I", "III"],
        p_signal=np.zeros((1000, 2)) + 0.1,
        fmt=["16"] * 2,
        adc_gain=[1000.0] * 2,
        baseline=[0] * 2,
        write_dir=str(folder),
    )
    with pytest.raises(DataError, match=r"00002_lr\.hea: leads \['II'\] missing"):
        ptbxl.read_leads(folder / "00002_lr", ("II",), None)
    wfdb.wrsamp(
        "00003_lr",
        fs=250,
        units=["mV"],
        sig_name=["II"],
        p_signal=np.zeros((1000, 1)) + 0.1,
        fmt=["16"],
        adc_gain=[1000.0],
        baseline=[0],
        write_dir=str(folder),
    )
    with pytest.raises(DataError, match="sampling rate 250"):
        ptbxl.read_leads(folder / "00003_lr", ("II",), None)


def test_missing_tables_and_records_name_the_path(ptbxl_root: Path, tmp_path: Path):
    folder = ptbxl_root / "ptb-xl"
    (folder / "records100/00000/00005_lr.dat").unlink()
    with pytest.raises(DataError, match=r"00005_lr\.dat"):
        ptbxl.load_ptbxl(root=ptbxl_root, cache_root=tmp_path, quick=False, progress=False)
    (folder / "ptbxl_database.csv").unlink()
    with pytest.raises(DataError, match="no ptbxl_database.csv"):
        ptbxl.load_ptbxl(root=ptbxl_root, cache_root=tmp_path, progress=False)
    with pytest.raises(DataError, match="PTB-XL folder not found"):
        ptbxl.load_ptbxl(root=tmp_path / "empty", cache_root=tmp_path, progress=False)


def test_bad_scp_codes_is_a_clear_error(ptbxl_root: Path):
    csv = ptbxl_root / "ptb-xl" / "ptbxl_database.csv"
    db = pd.read_csv(csv)
    db.loc[0, "scp_codes"] = "NORM=100"
    db.to_csv(csv, index=False)
    with pytest.raises(DataError, match="ecg_id 1: scp_codes 'NORM=100'"):
        ptbxl.label_table(ptbxl_root / "ptb-xl")


def test_repo_sample_uses_official_folds(tmp_path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shipped sample's excerpt is documented: no warning
        data = ptbxl.load_ptbxl(root=REPO_DATA, cache_root=tmp_path, quick=True, progress=False)
    assert data.report["database_csv_original"] is False
    table = ptbxl.split_table(data)
    assert table["records"].sum() == 500 - data.report["excluded_no_diagnostic"]
    assert table.loc["test", "records"] == 64 and table.loc["val", "records"] == 72
    assert (
        overlap_report(data.splits, "patient").empty and overlap_report(data.splits, "record").empty
    )


def test_a_label_excerpt_outside_the_shipped_sample_is_warned_about(tmp_path: Path):
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(REPO_DATA, copy)
    with pytest.warns(UserWarning, match="NOT-ORIGINAL"):
        ptbxl.load_ptbxl(root=copy, cache_root=tmp_path / "cache", quick=True, progress=False)


def test_records_and_windows_are_not_the_same_rows(ptbxl_root: Path, tmp_path: Path):
    """PTB-XL's teacher reads whole records: its outputs are spread over windows, not aligned."""
    kw = {"root": ptbxl_root, "cache_root": tmp_path, "quick": False, "progress": False}
    windows = ptbxl.load_ptbxl(view="windows", **kw)
    records = ptbxl.load_ptbxl(view="records", filters="recipe", **kw)
    assert windows.test.same_rows(windows.test)
    assert not records.test.same_rows(windows.test)
    assert records.report["filters"] == "recipe"


def test_read_student_lead_names_a_missing_record(ptbxl_root: Path):
    raw, fs = ptbxl.read_student_lead(ptbxl_root, 1)
    assert raw.shape == (1, 1000) and fs == 100
    with pytest.raises(DataError, match="ecg_id 999"):
        ptbxl.read_student_lead(ptbxl_root, 999)


def write_two_leads(folder: Path, name: str, level: float, samples: int = 1000) -> None:
    wfdb.wrsamp(
        name,
        fs=100,
        units=["mV"] * 2,
        sig_name=["I", "II"],
        p_signal=np.zeros((samples, 2)) + level,
        fmt=["16"] * 2,
        adc_gain=[1000.0] * 2,
        baseline=[0] * 2,
        write_dir=str(folder),
    )


def test_a_process_reads_a_record_once_until_its_files_change(tmp_path: Path, monkeypatch):
    write_two_leads(tmp_path, "a", 0.1)
    first, fs = ptbxl.read_leads(tmp_path / "a", ("II",), None)
    reads = []
    real = wfdb.rdrecord
    monkeypatch.setattr(ptbxl.wfdb, "rdrecord", lambda *a, **k: reads.append(a) or real(*a, **k))
    again, _ = ptbxl.read_leads(tmp_path / "a", ("I", "II"), None)  # kept: the header not parsed
    assert not reads and fs == 100 and np.array_equal(again[1], first[0])
    again[:] = 5.0  # the caller's copy, not the kept record
    assert np.allclose(ptbxl.read_leads(tmp_path / "a", ("II",), None)[0], 0.1)
    write_two_leads(tmp_path, "a", 0.2, samples=2000)  # the files changed: read again
    changed, _ = ptbxl.read_leads(tmp_path / "a", ("II",), None)
    assert changed.shape == (1, 2000) and np.allclose(changed, 0.2) and len(reads) == 1
    monkeypatch.setattr(ptbxl._RECORDS, "limit", 1)  # a full store drops its oldest records
    write_two_leads(tmp_path, "b", 0.3)
    ptbxl.read_leads(tmp_path / "b", ("II",), None)
    assert [key[0] for key in ptbxl._RECORDS.keys()] == [str(tmp_path / "b")]
