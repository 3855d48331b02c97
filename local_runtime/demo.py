"""``make run``: the worker against the embedded AWS on a sample batch, and a report of what happened."""

from __future__ import annotations

import os
from typing import Any

import boto3

from local_runtime.capture import Captured, captured_telemetry
from local_runtime.embedded_aws import embedded_aws
from local_runtime.provision import create_table, sample_event, sample_items, seed_items
from local_runtime.report import table
from services.keys import item_key

TABLE_NAME = "share-worker-local"
BATCH_FILE = "mixed-batch.json"


def main() -> None:
    with embedded_aws() as aws:
        os.environ["TABLE_NAME"] = TABLE_NAME
        import handler

        resource = boto3.resource("dynamodb")
        create_table(resource.meta.client, TABLE_NAME)
        seed_items(resource, TABLE_NAME, sample_items())
        print(f"Embedded AWS (moto) at {aws.endpoint_url}; table {TABLE_NAME}, {len(sample_items())} items\n")

        event = sample_event(BATCH_FILE)
        for attempt in ("first delivery", "redelivery of the same batch"):
            with captured_telemetry() as captured:
                response = handler.lambda_handler(event, None)
            print(f"== samples/events/{BATCH_FILE}, {attempt}: {len(event['Records'])} records ==")
            print(table(["messageId", "outcome", "detail"], _record_rows(event, captured)))
            failures = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
            print(f"batchItemFailures: {failures}")
            print(
                "metrics: " + ", ".join(f"{name}={value}" for name, value in sorted(captured.metrics.items()))
            )
            print()

        print("== items after both deliveries ==")
        print(table(["itemId", "name", "owner", "SharedCount", "IsPublic"], _item_rows(resource)))
        print("\n== activity feed of user123, newest first ==")
        feed = handler.worker().activity_service.list_user_activity("user123", limit=10)
        print(
            table(
                ["SharedAt", "ItemName", "EventId"],
                [[e["SharedAt"], e["ItemName"], e["EventId"]] for e in feed.entries],
            )
        )


def _record_rows(event: dict[str, Any], captured: Captured) -> list[list[Any]]:
    by_message: dict[str, dict[str, Any]] = {}
    for line in captured.logs:
        if line.get("message_id"):
            by_message[line["message_id"]] = line
    rows = []
    for record in event["Records"]:
        line = by_message.get(record["messageId"], {})
        rows.append(
            [record["messageId"], line.get("outcome", "FAILED (retried by SQS)"), line.get("message", "")]
        )
    return rows


def _item_rows(resource: Any) -> list[list[Any]]:
    table_ = resource.Table(TABLE_NAME)
    rows = []
    for item in sample_items():
        record = table_.get_item(Key=item_key(item["itemId"])).get("Item", {})
        rows.append(
            [
                item["itemId"],
                record.get("Name"),
                record.get("UserId"),
                record.get("SharedCount"),
                record.get("IsPublic"),
            ]
        )
    return rows


if __name__ == "__main__":
    main()
