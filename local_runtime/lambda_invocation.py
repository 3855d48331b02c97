"""What Lambda hands the function for one SQS batch: the event (from ReceiveMessage output) and a context.

The record layout is the one Lambda's SQS event source mapping delivers (and that
``samples/events/`` shows): camel-case keys, system attributes as strings, message attributes with
``stringValue``/``binaryValue``/``dataType``, the queue's ARN and region.
"""

from __future__ import annotations

import base64
import importlib
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local_runtime.template import Function
from services.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueOutputTypeDef, MessageTypeDef

Handler = Callable[[dict[str, Any], Any], Any]

EVENT_SOURCE = "aws:sqs"
LOCAL_ONLY_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true"}
"""No X-Ray daemon runs locally; set it yourself to override."""


def load_handler(function: Function) -> Handler:
    """Import the function's handler as the Lambda runtime would, after setting its environment.

    The variables come from the template (``TABLE_NAME`` resolved for the stack) and are set in this
    process, since the handler reads them at import and on its first call.
    """
    os.environ.update(function.environment)
    for name, value in LOCAL_ONLY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    module_name, _, attribute = function.handler.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


def sqs_event(messages: Sequence[MessageTypeDef], queue_arn: str) -> dict[str, Any]:
    """The ``{"Records": [...]}`` event for ``messages`` received from the queue ``queue_arn``."""
    return {"Records": [sqs_record(message, queue_arn) for message in messages]}


def sqs_record(message: MessageTypeDef, queue_arn: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": EVENT_SOURCE,
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _lambda_attribute(value: MessageAttributeValueOutputTypeDef) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


@dataclass
class InvocationContext(LocalLambdaContext):
    """A Lambda context whose remaining time counts down to the function's timeout from the start."""

    timeout_s: float = 3.0
    log_group_name: str = ""
    log_stream_name: str = field(default_factory=lambda: f"local/[$LATEST]{uuid.uuid4().hex}")
    started_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        remaining_s = self.timeout_s - (time.monotonic() - self.started_at)
        return max(0, int(remaining_s * 1000))
