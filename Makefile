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

.PHONY: help setup lab test test-fast lint exercises notebooks check grade bench book clean

help:
	@echo "make lab        set up .venv and start JupyterLab on the course (honours JUPYTER_PORT, JUPYTER_TOKEN)"
	@echo "make test       set up .venv and run the whole test suite (what CI runs)"
	@echo "make lint       ruff over the code and lectures, and course_lib's layers contract"
	@echo "make exercises  regenerate exercises/ from solutions/ with nbgrader"
	@echo "make notebooks  sync each lecture's .md and .ipynb and re-execute the lectures"
	@echo "make check      check your answers in exercises/ (ASSIGNMENT=00_welcome to pick one)"
	@echo "make grade      autograde every collected submission in submitted/, WORKERS at a time (instructors)"
	@echo "make bench      run the performance benchmarks (ratios against baselines)"
	@echo "make book       build the course's website into _build/html (open _build/html/index.html)"

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

test: setup lint
	$(BIN)/python -m pytest -n 2 --dist loadscope --no-loadscope-reorder tests notebooks course_lib --doctest-modules --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --durations=15

# Lint (ruff.toml) and the layers contract of course_lib (.importlinter); part of `make test`.
lint: setup
	$(BIN)/ruff check --quiet .
	$(BIN)/lint-imports --no-cache

# Regenerate exercises/ from solutions/ (maintainers). It would overwrite a learner's answers,
# so it refuses when exercises/ has uncommitted changes unless FORCE=1.
exercises: setup
	@if [ -z "$(FORCE)" ] && [ -d .git ] && ! git diff --quiet -- exercises; then \
		echo "exercises/ has uncommitted changes (your answers?): not overwriting them."; \
		echo "Commit or copy them first, or run 'make exercises FORCE=1'."; exit 1; fi
	@for a in $(ASSIGNMENTS); do \
		nbgrader generate_assignment "$$a" --force --log-level=WARN || exit 1; done
	@echo "exercises/ regenerated from solutions/ for: $(ASSIGNMENTS)"

# Lecture notebooks come in pairs (notebooks/jupytext.toml): notebooks/<name>.md, MyST markdown,
# the source, and notebooks/<name>.ipynb, executed, what learners and nbval read. Edit either one,
# then run this: it syncs each pair, taking the cells from whichever file was saved last (so do
# not edit both), creates the missing half of a new lecture, and re-executes every .ipynb in place
# with the venv's python3 kernel (hash seed 0). Outputs live only in the .ipynb.
# One lecture only: make notebooks LECTURES=notebooks/03a_agreement
LECTURES ?= $(sort $(basename $(wildcard notebooks/*.md notebooks/*.ipynb)))
notebooks: setup
	$(BIN)/jupytext --sync --quiet $(foreach n,$(LECTURES),$(wildcard $(n).md $(n).ipynb))
	$(BIN)/python -c "$$EXECUTE_LECTURE" $(addsuffix .ipynb,$(LECTURES))

# Execute notebooks in place and keep nothing volatile, so that re-executing an unchanged lecture
# writes the same bytes: no execution timings, consecutive stream outputs merged (where the kernel
# splits a cell's printing varies between runs), and widget model ids (random uuids) renumbered
# in the order the notebook shows them. Kernels get encrypted connections (course_lib.grading.kernels),
# so they start without ipykernel's warning about unencrypted TCP. The cell timeout is short (a
# lecture runs in seconds) because a cell with widgets now and then waits out the whole timeout
# before its reply is read, then completes (jupyter/nbclient#312).
define EXECUTE_LECTURE
import hashlib, json, pathlib, re, sys
import nbformat
from nbclient import NotebookClient
from course_lib.grading.kernels import kernel_config
for path in map(pathlib.Path, sys.argv[1:]):
    print(f"executing {path}", file=sys.stderr)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3", record_timing=False, config=kernel_config(),
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    widgets = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    state = widgets.get("state", {})
    def merge_streams(outputs):
        merged = []
        for output in outputs:
            if (merged and output["output_type"] == "stream" == merged[-1]["output_type"]
                    and output["name"] == merged[-1]["name"]):
                merged[-1]["text"] += output["text"]
            else:
                merged.append(output)
        outputs[:] = merged
    for cell in nb.cells:
        merge_streams(cell.get("outputs", []))
    for model in state.values():
        merge_streams(model["state"].get("outputs", []))
    order = []
    def visit(value):
        if isinstance(value, dict):
            if isinstance(value.get("model_id"), str):
                visit_model(value["model_id"])
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, str) and value.startswith("IPY_MODEL_"):
            visit_model(value[len("IPY_MODEL_"):])
    def visit_model(model_id):
        if model_id not in order:
            order.append(model_id)
            visit(state.get(model_id, {}))
    for cell in nb.cells:
        visit(cell.get("outputs", []))
    # Models no output shows (none today), in an order that does not depend on their ids.
    masked = lambda m: re.sub("[0-9a-f]{32}", "", json.dumps(state[m], sort_keys=True))
    for model_id in sorted(set(state) - set(order), key=masked):
        visit_model(model_id)
    new = {old: hashlib.sha1(f"{path.stem}:widget:{i}".encode()).hexdigest()[:32]
           for i, old in enumerate(order)}
    def rename(value):
        if isinstance(value, dict):
            return {new.get(k, k): rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        if isinstance(value, str):
            prefix = "IPY_MODEL_" if value.startswith("IPY_MODEL_") else ""
            return prefix + new.get(value[len(prefix):], value[len(prefix):])
        return value
    nbformat.write(nbformat.from_dict(rename(nb)), path)
endef
export EXECUTE_LECTURE

# Check your answers in exercises/ (runs a copy; your files are never modified).
check: setup
	$(BIN)/python tools/check_exercises.py $(ASSIGNMENT)

# Autograde every collected submission (submitted/<student>/<assignment>/) with nbgrader's own
# `nbgrader autograde <assignment> --student=<id>`, WORKERS runs at a time (default: one per core),
# each through the course's guarded grading (nbgrader_config.py); prints each grade and the time
# per submission. Narrow it with ASSIGNMENT=00_welcome and STUDENT=alice; FORCE=1 regrades
# submissions already autograded. See "Grading a class" in the README.
grade: setup
	$(BIN)/python -m course_lib.grading.classroom --course "$(CURDIR)" $(if $(WORKERS),--workers $(WORKERS)) \
		$(foreach a,$(ASSIGNMENT),--assignment $(a)) $(foreach s,$(STUDENT),--student $(s)) $(if $(FORCE),--force)

bench: setup
	$(BIN)/python benchmarks/run.py

# The course as a website (book/): the executed lectures, the exercises' learner releases, a
# landing page and the instructors' page, with Sphinx and myst-nb. Nothing is executed or fetched;
# warnings are errors. Every lecture and exercise present is a page: a new one needs no edit here.
book: setup
	$(BIN)/python book/build.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis _build
