"""Killed and resumed, nothing lost (issue 33, item 4): the command line in quick mode on MIT-BIH,
killed with SIGKILL in the middle of the teacher stage (while a fold teacher of the teacher with
rhythm trains) and again in the middle of the students' grid, then run to the end. Its tables must
equal an uninterrupted run's, no cache file may be half-written, and the grid runs finished before
the second kill must not run again.

The uninterrupted run is the one this checkout's cache holds (the book's build trained it): the
same command on that cache trains nothing and writes the reference tables. The killed run starts
from a copy of part of that cache, so that it trains what the kills need and no more: every teacher
but the first fold teacher of the one with rhythm (reloaded as trained), their saved outputs but the
cross-fitted targets that fold teacher makes, and the grid's finished runs but :data:`LEFT` of
them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from ecgkd import cache, config
from ecgkd.students import StudentData, classical_grid, classical_jobs
from ecgkd.students.stage import window_only_jobs
from ecgkd.teacher.stage import prepare_teacher, window_only_teacher

pytestmark = pytest.mark.book  # reads what the book build made (make test: after it)

COMMAND = ["--quick", "--datasets", "mitbih", "--stages", "data", "teacher", "students"]
TIMINGS = ("seconds",)
GRID = "results/students-quick-mitbih.csv"
LEFT = 4  # grid runs the killed run trains: two before the second kill, two after it


def start(out: Path, cache_root: Path) -> subprocess.Popen:
    """The command line in a process of its own (so that SIGKILL ends it as a crash would)."""
    env = os.environ | {
        "ECGKD_CACHE": str(cache_root),
        "ECGKD_QUICK": "1",
        "ECGKD_PROGRESS": "0",
        "ECGKD_JOBS": "2",
    }
    args = [sys.executable, "-m", "ecgkd", *COMMAND, "--out", str(out), "--no-progress"]
    return subprocess.Popen(
        args,
        env=env,
        cwd=config.project_root(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the grid's workers die with it
    )


def kill_when(process: subprocess.Popen, ready, what: str, limit: float = 600) -> None:
    """SIGKILL ``process`` (and the grid's workers it started) as soon as ``ready()`` holds."""
    started = time.monotonic()
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"the run ended before {what}: {process.stderr.read().decode()[-2000:]}")
        if time.monotonic() - started > limit:
            process.kill()
            pytest.fail(f"{what} did not happen within {limit} s")
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def copy_from_the_book(cache_root: Path) -> tuple[list[str], int]:
    """Copy into ``cache_root`` the book's teachers but the first fold teacher of the one with
    rhythm (their folders, as trained: reloaded, not retrained), their saved outputs but the
    cross-fitted targets that fold teacher makes, and the rows and weights of the students stage's
    grid runs but the last :data:`LEFT` of its T x alpha grid. Returns (the teachers' folder names,
    the grid rows copied)."""
    book = config.load(quick=True)
    if book.cache_root == cache_root.resolve():
        raise ValueError("copy from the book's cache into another one")
    teacher = prepare_teacher(book, "mitbih", progress=False)
    window = window_only_teacher(book, "mitbih", progress=False)
    crossed = teacher.cross_fitted  # its first fold teacher is trained again, and killed
    runs = [teacher.run, *crossed.runs[1:], window.run, *window.cross_fitted.runs]
    folders = [run.checkpoint.parent for run in runs]
    for folder in folders:
        shutil.copytree(folder, cache_root / "teacher" / folder.name)
    redone = f"mitbih-crossfit{len(crossed.runs)}-{crossed.fingerprint}.npz"
    outputs = cache_root / "teacher_outputs"
    outputs.mkdir(parents=True)
    for path in (book.cache_root / "teacher_outputs").glob("mitbih-*.npz"):
        if path.name != redone:
            shutil.copy2(path, outputs / path.name)
    assert (book.cache_root / "teacher_outputs" / redone).is_file(), "the book lacks its targets"
    data, runner = StudentData.from_teacher(teacher), classical_grid(book, "mitbih")
    jobs = classical_jobs(book, "mitbih")
    stage = jobs + window_only_jobs(runner.finished(jobs, data))
    keep = {runner.select(job, data).key for job in stage} - {
        runner.select(job, data).key for job in jobs[-LEFT:]
    }
    source, target = book.cache_root / GRID, cache_root / GRID
    rows = cache.read_table(source)
    rows = rows[rows["key"].isin(keep)]
    assert len(rows) == len(stage) - LEFT, "the book's cache lacks runs of the students stage"
    target.with_suffix("").mkdir(parents=True)
    rows.to_csv(target, index=False)
    for key in rows["key"]:
        for path in source.with_suffix("").glob(f"{key}.*"):
            shutil.copy2(path, target.with_suffix("") / path.name)
    return [folder.name for folder in folders], len(rows)


def grid_rows(cache_root: Path) -> int:
    path = cache_root / GRID
    try:
        return len(pd.read_csv(path)) if path.is_file() else 0
    except (pd.errors.ParserError, pd.errors.EmptyDataError):  # never: it is written atomically
        pytest.fail(f"{path} was read half-written")


def every_cache_file_reads(cache_root: Path) -> None:
    """Every file under the cache opens as what it claims to be; leftovers of an interrupted
    atomic write are temporary files that nothing ever reads."""
    for path in cache_root.rglob("*"):
        if not path.is_file() or path.name.endswith(".tmp"):
            continue
        if path.suffix == ".npz":
            cache.load_arrays(path)
        elif path.suffix in (".pt", ".pth"):
            cache.load_torch(path)
        elif path.suffix == ".csv":
            cache.read_table(path)


def same_tables(ours: Path, reference: Path, names: tuple[str, ...]) -> None:
    for name in names:
        a, b = pd.read_csv(ours / f"{name}.csv"), pd.read_csv(reference / f"{name}.csv")
        drop = [c for c in TIMINGS if c in a]
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop), obj=name)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_killed_twice_then_resumed_equals_an_uninterrupted_run(tmp_path):
    fresh = tmp_path / "cache"
    teachers = fresh / "teacher"
    copied, copied_rows = copy_from_the_book(fresh)

    # 1. killed while a teacher trains: one epoch saved, the stage not finished
    process = start(tmp_path / "run1", fresh)
    kill_when(
        process,
        lambda: any(teachers.glob("*/fit-state.pt")),
        "a teacher's first saved epoch",
    )
    assert not (tmp_path / "run1" / "teacher.csv").exists()
    trained = [f.parent.name for f in teachers.glob("*/fit-state.pt")]
    assert trained and not set(trained) & set(copied), "killed while a copied teacher trained"
    every_cache_file_reads(fresh)
    # 2. killed in the middle of the grid, after its first runs were appended
    process = start(tmp_path / "run2", fresh)
    kill_when(
        process, lambda: grid_rows(fresh) >= copied_rows + 2, "the grid's second finished run"
    )
    every_cache_file_reads(fresh)
    finished = pd.read_csv(fresh / GRID)
    stamps = {
        key: (fresh / GRID).with_suffix("").joinpath(f"{key}.pt").stat().st_mtime_ns
        for key in finished["key"]
    }
    # 3. resumed to the end
    process = start(tmp_path / "run3", fresh)
    assert process.wait(timeout=900) == 0, process.stderr.read().decode()[-3000:]
    every_cache_file_reads(fresh)
    runs = pd.read_csv(fresh / GRID)
    assert runs["key"].is_unique, "a run was recorded twice"
    assert len(runs) == copied_rows + LEFT, "the resumed run trained other runs than those left"
    for key, stamp in stamps.items():  # finished before the kill: reloaded, not trained again
        assert (fresh / GRID).with_suffix("").joinpath(f"{key}.pt").stat().st_mtime_ns == stamp
    # the reference: the same command on the cache the book's build filled, training nothing
    reference = tmp_path / "reference"
    env = os.environ | {"ECGKD_QUICK": "1", "ECGKD_PROGRESS": "0"}
    env.pop("ECGKD_CACHE", None)
    subprocess.run(
        [sys.executable, "-m", "ecgkd", *COMMAND, "--out", str(reference), "--no-progress"],
        env=env,
        cwd=config.project_root(),
        check=True,
        capture_output=True,
    )
    same_tables(tmp_path / "run3", reference, ("data", "teacher", "students", "students_summary"))


def test_the_check_catches_a_half_written_checkpoint(tmp_path):
    """What the test above relies on: a plain write cut short is caught."""
    path = tmp_path / "fit-state.pt"
    torch.save({"weights": torch.zeros(10_000)}, path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(cache.CacheError, match="Delete this file"):
        every_cache_file_reads(tmp_path)
