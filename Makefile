# The course's commands. `make lab` and `make test` need nothing but python3 and pip:
# both create .venv and install the course into it first (fast when already done).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
KERNEL := $(VENV)/share/jupyter/kernels/python3/kernel.json
# nbgrader runs helper programs (alembic) by name: the venv's bin must come first.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# Every course kernel runs with hash seed 0, so that iterating a set or dict of strings (node
# ids) goes in the same order in every kernel and a replayed failure fails again. Recipes and
# the kernels they start inherit it (nbval's kernels in `make test` read no kernelspec); the
# venv's kernelspec (below) and nbgrader_config.py set it too, for kernels started without make.
export PYTHONHASHSEED := 0
ASSIGNMENTS = $(notdir $(wildcard solutions/*))

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

# The venv's python3 kernel (used by JupyterLab however it is started, and by nbgrader) sets
# PYTHONHASHSEED=0 itself. Checked on every setup: reinstalling ipykernel rewrites kernel.json.
setup: $(STAMP)
	@grep -q '"PYTHONHASHSEED": "0"' $(KERNEL) 2>/dev/null || $(BIN)/python -m ipykernel install \
		--sys-prefix --name python3 --display-name "Python 3 (ipykernel)" --env PYTHONHASHSEED 0 >/dev/null

# jupyter_server refuses to run as root without being told (containers, CI machines).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--ServerApp.allow_root=True)

lab: setup
	$(BIN)/jupyter lab --no-browser --ServerApp.root_dir="$(CURDIR)" $(ALLOW_ROOT)

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile tests notebooks course_lib --doctest-modules --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --durations=15

# Regenerate exercises/ from solutions/ (maintainers). It would overwrite a learner's answers,
# so it refuses when exercises/ has uncommitted changes unless FORCE=1.
exercises: setup
	@if [ -z "$(FORCE)" ] && [ -d .git ] && ! git diff --quiet -- exercises; then \
		echo "exercises/ has uncommitted changes (your answers?): not overwriting them."; \
		echo "Commit or copy them first, or run 'make exercises FORCE=1'."; exit 1; fi
	@for a in $(ASSIGNMENTS); do \
		nbgrader generate_assignment "$$a" --force --log-level=WARN || exit 1; done
	@echo "exercises/ regenerated from solutions/ for: $(ASSIGNMENTS)"

# Check your answers in exercises/ (runs a copy; your files are never modified).
check: setup
	$(BIN)/python tools/check_exercises.py $(ASSIGNMENT)

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
