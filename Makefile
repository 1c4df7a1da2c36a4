# Two commands: `make demo` runs the pipeline on bundled demo data, `make test` runs the tests.
# Both create .venv when missing and install the pinned dependencies (torch first: its CPU build).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install demo test lint eval bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/chorus demo

test: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	$(VENV)/bin/ruff check flows connectors transforms schemas tests
	$(PY) -m pytest -q

# Theme quality on CLINC150 against BERTopic, planted-trend recall/precision, stable ids.
EVAL_STAMP := $(VENV)/.eval-installed
$(EVAL_STAMP): $(STAMP) requirements-eval.lock
	$(PY) -m pip install --quiet -r requirements-eval.lock
	touch $(EVAL_STAMP)

eval: $(EVAL_STAMP)
	$(PY) -m flows.devtools.evaluate

# Speed and scale against the obvious alternatives; ends with one `bench:` line of figures.
bench: $(EVAL_STAMP)
	$(PY) -m flows.devtools.bench

lint: $(STAMP)
	$(VENV)/bin/ruff check flows connectors transforms schemas tests
	$(VENV)/bin/ruff format --check flows connectors transforms schemas tests

clean:
	rm -rf lake reports .demo
