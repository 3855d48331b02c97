"""``make reliability``: the big runs of the reliability scenarios, and their figures table.

The code is the one the reliability tests run small, at the settings of ``template.yaml``.
Scenarios 1 and 2 run through ``lambda_handler`` in this process (its worker built the production
way from ``TABLE_NAME`` and ``AWS_ENDPOINT_URL``), scenario 2 through the fault proxy; scenarios 3,
4 and 8 run ``share-worker run`` poller processes on a stack of their own
(:mod:`testkit.poller_scenarios`). The embedded server runs in a process of its own
(``bench.aws_server``), so the fault proxy, the queue feeder and the handler do not compete with it
for this interpreter.

Scenarios 1 to 4 run in rounds, each on a fresh table or stack, so a round that breaks the promise
is reported on its own; scenario 8 is one round of thousands of events, contention on one item
being its point. (Scenarios 5 to 7 of ``tests/reliability`` have no big run here; ``make
reliability`` runs the hostile-input property test's big profile next.) Each round's verdict is
printed as it ends and each scenario's figures as soon as its last round ends, then the full
tables. A round that fails outright (pollers past their deadline, say) is reported, counts as
broken, and the other scenarios still run. Exits with status 1 when any round failed or any
figure shows a broken promise.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

import boto3

from bench.harness import local_aws
from bench.reliability_figures import FIGURES_HEADERS, fault_rows, figures_row
from local_runtime.cli.report import table
from local_runtime.stack.provision import create_table
from testkit.faults import FaultStats, fault_proxy
from testkit.poller_scenarios import (
    PollerScenario,
    PollerScenarioError,
    PollerScenarioResult,
    concurrency_scenario,
    crash_scenario,
    hot_item_scenario,
    run_poller_scenario,
)
from testkit.reliability import (
    ScenarioResult,
    ShareScenario,
    duplicates_scenario,
    faults_scenario,
    run_share_scenario,
)

POLLERS = 4


class Build(Protocol):
    def __call__(self, events: int, *, seed: int) -> ShareScenario | PollerScenario: ...


@dataclass(frozen=True)
class BigRun:
    build: Build
    events: int
    """Events of one round at scale 1."""
    rounds: int
    seed: int

    def round(self, index: int, scale: float) -> ShareScenario | PollerScenario:
        return self.build(max(1, round(self.events * scale)), seed=self.seed + index)

    def label(self, scale: float) -> str:
        share = self._share(scale)
        return f"{share.name} ({self.rounds} x {share.events})"

    @property
    def number(self) -> int:
        """The scenario's number, which leads its name."""
        return int(self._share(1.0).name.split()[0])

    def _share(self, scale: float) -> ShareScenario:
        first = self.round(0, scale)
        return first.share if isinstance(first, PollerScenario) else first


BIG_RUNS = [
    BigRun(duplicates_scenario, events=200, rounds=10, seed=100),
    BigRun(faults_scenario, events=200, rounds=5, seed=200),
    BigRun(crash_scenario, events=200, rounds=5, seed=300),
    BigRun(partial(concurrency_scenario, pollers=POLLERS), events=200, rounds=5, seed=400),
    BigRun(partial(hot_item_scenario, pollers=POLLERS), events=2000, rounds=1, seed=500),
]


@dataclass
class Outcome:
    """What the rounds of one scenario came to."""

    label: str
    results: list[ScenarioResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def broken(self) -> bool:
        return bool(self.errors) or not all(map(_kept_promise, self.results))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Big runs of the reliability scenarios and their figures.")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the events of every round")
    parser.add_argument(
        "--scenarios",
        type=lambda text: {int(number) for number in text.split(",")},
        default={run.number for run in BIG_RUNS},
        help="comma-separated scenario numbers to run, e.g. 4,8 (default: all)",
    )
    arguments = parser.parse_args(argv)
    runs = [run for run in BIG_RUNS if run.number in arguments.scenarios]
    with local_aws() as aws:
        outcomes = [_run_rounds(run, arguments.scale, aws.endpoint) for run in runs]

    print(f"\n{table(FIGURES_HEADERS, [_row(outcome) for outcome in outcomes])}\n")
    names = [outcome.label.split(" (")[0] for outcome in outcomes]
    print(table(["fault injected", *names], fault_rows([outcome.results for outcome in outcomes])))
    broken = [outcome.label for outcome in outcomes if outcome.broken]
    verdict = f"BROKEN in {', '.join(broken)}" if broken else "held in every round of every scenario"
    print(f"\nexactly once: {verdict}")
    return 1 if broken else 0


def _run_rounds(run: BigRun, scale: float, endpoint_url: str) -> Outcome:
    outcome = Outcome(run.label(scale))
    print(f"\n{outcome.label}", flush=True)
    for index in range(run.rounds):
        started = time.monotonic()
        try:
            result = _run(run.round(index, scale), endpoint_url)
        except PollerScenarioError as error:
            outcome.errors.append(str(error))
            verdict = f"FAILED: {error}"
        else:
            outcome.results.append(result)
            verdict = _verdict(result)
            if isinstance(result, PollerScenarioResult):
                verdict += f" (pollers' deadline {result.deadline_s:.0f} s)"
        seconds = time.monotonic() - started
        outcome.seconds += seconds
        print(f"  round {index + 1}/{run.rounds}: {seconds:.0f} s, {verdict}", flush=True)
    print(table(FIGURES_HEADERS, [_row(outcome)]), flush=True)
    return outcome


def _run(scenario: ShareScenario | PollerScenario, endpoint_url: str) -> ScenarioResult:
    if isinstance(scenario, PollerScenario):
        return run_poller_scenario(scenario, endpoint_url)
    table_name = f"reliability-{uuid.uuid4().hex[:12]}"
    resource = boto3.resource("dynamodb", endpoint_url=endpoint_url)
    create_table(resource.meta.client, table_name)
    with _worker_endpoint(scenario, endpoint_url) as (worker_url, faults):
        os.environ.update(TABLE_NAME=table_name, AWS_ENDPOINT_URL=worker_url)
        import handler

        handler.worker.cache_clear()
        return run_share_scenario(
            scenario, table=resource.Table(table_name), invoke=handler.lambda_handler, faults=faults
        )


@contextmanager
def _worker_endpoint(scenario: ShareScenario, endpoint_url: str) -> Iterator[tuple[str, FaultStats | None]]:
    """The server itself, or a fault proxy in front of it when the scenario has a fault plan."""
    if scenario.fault_plan is None:
        yield endpoint_url, None
        return
    with fault_proxy(endpoint_url, scenario.fault_plan) as proxy:
        yield proxy.endpoint_url, proxy.stats


def _verdict(result: ScenarioResult) -> str:
    if _kept_promise(result):
        return "exactly once"
    audit = result.audit
    return (
        f"BROKEN: {len(result.queue.dead_letters)} dead-lettered, {audit.lost} lost, "
        f"{audit.double_applied} double-applied, {audit.unapplied} unapplied, "
        f"{audit.half_written} half-written, {result.queue.crashes} crashes"
    )


def _row(outcome: Outcome) -> list[object]:
    return figures_row(outcome.label, outcome.results, outcome.seconds)


def _kept_promise(result: ScenarioResult) -> bool:
    """Exact counts, nothing dead-lettered, and no crash but the ones a crash scenario causes."""
    planned = result.planned_crashes if isinstance(result, PollerScenarioResult) else 0
    return result.audit.exact and not result.queue.dead_letters and result.queue.crashes == planned


if __name__ == "__main__":
    raise SystemExit(main())
