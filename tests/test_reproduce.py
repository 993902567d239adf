"""End to end in quick mode, on the repository's real sample: ``python -m ecgkd`` runs every stage,
and its tables equal those notebooks 05 to 07 saved when the book build executed them (``make
test`` builds the book first).

The CLI reloads the compared models the grids saved, then bootstraps again in its own process, so
equal tables also show that a CPU rerun with the same seed reproduces notebooks 05 and 06 exactly.
(The grids and the Aer runs of the hardware study both read come from the cache the book's
notebooks filled.)
"""

from pathlib import Path

import pandas as pd
import pytest

from ecgkd import cli, config

pytestmark = pytest.mark.book  # reads what the book build made (make test: after it)

TIMINGS = ["latency_ms"]  # not results: they vary with the load
# the tables each notebook saves under results_root, by the CLI's file name
TABLES = {
    "05_vqc_on_device": ("hardware", "hardware_thresholds", "hardware_window_only"),
    "06_evaluation": (
        "comparison",
        "retention",
        "baselines",
        "kd_gains",
        "rhythm_gains",
        "fidelity",
        "kd_fidelity",
        "own_share",
        "per_class_mitbih",
        "vqc_on_device",
    ),
    "07_what_distillation_transfers": (
        "privileged_auroc",
        "privileged",
        "privileged_by_class",
        "scarce_curve",
        "scarce_gains",
        "primary",
    ),
}


def same_table(ours: pd.DataFrame, cli_csv: Path) -> None:
    """Equal values, column by column, after the CSV round trip (floats to 12 significant
    digits)."""
    theirs = pd.read_csv(cli_csv)
    theirs = theirs.drop(columns=[c for c in TIMINGS if c in theirs])
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


def notebook_tables(notebook: str) -> Path:
    """The folder of tables ``notebook`` saved in this checkout's quick-mode book build."""
    folder = config.load(quick=True).results_root / notebook
    missing = [name for name in TABLES[notebook] if not (folder / f"{name}.csv").is_file()]
    assert not missing, (
        f"{folder} lacks {missing}: build the book first (make book QUICK=1), which executes "
        f"notebook {notebook}"
    )
    return folder


def test_cli_reproduces_notebooks_05_to_07(tmp_path, monkeypatch):
    monkeypatch.setenv("ECGKD_QUICK", "1")
    saved = {notebook: notebook_tables(notebook) for notebook in TABLES}
    assert cli.main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    times = pd.read_csv(tmp_path / "stage_times.csv")
    assert list(times["stage"]) == list(cli.STAGES)
    for notebook, names in TABLES.items():
        for name in names:
            same_table(pd.read_csv(saved[notebook] / f"{name}.csv"), tmp_path / f"{name}.csv")

    table = pd.read_csv(tmp_path / "comparison.csv")
    teacher_rows = table.groupby("dataset").head(1)
    assert teacher_rows["model"].str.contains("stand-in teacher, not ECGFounder").all()
    assert table["model"].str.contains("VQC").any() and table["model"].str.contains("CNN-1D").any()
    assert pd.read_csv(tmp_path / "rhythm_gains.csv")["model"].str.contains("teacher").any()
    on_device = pd.read_csv(tmp_path / "vqc_on_device.csv")
    assert set(on_device["shots"].astype(str)) == {"exact", "8192"}
    for figure in (
        "teacher_roc",
        "students_auroc",
        "quantum_auroc",
        "hardware",
        "comparison_roc",
        "vqc_on_device",
        "scarce_labels",
    ):
        assert (tmp_path / f"{figure}.png").stat().st_size > 10_000, figure


@pytest.mark.parametrize("column", ["auroc", "brier"])
def test_same_table_catches_a_changed_number(tmp_path, column):
    table = pd.DataFrame({"model": ["a", "b"], column: [0.8, 0.7]})
    table.to_csv(tmp_path / "t.csv", index=False)
    same_table(table, tmp_path / "t.csv")
    with pytest.raises(AssertionError):
        same_table(table.assign(**{column: [0.8, 0.7000001]}), tmp_path / "t.csv")
