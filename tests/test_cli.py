"""``python -m ecgkd``: options, clear errors, and the first stages on the repository's real
sample."""

import os
import subprocess
import sys

import pandas as pd
import pytest

from ecgkd import cli
from ecgkd.config import ConfigError, project_root


def test_bad_options_give_clear_errors(tmp_path, capsys):
    assert cli.main(["--quick", "--data", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    assert "--data" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="--jobs 0"):
        cli.run(["--quick", "--jobs", "0", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):  # argparse: an unknown stage
        cli.main(["--stages", "everything"])


@pytest.mark.parametrize(
    "env, named",
    [
        ({"ECGKD_QUICK": "maybe"}, "ECGKD_QUICK='maybe'"),
        ({"ECGKD_DATA": "/no/such/folder"}, "ECGKD_DATA='/no/such/folder' is not a folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, env, named):
    """What a user sees: one line naming the variable and what to do, no traceback."""
    run = subprocess.run(
        [sys.executable, "-m", "ecgkd", "--stages", "data", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=project_root(),
        env={**os.environ, **env},
    )
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(lines) == 1 and named in lines[0]
    assert "Traceback" not in run.stderr


def test_a_checksum_mismatch_is_one_line(tmp_path, capsys):
    """A corrupted data file: the CLI names it and says what to do, in one line."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(project_root() / "data", data)
    with open(data / "mitdb" / "100.hea", "a") as handle:
        handle.write("# changed\n")
    args = ["--quick", "--stages", "data", "--datasets", "mitbih", "--no-progress"]
    status = cli.main(
        [*args, "--data", str(data), "--cache", str(tmp_path / "c"), "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err.strip().splitlines()  # the banner, then the error
    assert status == 2 and err[-1].startswith("ecgkd: error: ") and "100.hea" in err[-1]
    assert len(err) == 2 and "Traceback" not in "".join(err)


def test_help_lists_the_stages():
    out = subprocess.run(
        [sys.executable, "-m", "ecgkd", "--help"],
        capture_output=True,
        text=True,
        cwd=project_root(),
        check=True,
    ).stdout
    for stage in cli.STAGES:
        assert stage in out


@pytest.mark.book  # its teachers are the book's (the cache the book build filled)
def test_data_and_teacher_stages_write_their_tables(tmp_path):
    """Quick mode on the repository's data; the teacher comes from the shared cache when it is
    there."""
    assert (
        cli.main(
            ["--quick", "--stages", "teacher", "data", "--out", str(tmp_path), "--no-progress"]
        )
        == 0
    )
    data = pd.read_csv(tmp_path / "data.csv")
    assert set(data["dataset"]) == {"mitbih", "ptbxl"}
    teacher = pd.read_csv(tmp_path / "teacher.csv")
    assert set(teacher["split"]) == {"val", "test"} and (teacher["auroc"] > 0.5).all()
    assert teacher["teacher"].str.contains("stand-in teacher, not ECGFounder").all()
    assert (tmp_path / "teacher_roc.png").stat().st_size > 10_000
    times = pd.read_csv(tmp_path / "stage_times.csv")
    assert list(times["stage"]) == ["data", "teacher"] and (times["mode"] == "quick").all()
    made = pd.read_csv(tmp_path / "provenance.csv").iloc[0]
    assert made["stages"] == "data teacher" and made["mode"] == "quick"
    assert made["command"].startswith("python -m ecgkd --quick --stages teacher data")
    assert len(made["commit"].split()[0]) == 40 and "CPU cores" in made["machine"]
