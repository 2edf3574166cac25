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

.PHONY: build lint-template

## build: sam build (layer + functions, python3.12, arm64) into .aws-sam/build
build:
	@test -n "$(PY312_BIN)" || { echo "no python3.12 found: set PY312_BIN=<folder with python3.12>" >&2; exit 1; }
	PATH="$(PY312_BIN):$$PATH" $(SAM) build

## lint-template: cfn-lint and sam validate --lint on template.yaml
lint-template:
	$(CFN_LINT) template.yaml
	$(SAM) validate --lint --region $(AWS_REGION)
