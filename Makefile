# Two commands for a newcomer: `make run` (demo against the embedded AWS) and `make test`.
# Both create .venv on first use with Python 3.12 when it runs (else python3 >= 3.11).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov has an environment of its own (tools/checkov-requirements.txt says why).
CHECKOV_VENV := .venv-tools/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# Offline: --skip-download fetches no guidelines or policies from Prisma Cloud (no API key is given), and
# CKV_SKIP_PACKAGE_UPDATE_CHECK skips the look-up of checkov's latest release. Suppressions live in the
# template's Metadata (README, "Template security scan"); a finding without one fails the target.
CHECKOV := CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov --framework cloudformation \
	--skip-download --quiet --compact
TRANSFORMED := build/template.transformed.json

.PHONY: run test environments lint typecheck unit integration bench bench-moto reliability clean

# scripts/build-venv holds a lock while it builds, so two first-time commands at once do not build the same
# environment twice, and it builds again an environment left half-made (README, "Set-up").
$(STAMP): pyproject.toml src/requirements.txt scripts/find-python scripts/build-venv
	@# src/ is laid out like Lambda's /var/task (handler.py and services/ at its root), so it is
	@# put on the venv's path as a root of its own, the way the Lambda runtime imports it.
	@scripts/build-venv $(VENV) $(STAMP) --src-root src $^ -- -r src/requirements.txt -e '.[dev,cdk]'

$(CHECKOV_STAMP): tools/checkov-requirements.txt scripts/find-python scripts/build-venv
	@scripts/build-venv $(CHECKOV_VENV) $(CHECKOV_STAMP) $^ -- -r tools/checkov-requirements.txt

# Both environments side by side: pip waits on downloads and the disk as much as on the CPU, so on 2
# cores they take about 35 s together from a fresh clone, 55 s one after the other.
environments:
	@$(MAKE) -q $(STAMP) $(CHECKOV_STAMP) || $(MAKE) --no-print-directory -j2 $(STAMP) $(CHECKOV_STAMP)

# `make run EXISTING_TABLE=wardrobe-app`: the same loop on an app's table (template parameter ExistingTableName).
run: $(STAMP)
	$(PY) -m local_runtime.cli.demo $(if $(EXISTING_TABLE),--existing-table $(EXISTING_TABLE))

lint: environments
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The SAM template as written; tests/unit/test_template.py also lints it after samtranslator's transform.
	$(VENV)/bin/cfn-lint template.yaml
	@# The security scan, on the template as written and as CloudFormation gets it after the SAM transform.
	$(PY) -m tests.cloudformation $(TRANSFORMED)
	$(CHECKOV) --file template.yaml --file $(TRANSFORMED)

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

integration: $(STAMP)
	$(PY) -m pytest tests/integration -q

# Four pytest workers on two cores: most tests wait on sockets, pollers and clocks, not on the CPU
# (the suite takes about half the time it takes in one process). Each worker starts its own server.
test: environments lint typecheck
	$(PY) -m pytest -q -n 4

# Six benchmarks (README, "Performance"): requests, capacity units, correctness and latency set ours beside the
# peer (Powertools idempotency) and the baseline (the straightforward design); cold start is measured against
# `import boto3`, throughput against the baseline. The throughput run goes through the local poller;
# transactions no longer slow down with table size, but moto's SQS still scans the queue on every send, so 5000
# events (the issue's figure) take about 4 minutes on 2 cores (both contenders): `make bench BENCH_EVENTS=5000`.
# 500 keeps `make bench` shorter.
BENCH_EVENTS ?= 500
bench: $(STAMP)
	$(PY) -m bench.round_trips
	$(PY) -m bench.capacity
	$(PY) -m bench.correctness
	$(PY) -m bench.latency
	$(PY) -m bench.cold_start
	$(PY) -m bench.throughput --events $(BENCH_EVENTS)
	$(PY) -m bench.audit_scan

# The big runs of the reliability scenarios (a few minutes): the figures table, then the hostile-input
# property test under its big hypothesis profile, which runs even when a big run broke the promise;
# the target fails if either did.
reliability: $(STAMP)
	@$(PY) -m bench.reliability; runs=$$?; \
	$(PY) -m pytest tests/reliability/test_hostile_input.py tests/reliability/test_coalescing_matches_one_by_one.py -q --hypothesis-profile=reliability-big --hypothesis-show-statistics; \
	property=$$?; exit $$(( runs || property ))

# moto's TransactWriteItems as shipped vs the embedded server's item-level one, empty vs 20,000 rows.
bench-moto: $(STAMP)
	$(PY) -m bench.moto_transactions

clean:
	rm -rf $(VENV) $(VENV).lock .venv-tools build .pytest_cache .mypy_cache .ruff_cache .hypothesis cdk.out
