"""A parallel, strongly consistent ``Scan`` of the table that counts feed entries per item.

Each segment (DynamoDB's ``Segment``/``TotalSegments``) runs on a thread of its own with one shared
low-level client (boto3 clients are thread-safe, resources are not) and reads only the attributes the
audit needs. Dedup markers (``EVENT#``) and the repair's lease (``AUDIT#``) are read and skipped: a
filter expression would not make the scan cheaper, DynamoDB charges for what it reads before filtering.
An item record's id is taken from its key (``ITEM#<id>``), which every record has, not from its
``ItemId`` attribute, which a hand edit may have removed; a feed entry's is its ``ItemId``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer

from local_runtime.audit.counts import Count, parse_count
from services.keys import ACTIVITY_PREFIX, ITEM_SK

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ITEM_PREFIX = "ITEM#"
USER_PREFIX = "USER#"
PROJECTION = {"#pk": "PK", "#sk": "SK", "#item": "ItemId", "#count": "SharedCount"}
"""Expression attribute names of the only attributes a scan reads."""

Progress = Callable[[int], None]
"""Called with the number of records each page read."""
ScanProgress = Callable[[str], Progress]
"""Called as each scan of an audit starts, with what it is for (``scanning``, ``confirming``): the
progress of that scan."""


@dataclass
class TableCounts:
    """What a scan saw: each item record's ``SharedCount`` (``None`` without one) and the feed entries
    per ``ItemId``."""

    shared_counts: dict[str, Count] = field(default_factory=dict)
    ledger: Counter[str] = field(default_factory=Counter)

    def merge(self, other: TableCounts) -> None:
        self.shared_counts.update(other.shared_counts)
        self.ledger.update(other.ledger)


def scan_counts(
    client: DynamoDBClient,
    table_name: str,
    segments: int,
    on_page: Progress = lambda records: None,
    only_items: Collection[str] | None = None,
) -> TableCounts:
    """Item records and feed entries of the whole table (of ``only_items`` when given), scanned in
    ``segments`` parallel segments."""

    def segment(number: int) -> TableCounts:
        counts = TableCounts()
        for record in _records(client, table_name, number, segments, on_page):
            pk, sk = record["PK"]["S"], record["SK"]["S"]
            if pk.startswith(ITEM_PREFIX) and sk == ITEM_SK:
                item_id = item_id_of(pk)
                if only_items is None or item_id in only_items:
                    counts.shared_counts[item_id] = parse_count(_plain(record.get("SharedCount")))
            elif pk.startswith(USER_PREFIX) and sk.startswith(ACTIVITY_PREFIX):
                entry_of = record.get("ItemId", {}).get("S")
                if entry_of is not None and (only_items is None or entry_of in only_items):
                    counts.ledger[entry_of] += 1
        return counts

    with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="audit-scan") as pool:
        parts = list(pool.map(segment, range(segments)))
    total = TableCounts()
    for part in parts:
        total.merge(part)
    return total


def item_id_of(pk: str) -> str:
    """The id of the item whose record has key ``pk`` (``ITEM#<id>``)."""
    return pk.removeprefix(ITEM_PREFIX)


def _plain(value: Any) -> object:
    return None if value is None else TypeDeserializer().deserialize(value)


def approximate_record_count(client: DynamoDBClient, table_name: str) -> int:
    """DynamoDB's estimate of the table's size (updated about every six hours), for a progress bar."""
    return int(client.describe_table(TableName=table_name)["Table"].get("ItemCount", 0))


def _records(
    client: DynamoDBClient, table_name: str, segment: int, segments: int, on_page: Progress
) -> Iterator[dict[str, Any]]:
    arguments: dict[str, Any] = {
        "TableName": table_name,
        "ConsistentRead": True,
        "Segment": segment,
        "TotalSegments": segments,
        "ProjectionExpression": ", ".join(PROJECTION),
        "ExpressionAttributeNames": PROJECTION,
    }
    for page in client.get_paginator("scan").paginate(**arguments):
        on_page(len(page["Items"]))
        yield from page["Items"]
