"""moto's server on 127.0.0.1 over real HTTP, standing in for DynamoDB and SQS.

moto's ``TransactWriteItems`` snapshots whole tables and restores them on cancellation without a
lock, so two concurrent DynamoDB requests can corrupt each other (HTTP 500s, lost updates). The
server therefore runs every DynamoDB request under one lock, and by default replaces that
whole-table snapshot with an item-level one (:mod:`local_runtime.aws.moto_transactions`), so a
transaction costs the same at 20,000 rows as on an empty table. moto's SQS has the same flaw (two
receives at once can hand out one message twice, or fail with a 500 after hiding messages), so SQS
requests run one at a time too, under a lock of their own that a long poll lets go of while it waits
(:mod:`local_runtime.aws.moto_sqs`): a long poll never holds up a table write or another queue request.

moto also keeps a reference to every model object it ever created (for its web dashboard), the
whole-table copies of every ``TransactWriteItems`` included, so memory grows with table size times
transactions: gigabytes after a few thousand shares. This server has no dashboard, so that list is
emptied after each DynamoDB request.

Where moto falls short of the real services, small modules patch it, each installed here: SQS
message move tasks (:mod:`local_runtime.aws.message_moves`), empty message bodies refused
(:mod:`local_runtime.aws.message_bodies`) and ``TransactWriteItems`` idempotent by
``ClientRequestToken`` (:mod:`local_runtime.aws.client_tokens`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http.server import HTTPServer
from typing import Any, Self

from moto.core.model_instances import reset_model_data
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from local_runtime.aws import client_tokens, message_bodies, message_moves, moto_sqs, moto_transactions

LOOPBACK = "127.0.0.1"
LOCAL_REGION = "us-east-1"
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": LOCAL_REGION,
    "AWS_REGION": LOCAL_REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class QuietRequestHandler(MotoRequestHandler):
    """No access log line per request: a demo or test run makes thousands."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class SerializedRequests:
    """WSGI middleware: one DynamoDB request at a time, and one SQS request at a time (JSON protocol,
    as boto3 speaks it); everything else passes straight through."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.lock = moto_transactions.DYNAMODB_LOCK
        self.dynamodb_requests = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("AmazonSQS."):
            with moto_sqs.serialized():
                return list(self.app(environ, start_response))
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with self.lock:
            self.dynamodb_requests += 1
            try:
                # Drain the body inside the lock: moto may produce it lazily.
                return list(self.app(environ, start_response))
            finally:
                reset_model_data()


class LoopbackServer:
    """An HTTP server bound to the loopback interface, serving from a daemon thread."""

    def __init__(self, server: HTTPServer, name: str) -> None:
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class EmbeddedAws(LoopbackServer):
    """A moto server in a background thread on a free loopback port.

    ``item_level_transactions=False`` leaves moto's own ``TransactWriteItems`` in place (for the
    benchmark that compares the two); once installed, the faster one stays for the process.
    """

    def __init__(self, port: int = 0, *, item_level_transactions: bool = True) -> None:
        if item_level_transactions:
            moto_transactions.install()
        moto_sqs.install()
        message_moves.install()
        message_bodies.install()
        client_tokens.install()
        self.middleware = SerializedRequests(DomainDispatcherApplication(create_backend_app))
        server = make_server(
            LOOPBACK, port, self.middleware, threaded=True, request_handler=QuietRequestHandler
        )
        super().__init__(server, "embedded-aws")

    @property
    def dynamodb_requests(self) -> int:
        """DynamoDB requests served so far (for tests and benchmarks that count round trips)."""
        return self.middleware.dynamodb_requests

    def client_environment(self) -> dict[str, str]:
        """Environment variables that point boto3 (and the worker) at this server."""
        return {**LOCAL_ENV, "AWS_ENDPOINT_URL": self.endpoint_url}


@contextmanager
def embedded_aws(
    set_environment: bool = True, port: int = 0, *, item_level_transactions: bool = True
) -> Iterator[EmbeddedAws]:
    """Start the server (``port`` 0: any free one); with ``set_environment`` boto3 in this process
    talks to it until exit. See :class:`EmbeddedAws` for ``item_level_transactions``."""
    server = EmbeddedAws(port, item_level_transactions=item_level_transactions).start()
    saved = {name: os.environ.get(name) for name in server.client_environment()}
    if set_environment:
        os.environ.update(server.client_environment())
    try:
        yield server
    finally:
        server.stop()
        if set_environment:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
