"""The book's first execution: book/execute.py's schedule against one page after another, as a
ratio from one run.

    python benchmarks/book_execution.py              # every notebook page, empty caches, 1 round
    python benchmarks/book_execution.py --rounds 2   # two rounds, the contenders' order alternating
    python benchmarks/book_execution.py --smoke      # the status page alone: the script runs

`make run` spends most of a first run executing the book's notebook pages (book/execute.py). Each
execution here starts from empty caches of its own (the stages' cache, ``ECGKD_CACHE``, and
Jupyter's, in a temporary folder), so that neither contender reuses the other's work, in quick mode
(the shipped sample, or ``ECGKD_DATA``). The contenders: ``--jobs 1``, one page after another as
Jupyter Book would execute them, and the schedule that `make run` uses (two pages at a time where
the caches allow it, the next page's kernel started early). The table gives each page's time (the
hold excluded, as on the status page), then the wall times and their ratio, round by round.

Python compiles the modules the notebooks import once, the first time (a fresh clone's first
notebook pays it); the imports are timed twice before the first round, compiling and compiled, and
the rounds compare the schedules alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import yaml

from ecgkd.config import project_root

ROOT = project_root()
SMOKE_PAGES = ("book/status",)  # a short page that reads no cache
CONTENDERS = {"one after another": 1, "book/execute.py": 2}  # name: jobs
# What the notebooks' first cells import, all in one process: the bytecode they compile.
IMPORTS = (
    "import matplotlib.pyplot, pandas, torch, IPython, ipykernel.kernelapp, qiskit.quantum_info\n"
    "import ecgkd.plots, ecgkd.report, ecgkd.evaluation.stage, ecgkd.evaluation.transfer"
)


def load_execute():
    """book/execute.py as a module (it is a script, not part of the package), once per process
    (tests/test_book_execute.py loads it under the same name)."""
    if (loaded := sys.modules.get("book_execute")) is not None:
        return loaded
    spec = importlib.util.spec_from_file_location("book_execute", ROOT / "book" / "execute.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["book_execute"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@contextmanager
def environment(**values: str):
    """``os.environ`` with ``values`` set (children inherit them) and PYTHONDONTWRITEBYTECODE
    unset, as the Makefile has it; restored afterwards."""
    saved = dict(os.environ)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def import_seconds(code: str = IMPORTS) -> float:
    """Wall time of ``code`` (imports) in a fresh process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def execute_pages(execute, pages: list[str], jobs: int, scratch: Path) -> dict[str, float]:
    """Execute ``pages`` of the book, ``jobs`` at a time, from empty caches in ``scratch``: each
    page's time, and the wall time under ``"wall time"``."""
    from jupyter_cache import get_cache

    book = scratch / "book"
    book.mkdir()
    (book / "_config.yml").write_text((ROOT / "book" / "_config.yml").read_text())
    toc = {"format": "jb-book", "root": "book/intro", "chapters": [{"file": p} for p in pages]}
    (book / "_toc.yml").write_text(yaml.safe_dump(toc))
    independent = tuple(p for p in execute.INDEPENDENT if p in pages)
    rules = {page: wanted for page, wanted in execute.WAITS_FOR.items() if page in pages}
    with environment(ECGKD_CACHE=str(scratch / "cache"), ECGKD_QUICK="1", ECGKD_PROGRESS="0"):
        start = time.perf_counter()
        status = execute.execute_book(jobs, book, ROOT, scratch / "jupyter", independent, rules)
        wall = time.perf_counter() - start
    if status:
        raise SystemExit(f"book/execute.py --jobs {jobs}: a page failed (above); no measurement")
    records = get_cache(str(scratch / "jupyter")).list_cache_records()
    seconds = {
        str(Path(r.uri).relative_to(ROOT).with_suffix("")): r.data["execution_seconds"]
        for r in records
    }
    return {**{p: seconds[p] for p in pages}, "wall time": wall}


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="the status page alone: a check, not a measurement"
    )
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: give 1 or more")
    execute = load_execute()
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    pages = [p.name for p in execute.notebook_pages(config, toc)]
    pages = [p for p in pages if p in SMOKE_PAGES] if args.smoke else pages
    imports = "import ecgkd" if args.smoke else IMPORTS
    with environment():
        first, again = import_seconds(imports), import_seconds(imports)
    columns = {}
    for round_ in range(args.rounds):
        order = list(CONTENDERS) if round_ % 2 == 0 else list(CONTENDERS)[::-1]
        for name in order:
            with tempfile.TemporaryDirectory() as scratch:
                times = execute_pages(execute, pages, CONTENDERS[name], Path(scratch))
            columns[f"{name}, round {round_ + 1} (s)"] = times
    table = pd.DataFrame(columns)
    table.index.name = "page"
    walls = table.loc["wall time"]
    serial, scheduled = (
        [walls[f"{name}, round {r + 1} (s)"] for r in range(args.rounds)] for name in CONTENDERS
    )
    ratios = [s / p for s, p in zip(serial, scheduled)]
    mode = " [SMOKE: not a measurement]" if args.smoke else ""
    print(f"{len(pages)} pages, quick mode, empty caches, {os.cpu_count()} cores{mode}")
    print(f"the notebooks' imports in a fresh process: {first:.1f} s, then {again:.1f} s compiled")
    print(table.round(1).to_string())
    print(
        "one after another / book/execute.py, wall time: "
        + ", ".join(f"{r:.2f}x" for r in ratios)
        + " (round by round)"
    )
    return table


if __name__ == "__main__":
    main()
