"""``python -m ecgkd``: options, clear errors, and the first stages on the repository's real sample."""

import subprocess
import sys

import pandas as pd
import pytest

from ecgkd import cli
from ecgkd.config import project_root


def test_bad_options_give_clear_errors(tmp_path):
    with pytest.raises(SystemExit, match="--data .*not a folder"):
        cli.main(["--quick", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="--jobs 0"):
        cli.main(["--quick", "--jobs", "0", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):  # argparse: an unknown stage
        cli.main(["--stages", "everything"])


def test_help_lists_the_stages():
    out = subprocess.run([sys.executable, "-m", "ecgkd", "--help"], capture_output=True, text=True,
                         cwd=project_root(), check=True).stdout
    for stage in cli.STAGES:
        assert stage in out


def test_data_and_teacher_stages_write_their_tables(tmp_path):
    """Quick mode on the repository's data; the teacher comes from the shared cache when it is there."""
    assert cli.main(["--quick", "--stages", "teacher", "data", "--out", str(tmp_path), "--no-progress"]) == 0
    data = pd.read_csv(tmp_path / "data.csv")
    assert set(data["dataset"]) == {"mitbih", "ptbxl"}
    teacher = pd.read_csv(tmp_path / "teacher.csv")
    assert set(teacher["split"]) == {"val", "test"} and (teacher["auroc"] > 0.5).all()
    assert teacher["teacher"].str.contains("stand-in teacher, not ECGFounder").all()
    assert (tmp_path / "teacher_roc.png").stat().st_size > 10_000
    times = pd.read_csv(tmp_path / "stage_times.csv")
    assert list(times["stage"]) == ["data", "teacher"] and (times["mode"] == "quick").all()
