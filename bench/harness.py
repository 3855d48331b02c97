"""What the benchmarks share: fresh seeded tables on the embedded server, the three contenders, output.

Each contender is a callable that handles one SQS batch and exposes the DynamoDB clients it sends
with, so a benchmark can count, log or slow down their requests (``client_hooks``, ``request_log``).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, cast

import boto3
import moto
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.client import BaseClient

import handler
from bench.baseline import SequentialBaseline
from bench.peer import IdempotentPeer, create_idempotency_table
from local_runtime.aws.embedded_aws import LOCAL_ENV
from local_runtime.lambda_service.capture import captured_telemetry
from local_runtime.stack.provision import create_table, seed_items
from local_runtime.stack.template import Stack
from services.bootstrap import RETRY_CONFIG, dynamodb_resource
from services.dynamodb_service import DynamoDBService
from services.keys import item_key, user_pk
from services.lambda_context import LocalLambdaContext
from testkit.reliability import scan_all
from tests.factories import share_body, sqs_event, sqs_record

SHARER = "bench-user"
"""Every benchmark share is made by the items' owner, so the owner rule always lets it through."""


class LocalAws:
    """The running ``bench.aws_server``: its endpoint and its count of DynamoDB requests served."""

    def __init__(self, server: subprocess.Popen[str]) -> None:
        assert server.stdout is not None and server.stdin is not None
        self._stdin, self._stdout = server.stdin, server.stdout
        self.endpoint = self._stdout.readline().strip()

    def dynamodb_requests(self) -> int:
        """Every DynamoDB request the server has served, from any process."""
        self._stdin.write("dynamodb-requests\n")
        self._stdin.flush()
        return int(self._stdout.readline())

    def close(self) -> None:
        self._stdin.close()


@contextmanager
def local_aws() -> Iterator[LocalAws]:
    """Starts ``bench.aws_server`` and points boto3 in this process (and its children) at it."""
    with subprocess.Popen(
        [sys.executable, "-m", "bench.aws_server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as server:
        aws = LocalAws(server)
        os.environ.update({**LOCAL_ENV, "AWS_ENDPOINT_URL": aws.endpoint})
        try:
            yield aws
        finally:
            aws.close()


class Contender(Protocol):
    name: str
    clients: tuple[BaseClient, ...]
    """Every DynamoDB client it sends with."""
    tables: tuple[str, ...]
    """Every table it reads or writes."""

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]: ...


class ShareWorker:
    """This project's ``lambda_handler``, pointed at one table; its logs and EMF are swallowed."""

    name = "share worker"

    def __init__(self, table_name: str) -> None:
        os.environ["TABLE_NAME"] = table_name
        self.tables: tuple[str, ...] = (table_name,)
        handler.worker.cache_clear()
        self.clients: tuple[BaseClient, ...] = (
            handler.worker().share_service.dynamodb_service.table.meta.client,
        )

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        with captured_telemetry():
            response: dict[str, Any] = handler.lambda_handler(event, None)
        return response


class Peer:
    """The careful team's design of ``bench/peer.py``, its idempotency table beside the shared one.

    Each batch gets a Lambda context whose remaining time is the template's function timeout, or
    ``timeout_ms``: an in-progress idempotency record expires when that time is up.
    """

    name = "peer"

    def __init__(self, table_name: str, timeout_ms: int | None = None) -> None:
        table = dynamodb_resource().Table(table_name)
        idempotency_table = f"{table_name}-idempotency"
        idempotency_client = boto3.session.Session().client("dynamodb", config=RETRY_CONFIG)
        create_idempotency_table(idempotency_client, idempotency_table)
        self.clients: tuple[BaseClient, ...] = (table.meta.client, idempotency_client)
        self.tables: tuple[str, ...] = (table_name, idempotency_table)
        self.handle = IdempotentPeer(
            DynamoDBService(table_name, table=table), idempotency_table, idempotency_client
        )
        self.timeout_ms = timeout_ms or function_timeout_ms()

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        context = LocalLambdaContext(remaining_time_ms=self.timeout_ms)
        return self.handle(event, cast(LambdaContext, context))


class Baseline:
    """The straightforward design of ``bench/baseline.py``, with the worker's SDK settings."""

    name = "baseline"

    def __init__(self, table_name: str) -> None:
        table = dynamodb_resource().Table(table_name)
        self.clients: tuple[BaseClient, ...] = (table.meta.client,)
        self.tables: tuple[str, ...] = (table_name,)
        self.handle = SequentialBaseline(DynamoDBService(table_name, table=table))

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handle(event)


CONTENDERS: tuple[Callable[[str], Contender], ...] = (ShareWorker, Peer, Baseline)


@cache
def function_timeout_ms() -> int:
    return Stack().function().timeout_s * 1000


def key_names(tables: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each table's key attributes, partition key first, as DynamoDB describes them."""
    client = boto3.client("dynamodb")
    names: dict[str, tuple[str, ...]] = {}
    for table in tables:
        schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
        names[table] = tuple(key["AttributeName"] for key in sorted(schema, key=lambda key: key["KeyType"]))
    return names


@dataclass(frozen=True)
class Scenario:
    """A batch of ``records`` share events spread round-robin over ``items`` items."""

    name: str
    records: int
    items: int
    items_exist: bool = True
    redelivered: bool = False

    def item_ids(self) -> list[str]:
        return [f"item-{index}" for index in range(self.items)]

    def batch(self) -> dict[str, Any]:
        """New events (fresh ``eventId``s) every call."""
        ids = self.item_ids()
        return share_batch([ids[index % self.items] for index in range(self.records)])


class BenchTable:
    """A fresh table on the embedded server, seeded with the items a scenario shares."""

    def __init__(self, scenario: Scenario, name: str | None = None) -> None:
        """``name``: a table that exists already (provisioned from the template), only seeded here."""
        self.name = name or f"bench-{uuid.uuid4().hex[:10]}"
        self.item_ids = scenario.item_ids()
        resource = boto3.resource("dynamodb")
        if name is None:
            create_table(resource.meta.client, self.name)
        if scenario.items_exist:
            items = [
                {"itemId": item_id, "name": f"Item {item_id}", "ownerId": SHARER} for item_id in self.item_ids
            ]
            seed_items(resource, self.name, items)
        self._table = resource.Table(self.name)

    def shares_counted(self) -> int:
        """The sum of ``SharedCount`` over the items (read on a client no benchmark counts)."""
        total = 0
        for item_id in self.item_ids:
            item = self._table.get_item(Key=item_key(item_id), ConsistentRead=True).get("Item", {})
            total += int(str(item.get("SharedCount", 0)))
        return total

    def feed_entries(self) -> int:
        """Activity-feed entries written so far, every user's."""
        return sum(str(record["PK"]).startswith(user_pk("")) for record in scan_all(self._table))


def share_batch(item_ids: Sequence[str]) -> dict[str, Any]:
    return sqs_event(*(sqs_record(share_body(item_id, SHARER)) for item_id in item_ids))


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def machine() -> str:
    return (
        f"machine: {os.cpu_count()} cores ({platform.machine()}), Python {platform.python_version()}, "
        f"boto3 {boto3.__version__}, moto {moto.__version__}"
    )


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(header) for header in headers], *[[str(value) for value in row] for row in rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    lines = [
        "| " + " | ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def print_report(
    title: str, notes: Sequence[str], headers: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    print(f"\n### {title}\n")
    for note in (*notes, machine()):
        print(note)
    print()
    print(markdown_table(headers, rows))
