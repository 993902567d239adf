"""The book's full-run page (``book/full_run.md``) shows the committed full-mode tables
(``results/full/``) as they are: every table on the page is its file, cell for cell, the files are
a full-mode run of the command line on MIT-BIH, and every figure the page shows is there.

The page is executed by the book build (``make book``), like the tutorials; the tests read what that
execution wrote.
"""

from __future__ import annotations

import csv
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import executed_code_cells
from ecgkd.config import project_root
from ecgkd.report import FULL_RUN_DIR, full_run_folder, full_run_table, show_full_run

pytestmark = pytest.mark.book  # reads what the book build made (make test: after it)

BOOK = project_root() / "book"
PAGE = BOOK / "full_run.md"
EXECUTED = project_root() / "_build" / "jupyter_execute" / "book"
CAPTION = re.compile(re.escape(FULL_RUN_DIR) + r"/([A-Za-z0-9_]+)\.csv")


class TableParser(HTMLParser):
    """The caption and the rows (header first) of the HTML tables in a page, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._caption is not None:
            self._caption.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse_tables(html: str) -> list[dict]:
    parser = TableParser()
    parser.feed(html)
    return parser.tables


def same_cell(shown: str, written: str, precision: int = 4) -> bool:
    """A shown cell equals the file's when it is the same text, or the same number to the
    page's precision (a missing value shows as '-')."""
    if shown == written or (shown == "-" and written in ("", "nan", "NaN")):
        return True
    try:
        a, b = float(shown), float(written)
    except ValueError:
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 0.5 * 10**-precision * (1 + 1e-9) + 1e-12 * abs(b)


def file_rows(name: str, folder: Path | None = None) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a committed table, read with the csv module, not with the page's code."""
    with open(Path(folder or full_run_folder()) / f"{name}.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def check_table(table: dict, folder: Path | None = None) -> str:
    """Check one shown table against its file; returns the file's name. Field / value tables (a
    one-row file read down) are compared field by field."""
    match = CAPTION.search(table["caption"])
    assert match, f"a table on the page names no file of {FULL_RUN_DIR}: {table['caption']!r}"
    name = match.group(1)
    header, rows = file_rows(name, folder)
    shown_header, *shown = table["rows"]
    if shown_header == ["field", "value"]:
        assert len(rows) == 1 and [r[0] for r in shown] == header, name
        assert all(same_cell(s[1], w) for s, w in zip(shown, rows[0])), name
        return name
    assert set(shown_header) <= set(header), f"{name}: columns not in the file"
    assert len(shown) == len(rows), f"{name}: {len(shown)} rows shown, {len(rows)} in the file"
    for i, (shown_row, row) in enumerate(zip(shown, rows)):
        written = dict(zip(header, row))
        for column, cell in zip(shown_header, shown_row):
            assert same_cell(cell, written[column]), (
                f"{name}, row {i}, {column}: page {cell!r}, file {written[column]!r}"
            )
    return name


def page_tables(page: Path = PAGE) -> list[str]:
    """The tables a page's source asks for, in order."""
    return re.findall(r'show_full_run\(\s*"([a-z_]+)"', page.read_text())


def page_figures() -> list[str]:
    return re.findall(r"\]\(\.\./" + re.escape(FULL_RUN_DIR) + r"/([^)]+)\)", PAGE.read_text())


def test_the_page_is_in_the_book_and_its_files_are_committed():
    assert "file: book/full_run\n" in (project_root() / "book" / "_toc.yml").read_text()
    names = page_tables()
    assert len(names) >= 15 and len(set(names)) == len(names)
    for name in names:
        assert (full_run_folder() / f"{name}.csv").is_file(), f"{name}.csv missing"
    assert page_figures()
    for figure in page_figures():
        assert (full_run_folder() / figure).is_file(), f"{figure} missing"


def test_the_files_are_a_full_mode_run_of_the_command_line_on_mitbih():
    provenance = full_run_table("provenance").iloc[0]
    assert provenance["mode"] == "full"
    assert "--full" in provenance["command"] and "mitbih" in provenance["command"]
    assert "uncommitted" not in provenance["commit"]
    assert re.fullmatch(r"[0-9a-f]{40}", provenance["commit"])
    stages = set(full_run_table("stage_times")["stage"])
    assert {"teacher", "students", "quantum", "evaluate", "transfer"} <= stages
    assert set(full_run_table("stage_times")["mode"]) == {"full"}
    data = full_run_table("data")
    assert set(data["dataset"]) == {"mitbih"}
    assert int(data.loc[data["split"] == "test", "records"].iloc[0]) == 22  # DS2, whole records


@pytest.mark.parametrize("page", ["full_run", "status"])
def test_the_page_shows_every_table_as_its_file(page: str):
    """Each table of the full run that the executed page shows is its CSV file, cell for cell,
    and every table the page's source asks for is shown (the status page shows the run's
    provenance and stage times beside tables of its own build)."""
    cells = executed_code_cells(EXECUTED / f"{page}.ipynb")
    html = [
        o["data"]["text/html"]
        for c in cells
        for o in c.outputs
        if o.output_type in ("display_data", "execute_result") and "text/html" in o["data"]
    ]
    tables = [table for text in html for table in parse_tables(text)]
    if page != "full_run":  # only the full run's tables here: those that name their file
        tables = [table for table in tables if FULL_RUN_DIR in table["caption"]]
    assert [check_table(table) for table in tables] == page_tables(BOOK / f"{page}.md")


def test_the_check_fails_on_a_changed_cell(tmp_path: Path, monkeypatch):
    """A table shown from a file that differs from the committed one in one number is caught."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.csv").write_text("model,auroc,note\na,0.91234,\nb,0.85,x\n")
    monkeypatch.setattr("ecgkd.report.full_run_folder", lambda: tmp_path)
    html = show_full_run("t", "A table").to_html()
    table = parse_tables(html)[0]
    assert check_table(table, tmp_path) == "t"
    (tmp_path / "t.csv").write_text("model,auroc,note\na,0.91334,\nb,0.85,x\n")
    with pytest.raises(AssertionError, match="row 0, auroc"):
        check_table(table, tmp_path)


def test_only_a_one_row_table_is_read_down(tmp_path: Path, monkeypatch):
    (tmp_path / "t.csv").write_text("model,auroc\na,0.9\nb,0.8\n")
    monkeypatch.setattr("ecgkd.report.full_run_folder", lambda: tmp_path)
    with pytest.raises(ValueError, match="t.csv has 2 rows"):
        show_full_run("t", "A table", read_down=True)
