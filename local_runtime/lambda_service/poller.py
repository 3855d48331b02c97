"""A local stand-in for Lambda's SQS event source mapping, with the settings of ``template.yaml``.

What it does, as Lambda does:

* long-polls the queue and gathers up to ``batch_size`` messages, waiting at most the batching
  window after the first one arrives;
* runs up to ``maximum_concurrency`` batches at once, each as one invocation of the function with a
  real SQS event, in an execution environment of its own
  (:mod:`local_runtime.lambda_service.execution_environment`);
* deletes the messages that succeeded with ``DeleteMessageBatch``; failed ones stay in flight and
  reappear after the visibility timeout, and the queue's own redrive policy moves them to the DLQ
  once they were received ``maxReceiveCount`` times;
* retries the whole batch (deletes nothing) when the handler raises, times out, or answers with a
  ``batchItemFailures`` entry that names no message of the batch.

One local shortcut, off by default: ``retry_after_s`` makes failed messages visible again after
that many seconds (``ChangeMessageVisibility``) instead of the queue's visibility timeout, so a
retry takes a second instead of three minutes. Messages being processed keep the queue's timeout.

One receiver thread collects batches and hands each to a thread of its own, which waits for its
invocation. A single receiver is
enough here (a receive returns up to 10 messages in a few milliseconds) and keeps moto's SQS,
which is not safe for concurrent receives of one queue, from delivering a message twice.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from local_runtime.batches import SQS_MAX_BATCH, chunked
from local_runtime.lambda_service.execution_environment import InvocationResult
from local_runtime.lambda_service.lambda_event import sqs_event
from local_runtime.stack.provision import StackResources
from local_runtime.stack.template import Stack

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        DeleteMessageBatchRequestEntryTypeDef,
        MessageTypeDef,
    )

SQS_MAX_WAIT_S = 20
ERROR_PAUSE_S = 1.0
QUIET_ROUNDS_TO_DRAIN = 2
"""Empty receives in a row, each followed by all-zero queue counts, before the queue counts as drained."""
QUEUE_COUNTS: tuple[QueueAttributeNameType, ...] = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollerSettings:
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    batching_window_s: float = 0
    maximum_concurrency: int = 10
    report_batch_item_failures: bool = True
    retry_after_s: int | None = None
    """Local shortcut (see the module docstring); ``None`` leaves failed messages to the queue's timeout."""
    idle_wait_s: int = 2
    """Long-poll length while no batch is being gathered. A long poll returns as soon as a message
    arrives, so this only bounds how quickly the poller notices a stop request or a drained queue."""
    stop_when_drained: bool = False

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.maximum_concurrency < 1:
            raise ValueError("batch size and maximum concurrency must be at least 1")
        if self.batching_window_s < 0 or (self.retry_after_s or 0) < 0:
            raise ValueError("the batching window and the retry delay cannot be negative")

    @classmethod
    def from_stack(cls, stack: Stack, resources: StackResources, **overrides: Any) -> PollerSettings:
        """The template's event source mapping, for the provisioned queue."""
        source = stack.event_source()
        settings = cls(
            queue_url=resources.queue_url,
            queue_arn=resources.queue_arn,
            batch_size=source.batch_size,
            batching_window_s=source.batching_window_s,
            maximum_concurrency=source.maximum_concurrency,
            report_batch_item_failures=source.report_batch_item_failures,
        )
        return replace(settings, **overrides)


@dataclass
class PollerStats:
    batches: int = 0
    received: int = 0
    deleted: int = 0
    failed_records: int = 0
    """Records the handler reported in ``batchItemFailures``: left for SQS to deliver again."""
    failed_invocations: int = 0
    """Invocations that raised, timed out or answered nonsense: their whole batch is delivered again."""
    most_in_flight: int = 0
    """The most invocations that ran at the same time."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


Invoker = Callable[[dict[str, Any], str], InvocationResult]
"""Runs one invocation: the event and its request id in, the result out (``EnvironmentPool.invoke``)."""
Observer = Callable[[dict[str, Any], InvocationResult], None]


class SqsPoller:
    def __init__(
        self, sqs: SQSClient, settings: PollerSettings, invoke: Invoker, observer: Observer | None = None
    ) -> None:
        """``observer`` hears every invocation's event and result (for reports and tests)."""
        self.sqs = sqs
        self.settings = settings
        self.invoke = invoke
        self.observer = observer
        self.stats = PollerStats()
        self._stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(settings.maximum_concurrency)
        self._in_flight: set[threading.Thread] = set()
        self._in_flight_changed = threading.Condition()

    def stop(self) -> None:
        """Ask the loop to end: no new batch is gathered, batches in flight finish first."""
        self._stopping.set()

    def run(self) -> PollerStats:
        """Poll until :meth:`stop` is called or, with ``stop_when_drained``, the queue is empty."""
        quiet_rounds = 0
        try:
            while not self._stopping.is_set():
                if not self._slots.acquire(timeout=self.settings.idle_wait_s):
                    continue
                batch = self._gather_batch()
                if batch:
                    quiet_rounds = 0
                    self._start_invocation(batch)
                    continue
                self._slots.release()
                if self.settings.stop_when_drained:
                    quiet_rounds = quiet_rounds + 1 if self._looks_drained() else 0
                    if quiet_rounds == QUIET_ROUNDS_TO_DRAIN:
                        break
        finally:
            self.wait_for_invocations()
        return self.stats

    def wait_for_invocations(self) -> None:
        """Until the invocations in flight have ended (and their messages were deleted or released).

        Not ``Thread.join``: a KeyboardInterrupt in a join marks the thread as ended when it is not
        (CPython's bpo-45274 clean-up releases the lock the running thread holds), so a second wait
        would return at once, with the invocation still going."""
        with self._in_flight_changed:
            self._in_flight_changed.wait_for(lambda: not self._in_flight)

    def _gather_batch(self) -> list[MessageTypeDef]:
        """Up to ``batch_size`` messages: the first long poll waits for one, the rest at most the window."""
        size = self.settings.batch_size
        batch = self._receive(size, self.settings.idle_wait_s)
        window_ends = time.monotonic() + self.settings.batching_window_s
        while batch and len(batch) < size and not self._stopping.is_set():
            wait_s = min(SQS_MAX_WAIT_S, int(window_ends - time.monotonic()))
            more = self._receive(size - len(batch), max(wait_s, 0))
            batch.extend(more)
            if not more and wait_s <= 0:
                break
        return batch

    def _receive(self, count: int, wait_s: int) -> list[MessageTypeDef]:
        try:
            response = self.sqs.receive_message(
                QueueUrl=self.settings.queue_url,
                MaxNumberOfMessages=min(count, SQS_MAX_BATCH),
                WaitTimeSeconds=wait_s,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        except (ClientError, BotoCoreError) as error:
            log.error("ReceiveMessage failed, trying again in %.0f s: %s", ERROR_PAUSE_S, error)
            self._stopping.wait(ERROR_PAUSE_S)
            return []
        messages = response.get("Messages", [])
        self.stats.add(received=len(messages))
        return messages

    def _start_invocation(self, batch: list[MessageTypeDef]) -> None:
        thread = threading.Thread(
            target=self._invoke, args=(batch,), name="share-worker-invocation", daemon=True
        )
        with self._in_flight_changed:
            self._in_flight.add(thread)
            in_flight = len(self._in_flight)
        with self.stats.lock:
            self.stats.most_in_flight = max(self.stats.most_in_flight, in_flight)
        thread.start()

    def _invoke(self, batch: list[MessageTypeDef]) -> None:
        try:
            event = sqs_event(batch, self.settings.queue_arn)
            result = self._invoke_safely(event)
            if self.observer:
                self.observer(event, result)
            failed = self._failed_message_ids(batch, result.response) if result.completed else None
            if failed is None:
                log.error(
                    "invocation %s failed (%s): its whole batch is retried", result.request_id, result.error
                )
                failed = {message["MessageId"] for message in batch}
                self.stats.add(failed_invocations=1)
            else:
                self.stats.add(failed_records=len(failed))
            succeeded = [message for message in batch if message["MessageId"] not in failed]
            self._delete(succeeded)
            self._release_for_retry([message for message in batch if message["MessageId"] in failed])
            self.stats.add(batches=1, deleted=len(succeeded))
            log.info("batch of %d: %d deleted, %d left for retry", len(batch), len(succeeded), len(failed))
        finally:
            with self._in_flight_changed:
                self._in_flight.discard(threading.current_thread())
                self._in_flight_changed.notify_all()
            self._slots.release()

    def _invoke_safely(self, event: dict[str, Any]) -> InvocationResult:
        request_id = str(uuid.uuid4())
        try:
            return self.invoke(event, request_id)
        except Exception as error:  # whatever breaks an invocation, the loop goes on
            log.exception("invocation %s could not run", request_id)
            return InvocationResult(request_id, completed=False, error=repr(error))

    def _failed_message_ids(self, batch: Sequence[MessageTypeDef], response: Any) -> set[str] | None:
        """The messages to leave on the queue, read the way Lambda reads a partial batch response.

        ``None`` means the response is unusable (an identifier that is empty or not in the batch),
        which Lambda treats as a failure of the whole batch.
        """
        if not self.settings.report_batch_item_failures or not response:
            return set()
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not failures:
            return set() if isinstance(response, dict) else None
        identifiers = {
            failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures
        }
        in_batch = {message["MessageId"] for message in batch}
        if not identifiers <= in_batch:
            log.error(
                "batchItemFailures names messages that are not in the batch: %s", identifiers - in_batch
            )
            return None
        return {str(identifier) for identifier in identifiers}

    def _delete(self, messages: Sequence[MessageTypeDef]) -> None:
        for chunk in chunked(messages):
            entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(chunk)
            ]
            try:
                response = self.sqs.delete_message_batch(QueueUrl=self.settings.queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as error:
                log.error("DeleteMessageBatch failed; those messages will be delivered again: %s", error)
                continue
            for failure in response.get("Failed", []):
                log.error("Could not delete a processed message (it will be delivered again): %s", failure)

    def _release_for_retry(self, messages: Sequence[MessageTypeDef]) -> None:
        """With ``retry_after_s``, make failed messages visible again that soon (local shortcut)."""
        if self.settings.retry_after_s is None:
            return
        for chunk in chunked(messages):
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {
                    "Id": str(index),
                    "ReceiptHandle": message["ReceiptHandle"],
                    "VisibilityTimeout": self.settings.retry_after_s,
                }
                for index, message in enumerate(chunk)
            ]
            try:
                response = self.sqs.change_message_visibility_batch(
                    QueueUrl=self.settings.queue_url, Entries=entries
                )
            except (ClientError, BotoCoreError) as error:
                log.error(
                    "ChangeMessageVisibilityBatch failed; those messages wait out the queue's timeout: %s",
                    error,
                )
                continue
            for failure in response.get("Failed", []):
                log.error(
                    "Could not shorten a failed message's visibility (it waits the queue's timeout): %s",
                    failure,
                )

    def _threads_in_flight(self) -> list[threading.Thread]:
        with self._in_flight_changed:
            return list(self._in_flight)

    def _looks_drained(self) -> bool:
        """Nothing in flight here and nothing visible, in flight elsewhere or delayed on the queue.

        The counts are approximate: SQS's are eventually consistent, and moto computes each one at
        a different instant, so a message that turns visible in between is counted by neither. One
        such reading is not enough, hence :data:`QUIET_ROUNDS_TO_DRAIN`.
        """
        if self._threads_in_flight():
            return False
        try:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.settings.queue_url, AttributeNames=list(QUEUE_COUNTS)
            )
        except (ClientError, BotoCoreError) as error:
            log.error("GetQueueAttributes failed: %s", error)
            return False
        counts = attributes["Attributes"]
        return all(int(counts.get(name) or 0) == 0 for name in QUEUE_COUNTS)
