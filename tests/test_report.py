"""What every notebook opens with and shows: setup(), show_source, titled tables."""

import math

import pandas as pd
import pytest

import ecgkd
from ecgkd.report import show_source, titled
from ecgkd.students import GridPlan, kd_loss


def test_setup_loads_seeds_and_prints_one_banner(capsys):
    import numpy as np

    cfg = ecgkd.setup(seed=3)
    first = np.random.rand()
    ecgkd.setup(seed=3)
    assert np.random.rand() == first  # seeded
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all(
        f"mode: {cfg.mode}" in line and "seed: 3" in line for line in lines
    )
    assert pd.get_option("display.width") == 100


def test_show_source_is_the_package_code_as_a_python_block():
    shown = show_source(kd_loss)
    markdown = shown._repr_markdown_()
    assert (
        markdown.startswith("`ecgkd.students.kd.kd_loss`") and "```python\ndef kd_loss(" in markdown
    )
    assert all(len(line) <= 100 for line in repr(shown).splitlines())  # fits the book's column


def test_titled_tables_carry_their_caption():
    styled = titled(pd.Series([0.123456], index=["a"], name="auroc"), "MIT-BIH DS2: test AUROC")
    html = styled.to_html()
    assert "MIT-BIH DS2: test AUROC" in html and "0.1235" in html
    missing = titled(pd.DataFrame({"T": [float("nan"), 2.0]}), "T per cell").to_html()
    assert "nan" not in missing and ">-<" in missing.replace(" ", "")


def test_grid_plan_runs_no_kd_once_per_seed_and_refuses_bad_values():
    plan = GridPlan((2.0, 4.0), (0.0, 1.0), (0, 1))
    jobs = plan.jobs("mitbih", ("cnn1d",), {"cnn1d": 0.5})
    assert len(jobs) == 2 * (1 + 2) and all(j.width == 0.5 for j in jobs)
    assert all(math.isnan(j.temperature) for j in jobs if j.alpha == 0)
    with pytest.raises(ValueError, match="alphas"):
        GridPlan((2.0,), (1.5,), (0,))
    with pytest.raises(ValueError, match="temperatures"):
        GridPlan((0.0,), (1.0,), (0,))
    with pytest.raises(ValueError, match="seeds"):
        GridPlan((1.0,), (1.0,), ())
