"""botocore event hooks on one client, for tests and benchmarks: watch, count and slow down its requests.

``before-send`` fires once per HTTP request actually sent (each SDK retry included), after signing
and just before the bytes go out. Counting there counts round trips; sleeping there adds the same
latency to every round trip, in the caller's thread, without touching the server.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

Hook = Callable[..., None]
"""Called with keyword arguments: ``event_name`` (``before-send.dynamodb.BatchGetItem``) and ``request``."""


def operation_of(event_name: str) -> str:
    return event_name.rsplit(".", 1)[-1]


class RequestCounter:
    """HTTP requests sent by a client, by operation (``BatchGetItem``, ``TransactWriteItems``...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_operation: Counter[str] = Counter()

    def __call__(self, event_name: str, **_: Any) -> None:
        with self._lock:
            self.by_operation[operation_of(event_name)] += 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())


@contextmanager
def before_send(client: BaseClient, hook: Hook) -> Iterator[None]:
    """``hook`` runs before every request ``client`` sends inside the block, on the sending thread."""
    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}"
    unique_id = f"client-hooks-{id(hook)}"
    client.meta.events.register(event, hook, unique_id=unique_id)
    try:
        yield
    finally:
        client.meta.events.unregister(event, unique_id=unique_id)


@contextmanager
def counting_requests(client: BaseClient) -> Iterator[RequestCounter]:
    """Counts the requests ``client`` sends inside the block, from any thread."""
    counter = RequestCounter()
    with before_send(client, counter):
        yield counter


@contextmanager
def added_latency(client: BaseClient, seconds: float) -> Iterator[None]:
    """Every request ``client`` sends inside the block first waits ``seconds``, like a distant region."""

    def wait(**_: Any) -> None:
        time.sleep(seconds)

    with before_send(client, wait):
        yield
