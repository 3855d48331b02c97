"""End-to-end local throughput: share events through SQS, the local poller, the function and DynamoDB.

``python -m bench.throughput [--events 5000]``: ten events per item, so each item is shared ten times.

Each contender gets a stack of its own, provisioned from ``template.yaml`` (queue, DLQ, table) on the
embedded server (``bench.aws_server``, a process of its own) and its items seeded; a feeder sends the
events, keeping a steady backlog (see :class:`Feeder`). The local poller
(``local_runtime/lambda_service/poller.py``) drains the queue with the template's event source mapping
settings (batch size, batching window, maximum concurrency), each invocation in an execution
environment of its own (a child process, started on demand and reused, cold starts included): the
worker's ``handler.lambda_handler``, or the baseline as ``bench.baseline_handler.lambda_handler`` with
the same function settings. Failed records are made
visible again after 1 s (the poller's local shortcut) instead of the queue's visibility timeout.

DynamoDB requests are counted on the server, between the end of seeding and the end of the drain,
when only the function talks to DynamoDB. The time runs from the poller's start to the last
invocation's answer (the poller's final "is the queue drained?" checks are left out).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from bench.harness import SHARER, BenchTable, LocalAws, Scenario, local_aws, print_report
from local_runtime.batches import SQS_MAX_BATCH, chunked
from local_runtime.cli import dlq
from local_runtime.lambda_service.execution_environment import EnvironmentPool, InvocationResult
from local_runtime.lambda_service.poller import PollerSettings, PollerStats, SqsPoller
from local_runtime.stack.provision import StackResources, provision
from local_runtime.stack.template import Function, Stack
from tests.factories import share_body

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

SEGMENTS = 5
BACKLOG = 200
"""Events sent and not yet settled: a batch in each of the 10 concurrent invocations, 10 more waiting."""
RETRY_AFTER_S = 1
WATCH_EVERY_S = 5.0
DRAIN_DEADLINE_S = 30 * 60
"""A run that takes longer than this is stuck: 5,000 events take 2-4 minutes per contender on 2 cores."""
HANDLERS = {"share worker": None, "baseline": "bench.baseline_handler.lambda_handler"}
"""Contender name -> handler run in the execution environments (``None``: the template's own)."""


@dataclass
class Drained:
    """What draining one queue took: overall, per consecutive fifth of the events, and where the time went."""

    events: int
    seconds: float = 0.0
    requests: int = 0
    environments: int = 0
    stats: PollerStats = field(default_factory=PollerStats)
    segment_rates: list[float] = field(default_factory=list)
    receive_seconds: float = 0.0
    """The poller's single receiver thread inside ``ReceiveMessage`` calls that returned messages."""
    invocation_seconds: float = 0.0
    """Invocation wall times added up: divided by ``seconds``, the mean number of invocations in flight."""
    counted: int = 0
    """The items' ``SharedCount`` summed after the drain: ``events`` when each was applied exactly once."""


class DrainFailed(RuntimeError):
    """The queue can no longer drain: messages were dead-lettered, or the run outlasted its deadline."""


class Watchdog:
    """Stops a drain that cannot end: the poller waits for every event to settle, so a single message
    parked in the DLQ (a record that failed ``MaxReceiveCount`` times, say when DynamoDB answers slower
    than the SDK's read timeout on an overloaded machine) would keep it waiting for ever."""

    def __init__(self, sqs: SQSClient, dlq_url: str, stop: Callable[[], None]) -> None:
        self.sqs, self.dlq_url, self.stop = sqs, dlq_url, stop
        self.failure: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        deadline = time.monotonic() + DRAIN_DEADLINE_S
        while not self._done.wait(WATCH_EVERY_S):
            parked = dlq.parked(self.sqs, self.dlq_url)
            if parked:
                self.failure = f"{parked} message(s) dead-lettered"
            elif time.monotonic() > deadline:
                self.failure = f"not drained after {DRAIN_DEADLINE_S} s"
            if self.failure:
                self.stop()
                return


class Progress:
    """Hears every invocation: settled records, the rate by fifth, the last answer's time."""

    def __init__(self, drained: Drained, started: float) -> None:
        self.drained = drained
        self.started = self.segment_started = self.last_answer = started
        self.settled = 0
        self.segment = max(1, drained.events // SEGMENTS)
        self.changed = threading.Condition()
        self.on_done: list[Callable[[], None]] = []

    def __call__(self, event: dict[str, Any], result: InvocationResult) -> None:
        if not result.completed:
            return
        failed = len((result.response or {}).get("batchItemFailures", []))
        now = time.perf_counter()
        with self.changed:
            self.last_answer = now
            before, self.settled = self.settled, self.settled + len(event["Records"]) - failed
            rates = self.drained.segment_rates
            if self.settled // self.segment > before // self.segment and len(rates) < SEGMENTS:
                rates.append(self.segment / (now - self.segment_started))
                self.segment_started = now
            self.changed.notify_all()
            done = self.settled >= self.drained.events
        if done:
            for stop in self.on_done:
                stop()


class TimedPoller(SqsPoller):
    """The poller, with the time its receiver spends in ``ReceiveMessage`` added up."""

    receive_seconds = 0.0

    def _receive(self, count: int, wait_s: int) -> list[MessageTypeDef]:
        started = time.perf_counter()
        messages = super()._receive(count, wait_s)
        if messages:  # not the empty long polls of the final "is the queue drained?" checks
            self.receive_seconds += time.perf_counter() - started
        return messages


class Feeder:
    """Sends the events in order, keeping at most ``BACKLOG`` of them on the queue and not yet settled.

    moto's SQS scans the whole queue on every ``SendMessageBatch`` and ``ReceiveMessage`` (about
    0.1 s per call at 100 messages, 0.5 s / 1.5 s at 2,000 on 2 cores), so a queue filled with
    all 5,000 events up front would measure moto's queue scans, not the function. A steady backlog is
    also what a live queue looks like.
    """

    def __init__(self, sqs: SQSClient, queue_url: str, item_ids: list[str], events: int) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        bodies = [share_body(item_ids[index % len(item_ids)], SHARER) for index in range(events)]
        self.chunks = list(chunked(bodies, SQS_MAX_BATCH))
        self.events = events
        self.sent = 0

    def send_until(self, backlog_ok: Callable[[int], bool]) -> None:
        while self.chunks and backlog_ok(self.sent + len(self.chunks[0])):
            chunk = self.chunks.pop(0)
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)
            ]
            self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            self.sent += len(chunk)

    def feed(self, progress: Progress) -> None:
        """Until every event is sent: top the backlog up whenever invocations settle records."""
        while self.chunks:
            with progress.changed:
                progress.changed.wait_for(lambda: self.sent + SQS_MAX_BATCH - progress.settled <= BACKLOG)
            self.send_until(lambda total: total - progress.settled <= BACKLOG)


def drain(
    aws: LocalAws,
    sqs: SQSClient,
    settings: PollerSettings,
    function: Function,
    resources: StackResources,
    feeder: Feeder,
) -> Drained:
    drained = Drained(events=feeder.events)
    requests_before = aws.dynamodb_requests()
    invocation_seconds = 0.0
    lock = threading.Lock()
    with (
        EnvironmentPool(function, resources.function_arn(function.name)) as environments,
        Path(os.devnull).open("w") as devnull,
        contextlib.redirect_stdout(devnull),  # the handlers' JSON logs and EMF, forwarded per invocation
    ):

        def invoke(event: dict[str, Any], request_id: str) -> InvocationResult:
            nonlocal invocation_seconds
            started = time.perf_counter()
            try:
                return environments.invoke(event, request_id)
            finally:
                with lock:
                    invocation_seconds += time.perf_counter() - started

        feeder.send_until(lambda total: total <= BACKLOG)
        progress = Progress(drained, time.perf_counter())
        poller = TimedPoller(sqs, settings, invoke, observer=progress)
        progress.on_done.append(poller.stop)
        feeding = threading.Thread(target=feeder.feed, args=(progress,), name="feeder", daemon=True)
        feeding.start()
        with Watchdog(sqs, resources.dlq_url, poller.stop) as watchdog:
            drained.stats = poller.run()
        if watchdog.failure:
            raise DrainFailed(watchdog.failure)
        feeding.join()
        drained.environments = environments.started
    drained.seconds = progress.last_answer - progress.started
    drained.requests = aws.dynamodb_requests() - requests_before
    drained.receive_seconds = poller.receive_seconds
    drained.invocation_seconds = invocation_seconds
    return drained


def run(aws: LocalAws, handler: str | None, events: int, items: int) -> tuple[Drained, PollerSettings]:
    """One contender's drain; the share worker must count each event exactly once (the baseline, which
    has no dedup, counts again an event whose committed write the SDK retries, and that is reported)."""
    stack = Stack(name=f"bench-{uuid.uuid4().hex[:8]}")
    sqs = boto3.client("sqs")
    resources = provision(stack, boto3.client("dynamodb"), sqs)
    table = BenchTable(Scenario("throughput", records=events, items=items), name=resources.table_name)
    function = stack.function()
    if handler is not None:
        function = replace(function, handler=handler)
    feeder = Feeder(boto3.client("sqs"), resources.queue_url, table.item_ids, events)
    settings = PollerSettings.from_stack(stack, resources, retry_after_s=RETRY_AFTER_S)
    drained = drain(aws, sqs, settings, function, resources, feeder)
    drained.counted = table.shares_counted()
    if handler is None and drained.counted != events:
        raise DrainFailed(f"{drained.counted} shares counted for {events} events, not exactly once")
    return drained, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    arguments = parser.parse_args()
    items = max(1, arguments.events // 10)
    with local_aws() as aws:
        results = {}
        for name, handler in HANDLERS.items():
            try:
                results[name] = run(aws, handler, arguments.events, items)
            except DrainFailed as failure:
                raise SystemExit(f"bench.throughput: {name}: {failure}") from failure
    settings = next(iter(results.values()))[1]
    rows = [
        [
            name,
            f"{result.events / result.seconds:.0f} events/s",
            f"{result.seconds:.1f} s",
            result.stats.batches,
            f"{result.environments} / {result.stats.most_in_flight}",
            f"{result.invocation_seconds / result.seconds:.1f}",
            f"{result.receive_seconds:.1f} s ({result.receive_seconds / result.seconds:.0%})",
            f"{result.requests / result.events:.2f}",
            f"{result.stats.failed_records} / {result.stats.failed_invocations}",
            f"{result.counted - result.events:+d}",
            " → ".join(f"{rate:.0f}" for rate in result.segment_rates),
        ]
        for name, (result, _) in results.items()
    ]
    print_report(
        f"End-to-end local throughput: {arguments.events} events on {items} items",
        [
            "SQS -> local poller (local_runtime/lambda_service/poller.py) with the template's settings: "
            f"batch size {settings.batch_size}, window {settings.batching_window_s} s, maximum concurrency "
            f"{settings.maximum_concurrency};",
            "each invocation in an execution environment (child process); DynamoDB and SQS on the",
            f"embedded moto server, in a process of its own. A feeder keeps {BACKLOG} events on the queue.",
            "No latency added.",
            "'environments / most in flight': execution environments started / most invocations at once;",
            "'mean in flight': invocation wall time added up / run time; 'receiving': the poller's receiver",
            "thread inside ReceiveMessage calls that returned messages; 'failed': records reported /",
            "whole invocations failed (retried); 'counted twice': SharedCount summed minus events (the",
            "baseline has no dedup: a committed write whose answer is late is sent again by the SDK);",
            "'events/s by fifth': the rate over each fifth of the events.",
        ],
        [
            "contender",
            "throughput",
            "time",
            "batches",
            "environments / most in flight",
            "mean in flight",
            "receiving",
            "DynamoDB requests / event",
            "failed",
            "counted twice",
            "events/s by fifth",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
