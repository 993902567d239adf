"""Benchmarks run in smoke mode so that they cannot rot (their numbers are not checked, their shape
is)."""

import importlib.util
from pathlib import Path

from ecgkd.students.stage import FULL_WIDTH, QUICK_WIDTH

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_teacher_benchmark_smoke(capsys):
    table = load("teacher").main(["--smoke"])
    assert (
        len(table) == 4
        and (table["infer windows/s"] > 0).all()
        and (table["train windows/s"] > 0).all()
    )
    full_1lead = table[(table.dataset == "mitbih") & table.teacher.str.startswith("full")]
    assert (
        int(full_1lead["parameters"].iloc[0]) == 30_807_750 - 149 * 1025
    )  # one-logit head instead of 150
    assert "SMOKE" in capsys.readouterr().out


def test_every_benchmark_is_run_in_smoke_mode_here():
    """A new benchmark without a smoke run below fails this test, so none can rot unseen."""
    import sys

    here = sys.modules[__name__]
    scripts = {p.stem for p in BENCH.glob("*.py")}
    smoked = {
        name.removeprefix("test_").split("_benchmark")[0]
        for name in dir(here)
        if name.startswith("test_") and "_benchmark_smoke" in name
    }
    assert scripts == smoked, f"benchmarks without a smoke test: {sorted(scripts - smoked)}"


def test_students_benchmark_smoke(capsys):
    table = load("students").main(["--smoke"])
    assert list(table["model"])[1:5] == [
        "ResNet-1D",
        "CNN-1D",
        f"ResNet-1D x{FULL_WIDTH['resnet1d']} (full mode)",
        f"ResNet-1D x{QUICK_WIDTH['resnet1d']} (quick mode)",
    ]
    assert table["model"].iloc[5].startswith("Wang")
    assert (table["parameters"].iloc[3:5] < table["parameters"].iloc[1]).all()  # narrower
    assert table["x teacher speed"].iloc[0] == 1.0 and (table["windows/s"] > 0).all()
    assert table["x teacher training speed"].iloc[0] == 1.0 and (table["train windows/s"] > 0).all()
    out = capsys.readouterr().out
    assert "goal" in out and "Wang's full-size ResNet" in out
    assert "full mode's ResNet-1D / full width, training" in out


def test_vqc_benchmark_smoke_gives_equal_results(capsys):
    table = load("vqc").main(["--smoke"])
    assert set(table["batch"]) == {8, 16} and (table["samples/s"] > 0).all()
    assert (table.loc[table.simulator == "ecgkd TorchVQC", "ecgkd speed-up"] == 1.0).all()
    out = capsys.readouterr().out
    diffs = {
        name: float(value)
        for name, value in (
            part.rsplit(" ", 1)
            for part in out.split("Statevector: ")[1].split("\n")[0].split(" (")[0].split(", ")
        )
    }
    # the same numbers, not just the same speed story: ours to 1e-12 of Qiskit's Statevector
    assert diffs["ecgkd"] < 1e-12 and diffs["ecgkd statevector path"] < 1e-12
    assert diffs["ecgkd autograd readout"] < 1e-12
    assert diffs["qiskit-ml default"] < 1e-6
    if "PennyLane" in diffs:
        assert diffs["PennyLane"] < 1e-12
    assert "goal" in out


def test_grid_parallel_benchmark_smoke(capsys):
    table = load("grid_parallel").main(["--smoke", "--cores", "2", "--students", "cnn1d"])
    assert list(table["student"]) == ["cnn1d"]
    assert (table[["1 process x 2 threads", "2 processes x 1 thread", "ratio"]] > 0).all(axis=None)
    assert "SMOKE" in capsys.readouterr().out


def test_bootstrap_benchmark_smoke(capsys):
    table = load("bootstrap").main(["--smoke"])
    assert list(table["method"]) == ["row weights", "record pair matrix"]
    assert (table["seconds per difference"] > 0).all()
    out = capsys.readouterr().out
    assert "SMOKE" in out and "same differences: True" in out


def test_records_benchmark_smoke(capsys):
    table = load("records").main(["--smoke"])
    assert list(table["read"]) == [
        "wfdb.rdheader",
        "wfdb.rdrecord",
        "read_leads, first read",
        "read_leads, read before",
    ]
    assert (table["ms per record"] > 0).all()
    out = capsys.readouterr().out
    assert "SMOKE" in out and "faster than a first read" in out


def test_book_execution_benchmark_smoke(capsys):
    table = load("book_execution").main(["--smoke"])
    assert list(table.index) == ["book/status", "wall time"]
    assert list(table.columns) == [
        "one after another, round 1 (s)",
        "book/execute.py, round 1 (s)",
    ]
    assert (table > 0).all().all()
    out = capsys.readouterr().out
    assert "SMOKE" in out and "one after another / book/execute.py, wall time: " in out
