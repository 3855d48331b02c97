"""Scenarios 3, 4 and 8 through real processes: ``share-worker run`` pollers on the real (moto) queue.

Unlike :class:`testkit.reliability.RedeliveringQueue`, nothing here is simulated: each run
provisions a stack of its own from ``template.yaml`` as it stands, a :class:`QueueFeeder` sends the
events to its queue, poller processes (the CLI's ``run --until-drained``) drain it with their
execution environments, and every request goes through a :class:`FaultProxy`, which counts the
deliveries, injects the scenario's faults and, for a crash, kills a poller's processes on cue:

* crash (:func:`crash_scenario`): one poller; when its worker asks for the transaction of the
  middle event, the poller and its execution environments get SIGKILL. What was committed stays,
  the messages it held are never deleted, and a fresh poller receives them again;
* concurrency (:func:`concurrency_scenario`): several pollers at once, most events on one hot item,
  every event sent once or twice;
* hot item (:func:`hot_item_scenario`): the same with most events on one item and a large share of
  that item's transactions cancelled with ``TransactionConflict``, as DynamoDB cancels the
  transactions that contend for one item.

The queue's receive count and visibility timeout, and the pollers' batch size, batching window,
maximum concurrency and function timeout are the template's. Two local shortcuts save waiting, and
neither spares a message a receive, so neither hides a dead letter:

* the pollers run with ``--retry-after`` (:data:`RETRY_AFTER_S`): a record the worker failed is
  visible again after a second instead of the queue's visibility timeout (185 s); its next
  delivery is a receive like any other;
* after a crash, the messages the killed poller held are made visible at once
  (``ChangeMessageVisibility`` to 0 with the receipt handles the proxy saw, once the poller's last
  requests ended), as SQS does when their visibility timeout runs out, instead of waiting it out.

Either way the table is read back with :func:`testkit.reliability.audit_table`.
"""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from local_runtime.batches import SQS_MAX_BATCH, chunked
from local_runtime.lambda_service.poller import SQS_MAX_WAIT_S
from local_runtime.stack.provision import provision
from local_runtime.stack.template import Stack
from testkit.faults import FaultKind, FaultPlan, FaultProxy, fault_proxy
from testkit.queue_feeder import QueueFeeder
from testkit.reliability import (
    HOT_ITEM_ID,
    DeliverySettings,
    QueueStats,
    ScenarioResult,
    ShareScenario,
    audit_table,
    messages_with_duplicates,
    seed_workload,
    share_workload,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef

RETRY_AFTER_S = 1
"""The pollers' ``--retry-after`` (see the module docstring)."""
SCENARIO_ITEMS = 5
HOT_ITEM_RATE = 0.85
"""Share of the events on the hot item in scenarios 4 and 8 (the rest spread over all five items)."""
HOT_ITEM_CONFLICT_RATE = 0.5
"""Share of the hot item's transactions that scenario 8 cancels with ``TransactionConflict``."""
STARTUP_S = 60
"""Allowance for starting poller processes and their first execution environments, and for the
pollers' final checks that the queue is drained."""
RECEIVE_S = 1.0
"""Allowance for one ``ReceiveMessage`` on moto with the feeder's backlog on the queue."""
LONGEST_VISIBILITY_S = 12 * 60 * 60
"""SQS's longest visibility timeout."""
LONGEST_POLL_S = SQS_MAX_WAIT_S + 10
"""How long a killed poller's last requests may go on in the server (a long poll the longest)."""


class PollerScenarioError(Exception):
    """A poller process did not end as the scenario expects, within its deadline."""


@dataclass(frozen=True)
class PollerScenario:
    share: ShareScenario
    pollers: int
    """Poller processes draining the queue together (after the crash, for a crash scenario), each
    with up to the template's maximum concurrency of execution environments."""
    crash_at_share: int | None = None
    """Kill the first poller when its worker asks for the transaction of this share (``None``: no crash)."""


@dataclass(frozen=True)
class PollerScenarioResult(ScenarioResult):
    committed_at_crash: int = 0
    """Shares in the table once the killed poller's last requests ended: those of the batches it
    finished, and commits whose messages it never deleted."""
    exit_codes: list[int] = field(default_factory=list)
    planned_crashes: int = 0
    deadline_s: float = 0.0
    """How long the pollers were given (:func:`drain_deadline_s`)."""


def crash_scenario(events: int, *, seed: int = 0) -> PollerScenario:
    """Scenario 3: every event sent once; the poller is killed when its worker asks for the transaction
    of the middle event. Counted in shares, not transactions, so the kill lands mid-run whether the
    worker writes each share alone or a batch's shares of one item together."""
    share = ShareScenario("3 crash", events=events, items=SCENARIO_ITEMS, max_copies=1, seed=seed)
    return PollerScenario(share, pollers=1, crash_at_share=max(1, events // 2))


def concurrency_scenario(events: int, *, pollers: int, seed: int = 0) -> PollerScenario:
    """Scenario 4: ``HOT_ITEM_RATE`` of the events on one item, sent 1 to 2 times, ``pollers``
    processes at once; no faults (scenario 8 adds the conflicts)."""
    share = ShareScenario(
        "4 concurrent pollers",
        events=events,
        items=SCENARIO_ITEMS,
        max_copies=2,
        seed=seed,
        hot_item_rate=HOT_ITEM_RATE,
    )
    return PollerScenario(share, pollers=pollers)


def hot_item_scenario(events: int, *, pollers: int, seed: int = 0) -> PollerScenario:
    """Scenario 8: scenario 4 with ``HOT_ITEM_CONFLICT_RATE`` of the transactions on the hot item
    cancelled with ``TransactionConflict`` (the other items' transactions are left alone)."""
    plan = FaultPlan({FaultKind.TRANSACTION_CONFLICT: HOT_ITEM_CONFLICT_RATE}, seed=seed, item_id=HOT_ITEM_ID)
    share = ShareScenario(
        "8 hot item",
        events=events,
        items=SCENARIO_ITEMS,
        max_copies=2,
        fault_plan=plan,
        seed=seed,
        hot_item_rate=HOT_ITEM_RATE,
    )
    return PollerScenario(share, pollers=pollers)


def drain_deadline_s(messages: int, pollers: int, settings: DeliverySettings) -> float:
    """How long ``pollers`` may take to drain ``messages``: a bound no healthy run reaches, which
    grows with the work.

    Every batch is received the template's ``MaxReceiveCount`` times; each poller gathers its share
    of those deliveries one after another, each batch waiting out the whole batching window and a
    slow receive, and runs them at its maximum concurrency, each invocation taking the whole
    function timeout. Plus the last retries' pauses and :data:`STARTUP_S`.
    """
    deliveries = math.ceil(messages / settings.batch_size) * settings.max_receive_count
    per_delivery_s = (
        settings.batching_window_s + RECEIVE_S + settings.function_timeout_s / settings.maximum_concurrency
    )
    return STARTUP_S + settings.max_receive_count * RETRY_AFTER_S + deliveries / pollers * per_delivery_s


def run_poller_scenario(scenario: PollerScenario, endpoint_url: str) -> PollerScenarioResult:
    """Provision a fresh stack on the server at ``endpoint_url``, feed its queue, drain it with poller
    processes (through a fault proxy), audit. Raises :class:`PollerScenarioError` when the pollers
    overrun :func:`drain_deadline_s` or end otherwise than expected."""
    share = scenario.share
    stack = Stack(name=f"rel-{uuid.uuid4().hex[:10]}")
    settings = DeliverySettings.from_stack(stack)
    sqs = boto3.client("sqs", endpoint_url=endpoint_url)
    resources = provision(stack, boto3.client("dynamodb", endpoint_url=endpoint_url), sqs)
    table = boto3.resource("dynamodb", endpoint_url=endpoint_url).Table(resources.table_name)
    rng = random.Random(share.seed)
    workload = share_workload(rng, events=share.events, items=share.items, hot_item_rate=share.hot_item_rate)
    seed_workload(table, workload)
    bodies = messages_with_duplicates(workload, rng, share.max_copies)
    deadline_s = drain_deadline_s(len(bodies), scenario.pollers, settings)
    committed_at_crash = 0
    exit_codes: list[int] = []
    feeder_sqs = boto3.client("sqs", endpoint_url=endpoint_url)
    with (
        fault_proxy(endpoint_url, share.fault_plan) as proxy,
        QueueFeeder(feeder_sqs, resources.queue_url, bodies) as feeder,
    ):
        if scenario.crash_at_share is not None:
            exit_codes.append(_crash_one_poller(scenario.crash_at_share, stack.name, proxy, deadline_s))
            if not proxy.wait_until_idle(LONGEST_POLL_S):
                raise PollerScenarioError(f"the killed poller's requests still ran after {LONGEST_POLL_S} s")
            committed_at_crash = sum(audit_table(table, workload).found_counts.values())
            _release(sqs, resources.queue_url, proxy.stats.receipt_handles)
        pollers = [_start_poller(stack.name, proxy.endpoint_url) for _ in range(scenario.pollers)]
        exit_codes.extend(_wait(pollers, deadline_s))
    if any(code != 0 for code in exit_codes[-scenario.pollers :]):
        raise PollerScenarioError(f"a poller failed: exit codes {exit_codes}")
    if feeder.unsent:
        raise PollerScenarioError(
            f"the pollers stopped with {feeder.unsent} messages not sent yet ({feeder.error or 'no error'})"
        )
    queue = QueueStats(
        messages=len(bodies),
        deliveries=proxy.stats.received_messages,
        crashes=proxy.stats.crashes,
        dead_letters=_take_dead_letters(sqs, resources.dlq_url),
    )
    audit = audit_table(table, workload)
    planned_crashes = 0 if scenario.crash_at_share is None else 1
    return PollerScenarioResult(
        share, queue, audit, proxy.stats, committed_at_crash, exit_codes, planned_crashes, deadline_s
    )


def _crash_one_poller(share: int, stack_name: str, proxy: FaultProxy, deadline_s: float) -> int:
    """Run one poller until the proxy kills it at ``share``; its exit code."""
    victims: list[int] = []
    killed: list[int] = []
    kills_sent = threading.Event()

    def crash() -> None:
        killed.extend(_kill_process_tree(victims[0]))
        kills_sent.set()

    proxy.crash_at(share, crash)
    poller = _start_poller(stack_name, proxy.endpoint_url)
    victims.append(poller.pid)
    [code] = _wait([poller], deadline_s)
    # The execution environments die after the poller: until they are gone, one of them could still
    # send a transaction, which the proxy must keep dropping.
    if kills_sent.wait(LONGEST_POLL_S):
        _wait_until_gone(killed, LONGEST_POLL_S)
    proxy.recover()
    if code != -signal.SIGKILL:
        raise PollerScenarioError(f"the poller to crash ended with {code}, not SIGKILL")
    return code


def _release(sqs: SQSClient, queue_url: str, receipt_handles: list[str]) -> None:
    """Make every message received through these handles and not deleted visible again, as the end
    of its visibility timeout would (deleted ones are refused, and stay deleted)."""
    for chunk in chunked(receipt_handles):
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for index, handle in enumerate(chunk)
        ]
        sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)


def _take_dead_letters(sqs: SQSClient, dlq_url: str) -> list[str]:
    """The body of every message on the DLQ, each read once and left hidden (the stack is thrown
    away after the run). Not the operator's ``dlq.inspect``, which hides what it reads for 30 s and
    puts it back: on a DLQ of a thousand messages moto takes longer than that, and reads them twice."""
    bodies: list[str] = []
    while messages := sqs.receive_message(
        QueueUrl=dlq_url, MaxNumberOfMessages=SQS_MAX_BATCH, VisibilityTimeout=LONGEST_VISIBILITY_S
    ).get("Messages", []):
        bodies.extend(message["Body"] for message in messages)
    return bodies


def _start_poller(stack_name: str, endpoint_url: str) -> subprocess.Popen[str]:
    """``share-worker run`` with the template's settings, but for :data:`RETRY_AFTER_S`."""
    command = [
        sys.executable,
        "-m",
        "local_runtime.cli.main",
        "--stack",
        stack_name,
        "run",
        "--until-drained",
        "--retry-after",
        str(RETRY_AFTER_S),
    ]
    return subprocess.Popen(  # the same interpreter, a fixed module: nothing from input
        command,
        env={**os.environ, "AWS_ENDPOINT_URL": endpoint_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _wait(pollers: list[subprocess.Popen[str]], deadline_s: float) -> list[int]:
    """The pollers' exit codes; past ``deadline_s`` all of them are killed."""
    deadline = time.monotonic() + deadline_s
    try:
        return [poller.wait(max(0.0, deadline - time.monotonic())) for poller in pollers]
    except subprocess.TimeoutExpired:
        for poller in pollers:
            if poller.poll() is None:
                _kill_process_tree(poller.pid)
                poller.wait()
        raise PollerScenarioError(f"pollers still running after {deadline_s:.0f} s") from None


def _kill_process_tree(pid: int) -> list[int]:
    """SIGKILL the poller first (so it deletes nothing more), then its execution environments,
    which run in sessions of their own; the processes killed."""
    children = _children(pid)
    os.kill(pid, signal.SIGKILL)
    for child in children:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            continue
    return [pid, *children]


def _wait_until_gone(pids: list[int], timeout_s: float) -> None:
    """Poll until each process has exited (no longer listed, or a zombie awaiting its parent)."""
    deadline = time.monotonic() + timeout_s
    while any(_running(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise PollerScenarioError(f"killed processes still running after {timeout_s} s: {pids}")
        time.sleep(0.05)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


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
