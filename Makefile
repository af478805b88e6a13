# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench bench-screening bench-automation cluster clean

$(STAMP): requirements.txt requirements-nodeps.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q pip==26.3
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m server

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser"

# Load benchmark: an embedded server and N concurrent WebRTC candidates, ramped 1..4 (a 2-vCPU box
# holds only a few), every step run even past the targets; results in benchmarks/results/.
# e.g. make bench BENCH_ARGS="--steps 1,2,3 --step-seconds 45 --compare CANDOR_ASR_WINDOW=full"
BENCH_ARGS ?= --steps 1,2,3,4 --step-seconds 60 --warmup-seconds 15 --no-stop
bench: $(STAMP)
	$(PY) -m benchmarks load $(BENCH_ARGS)

# Screening: generated resumes (zh/en x PDF/DOCX/TXT) parsed and scored against the shipped jobs,
# resumes per minute and score vs truth; results in benchmarks/data/screening-<date>.json.
SCREENING_ARGS ?= --n 300
bench-screening: $(STAMP)
	$(PY) -m benchmarks screening $(SCREENING_ARGS)

# Automation: N screened applications invited by a rule over real SMTP (aiosmtpd on loopback), against the outbox
# alone; results in benchmarks/data/automation-<date>.json.
AUTOMATION_ARGS ?= --n 1000
bench-automation: $(STAMP)
	$(PY) -m benchmarks automation $(AUTOMATION_ARGS)

# Several nodes on this machine (docs/deploy.md): a private PostgreSQL and Redis (append-only) under
# var/cluster, the schema migrated once, nodes on 127.0.0.1:8001-8003 with node 1 (8001) the entry;
# prints the URLs and the HR token; Ctrl-C stops everything. CANDOR_DATABASE_URL / CANDOR_REDIS_URL
# set: those servers are used instead. e.g. make cluster CLUSTER_ARGS="--nodes 2 --base-port 9001"
CLUSTER_ARGS ?= --nodes 3
cluster: $(STAMP)
	$(PY) -m deploy.cluster $(CLUSTER_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
