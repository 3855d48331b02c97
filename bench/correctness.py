"""Shares counted and feed entries written under duplicates, redeliveries and faults, per contender.

``python -m bench.correctness``. Deterministic: each case runs once per contender on a fresh table, SQS's
retries played by :class:`Sqs` with the template's ``MaxReceiveCount``, and reads back the sum of
``SharedCount`` and the number of feed entries: both must equal the distinct share events. The
baseline has no deduplication: it is the reference that shows what each case does without it.

The faults (:mod:`bench.client_faults`) show what idempotency does not give the peer: its three calls
are not atomic. A crash after ``UpdateItem`` and before ``PutItem`` leaves the share counted without
its feed entry; its in-progress idempotency record expires with the invocation (here a Lambda context
of :data:`INVOCATION_TIMEOUT_MS`, and SQS redelivers after that long), so the redelivery runs the three
calls again and counts the share twice. A failed ``PutItem`` does the same sooner: Powertools deletes
the in-progress record when the function raises, and SQS's retry counts again. Our transaction writes
the marker, the count and the feed entry together or not at all, so both end exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.accesses import KeyNames
from bench.client_faults import ClientFault, CrashAfterItemWrite, FeedWriteFails, SimulatedCrash
from bench.harness import (
    SHARER,
    Baseline,
    BenchTable,
    Contender,
    Peer,
    Scenario,
    ShareWorker,
    key_names,
    local_aws,
    print_report,
)
from bench.request_log import on_each_client
from local_runtime.stack.template import Stack
from tests.factories import failed_ids, share_body, sqs_event, sqs_record

INVOCATION_TIMEOUT_MS = 300
"""The peer's Lambda context in this benchmark: its in-progress records expire this long after they start."""
CONTENDERS: tuple[Callable[[str], Contender], ...] = (
    ShareWorker,
    partial(Peer, timeout_ms=INVOCATION_TIMEOUT_MS),
    Baseline,
)
Record = dict[str, Any]


@dataclass(frozen=True)
class Case:
    name: str
    items: int
    event_ids: Sequence[str]
    """One message each, in this order, on items round-robin; a repeated id is a producer's resend."""
    delivered_twice: bool = False
    """The whole batch comes back once more after it succeeded (a lost delete, a visibility timeout)."""
    fault: Callable[[KeyNames], ClientFault] | None = None
    """Injected during the first delivery only."""

    @property
    def shares(self) -> int:
        return len(set(self.event_ids))

    def records(self) -> list[Record]:
        return [
            sqs_record(share_body(f"item-{index % self.items}", SHARER, event_id=event_id))
            for index, event_id in enumerate(self.event_ids)
        ]


def event_ids(count: int, case: str) -> list[str]:
    return [f"{case}-{index}" for index in range(count)]


CASES = (
    Case("10 new shares, 10 items, delivered once", 10, event_ids(10, "once")),
    Case("the same batch delivered twice (SQS redelivery)", 10, event_ids(10, "twice"), delivered_twice=True),
    Case(
        "5 shares, each sent twice by the producer (10 messages, 1 batch)",
        5,
        [event_id for event_id in event_ids(5, "resent") for _ in range(2)],
    ),
    Case("10 shares of 1 item, delivered twice", 1, event_ids(10, "hot"), delivered_twice=True),
    Case(
        "crash right after the first write of the item's count; SQS redelivers",
        1,
        event_ids(10, "crash"),
        fault=CrashAfterItemWrite,
    ),
    Case(
        "the first feed-entry write fails (connection lost); SQS retries what failed",
        1,
        event_ids(10, "error"),
        fault=FeedWriteFails,
    ),
)


@dataclass(frozen=True)
class Outcome:
    shares: int
    feed_entries: int
    dead_lettered: int


class Sqs:
    """SQS's side, reduced to what matters here: failed records come back, up to ``MaxReceiveCount``.

    Records reported in ``batchItemFailures`` are delivered again; after a crash (no answer at all)
    the whole batch is, once the invocation's time is up. A record that fails on its last receive
    goes to the dead-letter queue.
    """

    def __init__(self, contender: Contender) -> None:
        self.contender = contender
        self.max_receives = int(Stack().parameter("MaxReceiveCount"))
        self.dead_lettered = 0

    def deliver(self, records: list[Record], fault: ClientFault | None = None) -> None:
        pending = records
        for receive in range(self.max_receives):
            if not pending:
                return
            try:
                if fault is not None and receive == 0:
                    with on_each_client(self.contender.clients, fault.hooks):
                        response = self.contender(sqs_event(*pending))
                else:
                    response = self.contender(sqs_event(*pending))
            except SimulatedCrash:
                time.sleep(INVOCATION_TIMEOUT_MS / 1000)
                continue
            failed = set(failed_ids(response))
            pending = [record for record in pending if record["messageId"] in failed]
        self.dead_lettered += len(pending)


def run(make: Callable[[str], Contender], case: Case) -> Outcome:
    table = BenchTable(Scenario(case.name, records=len(case.event_ids), items=case.items))
    contender = make(table.name)
    sqs = Sqs(contender)
    records = case.records()
    sqs.deliver(records, case.fault(key_names(contender.tables)) if case.fault else None)
    if case.delivered_twice:
        sqs.deliver(records)
    return Outcome(table.shares_counted(), table.feed_entries(), sqs.dead_lettered)


def cell(outcome: Outcome, expected: int) -> str:
    text = f"{outcome.shares} / {outcome.feed_entries}"
    if outcome.dead_lettered:
        text += f" ({outcome.dead_lettered} dead-lettered)"
    exact = (outcome.shares, outcome.feed_entries, outcome.dead_lettered) == (expected, expected, 0)
    return text if exact else f"{text} ✗"


def main() -> None:
    rows: list[list[Any]] = []
    with local_aws():
        for case in CASES:
            outcomes = [run(make, case) for make in CONTENDERS]
            rows.append(
                [case.name, f"{case.shares} / {case.shares}", *(cell(o, case.shares) for o in outcomes)]
            )
    print_report(
        "Shares counted under duplicates, redeliveries, a crash and an error",
        [
            "Each cell: SharedCount added over the items / feed entries written; ✗: not as expected.",
            "peer: the baseline's three calls made idempotent per eventId with Powertools (bench/peer.py).",
            "baseline: no deduplication at all, the reference (bench/baseline.py).",
            "Faults hit the request that writes the item's count (ours: its transaction; peer and baseline:",
            "UpdateItem) or the feed entry (ours: the same transaction; peer and baseline: PutItem).",
        ],
        ["case", "expected", "ours", "peer", "baseline"],
        rows,
    )


if __name__ == "__main__":
    main()
