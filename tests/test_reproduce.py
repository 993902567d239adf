"""End to end in quick mode, on the repository's real sample: ``python -m ecgkd`` runs every stage,
and notebook 05, executed afterwards from its source, computes the very numbers the CLI wrote.

Notebook 05 reloads the compared models the grids saved, then bootstraps and simulates shots and
noise again on its own, so equal tables also show that a CPU rerun with the same seed reproduces
them exactly. (The grids it
reads come from the cache the CLI filled: the notebooks of the book reuse that cache too.)
"""

from pathlib import Path

import jupytext
import matplotlib
import pandas as pd
import pytest

from ecgkd import cli
from ecgkd.config import project_root

TIMINGS = ["latency_ms"]  # not results: they vary with the load


def run_notebook(source: Path) -> dict:
    """Execute a py:percent notebook's code cells in one namespace (no kernel) and return it."""
    matplotlib.use("Agg")
    namespace: dict = {"__name__": "__notebook__"}
    for cell in jupytext.read(source).cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, f"{source.name}:cell", "exec"), namespace)
    return namespace


def same_table(ours: pd.DataFrame, cli_csv: Path) -> None:
    """Equal values, column by column, after the CSV round trip (floats to 12 significant
    digits)."""
    theirs = pd.read_csv(cli_csv)
    ours = ours.drop(columns=[c for c in TIMINGS if c in ours]).reset_index(drop=True)
    assert list(theirs.columns) == list(ours.columns), cli_csv.name
    for column in ours.columns:
        a, b = ours[column], theirs[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            pd.testing.assert_series_equal(
                a.astype(float),
                b.astype(float),
                check_exact=False,
                rtol=1e-12,
                check_names=False,
                obj=f"{cli_csv.name}[{column}]",
            )
        else:
            assert list(a.astype(str)) == list(b.astype(str)), f"{cli_csv.name}[{column}]"


def test_cli_reproduces_notebook_05(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGKD_QUICK", "1")
    assert cli.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    times = pd.read_csv(tmp_path / "stage_times.csv")
    assert list(times["stage"]) == list(cli.STAGES)

    notebook = run_notebook(project_root() / "tutorials" / "05_evaluation.py")
    same_table(notebook["table"], tmp_path / "comparison.csv")
    same_table(notebook["retention"], tmp_path / "retention.csv")
    same_table(notebook["against_baseline"], tmp_path / "baselines.csv")
    same_table(notebook["gains"], tmp_path / "kd_gains.csv")
    same_table(notebook["rhythm_gains"], tmp_path / "rhythm_gains.csv")
    assert notebook["rhythm_gains"]["model"].str.contains("teacher").any()
    same_table(notebook["on_device"], tmp_path / "vqc_on_device.csv")
    per_class = (
        notebook["comparison"]
        .per_class_table(notebook["reports"]["mitbih"])
        .T.reset_index(names="model")
    )
    same_table(per_class, tmp_path / "per_class_mitbih.csv")

    teacher_rows = notebook["table"].groupby("dataset").head(1)
    assert teacher_rows["model"].str.contains("stand-in teacher, not ECGFounder").all()
    assert (
        notebook["table"]["model"].str.contains("VQC").any()
        and notebook["table"]["model"].str.contains("CNN-1D").any()
    )
    assert set(notebook["on_device"]["shots"].astype(str)) == {"exact", "8192"}
    for figure in (
        "teacher_roc",
        "students_auroc",
        "quantum_auroc",
        "hardware",
        "comparison_roc",
        "vqc_on_device",
    ):
        assert (tmp_path / f"{figure}.png").stat().st_size > 10_000, figure


@pytest.mark.parametrize("column", ["auroc", "brier"])
def test_same_table_catches_a_changed_number(tmp_path, column):
    table = pd.DataFrame({"model": ["a", "b"], column: [0.8, 0.7]})
    table.to_csv(tmp_path / "t.csv", index=False)
    same_table(table, tmp_path / "t.csv")
    with pytest.raises(AssertionError):
        same_table(table.assign(**{column: [0.8, 0.7000001]}), tmp_path / "t.csv")
