"""Every DynamoDB request a contender sends, with its JSON body, for counting and pricing after the batch.

The body is read where ``RequestCounter`` counts (botocore ``before-send``): the bytes about to go out,
each SDK retry included. DynamoDB speaks JSON (``awsJson1_0``), so the body is the request exactly as
DynamoDB bills it, attribute values in their wire form (``{"S": "ITEM#..."}``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSPreparedRequest
from botocore.client import BaseClient

from testkit.client_hooks import RequestCounter, before_send, operation_of


@dataclass(frozen=True)
class SentRequest:
    operation: str
    """``GetItem``, ``TransactWriteItems``..."""
    body: dict[str, Any]

    @classmethod
    def about_to_send(cls, event_name: str, request: AWSPreparedRequest) -> SentRequest:
        """The request a ``before-send`` hook is called with (DynamoDB bodies are bytes, never streams)."""
        body = request.body or b"{}"
        if not isinstance(body, str | bytes | bytearray):
            raise TypeError(f"{event_name}: a streamed body cannot be read here")
        return cls(operation_of(event_name), json.loads(body))


class RequestLog(RequestCounter):
    """A :class:`RequestCounter` that also keeps each request's operation and decoded body, in order."""

    def __init__(self) -> None:
        super().__init__()
        self._requests: list[SentRequest] = []

    def __call__(self, event_name: str, **kwargs: Any) -> None:
        super().__call__(event_name)
        sent = SentRequest.about_to_send(event_name, kwargs["request"])
        with self._lock:
            self._requests.append(sent)

    @property
    def requests(self) -> list[SentRequest]:
        with self._lock:
            return list(self._requests)


@contextmanager
def on_each_client(
    clients: Sequence[BaseClient], per_client: Callable[[BaseClient], AbstractContextManager[object]]
) -> Iterator[None]:
    """Enters ``per_client(client)`` for every client at once: a contender may send on several."""
    with ExitStack() as stack:
        for client in clients:
            stack.enter_context(per_client(client))
        yield


@contextmanager
def logging_requests(clients: Sequence[BaseClient]) -> Iterator[RequestLog]:
    """One :class:`RequestLog` of the requests all ``clients`` send inside the block, from any thread."""
    log = RequestLog()
    with on_each_client(clients, lambda client: before_send(client, log)):
        yield log
