"""Scenarios 3 and 4 through real processes: ``share-worker run`` pollers on the real (moto) queue.

Unlike :class:`local_runtime.reliability.RedeliveringQueue`, nothing here is simulated: the events
go to the stack's SQS queue, poller processes (the CLI's ``run --until-drained``) drain it with
their execution environments, and every request goes through a :class:`FaultProxy`, which counts
the deliveries and, for a crash, kills a poller's processes on cue:

* crash (:func:`crash_scenario`): one poller, one invocation at a time; when it asks for its
  ``crash_at_transaction``-th transaction, the poller and its execution environment get SIGKILL.
  The transactions before it are committed, their messages never deleted; after the queue's
  (short) visibility timeout a fresh poller receives them again;
* concurrency (:func:`concurrency_scenario`): several pollers at once, most events on one hot item,
  and some transactions cancelled with ``TransactionConflict`` as DynamoDB does on a hot item.

Either way the table is read back with :func:`local_runtime.reliability.audit_table`.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from local_runtime import dlq
from local_runtime.batches import SQS_MAX_BATCH, chunked
from local_runtime.faults import FaultKind, FaultPlan, FaultProxy, fault_proxy
from local_runtime.provision import provision
from local_runtime.reliability import (
    QueueStats,
    ScenarioResult,
    ShareScenario,
    audit_table,
    messages_with_duplicates,
    seed_workload,
    share_workload,
)
from local_runtime.template import Stack

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

MAX_RECEIVE_COUNT = 10
"""The scenarios' redrive limit: conflicts and a crash must not exhaust a message's receives."""
CRASH_VISIBILITY_TIMEOUT_S = 2
"""The queue's visibility timeout in these scenarios: how soon a killed poller's batch comes back."""
RETRY_AFTER_S = 1
POLLER_DEADLINE_S = 120
HOT_ITEM_RATE = 0.8
CONFLICT_RATE = 0.1


class PollerScenarioError(Exception):
    """A poller process did not end as the scenario expects, within its deadline."""


@dataclass(frozen=True)
class PollerScenario:
    share: ShareScenario
    pollers: int
    """Poller processes draining the queue together (after the crash, for a crash scenario)."""
    max_concurrency: int = 2
    """Invocations at once per poller."""
    crash_at_transaction: int | None = None
    """Kill the first poller when it asks for this transaction (``None``: no crash)."""


@dataclass(frozen=True)
class PollerScenarioResult(ScenarioResult):
    committed_at_crash: int = 0
    """Shares in the table when the poller was killed: its batch's commits whose messages stayed."""
    exit_codes: list[int] = field(default_factory=list)
    planned_crashes: int = 0


def crash_scenario(events: int, *, seed: int = 0) -> PollerScenario:
    """Scenario 3: every event sent once; the poller is killed at a transaction past the middle of
    the events (batches are full: all events are queued beforehand).

    The events spread over as many items as there are events: the shares of one item in a batch
    commit in one transaction, so with few items there would be too few transactions to crash at."""
    share = ShareScenario("3 crash", events=events, items=events, max_copies=1, seed=seed)
    crash_at = events // 2 // SQS_MAX_BATCH * SQS_MAX_BATCH + 5
    return PollerScenario(share, pollers=1, max_concurrency=1, crash_at_transaction=crash_at)


def concurrency_scenario(events: int, *, pollers: int, seed: int = 0) -> PollerScenario:
    """Scenario 4: ``HOT_ITEM_RATE`` of the events on one item, sent 1 to 2 times, ``pollers``
    processes at once, ``CONFLICT_RATE`` of transactions cancelled with ``TransactionConflict``."""
    plan = FaultPlan({FaultKind.TRANSACTION_CONFLICT: CONFLICT_RATE}, seed=seed)
    share = ShareScenario(
        "4 concurrent pollers",
        events=events,
        items=5,
        max_copies=2,
        fault_plan=plan,
        seed=seed,
        hot_item_rate=HOT_ITEM_RATE,
    )
    return PollerScenario(share, pollers=pollers)


def run_poller_scenario(scenario: PollerScenario, endpoint_url: str) -> PollerScenarioResult:
    """Provision a fresh stack on the server at ``endpoint_url``, send, drain with poller processes
    (through a fault proxy), audit. Raises :class:`PollerScenarioError` when a poller overruns
    ``POLLER_DEADLINE_S`` or ends otherwise than expected."""
    share = scenario.share
    stack = Stack(name=f"rel-{uuid.uuid4().hex[:10]}", overrides={"MaxReceiveCount": MAX_RECEIVE_COUNT})
    sqs = boto3.client("sqs", endpoint_url=endpoint_url)
    resources = provision(stack, boto3.client("dynamodb", endpoint_url=endpoint_url), sqs)
    sqs.set_queue_attributes(
        QueueUrl=resources.queue_url, Attributes={"VisibilityTimeout": str(CRASH_VISIBILITY_TIMEOUT_S)}
    )
    table = boto3.resource("dynamodb", endpoint_url=endpoint_url).Table(resources.table_name)
    rng = random.Random(share.seed)
    workload = share_workload(rng, events=share.events, items=share.items, hot_item_rate=share.hot_item_rate)
    seed_workload(table, workload)
    bodies = messages_with_duplicates(workload, rng, share.max_copies)
    _send(sqs, resources.queue_url, bodies)
    committed_at_crash = 0
    exit_codes: list[int] = []
    with fault_proxy(endpoint_url, share.fault_plan) as proxy:
        if scenario.crash_at_transaction is not None:
            exit_codes.append(_crash_one_poller(scenario, scenario.crash_at_transaction, stack.name, proxy))
            committed_at_crash = sum(audit_table(table, workload).found_counts.values())
        pollers = [_start_poller(scenario, stack.name, proxy.endpoint_url) for _ in range(scenario.pollers)]
        exit_codes.extend(_wait(*pollers))
    if any(code != 0 for code in exit_codes[-scenario.pollers :]):
        raise PollerScenarioError(f"a poller failed: exit codes {exit_codes}")
    queue = QueueStats(
        messages=len(bodies),
        deliveries=proxy.stats.received_messages,
        crashes=proxy.stats.crashes,
        dead_letters=[letter.body for letter in dlq.inspect(sqs, resources.dlq_url)],
    )
    audit = audit_table(table, workload)
    planned_crashes = 0 if scenario.crash_at_transaction is None else 1
    return PollerScenarioResult(
        share, queue, audit, proxy.stats, committed_at_crash, exit_codes, planned_crashes
    )


def _send(sqs: SQSClient, queue_url: str, bodies: list[str]) -> None:
    for chunk in chunked(bodies):
        sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)],
        )


def _crash_one_poller(scenario: PollerScenario, transaction: int, stack_name: str, proxy: FaultProxy) -> int:
    """Run one poller until the proxy kills it at ``transaction``; its exit code."""
    victims: list[int] = []
    proxy.crash_at(transaction, lambda: _kill_process_tree(victims[0]))
    poller = _start_poller(scenario, stack_name, proxy.endpoint_url)
    victims.append(poller.pid)
    [code] = _wait(poller)
    proxy.recover()
    if code != -signal.SIGKILL:
        raise PollerScenarioError(f"the poller to crash ended with {code}, not SIGKILL")
    return code


def _start_poller(scenario: PollerScenario, stack_name: str, endpoint_url: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "local_runtime.cli",
        "--stack",
        stack_name,
        "run",
        "--until-drained",
        "--batch-window",
        "0",
        "--retry-after",
        str(RETRY_AFTER_S),
        "--max-concurrency",
        str(scenario.max_concurrency),
    ]
    return subprocess.Popen(  # the same interpreter, a fixed module: nothing from input
        command,
        env={**os.environ, "AWS_ENDPOINT_URL": endpoint_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _wait(*pollers: subprocess.Popen[str]) -> list[int]:
    """The pollers' exit codes; past ``POLLER_DEADLINE_S`` all of them are killed."""
    deadline = time.monotonic() + POLLER_DEADLINE_S
    try:
        return [poller.wait(max(0.0, deadline - time.monotonic())) for poller in pollers]
    except subprocess.TimeoutExpired:
        for poller in pollers:
            if poller.poll() is None:
                _kill_process_tree(poller.pid)
                poller.wait()
        raise PollerScenarioError(f"pollers still running after {POLLER_DEADLINE_S} s") from None


def _kill_process_tree(pid: int) -> None:
    """SIGKILL the poller first (so it deletes nothing more), then its execution environments,
    which run in sessions of their own."""
    children = _children(pid)
    os.kill(pid, signal.SIGKILL)
    for child in children:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            continue


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children
