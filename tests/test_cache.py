from pathlib import Path

import numpy as np
import pytest

from ecgkd import cache


def test_fingerprint_ignores_dict_order_and_sees_changes():
    assert cache.fingerprint({"a": 1, "b": [1, 2]}) == cache.fingerprint({"b": [1, 2], "a": 1})
    assert cache.fingerprint({"a": 1}) != cache.fingerprint({"a": 2})
    assert cache.fingerprint({"p": Path("x/y"), "n": np.int64(3)}) == cache.fingerprint(
        {"p": "x/y", "n": 3}
    )
    with pytest.raises(TypeError, match="cannot fingerprint"):
        cache.fingerprint({"f": object()})


def test_save_and_load_round_trip(tmp_path: Path):
    arrays = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.array(["a", "b"])}
    cache.save_arrays(tmp_path / "a.npz", arrays, {"note": "hi", "n": 2})
    back, meta = cache.load_arrays(tmp_path / "a.npz")
    assert meta == {"note": "hi", "n": 2}
    assert np.array_equal(back["x"], arrays["x"]) and back["s"].tolist() == ["a", "b"]


def test_failed_write_leaves_nothing_behind(tmp_path: Path):
    target = tmp_path / "sub" / "out.npz"
    cache.save_arrays(target, {"x": np.zeros(2)}, {"v": 1})

    def explode(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        cache.atomic_write(target, explode)
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.npz"]  # no temp file left
    assert cache.load_arrays(target)[1] == {"v": 1}  # the old file is intact


def test_cached_arrays_builds_once_and_rebuilds_on_new_key(tmp_path: Path):
    calls = []

    def build():
        calls.append(1)
        return {"x": np.ones(3)}, {"built": len(calls)}

    path = tmp_path / "c.npz"
    _, meta1, hit1 = cache.cached_arrays(path, build, key="k1")
    _, meta2, hit2 = cache.cached_arrays(path, build, key="k1")
    _, meta3, hit3 = cache.cached_arrays(path, build, key="k2")  # stale: rebuilt, never reused
    assert (hit1, hit2, hit3) == (False, True, False) and len(calls) == 2 and meta3["built"] == 2


def test_file_stamp_changes_with_content(tmp_path: Path):
    f = tmp_path / "a.dat"
    f.write_bytes(b"1")
    before = cache.file_stamp([f], tmp_path)
    f.write_bytes(b"22")
    assert cache.file_stamp([f], tmp_path) != before and before[0][0] == "a.dat"


def truncate(path: Path) -> None:
    """Cut a file in half, as a disk full or a copy interrupted by hand would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_kept_makes_each_entry_once_and_drops_the_oldest_past_its_limit():
    made = []

    def make(value):
        return lambda: made.append(value) or value

    kept = cache.Kept(10, size=len)
    assert kept.get("a", make("aaaa")) == "aaaa" and kept.get("a", make("other")) == "aaaa"
    assert made == ["aaaa"]
    kept.get("b", make("bbbb"))
    kept.get("c", make("cccc"))  # 12 > 10: "a" goes, the oldest
    assert kept.keys() == ["b", "c"]
    kept.get("d", make("d" * 20))  # alone over the limit: kept, and the only entry
    assert kept.keys() == ["d"] and made == ["aaaa", "bbbb", "cccc", "d" * 20]
    counted = cache.Kept(2)  # default size: one per entry
    for key in "xyz":
        counted.get(key, make(key))
    assert counted.keys() == ["y", "z"]
    counted.clear()
    assert counted.keys() == [] and counted.get("y", make("again")) == "again"


def test_a_truncated_cache_file_is_named_with_what_to_delete(tmp_path: Path):
    import pandas as pd
    import torch

    from ecgkd import train

    arrays = cache.save_arrays(tmp_path / "a.npz", {"x": np.arange(1000)}, {"k": 1})
    weights = tmp_path / "run.pt"
    torch.save({"key": "k", "done": True, "state": torch.zeros(1000)}, weights)
    table = tmp_path / "runs.csv"
    pd.DataFrame({"key": ["a", "b"], "auroc": [0.5, 0.6]}).to_csv(table, index=False)
    table.write_text('key,auroc\n"a,0.5\n')  # an unterminated quote: not a table any more
    truncate(arrays)
    truncate(weights)
    for read, path in (
        (cache.load_arrays, arrays),
        (lambda p: train.finished_checkpoint(p, "k", train.TrainSettings()), weights),
        (cache.read_table, table),
    ):
        with pytest.raises(cache.CacheError) as caught:
            read(path)
        assert str(path) in str(caught.value) and "Delete this file" in str(caught.value)


def test_the_cli_reports_a_damaged_cache_file_in_one_line(tmp_path: Path, capsys, monkeypatch):
    """A damaged prepared-data file: exit status 2 and one line naming it, no traceback."""
    from ecgkd import cli

    monkeypatch.setenv("ECGKD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ECGKD_QUICK", "1")
    args = ["--stages", "data", "--datasets", "mitbih", "--out", str(tmp_path), "--no-progress"]
    assert cli.main(args) == 0
    (prepared,) = (tmp_path / "cache" / "data").glob("mitbih*.npz")
    truncate(prepared)
    capsys.readouterr()
    assert cli.main(args) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("ecgkd: error: ") and str(prepared) in error
