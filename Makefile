# ecgkd: two commands on a fresh clone (Linux or macOS, Python 3.11+, internet for pip only).
#   make run    set up .venv, then execute every tutorial in quick mode and build the book (_build/html)
#   make test   set up .venv, build the book (executes every notebook, quick mode) and run the tests
# Quick mode is the default on the shipped sample; full mode (the real experiment) on the full data:
#   make run ECGKD_DATA=~/ecg-data        (or QUICK=0 to force full mode, QUICK=1 to force quick mode)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
QUICK ?=
# pytest-xdist workers for `make test`: the two longest tests start first (tests/conftest.py) and
# an idle worker takes queued tests from a busy one (--dist worksteal), so neither waits at the end
TEST_WORKERS ?= 2
# Executed notebooks are stored in the book: no progress-bar frames in them.
EXECUTE_ENV := ECGKD_PROGRESS=0 $(if $(QUICK),ECGKD_QUICK=$(QUICK),)
NOTEBOOKS := $(sort $(wildcard tutorials/[0-9][0-9]_*.ipynb))

.PHONY: setup run book test clean

# Installing: PyTorch with pip, whose configuration may point at a local copy of its CPU build (uv
# does not look there), then the ~200 other packages with uv, which downloads and installs them in
# parallel (a fresh venv with empty caches: 7.6 s, pip 19.3 s); both keep the installed torch.
# pip installs torch and uv alone (--no-deps; in a fresh clone's make run 4.8 s, with torch's eight
# dependencies 6.2 s); uv resolves those from the installed torch's metadata, with the rest.
# rfc3987-syntax goes: jsonschema (through nbformat) imports it, when present, to check IRIs, which
# no notebook's schema has, and it builds ~35 parsers at import: `import nbformat` takes 1.1 s with
# it and 0.2 s without, in each of the build's ~15 processes (jupytext, book/execute.py and each
# page's process, Jupyter Book, the test workers). jsonschema then skips that check.
# Bytecode: pip would compile all ~17,000 installed modules, one file at a time (--no-compile skips
# that); Python compiles the ~5,000 that the notebooks, the book and the tests import, once, the
# first time each is imported, and keeps them, even where the environment says not to
# (PYTHONDONTWRITEBYTECODE, which would compile them again in every kernel: 13 s of imports, not 6).
unexport PYTHONDONTWRITEBYTECODE
# The tests: an idle OpenMP thread of PyTorch sleeps instead of spinning. There, more processes
# than cores compute at once (two test workers beside the command line's own workers), and spinning
# threads take the cores from those that work (the suite: 216 s spinning, 162 s passive, the same
# numbers). book/execute.py sets the same for the notebooks it runs beside each other.
TEST_ENV := OMP_WAIT_POLICY=PASSIVE

$(VENV)/.ecgkd-installed: pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else f"ecgkd needs Python 3.11+; {sys.executable} is {v.major}.{v.minor}. Run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile --no-deps torch==2.13.0 uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	$(BIN)/uv pip uninstall --quiet --python $(BIN)/python rfc3987-syntax
	touch $@

setup: $(VENV)/.ecgkd-installed

run: book
	@echo "The book, every notebook executed: _build/html/index.html (executed notebooks: _build/jupyter_execute/)"

# book/execute.py executes the book's notebook pages (the py:percent tutorials), two at a time where
# their caches allow it, into the cache that Jupyter Book reads (_build/.jupyter_cache); the build
# then executes nothing itself, and fails on any warning.
book: setup
	$(BIN)/jupytext --sync $(NOTEBOOKS:.ipynb=.py)
	$(EXECUTE_ENV) $(BIN)/python book/execute.py
	$(EXECUTE_ENV) $(BIN)/jupyter-book build . --config book/_config.yml --toc book/_toc.yml \
		--path-output . -W --keep-going

# The book build executes every notebook once (quick mode). The tests marked `book` then check that
# execution (tests/test_notebooks.py) and reuse its caches (trained teachers, grid runs and their
# weights). All the others need nothing from the book: they run beside its build at the lowest
# priority, so that they take only what the notebooks leave of the two cores (kernel starts,
# imports, one-thread steps), each with an empty cache of its own (tests/conftest.py:
# ECGKD_TESTS_BESIDE_BOOK). Their output is printed at the end and kept in $(BESIDE_LOG).
TEST_ENV += ECGKD_QUICK=1 ECGKD_PROGRESS=0
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal
BESIDE_LOG := _build/tests-beside-the-book.log
test: setup
	mkdir -p _build; \
	$(TEST_ENV) ECGKD_TESTS_BESIDE_BOOK=1 $(PYTEST) -m "not book" >$(BESIDE_LOG) 2>&1 & \
	beside=$$!; trap 'kill $$beside 2>/dev/null' INT TERM; \
	$(MAKE) book QUICK=1 && $(TEST_ENV) $(PYTEST) -m book; after=$$?; \
	wait $$beside; before=$$?; \
	echo "== the tests run beside the book's build ($(BESIDE_LOG)), exit status $$before:"; \
	cat $(BESIDE_LOG); \
	exit $$(( after || before ))

clean:
	rm -rf _build cache
