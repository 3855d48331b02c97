"""Builders for SQS events and share bodies, shaped like what Lambda's SQS event source sends."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

from services.lambda_context import LocalLambdaContext
from testkit.synthetic_sqs import sqs_event, sqs_record

__all__ = ["WallClockContext", "failed_ids", "fifo_record", "share_body", "sqs_event", "sqs_record"]


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


@dataclass
class WallClockContext(LocalLambdaContext):
    """A Lambda context whose remaining time runs down with the wall clock, as Lambda's does."""

    budget_s: float = 10.0
    started: float = field(default_factory=time.monotonic)
    counts_down: ClassVar[bool] = True

    def get_remaining_time_in_millis(self) -> int:
        return int((self.budget_s - (time.monotonic() - self.started)) * 1000)


FIFO_QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:share-events.fifo"


def fifo_record(body: str, message_id: str, group: str, sequence: int) -> dict[str, Any]:
    """A record from a FIFO queue, in the shape of AWS's FIFO sample event for Lambda."""
    record = sqs_record(body, message_id)
    record["attributes"].update(
        MessageGroupId=group,
        MessageDeduplicationId=f"dedup-{message_id}",
        SequenceNumber=f"{18849496460467696128 + sequence}",
    )
    record["eventSourceARN"] = FIFO_QUEUE_ARN
    return record
