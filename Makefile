# Loa: the two set-up commands are `make demo` and `make test`; the rest serve them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOA := $(BIN)/loa
STAMP := $(VENV)/.installed
MO := messages/vi/LC_MESSAGES/loa.mo
PO := messages/vi/LC_MESSAGES/loa.po
DEMO_DIR := var/demo
DEMO_HOUSEHOLDS ?= 3000
DEMO_COMMUNES ?= 12

.PHONY: demo test lint messages bench install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Loa needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP) $(MO)

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d messages -D loa -l vi

messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --no-location --sort-output \
		--project loa -o messages/loa.pot bot handlers messages storage scheduler web
	$(BIN)/pybabel update -i messages/loa.pot -d messages -D loa -l vi --no-fuzzy-matching --ignore-obsolete -w 100
	$(BIN)/pybabel compile -d messages -D loa -l vi

demo: install
	mkdir -p $(DEMO_DIR)
	$(LOA) db upgrade
	$(LOA) demo-data --households $(DEMO_HOUSEHOLDS) --communes $(DEMO_COMMUNES) --seed 2025 \
		--areas-out $(DEMO_DIR)/don-vi-hanh-chinh.xlsx --out $(DEMO_DIR)/danh-sach-ho.xlsx \
		--loans-out $(DEMO_DIR)/khoan-vay.xlsx
	$(LOA) import areas $(DEMO_DIR)/don-vi-hanh-chinh.xlsx
	$(LOA) import households $(DEMO_DIR)/danh-sach-ho.xlsx
	$(LOA) import loans $(DEMO_DIR)/khoan-vay.xlsx
	$(LOA) survey import messages/vi/surveys/*.csv
	$(LOA) demo-outreach
	$(LOA) demo-staff --save $(DEMO_DIR)/tai-khoan.txt
	LOA_DEMO=1 $(LOA) run --host 127.0.0.1 --port 8000

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/import_households.py
	$(BIN)/python benchmarks/dialogue.py
	$(BIN)/python benchmarks/pacing.py
	$(BIN)/python benchmarks/crash.py
	$(BIN)/python benchmarks/outreach.py
	$(BIN)/python benchmarks/console.py

clean:
	rm -rf $(VENV) var build *.egg-info $(MO)
