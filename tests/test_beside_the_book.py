"""``make test`` runs the tests not marked ``book`` beside the book's build: each gets an empty
cache of its own, and one that writes there (it needs what the build makes) fails with the marker
to add (tests/conftest.py)."""

from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

INNER = """
import os
from pathlib import Path

import pytest


def test_uses_the_cache():
    Path(os.environ["ECGKD_CACHE"], "teacher").mkdir(parents=True)


def test_reads_nothing():
    assert Path(os.environ["ECGKD_CACHE"]).name.startswith("not-the-books-cache")


@pytest.mark.book
def test_marked_book(outer_cache):
    assert os.environ["ECGKD_CACHE"] == outer_cache
"""


@pytest.mark.parametrize("beside", [True, False])
def test_a_test_beside_the_book_gets_an_empty_cache_and_fails_if_it_writes_there(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, beside: bool
):
    pytester.makeconftest(
        Path(__file__).with_name("conftest.py").read_text()
        + "\n\n@pytest.fixture\ndef outer_cache():\n    return os.environ['ECGKD_CACHE']\n"
    )
    pytester.makeini("[pytest]\nmarkers =\n    book: after the build\n")
    pytester.makepyfile(INNER)
    monkeypatch.setenv("ECGKD_CACHE", str(pytester.path / "the-books-cache"))
    if beside:
        monkeypatch.setenv("ECGKD_TESTS_BESIDE_BOOK", "1")
    else:
        monkeypatch.delenv("ECGKD_TESTS_BESIDE_BOOK", raising=False)
    # beside the book, the run takes the lowest priority for its process: a process of its own
    run = pytester.runpytest_subprocess if beside else pytester.runpytest
    result = run("-p", "no:cacheprovider")
    if beside:
        result.assert_outcomes(passed=3, errors=1)
        result.stdout.fnmatch_lines(
            ["*test_uses_the_cache used the shared cache (teacher)*mark it @pytest.mark.book*"]
        )
    else:  # a plain pytest: every test sees the cache it is given
        result.assert_outcomes(passed=2, failed=1)  # test_reads_nothing
