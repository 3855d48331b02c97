"""Builders for SQS events and share bodies, shaped like what Lambda's SQS event source sends."""

from __future__ import annotations

import json
import uuid
from typing import Any

from local_runtime.synthetic_sqs import sqs_event, sqs_record

__all__ = ["failed_ids", "share_body", "sqs_event", "sqs_record"]


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


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
