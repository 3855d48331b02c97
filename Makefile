# Two commands for a newcomer: `make run` (demo against the embedded AWS) and `make test`.
# Both create .venv on first use with Python 3.12 when it runs (else python3 >= 3.11).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit integration bench bench-moto reliability clean

$(STAMP): pyproject.toml src/requirements.txt scripts/find-python
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r src/requirements.txt -e '.[dev]'
	@# src/ is laid out like Lambda's /var/task (handler.py and services/ at its root), so it is
	@# put on the venv's path as a root of its own, the way the Lambda runtime imports it.
	$(PY) -c "import pathlib, sysconfig; pathlib.Path(sysconfig.get_path('purelib'), 'share_worker_src.pth').write_text(str(pathlib.Path('src').resolve()) + '\\n')"
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m local_runtime.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The SAM template as written; tests/unit/test_template.py also lints it after samtranslator's transform.
	$(VENV)/bin/cfn-lint template.yaml

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

integration: $(STAMP)
	$(PY) -m pytest tests/integration -q

test: $(STAMP) lint typecheck
	$(PY) -m pytest -q

# Four benchmarks, each printing our figures beside the straightforward design's (README, "Performance").
# The throughput run goes through the local poller; transactions no longer slow down with table size,
# but moto's SQS scans the queue on every call, so 5000 events (the issue's figure) take about 7 minutes
# on 2 cores (both contenders): `make bench BENCH_EVENTS=5000`. 500 keeps `make bench` shorter.
BENCH_EVENTS ?= 500
bench: $(STAMP)
	$(PY) -m bench.round_trips
	$(PY) -m bench.latency
	$(PY) -m bench.cold_start
	$(PY) -m bench.throughput --events $(BENCH_EVENTS)

# The big runs of the reliability scenarios (a few minutes): the figures table, then the hostile-input
# property test under its big hypothesis profile, which runs even when a big run broke the promise;
# the target fails if either did.
reliability: $(STAMP)
	@$(PY) -m bench.reliability; runs=$$?; \
	$(PY) -m pytest tests/reliability/test_hostile_input.py -q --hypothesis-profile=reliability-big --hypothesis-show-statistics; \
	property=$$?; exit $$(( runs || property ))

# moto's TransactWriteItems as shipped vs the embedded server's item-level one, empty vs 20,000 rows.
bench-moto: $(STAMP)
	$(PY) -m bench.moto_transactions

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
