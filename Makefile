# claimcheck: two commands do all the set-up. `make demo` runs the main job on the
# bundled sample claims; `make test` runs the tests. Both install what they need.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
OUT     ?= out

export OMP_THREAD_LIMIT ?= 1

.PHONY: setup system-deps demo test lint bench clean

setup: system-deps $(STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

# Re-installs only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -m pip install -q -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -m pip install -q --no-deps $$($(PY) -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['tool']['claimcheck']['no-deps']))") 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -c "import pipeline, pytest, rapidocr_onnxruntime" || (echo "python install failed" >&2; exit 1)
	@touch $(STAMP)

demo: setup
	@$(VENV)/bin/claimcheck probe >&2
	@bash scripts/demo.sh $(OUT)

test: setup
	@$(VENV)/bin/pytest -q

lint: setup
	@$(VENV)/bin/ruff check pipeline tests bench

bench: setup
	@$(PY) bench/bench_ocr.py
	@$(PY) bench/bench_barcodes.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
