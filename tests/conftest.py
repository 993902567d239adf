"""Synthetic WFDB databases for unit tests (real data is for the notebooks and the data tests)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import wfdb

from ecgkd.config import project_root
from ecgkd.data import mitbih, ptbxl
from ecgkd.data.rhythm import N_RHYTHM
from ecgkd.data.split import Split
from ecgkd.students.inputs import StudentData

REPO_DATA = project_root() / "data"
SHARED_DATA = project_root().parent / "shared" / "data"
# Started first, so that with pytest-xdist's workers (make test) the longest test does not run
# alone at the end: the CLI end to end, and the CLI killed and resumed (a minute and a half each).
FIRST = ("test_reproduce.py", "test_resume.py")


def pytest_configure(config: pytest.Config) -> None:
    """One torch thread in each test process. With pytest-xdist's two workers on two cores, two
    processes of two threads each spin against each other: a teacher's training step ran about
    three times slower than alone. Inference gives the same numbers on any thread count, so the
    CLI's reloads in tests/test_reproduce.py still equal the book's; a model trained in a test is
    compared only with one trained in tests. The CLIs that tests start as subprocesses keep
    torch's default, the book's (tests/test_resume.py retrains teachers and compares them with the
    book's)."""
    torch.set_num_threads(1)
    if os.environ.get(BESIDE_THE_BOOK):
        take_the_lowest_priority()


BESIDE_THE_BOOK = "ECGKD_TESTS_BESIDE_BOOK"  # make test: set for the tests it runs beside the build


def take_the_lowest_priority() -> None:
    """This process, and those it starts, compute only when the book's notebooks leave a core
    idle. ``nice`` alone does not do it on Linux: with autogroups, the scheduler first shares the
    cores between sessions, each notebook kernel is a session of its own (jupyter_client), and a
    niced test would still take half of them. So the process starts a session and sets that
    session's priority (``/proc/self/autogroup``) as well as its own; where there is no autogroup
    (macOS, some kernels), ``nice`` is enough."""
    try:
        os.setsid()
    except OSError:  # already a session's leader
        pass
    try:
        Path("/proc/self/autogroup").write_text("19")
    except OSError:
        pass
    os.nice(19 - os.nice(0))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name not in FIRST)  # stable: the rest keep their order


@pytest.fixture(autouse=True)
def book_cache_unused(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> object:
    """Beside the book's build (``make test`` runs the tests not marked ``book`` while the
    notebooks execute), a test must not use the cache the build is filling: it gets an empty one
    (``ECGKD_CACHE``), and fails if it wrote there, with the marker to add."""
    if not os.environ.get(BESIDE_THE_BOOK) or request.node.get_closest_marker("book"):
        yield
        return
    cache = tmp_path_factory.mktemp("not-the-books-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECGKD_CACHE", str(cache))
        yield
    if used := sorted(str(p.relative_to(cache)) for p in cache.rglob("*")):
        pytest.fail(
            f"{request.node.nodeid} used the shared cache ({', '.join(used[:3])}): it needs "
            "what the book build makes, so mark it @pytest.mark.book (make test runs it after)"
        )


def executed_code_cells(executed: Path) -> list:
    """The code cells of a notebook the book build executed (``make book``, which ``make test``
    runs first); without it the test is skipped, or fails under CI."""
    import os

    import nbformat

    if not executed.is_file():
        message = f"{executed} missing: `make book` executes the notebooks, then run the tests"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return [c for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code"]


def synthetic_ecg(n: int, fs: float, beats: np.ndarray, seed: int = 0) -> np.ndarray:
    """A crude ECG in mV: a Gaussian QRS spike at each beat on a little noise (tests only)."""
    t = np.arange(n)
    sig = 0.02 * np.random.default_rng(seed).standard_normal(n)
    for b in beats:
        sig += 1.2 * np.exp(-0.5 * ((t - b) / (0.012 * fs)) ** 2)
    return sig


def write_mitdb_record(
    folder: Path,
    record: str,
    beats: np.ndarray,
    symbols: list[str],
    n: int = 3600,
    sig_names: tuple[str, ...] = ("MLII", "V1"),
    fs: int = 360,
    p_signal: np.ndarray | None = None,
) -> None:
    """A two-lead MIT-BIH-like record with annotations, written by wfdb in format 212."""
    folder.mkdir(parents=True, exist_ok=True)
    if p_signal is None:
        ecg = synthetic_ecg(n, fs, beats)
        p_signal = np.stack([ecg if name == "MLII" else 0.5 * ecg for name in sig_names], axis=1)
    gain = 200.0
    d_signal = np.round(np.nan_to_num(p_signal, nan=0.0) * gain).astype(np.int64)
    d_signal[np.isnan(p_signal)] = -2048  # format 212's missing-sample value
    wfdb.wrsamp(
        record,
        fs=fs,
        units=["mV"] * len(sig_names),
        sig_name=list(sig_names),
        d_signal=d_signal,
        fmt=["212"] * len(sig_names),
        adc_gain=[gain] * len(sig_names),
        baseline=[0] * len(sig_names),
        write_dir=str(folder),
    )
    wfdb.wrann(
        record,
        "atr",
        np.asarray(beats, dtype=np.int64),
        symbol=list(symbols),
        fs=fs,
        write_dir=str(folder),
    )


def write_checksums(root: Path) -> None:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    (root / "SHA256SUMS").write_text(
        "".join(
            f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}\n"
            for p in files
        )
    )


@pytest.fixture
def mitdb_root(tmp_path: Path) -> Path:
    """All 44 DS1/DS2 records, 10 s each: beats every second, one S, V, F or Q beat per record."""
    root = tmp_path / "data"
    for i, record in enumerate(mitbih.DS1 + mitbih.DS2):
        beats = np.arange(180, 3600, 360)
        symbols = ["N"] * len(beats)
        symbols[3] = "AVFQ"[i % 4]
        write_mitdb_record(root / "mitdb", record, beats, symbols)
    write_checksums(root)
    return root


@pytest.fixture
def ptbxl_root(tmp_path: Path) -> Path:
    """A PTB-XL-like folder: 12 records over the 10 folds, 12 leads at 100 Hz, real SCP table
    layout; one patient has records in two splits (train and validation), which must show."""
    root = tmp_path / "data"
    folder = root / "ptb-xl"
    statements = pd.DataFrame(
        {
            "description": [
                "normal ECG",
                "anterior MI",
                "ST-T change",
                "LBBB",
                "LVH",
                "sinus rhythm",
            ],
            "diagnostic": [1.0, 1.0, 1.0, 1.0, 1.0, np.nan],
            "rhythm": [np.nan] * 5 + [1.0],
            "diagnostic_class": ["NORM", "MI", "STTC", "CD", "HYP", np.nan],
        },
        index=pd.Index(["NORM", "AMI", "NDT", "CLBBB", "LVH", "SR"]),
    )
    folder.mkdir(parents=True)
    statements.to_csv(folder / "scp_statements.csv")
    codes = [
        "{'NORM': 100.0, 'SR': 0.0}",
        "{'AMI': 50.0}",
        "{'NORM': 50.0, 'NDT': 50.0}",
        "{'SR': 0.0}",
        "{'CLBBB': 100.0}",
        "{'LVH': 50.0, 'SR': 0.0}",
    ]
    rows = []
    for i in range(12):
        ecg_id = i + 1
        name = f"records100/00000/{ecg_id:05d}_lr"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        ecg = synthetic_ecg(1000, 100, np.arange(50, 1000, 80), seed=i)
        signal = np.stack([ecg * (1 + 0.1 * k) for k in range(12)], axis=1)
        wfdb.wrsamp(
            f"{ecg_id:05d}_lr",
            fs=100,
            units=["mV"] * 12,
            sig_name=list(ptbxl.LEADS),
            p_signal=signal,
            fmt=["16"] * 12,
            adc_gain=[1000.0] * 12,
            baseline=[0] * 12,
            write_dir=str((folder / name).parent),
        )
        rows.append(
            {
                "ecg_id": ecg_id,
                # record 9 (fold 9, validation) belongs to the patient of record 1 (fold 1, train):
                # the overlap check must report it; records 2 and 12 share a patient and a fold
                "patient_id": float(100 + {8: 0, 11: 1}.get(i, i)),
                "scp_codes": codes[i % len(codes)],
                "strat_fold": i % 10 + 1,
                "filename_lr": name,
                "filename_hr": f"records500/00000/{ecg_id:05d}_hr",
            }
        )
    pd.DataFrame(rows).to_csv(folder / "ptbxl_database.csv", index=False)
    write_checksums(root)
    return root


def windows(name: str, n: int, seed: int, dataset: str = "mitbih") -> Split:
    """Synthetic one-lead windows; abnormal ones carry an 8 Hz sine (tests only)."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 0, 1], n // 3 + 1)[:n].astype(np.int64)
    t = np.arange(256) / 360
    x = rng.normal(scale=0.5, size=(n, 1, 256)) + y[:, None, None] * np.sin(2 * np.pi * 8 * t)
    rec = (
        np.array([f"{name}-{i // 4}" for i in range(n)])
        if dataset == "ptbxl"
        else np.array([f"{name}-{i}" for i in range(n)])
    )
    if dataset == "ptbxl":  # windows of one record share its label
        y = y[np.arange(n) // 4 * 4]
    return Split(
        name,
        dataset,
        x.astype(np.float32),
        y,
        rec,
        rec,
        np.zeros(n, np.int64),
        360,
        ("MLII",),
        rhythm=synthetic_rhythm(rng, y) if dataset == "mitbih" else None,
    )


def synthetic_rhythm(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """Rhythm features (n, 8) as MIT-BIH beats carry them: about 1, abnormal beats early (about
    0.7), so a model that reads them can tell the classes apart."""
    rhythm = np.abs(rng.normal(1.0, 0.05, size=(len(y), N_RHYTHM))) - 0.3 * y[:, None]
    return rhythm.astype(np.float32)


def student_data(dataset: str = "mitbih") -> StudentData:
    """Three small synthetic splits and a teacher whose logits follow the labels, with noise."""
    splits = {s: windows(s, 48, i, dataset) for i, s in enumerate(("train", "val", "test"))}
    teacher = {
        s: (4.0 * sp.y - 2.0 + np.random.default_rng(9).normal(size=len(sp))).astype(np.float32)
        for s, sp in splits.items()
    }
    return StudentData(splits, teacher, "stand-in teacher, not ECGFounder", "f" * 16)
