"""The download helpers, run offline: wfdb's downloader is replaced by a fake PhysioNet."""

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from ecgkd.data import ChecksumError, download


class FakePhysioNet:
    """Serves files from memory like ``wfdb.dl_files`` and records what was asked for."""

    def __init__(self, files: dict[str, dict[str, bytes]]) -> None:
        self.files = files
        self.requests: list[tuple[str, list[str]]] = []

    def dl_files(
        self,
        db: str,
        dl_dir: str,
        files: list[str],
        keep_subdirs: bool = True,
        overwrite: bool = False,
    ):
        self.requests.append((db, list(files)))
        for name in files:
            target = Path(dl_dir) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.files[db][name])


def sums(files: dict[str, bytes]) -> bytes:
    return "".join(f"{hashlib.sha256(v).hexdigest()}  {k}\n" for k, v in files.items()).encode()


def test_download_mitdb_asks_for_all_48_records_and_verifies(tmp_path: Path, monkeypatch):
    content = {
        f"{r}.{e}": f"{r}{e}".encode()
        for r in download.MITDB_RECORDS
        for e in ("hea", "dat", "atr")
    }
    content["RECORDS"] = b"\n".join(r.encode() for r in download.MITDB_RECORDS)
    content["SHA256SUMS.txt"] = sums(content)
    fake = FakePhysioNet({"mitdb": content})
    monkeypatch.setattr(download.wfdb, "dl_files", fake.dl_files)
    folder = download.download_mitdb(tmp_path)
    assert (
        len(download.MITDB_RECORDS) == 48
        and "102" in download.MITDB_RECORDS
        and "110" not in download.MITDB_RECORDS
    )
    assert folder == tmp_path / "mitdb" and (folder / "234.atr").read_bytes() == b"234atr"
    assert fake.requests[0][0] == "mitdb" and len(fake.requests[0][1]) == 2 + 3 * 48


def test_download_ptbxl_fetches_records_listed_in_the_table(tmp_path: Path, monkeypatch):
    table = pd.DataFrame(
        {
            "ecg_id": [1, 2],
            "filename_lr": ["records100/00000/00001_lr", "records100/00000/00002_lr"],
            "filename_hr": ["records500/00000/00001_hr", "records500/00000/00002_hr"],
        }
    )
    content = {"ptbxl_database.csv": table.to_csv(index=False).encode(), "scp_statements.csv": b"x"}
    for col in ("filename_lr", "filename_hr"):
        content.update({f"{n}.{e}": n.encode() for n in table[col] for e in ("hea", "dat")})
    content["SHA256SUMS.txt"] = sums(content)
    fake = FakePhysioNet({"ptb-xl": content})
    monkeypatch.setattr(download.wfdb, "dl_files", fake.dl_files)
    download.download_ptbxl(tmp_path)
    assert fake.requests[1][1] == [
        f"records100/00000/0000{i}_lr.{e}" for i in (1, 2) for e in ("hea", "dat")
    ]
    download.download_ptbxl(tmp_path, include_500hz=True)
    assert sum("records500" in f for f in fake.requests[-1][1]) == 4


def test_corrupt_download_is_caught(tmp_path: Path, monkeypatch):
    content = {f"{r}.{e}": b"ok" for r in download.MITDB_RECORDS for e in ("hea", "dat", "atr")}
    content["RECORDS"] = b""
    content["SHA256SUMS.txt"] = sums(content)
    content["100.dat"] = b"corrupted in transit"
    monkeypatch.setattr(download.wfdb, "dl_files", FakePhysioNet({"mitdb": content}).dl_files)
    with pytest.raises(ChecksumError, match=r"100\.dat"):
        download.download_mitdb(tmp_path)


def test_cli_parses_arguments(tmp_path: Path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(download, "download_mitdb", lambda dest: calls.append(("mitdb", dest)))
    monkeypatch.setattr(
        download, "download_ptbxl", lambda dest, hr: calls.append(("ptb-xl", dest, hr))
    )
    download.main(["--dest", str(tmp_path), "--only", "ptb-xl", "--ptbxl-500hz"])
    assert calls == [("ptb-xl", tmp_path, True)] and "ECGKD_DATA=" in capsys.readouterr().out
