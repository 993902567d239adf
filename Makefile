# ecgkd: two commands on a fresh clone (Linux or macOS, Python 3.11+, internet for pip only).
#   make run    set up .venv, then execute every tutorial in quick mode (executed copies in _build/notebooks)
#   make test   set up .venv, then run the unit tests and execute every notebook with nbval (quick mode)
# Full mode (the real experiment, hours on 2 cores): make run QUICK=0
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
QUICK ?= 1
NOTEBOOKS := $(sort $(wildcard tutorials/[0-9][0-9]_*.ipynb))

.PHONY: setup run test clean

$(VENV)/.ecgkd-installed: pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else f"ecgkd needs Python 3.11+; {sys.executable} is {v.major}.{v.minor}. Run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.ecgkd-installed

run: setup
	$(BIN)/jupytext --sync $(NOTEBOOKS:.ipynb=.py)
	ECGKD_QUICK=$(QUICK) $(BIN)/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
		--output-dir _build/notebooks $(NOTEBOOKS)
	@echo "Executed notebooks: _build/notebooks/"

test: setup
	ECGKD_QUICK=1 $(BIN)/python -m pytest

clean:
	rm -rf _build cache
