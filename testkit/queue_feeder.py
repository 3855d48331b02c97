"""A producer that keeps a bounded backlog on a queue, the way a live queue behind steady traffic looks.

moto's SQS scans the whole queue on every ``ReceiveMessage`` (about 0.1 s a call at 100 messages,
1.5 s at 2,000), so a run that queued thousands of messages up front would measure moto's scans and
its pollers would crawl. :class:`QueueFeeder` sends the messages in batches of ten as the queue
drains instead, keeping at most ``backlog`` of them on it (visible, in flight or delayed). It
changes when a message is sent, never what happens to it once it is on the queue.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from local_runtime.batches import chunked
from local_runtime.lambda_service.poller import QUEUE_COUNTS

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

DEFAULT_BACKLOG = 200
"""Ten batches of ten in flight and ten more waiting: enough for every execution environment of a
poller at the template's maximum concurrency, small enough for moto to scan quickly."""
CHECK_EVERY_S = 0.25


class FeedError(Exception):
    """The queue refused a message."""


class QueueFeeder:
    """Sends ``bodies`` in order, topping the queue up to ``backlog`` messages from a thread of its own.

    Used as a context manager: entering sends the first ``backlog`` messages before returning (so a
    poller started next finds work at once), then feeds in the background; leaving stops the feeding.
    """

    def __init__(
        self, sqs: SQSClient, queue_url: str, bodies: Sequence[str], backlog: int = DEFAULT_BACKLOG
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.backlog = backlog
        self.sent = 0
        self.error: Exception | None = None
        """What stopped the feeding early, if anything did."""
        self._chunks = deque(chunked(bodies))
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._feed, name="queue-feeder", daemon=True)

    @property
    def unsent(self) -> int:
        return sum(len(chunk) for chunk in self._chunks)

    def __enter__(self) -> QueueFeeder:
        self._top_up()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._thread.join()

    def _feed(self) -> None:
        try:
            while self._chunks and not self._stopping.wait(CHECK_EVERY_S):
                self._top_up()
        except Exception as error:  # noqa: BLE001 - kept for the caller, who sees the messages left unsent
            self.error = error

    def _top_up(self) -> None:
        room = self.backlog - self._on_queue()
        while self._chunks and len(self._chunks[0]) <= room:
            chunk = self._chunks.popleft()
            response = self.sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(index), "MessageBody": body} for index, body in enumerate(chunk)],
            )
            if response.get("Failed"):
                raise FeedError(f"SendMessageBatch refused messages: {response['Failed']}")
            self.sent += len(chunk)
            room -= len(chunk)

    def _on_queue(self) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=list(QUEUE_COUNTS))
        return sum(int(attributes["Attributes"].get(name) or 0) for name in QUEUE_COUNTS)
