"""SQS message move tasks on the embedded server (``local_runtime/aws/message_moves.py``), through boto3.

moto has none: ``StartMessageMoveTask`` used to print ``NotImplementedError`` tracebacks on the
server and answer a 500. These check what the SQS API reference promises: the DLQ-only source, the
way back to each message's own source queue (``DeadLetterQueueSourceArn``), one task at a time,
listing, cancelling, and errors as SQS error codes.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_runtime.aws.embedded_aws import EmbeddedAws
from local_runtime.cli import dlq
from local_runtime.stack.provision import provision
from local_runtime.stack.template import Stack
from tests.cli_process import share_worker

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

pytestmark = pytest.mark.integration


def _queue(sqs: SQSClient, *, dlq_arn: str | None = None) -> tuple[str, str]:
    attributes: Any = {"VisibilityTimeout": "0"}
    if dlq_arn is not None:
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}", Attributes=attributes)["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _dead_letter(sqs: SQSClient, source_url: str, bodies: list[str]) -> None:
    """Send ``bodies`` to ``source_url`` and receive them past ``maxReceiveCount`` (1): into its DLQ."""
    for body in bodies:
        sqs.send_message(
            QueueUrl=source_url,
            MessageBody=body,
            MessageAttributes={"kind": {"DataType": "String", "StringValue": f"k-{body}"}},
        )
    while sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10).get("Messages"):
        pass


def _bodies(sqs: SQSClient, url: str) -> dict[str, dict[str, Any]]:
    """Every message on ``url`` by body (received and deleted)."""
    found: dict[str, dict[str, Any]] = {}
    while messages := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    ).get("Messages", []):
        for message in messages:
            found[message["Body"]] = dict(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _wait_until_done(sqs: SQSClient, source_arn: str) -> dict[str, Any]:
    while True:
        [task] = sqs.list_message_move_tasks(SourceArn=source_arn)["Results"]
        if task["Status"] not in ("RUNNING", "CANCELLING"):
            return dict(task)
        time.sleep(0.05)


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_dead_lettered_messages_carry_their_source_queue_arn(aws: EmbeddedAws) -> None:
    sqs = boto3.client("sqs")
    dlq_url, dlq_arn = _queue(sqs)
    source_url, source_arn = _queue(sqs, dlq_arn=dlq_arn)
    _dead_letter(sqs, source_url, ["a"])

    [message] = sqs.receive_message(QueueUrl=dlq_url, MessageSystemAttributeNames=["All"])["Messages"]
    [named] = sqs.receive_message(QueueUrl=dlq_url, MessageSystemAttributeNames=["DeadLetterQueueSourceArn"])[
        "Messages"
    ]

    assert message["Attributes"]["DeadLetterQueueSourceArn"] == source_arn
    assert named["Attributes"] == {"DeadLetterQueueSourceArn": source_arn}


def test_a_move_task_without_destination_sends_each_message_back_to_its_own_source(aws: EmbeddedAws) -> None:
    sqs = boto3.client("sqs")
    dlq_url, dlq_arn = _queue(sqs)
    first_url, _ = _queue(sqs, dlq_arn=dlq_arn)
    second_url, _ = _queue(sqs, dlq_arn=dlq_arn)
    _dead_letter(sqs, first_url, ["a", "b"])
    _dead_letter(sqs, second_url, ["c"])

    handle = sqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    task = _wait_until_done(sqs, dlq_arn)

    assert handle and task["Status"] == "COMPLETED" and "TaskHandle" not in task
    assert (task["ApproximateNumberOfMessagesMoved"], task["ApproximateNumberOfMessagesToMove"]) == (3, 3)
    assert task["SourceArn"] == dlq_arn and "DestinationArn" not in task and task["StartedTimestamp"] > 0
    first, second = _bodies(sqs, first_url), _bodies(sqs, second_url)
    assert set(first) == {"a", "b"} and set(second) == {"c"}
    assert first["a"]["MessageAttributes"]["kind"]["StringValue"] == "k-a"
    assert "DeadLetterQueueSourceArn" not in first["a"]["Attributes"]
    assert _bodies(sqs, dlq_url) == {}


def test_one_active_task_per_source_queue_listed_newest_first_and_cancelled(aws: EmbeddedAws) -> None:
    sqs = boto3.client("sqs")
    _, dlq_arn = _queue(sqs)
    source_url, source_arn = _queue(sqs, dlq_arn=dlq_arn)
    _dead_letter(sqs, source_url, [f"m-{index}" for index in range(5)])
    first = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=source_arn)["TaskHandle"]
    _wait_until_done(sqs, dlq_arn)
    _dead_letter(sqs, source_url, [f"n-{index}" for index in range(5)])

    slow = sqs.start_message_move_task(
        SourceArn=dlq_arn, DestinationArn=source_arn, MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    with pytest.raises(ClientError) as second_start:
        sqs.start_message_move_task(SourceArn=dlq_arn)
    [running, done] = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=10)["Results"]
    cancelled = sqs.cancel_message_move_task(TaskHandle=slow)
    final = _wait_until_done(sqs, dlq_arn)

    assert _error_code(second_start) == "InvalidParameterValue"
    assert (running["Status"], running["TaskHandle"], running["MaxNumberOfMessagesPerSecond"]) == (
        "RUNNING",
        slow,
        1,
    )
    assert (done["Status"], done["ApproximateNumberOfMessagesMoved"], done["DestinationArn"]) == (
        "COMPLETED",
        5,
        source_arn,
    )
    assert first != slow and cancelled["ApproximateNumberOfMessagesMoved"] < 10
    assert final["Status"] == "CANCELLED" and final["ApproximateNumberOfMessagesMoved"] < 10
    assert final["ApproximateNumberOfMessagesToMove"] == 10  # the 5 moved back were dead-lettered again


def test_move_task_errors_are_sqs_errors(aws: EmbeddedAws) -> None:
    sqs = boto3.client("sqs")
    _, plain_arn = _queue(sqs)
    missing_arn = plain_arn + "-gone"

    def code(call: Any, **arguments: Any) -> str:
        with pytest.raises(ClientError) as error:
            call(**arguments)
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500
        return _error_code(error)

    assert code(sqs.start_message_move_task, SourceArn=plain_arn) == "InvalidParameterValue"
    assert code(sqs.start_message_move_task, SourceArn=missing_arn) == "ResourceNotFoundException"
    assert code(sqs.list_message_move_tasks, SourceArn=missing_arn) == "ResourceNotFoundException"
    assert code(sqs.cancel_message_move_task, TaskHandle="not a handle") == "InvalidParameterValue"
    assert sqs.list_message_move_tasks(SourceArn=plain_arn)["Results"] == []


def test_redrive_waits_for_the_move_task_and_reports_the_count(aws: EmbeddedAws) -> None:
    sqs = boto3.client("sqs")
    resources = provision(Stack(name=f"moves-{uuid.uuid4().hex[:10]}"), boto3.client("dynamodb"), sqs)
    for body in ("x", "y"):
        sqs.send_message(QueueUrl=resources.dlq_url, MessageBody=body)

    result = dlq.redrive(sqs, resources, dlq.RedriveMethod.MOVE_TASK)

    assert (result.method, result.moved, result.failed) == (dlq.RedriveMethod.MOVE_TASK, 2, 0)
    assert set(_bodies(sqs, resources.queue_url)) == {"x", "y"}
    assert _bodies(sqs, resources.dlq_url) == {}


@pytest.mark.parametrize("method", ["auto", "move-task"])
def test_cli_redrive_uses_the_move_task(aws: EmbeddedAws, method: str) -> None:
    sqs = boto3.client("sqs")
    stack_name = f"cli-moves-{uuid.uuid4().hex[:8]}"
    resources = provision(Stack(name=stack_name), boto3.client("dynamodb"), sqs)
    sqs.send_message(QueueUrl=resources.dlq_url, MessageBody="parked")

    completed = share_worker("--stack", stack_name, "dlq", "redrive", "--method", method)

    assert completed.returncode == 0, completed.stderr
    assert "moved 1 message(s) back to the main queue (StartMessageMoveTask); 0 left" in completed.stdout
    assert set(_bodies(sqs, resources.queue_url)) == {"parked"}
