# BillingPulse development commands.
#
#   make run                 set up .venv, migrate, seed the demo practice, and run the web
#                            server (http://127.0.0.1:8000), a Celery worker and Celery beat
#   make test                set up .venv with the test tools (and Azurite, when npm is there)
#                            and run the whole test suite
#   make test ARGS="-k foo"  pass extra arguments to pytest
#
# Every target is phony and every path is relative or quoted, so the checkout may live
# in a directory whose path contains spaces.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 8000
ARGS ?=

export PYTHON

.PHONY: help run test lint format venv venv-dev

help:
	@echo "make run     run the web server, a Celery worker and beat (http://127.0.0.1:$(PORT))"
	@echo "make test    run the test suite; extra pytest arguments via ARGS=\"...\""
	@echo "make lint    ruff check and ruff format --check"
	@echo "make format  ruff format and ruff check --fix"

venv:
	@bash bin/ensure-venv run requirements.txt

venv-dev:
	@bash bin/ensure-venv test requirements-dev.txt requirements.txt

run: venv
	@exec bash bin/run-dev "$(PORT)"

test: venv-dev
	@bash bin/ensure-azurite
	.venv/bin/python -m pytest --create-db $(ARGS)

lint: venv-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: venv-dev
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .
