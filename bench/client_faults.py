"""Faults injected on a contender's own DynamoDB clients, at the request that writes a given record.

A fault picks its request from the body (:mod:`bench.accesses`), so it hits the same step of every
design: the request that writes an item's count, or the one that writes a feed entry, whatever else it
writes with it (our transaction writes both at once).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from botocore.client import BaseClient
from botocore.exceptions import EndpointConnectionError

from bench.accesses import FEED_PREFIX, ITEM_PREFIX, KeyNames, record_writes
from bench.request_log import SentRequest
from testkit.client_hooks import before_send

CHOSEN = "bench-fault-chosen"
"""Set in the request context of the call a fault picked: one dict per call, shared by its retries."""


class SimulatedCrash(BaseException):
    """The execution environment dies: no code after this point runs and no ``except Exception`` sees it."""


class ClientFault(Protocol):
    description: str

    def hooks(self, client: BaseClient) -> AbstractContextManager[None]:
        """The fault on ``client`` for the block."""
        ...


class _FirstWriteOf:
    """Picks the first call whose request writes a record under ``partition_prefix``, with its retries."""

    def __init__(self, names: KeyNames, partition_prefix: str) -> None:
        self.names = names
        self.partition_prefix = partition_prefix
        self.picked = False

    def picks(self, event_name: str, request: Any) -> bool:
        if not self.picked:
            sent = SentRequest.about_to_send(event_name, request)
            if record_writes([sent], self.names, self.partition_prefix):
                self.picked = True
                request.context[CHOSEN] = True
        return bool(request.context.get(CHOSEN))


class CrashAfterItemWrite:
    """The invocation dies right after the first request writing an item's record has its answer."""

    description = "the invocation dies right after the first write of an item's count returns"

    def __init__(self, names: KeyNames) -> None:
        self._first = _FirstWriteOf(names, ITEM_PREFIX)
        self._crashed = False

    @contextmanager
    def hooks(self, client: BaseClient) -> Iterator[None]:
        event = f"after-call.{client.meta.service_model.service_id.hyphenize()}"
        unique_id = f"bench-crash-{id(self)}"
        client.meta.events.register(event, self._after_call, unique_id=unique_id)
        try:
            with before_send(client, self._before_send):
                yield
        finally:
            client.meta.events.unregister(event, unique_id=unique_id)

    def _before_send(self, event_name: str, **kwargs: Any) -> None:
        self._first.picks(event_name, kwargs["request"])

    def _after_call(self, context: dict[str, Any], **_: Any) -> None:
        """``after-call`` fires once per call, after its last attempt, before the caller gets the answer."""
        if context.get(CHOSEN) and not self._crashed:
            self._crashed = True
            raise SimulatedCrash


class FeedWriteFails:
    """Every attempt of the first call writing a feed entry loses its connection; the SDK gives up."""

    description = "every attempt of the first call writing a feed entry fails (connection lost)"

    def __init__(self, names: KeyNames) -> None:
        self._first = _FirstWriteOf(names, FEED_PREFIX)

    def hooks(self, client: BaseClient) -> AbstractContextManager[None]:
        return before_send(client, self._before_send)

    def _before_send(self, event_name: str, **kwargs: Any) -> None:
        request = kwargs["request"]
        if self._first.picks(event_name, request):
            raise EndpointConnectionError(endpoint_url=request.url)
