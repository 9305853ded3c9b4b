# 一件事导办助手 — the two commands a new user needs are `make run` and `make test`.
# Everything else is a building block of those two.
SHELL := /bin/bash
.DEFAULT_GOAL := help
APP_PY := .venv/app/bin/python
RASA := .venv/rasa/bin/rasa
# Offline county server: Rasa must not try to send telemetry or crash reports (it does by default).
export RASA_TELEMETRY_ENABLED ?= false

.PHONY: help setup setup-test run test lint test-py test-rasa validate cross-validate nlu-blind bench bench-search eval-real import clean staff-user

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup:  ## install what is missing (venvs, redis-server), train the model and build the index if inputs changed
	@scripts/setup.sh

setup-test:  ## setup plus what the tests need (chromium)
	@scripts/setup.sh --with-browser

run: setup  ## set up, then start Redis, actions, Rasa and the gateway; Ctrl-C stops all
	@$(APP_PY) scripts/stack.py run

test: setup-test  ## set up, then run every test (lint, data validate, NLU entity check and blind set, rasa test stories, pytest incl. end-to-end)
	@scripts/test.sh

lint:  ## ruff over the Python code
	@.venv/app/bin/ruff check .

test-py:  ## pytest only (assumes setup)
	@HF_HUB_OFFLINE=1 $(APP_PY) -m pytest -q

validate:  ## rasa data validate, and NLU entity annotations match what the extractor finds
	@$(RASA) data validate --fail-on-warnings
	@.venv/rasa/bin/python scripts/check_nlu_entities.py

test-rasa:  ## Rasa test stories in tests/rasa (assumes setup)
	@$(RASA) test core --model models/current.tar.gz --stories tests/rasa --fail-on-prediction-errors --out var/results/core

cross-validate:  ## 5-fold NLU cross-validation report into var/results/nlu-cv (slow; not run in CI)
	@$(RASA) test nlu --nlu data/nlu --cross-validation --folds 5 --out var/results/nlu-cv
	@$(APP_PY) scripts/nlu_gate.py var/results/nlu-cv --min-macro-f1 0.92

nlu-blind: setup  ## the trained model on the blind held-out set tests/nlu/blind.yml
	@$(RASA) test nlu --nlu tests/nlu/blind.yml --model models/current.tar.gz --out var/results/nlu-blind
	@$(APP_PY) scripts/nlu_gate.py var/results/nlu-blind

bench: setup  ## chat turn benchmark against the stock moodbot baseline
	@HF_HUB_OFFLINE=1 $(APP_PY) bench/turns.py

bench-search: setup  ## knowledge search latency
	@HF_HUB_OFFLINE=1 $(APP_PY) bench/search_latency.py

eval-real: setup  ## issue 13's figures on the realistic citizen messages: the two annotators' agreement on test, resolve() on dev and test, then end to end through /api/chat on test
	@$(APP_PY) -m knowledge.eval.agreement
	@HF_HUB_OFFLINE=1 $(APP_PY) -m knowledge.eval.real --eval --split dev
	@HF_HUB_OFFLINE=1 $(APP_PY) -m knowledge.eval.real --eval --split test
	@HF_HUB_OFFLINE=1 $(APP_PY) scripts/eval_real_e2e.py --split test --json var/results/eval-real-e2e.json

import:  ## re-import the official data into knowledge/catalogue
	@$(APP_PY) -m knowledge import $${HUNAN_DATA:-../shared/data/hunan-onething}
	@$(APP_PY) -m knowledge validate

clean:  ## remove trained models, caches and runtime data (keeps the venvs)
	rm -rf models var .rasa results

staff-user:  ## create a staff console user, or set a new password: make staff-user USER=name [STAFF_NAME=张三] (password from stdin)
	@if [ "$(origin USER)" != "command line" ]; then echo "Say whose account: make staff-user USER=name (the password is read from standard input)." >&2; exit 1; fi
	@$(APP_PY) scripts/staff_user.py '$(USER)' $(if $(STAFF_NAME),--display-name '$(STAFF_NAME)')
