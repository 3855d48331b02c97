"""The operator's two DLQ actions: look at what is parked there, and send it back to the main queue.

Redrive prefers SQS's own ``StartMessageMoveTask`` (the embedded server implements it too,
:mod:`local_runtime.aws.message_moves`) and waits for the task to finish. The copy stays as the
fallback of ``auto`` for endpoints without the API (other emulators, or moto on its own, answer HTTP
500 or ``InvalidAction``): each message is sent to the main queue first and deleted from the DLQ
only once that send succeeded. A crash in between leaves a copy in both queues, which the worker
absorbs (the eventId is applied once); a message is never deleted before it is re-sent.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from local_runtime.batches import SQS_MAX_BATCH, chunked
from local_runtime.stack.provision import StackResources

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef, SendMessageBatchRequestEntryTypeDef

INSPECT_HOLD_S = 30
"""Inspected messages stay hidden this long while the next ones are read, then are made visible again."""
COPY_HOLD_S = 60
"""A message being copied stays hidden this long; if its send fails it reappears in the DLQ after it."""
NOT_IMPLEMENTED_STATUSES = {500, 501}
NOT_IMPLEMENTED_CODES = {"NotImplemented", "UnsupportedOperation", "InvalidAction"}
MOVE_POLL_S = 0.2
MOVE_WAIT_S = 15 * 60
"""How long a redrive waits for its move task: SQS moves up to 500 messages a second, so a DLQ of
450,000 would still be moving (the task goes on without us; ``list-message-move-tasks`` follows it)."""
"""How often a redrive asks whether its move task has finished."""


class RedriveMethod(Enum):
    AUTO = "auto"
    MOVE_TASK = "move-task"
    COPY = "copy"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    receive_count: int
    sent_at_ms: int

    def age_s(self, now_ms: int | None = None) -> float:
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        return max(0.0, (now - self.sent_at_ms) / 1000)


@dataclass(frozen=True)
class RedriveResult:
    method: RedriveMethod
    moved: int
    """Messages copied (``COPY``), or moved by the finished task (``MOVE_TASK``)."""
    task_handle: str | None = None
    failed: int = 0
    """Messages that could not be sent (``COPY``), or that the task left in the DLQ (``MOVE_TASK``)."""


def inspect(sqs: SQSClient, dlq_url: str, limit: int = 10) -> list[DeadLetter]:
    """Up to ``limit`` DLQ messages; they are visible again afterwards (reading counts as a receive)."""
    messages = _receive_all(sqs, dlq_url, limit, INSPECT_HOLD_S)
    _make_visible(sqs, dlq_url, messages)
    return [_dead_letter(message) for message in messages]


def parked(sqs: SQSClient, dlq_url: str) -> int:
    """About how many messages the DLQ holds, hidden ones included (SQS's counts are approximate)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=dlq_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(count) for count in attributes.values())


def redrive(
    sqs: SQSClient, resources: StackResources, method: RedriveMethod = RedriveMethod.AUTO, limit: int = 1000
) -> RedriveResult:
    """Send DLQ messages back to the main queue (``limit`` bounds a copy; a move task takes them all)."""
    if method in (RedriveMethod.AUTO, RedriveMethod.MOVE_TASK):
        try:
            response = sqs.start_message_move_task(
                SourceArn=resources.dlq_arn, DestinationArn=resources.queue_arn
            )
        except ClientError as error:
            if method is RedriveMethod.MOVE_TASK or not _not_implemented(error):
                raise
        else:
            return _wait_for_move(sqs, resources.dlq_arn, response["TaskHandle"])
    return _copy(sqs, resources, limit)


class MoveTaskStillRunning(RuntimeError):
    """The move task outlasted :data:`MOVE_WAIT_S`; it goes on in SQS."""


def _wait_for_move(sqs: SQSClient, dlq_arn: str, task_handle: str) -> RedriveResult:
    """Poll the DLQ's newest move task (ours: SQS runs one task at a time per queue) until it is no
    longer running. SQS may list a task it has just started a moment later, so an empty list is waited on."""
    deadline = time.monotonic() + MOVE_WAIT_S
    while True:
        if time.monotonic() > deadline:
            raise MoveTaskStillRunning(
                f"the move task is still running after {MOVE_WAIT_S} s; it goes on in SQS: "
                f"aws sqs list-message-move-tasks --source-arn {dlq_arn}"
            )
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1)["Results"]
        if not tasks:
            time.sleep(MOVE_POLL_S)
            continue
        [task] = tasks
        if task.get("Status") not in ("RUNNING", "CANCELLING"):
            moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
            to_move = int(task.get("ApproximateNumberOfMessagesToMove", moved))
            return RedriveResult(
                RedriveMethod.MOVE_TASK, moved=moved, task_handle=task_handle, failed=max(0, to_move - moved)
            )
        time.sleep(MOVE_POLL_S)


def _copy(sqs: SQSClient, resources: StackResources, limit: int) -> RedriveResult:
    moved = failed = 0
    while moved + failed < limit:
        batch = _receive(sqs, resources.dlq_url, min(SQS_MAX_BATCH, limit - moved - failed), COPY_HOLD_S)
        if not batch:
            break
        entries = [_resend_entry(str(index), message) for index, message in enumerate(batch)]
        sent = sqs.send_message_batch(QueueUrl=resources.queue_url, Entries=entries)
        sent_ids = {entry["Id"] for entry in sent.get("Successful", [])}
        if sent_ids:
            sqs.delete_message_batch(
                QueueUrl=resources.dlq_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(batch)
                    if str(index) in sent_ids
                ],
            )
        moved += len(sent_ids)
        failed += len(batch) - len(sent_ids)
    return RedriveResult(RedriveMethod.COPY, moved=moved, failed=failed)


def _receive_all(sqs: SQSClient, queue_url: str, limit: int, hold_s: int) -> list[MessageTypeDef]:
    messages: list[MessageTypeDef] = []
    while len(messages) < limit:
        batch = _receive(sqs, queue_url, min(SQS_MAX_BATCH, limit - len(messages)), hold_s)
        if not batch:
            break
        messages.extend(batch)
    return messages


def _receive(sqs: SQSClient, queue_url: str, count: int, hold_s: int) -> list[MessageTypeDef]:
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=count,
        VisibilityTimeout=hold_s,
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(response.get("Messages", []))


def _make_visible(sqs: SQSClient, queue_url: str, messages: Sequence[MessageTypeDef]) -> None:
    for chunk in chunked(messages):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
                for index, message in enumerate(chunk)
            ],
        )


def _resend_entry(entry_id: str, message: MessageTypeDef) -> SendMessageBatchRequestEntryTypeDef:
    """The same body and message attributes, as a new message."""
    entry: SendMessageBatchRequestEntryTypeDef = {"Id": entry_id, "MessageBody": message["Body"]}
    if attributes := message.get("MessageAttributes"):
        entry["MessageAttributes"] = attributes
    return entry


def _dead_letter(message: MessageTypeDef) -> DeadLetter:
    attributes = message.get("Attributes", {})
    return DeadLetter(
        message_id=message["MessageId"],
        body=message["Body"],
        receive_count=int(attributes.get("ApproximateReceiveCount", "0")),
        sent_at_ms=int(attributes.get("SentTimestamp", "0")),
    )


def _not_implemented(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    code = str(error.response.get("Error", {}).get("Code", ""))
    return status in NOT_IMPLEMENTED_STATUSES or code in NOT_IMPLEMENTED_CODES
