"""Benchmarks run in smoke mode so that they cannot rot (their numbers are not checked, their shape is)."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_teacher_benchmark_smoke(capsys):
    table = load("teacher").main(["--smoke"])
    assert len(table) == 4 and (table["infer windows/s"] > 0).all() and (table["train windows/s"] > 0).all()
    full_1lead = table[(table.dataset == "mitbih") & table.teacher.str.startswith("full")]
    assert int(full_1lead["parameters"].iloc[0]) == 30_807_750 - 149 * 1025  # one-logit head instead of 150
    assert "SMOKE" in capsys.readouterr().out


@pytest.mark.parametrize("script", sorted(p.stem for p in BENCH.glob("*.py")))
def test_every_benchmark_has_a_smoke_mode(script):
    assert "--smoke" in (BENCH / f"{script}.py").read_text()


def test_students_benchmark_smoke(capsys):
    table = load("students").main(["--smoke"])
    assert list(table["model"])[1:] == ["ResNet-1D", "CNN-1D"]
    assert table["x teacher speed"].iloc[0] == 1.0 and (table["windows/s"] > 0).all()
    assert "goal" in capsys.readouterr().out
