"""The tutorials' shape: paired py:percent + ipynb, in sync, committed without outputs, same opening."""

from pathlib import Path

import jupytext
import pytest

from ecgkd.config import project_root

TUTORIALS = sorted((project_root() / "tutorials").glob("[0-9][0-9]_*.py"))


def test_there_are_tutorials():
    assert TUTORIALS, "no tutorials/NN_*.py found"


@pytest.mark.parametrize("source", TUTORIALS, ids=lambda p: p.name)
def test_paired_in_sync_and_without_outputs(source: Path):
    notebook = source.with_suffix(".ipynb")
    assert notebook.is_file(), f"{notebook.name} missing: run `jupytext --sync {source}`"
    py_cells = [(c.cell_type, c.source) for c in jupytext.read(source).cells]
    nb = jupytext.read(notebook)
    assert [(c.cell_type, c.source) for c in nb.cells] == py_cells, f"run `jupytext --sync {source}`"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("source", TUTORIALS, ids=lambda p: p.name)
def test_opens_and_closes_the_house_way(source: Path):
    cells = jupytext.read(source).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert "**Runtime**" in cells[0].source and "**You will learn**" in cells[0].source
    assert any("ecgkd.config.load()" in c.source and "seed_everything" in c.source for c in cells[:4])
    assert any(c.source.startswith("## Summary") for c in cells if c.cell_type == "markdown")
    assert "versions_table()" in cells[-1].source


def test_the_book_lists_every_tutorial_and_executes_them_strictly():
    import yaml

    root = project_root()
    toc = (root / "book" / "_toc.yml").read_text()
    for source in TUTORIALS:
        assert f"file: tutorials/{source.stem}\n" in toc, f"{source.name} is missing from book/_toc.yml"
    config = yaml.safe_load((root / "book" / "_config.yml").read_text())
    assert config["execute"]["timeout"] == 600 and config["execute"]["allow_errors"] is False
    assert "tutorials/*.ipynb" in config["exclude_patterns"]  # the .py sources are the book's pages
    assert config["sphinx"]["config"]["nb_custom_formats"][".py"][1] == {"fmt": "py:percent"}
