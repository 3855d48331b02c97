"""SQS message move tasks (DLQ redrive) for the embedded moto server, which has none.

moto 5.2.5 answers ``StartMessageMoveTask``, ``ListMessageMoveTasks`` and ``CancelMessageMoveTask``
with ``NotImplementedError`` (a traceback on the server's stderr, a 500 or an HTML page to the
client). :func:`install` adds the three actions to moto's SQS responses, behaving as the SQS API
reference describes them (the error codes and messages are those SQS answers):

- the source must be a queue that another queue names as its dead-letter queue; the destination is
  optional, and without one each message goes back to the queue it was dead-lettered from (its
  ``DeadLetterQueueSourceArn``, see :mod:`local_runtime.aws.moto_sqs`);
- one active task per source queue; a task moves, in the background, the messages that were
  visible when it started (``ApproximateNumberOfMessagesToMove``), at most
  ``MaxNumberOfMessagesPerSecond`` a second when given, each as a new message with the same body and
  message attributes;
- tasks are listed newest first (``MaxResults``, default 1, at most 10), with a ``TaskHandle`` only
  while running; cancelling a running task stops it and answers how many messages it moved.

The task thread takes :data:`local_runtime.aws.moto_sqs.SQS_LOCK` for each message it moves, the lock
every SQS request of the embedded server holds, so a move never interleaves with a receive.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from moto.core.responses import ActionResult
from moto.sqs.exceptions import SQSException
from moto.sqs.models import Message, Queue, SQSBackend
from moto.sqs.responses import SQSResponse

from local_runtime.aws.moto_sqs import DLQ_SOURCE_ARN, SQS_LOCK

MAX_LISTED = 10
MAX_RATE = 500


class Status(Enum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


class InvalidParameterValue(SQSException):
    code = "InvalidParameterValue"


class ResourceNotFound(SQSException):
    code = "ResourceNotFoundException"


@dataclass
class MoveTask:
    source: Queue
    destination_arn: str | None
    rate: int | None
    to_move: int
    task_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    moved: int = 0
    status: Status = Status.RUNNING
    failure: str | None = None

    @property
    def handle(self) -> str:
        token = json.dumps({"taskId": self.task_id, "sourceArn": self.source.queue_arn})
        return base64.urlsafe_b64encode(token.encode()).decode()

    def entry(self) -> dict[str, Any]:
        """The task as a ``ListMessageMoveTasksResultEntry``."""
        entry: dict[str, Any] = {
            "Status": self.status.value,
            "SourceArn": self.source.queue_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_ms,
        }
        if self.status is Status.RUNNING:
            entry["TaskHandle"] = self.handle
        if self.destination_arn is not None:
            entry["DestinationArn"] = self.destination_arn
        if self.rate is not None:
            entry["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure is not None:
            entry["FailureReason"] = self.failure
        return entry


_tasks: dict[str, list[MoveTask]] = {}
"""Every task started in this process, by source queue ARN, oldest first."""
_tasks_lock = threading.Lock()


def install() -> None:
    """Add the three actions to moto's SQS responses (idempotent, per process)."""
    SQSResponse.start_message_move_task = _start  # type: ignore[attr-defined]
    SQSResponse.list_message_move_tasks = _list  # type: ignore[attr-defined]
    SQSResponse.cancel_message_move_task = _cancel  # type: ignore[attr-defined]


def _start(response: SQSResponse) -> ActionResult:
    backend = response.sqs_backend
    source = _queue_by_arn(backend, response._get_param("SourceArn"), "SourceArn")
    if not any(queue.dead_letter_queue is source for queue in backend.queues.values()):
        raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
    destination_arn: str | None = response._get_param("DestinationArn") or None
    if destination_arn is not None:
        _queue_by_arn(backend, destination_arn, "DestinationArn")
    rate: int | None = response._get_param("MaxNumberOfMessagesPerSecond")
    if rate is not None and not 1 <= int(rate) <= MAX_RATE:
        raise InvalidParameterValue(
            "Value for parameter MaxNumberOfMessagesPerSecond is invalid. "
            f"Reason: You must enter a number that's between 1 and {MAX_RATE}."
        )
    with _tasks_lock:
        tasks = _tasks.setdefault(source.queue_arn, [])
        if any(task.status in (Status.RUNNING, Status.CANCELLING) for task in tasks):
            raise InvalidParameterValue(
                "There is already a task running. Only one active task is allowed for a source queue "
                "arn at a given time."
            )
        task = MoveTask(source, destination_arn, rate, to_move=source.approximate_number_of_messages)
        tasks.append(task)
    threading.Thread(target=_run, args=(backend, task), name=f"sqs-move-{task.task_id}", daemon=True).start()
    return ActionResult({"TaskHandle": task.handle})


def _list(response: SQSResponse) -> ActionResult:
    source = _queue_by_arn(response.sqs_backend, response._get_param("SourceArn"), "SourceArn")
    limit = int(response._get_param("MaxResults") or 1)
    if not 1 <= limit <= MAX_LISTED:
        raise InvalidParameterValue(
            f"Value for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 "
            f"and {MAX_LISTED}."
        )
    with _tasks_lock:
        newest_first = list(reversed(_tasks.get(source.queue_arn, [])))[:limit]
        return ActionResult({"Results": [task.entry() for task in newest_first]})


def _cancel(response: SQSResponse) -> ActionResult:
    task_id, source_arn = _decode_handle(str(response._get_param("TaskHandle") or ""))
    _queue_by_arn(response.sqs_backend, source_arn, "SourceArn")
    with _tasks_lock:
        task = next((task for task in _tasks.get(source_arn, []) if task.task_id == task_id), None)
        if task is None:
            raise ResourceNotFound("Task does not exist.")
        if task.status is not Status.RUNNING:
            raise InvalidParameterValue("Only active tasks can be cancelled.")
        task.status = Status.CANCELLING
        return ActionResult({"ApproximateNumberOfMessagesMoved": task.moved})


def _decode_handle(handle: str) -> tuple[str, str]:
    try:
        token = json.loads(base64.urlsafe_b64decode(handle.encode()))
        return str(token["taskId"]), str(token["sourceArn"])
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise InvalidParameterValue("Value for parameter TaskHandle is invalid.") from error


def _queue_by_arn(backend: SQSBackend, arn: str | None, parameter: str) -> Queue:
    for queue in backend.queues.values():
        if queue.queue_arn == arn:
            return queue
    raise ResourceNotFound(f"The resource that you specified for the {parameter} parameter doesn't exist.")


def _run(backend: SQSBackend, task: MoveTask) -> None:
    """Move the task's messages one at a time, each under the SQS lock, until done or cancelled."""
    interval_s = 1 / task.rate if task.rate else 0.0
    while task.moved < task.to_move and task.status is Status.RUNNING:
        with SQS_LOCK:
            message = next((m for m in task.source._messages if m.visible and not m.delayed), None)
            if message is None:
                break
            destination = _destination(backend, task, message)
            if destination is None:
                task.status, task.failure = Status.FAILED, "AWS.SimpleQueueService.NonExistentQueue"
                return
            _move(backend, task.source, destination, message)
            task.moved += 1
        if interval_s:
            time.sleep(interval_s)
    with _tasks_lock:
        task.status = Status.CANCELLED if task.status is Status.CANCELLING else Status.COMPLETED


def _destination(backend: SQSBackend, task: MoveTask, message: Message) -> Queue | None:
    """The task's destination, or the queue the message was dead-lettered from (``None``: gone)."""
    arn = task.destination_arn or message.system_attributes.get(DLQ_SOURCE_ARN, {}).get("StringValue")
    return next((queue for queue in backend.queues.values() if queue.queue_arn == arn), None)


def _move(backend: SQSBackend, source: Queue, destination: Queue, message: Message) -> None:
    """A new message in ``destination`` with the same body and attributes; the old one leaves ``source``."""
    system_attributes = {
        name: value for name, value in message.system_attributes.items() if name != DLQ_SOURCE_ARN
    }
    backend.send_message(
        destination.name,
        message.body,
        message_attributes=message.message_attributes,
        group_id=message.group_id,
        deduplication_id=message.deduplication_id,
        system_attributes=system_attributes or None,
    )
    source._messages.remove(message)
    source.pending_messages.discard(message)
