"""SQS events built from message bodies alone, with no queue behind them (tests and the reliability harness).

The record shape is the one Lambda delivers; :mod:`local_runtime.lambda_service.lambda_event` builds the
same shape from real ``ReceiveMessage`` output for the poller.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:share-events"


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
