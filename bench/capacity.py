"""Capacity units per share, ours beside the peer and the baseline, and the per-item ceiling they imply.

``python -m bench.capacity [--item-bytes N]``. Deterministic: units are computed from the request
bodies each contender sends for one batch and from the sizes of the records they touch, by DynamoDB's
billing rules (:mod:`bench.capacity_units`), never from timings. The records' sizes are read back after
the batch on a client of its own; ``--item-bytes`` pads every item's record to that size first (an
``ITEM#`` record written by the app's API may be larger than the seeded ones).

Per-item ceiling: a partition serves about 1,000 write units and 3,000 read units a second. Of a
share's requests, only those on the item's own record (``ITEM#<itemId>``) land on the item's partition:
dedup markers (``EVENT#<eventId>``), feed entries (``USER#<userId>``) and the peer's idempotency records
(keyed by a hash) spread over other partitions. So one item takes at most
``min(1000 / item-record write units per share, 3000 / item-record read units per share)`` shares a
second, whichever limit binds first; contention between concurrent transactions is not in this model.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from bench.accesses import FEED_PREFIX, ITEM_PREFIX, MARKER_PREFIX, KeyNames, partition_of
from bench.capacity_units import Priced, Units, item_size, per_item_ceiling, priced, record_id
from bench.harness import CONTENDERS, BenchTable, Contender, Scenario, key_names, local_aws, print_report
from bench.request_log import logging_requests
from services.keys import item_key

SCENARIOS = (
    Scenario("spread: 10 new shares, 10 items", records=10, items=10),
    Scenario("hot: 10 new shares, 1 item", records=10, items=1),
    Scenario("10 redelivered shares, 10 items", records=10, items=10, redelivered=True),
)
KIND_BY_PREFIX = {ITEM_PREFIX: "item", MARKER_PREFIX: "marker", FEED_PREFIX: "feed"}
OTHER_KIND = "idempotency"
"""A record that is none of the shared table's: the peer's idempotency record."""
PAD_ATTRIBUTE = "Description"


def record_kind(partition: str) -> str:
    return next((kind for prefix, kind in KIND_BY_PREFIX.items() if partition.startswith(prefix)), OTHER_KIND)


@dataclass(frozen=True)
class Bill:
    """What one batch cost a contender, per share of the batch."""

    contender: str
    total: Units
    by_kind: dict[str, Units]
    item_record: Units
    record_sizes: dict[str, int]
    """Largest stored record of each kind, in bytes."""


def bill(priced_accesses: Sequence[Priced], shares: int, record_sizes: dict[str, int], name: str) -> Bill:
    spent: dict[str, Units] = defaultdict(Units)
    for entry in priced_accesses:
        spent[record_kind(entry.access.partition)] += entry.units
    by_kind = {kind: units.per(shares) for kind, units in spent.items()}
    total = sum(spent.values(), Units()).per(shares)
    item_record = by_kind.get(KIND_BY_PREFIX[ITEM_PREFIX], Units())
    return Bill(name, total, by_kind, item_record, record_sizes)


def stored_sizes(names: KeyNames) -> tuple[dict[str, int], dict[str, int]]:
    """Every record of the tables by :func:`record_id` -> size, and the largest size of each kind."""
    client = boto3.client("dynamodb")
    sizes: dict[str, int] = {}
    largest: dict[str, int] = defaultdict(int)
    for table, key_attributes in names.items():
        for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            for record in page["Items"]:
                key = {name: record[name] for name in key_attributes}
                size = item_size(record)
                sizes[record_id(table, key)] = size
                kind = record_kind(partition_of(key))
                largest[kind] = max(largest[kind], size)
    return sizes, dict(largest)


def pad_items(table: BenchTable, item_bytes: int) -> None:
    """Grows each item's record to ``item_bytes`` with a text attribute the worker never reads."""
    client = boto3.client("dynamodb")
    for item_id in table.item_ids:
        key = {name: {"S": value} for name, value in item_key(item_id).items()}
        record = client.get_item(TableName=table.name, Key=key, ConsistentRead=True)["Item"]
        padding = item_bytes - item_size(record) - len(PAD_ATTRIBUTE)
        if padding > 0:
            client.update_item(
                TableName=table.name,
                Key=key,
                UpdateExpression=f"SET {PAD_ATTRIBUTE} = :padding",
                ExpressionAttributeValues={":padding": {"S": "x" * padding}},
            )


def measure(make: Callable[[str], Contender], scenario: Scenario, item_bytes: int | None) -> Bill:
    table = BenchTable(scenario)
    if item_bytes:
        pad_items(table, item_bytes)
    contender = make(table.name)
    batch = scenario.batch()
    if scenario.redelivered:
        contender(batch)
    with logging_requests(contender.clients) as log:
        contender(batch)
    names = key_names(contender.tables)
    sizes, largest = stored_sizes(names)
    return bill(priced(log.requests, names, sizes), scenario.records, largest, contender.name)


def by_kind(bill: Bill, units: Callable[[Units], float]) -> str:
    parts = [f"{kind} {units(spent):.1f}" for kind, spent in sorted(bill.by_kind.items()) if units(spent)]
    return ", ".join(parts) or "-"


def row(scenario: Scenario, bill: Bill, first: bool) -> list[Any]:
    ceiling = "-"
    if scenario.items == 1 and not scenario.redelivered:
        shares_per_s, binding = per_item_ceiling(bill.item_record)
        ceiling = f"{shares_per_s:,.0f} ({binding})"
    return [
        scenario.name if first else "",
        bill.contender,
        f"{bill.total.write:.1f}",
        by_kind(bill, lambda units: units.write),
        f"{bill.total.read:.1f}",
        by_kind(bill, lambda units: units.read),
        ceiling,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--item-bytes", type=int, default=None, help="pad each item's record to this size")
    arguments = parser.parse_args()
    rows: list[list[Any]] = []
    largest: dict[str, int] = defaultdict(int)
    with local_aws():
        for scenario in SCENARIOS:
            for index, make in enumerate(CONTENDERS):
                measured = measure(make, scenario, arguments.item_bytes)
                rows.append(row(scenario, measured, index == 0))
                for kind, size in measured.record_sizes.items():
                    largest[kind] = max(largest[kind], size)
    sizes = ", ".join(f"{kind} {size} B" for kind, size in sorted(largest.items()))
    print_report(
        "Capacity units per share",
        [
            "From one batch's request bodies and the stored records' sizes, by DynamoDB's billing rules:",
            "standard write 1 unit per KB, transactional 2; strongly consistent read 1 per 4 KB, eventually",
            "consistent 0.5, transactional 2; each key of a BatchGetItem rounded up on its own.",
            f"Largest record of each kind, as stored after the batches: {sizes}.",
            "Ceiling (hot batch): only the 'item' units land on the item's partition, which serves about",
            "1,000 write and 3,000 read units a second: min(1000 / item write, 3000 / item read units).",
        ],
        [
            "batch",
            "contender",
            "write units / share",
            "by record",
            "read units / share",
            "by record",
            "ceiling: shares/s per item",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
