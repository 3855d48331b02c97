"""Creates the worker's table locally and seeds items, the way the wardrobe API would write them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.keys import item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def create_table(client: DynamoDBClient, table_name: str) -> None:
    """Keys ``PK``/``SK`` (strings), on-demand, TTL on ``ExpiresAt``; waits until it is active."""
    client.create_table(
        TableName=table_name,
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ExpiresAt"}
    )


def item_record(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's metadata record from its sample description (``itemId``, ``name``, ``ownerId``...)."""
    record: dict[str, Any] = {
        **item_key(str(item["itemId"])),
        "ItemId": item["itemId"],
        "Name": item["name"],
        "SharedCount": item.get("sharedCount", 0),
        "IsPublic": item.get("isPublic", False),
        "CreatedAt": item.get("createdAt", "2025-11-01T09:00:00.000Z"),
        "UpdatedAt": item.get("createdAt", "2025-11-01T09:00:00.000Z"),
    }
    if item.get("ownerId"):
        record["UserId"] = item["ownerId"]
    return record


def seed_items(
    resource: DynamoDBServiceResource, table_name: str, items: Iterable[Mapping[str, Any]]
) -> None:
    with resource.Table(table_name).batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item_record(item))


def sample_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((SAMPLES / "items.json").read_text())
    return items


def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((SAMPLES / "events" / name).read_text())
    return event
