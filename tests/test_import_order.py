"""The package's imports follow the pipeline: an earlier floor never imports a later one.

Floors, bottom up (``LAYERS``): the utilities every stage shares; the data; the shared floors of
training, scoring and the rhythm head; then the stages teacher -> students -> quantum ->
evaluation; last the notebooks' helpers and the CLI, which may import anything. Every import of an
``ecgkd`` module (top-level, inside a function, or under ``TYPE_CHECKING``: a type names a
dependency too) must point to the same floor or a lower one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ecgkd.config import project_root

PACKAGE = project_root() / "ecgkd"
#: Each floor's modules, by their name under ``ecgkd`` (a package stands for all its modules).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("config", "cache", "progress", "modelinfo", "cluster"),
    ("data",),
    ("train", "scoring", "rhythm_head", "timing"),
    ("teacher",),
    ("students",),
    ("quantum",),
    ("evaluation",),
    ("report", "plots", "cli", "__main__"),
)
FLOOR = {name: level for level, names in enumerate(LAYERS) for name in names}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    """``ecgkd/students/grid.py`` -> ``ecgkd.students.grid`` (a package's ``__init__``: the
    package), ``root`` being the package's folder."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, absolute module) of every ``ecgkd`` import in ``path``, relative ones resolved;
    ``from X import name`` counts ``X.name`` too, since ``name`` may be a submodule."""
    here = module_name(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return [(line, m) for line, m in found if m == "ecgkd" or m.startswith("ecgkd.")]


def floor_of(module: str) -> int | None:
    """The floor of ``ecgkd.<name>...`` (None for the package root, which imports lazily)."""
    parts = module.split(".")
    return FLOOR.get(parts[1]) if len(parts) > 1 else None


def back_imports(root: Path = PACKAGE) -> list[str]:
    """Every import in the package that points to a later floor than its own module's."""
    problems: dict[str, str] = {}  # one line per import statement: its first later module
    for path in sorted(root.rglob("*.py")):
        mine = floor_of(module_name(path, root))
        for line, module in imported_modules(path, root):
            theirs = floor_of(module)
            where = f"{path.relative_to(root.parent)}:{line}"
            if mine is not None and theirs is not None and theirs > mine:
                problems.setdefault(where, f"{where} imports {module} (floor {theirs} > {mine})")
    return sorted(problems.values())


def test_every_module_has_a_floor():
    names = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.glob("*")}
    names -= {"__init__", "__pycache__", "ecgfounder_tasks.txt"}
    missing = sorted(n for n in names if n not in FLOOR and not n.endswith(".txt"))
    assert not missing, f"modules without a floor in LAYERS: {missing}"


def test_no_floor_imports_a_later_one():
    problems = back_imports()
    assert not problems, "imports against the pipeline:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source, line",
    [
        ("train.py", "from .evaluation.stage import compare\n"),
        ("data/split.py", "def f():\n    from ..teacher import stage\n"),
        ("teacher/outputs.py", "from ecgkd.students.grid import run_grid\n"),
        ("scoring/metrics.py", "from .. import students\n"),
    ],
)
def test_a_single_back_import_fails_the_check(tmp_path, source, line):
    """The check itself can fail: one back import added to a copy of the package is found."""
    import shutil

    copy = tmp_path / "ecgkd"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / source
    target.write_text(target.read_text() + "\n" + line)
    found = [p for p in back_imports(copy) if p.startswith(f"ecgkd/{source}:")]
    assert len(found) == 1, found
