"""The tutorials' shape: paired py:percent + ipynb, in sync, committed without outputs, same
opening; and the book's execution of them (``make book``): every cell ran, without an error.

The notebooks are executed once, by the book build (``-W``: an error in a cell fails it); the tests
here read what that execution wrote instead of running the notebooks a second time.
"""

from pathlib import Path

import jupytext
import pytest

from conftest import executed_code_cells
from ecgkd.config import project_root

pytestmark = pytest.mark.book  # reads what the book build made (make test: after it)

TUTORIALS = sorted((project_root() / "tutorials").glob("[0-9][0-9]_*.py"))
EXECUTED = project_root() / "_build" / "jupyter_execute" / "tutorials"


def test_there_are_tutorials():
    assert TUTORIALS, "no tutorials/NN_*.py found"


@pytest.mark.parametrize("source", TUTORIALS, ids=lambda p: p.name)
def test_paired_in_sync_and_without_outputs(source: Path):
    notebook = source.with_suffix(".ipynb")
    assert notebook.is_file(), f"{notebook.name} missing: run `jupytext --sync {source}`"
    py_cells = [(c.cell_type, c.source) for c in jupytext.read(source).cells]
    nb = jupytext.read(notebook)
    assert [(c.cell_type, c.source) for c in nb.cells] == py_cells, (
        f"run `jupytext --sync {source}`"
    )
    assert all(
        not c.get("outputs") and c.get("execution_count") is None
        for c in nb.cells
        if c.cell_type == "code"
    )


@pytest.mark.parametrize("source", TUTORIALS, ids=lambda p: p.name)
def test_opens_and_closes_the_house_way(source: Path):
    cells = jupytext.read(source).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert "**Runtime**" in cells[0].source and "**You will learn**" in cells[0].source
    parameters = [c for c in cells[:4] if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1, "one code cell tagged 'parameters' near the top"
    assert "cfg = ecgkd.setup()" in parameters[0].source
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    assert any(m.startswith("## Summary") for m in markdown)
    exercises = "\n".join(m for m in markdown if "## Exercises" in m)
    assert exercises.count("**Exercise ") >= 2, "two or three exercises at the end"
    assert exercises.count("*Self-check*") == exercises.count("**Exercise "), "one self-check each"
    assert "versions_table()" in cells[-1].source


def knob_value_is_a_scalar(node) -> bool:
    """A value a reader may change in place: a literal (a number, a string, a tuple of them), or
    one literal in quick mode and another in full mode (``A if cfg.quick else B``)."""
    import ast

    if isinstance(node, ast.IfExp):
        quick = ast.unparse(node.test) == "cfg.quick"
        return quick and knob_value_is_a_scalar(node.body) and knob_value_is_a_scalar(node.orelse)
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def parameters_cell_knobs(source: str) -> tuple[list[str], list[str]]:
    """(the names a parameters cell assigns, besides ``cfg``; those whose value is not a scalar
    a reader may change)."""
    import ast

    names, not_scalars = [], []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign):
            continue
        targets = [
            t for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name)
        ]
        assigned = [t.id for t in targets if t.id != "cfg"]
        names += assigned
        if assigned and not knob_value_is_a_scalar(node.value):
            not_scalars += assigned
    return names, not_scalars


@pytest.mark.parametrize("source", TUTORIALS, ids=lambda p: p.name)
def test_every_knob_of_the_parameters_cell_is_a_scalar_used_later(source: Path):
    """The parameters cell holds scalars a reader may change (besides ``cfg`` and imports), and each
    one is read by a later cell: "change it here" is true of every name there."""
    import re

    cells = jupytext.read(source).cells
    index = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    names, not_scalars = parameters_cell_knobs(cells[index].source)
    assert not not_scalars, f"{source.name}: not a scalar a reader may change: {not_scalars}"
    later = "\n".join(c.source for c in cells[index + 1 :] if c.cell_type == "code")
    unused = [n for n in names if not re.search(rf"\b{re.escape(n)}\b", later)]
    assert not unused, f"{source.name}: parameters no later cell reads: {unused}"


def test_the_knob_check_fails_on_a_renamed_constant_and_an_unused_knob():
    names, not_scalars = parameters_cell_knobs(
        "import x\ncfg = ecgkd.setup()\nLATENT_SIZE = LATENT\nA, B = 1, (2, 3)\n"
        "C = 5 if cfg.quick else 6\nD = f(cfg)\nE = 1 if other else 2\n"
    )
    assert names == ["LATENT_SIZE", "A", "B", "C", "D", "E"]
    assert not_scalars == ["LATENT_SIZE", "D", "E"]


@pytest.mark.parametrize("source", TUTORIALS, ids=lambda p: p.name)
def test_code_cells_fit_the_page(source: Path):
    """The book clips code wider than about 100 columns: no code line is (ruff formats the rest)."""
    for cell in jupytext.read(source).cells:
        if cell.cell_type == "code":
            wide = [line for line in cell.source.splitlines() if len(line) > 100]
            assert not wide, f"{source.name}: code lines over 100 columns: {wide}"


def test_the_package_and_notebooks_pass_ruff():
    """Formatting and lint, as configured in pyproject.toml (line length 100)."""
    import subprocess
    import sys

    root = project_root()
    paths = [
        "ecgkd",
        "tests",
        "benchmarks",
        "tutorials",
        "book",
        "data/make_sample.py",
        "conftest.py",
    ]
    for command in (["format", "--check"], ["check"]):
        run = subprocess.run(
            [sys.executable, "-m", "ruff", *command, *paths],
            cwd=root,
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, f"ruff {' '.join(command)}:\n{run.stdout}{run.stderr}"


def test_the_book_lists_every_tutorial_and_executes_them_strictly():
    import yaml

    root = project_root()
    toc = (root / "book" / "_toc.yml").read_text()
    for source in TUTORIALS:
        assert f"file: tutorials/{source.stem}\n" in toc, (
            f"{source.name} is missing from book/_toc.yml"
        )
    config = yaml.safe_load((root / "book" / "_config.yml").read_text())
    assert config["execute"]["timeout"] == 600 and config["execute"]["allow_errors"] is False
    assert "tutorials/*.ipynb" in config["exclude_patterns"]  # the .py sources are the book's pages
    assert config["sphinx"]["config"]["nb_custom_formats"][".py"][1] == {"fmt": "py:percent"}


@pytest.mark.parametrize("source", TUTORIALS, ids=lambda p: p.name)
def test_the_books_execution_ran_every_cell_of_this_text_without_error(source: Path):
    """``make test`` builds the book first; its executed copy must be of this very text, every code
    cell run once and in order, no error, no warning shown to the reader, and no model trained
    again for want of saved weights."""
    executed = EXECUTED / f"{source.stem}.ipynb"
    cells = executed_code_cells(executed)
    text = [c.source for c in jupytext.read(source).cells if c.cell_type == "code"]
    assert [c.source for c in cells] == text, f"{executed.name} is stale: run `make book`"
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(text) + 1)), f"{source.name}: not every cell ran in order"
    outputs = [o for c in cells for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], f"{source.name} raised"
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "no saved weights" not in streams, f"{source.name} trained a grid run again"
    errors = "".join(
        o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stderr"
    )
    assert "Warning" not in errors, f"{source.name} shows a warning to its readers:\n{errors}"
