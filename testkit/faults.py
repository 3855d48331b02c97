"""A fault-injecting HTTP proxy on 127.0.0.1, between a DynamoDB client and the embedded AWS server.

A client whose ``endpoint_url`` is the proxy's gets, for a set fraction of its DynamoDB requests,
what a real network and a real DynamoDB sometimes give: throttling, 500s, connection resets, slow
answers, two things moto never produces (a ``TransactionConflict`` cancellation and
``UnprocessedKeys`` from ``BatchGetItem``), and the nastiest one, an error *after* the server
committed the write. Every other request is relayed unchanged, so the proxy serves SQS too,
untouched (it only counts the messages ``ReceiveMessage`` hands out).

A plan can aim at one item (``FaultPlan.item_id``): then only the transactions that write or check
that item's record are faulted, the way DynamoDB cancels the transactions that contend for a hot
item and leaves the others alone.

For the crash scenario it can also stop a worker dead on cue: :meth:`FaultProxy.crash_at` runs a
callback (one that kills the worker's processes) when the worker asks for the transaction that
writes its n-th dedup marker (its n-th share, however many shares a transaction carries), and
neither that transaction nor any later one is relayed until :meth:`FaultProxy.recover`. It keeps
the receipt handle of every message SQS hands out through it, so the messages a killed worker
held can be released at once (:attr:`FaultStats.receipt_handles`).

The proxy is a real server on a socket: any process pointed at ``endpoint_url`` (a poller running
in a child process, say) goes through the same faults, and the counts stay in this process.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local_runtime.aws.embedded_aws import LOOPBACK, LoopbackServer
from services.keys import MARKER_SK, item_key

DYNAMODB_TARGET_PREFIX = "DynamoDB_20120810."
DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
SQS_RECEIVE_TARGET = "AmazonSQS.ReceiveMessage"
TRANSACT_WRITE = "TransactWriteItems"
BATCH_GET = "BatchGetItem"
TRANSACTION_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")
# Not relayed as received: hop-by-hop headers, and the length of a body the proxy may rewrite.
NOT_RELAYED_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
UPSTREAM_TIMEOUT_S = 30.0


class FaultKind(Enum):
    THROTTLING = "throttling"
    """HTTP 400 ``ThrottlingException``; the request never reaches the server."""
    SERVER_ERROR = "server error"
    """HTTP 500 ``InternalServerError``; the request never reaches the server."""
    CONNECTION_RESET = "connection reset"
    """The TCP connection is reset before the request is relayed."""
    SLOW_RESPONSE = "slow response"
    """The request is relayed after a delay (``FaultPlan.slow_response_s``)."""
    ERROR_AFTER_COMMIT = "500 after commit"
    """The request is relayed and applied, then the client gets HTTP 500 instead of the answer."""
    RESET_AFTER_COMMIT = "reset after commit"
    """The request is relayed and applied, then the connection is reset instead of answering."""
    TRANSACTION_CONFLICT = "transaction conflict"
    """``TransactWriteItems`` only: cancelled with a ``TransactionConflict`` reason, not relayed."""
    UNPROCESSED_KEYS = "unprocessed keys"
    """``BatchGetItem`` only: half the keys (rounded up) come back in ``UnprocessedKeys``, unread."""
    HANG = "hang"
    """The request is held, never relayed and never answered, until the proxy stops. Only forced
    (:meth:`FaultProxy.inject`): a random plan never draws it."""
    TRICKLE = "trickle"
    """The answer's headers come at once, then a byte a second until the proxy stops, so the SDK's read
    timeout (a wait for bytes) never fires. Only forced, like ``HANG``."""

    def applies_to(self, operation: str) -> bool:
        only_for = {FaultKind.TRANSACTION_CONFLICT: TRANSACT_WRITE, FaultKind.UNPROCESSED_KEYS: BATCH_GET}
        return only_for.get(self, operation) == operation


@dataclass(frozen=True)
class FaultPlan:
    """How often each fault hits a DynamoDB request (independent draws from a seeded generator).

    A draw that lands on a kind that does not apply to the request's operation (a conflict for a
    read, say) leaves that request alone.
    """

    rates: Mapping[FaultKind, float] = field(default_factory=dict)
    slow_response_s: float = 0.05
    seed: int = 0
    item_id: str | None = None
    """When set, only ``TransactWriteItems`` requests with an action on this item's record are
    drawn for (the rates are shares of those); every other request is relayed untouched."""

    def __post_init__(self) -> None:
        if any(rate < 0 for rate in self.rates.values()) or sum(self.rates.values()) > 1:
            raise ValueError(f"fault rates must be non-negative and add up to at most 1: {self.rates}")

    @classmethod
    def every_kind(cls, total_rate: float, *, slow_response_s: float = 0.05, seed: int = 0) -> FaultPlan:
        """``total_rate`` of DynamoDB requests faulted, split evenly over every kind that answers."""
        kinds = [kind for kind in FaultKind if kind not in (FaultKind.HANG, FaultKind.TRICKLE)]
        share = total_rate / len(kinds)
        return cls({kind: share for kind in kinds}, slow_response_s=slow_response_s, seed=seed)


@dataclass
class FaultStats:
    requests: Counter[str] = field(default_factory=Counter)
    """DynamoDB requests received, by operation (faulted or not)."""
    injected: Counter[FaultKind] = field(default_factory=Counter)
    lost_commits: int = 0
    """``TransactWriteItems`` the server committed while the client was told it failed."""
    crashes: int = 0
    """Workers killed by :meth:`FaultProxy.crash_at`."""
    item_transactions: int = 0
    """``TransactWriteItems`` requests on the plan's ``item_id`` (none when the plan names no item)."""
    receipt_handles: list[str] = field(default_factory=list)
    """The receipt handle of every message SQS handed out through the proxy (``ReceiveMessage``)."""

    @property
    def faults(self) -> int:
        return sum(self.injected.values())

    @property
    def received_messages(self) -> int:
        """Messages SQS handed out through the proxy, redeliveries included."""
        return len(self.receipt_handles)


@dataclass
class _Forced:
    kind: FaultKind
    operation: str | None
    remaining: int


@dataclass
class _Crash:
    share: int
    callback: Callable[[], None]
    shares_relayed: int = 0
    fired: bool = False


class FaultProxy(LoopbackServer):
    """A threaded HTTP proxy on a free loopback port in front of ``upstream_url``."""

    def __init__(self, upstream_url: str, plan: FaultPlan | None = None) -> None:
        upstream = urlsplit(upstream_url)
        if upstream.hostname != LOOPBACK or upstream.port is None:
            raise ValueError(f"the proxy only relays to a server on {LOOPBACK}: {upstream_url}")
        self.upstream = (upstream.hostname, upstream.port)
        self.stats = FaultStats()
        self._plan = plan or FaultPlan()
        self._random = random.Random(self._plan.seed)
        self._forced: deque[_Forced] = deque()
        self._crash: _Crash | None = None
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        """Set when the proxy stops: releases the requests it holds (:attr:`FaultKind.HANG`)."""
        self._relays_done = threading.Condition(self._lock)
        self._relays_in_flight = 0
        super().__init__(_ProxyServer((LOOPBACK, 0), _ProxyRequestHandler, self), "fault-proxy")

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    def use_plan(self, plan: FaultPlan) -> None:
        """Fault the following requests by ``plan`` (with a generator seeded afresh)."""
        with self._lock:
            self._plan = plan
            self._random = random.Random(plan.seed)

    def inject(self, kind: FaultKind, *, times: int = 1, operation: str | None = None) -> None:
        """Force ``kind`` on the next ``times`` DynamoDB requests (of ``operation``, when given).

        Forced faults are taken before the random plan, in the order they were injected.
        """
        with self._lock:
            self._forced.append(_Forced(kind, operation, times))

    def clear(self) -> None:
        """Forget the forced faults not used yet."""
        with self._lock:
            self._forced.clear()

    def crash_at(self, share: int, crash: Callable[[], None]) -> None:
        """When the ``TransactWriteItems`` request that writes the ``share``-th dedup marker (counted
        from now) arrives, call ``crash``, and drop it and every later one unrelayed until
        :meth:`recover`: the transactions before it are relayed, none after (even those already on
        their way)."""
        with self._lock:
            self._crash = _Crash(share, crash)

    def recover(self) -> None:
        """Relay transactions again, after a crash (for the workers started after it)."""
        with self._lock:
            self._crash = None

    def crashes_now(self, request: Mapping[str, Any]) -> bool:
        """Whether this ``TransactWriteItems`` request is to be dropped; the first one crashes."""
        with self._lock:
            crash = self._crash
            if crash is None:
                return False
            first = not crash.fired
            if first:
                crash.shares_relayed += _dedup_markers(request)
                if crash.shares_relayed < crash.share:
                    return False
                crash.fired = True
                self.stats.crashes += 1
        if first:
            crash.callback()
        return True

    @contextmanager
    def relaying(self) -> Iterator[None]:
        """Around the relay of one request: in flight until it ends (see :meth:`wait_until_idle`)."""
        with self._lock:
            self._relays_in_flight += 1
        try:
            yield
        finally:
            with self._relays_done:
                self._relays_in_flight -= 1
                self._relays_done.notify_all()

    def wait_until_idle(self, timeout_s: float) -> bool:
        """Wait until no request is being relayed; ``False`` if one still is after ``timeout_s``.

        A killed worker's last requests go on without it: a transaction already relayed commits, and
        a long poll waits on in the server and takes the messages that turn visible meanwhile. What
        the dead worker did and holds is only known once they have ended.
        """
        with self._relays_done:
            return self._relays_done.wait_for(lambda: self._relays_in_flight == 0, timeout_s)

    def note_received(self, receipt_handles: list[str]) -> None:
        with self._lock:
            self.stats.receipt_handles.extend(receipt_handles)

    def choose_fault(self, operation: str, request: Mapping[str, Any]) -> FaultKind | None:
        """Count the request and decide its fault, if any: forced faults first, then the plan's draw
        (for the plan's item only, when it names one)."""
        with self._lock:
            self.stats.requests[operation] += 1
            targeted = True
            if self._plan.item_id is not None:
                targeted = _touched_item(request, self._plan.item_id) is not None
                self.stats.item_transactions += targeted
            fault = self._take_forced(operation) or (self._draw(operation) if targeted else None)
            if fault is not None:
                self.stats.injected[fault] += 1
            return fault

    def note_lost_commit(self) -> None:
        with self._lock:
            self.stats.lost_commits += 1

    def _take_forced(self, operation: str) -> FaultKind | None:
        for forced in self._forced:
            if forced.operation in (None, operation) and forced.kind.applies_to(operation):
                forced.remaining -= 1
                if forced.remaining == 0:
                    self._forced.remove(forced)
                return forced.kind
        return None

    def _draw(self, operation: str) -> FaultKind | None:
        draw = self._random.random()
        for kind, rate in self._plan.rates.items():
            if draw < rate:
                return kind if kind.applies_to(operation) else None
            draw -= rate
        return None

    def conflict_reasons(self, request: Mapping[str, Any]) -> list[dict[str, str]]:
        """Cancellation reasons of a conflicted transaction: one action conflicts (the one on the
        plan's item, when it names one; else any), the rest did not fail."""
        actions: list[Any] = request.get("TransactItems", [])
        with self._lock:
            item_id = self._plan.item_id
            conflicted = _touched_item(request, item_id) if item_id is not None else None
            if conflicted is None:
                conflicted = self._random.randrange(len(actions)) if actions else 0
        return [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            if index == conflicted
            else {"Code": "None"}
            for index in range(len(actions))
        ]


def _dedup_markers(request: Mapping[str, Any]) -> int:
    """How many dedup markers (``Put`` of a record whose ``SK`` is ``EVENT``) a transaction writes."""
    puts = [action.get("Put", {}) for action in request.get("TransactItems", [])]
    return sum(1 for put in puts if put.get("Item", {}).get("SK") == {"S": MARKER_SK})


def _touched_item(request: Mapping[str, Any], item_id: str) -> int | None:
    """The position of the first action of a ``TransactWriteItems`` request on ``item_id``'s record
    (``{"PK": {"S": "ITEM#<id>"}}`` in its ``Key``, or in its ``Item`` for a ``Put``), else ``None``."""
    partition_key = {"S": item_key(item_id)["PK"]}
    for index, action in enumerate(request.get("TransactItems", [])):
        for name in TRANSACTION_ACTIONS:
            target = action.get(name, {})
            if (target.get("Key") or target.get("Item") or {}).get("PK") == partition_key:
                return index
    return None


@contextmanager
def fault_proxy(upstream_url: str, plan: FaultPlan | None = None) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream_url, plan).start()
    try:
        yield proxy
    finally:
        proxy.stop()


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], proxy: FaultProxy):
        super().__init__(address, handler)
        self.proxy = proxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a slow answer is part of the game, not an error to print."""


@dataclass(frozen=True)
class _Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _ProxyRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def do_POST(self) -> None:
        with self.server.proxy.relaying():
            self._relay()

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: a run makes thousands of requests."""

    def _relay(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        operation = (
            target.removeprefix(DYNAMODB_TARGET_PREFIX) if target.startswith(DYNAMODB_TARGET_PREFIX) else None
        )
        if target == SQS_RECEIVE_TARGET:
            response = self._forward(body)
            if response.status == 200:
                messages = json.loads(response.body).get("Messages", [])
                proxy.note_received([message["ReceiptHandle"] for message in messages])
            self._send(response)
            return
        request: dict[str, Any] = json.loads(body) if operation else {}
        fault = proxy.choose_fault(operation, request) if operation else None
        if operation == TRANSACT_WRITE and proxy.crashes_now(request):
            self._reset_connection()
            return
        if fault is FaultKind.CONNECTION_RESET:
            self._reset_connection()
            return
        if fault is FaultKind.HANG:
            proxy.stopping.wait()
            self._reset_connection()
            return
        if fault is FaultKind.TRICKLE:
            self._trickle(proxy.stopping)
            return
        if fault is FaultKind.THROTTLING:
            self._send(_error(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."))
            return
        if fault is FaultKind.SERVER_ERROR:
            self._send(_error(500, "InternalServerError", "Internal server error"))
            return
        if fault is FaultKind.TRANSACTION_CONFLICT:
            self._send(_conflict(proxy.conflict_reasons(request)))
            return
        if fault is FaultKind.UNPROCESSED_KEYS:
            self._send(self._read_half(request))
            return
        if fault is FaultKind.SLOW_RESPONSE:
            time.sleep(proxy.plan.slow_response_s)
        response = self._forward(body)
        if fault in (FaultKind.ERROR_AFTER_COMMIT, FaultKind.RESET_AFTER_COMMIT):
            if operation == TRANSACT_WRITE and response.status == 200:
                proxy.note_lost_commit()
            if fault is FaultKind.RESET_AFTER_COMMIT:
                self._reset_connection()
            else:
                self._send(_error(500, "InternalServerError", "Internal server error"))
            return
        self._send(response)

    def _forward(self, body: bytes) -> _Response:
        """Relay the request on a fresh connection, so a relayed request is never sent twice."""
        host, port = self.server.proxy.upstream
        connection = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_S)
        try:
            headers = {
                name: value for name, value in self.headers.items() if name.lower() not in NOT_RELAYED_HEADERS
            }
            connection.request(self.command, self.path, body=body, headers=headers)
            upstream = connection.getresponse()
            return _Response(upstream.status, upstream.getheaders(), upstream.read())
        finally:
            connection.close()

    def _read_half(self, request: dict[str, Any]) -> _Response:
        """Relay a ``BatchGetItem`` for half of each table's keys; answer the rest as unprocessed."""
        relayed: dict[str, Any] = {}
        unprocessed: dict[str, Any] = {}
        for table_name, read in request.get("RequestItems", {}).items():
            keys = read.get("Keys", [])
            kept = len(keys) // 2
            unprocessed[table_name] = {**read, "Keys": keys[kept:]}
            if kept:
                relayed[table_name] = {**read, "Keys": keys[:kept]}
        answer: dict[str, Any] = {"Responses": {table_name: [] for table_name in unprocessed}}
        if relayed:
            response = self._forward(json.dumps({**request, "RequestItems": relayed}).encode())
            if response.status != 200:
                return response
            answer = json.loads(response.body)
        answer["UnprocessedKeys"] = unprocessed
        return _Response(200, [("Content-Type", "application/x-amz-json-1.0")], json.dumps(answer).encode())

    def _send(self, response: _Response) -> None:
        self.send_response_only(response.status)
        for name, value in response.headers:
            if name.lower() not in NOT_RELAYED_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _trickle(self, stopping: threading.Event) -> None:
        self.send_response_only(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        try:
            while not stopping.wait(1.0):
                self.wfile.write(b" ")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        self._reset_connection()

    def _reset_connection(self) -> None:
        """Close the socket with SO_LINGER 0: the client gets a TCP RST, not an answer."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.wfile.close()
        self.rfile.close()
        self.connection.close()


def _error(status: int, code: str, message: str, **extra: Any) -> _Response:
    body = json.dumps({"__type": DYNAMODB_ERROR_PREFIX + code, "message": message, **extra}).encode()
    return _Response(status, [("Content-Type", "application/x-amz-json-1.0")], body)


def _conflict(reasons: list[dict[str, str]]) -> _Response:
    codes = ", ".join(reason["Code"] for reason in reasons)
    return _error(
        400,
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        CancellationReasons=reasons,
    )
