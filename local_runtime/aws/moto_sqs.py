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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from moto.sqs.models import Queue

SQS_LOCK = threading.Lock()
MOTO_WAIT_FOR_MESSAGES: Callable[[Queue, int], None] = Queue.wait_for_messages

_holder = threading.local()


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
    """Patch moto's ``Queue.wait_for_messages`` to wait without the lock (idempotent, per process)."""
    Queue.wait_for_messages = _wait_for_messages  # type: ignore[method-assign, assignment]


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
