"""Builders for SQS events and share bodies, shaped like what Lambda's SQS event source sends."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:share-events"


def share_body(
    item_id: str = "test-item",
    user_id: str = "user123",
    event_id: str | None = None,
    shared_at: str = "2025-11-13T10:30:00Z",
    **extra: Any,
) -> str:
    body = {
        "itemId": item_id,
        "userId": user_id,
        "sharedAt": shared_at,
        "eventId": event_id or str(uuid.uuid4()),
    }
    return json.dumps({**body, **extra})


def sqs_record(body: str, message_id: str | None = None, receive_count: int = 1) -> dict[str, Any]:
    message_id = message_id or str(uuid.uuid4())
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1763029800000",
            "SenderId": "AIDATESTSENDER",
            "ApproximateFirstReceiveTimestamp": "1763029800000",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
