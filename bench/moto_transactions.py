"""``make bench-moto``: the worker's share transaction on the embedded moto server, empty vs 20,000 rows.

Runs moto's own ``TransactWriteItems`` first, then installs the item-level one
(:mod:`local_runtime.aws.moto_transactions`) on the same server and tables, and prints the median time
per transaction for both outcomes the worker meets: applied (committed) and duplicate (cancelled,
so rolled back). Exits non-zero if, with the adapter, 20,000 rows cost more than 1.5x an empty table.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.config import Config

from local_runtime.aws import moto_transactions
from local_runtime.aws.embedded_aws import embedded_aws
from local_runtime.cli.report import table
from local_runtime.stack.provision import create_table, item_record
from services.activity_service import ActivityService
from services.dynamodb_service import DynamoDBService, TransactionCancelled
from services.share_event import ShareEvent
from services.share_service import ShareService

ROWS = 20_000
ITEM = {"itemId": "bench-item", "name": "Benchmark jacket", "ownerId": "owner"}
DUPLICATE_EVENT_ID = "applied-before"
SAMPLES = 40
SAMPLES_AS_SHIPPED_FULL = 3
"""moto as shipped takes seconds per transaction on the full table: a few samples tell enough."""
LIMIT = 1.5
PATIENT_CLIENT = Config(read_timeout=300, retries={"mode": "standard", "max_attempts": 1})
AS_SHIPPED, ITEM_LEVEL = "moto as shipped", "item-level adapter"


@dataclass(frozen=True)
class Measurement:
    implementation: str
    rows: int
    applied_ms: float
    duplicate_ms: float


class ShareTransactions:
    """The worker's own transaction (marker, item update, feed entry) against one table."""

    def __init__(self, table_name: str) -> None:
        resource = boto3.resource("dynamodb", config=PATIENT_CLIENT)
        self.dynamodb = DynamoDBService(table_name, table=resource.Table(table_name))
        self.service = ShareService(self.dynamodb, ActivityService(self.dynamodb))
        self.item = item_record(ITEM)

    @classmethod
    def prepared(cls, table_name: str, rows: int) -> ShareTransactions:
        """A new table with ``rows`` other items, the benchmark item and one share already applied."""
        print(f"preparing {table_name}: {rows:,} rows ...", file=sys.stderr, flush=True)
        create_table(boto3.client("dynamodb"), table_name)
        with boto3.resource("dynamodb").Table(table_name).batch_writer() as batch:
            batch.put_item(Item=item_record(ITEM))
            for index in range(rows):
                batch.put_item(
                    Item=item_record({"itemId": f"seed-{index:05d}", "name": f"Seed item {index}"})
                )
        transactions = cls(table_name)
        transactions._write(DUPLICATE_EVENT_ID)
        return transactions

    def apply_new(self) -> None:
        self._write(str(uuid.uuid4()))

    def apply_duplicate(self) -> None:
        try:
            self._write(DUPLICATE_EVENT_ID)
        except TransactionCancelled:
            return
        raise AssertionError("a duplicate share must be cancelled")

    def _write(self, event_id: str) -> None:
        event = ShareEvent(
            item_id=str(ITEM["itemId"]),
            user_id="owner",
            event_id=event_id,
            shared_at="2025-11-13T10:30:00.000Z",
        )
        self.dynamodb.transact_write(self.service.transaction(self.item, [event]))


def main() -> int:
    with embedded_aws(item_level_transactions=False):
        tables = {
            0: ShareTransactions.prepared("bench-empty", 0),
            ROWS: ShareTransactions.prepared("bench-full", ROWS),
        }
        results = _measure(AS_SHIPPED, tables)
        moto_transactions.install()
        results += _measure(ITEM_LEVEL, tables)
    print(_report(results))
    ratio = _slowdown([result for result in results if result.implementation == ITEM_LEVEL])
    print(
        f"\n{ITEM_LEVEL}: at {ROWS:,} rows a transaction costs {ratio:.2f}x an empty table's (limit {LIMIT}x)"
    )
    return 0 if ratio <= LIMIT else 1


def _measure(implementation: str, tables: dict[int, ShareTransactions]) -> list[Measurement]:
    measurements = []
    for rows, transactions in tables.items():
        samples = SAMPLES_AS_SHIPPED_FULL if implementation == AS_SHIPPED and rows else SAMPLES
        print(
            f"timing {implementation} at {rows:,} rows ({samples} samples each) ...",
            file=sys.stderr,
            flush=True,
        )
        measurements.append(
            Measurement(
                implementation,
                rows,
                applied_ms=_median_ms(transactions.apply_new, samples),
                duplicate_ms=_median_ms(transactions.apply_duplicate, samples),
            )
        )
    return measurements


def _median_ms(action: Callable[[], None], samples: int) -> float:
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        action()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations) * 1000


def _slowdown(measurements: list[Measurement]) -> float:
    """The larger of the applied and duplicate ratios, full table over empty table."""
    by_rows = {measurement.rows: measurement for measurement in measurements}
    empty, full = by_rows[0], by_rows[ROWS]
    return max(full.applied_ms / empty.applied_ms, full.duplicate_ms / empty.duplicate_ms)


def _report(results: list[Measurement]) -> str:
    empty = {result.implementation: result for result in results if result.rows == 0}
    rows = [
        [
            result.implementation,
            f"{result.rows:,}",
            f"{result.applied_ms:.1f}",
            f"{result.duplicate_ms:.1f}",
            f"{result.applied_ms / empty[result.implementation].applied_ms:.2f}x",
        ]
        for result in results
    ]
    headers = [
        "TransactWriteItems",
        "rows",
        "applied ms/tx",
        "duplicate (rolled back) ms/tx",
        "applied vs empty",
    ]
    return table(headers, rows)


if __name__ == "__main__":
    sys.exit(main())
