from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_DATA, SHARED_DATA, synthetic_ecg, write_checksums, write_mitdb_record
from ecgkd.data import ChecksumError, DataError, mitbih, overlap_report, student_filters
from ecgkd.data.integrity import ChecksumIndex


def test_symbol_mapping_follows_aami():
    expected = {
        "N": "N",
        "L": "N",
        "R": "N",
        "e": "N",
        "j": "N",
        "A": "S",
        "a": "S",
        "J": "S",
        "S": "S",
        "V": "V",
        "E": "V",
        "F": "F",
        "/": "Q",
        "f": "Q",
        "Q": "Q",
    }
    assert {s: mitbih.aami_class(s) for s in expected} == expected
    for non_beat in ["+", "~", "|", "x", "!", "[", "]", '"']:
        assert mitbih.aami_class(non_beat) is None
    assert [mitbih.binary_label(c) for c in "NSVFQ"] == [0, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="unknown AAMI"):
        mitbih.binary_label("Z")


def test_windows_at_record_edges_are_dropped_and_counted(tmp_path: Path):
    root = tmp_path
    n = 3600
    # first beat too close to the start, last too close to the end, the rest fine; '+' is a rhythm
    # label
    beats = np.array(
        [mitbih.PRE_R - 1, mitbih.PRE_R, 1000, 2000, n - mitbih.POST_R, n - mitbih.POST_R + 1, 3000]
    )
    symbols = ["N", "V", "A", "+", "N", "F", "N"]
    order = np.argsort(beats)
    write_mitdb_record(root / "mitdb", "100", beats[order], [symbols[i] for i in order], n=n)
    beats_read = mitbih.read_record(root, "100")
    assert beats_read.ignored == {"+": 1}
    x, kept, dropped = mitbih.beat_windows(beats_read)
    assert x.shape == (len(kept), 1, 256) and x.dtype == np.float32
    assert sorted(beats_read.r_peaks[kept].tolist()) == [
        mitbih.PRE_R,
        1000,
        3000,
        n - mitbih.POST_R,
    ]
    assert sorted((d["sample"], d["reason"], d["aami"]) for d in dropped) == [
        (mitbih.PRE_R - 1, "edge", "N"),
        (n - mitbih.POST_R + 1, "edge", "F"),
    ]


def test_window_is_centred_as_documented(tmp_path: Path):
    beats = np.array([900, 1800, 2700])
    write_mitdb_record(tmp_path / "mitdb", "100", beats, ["N"] * 3)
    x, kept, _ = mitbih.beat_windows(mitbih.read_record(tmp_path, "100"))
    assert np.all(
        x[:, 0].argmax(axis=1) == mitbih.PRE_R
    )  # the R peak sits at sample 90 of each window


def test_nan_and_flat_windows_are_dropped_and_counted(tmp_path: Path):
    n, fs = 3600, 360
    beats = np.array([500, 1500, 2500, 3200])
    ecg = synthetic_ecg(n, fs, beats)
    ecg[1480:1490] = np.nan  # missing samples inside beat 2
    ecg[2300:2800] = 0.3  # lead off: flat line over beat 3
    write_mitdb_record(
        tmp_path / "mitdb",
        "100",
        beats,
        ["N", "V", "N", "N"],
        p_signal=np.stack([ecg, ecg], axis=1),
    )
    x, kept, dropped = mitbih.beat_windows(mitbih.read_record(tmp_path, "100"))
    assert {d["sample"]: d["reason"] for d in dropped} == {1500: "nan", 2500: "flat"}
    assert len(kept) == 2 and np.isfinite(x).all()


def test_mlii_found_by_name_not_position(tmp_path: Path):
    beats = np.array([900, 1800])
    ecg = synthetic_ecg(3600, 360, beats)
    write_mitdb_record(
        tmp_path / "mitdb",
        "114",
        beats,
        ["N", "N"],
        sig_names=("V5", "MLII"),
        p_signal=np.stack([0.1 * ecg, ecg], axis=1),
    )
    read = mitbih.read_record(tmp_path, "114")
    assert read.raw.max() == pytest.approx(ecg.max(), abs=0.01)


def test_record_without_mlii_is_a_clear_error(tmp_path: Path):
    write_mitdb_record(tmp_path / "mitdb", "102", np.array([900]), ["N"], sig_names=("V5", "V2"))
    with pytest.raises(DataError, match=r"102\.hea: no MLII lead \(signals: V5, V2\)"):
        mitbih.read_record(tmp_path, "102")


def test_other_sampling_rate_is_a_clear_error(tmp_path: Path):
    write_mitdb_record(tmp_path / "mitdb", "100", np.array([900]), ["N"], fs=250, n=2500)
    with pytest.raises(DataError, match="sampling rate 250"):
        mitbih.read_record(tmp_path, "100")


def test_missing_record_names_the_file_and_how_to_get_data(tmp_path: Path):
    with pytest.raises(DataError, match=r"mitdb/100\.hea.*ecgkd\.data\.download"):
        mitbih.read_record(tmp_path, "100")
    with pytest.raises(DataError, match="MIT-BIH folder not found"):
        mitbih.load_mitbih(root=tmp_path, cache_root=tmp_path / "cache", progress=False)


def test_checksum_mismatch_names_the_file(mitdb_root: Path):
    dat = mitdb_root / "mitdb" / "100.dat"
    data = bytearray(dat.read_bytes())
    data[100] ^= 0xFF
    dat.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=r"checksum mismatch for .*mitdb/100\.dat"):
        mitbih.read_record(mitdb_root, "100", ChecksumIndex(mitdb_root))


def test_unlisted_files_are_reported_not_silent(tmp_path: Path):
    write_mitdb_record(tmp_path / "mitdb", "100", np.array([900]), ["N"])
    index = ChecksumIndex(tmp_path)
    mitbih.read_record(tmp_path, "100", index)
    assert index.summary() == {"verified": 0, "unlisted": 3}
    with pytest.warns(UserWarning, match="3 file"):
        index.warn_unlisted("MIT-BIH")


def test_load_splits_are_record_disjoint_and_cached(mitdb_root: Path, tmp_path: Path):
    cache_root = tmp_path / "cache"
    data = mitbih.load_mitbih(root=mitdb_root, cache_root=cache_root, quick=False, progress=False)
    assert set(np.unique(data.val.record)) == set(mitbih.VAL_RECORDS)
    assert set(np.unique(data.test.record)) == set(mitbih.DS2)
    assert set(np.unique(data.train.record)) == set(mitbih.DS1) - set(mitbih.VAL_RECORDS)
    composition = mitbih.validation_composition(data)
    assert list(composition.index) == sorted(mitbih.VAL_RECORDS)
    assert composition["share of abnormal beats"].sum() == pytest.approx(1.0)
    assert overlap_report(data.splits, "record").empty
    assert overlap_report(data.splits, "patient")["patient"].tolist() == [
        "201+202"
    ]  # same subject, shown
    for s in data.splits.values():
        assert np.array_equal(s.y, (s.aami != "N").astype(int)) and s.x.shape[1:] == (1, 256)
    assert data.report["checksums"]["verified"] == 3 * 44
    again = mitbih.load_mitbih(root=mitdb_root, cache_root=cache_root, quick=False, progress=False)
    assert (
        np.array_equal(again.train.x, data.train.x)
        and len(list((cache_root / "data").glob("*.npz"))) == 1
    )
    # a changed input file gives a new cache entry instead of reusing the stale one
    write_mitdb_record(mitdb_root / "mitdb", "100", np.array([900, 1800]), ["N", "V"])
    write_checksums(mitdb_root)
    changed = mitbih.load_mitbih(
        root=mitdb_root, cache_root=cache_root, quick=False, progress=False
    )
    assert len(list((cache_root / "data").glob("*.npz"))) == 2
    assert (changed.test.record == "100").sum() == 2


def test_validation_records_must_come_from_ds1(mitdb_root: Path, tmp_path: Path):
    with pytest.raises(ValueError, match="not DS1 records"):
        mitbih.load_mitbih(
            root=mitdb_root, cache_root=tmp_path, val_records=["100"], progress=False
        )


def test_repo_sample_loads_in_quick_mode(tmp_path: Path):
    data = mitbih.load_mitbih(root=REPO_DATA, cache_root=tmp_path, quick=True, progress=False)
    table = mitbih.class_table(data)
    assert table.loc["test", "records"] == 22
    assert table.loc["val", "records"] == len(mitbih.VAL_RECORDS) == 5
    assert all(table.loc[s, c] > 0 for s in ("train", "test") for c in "NSVF")
    # the validation records' F beats come after their first 5 minutes: quick mode has N, S, V
    assert all(table.loc["val", c] > 0 for c in "NSV")
    assert data.report["checksums"] == {"verified": 132, "unlisted": 0}


@pytest.mark.skipif(
    not (SHARED_DATA / "mitdb").is_dir(), reason="full MIT-BIH not beside the repository"
)
def test_repo_sample_equals_the_first_minutes_of_the_originals(tmp_path: Path):
    sample = mitbih.load_mitbih(root=REPO_DATA, cache_root=tmp_path, quick=True, progress=False)
    full = mitbih.load_mitbih(root=SHARED_DATA, cache_root=tmp_path, quick=True, progress=False)
    for name in ("train", "val", "test"):
        assert np.array_equal(sample[name].x, full[name].x) and np.array_equal(
            sample[name].aami, full[name].aami
        )


@pytest.mark.skipif(
    not (SHARED_DATA / "mitdb").is_dir(), reason="full MIT-BIH not beside the repository"
)
def test_full_mitbih_matches_de_chazal(tmp_path: Path):
    data = mitbih.load_mitbih(root=SHARED_DATA, cache_root=tmp_path, quick=False, progress=False)
    table = mitbih.dechazal_comparison(data)
    assert (table["annotated"] == table["de Chazal 2004"]).all()
    lost = table["lost: edge"] + table["lost: nan"] + table["lost: flat"]
    assert (table["windows"] + lost == table["annotated"]).all()
    assert (
        table.loc[("DS1", "total"), "lost: edge"] == 19
        and table.loc[("DS2", "total"), "lost: edge"] == 20
    )
    assert (table["lost: nan"] + table["lost: flat"]).sum() == 0
    # every lost beat is the first or last beat of its record, within one window of the edge
    for row in data.report["dropped"]:
        assert row["sample"] < mitbih.PRE_R or row["sample"] > 650000 - mitbih.POST_R


def test_preparing_twice_gives_identical_arrays(mitdb_root: Path, tmp_path: Path):
    """Same inputs, same numbers: two independent preparations (no shared cache) agree bit for
    bit."""
    a = mitbih.load_mitbih(root=mitdb_root, cache_root=tmp_path / "a", quick=False, progress=False)
    b = mitbih.load_mitbih(root=mitdb_root, cache_root=tmp_path / "b", quick=False, progress=False)
    for name in ("train", "val", "test"):
        assert a[name].fingerprint() == b[name].fingerprint()


@pytest.mark.skipif(not (SHARED_DATA / "mitdb" / "223.atr").is_file(), reason="full MIT-BIH absent")
def test_no_record_dominates_the_validation_set():
    """On the full records: N, S, V and F all in validation, no record above 30% of its abnormal
    beats (the earlier choice had 74% in record 223), counted from the annotations themselves."""
    import wfdb

    abnormal, classes = {}, set()
    for record in mitbih.VAL_RECORDS:
        symbols = wfdb.rdann(str(SHARED_DATA / "mitdb" / record), "atr").symbol
        aami = [mitbih.SYMBOL_TO_AAMI[s] for s in symbols if s in mitbih.SYMBOL_TO_AAMI]
        classes |= set(aami)
        abnormal[record] = sum(a != "N" for a in aami)
    total = sum(abnormal.values())
    assert {"N", "S", "V", "F"} <= classes
    assert max(abnormal.values()) / total <= 0.30, abnormal


def test_filters_change_the_signal_not_the_windows(mitdb_root: Path, tmp_path: Path):
    """The MIT-BIH teacher under the recipe (released weights) reads the students' very windows."""
    load = lambda f: mitbih.load_mitbih(  # noqa: E731
        root=mitdb_root, cache_root=tmp_path, quick=False, filters=f, progress=False
    )
    recipe, ours = load("recipe"), load(student_filters("mitbih"))
    for name in ("train", "val", "test"):
        assert recipe[name].same_rows(ours[name])
        assert not np.allclose(recipe[name].x, ours[name].x)
    assert len(list((tmp_path / "data").glob("mitbih-*.npz"))) == 2
    assert recipe.report["filters"] == "recipe"
    with pytest.raises(ValueError, match="filters='none'"):
        load("none")


def test_rhythm_features_come_from_each_records_own_beats(mitdb_root: Path, tmp_path: Path):
    from ecgkd.data.rhythm import RHYTHM_FEATURES, rr_features

    fast = np.arange(100, 3500, 216)  # record 100 at 100 beats/min, its neighbours at 60
    write_mitdb_record(mitdb_root / "mitdb", "100", fast, ["N"] * len(fast))
    write_checksums(mitdb_root)
    test = mitbih.load_mitbih(
        root=mitdb_root, cache_root=tmp_path, quick=False, progress=False
    ).test
    assert test.rhythm.shape == (len(test), len(RHYTHM_FEATURES))
    for record, peaks in (("100", fast), ("103", np.arange(180, 3600, 360))):
        rows = test.record == record
        kept = np.searchsorted(peaks, test.start[rows] + mitbih.PRE_R)
        assert np.array_equal(test.rhythm[rows], rr_features(peaks, mitbih.FS)[kept])
    median_rr = test.rhythm[:, RHYTHM_FEATURES.index("median_rr")]
    assert np.allclose(median_rr[test.record == "100"], 0.6)
    assert np.allclose(median_rr[test.record != "100"], 1.0)
    ahead = mitbih.load_mitbih(
        root=mitdb_root, cache_root=tmp_path, quick=False, progress=False, rhythm_set="lookahead"
    ).test
    assert ahead.same_rows(test) and len(list((tmp_path / "data").glob("mitbih-*.npz"))) == 2
    rows = ahead.record == "100"
    kept = np.searchsorted(fast, ahead.start[rows] + mitbih.PRE_R)
    expected = rr_features(fast, mitbih.FS, feature_set="lookahead")[kept]
    assert np.array_equal(ahead.rhythm[rows], expected)
    with pytest.raises(ValueError, match="rhythm_set='psychic'"):
        mitbih.load_mitbih(root=mitdb_root, cache_root=tmp_path, rhythm_set="psychic")
