"""DynamoDB requests per record and writes of the items' records, from each contender's own clients.

``python -m bench.round_trips``. Deterministic: one run per scenario and contender, on a fresh table each.
The requests are counted where they leave the client (botocore ``before-send``) and the item-record
writes read from their bodies (:func:`bench.accesses.item_record_writes`): a transaction's ``Put``,
``Update`` or ``Delete`` of an ``ITEM#`` record, an ``UpdateItem``/``PutItem``/``DeleteItem`` of one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.accesses import item_record_writes
from bench.harness import CONTENDERS, BenchTable, Contender, Scenario, key_names, local_aws, print_report
from bench.request_log import RequestLog, logging_requests

SCENARIOS = (
    (Scenario("10 new events, 10 items", records=10, items=10), "≤ 1.1 / record"),
    (Scenario("10 redelivered events (duplicates)", records=10, items=10, redelivered=True), "0.1 / record"),
    (Scenario("10 events on missing items", records=10, items=10, items_exist=False), "0.1 / record"),
    (
        Scenario("10 new events, all on 1 item", records=10, items=1),
        "2 a batch (0.2 / record); 0.1 item writes / share",
    ),
    (Scenario("100 new events, 100 items", records=100, items=100), "1.02 / record"),
)


@dataclass(frozen=True)
class Measured:
    contender: str
    requests: RequestLog
    item_writes: int
    shares: int
    """``SharedCount`` the batch added over its items."""
    failures: int


def measure(make: Callable[[str], Contender], scenario: Scenario) -> Measured:
    table = BenchTable(scenario)
    contender = make(table.name)
    batch = scenario.batch()
    if scenario.redelivered:
        contender(batch)
    counted_before = table.shares_counted()
    with logging_requests(contender.clients) as requests:
        response = contender(batch)
    return Measured(
        contender.name,
        requests,
        item_record_writes(requests.requests, key_names(contender.tables)),
        table.shares_counted() - counted_before,
        len(response["batchItemFailures"]),
    )


def breakdown(requests: RequestLog) -> str:
    parts = [
        f"{count} {re.sub(r'Items?$', '', name)}" for name, count in sorted(requests.by_operation.items())
    ]
    return f"{requests.total} ({', '.join(parts)})" if parts else "0"


def main() -> None:
    rows: list[list[Any]] = []
    with local_aws():
        for scenario, target in SCENARIOS:
            for index, make in enumerate(CONTENDERS):
                measured = measure(make, scenario)
                rows.append(
                    [
                        scenario.name if index == 0 else "",
                        measured.contender,
                        breakdown(measured.requests),
                        f"{measured.requests.total / scenario.records:.2f}",
                        f"{measured.item_writes / scenario.records:.2f}",
                        f"{measured.shares}"
                        + (f" ({measured.failures} failed)" if measured.failures else ""),
                        target if index == 0 else "",
                    ]
                )
    print_report(
        "DynamoDB requests per record",
        [
            "HTTP requests sent by each contender's DynamoDB clients for one batch (botocore before-send).",
            "peer: the baseline's three calls made idempotent per eventId with Powertools (bench/peer.py);",
            "  its idempotency table's PutItem and UpdateItem are counted with the rest.",
            "baseline: GetItem, UpdateItem, PutItem per record, record after record (bench/baseline.py).",
            "item writes / share: writes of ITEM# records (Put, Update, Delete), from the request bodies.",
            "'shares counted': SharedCount added by the batch; a redelivery must add 0.",
        ],
        [
            "batch",
            "contender",
            "requests",
            "/ record",
            "item writes / share",
            "shares counted",
            "target (ours)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
