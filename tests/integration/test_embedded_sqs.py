"""The embedded server's SQS under concurrent receivers, as several pollers use it.

moto checks, marks and moves a queue's messages without a lock. Receives at the same time could
hand one message to two receivers, and two receives moving the same message to the DLQ made one of
them fail with HTTP 500 after it had marked other messages received, which left those invisible
for the whole visibility timeout (3 minutes at the template's settings) with nobody holding them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local_runtime.aws import moto_sqs
from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.batches import chunked
from local_runtime.stack.provision import provision
from local_runtime.stack.template import Stack

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

pytestmark = pytest.mark.integration

RECEIVERS = 8
MESSAGES = 200
NO_RETRIES = Config(retries={"total_max_attempts": 1})
"""A 500 must show, not be hidden by the SDK's retry."""


def _stack_with_messages(receive_count: int) -> tuple[str, str]:
    """A fresh stack's queue and DLQ URLs, ``MESSAGES`` messages on the queue."""
    sqs = boto3.client("sqs")
    stack = Stack(name=f"sqs-{uuid.uuid4().hex[:10]}", overrides={"MaxReceiveCount": receive_count})
    resources = provision(stack, boto3.client("dynamodb"), sqs)
    for chunk in chunked(range(MESSAGES)):
        sqs.send_message_batch(
            QueueUrl=resources.queue_url,
            Entries=[{"Id": str(index), "MessageBody": f"m-{index}"} for index in chunk],
        )
    return resources.queue_url, resources.dlq_url


def _receive_until_empty(queue_url: str) -> list[MessageTypeDef]:
    """Every message there is, each hidden for the queue's visibility timeout once received."""
    sqs = boto3.client("sqs", config=NO_RETRIES)
    received: list[MessageTypeDef] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        received.extend(messages)
    return received


def _receive_concurrently(queue_url: str) -> Counter[str]:
    with ThreadPoolExecutor(RECEIVERS) as pool:
        rounds = pool.map(_receive_until_empty, [queue_url] * RECEIVERS)
        return Counter(message["Body"] for messages in rounds for message in messages)


def test_concurrent_receivers_get_each_message_once(aws: EmbeddedAws) -> None:
    queue_url, _ = _stack_with_messages(receive_count=3)

    received = _receive_concurrently(queue_url)

    assert (len(received), set(received.values())) == (MESSAGES, {1})


def test_concurrent_receivers_move_spent_messages_to_the_dlq_without_failing(aws: EmbeddedAws) -> None:
    queue_url, dlq_url = _stack_with_messages(receive_count=1)
    sqs = boto3.client("sqs")
    for chunk in chunked(_receive_until_empty(queue_url)):  # each message's one receive, spent
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                for index, message in enumerate(chunk)
            ],
        )

    received = _receive_concurrently(queue_url)

    attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert received == Counter()
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == str(MESSAGES)


def test_a_waiting_long_poll_lets_other_requests_through_and_receives_what_they_send(
    aws: EmbeddedAws,
) -> None:
    """Requests run one at a time, but a long poll waiting on an empty queue holds nothing up."""
    sqs = boto3.client("sqs")
    stack = Stack(name=f"sqs-{uuid.uuid4().hex[:10]}")
    queue_url = provision(stack, boto3.client("dynamodb"), sqs).queue_url
    with ThreadPoolExecutor(1) as pool:
        polling = pool.submit(sqs.receive_message, QueueUrl=queue_url, WaitTimeSeconds=20)
        sqs.send_message(QueueUrl=queue_url, MessageBody="while it waits")

        assert [message["Body"] for message in polling.result()["Messages"]] == ["while it waits"]


def test_empty_message_bodies_are_refused_as_sqs_refuses_them(aws: EmbeddedAws) -> None:
    """``SendMessage`` fails with ``MissingParameter``; in a batch only the empty entries fail."""
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"empty-{uuid.uuid4().hex[:10]}")["QueueUrl"]

    with pytest.raises(ClientError) as refused:
        sqs.send_message(QueueUrl=queue_url, MessageBody="")
    batch = sqs.send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": "empty", "MessageBody": ""}, {"Id": "full", "MessageBody": "x"}]
    )

    assert refused.value.response["Error"]["Code"] == "MissingParameter"
    assert [entry["Id"] for entry in batch["Successful"]] == ["full"]
    [failed] = batch["Failed"]
    assert (failed["Id"], failed["Code"], failed["SenderFault"]) == ("empty", "MissingParameter", True)
    assert [message["Body"] for message in _receive_until_empty(queue_url)] == ["x"]


def test_a_receive_examines_the_messages_it_returns_not_the_whole_queue(aws: EmbeddedAws) -> None:
    """moto's own ``ReceiveMessage`` looks at every message of the queue, several times over; the
    embedded server's stops at the tenth it hands out, however deep the queue."""
    sqs = boto3.client("sqs")
    queue_url, _ = _stack_with_messages(receive_count=5)
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    moto_sqs.EXAMINED.pop(arn, None)

    first = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    after_first = moto_sqs.EXAMINED[arn]
    second = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]

    assert len(first) == len(second) == 10 and MESSAGES >= 200
    assert after_first == 10
    assert moto_sqs.EXAMINED[arn] - after_first == 20  # the 10 in flight ahead of it, then 10 it returns
