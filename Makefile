PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Scan the bundled example; it has findings on purpose, so exit 1 is expected and fine,
# but an incomplete scan (exit 2) fails the demo.
demo: $(STAMP)
	@rc=0; $(BIN)/premortem scan examples/payments-outage || rc=$$?; \
	if [ $$rc -gt 1 ]; then echo "demo: scan incomplete (exit $$rc)"; exit $$rc; fi; \
	echo "demo: premortem exited $$rc (1 = findings at or above --fail-on high, as expected here)"

test: $(STAMP)
	$(BIN)/python -m premortem.docs docs/rules --check
	$(BIN)/python -m pytest

docs: $(STAMP)
	$(BIN)/python -m premortem.docs docs/rules

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
