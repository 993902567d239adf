import numpy as np
import pytest

from ecgkd.data import PreparedData, Split, overlap_report


def make(name: str, records: list[str], n_per: int = 2) -> Split:
    n = len(records) * n_per
    rec = np.repeat(records, n_per)
    return Split(
        name,
        "toy",
        np.random.default_rng(0).standard_normal((n, 1, 8)).astype(np.float32),
        np.arange(n) % 2,
        rec,
        rec,
        np.arange(n),
        100.0,
        ("II",),
    )


def test_split_checks_alignment_and_labels():
    s = make("train", ["a", "b"])
    with pytest.raises(ValueError, match="y has 3 rows, x has 4"):
        Split("t", "toy", s.x, s.y[:3], s.record, s.patient, s.start, 100.0, ("II",))
    with pytest.raises(ValueError, match="0 \\(normal\\) and 1"):
        Split("t", "toy", s.x, s.y + 1, s.record, s.patient, s.start, 100.0, ("II",))
    with pytest.raises(ValueError, match="1 leads, names"):
        Split("t", "toy", s.x, s.y, s.record, s.patient, s.start, 100.0, ("I", "II"))


def test_subset_round_trip_and_fingerprint():
    s = make("train", ["a", "b", "c"])
    sub = s.subset(s.record != "b")
    assert len(sub) == 4 and set(sub.record) == {"a", "c"}
    back = Split.from_arrays(s.to_arrays(), "train", "toy", 100.0, ("II",))
    assert back.fingerprint() == s.fingerprint() and sub.fingerprint() != s.fingerprint()


def test_overlap_report_finds_shared_ids():
    splits = {"train": make("train", ["a", "b"]), "test": make("test", ["b", "c"])}
    assert overlap_report(splits, "record").to_dict("records") == [
        {"record": "b", "splits": "test, train"}
    ]
    assert overlap_report({"train": splits["train"]}, "record").empty


def test_prepared_data_summary():
    data = PreparedData(
        "toy",
        {"train": make("train", ["a"]), "val": make("val", ["b"]), "test": make("test", ["c"])},
    )
    summary = data.summary()
    assert summary.loc["train", "windows"] == 2 and summary.loc["test", "abnormal"] == 1
    with pytest.raises(KeyError, match="not 'dev'"):
        data["dev"]
