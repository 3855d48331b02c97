"""Request bodies as this worker, the peer and the baseline send them, in DynamoDB's wire form."""

from __future__ import annotations

from typing import Any

from bench.request_log import SentRequest

TABLE, IDEMPOTENCY = "shares", "idempotency"
KEY_NAMES = {TABLE: ("PK", "SK"), IDEMPOTENCY: ("id",)}


def s(text: str) -> dict[str, str]:
    return {"S": text}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": s(pk), "SK": s(sk)}


def marker_put(event_id: str) -> dict[str, Any]:
    item = {**key(f"EVENT#{event_id}", "EVENT"), "EventId": s(event_id)}
    return {"Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


def feed_put(event_id: str) -> dict[str, Any]:
    item = {**key("USER#u", f"ACTIVITY#2025-11-13T10:30:00.000Z#{event_id}"), "EventId": s(event_id)}
    return {"Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


def item_update(item_id: str, count: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key(f"ITEM#{item_id}", "METADATA"),
            "UpdateExpression": "SET IsPublic = :true ADD SharedCount :k",
            "ExpressionAttributeValues": {":true": {"BOOL": True}, ":k": {"N": str(count)}},
        }
    }


def share_transaction(event_id: str, item_id: str = "hot") -> SentRequest:
    """Today's worker: one transaction per share."""
    actions = [marker_put(event_id), item_update(item_id, 1), feed_put(event_id)]
    return SentRequest("TransactWriteItems", {"TransactItems": actions})


def coalesced_transaction(event_ids: list[str], item_id: str = "hot") -> SentRequest:
    """Issue 8's worker: every new share of one item in one transaction, one update of the item."""
    actions = [action for event_id in event_ids for action in (marker_put(event_id), feed_put(event_id))]
    return SentRequest(
        "TransactWriteItems", {"TransactItems": [*actions, item_update(item_id, len(event_ids))]}
    )


def naive_share(event_id: str, item_id: str = "hot") -> list[SentRequest]:
    """The baseline's three calls; the peer adds its idempotency record's put and update."""
    update = item_update(item_id, 1)["Update"]
    return [
        SentRequest(
            "GetItem", {"TableName": TABLE, "Key": key(f"ITEM#{item_id}", "METADATA"), "ConsistentRead": True}
        ),
        SentRequest("UpdateItem", update),
        SentRequest("PutItem", feed_put(event_id)["Put"]),
    ]


def idempotency_record(event_id: str) -> list[SentRequest]:
    record_key = {"id": s(f"fn#{event_id}")}
    return [
        SentRequest("PutItem", {"TableName": IDEMPOTENCY, "Item": {**record_key, "status": s("INPROGRESS")}}),
        SentRequest("UpdateItem", {"TableName": IDEMPOTENCY, "Key": record_key}),
    ]


def batch_read(keys: list[dict[str, Any]]) -> SentRequest:
    return SentRequest("BatchGetItem", {"RequestItems": {TABLE: {"Keys": keys, "ConsistentRead": True}}})
