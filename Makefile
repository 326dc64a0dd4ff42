# newswatch entry points. The virtual environment lives in .venv; Elasticsearch is started by infra/.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
NW := $(VENV)/bin/newswatch
export PREFECT_HOME ?= $(CURDIR)/.newswatch/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

.PHONY: install up down status up-dask down-dask demo test lint bench clean web

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

up: ## start Elasticsearch 9 on loopback (or check NEWSWATCH_ES_URL)
	bash infra/elasticsearch.sh up

down: ## stop Elasticsearch (and the secured test instance) and the Prefect server
	bash infra/elasticsearch.sh down
	NEWSWATCH_ES_PORT=9201 NEWSWATCH_ES_TLS=true bash infra/elasticsearch.sh down
	bash infra/prefect.sh down

status:
	bash infra/elasticsearch.sh status || true
	bash infra/prefect.sh status || true
	bash infra/dask.sh status || true

up-dask: install ## a Dask scheduler and NEWSWATCH_DASK_WORKERS (2) workers on loopback, for runner = "dask"
	bash infra/dask.sh up

down-dask:
	bash infra/dask.sh down

demo: install up ## the whole job on the bundled feeds, then search results and alerts
	$(NW) run --once
	$(NW) search Lukashenko
	$(NW) alerts

test: install up ## every test, integration ones against the real Elasticsearch
	$(PY) -m pytest -q

web: install up ## the web app and JSON API on http://127.0.0.1:8080/ (NEWSWATCH_WEB_PORT to change)
	$(NW) web

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf .newswatch
