"""The audit's scan (``share-worker audit``) on the embedded server: records/s at 10,000 and 100,000
rows, with 1 and 4 segments.

Each table holds a realistic mix: one item record for every ten rows, and for each share its feed
entry and its dedup marker (the rest, half each), seeded with ``BatchWriteItem``. The server runs in
a process of its own (``bench.aws_server``), as DynamoDB is remote to the audit.

    python -m bench.audit_scan [--rows 10000 100000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import uuid
from functools import partial

import boto3

from bench.harness import local_aws, median_seconds, print_report
from local_runtime.audit.ledger_scan import scan_counts
from local_runtime.stack.provision import create_table, item_record
from services.keys import activity_key, marker_key

SEGMENTS = (1, 4)
ITEM_SHARE = 10
"""One row in ten is an item record."""


def seed(table_name: str, rows: int) -> None:
    items = max(1, rows // ITEM_SHARE)
    shares = (rows - items) // 2
    with boto3.resource("dynamodb").Table(table_name).batch_writer() as batch:
        for n in range(items):
            batch.put_item(Item=item_record({"itemId": f"item-{n}", "name": f"Item {n}", "sharedCount": 0}))
        for n in range(shares):
            event_id, item_id = f"event-{n}", f"item-{n % items}"
            batch.put_item(
                Item={**activity_key(f"user-{n % 97}", "2025-11-13T10:00:00Z", event_id), "ItemId": item_id}
            )
            batch.put_item(Item={**marker_key(event_id), "ItemId": item_id})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1, help="scans per figure (the median is shown)")
    args = parser.parse_args()
    rows_out: list[list[object]] = []
    with local_aws():
        client = boto3.client("dynamodb")
        for rows in args.rows:
            table_name = f"audit-bench-{uuid.uuid4().hex[:8]}"
            create_table(client, table_name)
            seed(table_name, rows)
            seconds = {
                segments: median_seconds(partial(scan_counts, client, table_name, segments), args.repeat)
                for segments in SEGMENTS
            }
            for segments, elapsed in seconds.items():
                speed_up = f"{seconds[SEGMENTS[0]] / elapsed:.2f}x" if segments != SEGMENTS[0] else "-"
                rows_out.append([f"{rows:,}", segments, f"{elapsed:.2f}", f"{rows / elapsed:,.0f}", speed_up])
    print_report(
        "Audit scan on the embedded server",
        ["A consistent parallel Scan of the whole table, counting feed entries per item."],
        ["rows", "segments", "seconds", "records/s", f"speed-up vs {SEGMENTS[0]}"],
        rows_out,
    )


if __name__ == "__main__":
    main()
