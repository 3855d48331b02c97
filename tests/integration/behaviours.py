"""The handler the poller tests deploy: the real worker, unless a message attribute asks for trouble.

It runs inside an execution environment (a child process), so it decides from the event alone:
the ``test-behaviour`` message attribute says what to do, and only on a message's first delivery.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from handler import lambda_handler as worker_handler

BEHAVIOUR_ATTRIBUTE = "test-behaviour"
RAISE = "raise-on-first-delivery"
HANG = "hang-on-first-delivery"
ANNOUNCE_AND_HANG = "say-so-on-stderr-and-hang-on-first-delivery"
ANNOUNCEMENT = "behaviours: hanging now"
"""Written to standard error (the environment's is its parent's): a test knows an invocation is in flight."""
NAME_A_STRANGER = "name-a-message-outside-the-batch-on-first-delivery"
ECHO_CONTEXT = "echo-context"
HANG_S = 60


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    asked = {_behaviour(record) for record in event["Records"]}
    first_delivery = any(
        record["attributes"]["ApproximateReceiveCount"] == "1" for record in event["Records"]
    )
    if first_delivery and RAISE in asked:
        raise RuntimeError("injected failure")
    if first_delivery and ANNOUNCE_AND_HANG in asked:
        sys.stderr.write(ANNOUNCEMENT + "\n")
        sys.stderr.flush()
    if first_delivery and asked & {HANG, ANNOUNCE_AND_HANG}:
        time.sleep(HANG_S)
    if first_delivery and NAME_A_STRANGER in asked:
        return {"batchItemFailures": [{"itemIdentifier": "not-a-message-of-this-batch"}]}
    response: dict[str, Any] = worker_handler(event, context)
    if ECHO_CONTEXT in asked:
        response["context"] = {
            "function_name": context.function_name,
            "aws_request_id": context.aws_request_id,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "remaining_ms": context.get_remaining_time_in_millis(),
        }
    return response


def _behaviour(record: dict[str, Any]) -> str | None:
    value: str | None = record.get("messageAttributes", {}).get(BEHAVIOUR_ATTRIBUTE, {}).get("stringValue")
    return value
