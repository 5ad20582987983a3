# The course's commands. `make lab` and `make test` need nothing but python3 and pip:
# both create .venv and install the course into it first (fast when already done).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Keep Jupyter's per-user state out of the way of a classroom rehearsal and CI.
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup lab test test-fast exercises check bench clean

help:
	@echo "make lab        set up .venv and start JupyterLab on the course (honours JUPYTER_PORT, JUPYTER_TOKEN)"
	@echo "make test       set up .venv and run the whole test suite (what CI runs)"
	@echo "make exercises  regenerate exercises/ from solutions/ with nbgrader"
	@echo "make check      check your answers in exercises/ (ASSIGNMENT=00_welcome to pick one)"
	@echo "make bench      run the performance benchmarks (ratios against baselines)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[course]'
	@# JupyterLab 4 asks new users about news on first start: not in this environment.
	$(BIN)/jupyter labextension disable --level=sys_prefix "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1
	@touch $@

setup: $(STAMP)

lab: setup
	$(BIN)/jupyter lab --no-browser --ServerApp.root_dir="$(CURDIR)"

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
