"""ReceiveMessage output becomes the record Lambda's SQS event source mapping would deliver."""

from __future__ import annotations

from typing import Any

from local_runtime.lambda_service.lambda_event import sqs_event

QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:shares"


def received(**extra: Any) -> dict[str, Any]:
    return {
        "MessageId": "m-1",
        "ReceiptHandle": "handle-1",
        "MD5OfBody": "0cc175b9c0f1b6a831c399e269772661",
        "Body": "a",
        "Attributes": {
            "ApproximateReceiveCount": "2",
            "SentTimestamp": "1",
            "SenderId": "S",
            "ApproximateFirstReceiveTimestamp": "2",
        },
        **extra,
    }


def test_record_has_lambdas_keys_and_the_queues_region() -> None:
    [record] = sqs_event([received()], QUEUE_ARN)["Records"]  # type: ignore[list-item]

    assert record == {
        "messageId": "m-1",
        "receiptHandle": "handle-1",
        "body": "a",
        "attributes": {
            "ApproximateReceiveCount": "2",
            "SentTimestamp": "1",
            "SenderId": "S",
            "ApproximateFirstReceiveTimestamp": "2",
        },
        "messageAttributes": {},
        "md5OfBody": "0cc175b9c0f1b6a831c399e269772661",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "eu-west-1",
    }


def test_message_attributes_take_lambdas_shape_with_binary_values_in_base64() -> None:
    message = received(
        MessageAttributes={
            "source": {"DataType": "String", "StringValue": "api"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
        MD5OfMessageAttributes="d41d8cd98f00b204e9800998ecf8427e",
    )

    [record] = sqs_event([message], QUEUE_ARN)["Records"]  # type: ignore[list-item]

    assert record["messageAttributes"] == {
        "source": {
            "stringValue": "api",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        },
        "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    assert record["md5OfMessageAttributes"] == "d41d8cd98f00b204e9800998ecf8427e"
