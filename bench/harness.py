"""What the benchmarks share: fresh seeded tables on the embedded server, the two contenders, output.

Each contender is a callable that handles one SQS batch and exposes the DynamoDB client it sends
with, so a benchmark can count that client's requests or slow them down (``client_hooks``).
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
from typing import Any, Protocol

import boto3
import moto
from botocore.client import BaseClient

import handler
from bench.baseline import SequentialBaseline
from local_runtime.capture import captured_telemetry
from local_runtime.embedded_aws import LOCAL_ENV
from local_runtime.provision import create_table, seed_items
from services.bootstrap import dynamodb_resource
from services.dynamodb_service import DynamoDBService
from services.keys import item_key
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
    client: BaseClient

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]: ...


class ShareWorker:
    """This project's ``lambda_handler``, pointed at one table; its logs and EMF are swallowed."""

    name = "share worker"

    def __init__(self, table_name: str) -> None:
        os.environ["TABLE_NAME"] = table_name
        handler.worker.cache_clear()
        self.client: BaseClient = handler.worker().share_service.dynamodb_service.table.meta.client

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        with captured_telemetry():
            response: dict[str, Any] = handler.lambda_handler(event, None)
        return response


class Baseline:
    """The straightforward design of ``bench/baseline.py``, with the worker's SDK settings."""

    name = "baseline"

    def __init__(self, table_name: str) -> None:
        table = dynamodb_resource().Table(table_name)
        self.client: BaseClient = table.meta.client
        self.handle = SequentialBaseline(DynamoDBService(table_name, table=table))

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handle(event)


CONTENDERS: tuple[Callable[[str], Contender], ...] = (ShareWorker, Baseline)


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
