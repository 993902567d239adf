"""book/execute.py: which page waits for which, the order pages start in, and, on a small book of
its own, that pages run beside each other, that a failure stops only what waits for it, and that
what it caches is what Jupyter Book's build then finds (no page executed twice)."""

from __future__ import annotations

import copy
import importlib.util
import sys
import time
from pathlib import Path

import pytest

from ecgkd.config import project_root

ROOT = project_root()
_spec = importlib.util.spec_from_file_location("book_execute", ROOT / "book" / "execute.py")
execute = importlib.util.module_from_spec(_spec)
sys.modules["book_execute"] = execute  # dataclasses look their module up
_spec.loader.exec_module(execute)

CHAIN = ["intro", "a", "b", "c", "d"]


def test_a_page_waits_for_every_page_above_it_unless_told_otherwise():
    needs = execute.waits_for(CHAIN, independent=("intro",), rules={"d": ("b",)})
    assert needs == {"intro": set(), "a": set(), "b": {"a"}, "c": {"a", "b"}, "d": {"b"}}


@pytest.mark.parametrize(
    ("independent", "rules", "message"),
    [
        (("nope",), {}, "does not have: ['nope']"),
        ((), {"b": ("zz",)}, "does not have: ['zz']"),
        ((), {"b": ("c",)}, "b cannot wait for ['c']"),  # below it: could never start
        (("a",), {"b": ("a",)}, "b cannot wait for ['a']"),  # an independent page is waited for
    ],
)
def test_rules_that_name_no_page_or_a_page_below_are_refused(independent, rules, message):
    with pytest.raises(SystemExit, match=message.replace("[", r"\[").replace("]", r"\]")):
        execute.waits_for(CHAIN, independent=independent, rules=rules)


def test_the_chain_starts_first_then_the_reading_order():
    needs = execute.waits_for(CHAIN, independent=("intro",), rules={"d": ("b",)})
    rank = execute.schedule_order(needs, execute.all_prerequisites(needs))
    assert sorted(needs, key=rank.get) == ["a", "b", "intro", "c", "d"]


def test_the_table_of_contents_is_read_in_order():
    toc = {
        "root": "r",
        "parts": [{"chapters": [{"file": "x", "sections": [{"file": "y"}]}, {"file": "z"}]}],
    }
    assert execute.toc_names(toc) == ["r", "x", "y", "z"]


def test_the_books_own_rules_name_its_pages():
    """Every page that INDEPENDENT and WAITS_FOR name is a notebook page of the book (a renamed
    tutorial would otherwise be waited for by name only), and the tutorials form one chain."""
    import yaml

    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    names = [page.name for page in execute.notebook_pages(config, toc)]
    needs = execute.waits_for(names)
    tutorials = [n for n in names if n.startswith("tutorials/")]
    assert len(tutorials) == len(list((ROOT / "tutorials").glob("[0-9][0-9]_*.py")))
    assert needs["tutorials/02_teacher"] == {"tutorials/01_data"}


def write_book(folder: Path, pages: dict[str, str | list[str]]) -> None:
    """A book of MyST notebook pages, in the order given: each one code cell, or the cells of a
    list, the first of them tagged ``parameters``."""
    book = folder / "book"
    book.mkdir()
    (book / "_config.yml").write_text("execute:\n  timeout: 60\n  allow_errors: false\n")
    chapters = "".join(f"  - file: {name}\n" for name in list(pages)[1:])
    (book / "_toc.yml").write_text(
        f"format: jb-book\nroot: {list(pages)[0]}\nchapters:\n{chapters}"
    )
    top = "---\nfile_format: mystnb\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n"
    for name, code in pages.items():
        cells = [code] if isinstance(code, str) else code
        tags = [""] if isinstance(code, str) else [":tags: [parameters]\n"] + [""] * len(code)
        body = "".join(
            f"```{{code-cell}} python3\n{tag}{source}\n```\n\n" for tag, source in zip(tags, cells)
        )
        (folder / f"{name}.md").write_text(f"{top}\n# {name}\n\n{body}")


def wait_for_file(path: Path, seconds: int = 30) -> str:
    """Code that waits (up to ``seconds``) for ``path`` to exist and fails if it does not."""
    return (
        "import pathlib, time\n"
        f"deadline = time.time() + {seconds}\n"
        f"while not pathlib.Path({str(path)!r}).exists() and time.time() < deadline:\n"
        "    time.sleep(0.05)\n"
        f"assert pathlib.Path({str(path)!r}).exists(), 'not there: {path.name}'\n"
    )


def touch(path: Path) -> str:
    return f"import pathlib; pathlib.Path({str(path)!r}).write_text('here')\n"


def test_a_page_starts_early_and_holds_after_its_parameters_cell(tmp_path: Path, monkeypatch):
    """``second`` waits for ``first``. Its parameters cell runs while ``first`` still executes
    (``first`` ends only once that cell has written its file), and its next cell runs only after
    ``first`` has ended (the file ``first`` writes last is there). It would run alone: its threads
    keep the environment's waiting. Both are cached, with the time each executed, the hold (the
    8 s that ``first`` sleeps) excluded."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    started, ended = tmp_path / "second started", tmp_path / "first ended"
    first = wait_for_file(started) + "time.sleep(8)\n" + touch(ended)
    second = [
        touch(started) + "import os\nprint(os.environ.get('OMP_WAIT_POLICY'))",
        f"assert pathlib.Path({str(ended)!r}).exists(), 'went on too early'",
    ]
    write_book(tmp_path, {"first": first, "second": second})
    cache = tmp_path / "cache"
    assert execute.execute_book(2, tmp_path / "book", tmp_path, cache, (), {}) == 0
    from jupyter_cache import get_cache

    records = {Path(r.uri).stem: r for r in get_cache(str(cache)).list_cache_records()}
    assert printed(cache, records["second"].pk) == "None\n"
    assert records["second"].data["execution_seconds"] < 8


def test_a_page_held_for_one_that_fails_does_not_go_on(tmp_path: Path):
    """``broken`` fails once ``after``'s parameters cell has run; ``after`` then ends without its
    next cell, is neither cached nor in the cache's project (it never went on), and the exit status
    is 1."""
    started, went_on = tmp_path / "after started", tmp_path / "after went on"
    broken = wait_for_file(started) + "raise ValueError('on purpose')"
    write_book(tmp_path, {"broken": broken, "after": [touch(started), touch(went_on)]})
    cache = tmp_path / "cache"
    assert execute.execute_book(2, tmp_path / "book", tmp_path, cache, (), {}) == 1
    from jupyter_cache import get_cache

    assert get_cache(str(cache)).list_cache_records() == []
    project = [Path(r.uri).stem for r in get_cache(str(cache)).list_project_records()]
    assert project == ["broken"]
    assert started.exists() and not went_on.exists()


def test_a_page_holds_before_the_cell_after_its_parameters():
    import nbformat

    code, text = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    tagged = code("x = 1", metadata={"tags": ["parameters"]})
    assert execute.hold_index(nbformat.v4.new_notebook(cells=[text("# t"), tagged, code("")])) == 2
    assert execute.hold_index(nbformat.v4.new_notebook(cells=[text("# t"), code("x = 1")])) == 0


def test_pages_run_beside_each_other_a_failure_stops_only_its_followers_and_all_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """``first`` and ``second`` are independent: each waits (up to 30 s) for the file the other
    writes, so both finish only if they run at once. ``broken`` fails; ``after`` waits for it and
    does not run. A second call finds the two finished pages in the cache and runs the others.
    The two pages beside each other ran with ``BESIDE_ENV``."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    meet = tmp_path / "meet"
    meet.mkdir()
    wait_for = (
        "import os, pathlib, time\n"
        "print(os.environ.get('OMP_WAIT_POLICY'))\n"
        "(pathlib.Path({mine!r})).write_text('here')\n"
        "deadline = time.time() + 30\n"
        "while not pathlib.Path({other!r}).exists() and time.time() < deadline:\n"
        "    time.sleep(0.05)\n"
        "assert pathlib.Path({other!r}).exists(), 'ran alone'\n"
    )
    one, two = str(meet / "one"), str(meet / "two")
    write_book(
        tmp_path,
        {
            "first": wait_for.format(mine=one, other=two),
            "second": wait_for.format(mine=two, other=one),
            "broken": "raise ValueError('on purpose')",
            "after": "print('ran')",
        },
    )
    cache = tmp_path / "cache"

    def run() -> int:
        return execute.execute_book(
            2, tmp_path / "book", tmp_path, cache, independent=("first", "second"), rules={}
        )

    assert run() == 1
    from jupyter_cache import get_cache

    records = get_cache(str(cache)).list_cache_records()
    assert sorted(Path(r.uri).stem for r in records) == ["first", "second"]
    assert all(r.data["executed_by"] == execute.EXECUTED_BY for r in records)
    assert [printed(cache, r.pk) for r in records] == ["PASSIVE\n"] * 2
    project = {Path(r.uri).stem: r for r in get_cache(str(cache)).list_project_records()}
    assert "on purpose" in project["broken"].traceback
    assert "after" not in project  # never started
    for name in ("one", "two"):
        (meet / name).unlink()
    assert run() == 1  # the cached pages are not executed again (they would wait 30 s and fail)
    assert not (meet / "one").exists()


def printed(cache: Path, pk: int) -> str:
    """What the cached notebook ``pk`` printed."""
    from jupyter_cache import get_cache

    cells = get_cache(str(cache)).get_cache_bundle(pk).nb.cells
    return "".join(o.get("text", "") for c in cells for o in c.get("outputs", []))


def test_a_page_that_runs_alone_keeps_the_environment(tmp_path: Path, monkeypatch):
    """A chain of two pages: each runs alone (the second waits for the first), so neither gets
    ``BESIDE_ENV``: PyTorch's threads spin, as they would in Jupyter Book's own execution."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    show = "import os\nprint(os.environ.get('OMP_WAIT_POLICY'))"
    write_book(tmp_path, {"one": show, "two": f"{show}  # two"})  # a cache key is the code
    cache = tmp_path / "cache"
    assert execute.execute_book(2, tmp_path / "book", tmp_path, cache, (), {}) == 0
    from jupyter_cache import get_cache

    records = get_cache(str(cache)).list_cache_records()
    assert [printed(cache, r.pk) for r in records] == ["None\n"] * 2


def test_runs_alone_only_when_nothing_else_can_run_until_it_ends():
    needs = execute.waits_for(CHAIN, independent=("intro",), rules={"d": ("b",)})
    closure = execute.all_prerequisites(needs)
    assert closure["d"] == {"a", "b"}
    assert execute.runs_alone("b", 0, {"b", "c", "d"}, closure)
    assert not execute.runs_alone("b", 1, {"b", "c", "d"}, closure)  # something runs
    assert not execute.runs_alone("a", 0, {"a", "intro", "b"}, closure)  # intro may start
    assert not execute.runs_alone("c", 0, {"c", "d"}, closure)  # d does not wait for c


@pytest.mark.book  # reads what the book build made (make test: after it)
def test_the_build_found_every_page_in_the_cache_this_script_filled():
    """Each notebook page's cache record, the one Jupyter Book's build read for its current code,
    was made by book/execute.py: the build executed no page itself (myst-nb's own records carry
    no ``executed_by``), so the two read the pages alike and no page ran twice."""
    import yaml
    from jupyter_cache import get_cache

    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    cache = get_cache(str(execute.CACHE))
    for page in execute.notebook_pages(config, toc):
        record = cache.match_cache_notebook(page.notebook)  # KeyError: not in the cache
        assert record.data.get("executed_by") == execute.EXECUTED_BY, page.name


def test_the_executed_copy_of_a_cached_page_gets_its_outputs_back(tmp_path: Path):
    """book/executed_copies.py: myst-nb wrote a cached page's copy without outputs; after the page
    is read, the copy holds the cached outputs and execution counts. A copy that has outputs (a
    page myst-nb executed itself) and a page not in the cache are left as they are."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    spec = importlib.util.spec_from_file_location(
        "executed_copies", ROOT / "book" / "executed_copies.py"
    )
    copies = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copies)

    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    source.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    executed = copy.deepcopy(source)
    executed.cells[0].execution_count = 1
    executed.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    cache = tmp_path / "cache"
    get_cache(str(cache)).cache_notebook_bundle(CacheBundleIn(executed, "page.md"), False)
    out = tmp_path / "jupyter_execute"
    out.mkdir()
    nbformat.write(source, out / "page.ipynb")
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(2)")])
    nbformat.write(other, out / "other.ipynb")

    class Env:
        mystnb_config = type("C", (), {"output_folder": str(out), "execution_cache_path": cache})

    for docname in ("page", "other", "plain"):  # a notebook in the cache, one not, a Markdown page
        Env.docname = docname
        copies.restore_outputs(type("App", (), {"env": Env})(), None)
    restored = nbformat.read(out / "page.ipynb", as_version=4).cells[0]
    assert restored.execution_count == 1 and restored.outputs[0].text == "1\n"
    assert nbformat.read(out / "other.ipynb", as_version=4).cells[0].outputs == []
    assert sorted(p.name for p in out.iterdir()) == ["other.ipynb", "page.ipynb"]


def test_ctrl_c_ends_a_held_page_and_its_kernel(tmp_path: Path):
    """A page held after its parameters cell (no GO yet) gets Ctrl-C: its process ends within
    seconds and its kernel with it (Python's own handler would leave both waiting)."""
    import os
    import signal
    import subprocess

    import nbformat

    kernel_pid = tmp_path / "kernel pid"
    parameters = (
        f"import os, pathlib; pathlib.Path({str(kernel_pid)!r}).write_text(str(os.getpid()))"
    )
    cells = [
        nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('went on')"),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, tmp_path / "page.ipynb")
    command = [sys.executable, str(ROOT / "book" / "execute.py"), "--one", str(tmp_path)]
    child = subprocess.Popen([*command, "--cwd", str(tmp_path), "--timeout", "60"])
    try:
        deadline = time.time() + 60
        while not kernel_pid.exists() and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # past the parameters cell, holding
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=20) != 0
    finally:
        child.kill()
    pid = int(kernel_pid.read_text())
    with pytest.raises(ProcessLookupError):  # the kernel is gone
        os.kill(pid, 0)
    assert not (tmp_path / "outcome.json").exists()
