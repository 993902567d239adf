"""Execute the book's notebooks before Jupyter Book builds it: each once, two at a time where the
tutorials' caches allow it, into the cache that the build then reads (``execute_notebooks: cache``
in ``book/_config.yml``), so that the build itself executes nothing.

Why: Jupyter Book executes one page after another, and a tutorial keeps two cores busy only part
of its time (its kernel's start and imports, plots, one-thread steps). The tutorials form a chain,
each reading the caches that those before it wrote, but some pages need nothing from the pages
above them: those run beside the chain (``INDEPENDENT``, ``WAITS_FOR``). And the next page of the
chain starts early: its kernel starts and its parameters cell (imports and knobs) runs while the
page it waits for executes, and it holds there until that page has ended (``GO``).

    python book/execute.py              # what `make book` runs before `jupyter-book build`
    python book/execute.py --jobs 1     # one page after another, as Jupyter Book would

`benchmarks/book_execution.py` measures the two against each other, each from empty caches.

A page already in the cache (its code unchanged since it was executed) is not executed again, as
in Jupyter Book's own cache mode. A page that fails is reported with its traceback (and kept out of
the cache, so that the build reports it too); the pages that wait for it are not executed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
# The build runs with `--path-output .`: its HTML goes to _build/html and myst-nb keeps its cache
# beside it (myst_nb.sphinx_ext: the output folder's parent / ".jupyter_cache").
CACHE = ROOT / "_build" / ".jupyter_cache"
EXECUTED_BY = "book/execute.py"  # in each cache record's data: the build executed none of them

# Each page waits for every page above it in the table of contents (a tutorial reads the caches that
# the tutorials before it wrote), except the pages named here. Checked by executing them beside the
# others and comparing their outputs with those of one page after another.
# Pages that read no cache and write nothing another page reads: they wait for none, none waits.
INDEPENDENT: tuple[str, ...] = (
    "tutorials/00_introduction",  # untrained models and a count of the data's files
    "book/full_run",  # the committed tables of results/full/
    "book/status",  # the same (its table of run times is filled in by the build)
)
# Pages that wait only for those listed (and what those wait for).
WAITS_FOR: dict[str, tuple[str, ...]] = {
    # The grids of notebooks 03 and 04. Its own runs go into those grids' files, which 05 and 06
    # only read, each selecting the runs of its own plan.
    "tutorials/07_what_distillation_transfers": ("tutorials/04_quantum_student",),
}


@dataclass(frozen=True)
class Page:
    """A page of the book that is a notebook: its name in the table of contents, its file, the
    notebook myst-nb reads from it and the format it records in the cache's project."""

    name: str
    path: Path
    notebook: nbformat.NotebookNode
    read_fmt: dict | None


def toc_names(toc: dict) -> list[str]:
    """The table of contents' files, in reading order (root first)."""
    names = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                names.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return names


def custom_formats(config: dict) -> dict[str, list]:
    """The book configuration's ``nb_custom_formats`` (suffix -> reader, its options)."""
    return config.get("sphinx", {}).get("config", {}).get("nb_custom_formats", {})


def read_page(name: str, path: Path, config: dict) -> Page | None:
    """The page as myst-nb reads it in the build, with the custom formats of the book's
    configuration (the py:percent tutorials); None for a page that is plain Markdown."""
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig

    formats = {suffix: tuple(spec) for suffix, spec in custom_formats(config).items()}
    nb_config = NbParserConfig(custom_formats=formats)
    text = path.read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), MdParserConfig(), nb_config, text)
    if reader is None:
        return None
    return Page(name, path, reader.read(text), reader.read_fmt)


def notebook_pages(config: dict, toc: dict, root: Path = ROOT) -> list[Page]:
    """The book's pages that are notebooks, in the table of contents' order: each name's file
    among the suffixes the build reads, less the files its configuration excludes."""
    excluded = config.get("exclude_patterns", [])
    suffixes = [".md", ".ipynb", *custom_formats(config)]
    pages = []
    for name in toc_names(toc):
        files = [
            root / f"{name}{suffix}"
            for suffix in suffixes
            if (root / f"{name}{suffix}").is_file()
            and not any(fnmatch.fnmatch(f"{name}{suffix}", pattern) for pattern in excluded)
        ]
        if not files:
            raise SystemExit(f"_toc.yml: no source file for {name!r} (looked for {suffixes})")
        if page := read_page(name, files[0], config):
            pages.append(page)
    return pages


def waits_for(
    names: list[str],
    independent: tuple[str, ...] = INDEPENDENT,
    rules: dict[str, tuple[str, ...]] = WAITS_FOR,
) -> dict[str, set[str]]:
    """Each page's prerequisites (``names`` in reading order): the pages above it less the
    independent ones, or those that ``rules`` name; none for an independent page."""
    named = set(independent) | set(rules) | {n for wanted in rules.values() for n in wanted}
    if unknown := sorted(named - set(names)):
        raise SystemExit(f"{__file__}: names pages that the book does not have: {unknown}")
    needs = {}
    for i, name in enumerate(names):
        above = [n for n in names[:i] if n not in independent]
        needs[name] = set() if name in independent else set(rules.get(name, above))
        if wrong := needs[name] - set(above):
            raise SystemExit(f"{__file__}: {name} cannot wait for {sorted(wrong)}")
    return needs


def all_prerequisites(needs: dict[str, set[str]]) -> dict[str, set[str]]:
    """What each page waits for, directly or through the pages it waits for."""
    closure = {}
    for name in needs:
        seen, todo = set(), [name]
        while todo:
            for prerequisite in needs[todo.pop()] - seen:
                seen.add(prerequisite)
                todo.append(prerequisite)
        closure[name] = seen
    return closure


def schedule_order(needs: dict[str, set[str]], closure: dict[str, set[str]]) -> dict[str, int]:
    """A page's rank among those ready to start: first the one that the most pages wait for,
    directly or not (``closure``: the chain of tutorials), then the reading order."""
    waiting = {name: sum(name in wanted for wanted in closure.values()) for name in needs}
    order = sorted(needs, key=lambda n: (-waiting[n], list(needs).index(n)))
    return {name: rank for rank, name in enumerate(order)}


def runs_alone(name: str, running: int, todo: set[str], closure: dict[str, set[str]]) -> bool:
    """Whether a page that starts now runs alone to its end: nothing else runs, and every page
    still to run waits for it."""
    return running == 0 and all(name in closure[other] for other in todo - {name})


# PyTorch's idle OpenMP threads spin for a while before they sleep, which is faster for a page alone
# (notebooks 03 and 04 one after the other: 102 s spinning, 115 s passive) and slower for pages
# beside each other, whose spinning threads take the cores from the other page's work (notebooks 05
# and 06 beside 07: 116 s spinning, 78 s passive, 94 s one after another). A page that may run
# beside another gets OMP_WAIT_POLICY=PASSIVE, unless the environment sets it.
BESIDE_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}


# A page may start before the pages it waits for have ended: its kernel starts and its parameters
# cell (imports and knobs, which read no cache) runs, then it holds until this script writes GO in
# its folder ("run", or "stop" when a page it waits for failed). Those ~4 s of one core then overlap
# the page it waits for, whose cores are seldom both busy, instead of following it (notebooks 05
# then 06: 33.3 s as before, 28.7 s so, three runs each). Its time excludes the hold.
GO = "go"


class Stopped(Exception):
    """A page held before its first cell after the parameters was told not to run."""


def hold_index(notebook: nbformat.NotebookNode) -> int:
    """The cell a page that starts early holds before: the first code cell after the one tagged
    ``parameters`` (without such a cell, the first code cell)."""
    tagged = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", [])
    ]
    return tagged[0] + 1 if tagged else 0


def release(folder: Path, what: str = "run") -> None:
    """Tell the page executing in ``folder`` to go on ("run") or to end ("stop")."""
    scratch = folder / f"{GO}.tmp"
    scratch.write_text(what)
    os.replace(scratch, folder / GO)  # whole or absent: the child never reads half of it


def execute_one(folder: Path, cwd: Path, timeout: int, allow_errors: bool) -> None:
    """A child's work (``--one``): execute ``folder``/page.ipynb as myst-nb does (in ``cwd``, with
    the configuration's timeout and errors setting), holding before :func:`hold_index` until
    :func:`release`, and write the executed notebook and what happened beside it. A process of its
    own, so that Ctrl-C reaches it and it shuts its kernel down."""
    import asyncio

    from jupyter_cache.executors.utils import single_nb_execution

    notebook = nbformat.read(folder / "page.ipynb", as_version=4)
    first, held = hold_index(notebook), {}

    async def hold(cell: nbformat.NotebookNode, cell_index: int) -> None:
        if cell_index < first or held:
            return
        held["at"] = time.perf_counter()
        # Ctrl-C while holding: raised here, in the notebook's execution, whose cleanup then shuts
        # the kernel down (raised by Python's own handler, it would leave that cleanup undone and
        # the process waiting)
        interrupted, loop = asyncio.Event(), asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
        try:
            while not (folder / GO).is_file():
                if interrupted.is_set():
                    raise KeyboardInterrupt
                await asyncio.sleep(0.05)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
        held["seconds"] = time.perf_counter() - held["at"]
        if (folder / GO).read_text() == "stop":
            raise Stopped

    try:
        result = single_nb_execution(
            notebook,
            cwd=str(cwd),
            timeout=timeout,
            allow_errors=allow_errors,
            meta_override=True,
            on_cell_execute=hold,
        )
    except Stopped:
        return
    if result.err is None:
        nbformat.write(notebook, folder / "executed.ipynb")
    error = None if result.err is None else type(result.err).__name__
    seconds = result.time - held.get("seconds", 0.0)  # not counting the hold
    outcome = {"seconds": seconds, "error": error, "traceback": result.exc_string}
    (folder / "outcome.json").write_text(json.dumps(outcome))


CHILDREN: set[subprocess.Popen] = set()
CHILDREN_LOCK = threading.Lock()


def run_page(page: Page, folder: Path, execute: dict, alone: bool) -> dict:
    """Execute ``page`` in a child process, with the book's ``execute`` settings (and, unless it
    runs ``alone``, ``BESIDE_ENV``); its outcome, with the executed notebook if it ran."""
    nbformat.write(page.notebook, folder / "page.ipynb")
    command = [sys.executable, __file__, "--one", str(folder), "--cwd", str(page.path.parent)]
    command += ["--timeout", str(execute.get("timeout", 30))]
    command += ["--allow-errors"] * bool(execute.get("allow_errors", False))
    env = os.environ if alone else {**BESIDE_ENV, **os.environ}
    child = subprocess.Popen(command, env=env)
    with CHILDREN_LOCK:
        CHILDREN.add(child)
    code = child.wait()
    with CHILDREN_LOCK:
        CHILDREN.discard(child)
    outcome_file = folder / "outcome.json"
    if code != 0 or not outcome_file.is_file():
        return {"seconds": None, "error": f"its process ended with status {code}", "traceback": ""}
    outcome = json.loads(outcome_file.read_text())
    if outcome["error"] is None:
        outcome["notebook"] = nbformat.read(folder / "executed.ipynb", as_version=4)
    return outcome


def stop_children() -> None:
    """Ctrl-C to each running child, which then shuts its kernel down (a kernel runs in a session
    of its own: a terminal's Ctrl-C does not reach it)."""
    with CHILDREN_LOCK:
        children = list(CHILDREN)
    for child in children:
        child.send_signal(signal.SIGINT)
    for child in children:
        child.wait()


def register(cache, page: Page) -> None:
    """Add ``page`` to the cache's project and clear its last traceback, as myst-nb does before it
    executes a page."""
    from jupyter_cache.cache.db import NbProjectRecord

    options = {} if page.read_fmt is None else {"read_data": page.read_fmt}
    record = cache.add_nb_to_project(str(page.path), **options)
    NbProjectRecord.remove_tracebacks([record.pk], cache.db)


def keep(cache, page: Page, outcome: dict) -> str | None:
    """Cache the executed ``page`` (its run time and ``EXECUTED_BY`` in the record's data), or
    record its traceback in the project as myst-nb does; the error's name, None if it ran."""
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    if outcome["error"] is not None:
        NbProjectRecord.set_traceback(str(page.path), outcome["traceback"], cache.db)
        return outcome["error"]
    data = {"execution_seconds": outcome["seconds"], "executed_by": EXECUTED_BY}
    bundle = CacheBundleIn(outcome["notebook"], str(page.path), data=data)
    cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
    return None


def execute_book(
    jobs: int,
    book: Path = BOOK,
    root: Path = ROOT,
    cache_path: Path = CACHE,
    independent: tuple[str, ...] = INDEPENDENT,
    rules: dict[str, tuple[str, ...]] = WAITS_FOR,
) -> int:
    """Execute every page of the book (``book``/_config.yml and _toc.yml, file names relative to
    ``root``) that is not in the cache, ``jobs`` at a time where its prerequisites allow; cache each
    one that succeeds. Returns the exit status: 1 if a page failed or did not run."""
    from jupyter_cache import get_cache

    config = yaml.safe_load((book / "_config.yml").read_text())
    execute = config.get("execute", {})
    if execute.get("run_in_temp"):
        raise SystemExit(f"{book / '_config.yml'}: execute.run_in_temp is not supported here")
    toc = yaml.safe_load((book / "_toc.yml").read_text())
    pages = {p.name: p for p in notebook_pages(config, toc, root)}
    needs = waits_for(list(pages), independent, rules)
    closure = all_prerequisites(needs)
    rank = schedule_order(needs, closure)
    cache = get_cache(str(cache_path))
    done, todo = set(), {}
    for name, page in pages.items():
        try:
            cache.match_cache_notebook(page.notebook)
            done.add(name)
        except KeyError:
            todo[name] = page
    print(
        f"book/execute.py: {len(todo)} of {len(pages)} notebook pages to execute "
        f"({len(done)} cached), {jobs} at a time",
        flush=True,
    )
    failed: dict[str, str] = {}
    running: dict[Future, str] = {}  # each child (executing or held), by its future
    executing: set[str] = set()  # at most `jobs`
    held: set[str] = set()  # started early, holding after the parameters cell
    folders: dict[str, Path] = {}
    start = time.perf_counter()

    def say(text: str, stream=sys.stdout) -> None:
        print(f"[{time.perf_counter() - start:6.1f} s] {text}", file=stream, flush=True)

    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(2 * jobs) as pool:

        def go_on(name: str, how: str) -> None:
            """Let ``name``'s child execute the whole page (registered as myst-nb would)."""
            register(cache, pages[name])
            release(folders[name])
            executing.add(name)
            say(f"{name}: executing{how}")

        def launch(name: str, alone: bool, go: bool) -> None:
            """Start ``name``'s child; unless ``go``, it holds after its parameters cell."""
            page = todo.pop(name)
            folders[name] = Path(scratch) / name.replace("/", "__")
            folders[name].mkdir()
            if go:
                go_on(name, "" if alone else " (beside others)")
            else:
                held.add(name)
                waited = ", ".join(sorted(needs[name] - done)) or "a free place"
                say(f"{name}: starting its kernel and parameters cell; holds for {waited}")
            running[pool.submit(run_page, page, folders[name], execute, alone)] = name

        try:
            while todo or running:
                for name in [n for n in held if needs[n] & set(failed)]:
                    release(folders[name], "stop")  # its child ends; its future is dropped
                    held.discard(name)
                    waited = ", ".join(sorted(needs[name] & set(failed)))
                    failed[name] = f"not executed: it waits for {waited}, which failed"
                ready = sorted((n for n in [*held, *todo] if needs[n] <= done), key=rank.get)
                for name in ready[: jobs - len(executing)]:
                    if name in held:  # it started early: it goes on after its parameters cell
                        held.discard(name)
                        go_on(name, " (its kernel started early)")
                    else:
                        alone = jobs == 1 or runs_alone(
                            name, len(executing), set(todo) | held, closure
                        )
                        launch(name, alone, go=True)
                if jobs > 1:  # the next pages start early: those waiting only for running ones
                    up = (n for n in todo if needs[n] <= done | executing)
                    for name in sorted(up, key=rank.get)[: jobs - len(held)]:
                        # Its threads' waiting is set now, as if the independent pages (short)
                        # and those running that it does not wait for end before it goes.
                        beside = executing - needs[name] - set(independent)
                        later = (set(todo) | held) - set(independent)
                        launch(name, runs_alone(name, len(beside), later, closure), go=False)
                if not running:  # what is left waits for a page that failed
                    for name in list(todo):
                        waited = ", ".join(sorted(needs[name] - done))
                        failed[name] = f"not executed: it waits for {waited}, which failed"
                        del todo[name]
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name, outcome = running.pop(future), future.result()
                    executing.discard(name)
                    held.discard(name)  # a held page ends early only if its parameters failed
                    if name in failed:  # told to stop
                        continue
                    if (error := keep(cache, pages[name], outcome)) is None:
                        done.add(name)
                        say(f"{name}: executed in {outcome['seconds']:.1f} s")
                    else:
                        failed[name] = f"failed: {error}"
                        say(f"{name}: FAILED ({error})\n{outcome['traceback']}", sys.stderr)
        finally:
            stop_children()  # only where this loop ended early (Ctrl-C, SIGTERM)
    for name, why in failed.items():
        print(f"book/execute.py: {name}: {why}", file=sys.stderr)
    print(f"book/execute.py: {time.perf_counter() - start:.1f} s", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="pages executed at once (default 2)")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # a child: one page's folder
    parser.add_argument("--cwd", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--allow-errors", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        execute_one(args.one, args.cwd, args.timeout, args.allow_errors)
        return 0
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: give 1 or more")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the children are stopped first
    return execute_book(args.jobs)


if __name__ == "__main__":
    sys.exit(main())
