# Two entry points: `make demo` and `make test`. Both create .venv if missing and install.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all test-portable lint install clean readme

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,docs]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/febm divergences
	$(BIN)/febm show jeffreys
	$(BIN)/febm show "(t-1)*atan(t-1)"
	$(BIN)/febm check kl
	$(BIN)/febm check kl --model shifted-linear
	$(BIN)/febm check "(t-1)**4" --no-simulation
	$(BIN)/febm confirm kl --model shifted-linear --lr-ratio 5
	$(BIN)/febm reproduce paper-1d --plot figures-out/paper-1d
	$(BIN)/febm atlas --model paper-1d
	$(BIN)/febm figures --fast --out figures-out
	@echo ""
	@echo "febm demo done. It derived f-divergences, linearized the f-EBM game on toy models and checked"
	@echo "the verdicts with minibatch runs, refit the paper's 1-D experiment, and predicted per f on"
	@echo "paper-1d whether training works (the atlas table above)."
	@echo "  short-run figures:   $(CURDIR)/figures-out (open failures.png first)"
	@echo "  full figures:        $(CURDIR)/docs/figures (tracked; to redraw them: .venv/bin/febm figures --out figures-full)"
	@echo "  run febm yourself:   .venv/bin/febm --help   (or: source .venv/bin/activate)"
	@echo "  read the docs:       .venv/bin/mkdocs serve, then http://127.0.0.1:8000"

# README.md is README.template.md with its placeholders filled from docs/results (febm/docs_render.py);
# the docs pages are filled the same way by docs/hooks/results.py as mkdocs builds them.
readme: $(STAMP)
	$(BIN)/python -m febm.docs_render

# The suite in two processes (one per core). worksteal hands each worker a contiguous half of the
# tests (so module fixtures are mostly built once) and lets an idle worker take the other's last
# tests: 4:14 against 4:29 with whole files per worker. The site's strict build is one of the
# tests. Cases over ~10 s that repeat a property tested faster are marked slow and run by test-all.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist worksteal -m "not slow"

test-all: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist worksteal

# The fast suite on one core, with NumPy's baseline CPU features, beside busy processes, from another
# folder, in random order and twice in a row (.ci/portable; PORTABLE_ONLY="random twice" picks some).
test-portable: $(STAMP)
	.ci/portable

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
