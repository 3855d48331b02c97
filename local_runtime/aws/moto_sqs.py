"""SQS requests one at a time in the embedded moto server, except while a long poll waits.

moto 5.2.5 (pinned in pyproject.toml) receives messages without a lock: it checks that a message is
visible, then marks it received, and moves a message that used up its receives to the DLQ by
removing it from the queue's list. Two receives at once, as several pollers make them, can
therefore hand one message to both, or both try to move the same message to the DLQ: the second
fails with ``ValueError`` (HTTP 500) after it has marked other messages received, which then stay
invisible for the queue's whole visibility timeout with nobody holding them. Real SQS does neither.

The embedded server takes :func:`serialized` around every SQS request. A long poll must not hold
up the sends, deletes and other receives meanwhile, so :func:`install` makes moto's wait for
messages let go of the lock while it waits and take it back before it looks at the queue again.

moto's ``ReceiveMessage`` also costs time in proportion to the queue's depth, many times over: it
builds the list of every visible message before it looks at the first one, and for each message it
hands out it checks the retention period through ``get_queue_attributes``, which computes every
queue attribute, the three approximate message counts (a pass over the whole queue each) included,
three times. At 200 messages that is about 0.3 s a receive. :func:`receive_message` is moto's
algorithm with neither: it walks the queue in order and stops at the ``count``-th message it hands
out, and reads the retention period directly, so a receive examines the messages in flight or
delayed ahead of the ones it returns (bounded by the consumers' concurrency, not by the depth) and
those. Visibility, FIFO groups, moves to the DLQ at ``maxReceiveCount`` and delays are decided
exactly as moto decides them. A message moved to the DLQ is given the ``DeadLetterQueueSourceArn``
system attribute, as SQS does (moto sets none), and :func:`receive_response` returns it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy

from moto.core.responses import ActionResult
from moto.core.utils import unix_time
from moto.sqs.models import Message, Queue, SQSBackend, _filter_message_attributes
from moto.sqs.responses import SQSResponse

SQS_LOCK = threading.Lock()
MOTO_WAIT_FOR_MESSAGES: Callable[[Queue, int], None] = Queue.wait_for_messages
MOTO_RECEIVE_MESSAGE: Callable[..., list[Message]] = SQSBackend.receive_message
"""moto's own, kept for the tests that compare the work each does."""
MOTO_RECEIVE_RESPONSE: Callable[[SQSResponse], ActionResult] = SQSResponse.receive_message
DLQ_SOURCE_ARN = "DeadLetterQueueSourceArn"

EXAMINED: Counter[str] = Counter()
"""Messages :func:`receive_message` has looked at, by queue ARN: the work a receive does, for tests."""

_holder = threading.local()
_received = threading.local()
"""The messages the current thread's last receive handed out, for :func:`receive_response`."""


@contextmanager
def serialized() -> Iterator[None]:
    """Hold :data:`SQS_LOCK` for one request (long-poll waits excepted, once :func:`install` ran)."""
    with SQS_LOCK:
        _holder.holds = True
        try:
            yield
        finally:
            _holder.holds = False


def install() -> None:
    """Patch moto's long-poll wait and ``ReceiveMessage`` (idempotent, per process)."""
    Queue.wait_for_messages = _wait_for_messages  # type: ignore[method-assign, assignment]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign, assignment]
    SQSResponse.receive_message = receive_response  # type: ignore[method-assign, assignment]


def receive_message(
    backend: SQSBackend,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Message]:
    """Drop-in for ``SQSBackend.receive_message`` that stops looking once it has ``count`` messages."""
    queue = backend.get_queue(queue_name)
    result: list[Message] = []
    polling_end = unix_time() + wait_seconds_timeout
    while not (result or (wait_seconds_timeout and unix_time() > polling_end)):
        _receive_pass(queue, count, visibility_timeout, message_attribute_names or [], result)
        if result or wait_seconds_timeout == 0:
            break
        queue.wait_for_messages(1)
    _received.messages = result
    return result


def _receive_pass(
    queue: Queue, count: int, visibility_timeout: int, attribute_names: list[str], result: list[Message]
) -> None:
    """One pass of moto's loop, over the queue's messages in order, up to ``count`` handed out."""
    pending_groups = set(queue.pending_message_groups) if queue.fifo_queue else set()
    to_dlq: list[Message] = []
    max_receives = queue.redrive_policy["maxReceiveCount"] if queue.redrive_policy else 0
    dead_letters = queue.dead_letter_queue is not None and max_receives > 0
    for message in queue._messages:
        EXAMINED[queue.queue_arn] += 1
        if message.delayed or not message.visible:
            continue
        if message in queue.pending_messages:  # visible again: its consumer timed out
            queue.pending_messages.remove(message)
            if queue.fifo_queue:
                pending_groups = set(queue.pending_message_groups)
        if queue.fifo_queue and message.group_id and message.group_id in pending_groups:
            continue
        if dead_letters and message.approximate_receive_count >= max_receives:
            to_dlq.append(message)
            continue
        queue.pending_messages.add(message)
        message.mark_received(visibility_timeout=visibility_timeout)
        delivered = deepcopy(message)  # filtering attributes must not change the stored message
        _filter_message_attributes(delivered, attribute_names)
        if int(queue.message_retention_period) + message.sent_timestamp / 1000 <= unix_time():  # type: ignore[attr-defined, operator]
            break
        result.append(delivered)
        if len(result) >= count:
            break
    for message in to_dlq:
        queue._messages.remove(message)
        message.system_attributes[DLQ_SOURCE_ARN] = {"DataType": "String", "StringValue": queue.queue_arn}
        queue.dead_letter_queue.add_message(message)  # type: ignore[union-attr]


def receive_response(response: SQSResponse) -> ActionResult:
    """moto's ``ReceiveMessage`` answer, plus ``DeadLetterQueueSourceArn`` when it was asked for."""
    _received.messages = []
    result = MOTO_RECEIVE_RESPONSE(response)
    names = set(response._get_param("AttributeNames", [])) | set(
        response._get_param("MessageSystemAttributeNames", [])
    )
    if not names & {"All", DLQ_SOURCE_ARN}:
        return result
    sources = {
        message.id: message.system_attributes[DLQ_SOURCE_ARN]["StringValue"]
        for message in _received.messages
        if DLQ_SOURCE_ARN in message.system_attributes
    }
    body: dict[str, list[dict[str, dict[str, str]]]] = result.result  # type: ignore[assignment]
    for entry in body.get("Messages", []):
        if source := sources.get(str(entry["MessageId"])):
            entry.setdefault("Attributes", {})[DLQ_SOURCE_ARN] = source
    return result


def _wait_for_messages(queue: Queue, timeout: int) -> None:
    if not getattr(_holder, "holds", False):  # moto used directly, not through the embedded server
        MOTO_WAIT_FOR_MESSAGES(queue, timeout)
        return
    _holder.holds = False
    SQS_LOCK.release()
    try:
        MOTO_WAIT_FOR_MESSAGES(queue, timeout)
    finally:
        SQS_LOCK.acquire()
        _holder.holds = True
