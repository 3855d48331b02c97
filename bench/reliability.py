"""``make reliability``: the big runs of the reliability scenarios, and their figures table.

Each round of a scenario gets a fresh table on the embedded moto server and runs through
``lambda_handler`` (its worker built the production way from ``TABLE_NAME`` and
``AWS_ENDPOINT_URL``), the faults scenario through the fault proxy; the crash and concurrency
scenarios run ``share-worker run`` poller processes on a stack of their own instead
(:mod:`local_runtime.poller_scenarios`). The code is the one the reliability tests run small. Big
scenarios run in rounds because moto deep-copies the whole table on every transaction, so one
table's transactions slow down as it grows. Exits with status 1 when any figure shows a broken promise.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial

import boto3

from local_runtime.embedded_aws import EmbeddedAws, embedded_aws
from local_runtime.faults import FaultStats, fault_proxy
from local_runtime.poller_scenarios import (
    PollerScenario,
    PollerScenarioResult,
    concurrency_scenario,
    crash_scenario,
    run_poller_scenario,
)
from local_runtime.provision import create_table
from local_runtime.reliability import (
    FIGURES_HEADERS,
    ScenarioResult,
    ShareScenario,
    duplicates_scenario,
    fault_rows,
    faults_scenario,
    figures_row,
    run_share_scenario,
)
from local_runtime.report import table


@dataclass(frozen=True)
class BigRun:
    scenario: ShareScenario
    rounds: int
    pollers: PollerScenario | None = None
    """For the scenarios run by poller processes: how (``scenario`` is its ``share``)."""

    @property
    def label(self) -> str:
        return f"{self.scenario.name} ({self.rounds} x {self.scenario.events})"

    def round(self, index: int) -> ShareScenario | PollerScenario:
        events, seed = self.scenario.events, self.scenario.seed + index
        if self.pollers is None:
            return replace(self.scenario, events=events, seed=seed)
        if self.pollers.crash_at_transaction is not None:
            return crash_scenario(events, seed=seed)
        return concurrency_scenario(events, pollers=self.pollers.pollers, seed=seed)


def _poller_run(scenario: PollerScenario, rounds: int) -> BigRun:
    return BigRun(scenario.share, rounds, scenario)


BIG_RUNS = [
    BigRun(duplicates_scenario(200, seed=100), rounds=10),
    BigRun(faults_scenario(200, seed=200), rounds=5),
    _poller_run(crash_scenario(200, seed=300), rounds=5),
    _poller_run(concurrency_scenario(200, pollers=4, seed=400), rounds=5),
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Big runs of the reliability scenarios and their figures.")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the events of every round")
    arguments = parser.parse_args(argv)
    runs = [
        replace(
            run, scenario=replace(run.scenario, events=max(1, round(run.scenario.events * arguments.scale)))
        )
        for run in BIG_RUNS
    ]
    results: list[list[ScenarioResult]] = []
    with embedded_aws() as aws:
        for run in runs:
            started = time.monotonic()
            results.append([_run(run.round(index), aws) for index in range(run.rounds)])
            print(f"{run.label}: {time.monotonic() - started:.0f} s", flush=True)

    print()
    print(
        table(
            FIGURES_HEADERS,
            [figures_row(run.label, rounds) for run, rounds in zip(runs, results, strict=True)],
        )
    )
    print()
    print(table(["fault injected", *(run.scenario.name for run in runs)], fault_rows(results)))
    broken = [
        run.label for run, rounds in zip(runs, results, strict=True) if not all(map(_kept_promise, rounds))
    ]
    verdict = f"BROKEN in {', '.join(broken)}" if broken else "held in every round of every scenario"
    print(f"\nexactly once: {verdict}")
    return 1 if broken else 0


def _run(scenario: ShareScenario | PollerScenario, aws: EmbeddedAws) -> ScenarioResult:
    if isinstance(scenario, PollerScenario):
        return run_poller_scenario(scenario, aws.endpoint_url)
    table_name = f"reliability-{uuid.uuid4().hex[:12]}"
    resource = boto3.resource("dynamodb", endpoint_url=aws.endpoint_url)
    create_table(resource.meta.client, table_name)
    with _worker_endpoint(scenario, aws) as (endpoint_url, faults):
        os.environ.update(TABLE_NAME=table_name, AWS_ENDPOINT_URL=endpoint_url)
        import handler

        handler.worker.cache_clear()
        invoke = partial(handler.lambda_handler, context=None)
        return run_share_scenario(scenario, table=resource.Table(table_name), invoke=invoke, faults=faults)


@contextmanager
def _worker_endpoint(scenario: ShareScenario, aws: EmbeddedAws) -> Iterator[tuple[str, FaultStats | None]]:
    """The server itself, or a fault proxy in front of it when the scenario has a fault plan."""
    if scenario.fault_plan is None:
        yield aws.endpoint_url, None
        return
    with fault_proxy(aws.endpoint_url, scenario.fault_plan) as proxy:
        yield proxy.endpoint_url, proxy.stats


def _kept_promise(result: ScenarioResult) -> bool:
    """Exact counts, nothing dead-lettered, and no crash but the ones a crash scenario causes."""
    planned = result.planned_crashes if isinstance(result, PollerScenarioResult) else 0
    return result.audit.exact and not result.queue.dead_letters and result.queue.crashes == planned


if __name__ == "__main__":
    raise SystemExit(main())
